#pragma once
// One sweep's lifecycle, on every rank of its job: a plan in (sweep/plan.h),
// its trials run and recorded, a summary out. Rank 0 opens the sweep in its
// database (new, resumed or grown: sweep/open.h), tells the workers go or
// no-go (cluster/messages.h) and serves them trials (cluster/farm.h); the
// other ranks wait for that word and train. With one process the trials run
// here. nds sweep (cli/sweep.cc) parses the options into the plan and
// prints; the trainer comes from the caller, so this library never links
// LibTorch.
//
//   Sweep sweep(make_trainer, std::cerr);
//   if (!sweep.is_root()) return sweep.work();
//   const Start start = sweep.open(plan);   // or refuse(status) on bad input
//   const Summary summary = sweep.run();

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "cluster/comm.h"
#include "cluster/farm.h"
#include "cluster/messages.h"
#include "cluster/trial_runner.h"
#include "store/store.h"
#include "sweep/plan.h"

namespace nds::sweep {

struct Opened;  // sweep/open.h

// Makes the runner that trains trials under `recipe` on the data at `data`
// (Plan::data) with `device` (auto, cpu, cuda), where `options` say. nds
// passes the LibTorch one (cli/torch_runner.cc, in the nds_torch module);
// Plan::runner "noop..." uses cluster/noop_runner.h instead.
using TrainerFactory = std::function<std::unique_ptr<cluster::TrialRunner>(
    const nlohmann::json& recipe, const std::string& data, const cluster::RunnerOptions& options,
    const std::string& device)>;

// The sweep as this run found it (after requeueing and growing).
struct Start {
  int64_t total = 0;  // trials: samples and references
  int64_t complete = 0;
  bool resumed = false;
  int64_t grown_from = 0;  // samples before this run grew the sweep; 0: not grown
  int64_t requeued = 0;    // RUNNING trials of a dead run and retried FAILED ones
  int ranks = 1;           // processes in the job (rank 0 and the workers)
};

// How this run ended.
struct Summary {
  cluster::FarmReport farm;   // what this run did; farm.store_error: the database failed
  store::StateCounts counts;  // the sweep's trials after the run (not read on a store error)
  int trainers = 1;           // ranks that trained
};

class Sweep {
 public:
  // Joins the sweep's job: stop signals (cluster/signals.h), writes past a
  // file-size limit fail instead of killing the process, and the MPI
  // session when a launcher started this process. Messages go to `log`.
  Sweep(TrainerFactory make_trainer, std::ostream& log);
  ~Sweep();
  Sweep(const Sweep&) = delete;
  Sweep& operator=(const Sweep&) = delete;

  bool is_root() const;

  // A worker rank: waits for rank 0's word, then trains the trials it is
  // given until told it is done. Its exit status: 0 (also on a no-go, as
  // mpirun ends the whole job at the first non-zero exit); when training
  // fails outright the whole job ends with status 1.
  int work();

  // Rank 0, when the command will not run (bad input, --help): every
  // worker is told no-go and exits; rank 0 exits with `status`.
  void refuse(int status);

  // Rank 0: opens the plan's sweep (in a serial run the trainer loads its
  // data first) and tells the workers go. Throws, without telling them:
  // std::invalid_argument for a plan the stored sweep refuses, other
  // exceptions for data, database and I/O failures; call refuse() then.
  Start open(const Plan& plan);

  // Rank 0, after open(): runs every trial it can and records it, with
  // progress lines on the log unless the plan is quiet; marks the sweep
  // finished when nothing is left to do. A failure of the farm ends the
  // whole job with status 1 (the workers wait for rank 0).
  Summary run();

  // Rank 0: ends the whole job with `status` after committing, without the
  // lost workers (MPI_Finalize would wait for them forever). Does not return.
  void end_job(int status);

 private:
  cluster::Comm& comm() { return session_->world(); }
  cluster::GoMessage go_message(int64_t total) const;
  std::unique_ptr<cluster::TrialRunner> make_runner(const cluster::GoMessage& go, int threads,
                                                    bool with_root) const;
  cluster::FarmReport run_farm(const cluster::FarmOptions& options);
  Summary summarize(const cluster::FarmReport& report);

  TrainerFactory make_trainer_;
  std::ostream& log_;
  std::unique_ptr<cluster::Session> session_;
  Plan plan_;
  std::unique_ptr<Opened> opened_;
  std::unique_ptr<cluster::TrialRunner> runner_;  // serial runs only
};

}  // namespace nds::sweep
