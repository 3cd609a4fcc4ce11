#include "cli/commands.h"

namespace nds::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"describe", "Show a model's stages and exact params/flops/acts", run_describe},
      {"sample", "Draw reproducible models from a design space under constraints", run_sample},
      {"train", "Build a model in LibTorch, train it briefly on real data, export it", run_train},
      {"data", "Check an image folder, or measure its training pipeline's images/s", run_data},
      {"query", "Read a results database: sweeps, trials, best models, read-only SQL", run_query},
      {"export", "Write one sweep's trials as CSV or JSON lines", run_export},
      {"db", "Create, check or requeue a results database", run_db},
      {"analyze", "A sweep's EDF, KS against other sweeps, good ranges, e_fit", run_analyze},
      {"refine", "Narrow a sweep's space to its good ranges (+ next AnyNet constraint)",
       run_refine},
      {"sweep", "Sample a space and train every model into a database (mpirun: MPI task farm)",
       run_sweep},
      {"status", "A database's sweeps: trials by state, throughput, ETA", run_status},
      {"slurm", "Print an sbatch script that runs a sweep and requeues it to resume", run_slurm},
      {"report", "A sweep's design-space report: self-contained HTML, Markdown or JSON",
       run_report},
  };
  return table;
}

}  // namespace nds::cli
