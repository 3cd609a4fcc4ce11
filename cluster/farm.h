#pragma once
// The task farm: rank 0 owns the database and hands out trials one at a
// time to workers that ask (task pull); workers train and report back. With
// one process the same loop runs the trials in-process.
//
// Protocol (JSON text, cluster/messages.h):
//   worker -> 0  ready {host, device}       idle, wants a trial
//                heartbeat {trial}          still training
//                epoch {trial, metrics}     one epoch done
//                result {trial, outcome}    finished; also asks for the next
//                fatal {error}              cannot train at all; leaves
//   0 -> worker  trial {claimed trial}      train this
//                done                       no more work: leave
//                stop                       the sweep is stopping: abandon
//                                           the trial at the next heartbeat
// Stopping (SIGTERM/SIGUSR1 on any rank, cluster/signals.h): rank 0 stops
// dispatching, puts every in-flight trial back to WAITING and commits at
// once (mpirun follows SIGTERM with SIGKILL after a few seconds), then tells
// the workers to stop and waits for them, at most FarmOptions::stop_wait_s.

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cluster/comm.h"
#include "cluster/trial_runner.h"
#include "store/store.h"

namespace nds::cluster {

struct FarmOptions {
  double heartbeat_s = 10;  // least time between two heartbeats a worker sends
  double stop_wait_s = 60;  // after a stop, how long rank 0 waits for busy workers
  int64_t total = 0;        // trials in the sweep, for progress lines
  // > 0: when nothing is WAITING, FAILED trials with fewer attempts get
  // another (store::Store::requeue_failed) before the farm ends.
  int64_t max_attempts = 0;
  bool quiet = false;  // no progress lines on `log`
  std::ostream* log = nullptr;
  // Test-only failure injection: sample indices whose trials throw before
  // training (from NDS_INJECT_FAILURE, "3,7,11").
  std::string inject_failure;
};

struct FarmReport {
  int64_t dispatched = 0;  // trials handed out (or run in-process)
  int64_t complete = 0;    // finished by this run, by state
  int64_t diverged = 0;
  int64_t failed = 0;
  int64_t released = 0;  // put back to WAITING by a stop
  bool interrupted = false;
  double wall_s = 0;
  double busy_s = 0;  // summed over workers: time inside TrialRunner::run
};

// Creates the runner on a worker (or on rank 0 in a serial run). May throw
// (dataset files missing): a worker then reports `fatal` and leaves.
using RunnerFactory = std::function<std::unique_ptr<TrialRunner>()>;

// Rank 0 of a run with workers: serves them until every one has left.
FarmReport serve(Comm& comm, store::Store& store, int64_t sweep_id, const FarmOptions& options);

// A worker (rank > 0): asks for trials until told `done`. Returns the exit
// code for this process (0, or 1 when the runner could not be created).
int work(Comm& comm, const RunnerFactory& make_runner, const nlohmann::json& recipe,
         const FarmOptions& options);

// One process: claims and runs the trials itself.
FarmReport run_serial(store::Store& store, int64_t sweep_id, TrialRunner& runner,
                      const nlohmann::json& recipe, const FarmOptions& options);

// Records a finished trial in the store; false when the trial was no longer
// RUNNING (released by a stop meanwhile).
bool record_outcome(store::Store& store, int64_t trial_id, const TrialOutcome& outcome);

// Waits (polling, with short sleeps) for the next message from `source`.
nlohmann::json wait_for_message(Comm& comm, int source);

// Sample indices listed in `spec` ("3,7,11"); throws std::invalid_argument
// naming a bad entry.
std::vector<int64_t> parse_index_list(const std::string& spec);

}  // namespace nds::cluster
