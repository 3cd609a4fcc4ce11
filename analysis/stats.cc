#include "analysis/stats.h"

#include <algorithm>
#include <cmath>

#include "analysis/check.h"

namespace nds::analysis {

double percentile_sorted(const std::vector<double>& sorted, double p) {
  const char* where = "percentile";
  check_not_empty(where, "values", sorted.size());
  if (!(p >= 0 && p <= 100)) fail(where, "p must be in [0, 100], got " + format_value(p));
  const double h = static_cast<double>(sorted.size() - 1) * (p / 100.0);
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  const double frac = h - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double percentile(std::vector<double> values, double p) {
  check_finite("percentile", "values", values);
  std::sort(values.begin(), values.end());
  return percentile_sorted(values, p);
}

Summary summarize(const std::vector<double>& values) {
  const char* where = "summarize";
  check_not_empty(where, "values", values.size());
  check_finite(where, "values", values);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  Summary s;
  s.count = sorted.size();
  s.min = sorted.front();
  s.max = sorted.back();
  s.p25 = percentile_sorted(sorted, 25);
  s.median = percentile_sorted(sorted, 50);
  s.p75 = percentile_sorted(sorted, 75);
  double sum = 0;
  for (double v : sorted) sum += v;
  s.mean = sum / static_cast<double>(s.count);
  double sq = 0;
  for (double v : sorted) sq += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(s.count));
  return s;
}

}  // namespace nds::analysis
