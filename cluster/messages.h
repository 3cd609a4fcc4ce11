#pragma once
// The whole MPI protocol of a sweep (cluster/farm.h says who sends what and
// when): the go message, the workers' messages to rank 0 and rank 0's
// answers, as typed structs, and their wire format (JSON text with a "type"
// key; doubles that were not measured, NaN, travel as null). Nothing else
// builds or reads a message.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

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

// A message whose type this nds does not know, kept as its JSON text for the
// error that names it.
struct UnknownMessage {
  std::string text;
};

// Worker -> rank 0.
struct ReadyMessage {  // idle, wants a trial
  std::string host;
  std::string device;
};
struct HeartbeatMessage {  // still training
  int64_t trial_id = 0;
};
struct EpochMessage {  // one epoch done
  int64_t trial_id = 0;
  store::EpochMetrics metrics;
};
struct ResultMessage {            // finished; also asks for the next trial
  std::optional<double> seconds;  // the trial's length on the worker
  TrialOutcome outcome;
};
struct FatalMessage {  // cannot train at all; leaves
  std::string error;
};
using WorkerMessage = std::variant<ReadyMessage, HeartbeatMessage, EpochMessage, ResultMessage,
                                   FatalMessage, UnknownMessage>;

// Rank 0 -> worker.
struct TrialMessage {  // train this
  store::ClaimedTrial trial;
};
struct WaitMessage {};  // nothing to train now, but a running trial may come back
struct DoneMessage {};  // no more work: leave
struct StopMessage {};  // the sweep is stopping: abandon the trial at the next heartbeat
using ServerMessage =
    std::variant<TrialMessage, WaitMessage, DoneMessage, StopMessage, UnknownMessage>;

// The bytes on the wire. Text that is not valid UTF-8 (a name, an error
// message) is replaced (U+FFFD), not thrown on. Decoding throws
// nlohmann::json's errors for bytes that are not a well-formed message.
std::string encode(const GoMessage& m);
std::string encode(const WorkerMessage& m);
std::string encode(const ServerMessage& m);
GoMessage decode_go(const std::string& bytes);
WorkerMessage decode_worker_message(const std::string& bytes);
ServerMessage decode_server_message(const std::string& bytes);

nlohmann::json to_json(const store::ClaimedTrial& t);
store::ClaimedTrial claimed_from_json(const nlohmann::json& j);

nlohmann::json to_json(const store::EpochMetrics& m);
store::EpochMetrics epoch_from_json(const nlohmann::json& j);

nlohmann::json to_json(const TrialOutcome& o);
TrialOutcome outcome_from_json(const nlohmann::json& j);

}  // namespace nds::cluster
