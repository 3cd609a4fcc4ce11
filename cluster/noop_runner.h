#pragma once
// A runner that trains nothing: it waits a fixed time (sending heartbeats
// and one epoch) and returns errors derived from the trial's seed, or throws
// for the samples it is told to fail. For tests and benchmarks of the farm
// itself (nds sweep --test-runner noop[:MS][:fail=I,J]); its rows are not
// real results.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster/trial_runner.h"

namespace nds::cluster {

struct NoopSpec {
  double milliseconds = 0;    // each trial's length
  std::vector<int64_t> fail;  // sample indices whose trials throw (failure injection)
};

std::unique_ptr<TrialRunner> make_noop_runner(const NoopSpec& spec);

// Parses "noop", "noop:MS" and either with ":fail=I,J,..." (MS >= 0, indices
// >= 0); throws std::invalid_argument naming the text otherwise.
NoopSpec parse_noop_spec(const std::string& spec);

}  // namespace nds::cluster
