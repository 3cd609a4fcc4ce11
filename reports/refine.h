#pragma once
// Refining a design space from its sweep's results (RegNet paper, Sec. 3):
// every drawn numeric parameter's range shrinks to its bootstrap good range,
// and an AnyNet space gets the next structural constraint of the chain
// X_A -> X_B (shared bottleneck ratio) -> X_C (shared group width) -> X_D
// (non-decreasing widths) -> X_E (non-decreasing depths) when the data
// supports it. The result is a space file (sampler's format) whose "parent"
// is the sweep; the CLI validates it with sampler::parse_design_space.
//
// "Supports", concretely: each model gets a violation score v for the
// constraint (shared: log2(max / min) of its stage values; non-decreasing:
// the sum over stages of max(0, log2(x_i / x_{i+1}))). The models with v at
// most the median v (or below it, when ties at the median make that split
// more even) are the "more constrained" group, the rest the "less
// constrained" one. With at least kMinGroup models in each, the constraint is
// supported unless the more constrained group is worse: a higher median error
// AND a two-sample KS test that rejects equal EDFs at `significance`. A
// constraint that costs nothing shrinks the space for free (the paper's
// X_A -> X_B step); one whose satisfying models are clearly worse is not
// proposed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/bootstrap.h"
#include "sampler/design_space.h"
#include "store/reader.h"

namespace nds::reports {

constexpr size_t kMinGroup = 10;  // models per group before a constraint is judged

struct RefineOptions {
  int bootstrap_resamples = 10000;
  uint64_t seed = 0;
  std::string name;            // the new space's name; empty: "<sweep>_refined"
  double significance = 0.05;  // of the KS test that can veto a constraint
};

// One parameter range (or one stage of a list parameter) and what became of it.
struct RangeChange {
  std::string param;      // column name: "w_0", "d_2", "b"
  std::string space_key;  // "w_0", "depths", "bottleneck_ratios"
  analysis::GoodRange good;
  sampler::ParamDist old_dist;  // the distribution before and after
  sampler::ParamDist new_dist;
  bool narrowed = false;
  std::string note;  // why it was kept as it was, if so
};

// The evidence for one structural constraint.
struct ConstraintEvidence {
  std::string kind;        // "shared" or "non_decreasing"
  std::string key;         // "bottleneck_ratios", "group_widths", "widths", "depths"
  std::string space_name;  // the chain's space it leads to: "AnyNetX_B", ...
  size_t n_more = 0;       // models in the more constrained group
  size_t n_less = 0;
  double threshold = 0;  // the median violation
  bool strict = false;   // "more constrained" is v < threshold (else v <= threshold)
  double median_more = 0;
  double median_less = 0;
  double ks_d = 0;
  double ks_p = 1;
  bool judged = false;     // both groups large enough
  bool supported = false;  // proposed
  std::string reason;      // one sentence
};

// The judgement above on plain vectors: stage values per model (each > 0)
// and their errors.
ConstraintEvidence judge_constraint(const std::string& kind, const std::string& key,
                                    const std::vector<std::vector<double>>& stage_values,
                                    const std::vector<double>& errors, double significance = 0.05);

// The violation score v of one model's stage values (see above).
double constraint_violation(const std::string& kind, const std::vector<double>& stage_values);

struct RefineResult {
  nlohmann::json space;  // the new space file (sampler::to_json of the refined space)
  std::vector<RangeChange> ranges;
  std::optional<ConstraintEvidence> constraint;  // AnyNet: the next constraint considered
  std::vector<std::string> notes;
  size_t models = 0;  // completed models the bootstrap used
};

// Throws std::invalid_argument naming the sweep when it does not exist, has
// fewer than 2 completed models, or has no stored design space to refine.
RefineResult refine_space(const store::Reader& reader, const std::string& sweep,
                          const RefineOptions& options = {});

}  // namespace nds::reports
