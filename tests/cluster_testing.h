#pragma once
// Helpers for the cluster tests: the mpirun command line. Running nds and
// scratch folders are tests/cli_testing.h's, named here for the cluster tests.

#include <string>

#include "tests/cli_testing.h"
#include "tests/store_testing.h"

namespace nds::cluster::testing {

using cli_testing::CmdResult;
using cli_testing::count_lines;
using cli_testing::shell;

// Open MPI as root in a sandbox: --allow-run-as-root, more ranks than cores
// (--oversubscribe), shared memory only (no network), and no CMA/XPMEM
// single-copy (ptrace-based copies are refused in containers); -q drops
// mpirun's own banner when a rank exits non-zero, so rank 0's one line is
// all that stderr holds.
inline std::string mpirun(int np) {
  return "mpirun -q --allow-run-as-root --oversubscribe --mca btl self,vader "
         "--mca btl_vader_single_copy_mechanism none -np " +
         std::to_string(np) + " ";
}

}  // namespace nds::cluster::testing
