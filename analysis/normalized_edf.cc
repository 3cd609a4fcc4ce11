#include "analysis/normalized_edf.h"

#include <algorithm>
#include <cmath>

#include "analysis/check.h"

namespace nds::analysis {
namespace {

void check_complexity(const char* where, const std::vector<double>& complexity) {
  check_finite(where, "complexity", complexity);
  for (size_t i = 0; i < complexity.size(); ++i) {
    if (complexity[i] <= 0) {
      fail(where, "complexity[" + std::to_string(i) + "] is " + format_value(complexity[i]) +
                      " (complexity must be > 0 to bin it in log space)");
    }
  }
}

}  // namespace

ComplexityWeights complexity_weights(const std::vector<double>& complexity,
                                     const ComplexityBins& bins) {
  const char* where = "complexity_weights";
  check_not_empty(where, "complexity", complexity.size());
  check_complexity(where, complexity);
  if (!(std::isfinite(bins.lo) && std::isfinite(bins.hi) && bins.lo > 0 && bins.lo < bins.hi)) {
    fail(where, "complexity range [" + format_value(bins.lo) + ", " + format_value(bins.hi) +
                    "] must satisfy 0 < lo < hi");
  }
  if (bins.num_bins < 1) {
    fail(where, "num_bins must be >= 1, got " + std::to_string(bins.num_bins));
  }
  const size_t k = static_cast<size_t>(bins.num_bins);
  const double log_lo = std::log(bins.lo);
  const double log_span = std::log(bins.hi) - log_lo;

  ComplexityWeights out;
  out.edges.resize(k + 1);
  for (size_t b = 0; b <= k; ++b) {
    out.edges[b] = std::exp(log_lo + log_span * static_cast<double>(b) / static_cast<double>(k));
  }
  out.edges.front() = bins.lo;
  out.edges.back() = bins.hi;
  out.counts.assign(k, 0);

  // Bin of each model; -1 marks a model outside the range.
  std::vector<long> bin_of(complexity.size(), -1);
  size_t in_range = 0;
  for (size_t i = 0; i < complexity.size(); ++i) {
    const double c = complexity[i];
    if (c < bins.lo || c > bins.hi) {
      ++out.num_dropped;
      continue;
    }
    const double pos = (std::log(c) - log_lo) / log_span * static_cast<double>(k);
    const size_t b = std::min(static_cast<size_t>(std::max(pos, 0.0)), k - 1);
    bin_of[i] = static_cast<long>(b);
    ++out.counts[b];
    ++in_range;
  }
  if (in_range == 0) {
    fail(where, "no model lies within the complexity range [" + format_value(bins.lo) + ", " +
                    format_value(bins.hi) + "] (all " + std::to_string(complexity.size()) +
                    " are outside)");
  }
  if (k > in_range) {
    fail(where, "num_bins = " + std::to_string(k) + " is larger than the " +
                    std::to_string(in_range) + " models within the complexity range; " +
                    "use at most " + std::to_string(in_range) + " bins");
  }
  size_t filled = 0;
  for (size_t b = 0; b < k; ++b) {
    if (out.counts[b] == 0) {
      out.empty_bins.push_back(static_cast<int>(b));
    } else {
      ++filled;
    }
  }
  out.weights.assign(complexity.size(), 0.0);
  for (size_t i = 0; i < complexity.size(); ++i) {
    if (bin_of[i] < 0) continue;
    const size_t count = out.counts[static_cast<size_t>(bin_of[i])];
    out.weights[i] = 1.0 / (static_cast<double>(filled) * static_cast<double>(count));
  }
  return out;
}

NormalizedEdf normalized_edf(const std::vector<double>& errors,
                             const std::vector<double>& complexity, const ComplexityBins& bins) {
  if (errors.empty())
    fail("normalized_edf", "no models (the sweep is empty or every trial failed)");
  check_same_size("normalized_edf", "errors", errors.size(), "complexity", complexity.size());
  ComplexityWeights w = complexity_weights(complexity, bins);
  Edf edf(errors, w.weights);
  return {std::move(edf), std::move(w)};
}

}  // namespace nds::analysis
