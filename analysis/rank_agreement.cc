#include "analysis/rank_agreement.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>

#include "analysis/random.h"
#include "analysis/stats.h"

namespace nds::analysis {
namespace {

constexpr size_t kMinPairs = 3;

void check_side(const std::vector<std::string>& keys, const std::vector<double>& errors,
                const char* side) {
  if (keys.size() != errors.size()) {
    throw std::invalid_argument(std::string("pair_by_key: side ") + side + " has " +
                                std::to_string(keys.size()) + " keys but " +
                                std::to_string(errors.size()) + " errors");
  }
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!std::isfinite(errors[i])) {
      throw std::invalid_argument(std::string("pair_by_key: side ") + side +
                                  " has a non-finite error for " + keys[i]);
    }
  }
}

// Mean error per key.
std::map<std::string, double> mean_by_key(const std::vector<std::string>& keys,
                                          const std::vector<double>& errors) {
  std::map<std::string, std::pair<double, size_t>> sums;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto& s = sums[keys[i]];
    s.first += errors[i];
    ++s.second;
  }
  std::map<std::string, double> means;
  for (const auto& [key, s] : sums) means[key] = s.first / static_cast<double>(s.second);
  return means;
}

bool all_equal(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
}

bool has_ranking(const std::vector<double>& x, const std::vector<double>& y) {
  return x.size() >= 2 && x.size() == y.size() && !all_equal(x) && !all_equal(y);
}

// Ranks 1..n, ties sharing the mean of their ranks (scipy's rankdata).
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return v[i] < v[j]; });
  std::vector<double> ranks(v.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start + 1;
    while (end < order.size() && v[order[end]] == v[order[start]]) ++end;
    const double mean_rank = 0.5 * static_cast<double>(start + 1 + end);
    for (size_t i = start; i < end; ++i) ranks[order[i]] = mean_rank;
    start = end;
  }
  return ranks;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

// Pairs within runs of equal values of a sorted sequence: sum of t(t-1)/2.
template <typename Equal>
int64_t tied_pairs(size_t n, Equal equal) {
  int64_t ties = 0;
  for (size_t start = 0; start < n;) {
    size_t end = start + 1;
    while (end < n && equal(start, end)) ++end;
    const auto t = static_cast<int64_t>(end - start);
    ties += t * (t - 1) / 2;
    start = end;
  }
  return ties;
}

// Stable merge sort of v that returns how many swaps of adjacent
// out-of-order elements it makes: the discordant pairs (Knight 1966).
int64_t sort_counting_inversions(std::vector<double>& v, std::vector<double>& scratch, size_t lo,
                                 size_t hi) {
  if (hi - lo < 2) return 0;
  const size_t mid = lo + (hi - lo) / 2;
  int64_t swaps =
      sort_counting_inversions(v, scratch, lo, mid) + sort_counting_inversions(v, scratch, mid, hi);
  size_t i = lo, j = mid, k = lo;
  while (i < mid && j < hi) {
    if (v[j] < v[i]) {
      swaps += static_cast<int64_t>(mid - i);
      scratch[k++] = v[j++];
    } else {
      scratch[k++] = v[i++];
    }
  }
  while (i < mid) scratch[k++] = v[i++];
  while (j < hi) scratch[k++] = v[j++];
  std::copy(scratch.begin() + static_cast<std::ptrdiff_t>(lo),
            scratch.begin() + static_cast<std::ptrdiff_t>(hi),
            v.begin() + static_cast<std::ptrdiff_t>(lo));
  return swaps;
}

}  // namespace

PairedErrors pair_by_key(const std::vector<std::string>& keys_a,
                         const std::vector<double>& errors_a,
                         const std::vector<std::string>& keys_b,
                         const std::vector<double>& errors_b) {
  check_side(keys_a, errors_a, "A");
  check_side(keys_b, errors_b, "B");
  const auto mean_a = mean_by_key(keys_a, errors_a);
  const auto mean_b = mean_by_key(keys_b, errors_b);
  PairedErrors pairs;
  for (const auto& [key, error_a] : mean_a) {
    const auto it = mean_b.find(key);
    if (it == mean_b.end()) continue;
    pairs.keys.push_back(key);
    pairs.a.push_back(error_a);
    pairs.b.push_back(it->second);
  }
  return pairs;
}

std::optional<double> spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  if (!has_ranking(x, y)) return std::nullopt;
  return pearson(average_ranks(x), average_ranks(y));
}

std::optional<double> kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  if (!has_ranking(x, y)) return std::nullopt;
  const size_t n = x.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t i, size_t j) { return x[i] < x[j] || (x[i] == x[j] && y[i] < y[j]); });
  const int64_t x_ties =
      tied_pairs(n, [&](size_t i, size_t j) { return x[order[i]] == x[order[j]]; });
  const int64_t joint_ties = tied_pairs(n, [&](size_t i, size_t j) {
    return x[order[i]] == x[order[j]] && y[order[i]] == y[order[j]];
  });
  std::vector<double> ys(n), scratch(n);
  for (size_t i = 0; i < n; ++i) ys[i] = y[order[i]];
  const int64_t discordant = sort_counting_inversions(ys, scratch, 0, n);
  const int64_t y_ties = tied_pairs(n, [&](size_t i, size_t j) { return ys[i] == ys[j]; });
  const auto total = static_cast<int64_t>(n) * static_cast<int64_t>(n - 1) / 2;
  const double numerator =
      static_cast<double>((total - (x_ties + y_ties - joint_ties)) - 2 * discordant);
  const double tau = numerator / std::sqrt(static_cast<double>(total - x_ties)) /
                     std::sqrt(static_cast<double>(total - y_ties));
  return std::clamp(tau, -1.0, 1.0);
}

TopOverlap top_overlap(const PairedErrors& pairs, double top_fraction) {
  const size_t n = pairs.a.size();
  if (n == 0) throw std::invalid_argument("top_overlap: no pairs");
  if (!(top_fraction > 0 && top_fraction <= 1)) {
    throw std::invalid_argument("top_overlap: top fraction " + std::to_string(top_fraction) +
                                " is not in (0, 1]");
  }
  TopOverlap top;
  top.k = std::max<size_t>(1, static_cast<size_t>(top_fraction * static_cast<double>(n)));
  // Pairs are in key order, so a stable sort breaks ties by key.
  auto best = [&](const std::vector<double>& errors) {
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t i, size_t j) { return errors[i] < errors[j]; });
    order.resize(top.k);
    std::sort(order.begin(), order.end());
    return order;
  };
  const auto best_a = best(pairs.a);
  const auto best_b = best(pairs.b);
  std::vector<size_t> shared;
  std::set_intersection(best_a.begin(), best_a.end(), best_b.begin(), best_b.end(),
                        std::back_inserter(shared));
  top.shared = shared.size();
  return top;
}

namespace {

void check_options(const RankAgreementOptions& o) {
  if (o.num_resamples < 1) {
    throw std::invalid_argument("rank agreement: num_resamples " + std::to_string(o.num_resamples) +
                                " must be at least 1");
  }
  if (!(o.level > 0 && o.level < 1)) {
    throw std::invalid_argument("rank agreement: level " + std::to_string(o.level) +
                                " is not in (0, 1)");
  }
}

std::string undefined_reason(const PairedErrors& pairs, const RankAgreementOptions& o) {
  const size_t n = pairs.a.size();
  if (n < kMinPairs) {
    return std::to_string(n) + (n == 1 ? " model was" : " models were") +
           " trained in both sweeps; rank agreement needs at least " + std::to_string(kMinPairs);
  }
  if (all_equal(pairs.a) || all_equal(pairs.b)) {
    return "every paired model has the same error in " +
           (all_equal(pairs.a) ? o.label_a : o.label_b) + ": its errors do not rank the models";
  }
  return "";
}

void difference_spread(const PairedErrors& pairs, RankAgreement& r) {
  const size_t n = pairs.a.size();
  if (n == 0) return;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += pairs.b[i] - pairs.a[i];
  r.mean_difference = sum / static_cast<double>(n);
  if (n < 2) return;
  double ss = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = pairs.b[i] - pairs.a[i] - r.mean_difference;
    ss += d * d;
  }
  r.sd_difference = std::sqrt(ss / static_cast<double>(n - 1));
}

std::optional<Interval> percentile_interval(std::vector<double> values, double level) {
  // Too few resamples with a ranking to read a 95% interval from.
  constexpr size_t kMinDefined = 20;
  if (values.size() < kMinDefined) return std::nullopt;
  const double tail = 50.0 * (1.0 - level);
  std::sort(values.begin(), values.end());
  return Interval{percentile_sorted(values, tail), percentile_sorted(values, 100.0 - tail)};
}

// Resamples the pairs with replacement and reads the intervals of rho and
// tau; resamples where a side's errors came out all equal are left out.
void bootstrap_intervals(const PairedErrors& pairs, const RankAgreementOptions& o,
                         RankAgreement& r) {
  const size_t n = pairs.a.size();
  std::mt19937_64 rng(o.seed);
  std::vector<double> rhos, taus, xa(n), xb(n);
  for (int b = 0; b < o.num_resamples; ++b) {
    for (size_t i = 0; i < n; ++i) {
      const auto j = static_cast<size_t>(uniform_index(rng, n));
      xa[i] = pairs.a[j];
      xb[i] = pairs.b[j];
    }
    if (const auto rho = spearman_rho(xa, xb)) rhos.push_back(*rho);
    if (const auto tau = kendall_tau_b(xa, xb)) taus.push_back(*tau);
  }
  r.spearman->ci = percentile_interval(std::move(rhos), o.level);
  r.kendall->ci = percentile_interval(std::move(taus), o.level);
}

}  // namespace

RankAgreement rank_agreement(const PairedErrors& pairs, const RankAgreementOptions& options) {
  check_options(options);
  if (pairs.a.size() != pairs.b.size() || pairs.keys.size() != pairs.a.size()) {
    throw std::invalid_argument("rank agreement: keys and the two error lists differ in length");
  }
  RankAgreement r;
  r.pairs = pairs.a.size();
  difference_spread(pairs, r);
  if (r.pairs >= kMinPairs) r.top = top_overlap(pairs, options.top_fraction);
  r.undefined_reason = undefined_reason(pairs, options);
  if (!r.undefined_reason.empty()) return r;
  r.spearman = Correlation{*spearman_rho(pairs.a, pairs.b), std::nullopt};
  r.kendall = Correlation{*kendall_tau_b(pairs.a, pairs.b), std::nullopt};
  bootstrap_intervals(pairs, options, r);
  return r;
}

}  // namespace nds::analysis
