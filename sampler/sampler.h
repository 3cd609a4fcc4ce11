#pragma once
// Reproducible sampling of a design space under its constraints.
//
// Sample i of a sweep is a pure function of (space, seed, i):
//   - its candidates come from std::mt19937_64 seeded with stream_seed(seed, i)
//     (sampler/random.h), drawn one after another until one passes;
//   - a candidate passes when it meets every constraint of the space (checked
//     with analytic complexity only), falls in stratification bin i mod B when
//     the space is stratified, and expands to a network whose hash differs
//     from those of samples 0..i-1 (de-duplication by network, not by
//     parameters).
// So any process can draw any index, with the same result for any number of
// ranks; drawing index i alone recomputes samples 0..i-1 to learn their
// hashes (cheap: analytic). A Sampler keeps those hashes, so drawing indices
// in increasing order costs one sample each.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampler/design_space.h"
#include "space/complexity.h"
#include "space/net_spec.h"

namespace nds::sampler {

struct Sample {
  std::uint64_t index = 0;     // position in the sweep
  std::uint64_t hash = 0;      // spec_hash(spec)
  nlohmann::json family_params;  // {"family": ..., ...}: expand_params() of it gives `spec`
  NetSpec spec;                // the expanded network
  Complexity cost;             // at the space's resolution
  std::int64_t attempts = 0;   // candidates drawn for this index, this one included
  int bin = -1;                // stratification bin, -1 when not stratified
};

// How the candidates of one index fared, constraint by constraint, in the
// order they are checked: each counts the candidates that reached it and
// those that passed.
struct ConstraintTally {
  std::string name;  // "non_decreasing widths", "num_stages [4, 4]", "valid", "flops [...]", ...
  std::int64_t reached = 0;
  std::int64_t passed = 0;
};

// No candidate passed within the space's max_attempts. A bad-input error
// (the constraints cannot be met, or are met too rarely), so it derives from
// std::invalid_argument; what() names the attempts and every tally.
class SampleError : public std::invalid_argument {
 public:
  SampleError(const std::string& message, std::vector<ConstraintTally> tallies)
      : std::invalid_argument(message), tallies_(std::move(tallies)) {}
  const std::vector<ConstraintTally>& tallies() const { return tallies_; }

 private:
  std::vector<ConstraintTally> tallies_;
};

// What expanding one stage plan (an AnyNet's lists after compatibility)
// gave: a pure function of the plan, remembered so that a candidate
// repeating a plan already counted is not expanded again. Sampling draws the
// same networks many times (RegNet widths are quantized), so this saves most
// expansions in a narrow window.
struct PlanResult {
  Complexity cost;
  std::uint64_t hash = 0;
  bool has_hash = false;  // hashed only once a candidate passed every window
};
using PlanMemo = std::unordered_map<std::string, PlanResult>;

class Sampler {
 public:
  Sampler(DesignSpace space, std::uint64_t seed);

  // Sample `index`; throws SampleError when it (or an earlier index it must
  // know) finds no model within max_attempts.
  Sample at(std::uint64_t index);

  const DesignSpace& space() const { return space_; }
  std::uint64_t seed() const { return seed_; }

 private:
  Sample draw(std::uint64_t index, const std::unordered_set<std::uint64_t>& seen);

  DesignSpace space_;
  std::uint64_t seed_;
  std::vector<std::uint64_t> hashes_;   // of samples 0..hashes_.size()-1
  std::unordered_set<std::uint64_t> seen_;
  PlanMemo memo_;
};

// Sample `index` of (space, seed), drawn alone.
Sample sample(const DesignSpace& space, std::uint64_t seed, std::uint64_t index);

// Samples 0..n-1.
std::vector<Sample> sample_n(const DesignSpace& space, std::uint64_t seed, std::uint64_t n);

// The parameters of one candidate, drawn from `rng` (shared lists drawn
// once), without any constraint. Exposed for tests of the distributions.
nlohmann::json draw_params(const DesignSpace& space, Rng& rng);

}  // namespace nds::sampler
