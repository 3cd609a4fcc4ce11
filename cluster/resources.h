#pragma once
// What a process knows about where it runs: host, node-local rank and size
// under a launcher, cores it may use, and the default thread count.

#include <string>

namespace nds::cluster {

std::string host_name();

// This process's index among the node's processes and their number, from
// the launcher's environment (Open MPI, SLURM, PMI, torchrun); 0 and 1
// without one. The only place nds reads these variables.
int local_rank();
int local_size();

// This process's index among the node's *training* processes, by which its
// trainer picks a GPU (cuda:slot % devices, so several workers share one
// when there are more). Under mpirun with workers rank 0 trains nothing: on
// its node (`with_root`) local ranks 1..k are slots 0..k-1, so no GPU sits
// idle for it; elsewhere, and in a single process, the slot is the local
// rank. Rank 0 has local rank 0 on its node (local ranks follow the global
// order), so the slot is never negative.
int device_slot(int local_rank, bool with_root);
int device_slot(bool with_root);  // with local_rank()

// CPUs this process may run on (sched_getaffinity), at least 1.
int affinity_cores();
// CPUs of the node (online), at least 1.
int node_cores();

// Training threads for a worker when --threads is not given. `trainers_here`
// is the number of processes on this node that train (rank 0 does not when
// there are workers). Unbound (the mask is the whole node), the node's cores
// are split between them. Bound by the launcher to fewer cores (mpirun
// --bind-to socket/core, srun), ranks may share a binding: 4 ranks bound to
// 2 sockets of 8 cores see 8 cores each, 2 ranks per mask. Without talking to
// the others, a rank estimates the ranks sharing its mask as
// round(trainers_here * mask_cores / node_cores), at least 1, and takes its
// share of the mask, at least 1 core.
int default_threads(int mask_cores, int node_cores, int trainers_here);
int default_threads(int trainers_here);  // with affinity_cores(), node_cores()

}  // namespace nds::cluster
