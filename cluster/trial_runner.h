#pragma once
// What the task farm asks of whoever trains a trial. The LibTorch runner
// lives in the torch plugin (cli/torch_runner.cc); cluster/ only sees this
// interface, so it never links LibTorch. Header-only on purpose: the plugin
// implements it without linking nds_cluster (and so without MPI).

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "store/records.h"
#include "store/store.h"

namespace nds::cluster {

// How a trial ended on its worker. kFailed also covers exceptions the farm
// catches around run(); kInterrupted means the sweep is stopping (a signal)
// and the trial goes back to WAITING.
enum class TrialStatus { kComplete, kDiverged, kFailed, kInterrupted };

const char* to_string(TrialStatus status);  // "COMPLETE", ..., "INTERRUPTED"

struct TrialOutcome {
  TrialStatus status = TrialStatus::kComplete;
  store::TrialResult result;  // partial for kDiverged/kFailed (epochs done so far)
  std::string error;          // kDiverged/kFailed: why
};

// The runner's line back to the farm while a trial trains. Calls come from
// the training thread; each is cheap (the farm rate-limits what it sends).
class TrialEvents {
 public:
  virtual ~TrialEvents() = default;
  virtual void heartbeat() = 0;
  virtual void epoch(const store::EpochMetrics& metrics) = 0;
  // True once the sweep is stopping: the runner should return kInterrupted
  // at its next chance.
  virtual bool stop_requested() = 0;
};

class TrialRunner {
 public:
  virtual ~TrialRunner() = default;
  // Trains `trial` (its spec_json, seed) under the sweep's recipe. May
  // throw: the farm records the message as a FAILED trial and goes on.
  virtual TrialOutcome run(const store::ClaimedTrial& trial, const nlohmann::json& recipe,
                           TrialEvents& events) = 0;
  // What the trials run on ("cpu", "cuda:0"), recorded with each trial.
  virtual std::string device() const = 0;
};

// Where a worker runs: what the runner factory needs to pick threads and a
// device.
struct RunnerOptions {
  int threads = 1;      // CPU threads for training
  int device_slot = 0;  // among the node's training processes (cluster::device_slot())
};

inline const char* to_string(TrialStatus status) {
  switch (status) {
    case TrialStatus::kComplete:
      return "COMPLETE";
    case TrialStatus::kDiverged:
      return "DIVERGED";
    case TrialStatus::kFailed:
      return "FAILED";
    case TrialStatus::kInterrupted:
      return "INTERRUPTED";
  }
  return "?";
}

}  // namespace nds::cluster
