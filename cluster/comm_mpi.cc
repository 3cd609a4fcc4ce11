// Open MPI (or any MPI-3) implementation of Comm: MPI_COMM_WORLD, one tag,
// messages of MPI_BYTE.

// The C API only: skip the deprecated C++ bindings.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdlib>
#include <string>

#include "cluster/comm.h"

namespace nds::cluster {
namespace {

constexpr int kTag = 17;

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw CommError(std::string(what) + " failed: " + std::string(text, static_cast<size_t>(len)));
}

class MpiComm : public Comm {
 public:
  MpiComm() {
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void send(int dest, const std::string& bytes) override {
    check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, kTag,
                   MPI_COMM_WORLD),
          "MPI_Send");
  }

  std::optional<int> poll() override {
    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, kTag, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    if (!flag) return std::nullopt;
    return status.MPI_SOURCE;
  }

  std::string receive(int source) override {
    MPI_Status status;
    check(MPI_Probe(source, kTag, MPI_COMM_WORLD, &status), "MPI_Probe");
    int count = 0;
    check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
    std::string bytes(static_cast<size_t>(count), '\0');
    check(MPI_Recv(bytes.data(), count, MPI_BYTE, source, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "MPI_Recv");
    return bytes;
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; keeps [[noreturn]] honest
  }

 private:
  int rank_ = 0;
  int size_ = 1;
};

const char* level_name(int level) {
  if (level == MPI_THREAD_SINGLE) return "MPI_THREAD_SINGLE";
  if (level == MPI_THREAD_FUNNELED) return "MPI_THREAD_FUNNELED";
  if (level == MPI_THREAD_SERIALIZED) return "MPI_THREAD_SERIALIZED";
  if (level == MPI_THREAD_MULTIPLE) return "MPI_THREAD_MULTIPLE";
  return "unknown";
}

// A worker runs threads besides its main one (LibTorch's intra-op pool, the
// image loader), which MPI_THREAD_SINGLE does not allow. Only the main
// thread calls MPI: the farm's messages go out from the training loop's
// hooks, which run on the thread that called train(). FUNNELED says exactly
// that, and costs nothing where MULTIPLE would make every call lock.
void init_funneled() {
  int provided = MPI_THREAD_SINGLE;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // The levels are ordered: SINGLE < FUNNELED < SERIALIZED < MULTIPLE.
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw CommError(std::string("MPI_Init_thread provided ") + level_name(provided) +
                    ", but nds needs " + level_name(MPI_THREAD_FUNNELED) +
                    " (training threads run beside the one that calls MPI)");
  }
}

}  // namespace

bool built_with_mpi() {
  return true;
}

Session::Session() {
  // Only under a launcher: a singleton MPI_Init would start Open MPI's
  // runtime for nothing (and can fail in sandboxes).
  if (launcher_world_size() <= 1 && !std::getenv("OMPI_COMM_WORLD_RANK")) {
    world_ = make_serial_comm();
    return;
  }
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) init_funneled();
  // Errors come back as codes (and become CommError), not as an abort
  // inside the library.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  mpi_ = true;
  world_ = std::make_unique<MpiComm>();
}

Session::~Session() {
  if (!mpi_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace nds::cluster
