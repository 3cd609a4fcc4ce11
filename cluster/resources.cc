#include "cluster/resources.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace nds::cluster {
namespace {

int env_int(std::initializer_list<const char*> vars, int fallback) {
  for (const char* var : vars) {
    if (const char* v = std::getenv(var)) {
      char* end = nullptr;
      const long n = std::strtol(v, &end, 10);
      if (end != v && *end == '\0' && n >= 0) return static_cast<int>(n);
    }
  }
  return fallback;
}

}  // namespace

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

int local_rank() {
  return env_int({"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID", "LOCAL_RANK"},
                 0);
}

int local_size() {
  return std::max(1, env_int({"OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE",
                              "MPI_LOCALNRANKS", "LOCAL_WORLD_SIZE"},
                             1));
}

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

int default_threads(int trainers_here) {
  const int mine = affinity_cores();
  const int node = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (mine < node) return mine;  // bound by the launcher (mpirun --bind-to core, srun)
  return std::max(1, mine / std::max(1, trainers_here));
}

}  // namespace nds::cluster
