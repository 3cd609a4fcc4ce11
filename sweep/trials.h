#pragma once
// A sweep's trial list: samples 0..n-1 of the space (sample i is a pure
// function of space, seed and i), then the --include fixed points as
// references, each with its own training seed.

#include <cstdint>
#include <vector>

#include "store/store.h"
#include "sweep/plan.h"

namespace nds::sweep {

// Training seed of sample (or reference) i: independent of the stream that
// drew its model.
int64_t trial_seed(std::uint64_t seed, std::uint64_t index);

// Samples 0..plan.n-1.
std::vector<store::NewTrial> make_samples(const Plan& plan);

// Appends the plan's fixed points: reference j of a new sweep of n samples
// is trial n + j, with that index's training seed.
void add_references(const Plan& plan, std::vector<store::NewTrial>& trials);

}  // namespace nds::sweep
