#pragma once
// The paired comparison of two sweeps in the report document ("paired",
// docs/report_json.md): the models both trained (same model hash, fixed
// points included), their errors side by side for the scatter, and how alike
// the two sweeps rank them (analysis/rank_agreement.h). This is how a user
// checks that a brief recipe ranks models like a longer one.

#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "reports/sweep_data.h"

namespace nds::reports {

struct PairedOptions {
  size_t max_points = 2000;  // pairs listed for the scatter (seeded subset, extremes kept)
  // Bootstrap resamples of the rho/tau intervals; past 10,000 pairs fewer
  // (2e7 / pairs, at least 200), so that a report stays quick.
  int num_resamples = 2000;
  uint64_t seed = 0;
};

// The bootstrap resamples for `pairs` pairs: `most`, or past 2e7 / most
// pairs fewer (2e7 / pairs, at least 200, which still place a 95%
// interval's ends), since each resample ranks every pair.
int paired_resamples(size_t pairs, int most);

// The comparison of sweep a with sweep b: differences are b - a. Never
// throws for sweeps without models or pairs, and never holds NaN: what
// cannot be computed is null and "note" says why.
nlohmann::json paired_json(const SweepData& a, const SweepData& b, const PairedOptions& options);

}  // namespace nds::reports
