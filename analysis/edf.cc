#include "analysis/edf.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "analysis/check.h"

namespace nds::analysis {
namespace {

constexpr const char* kWhere = "edf";

void check_errors(const std::vector<double>& errors) {
  if (errors.empty()) {
    fail(kWhere, "no models (the sweep is empty or every trial failed)");
  }
  check_finite(kWhere, "errors", errors);
}

// Smallest sorted error x_i with P(best of m draws <= x_i) >= p, where
// log_survive[i] = log(1 - cumulative[i]): P(best > x_i) = exp(m log_survive[i+1]).
double best_quantile(const std::vector<double>& errors, const std::vector<double>& log_survive,
                     int m, double p) {
  size_t lo = 0, hi = errors.size() - 1;  // the answer lies in [lo, hi]
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (1.0 - std::exp(m * log_survive[mid + 1]) >= p) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return errors[lo];
}

}  // namespace

Edf::Edf(const std::vector<double>& errors) {
  check_errors(errors);
  errors_ = errors;
  std::sort(errors_.begin(), errors_.end());
  const size_t n = errors_.size();
  cumulative_.resize(n + 1);
  // i / n, the same operation scipy's searchsorted(...) / n performs.
  for (size_t i = 0; i <= n; ++i) {
    cumulative_[i] = static_cast<double>(i) / static_cast<double>(n);
  }
  effective_size_ = static_cast<double>(n);
}

Edf::Edf(const std::vector<double>& errors, const std::vector<double>& weights) {
  check_errors(errors);
  check_same_size(kWhere, "errors", errors.size(), "weights", weights.size());
  check_finite(kWhere, "weights", weights);
  // (error, weight) pairs sorted by error: contiguous, so much faster than
  // sorting indices through a comparator. The order within a run of equal
  // errors does not matter: F is only read at the ends of such runs.
  std::vector<std::pair<double, double>> sorted;
  sorted.reserve(errors.size());
  long double total = 0, total_sq = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] < 0) {
      fail(kWhere, "weights[" + std::to_string(i) + "] is " + format_value(weights[i]) +
                       " (weights must be >= 0)");
    }
    if (weights[i] > 0) {
      sorted.emplace_back(errors[i], weights[i]);
      total += weights[i];
      total_sq += static_cast<long double>(weights[i]) * weights[i];
    }
  }
  if (sorted.empty()) fail(kWhere, "every weight is 0; no model carries mass");
  std::sort(sorted.begin(), sorted.end());
  errors_.reserve(sorted.size());
  cumulative_.reserve(sorted.size() + 1);
  cumulative_.push_back(0);
  long double running = 0;
  for (const auto& [error, weight] : sorted) {
    errors_.push_back(error);
    running += weight;
    cumulative_.push_back(static_cast<double>(running / total));
  }
  cumulative_.back() = 1.0;
  effective_size_ = static_cast<double>(total * total / total_sq);
}

double Edf::operator()(double e) const {
  const auto it = std::lower_bound(errors_.begin(), errors_.end(), e);
  return cumulative_[static_cast<size_t>(it - errors_.begin())];
}

std::vector<EfficiencyPoint> random_search_efficiency(const Edf& edf, int max_m) {
  if (max_m < 1)
    fail("random_search_efficiency", "max_m must be >= 1, got " + std::to_string(max_m));
  const std::vector<double>& x = edf.sorted_errors();
  const std::vector<double>& c = edf.cumulative();
  // s_i = 1 - cumulative[i], the mass at or after sorted index i; s^m as
  // exp(m log s), with log 0 = -inf giving 0.
  std::vector<double> log_survive(c.size());
  for (size_t i = 0; i < c.size(); ++i) log_survive[i] = std::log(std::max(1.0 - c[i], 0.0));
  std::vector<EfficiencyPoint> out;
  for (long long m = 1; m <= max_m; m *= 2) {
    const int mi = static_cast<int>(m);
    // Sorted index i is the best of m draws with probability s_i^m - s_{i+1}^m.
    long double expected = 0;
    double upper = 1.0;  // s_0^m
    for (size_t i = 0; i < x.size(); ++i) {
      const double lower = std::exp(static_cast<double>(m) * log_survive[i + 1]);
      expected += static_cast<long double>(upper - lower) * x[i];
      upper = lower;
    }
    EfficiencyPoint p;
    p.m = mi;
    p.expected_best = static_cast<double>(expected);
    p.best_p25 = best_quantile(x, log_survive, mi, 0.25);
    p.best_median = best_quantile(x, log_survive, mi, 0.5);
    p.best_p75 = best_quantile(x, log_survive, mi, 0.75);
    out.push_back(p);
  }
  return out;
}

}  // namespace nds::analysis
