#pragma once
// What rank 0 decides before a sweep trains anything: nds sweep's options
// (cli/sweep.cc) with the space resolved and the recipe checked.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cluster/farm.h"
#include "sampler/design_space.h"
#include "store/store.h"

namespace nds::sweep {

struct Plan {
  std::string db;    // the results database (its folder exists)
  std::string name;  // the sweep's name in it
  std::uint64_t seed = 0;
  int64_t n = 0;  // samples (>= 1); the space's include list adds references
  sampler::DesignSpace space;
  nlohmann::json recipe;  // what every trial trains under, compared on resume
  // The sweep whose first n samples (same space and seed) this one trains
  // under another recipe (nds sweep --recipe-of); empty: none.
  std::string sibling_of;
  std::string data;              // --data with its folder (not part of the recipe)
  std::string nds_version;       // recorded with a new sweep and its database
  std::string torch_version;     // empty without LibTorch
  std::string device_kind;       // "cpu"/"cuda" (what auto gives) or "noop"
  std::string runner = "torch";  // or a test runner, "noop[:MS]..." (cluster/noop_runner.h)
  std::string device = "auto";   // auto, cpu, cuda
  int threads = 0;               // per training rank; 0: cluster::default_threads()
  int64_t max_retries = 0;       // more attempts for a FAILED trial
  double heartbeat_timeout_s = cluster::kDefaultHeartbeatTimeoutS;
  store::JournalMode journal = store::JournalMode::kAuto;
  int busy_timeout_ms = store::kDefaultBusyTimeoutMs;
  bool quiet = false;  // no progress lines
};

}  // namespace nds::sweep
