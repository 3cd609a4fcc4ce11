#pragma once
// Binned error-vs-parameter trends (RegNet): the mean error of the
// models in each bin of a parameter and its spread (the report draws the
// mean +/- 2 std band from them).

#include <cstddef>
#include <vector>

namespace nds::analysis {

struct TrendOptions {
  int num_bins = 10;
  bool log_scale = false;  // log-spaced bins (widths, flops); values must be > 0
};

struct TrendBin {
  double lo = 0;  // bin edges; lo == hi for a bin holding one distinct value
  double hi = 0;
  size_t count = 0;  // models in the bin; 0 leaves mean and std at 0
  double mean = 0;   // mean error
  double std = 0;    // population standard deviation of the error
};

// A parameter with at most num_bins distinct values (depth, group width)
// gets one bin per value; otherwise num_bins equal-width (or log-width) bins
// over [min, max]. Throws std::invalid_argument for no models, mismatched
// sizes, non-finite input, num_bins < 1, or a non-positive value on a log scale.
std::vector<TrendBin> error_trend(const std::vector<double>& values,
                                  const std::vector<double>& errors,
                                  const TrendOptions& options = {});

}  // namespace nds::analysis
