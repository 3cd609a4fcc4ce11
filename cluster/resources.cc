#include "cluster/resources.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <initializer_list>

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
  return env_int({"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID",
                  "MV2_COMM_WORLD_LOCAL_RANK", "LOCAL_RANK"},
                 0);
}

int local_size() {
  return std::max(1, env_int({"OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE",
                              "MPI_LOCALNRANKS", "MV2_COMM_WORLD_LOCAL_SIZE", "LOCAL_WORLD_SIZE"},
                             1));
}

int device_slot(int local_rank, bool with_root) {
  return with_root ? std::max(0, local_rank - 1) : std::max(0, local_rank);
}

int device_slot(bool with_root) {
  return device_slot(local_rank(), with_root);
}

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

int node_cores() {
  // The online CPUs, whatever this process's mask.
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

int default_threads(int mask_cores, int node_cores, int trainers_here) {
  const int mask = std::max(1, mask_cores);
  const int node = std::max(mask, node_cores);
  const int trainers = std::max(1, trainers_here);
  if (mask == node) return std::max(1, node / trainers);
  const long sharing = std::max(1L, std::lround(static_cast<double>(trainers) * mask / node));
  return std::max(1, static_cast<int>(mask / sharing));
}

int default_threads(int trainers_here) {
  return default_threads(affinity_cores(), node_cores(), trainers_here);
}

}  // namespace nds::cluster
