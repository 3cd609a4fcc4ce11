#pragma once
// The farm's messages as JSON: the go message, claimed trials, epoch
// metrics and outcomes. Doubles that were not measured (NaN) travel as null.

#include <nlohmann/json.hpp>

#include "cluster/farm.h"
#include "cluster/trial_runner.h"
#include "store/records.h"
#include "store/store.h"

namespace nds::cluster {

// Rank 0's word to every worker before the sweep: go, with what the workers
// need to train, or no-go (rank 0 prints why and exits with `code`).
struct GoMessage {
  bool go = false;
  int code = 0;           // no-go: rank 0's exit status
  nlohmann::json recipe;  // the sweep's training recipe
  std::string runner;     // "torch", or a test runner ("noop:MS")
  int threads = 0;        // per training rank; 0: cluster::default_threads()
  std::string device;     // auto, cpu, cuda
  std::string data;       // --data with its folder (not part of the recipe)
  std::string host;       // rank 0's host: its node has one trainer less
  // What the workers' side of the farm needs (log and test hooks aside).
  bool quiet = false;
  int64_t total = 0;
  int64_t max_attempts = 0;
  double heartbeat_timeout_s = kDefaultHeartbeatTimeoutS;

  FarmOptions farm_options() const;
};

nlohmann::json to_json(const GoMessage& m);
GoMessage go_from_json(const nlohmann::json& j);

nlohmann::json to_json(const store::ClaimedTrial& t);
store::ClaimedTrial claimed_from_json(const nlohmann::json& j);

nlohmann::json to_json(const store::EpochMetrics& m);
store::EpochMetrics epoch_from_json(const nlohmann::json& j);

nlohmann::json to_json(const TrialOutcome& o);
TrialOutcome outcome_from_json(const nlohmann::json& j);

}  // namespace nds::cluster
