#include "analysis/trend.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "analysis/check.h"

namespace nds::analysis {
namespace {

constexpr const char* kWhere = "error_trend";

struct Accumulator {
  size_t count = 0;
  double sum = 0;
  double sum_sq = 0;
};

void finish(const Accumulator& a, TrendBin* bin) {
  bin->count = a.count;
  if (a.count == 0) return;
  const double n = static_cast<double>(a.count);
  bin->mean = a.sum / n;
  bin->std = std::sqrt(std::max(0.0, a.sum_sq / n - bin->mean * bin->mean));
}

}  // namespace

std::vector<TrendBin> error_trend(const std::vector<double>& values,
                                  const std::vector<double>& errors, const TrendOptions& options) {
  if (errors.empty()) fail(kWhere, "no models (the sweep is empty or every trial failed)");
  check_same_size(kWhere, "values", values.size(), "errors", errors.size());
  check_finite(kWhere, "values", values);
  check_finite(kWhere, "errors", errors);
  if (options.num_bins < 1) {
    fail(kWhere, "num_bins must be >= 1, got " + std::to_string(options.num_bins));
  }
  if (options.log_scale) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] <= 0) {
        fail(kWhere, "values[" + std::to_string(i) + "] is " + format_value(values[i]) +
                         " (a log scale needs values > 0)");
      }
    }
  }

  std::map<double, Accumulator> by_value;
  for (size_t i = 0; i < values.size(); ++i) {
    Accumulator& a = by_value[values[i]];
    ++a.count;
    a.sum += errors[i];
    a.sum_sq += errors[i] * errors[i];
  }
  std::vector<TrendBin> bins;
  if (by_value.size() <= static_cast<size_t>(options.num_bins)) {
    for (const auto& [value, acc] : by_value) {
      TrendBin bin;
      bin.lo = bin.hi = value;
      finish(acc, &bin);
      bins.push_back(bin);
    }
    return bins;
  }

  const size_t k = static_cast<size_t>(options.num_bins);
  const double lo = by_value.begin()->first, hi = by_value.rbegin()->first;
  const auto to_axis = [&](double v) { return options.log_scale ? std::log(v) : v; };
  const auto from_axis = [&](double a) { return options.log_scale ? std::exp(a) : a; };
  const double axis_lo = to_axis(lo), axis_span = to_axis(hi) - to_axis(lo);
  std::vector<Accumulator> acc(k);
  for (const auto& [value, a] : by_value) {
    const double pos = (to_axis(value) - axis_lo) / axis_span * static_cast<double>(k);
    const size_t b = std::min(static_cast<size_t>(std::max(pos, 0.0)), k - 1);
    acc[b].count += a.count;
    acc[b].sum += a.sum;
    acc[b].sum_sq += a.sum_sq;
  }
  bins.resize(k);
  for (size_t b = 0; b < k; ++b) {
    bins[b].lo = b == 0 ? lo : from_axis(axis_lo + axis_span * static_cast<double>(b) / k);
    bins[b].hi = b + 1 == k ? hi : from_axis(axis_lo + axis_span * static_cast<double>(b + 1) / k);
    finish(acc[b], &bins[b]);
  }
  return bins;
}

}  // namespace nds::analysis
