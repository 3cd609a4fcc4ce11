#pragma once
// An sbatch script for a sweep (nds slurm): one rank 0 plus one worker per
// GPU, launched with srun or mpirun; SLURM sends USR1 some minutes before
// the time limit, the script forwards it to the sweep (which puts its
// running trials back to WAITING and exits) and requeues the job, whose next
// start runs the same command and so resumes.

#include <string>
#include <vector>

namespace nds::cluster {

struct SlurmOptions {
  int nodes = 1;
  int gpus_per_node = 0;     // 0: CPU workers
  int workers_per_node = 0;  // 0: gpus_per_node, or 1 without GPUs
  int cpus_per_task = 0;     // 0: SLURM's default
  std::string time;          // [D-]HH:MM:SS
  std::string partition;
  std::string account;
  std::string job_name = "nds-sweep";
  std::string output;             // default "<job_name>-%j.out"
  std::string launcher = "srun";  // srun or mpirun
  int signal_seconds = 300;       // USR1 this long before the time limit
  std::string nds;                // path of the nds binary
  std::vector<std::string> sweep_args;
};

// Seconds of a [D-]HH:MM:SS limit; throws std::invalid_argument naming the
// text when malformed (also for minutes or seconds >= 60).
long parse_slurm_time(const std::string& text);

// Throws std::invalid_argument naming the bad option.
std::string sbatch_script(const SlurmOptions& options);

// `arg` quoted for bash when it needs it.
std::string shell_quote(const std::string& arg);

}  // namespace nds::cluster
