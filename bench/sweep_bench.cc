// The task farm of `mpirun -np 3 nds sweep` (issue 6), through the nds
// binary:
//  1. scheduling overhead: trials that train nothing (--test-runner noop),
//     dispatched through rank 0 with every claim and result written to the
//     database; target >= 2,000 trials/s.
//  2. a real 3-rank sweep on synthetic data (tiny recipe): rank 0's CPU time
//     as a share of wall time (target < 1%) and worker utilisation, busy
//     time / wall time (target >= 95%).
// Both are measured over the training window, from the first claim to the
// last result (database timestamps), not over process start-up. Prints
// PASS/FAIL lines; always exits 0 (speed is reported, not enforced).
//
//   bench_sweep [NOOP_TRIALS] [REAL_TRIALS]   (defaults 20000 and 24)

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "store/reader.h"

namespace {

using nds::store::Reader;
using nds::store::TrialRecord;
using nds::store::TrialState;

const std::string kNds = NDS_BINARY;
// Open MPI as root in a sandbox, shared memory only (as the tests run it).
const std::string kMpirun =
    "mpirun -q --allow-run-as-root --oversubscribe --mca btl self,vader "
    "--mca btl_vader_single_copy_mechanism none -np 3 ";

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void verdict(bool pass, const std::string& what) {
  std::printf("%s  %s\n", pass ? "PASS" : "FAIL", what.c_str());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void remove_dir(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") std::remove((dir + "/" + n).c_str());
    }
    closedir(d);
  }
  rmdir(dir.c_str());
}

// Starts `command` with sh in its own process group; stderr to `err_file`.
pid_t start(const std::string& command, const std::string& err_file) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>" + err_file).c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// The pid of the process that is MPI rank 0 with `marker` on its command
// line, or 0.
pid_t find_rank0(const std::string& marker) {
  pid_t found = 0;
  DIR* d = opendir("/proc");
  if (!d) return 0;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmdline = read_file("/proc/" + name + "/cmdline");
    if (cmdline.find(marker) == std::string::npos || cmdline.find("mpirun") != std::string::npos)
      continue;
    std::string env = read_file("/proc/" + name + "/environ");
    std::replace(env.begin(), env.end(), '\0', '\n');
    if (("\n" + env).find("\nOMPI_COMM_WORLD_RANK=0\n") != std::string::npos) {
      found = static_cast<pid_t>(std::atoi(name.c_str()));
      break;
    }
  }
  closedir(d);
  return found;
}

// User + system CPU seconds of `pid` so far, or -1 once it is gone.
double cpu_seconds(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Sample {
  double at = 0;   // unix seconds
  double cpu = 0;  // rank 0's CPU seconds
};

// Rank 0's CPU time at unix time `t`, interpolated between samples.
double cpu_at(const std::vector<Sample>& s, double t) {
  if (s.empty()) return 0;
  if (t <= s.front().at) return s.front().cpu;
  for (size_t i = 1; i < s.size(); ++i)
    if (t <= s[i].at) {
      const double f = (t - s[i - 1].at) / std::max(1e-9, s[i].at - s[i - 1].at);
      return s[i - 1].cpu + f * (s[i].cpu - s[i - 1].cpu);
    }
  return s.back().cpu;
}

struct Run {
  int code = -1;
  std::string err;
  std::vector<Sample> rank0;  // empty when rank 0 was not found
};

// Runs the command to its end, sampling rank 0's CPU time every 20 ms.
Run run(const std::string& command, const std::string& marker, const std::string& err_file) {
  Run r;
  const pid_t pid = start(command, err_file);
  pid_t rank0 = 0;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (!rank0) rank0 = find_rank0(marker);
    if (rank0) {
      const double cpu = cpu_seconds(rank0);
      if (cpu >= 0) r.rank0.push_back({unix_now(), cpu});
    }
    usleep(20 * 1000);
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err_file);
  return r;
}

struct Window {
  double start = 0, end = 0;
  int64_t complete = 0;
  std::map<int64_t, std::vector<const TrialRecord*>> by_rank;
  double seconds() const { return end - start; }
};

Window window_of(const std::vector<TrialRecord>& trials) {
  Window w;
  w.start = INFINITY;
  w.end = -INFINITY;
  for (const TrialRecord& t : trials) {
    if (t.state != TrialState::kComplete) continue;
    ++w.complete;
    w.start = std::min(w.start, t.started_at);
    w.end = std::max(w.end, t.finished_at);
    if (t.rank) w.by_rank[*t.rank].push_back(&t);
  }
  for (auto& [rank, v] : w.by_rank)
    std::sort(v.begin(), v.end(), [](const TrialRecord* a, const TrialRecord* b) {
      return a->started_at < b->started_at;
    });
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  const long long noop_trials = argc > 1 ? std::atoll(argv[1]) : 20000;
  const long long real_trials = argc > 2 ? std::atoll(argv[2]) : 24;
  char tmpl[] = "/tmp/nds_sweep_bench_XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::string dir = tmpl;
  std::printf("sweep bench: mpirun -np 3 nds sweep (rank 0 serves, 2 workers train) in %s\n",
              dir.c_str());

  // 1. Scheduling overhead.
  {
    const std::string db = dir + "/noop.db";
    const std::string cmd = kMpirun + kNds + " sweep --space regnet_x_cifar -n " +
                            std::to_string(noop_trials) + " --db " + db +
                            " --name s --test-runner noop --quiet";
    const Run r = run(cmd, db, dir + "/noop_err.txt");
    if (r.code != 0) {
      std::printf("  nds sweep failed (exit %d): %s\n", r.code, r.err.c_str());
    } else {
      const Window w = window_of(Reader(db).trials("s"));
      const double rate = static_cast<double>(w.complete) / w.seconds();
      const double cpu0 = cpu_at(r.rank0, w.end) - cpu_at(r.rank0, w.start);
      std::printf("  %lld no-op trials: %lld COMPLETE in %.2f s from first claim to last result\n",
                  noop_trials, static_cast<long long>(w.complete), w.seconds());
      std::printf("    (each: claim, trial message, result message, result + 1 epoch row "
                  "written; rank 0 CPU %.2f s = %.0f us a trial)\n",
                  cpu0, 1e6 * cpu0 / static_cast<double>(std::max<int64_t>(1, w.complete)));
      verdict(w.complete == noop_trials && rate >= 2000,
              "no-op dispatch through rank 0: " + std::to_string(static_cast<int64_t>(rate)) +
                  " trials/s (target >= 2,000)");
    }
  }

  // 2. A real sweep: tiny RegNetX models on synthetic data, one thread each.
  {
    const std::string db = dir + "/real.db";
    const std::string cmd =
        kMpirun + kNds + " sweep --space regnet_x_cifar --flops :20M -n " +
        std::to_string(real_trials) + " --db " + db +
        " --name r --seed 1 --data synthetic --synthetic-size 512 --epochs 2 --batch-size 64 "
        "--threads 1";
    const Run r = run(cmd, db, dir + "/real_err.txt");
    if (r.code != 0) {
      std::printf("  nds sweep failed (exit %d): %s\n", r.code, r.err.c_str());
    } else {
      const std::vector<TrialRecord> trials = Reader(db).trials("r");
      const Window w = window_of(trials);
      const int workers = 2;
      // Busy = time inside TrialRunner::run on the workers (model build,
      // training, evaluation), as nds sweep reports it: "busy X% of Y s".
      double busy_pct = NAN, serve_s = NAN;
      const size_t at = r.err.find("training rank(s) busy ");
      if (at != std::string::npos)
        std::sscanf(r.err.c_str() + at, "training rank(s) busy %lf%% of %lf s", &busy_pct,
                    &serve_s);
      const double busy = busy_pct / 100 * serve_s * workers;
      const double utilisation = busy / (workers * w.seconds());
      // Where the rest went, per worker, from the database timestamps.
      double before = 0, tail = 0, held = 0;
      for (const auto& [rank, v] : w.by_rank) {
        before += v.front()->started_at - w.start;
        tail += w.end - v.back()->finished_at;
        for (const TrialRecord* t : v) held += t->finished_at - t->started_at;
      }
      const double span = workers * w.seconds();
      const double gaps = span - held - before - tail;
      const double cpu0 = cpu_at(r.rank0, w.end) - cpu_at(r.rank0, w.start);
      std::printf("  %lld real trials: %lld COMPLETE; window %.2f s (first claim to last "
                  "result), nds sweep's own wall %.2f s\n",
                  real_trials, static_cast<long long>(w.complete), w.seconds(), serve_s);
      std::printf("    worker time in the window, %d workers x %.2f s = %.2f s:\n", workers,
                  w.seconds(), span);
      std::printf("      inside TrialRunner::run   %7.3f s  %5.2f%%\n", busy, 100 * busy / span);
      std::printf("      holding a trial otherwise %7.3f s  %5.2f%%  (claim to result recorded, "
                  "minus run: messages, rank 0 latency)\n",
                  held - busy, 100 * (held - busy) / span);
      std::printf("      between trials            %7.3f s  %5.2f%%\n", gaps, 100 * gaps / span);
      std::printf("      before its first trial    %7.3f s  %5.2f%%\n", before,
                  100 * before / span);
      std::printf("      idle tail (no trial left) %7.3f s  %5.2f%%\n", tail, 100 * tail / span);
      if (r.rank0.empty())
        std::printf("    rank 0's process was not found: no CPU share\n");
      else
        std::printf("    rank 0: %.3f s of CPU (user + system) in the window\n", cpu0);
      verdict(!r.rank0.empty() && cpu0 / w.seconds() < 0.01,
              "rank 0's share of wall time (its CPU time / window): " +
                  std::to_string(100 * cpu0 / w.seconds()) + "% (target < 1%)");
      verdict(w.complete == real_trials && utilisation >= 0.95,
              "worker utilisation (time in TrialRunner::run / workers x window): " +
                  std::to_string(100 * utilisation) + "% (target >= 95%)");
    }
  }
  remove_dir(dir);
  return 0;
}
