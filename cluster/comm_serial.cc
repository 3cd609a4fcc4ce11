// One process: rank 0 of 1. Used when nds runs without mpirun, and as the
// whole implementation when nds is built without MPI.

#include <cstdlib>

#include "cluster/comm.h"

namespace nds::cluster {
namespace {

class SerialComm : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void send(int dest, const std::string&) override {
    throw CommError("no rank " + std::to_string(dest) + " to send to: one process");
  }
  std::optional<int> poll() override { return std::nullopt; }
  std::string receive(int source) override {
    throw CommError("no rank " + std::to_string(source) + " to receive from: one process");
  }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }
};

}  // namespace

std::unique_ptr<Comm> make_serial_comm() {
  return std::make_unique<SerialComm>();
}

int launcher_world_size() {
  // Open MPI's mpirun, then PMI/PMIx launchers (srun --mpi=pmix, MPICH's).
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(var)) {
      char* end = nullptr;
      const long n = std::strtol(v, &end, 10);
      if (end != v && n >= 1) return static_cast<int>(n);
    }
  }
  return 1;
}

#ifndef NDS_HAVE_MPI
bool built_with_mpi() {
  return false;
}

Session::Session() : world_(make_serial_comm()) {
  // Each process would run the whole sweep alone and all but one would be
  // refused the database: say so instead.
  if (launcher_world_size() > 1)
    throw CommError(
        "this nds was built without MPI (NDS_WITH_MPI=OFF): run it without mpirun, "
        "or rebuild with MPI");
}

Session::~Session() = default;
#endif

}  // namespace nds::cluster
