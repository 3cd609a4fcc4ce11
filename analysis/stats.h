#pragma once
// Order statistics shared by the analyses.

#include <cstddef>
#include <vector>

namespace nds::analysis {

// The p-th percentile (p in [0, 100]) of sorted values, interpolating
// linearly between order statistics (NumPy's default method): position
// h = (n - 1) p / 100 between sorted[floor(h)] and sorted[ceil(h)].
double percentile_sorted(const std::vector<double>& sorted, double p);

// Same for unsorted values (sorts a copy).
double percentile(std::vector<double> values, double p);

// A distribution in a few numbers, for reports ("e_fit over 500 models").
struct Summary {
  size_t count = 0;
  double min = 0;
  double p25 = 0;
  double median = 0;
  double p75 = 0;
  double max = 0;
  double mean = 0;
  double std = 0;  // population standard deviation
};

// Throws std::invalid_argument for no values or a non-finite one.
Summary summarize(const std::vector<double>& values);

}  // namespace nds::analysis
