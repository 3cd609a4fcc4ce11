#include "analysis/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "analysis/check.h"
#include "analysis/random.h"
#include "analysis/stats.h"

namespace nds::analysis {
namespace {

constexpr const char* kWhere = "bootstrap";

void check_options(const BootstrapOptions& o) {
  if (o.num_resamples < 1) {
    fail(kWhere, "num_resamples must be >= 1, got " + std::to_string(o.num_resamples));
  }
  if (!(o.fraction > 0 && o.fraction <= 1)) {
    fail(kWhere, "fraction must be in (0, 1], got " + format_value(o.fraction));
  }
  if (!(o.low_percentile >= 0 && o.low_percentile <= 50 && o.high_percentile >= 50 &&
        o.high_percentile <= 100)) {
    fail(kWhere, "percentiles must satisfy 0 <= low <= 50 <= high <= 100, got " +
                     format_value(o.low_percentile) + " and " + format_value(o.high_percentile));
  }
}

}  // namespace

std::vector<size_t> bootstrap_best_models(const std::vector<double>& errors,
                                          const BootstrapOptions& options) {
  if (errors.empty()) fail(kWhere, "no models (the sweep is empty or every trial failed)");
  check_finite(kWhere, "errors", errors);
  check_options(options);
  const size_t n = errors.size();
  // Models by rank: ascending error, ties by index, so "best" is "lowest
  // rank". Sorting (error, index) pairs gives that order directly.
  std::vector<std::pair<double, size_t>> sorted(n);
  for (size_t i = 0; i < n; ++i) sorted[i] = {errors[i], i};
  std::sort(sorted.begin(), sorted.end());
  std::vector<size_t> by_rank(n);
  for (size_t r = 0; r < n; ++r) by_rank[r] = sorted[r].second;
  const double s = std::max(1.0, std::nearbyint(options.fraction * static_cast<double>(n)));
  const size_t b_count = static_cast<size_t>(options.num_resamples);
  std::mt19937_64 rng(options.seed);
  std::vector<size_t> best(b_count);

  if (options.method == BootstrapMethod::kOrderStatistic) {
    // V uniform on (0, 1]: R = floor(n (1 - V^(1/s))) has P(R >= r) = (1 - r/n)^s.
    const double dn = static_cast<double>(n);
    for (size_t b = 0; b < b_count; ++b) {
      const double v = 1.0 - uniform01(rng);
      const double r = std::floor(-dn * std::expm1(std::log(v) / s));
      best[b] = by_rank[std::min(static_cast<size_t>(std::max(r, 0.0)), n - 1)];
    }
    return best;
  }
  // 32-bit ranks halve the table the random lookups hit.
  if (n >= std::numeric_limits<std::uint32_t>::max()) {
    fail(kWhere, "literal resampling supports at most 2^32 - 1 models, got " + std::to_string(n));
  }
  std::vector<std::uint32_t> rank(n);
  for (size_t r = 0; r < n; ++r) rank[by_rank[r]] = static_cast<std::uint32_t>(r);
  const size_t draws = static_cast<size_t>(s);
  SmallIndexSampler draw(rng, static_cast<std::uint32_t>(n));
  for (size_t b = 0; b < b_count; ++b) {
    std::uint32_t lowest = std::numeric_limits<std::uint32_t>::max();
    for (size_t i = 0; i < draws; ++i) lowest = std::min(lowest, rank[draw()]);
    best[b] = by_rank[lowest];
  }
  return best;
}

GoodRange good_range(const std::vector<size_t>& best, const std::vector<double>& values,
                     const BootstrapOptions& options) {
  check_options(options);
  check_not_empty("good_range", "best models", best.size());
  check_finite("good_range", "values", values);
  std::vector<double> picked;
  picked.reserve(best.size());
  for (size_t i : best) {
    if (i >= values.size()) {
      fail("good_range", "best model index " + std::to_string(i) + " out of range for " +
                             std::to_string(values.size()) + " values (one per model)");
    }
    picked.push_back(values[i]);
  }
  std::sort(picked.begin(), picked.end());
  GoodRange g;
  g.low = percentile_sorted(picked, options.low_percentile);
  g.median = percentile_sorted(picked, 50);
  g.high = percentile_sorted(picked, options.high_percentile);
  return g;
}

}  // namespace nds::analysis
