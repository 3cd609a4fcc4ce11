#pragma once
// The task farm: rank 0 owns the database and hands out trials one at a
// time to workers that ask (task pull); workers train and report back. With
// one process the same loop runs the trials in-process.
//
// Protocol (typed messages and their JSON text: cluster/messages.h):
//   0 -> worker  go {recipe, runner, ...}   before the farm: train, or no-go
//                                           {code} (rank 0 exits with code)
//   worker -> 0  ready {host, device}       idle, wants a trial
//                heartbeat {trial}          still training
//                epoch {trial, metrics}     one epoch done
//                result {seconds, outcome}  finished; also asks for the next
//                fatal {error}              cannot train at all; leaves
//   0 -> worker  trial {claimed trial}      train this
//                wait                       nothing to train now, but a
//                                           running trial may come back
//                done                       no more work: leave
//                stop                       the sweep is stopping: abandon
//                                           the trial at the next heartbeat
// Stopping (SIGTERM/SIGUSR1 on any rank, cluster/signals.h): rank 0 stops
// dispatching, puts every in-flight trial back to WAITING and commits at
// once (mpirun follows SIGTERM with SIGKILL after a few seconds), then tells
// the workers to stop and waits for them, at most FarmOptions::stop_wait_s.
// A store failure (full disk, I/O error) stops the same way, without
// writing: committed results stay and running trials wait for the resume.
//
// Lost workers: a busy worker that sends nothing for heartbeat_timeout_s
// (hung GPU, stalled file system, SIGSTOP) is given up: its attempt becomes
// FAILED and lost (store::Store::lose) and a new one is queued; the rank
// gets no more trials, and whatever it sends later is not recorded. serve()
// returns when every other worker has left, naming the lost ones
// (FarmReport::lost), so that rank 0 can end the job without them.

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

struct GoMessage;  // cluster/messages.h

// nds sweep --heartbeat-timeout's default: far above a training step's
// length, short next to a sweep.
constexpr double kDefaultHeartbeatTimeoutS = 600;

struct FarmOptions {
  double heartbeat_s = 10;  // least time between two heartbeats a worker sends
  // A busy worker silent for this long is lost: its trial gets a new attempt
  // elsewhere and it gets no more trials (heartbeats come at least 4 times
  // as often).
  double heartbeat_timeout_s = kDefaultHeartbeatTimeoutS;
  double stop_wait_s = 60;  // after a stop, how long rank 0 waits for busy workers
  int64_t total = 0;        // trials in the sweep, for progress lines
  // > 0: when nothing is WAITING, FAILED trials with fewer attempts get
  // another (store::Store::requeue_failed) before the farm ends.
  int64_t max_attempts = 0;
  bool quiet = false;  // no progress lines on `log`
  std::ostream* log = nullptr;
};

struct FarmReport {
  int64_t dispatched = 0;  // trials handed out (or run in-process)
  int64_t complete = 0;    // finished by this run, by state
  int64_t diverged = 0;
  int64_t failed = 0;
  int64_t released = 0;             // put back to WAITING by a stop
  bool interrupted = false;         // a stop (signal, store failure): the resume finishes it
  int64_t lost_trials = 0;          // attempts requeued because their worker went silent
  std::vector<std::string> lost;    // "rank R on HOST" of workers lost and never back
  std::vector<std::string> unable;  // "rank R on HOST: why" of workers that could not start
  std::string store_error;          // why the store could not be written (the sweep stopped)
  double wall_s = 0;
  double busy_s = 0;  // summed over workers: time inside TrialRunner::run
};

// Creates the runner on a worker (or on rank 0 in a serial run). May throw
// (dataset files missing): a worker then reports `fatal` and leaves.
using RunnerFactory = std::function<std::unique_ptr<TrialRunner>()>;

// Rank 0 of a run with workers: serves them until every one has left.
FarmReport serve(Comm& comm, store::Store& store, int64_t sweep_id, const FarmOptions& options);

// A worker (rank > 0): asks for trials until told `done`. Returns the exit
// code for this process: 0, also when the runner could not be created (rank
// 0 was told why; a non-zero exit would make mpirun end the healthy ranks).
int work(Comm& comm, const RunnerFactory& make_runner, const nlohmann::json& recipe,
         const FarmOptions& options);

// One process: claims and runs the trials itself.
FarmReport run_serial(store::Store& store, int64_t sweep_id, TrialRunner& runner,
                      const nlohmann::json& recipe, const FarmOptions& options);

// Records a finished trial in the store; false when the trial was no longer
// RUNNING (released by a stop meanwhile).
bool record_outcome(store::Store& store, int64_t trial_id, const TrialOutcome& outcome);

// How often a worker sends heartbeats: FarmOptions::heartbeat_s, or more
// often when the timeout asks for it.
double heartbeat_interval(const FarmOptions& options);

// Rank 0's go (or no-go) to every worker, before the farm starts.
void send_go(Comm& comm, const GoMessage& go);

// A worker: waits (polling, with slow sleeps) for rank 0's go message.
GoMessage wait_for_go(Comm& comm);

}  // namespace nds::cluster
