#pragma once
// The processes of a sweep and the messages between them. One interface,
// two implementations chosen by CMake: comm_mpi.cc (NDS_WITH_MPI) and
// comm_serial.cc (one process). <mpi.h> appears in comm_mpi.cc only.
//
// Messages are byte strings (JSON text) with one tag; receiving never
// blocks the caller for long: the farm polls and sleeps, so an idle rank 0
// on a small machine does not spin a core (a blocking MPI_Recv would).

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace nds::cluster {

// An MPI call failed, or the launch is inconsistent with this build.
class CommError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Sends `bytes` to `dest`; returns once the buffer may be reused.
  virtual void send(int dest, const std::string& bytes) = 0;
  // The source of a message waiting to be received, if any; never blocks.
  virtual std::optional<int> poll() = 0;
  // Receives the next message from `source` (poll() said there is one).
  virtual std::string receive(int source) = 0;
  // Ends every process of the job with `code` (MPI_Abort), or this one.
  [[noreturn]] virtual void abort(int code) = 0;
};

// The communication environment of this process, for the life of a sweep:
// MPI_Init when an MPI launcher started it (mpirun, srun with PMI), nothing
// otherwise; MPI_Finalize in the destructor.
class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Comm& world() { return *world_; }
  bool mpi() const { return mpi_; }

 private:
  std::unique_ptr<Comm> world_;
  bool mpi_ = false;
};

// Whether this nds was built with MPI (NDS_WITH_MPI).
bool built_with_mpi();

// Whether the environment says an MPI launcher started this process, and
// with how many processes (1 when not).
int launcher_world_size();

std::unique_ptr<Comm> make_serial_comm();

}  // namespace nds::cluster
