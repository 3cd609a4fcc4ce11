#pragma once
// A runner that trains nothing: it waits a fixed time (sending heartbeats
// and one epoch) and returns errors derived from the trial's seed. For
// tests and benchmarks of the farm itself (nds sweep --test-runner noop[:MS]);
// its rows are not real results.

#include <memory>

#include "cluster/trial_runner.h"

namespace nds::cluster {

std::unique_ptr<TrialRunner> make_noop_runner(double milliseconds);

// Parses "noop" or "noop:MS" (MS >= 0); throws std::invalid_argument naming
// the text otherwise.
double parse_noop_spec(const std::string& spec);

}  // namespace nds::cluster
