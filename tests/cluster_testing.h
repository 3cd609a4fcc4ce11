#pragma once
// Helpers for the cluster tests: run nds (alone or under mpirun) in a shell
// and read what it stored.

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include "tests/store_testing.h"

namespace nds::cluster::testing {

struct CmdResult {
  int code = -1;
  std::string out;
  std::string err;
};

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

// Runs `command` with sh; `dir` holds the captured stderr meanwhile.
inline CmdResult shell(const std::string& command, const std::string& dir) {
  const std::string err_file = dir + "/stderr_" + std::to_string(getpid()) + ".txt";
  CmdResult r;
  FILE* pipe = popen((command + " 2>" + err_file).c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = store::testing::read_bytes(err_file);
  std::remove(err_file.c_str());
  return r;
}

inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace nds::cluster::testing
