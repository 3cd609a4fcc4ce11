#include "cluster/slurm.h"

#include <cctype>
#include <stdexcept>

namespace nds::cluster {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

void check_word(const std::string& value, const char* option) {
  for (char c : value) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                    c == '.' || c == ',' || c == '%' || c == '/';
    if (!ok)
      throw std::invalid_argument(std::string(option) + " '" + value +
                                  "' has a character sbatch directives cannot hold");
  }
}

// Throws std::invalid_argument naming the first bad option.
void check_options(const SlurmOptions& o) {
  if (o.nodes < 1)
    throw std::invalid_argument("--nodes must be >= 1, got " + std::to_string(o.nodes));
  if (o.gpus_per_node < 0)
    throw std::invalid_argument("--gpus-per-node must be >= 0, got " +
                                std::to_string(o.gpus_per_node));
  if (o.workers_per_node < 0)
    throw std::invalid_argument("--workers-per-node must be >= 0, got " +
                                std::to_string(o.workers_per_node));
  if (o.cpus_per_task < 0)
    throw std::invalid_argument("--cpus-per-task must be >= 0, got " +
                                std::to_string(o.cpus_per_task));
  if (o.launcher != "srun" && o.launcher != "mpirun")
    throw std::invalid_argument("--launcher must be srun or mpirun, got '" + o.launcher + "'");
  const long limit = parse_slurm_time(o.time);
  if (o.signal_seconds < 1 || o.signal_seconds >= limit)
    throw std::invalid_argument("--signal-seconds " + std::to_string(o.signal_seconds) +
                                " must be >= 1 and less than --time " + o.time);
  if (o.sweep_args.empty())
    throw std::invalid_argument(
        "missing the sweep's arguments after '--' (e.g. -- --space "
        "regnet_x -n 100 --db runs.db --name x)");
  if (o.sweep_args.front() == "sweep")
    throw std::invalid_argument("give the sweep's options after '--', without the word 'sweep'");
  check_word(o.job_name, "--job-name");
  check_word(o.partition, "--partition");
  check_word(o.account, "--account");
  check_word(o.output, "--output");
}

// The #SBATCH lines: one rank 0 plus the workers, USR1 before the limit,
// requeued on it.
std::string directives(const SlurmOptions& o) {
  const int per_node =
      o.workers_per_node > 0 ? o.workers_per_node : (o.gpus_per_node > 0 ? o.gpus_per_node : 1);
  const long tasks = static_cast<long>(o.nodes) * per_node + 1;  // + rank 0, which trains nothing
  std::string s;
  const auto directive = [&](const std::string& d) { s += "#SBATCH " + d + "\n"; };
  directive("--job-name=" + o.job_name);
  directive("--nodes=" + std::to_string(o.nodes));
  directive("--ntasks=" + std::to_string(tasks));
  if (o.gpus_per_node > 0) directive("--gpus-per-node=" + std::to_string(o.gpus_per_node));
  if (o.cpus_per_task > 0) directive("--cpus-per-task=" + std::to_string(o.cpus_per_task));
  directive("--time=" + o.time);
  if (!o.partition.empty()) directive("--partition=" + o.partition);
  if (!o.account.empty()) directive("--account=" + o.account);
  directive("--signal=B:USR1@" + std::to_string(o.signal_seconds));
  directive("--requeue");
  directive("--open-mode=append");
  directive("--output=" + (o.output.empty() ? o.job_name + "-%j.out" : o.output));
  return s;
}

// The sweep's command line under the launcher.
std::string launch_command(const SlurmOptions& o) {
  std::string command;
  if (o.launcher == "srun")
    command = "srun --kill-on-bad-exit=0";
  else
    command = "mpirun -np \"$SLURM_NTASKS\"";
  command += " " + shell_quote(o.nds.empty() ? std::string("nds") : o.nds) + " sweep";
  for (const std::string& a : o.sweep_args) command += " " + shell_quote(a);
  return command;
}

}  // namespace

long parse_slurm_time(const std::string& text) {
  const auto bad = [&]() {
    return std::invalid_argument("--time must be [D-]HH:MM:SS (e.g. 04:00:00), got '" + text + "'");
  };
  std::string rest = text;
  long days = 0;
  if (const size_t dash = rest.find('-'); dash != std::string::npos) {
    const std::string d = rest.substr(0, dash);
    if (!all_digits(d) || d.size() > 3) throw bad();
    days = std::stol(d);
    rest = rest.substr(dash + 1);
  }
  const size_t c1 = rest.find(':');
  const size_t c2 = c1 == std::string::npos ? c1 : rest.find(':', c1 + 1);
  if (c2 == std::string::npos || rest.find(':', c2 + 1) != std::string::npos) throw bad();
  const std::string h = rest.substr(0, c1), m = rest.substr(c1 + 1, c2 - c1 - 1),
                    s = rest.substr(c2 + 1);
  if (!all_digits(h) || h.size() > 4 || !all_digits(m) || m.size() != 2 || !all_digits(s) ||
      s.size() != 2)
    throw bad();
  const long hours = std::stol(h), minutes = std::stol(m), seconds = std::stol(s);
  if (minutes >= 60 || seconds >= 60) throw bad();
  const long total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
  if (total <= 0) throw bad();
  return total;
}

std::string shell_quote(const std::string& arg) {
  bool plain = !arg.empty();
  for (char c : arg) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string("_-./:=,@%+").find(c) != std::string::npos;
    plain = plain && ok;
  }
  if (plain) return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string sbatch_script(const SlurmOptions& o) {
  check_options(o);
  std::string s = "#!/bin/bash\n" + directives(o);
  s += "\n# Written by nds slurm. Rank 0 owns the database and trains nothing; one worker\n"
       "# per GPU (CUDA device = local rank). " +
       std::to_string(o.signal_seconds) +
       " s before the time limit SLURM sends\n"
       "# USR1 to this script, which forwards it to the sweep (running trials go back to\n"
       "# WAITING) and requeues the job; the next start runs the same command, which\n"
       "# resumes the sweep.\n"
       "set -u\n\n";
  s += "requeue() {\n"
       "  echo \"nds slurm: $1: stopping the sweep, then requeueing job $SLURM_JOB_ID\"\n"
       "  kill -USR1 \"$launcher\" 2>/dev/null\n"
       "  wait \"$launcher\"\n"
       "  scontrol requeue \"$SLURM_JOB_ID\"\n"
       "  exit 0\n"
       "}\n"
       "trap 'requeue USR1' USR1\n"
       "trap 'requeue TERM' TERM\n\n";
  s += launch_command(o) + " &\n";
  s += "launcher=$!\n"
       "wait \"$launcher\"\n"
       "status=$?\n"
       "# 3: the sweep was interrupted without our trap (e.g. scancel --signal): resume later.\n"
       "exit \"$status\"\n";
  return s;
}

}  // namespace nds::cluster
