#pragma once
// Complexity-normalized EDF (NDS, Radosavovic et al. 2019, Sec. 4): two design
// spaces compared by raw EDFs partly compare their complexity distributions.
// Weighting the models so that each of K log-spaced complexity bins carries
// mass 1/K compares the spaces as if both had the same (log-uniform)
// complexity distribution over a shared range.

#include <cstddef>
#include <vector>

#include "analysis/edf.h"

namespace nds::analysis {

// K bins, log-spaced, over complexity [lo, hi] (flops, params, ...; > 0).
struct ComplexityBins {
  double lo = 0;
  double hi = 0;
  int num_bins = 0;
};

struct ComplexityWeights {
  std::vector<double> weights;  // one per model, summing to 1; 0 outside [lo, hi]
  std::vector<double> edges;    // num_bins + 1 edges, edges[0] = lo, edges[K] = hi
  std::vector<size_t> counts;   // models per bin
  std::vector<int> empty_bins;  // bins with no model: their 1/K is spread over the others
  size_t num_dropped = 0;       // models outside [lo, hi]
};

// Each non-empty bin gets mass 1 / (number of non-empty bins), shared equally
// by its models; empty bins are listed in empty_bins for the caller to report.
// Throws std::invalid_argument for a bad range, num_bins < 1, a non-positive or
// non-finite complexity, no model within the range, or num_bins larger than
// the number of models within the range.
ComplexityWeights complexity_weights(const std::vector<double>& complexity,
                                     const ComplexityBins& bins);

struct NormalizedEdf {
  Edf edf;
  ComplexityWeights weights;
};

// Edf(errors, complexity_weights(complexity, bins).weights), with the weights.
NormalizedEdf normalized_edf(const std::vector<double>& errors,
                             const std::vector<double>& complexity, const ComplexityBins& bins);

}  // namespace nds::analysis
