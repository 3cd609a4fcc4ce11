#pragma once
// Where a sweep stands: counts by state, recent throughput and an ETA, read
// from the database without writing to it (nds status).

#include <cstdint>
#include <string>
#include <vector>

#include "store/reader.h"

namespace nds::cluster {

struct SweepStatus {
  store::SweepSummary summary;  // counts are latest attempts
  int64_t attempts = 0;         // rows of every attempt
  int64_t references = 0;       // fixed points trained alongside the sample
  // RUNNING trials whose last heartbeat is older than the stale age: their
  // worker is probably gone (rank 0 gives it up after --heartbeat-timeout).
  int64_t stale = 0;
  // COMPLETE trials per hour over the most recent kThroughputWindow ones
  // (a rate over all time would count the hours a job waited in a queue);
  // NaN with fewer than two.
  double per_hour = 0;
  int64_t window = 0;           // completions the rate is measured on
  double eta_s = 0;             // (WAITING + RUNNING) / rate; NaN when unknown, 0 when none left
  double last_finished_at = 0;  // NaN when nothing finished
};

constexpr int64_t kThroughputWindow = 50;

// Every sweep, or the one named (throws std::invalid_argument naming it
// when absent), in one read snapshot. A RUNNING trial is stale when its last
// heartbeat is more than `stale_after_s` before `now` (Unix seconds).
std::vector<SweepStatus> sweep_status(const store::Reader& reader, const std::string& sweep,
                                      double stale_after_s, double now);

}  // namespace nds::cluster
