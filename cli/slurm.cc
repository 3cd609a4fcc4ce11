// nds slurm: print an sbatch script that runs a sweep and resumes it across
// time limits and preemption (cluster/slurm.h).

#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <climits>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cluster/slurm.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;

constexpr const char* kUsage =
    "usage: nds slurm --nodes N --gpus-per-node G --time [D-]HH:MM:SS [--partition P]\n"
    "                 [--account A] [--job-name J] [--cpus-per-task C] [--workers-per-node W]\n"
    "                 [--launcher srun|mpirun] [--signal-seconds S] [--output FILE]\n"
    "                 -- <nds sweep options>\n\n"
    "Prints an sbatch script for the sweep: N*W workers (W = G, or 1 without GPUs) plus\n"
    "rank 0, launched with srun (or mpirun). SLURM signals the script S seconds (300)\n"
    "before the time limit (--signal=B:USR1@S); the script forwards USR1 to the sweep,\n"
    "which puts its running trials back to WAITING and exits, and requeues the job\n"
    "(--requeue), whose next start runs the same command and resumes the sweep.\n\n";

std::string self_path() {
  char exe[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "nds";
  return std::string(exe, static_cast<size_t>(n));
}

}  // namespace

int run_slurm(const std::vector<std::string>& args) {
  // Everything after "--" belongs to the sweep, untouched.
  const auto dash = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> own(args.begin(), dash);
  std::vector<std::string> sweep_args;
  if (dash != args.end()) sweep_args.assign(dash + 1, args.end());

  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("nodes", po::value<int>(), "nodes N")
      ("gpus-per-node", po::value<int>(), "GPUs per node G (0: CPU workers)")
      ("time", po::value<std::string>(), "time limit [D-]HH:MM:SS")
      ("partition", po::value<std::string>(), "partition")
      ("account", po::value<std::string>(), "account")
      ("job-name", po::value<std::string>(), "job name (default nds-sweep)")
      ("cpus-per-task", po::value<int>(), "CPUs per rank")
      ("workers-per-node", po::value<int>(), "worker ranks per node (default G, or 1)")
      ("launcher", po::value<std::string>(), "srun (default) or mpirun")
      ("signal-seconds", po::value<int>(), "USR1 this long before the limit (default 300)")
      ("output", po::value<std::string>(), "sbatch --output (default JOB-%j.out)")
      ("nds", po::value<std::string>(), "nds binary in the script (default: this one)");
  // clang-format on
  po::variables_map vm;
  if (parse_options(own, opts, kUsage, vm)) return kExitOk;
  for (const char* key : {"nodes", "gpus-per-node", "time"})
    if (!vm.count(key))
      throw std::invalid_argument(std::string("missing --") + key + " (see nds slurm --help)");
  cluster::SlurmOptions o;
  o.nodes = vm["nodes"].as<int>();
  o.gpus_per_node = vm["gpus-per-node"].as<int>();
  o.time = vm["time"].as<std::string>();
  if (vm.count("partition")) o.partition = vm["partition"].as<std::string>();
  if (vm.count("account")) o.account = vm["account"].as<std::string>();
  if (vm.count("job-name")) o.job_name = vm["job-name"].as<std::string>();
  if (vm.count("cpus-per-task")) o.cpus_per_task = vm["cpus-per-task"].as<int>();
  if (vm.count("workers-per-node")) o.workers_per_node = vm["workers-per-node"].as<int>();
  if (vm.count("launcher")) o.launcher = vm["launcher"].as<std::string>();
  if (vm.count("signal-seconds")) o.signal_seconds = vm["signal-seconds"].as<int>();
  if (vm.count("output")) o.output = vm["output"].as<std::string>();
  o.nds = vm.count("nds") ? vm["nds"].as<std::string>() : self_path();
  o.sweep_args = sweep_args;
  std::cout << cluster::sbatch_script(o);
  return kExitOk;
}

}  // namespace nds::cli
