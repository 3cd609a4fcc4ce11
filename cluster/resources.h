#pragma once
// What a process knows about where it runs: host, node-local rank and size
// under a launcher, cores it may use, and the default thread count.

#include <string>

namespace nds::cluster {

std::string host_name();

// This process's index among the node's processes and their number, from
// the launcher's environment (Open MPI, SLURM, PMI); 0 and 1 without one.
int local_rank();
int local_size();

// CPUs this process may run on (sched_getaffinity), at least 1.
int affinity_cores();

// Training threads for a worker when --threads is not given. `trainers_here`
// is the number of processes on this node that train (rank 0 does not when
// there are workers). When the launcher bound the process to fewer cores
// than the node has, the binding already did the split.
int default_threads(int trainers_here);

}  // namespace nds::cluster
