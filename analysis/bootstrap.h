#pragma once
// Empirical bootstrap of good parameter ranges (RegNet, Radosavovic et al.
// 2020): draw B resamples of a fraction of the models with
// replacement, keep the best model of each, and read the percentiles of a
// parameter (or complexity measure) over those best models.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nds::analysis {

enum class BootstrapMethod {
  // The best model of s uniform draws from n models is the one of rank
  // R = min of s uniform ranks, and P(R >= r) = (1 - r/n)^s; R is drawn
  // directly by inversion. Same distribution as kResample, O(1) per resample.
  kOrderStatistic,
  // Literally draws s model indices per resample and keeps the best. O(s) per
  // resample; kept to check kOrderStatistic against.
  kResample,
};

struct BootstrapOptions {
  int num_resamples = 10000;  // B
  double fraction = 0.25;     // resample size s = max(1, round(fraction * n))
  std::uint64_t seed = 0;
  BootstrapMethod method = BootstrapMethod::kOrderStatistic;
  double low_percentile = 2.5;  // the good range reported by good_range()
  double high_percentile = 97.5;
};

// Index into `errors` of the best (lowest-error) model of each of the B
// resamples; ties go to the lower index. Throws std::invalid_argument for no
// models, a non-finite error or bad options.
std::vector<size_t> bootstrap_best_models(const std::vector<double>& errors,
                                          const BootstrapOptions& options = {});

struct GoodRange {
  double low = 0;     // low_percentile of the best models' values (2.5%)
  double median = 0;  // 50%
  double high = 0;    // high_percentile (97.5%)
};

// Percentiles of values[best[b]] over the resamples. values holds one entry
// per model (the same models as the errors given to bootstrap_best_models).
GoodRange good_range(const std::vector<size_t>& best, const std::vector<double>& values,
                     const BootstrapOptions& options = {});

}  // namespace nds::analysis
