// Unit tests of analysis/ on plain vectors (no store, no space/).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/bootstrap.h"
#include "analysis/edf.h"
#include "analysis/kolmogorov.h"
#include "analysis/ks.h"
#include "analysis/normalized_edf.h"
#include "analysis/random.h"
#include "analysis/refine_range.h"
#include "analysis/stats.h"
#include "analysis/trend.h"
#include "tests/analysis_testing.h"

namespace nds::analysis {
namespace {

using analysis_testing::standard_normal;

// Expects fn to throw std::invalid_argument whose message contains `part`.
template <typename Fn>
void expect_invalid(Fn fn, const std::string& part) {
  try {
    fn();
    ADD_FAILURE() << "no exception; expected one mentioning '" << part << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
        << "message '" << e.what() << "' does not mention '" << part << "'";
  }
}

std::vector<double> normal_sample(std::mt19937_64& rng, size_t n, double mean, double sd) {
  std::vector<double> v(n);
  for (double& x : v) x = mean + sd * standard_normal(rng);
  return v;
}

// --- random -----------------------------------------------------------------

TEST(AnalysisRandom, DrawsArePinnedToTheEngineOutput) {
  // mt19937_64's output is fixed by the standard; these formulas over it give
  // the same numbers with every standard library.
  std::mt19937_64 rng(42);
  const std::uint64_t first = std::mt19937_64(42)();
  EXPECT_EQ(uniform01(rng), static_cast<double>(first >> 11) * 0x1.0p-53);
  std::mt19937_64 a(7), b(7);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(uniform_index(a, 1000), uniform_index(b, 1000));
}

TEST(AnalysisRandom, UniformIndexCoversItsRangeEvenly) {
  std::mt19937_64 rng(1);
  std::vector<int> counts(10, 0);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t k = uniform_index(rng, 10);
    ASSERT_LT(k, 10u);
    ++counts[k];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);  // ~5 sigma
  EXPECT_EQ(uniform_index(rng, 1), 0u);

  // Two 32-bit draws per engine word: the low half first, then the high half.
  std::mt19937_64 a(9), b(9);
  SmallIndexSampler small(a, 1u << 20);
  const std::uint64_t word = b();
  EXPECT_EQ(small(), static_cast<std::uint32_t>(word & 0xffffffffu) >> 12);
  EXPECT_EQ(small(), static_cast<std::uint32_t>(word >> 32) >> 12);
  std::vector<int> small_counts(7, 0);
  SmallIndexSampler seven(rng, 7);
  for (int i = 0; i < 70000; ++i) ++small_counts[seven()];
  for (int c : small_counts) EXPECT_NEAR(c, 10000, 500);
}

// --- stats, trials ------------------------------------------------------------

TEST(AnalysisStats, PercentileInterpolatesLikeNumpy) {
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 2.5), 1.225);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 97.5), 9.775);
  EXPECT_DOUBLE_EQ(percentile({5}, 97.5), 5);
  const Summary s = summarize({1, 2, 3, 4});
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(1.25));
  expect_invalid([] { percentile({}, 50); }, "values is empty");
  expect_invalid([] { percentile({1, 2}, 101); }, "p must be in [0, 100], got 101");
}

// --- EDF --------------------------------------------------------------------

TEST(AnalysisEdf, CountsModelsStrictlyBelow) {
  const Edf edf({3, 1, 2, 2});
  EXPECT_EQ(edf.size(), 4u);
  EXPECT_DOUBLE_EQ(edf(1), 0);  // error < 1: none
  EXPECT_DOUBLE_EQ(edf(1.5), 0.25);
  EXPECT_DOUBLE_EQ(edf(2), 0.25);
  EXPECT_DOUBLE_EQ(edf(2.5), 0.75);
  EXPECT_DOUBLE_EQ(edf(3.0001), 1);
  // The steps a report draws: cumulative()[i + 1] is F just above sorted error i.
  EXPECT_EQ(edf.sorted_errors(), (std::vector<double>{1, 2, 2, 3}));
  EXPECT_EQ(edf.cumulative(), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_DOUBLE_EQ(edf.effective_size(), 4);
}

TEST(AnalysisEdf, WeightsAreNormalizedAndZeroWeightsLeftOut) {
  const Edf edf({1, 2, 3, 4}, {1, 3, 0, 4});
  EXPECT_EQ(edf.size(), 3u);
  EXPECT_DOUBLE_EQ(edf(1.5), 0.125);
  EXPECT_DOUBLE_EQ(edf(3.5), 0.5);
  EXPECT_DOUBLE_EQ(edf(5), 1);
  EXPECT_DOUBLE_EQ(edf.cumulative().back(), 1);
  EXPECT_NEAR(edf.effective_size(), 64.0 / 26.0, 1e-12);  // (sum w)^2 / sum w^2
}

TEST(AnalysisEdf, BadInputGivesAClearMessage) {
  expect_invalid([] { Edf e(std::vector<double>{}); }, "no models");
  expect_invalid([] { Edf e({1, NAN, 2}); }, "errors[1] is nan");
  expect_invalid([] { Edf e({1, INFINITY}); }, "errors[1] is inf");
  expect_invalid([] { Edf e({1, 2}, {1}); }, "errors has 2 entries but weights has 1");
  expect_invalid([] { Edf e({1, 2}, {1, -1}); }, "weights[1] is -1");
  expect_invalid([] { Edf e({1, 2}, {0, 0}); }, "every weight is 0");
}

TEST(AnalysisEdf, RandomSearchEfficiencyMatchesTheClosedForm) {
  const Edf edf({1, 2});
  const std::vector<EfficiencyPoint> curve = random_search_efficiency(edf, 4);
  ASSERT_EQ(curve.size(), 3u);  // m = 1, 2, 4
  EXPECT_EQ(curve[0].m, 1);
  EXPECT_NEAR(curve[0].expected_best, 1.5, 1e-15);
  EXPECT_NEAR(curve[1].expected_best, 0.75 * 1 + 0.25 * 2, 1e-15);
  EXPECT_NEAR(curve[2].expected_best, (1 - 1.0 / 16) * 1 + 2.0 / 16, 1e-15);
  EXPECT_EQ(curve[2].best_median, 1);

  // Against brute-force random search on a larger space.
  std::mt19937_64 rng(3);
  const std::vector<double> errors = normal_sample(rng, 500, 40, 5);
  const Edf big(errors);
  const std::vector<EfficiencyPoint> c = random_search_efficiency(big, 64);
  ASSERT_EQ(c.back().m, 64);
  for (size_t i = 1; i < c.size(); ++i) EXPECT_LT(c[i].expected_best, c[i - 1].expected_best);
  double sum = 0;
  const int trials = 20000;
  for (int t = 0; t < trials; ++t) {
    double best = INFINITY;
    for (int k = 0; k < 16; ++k) best = std::min(best, errors[uniform_index(rng, errors.size())]);
    sum += best;
  }
  EXPECT_NEAR(c[4].expected_best, sum / trials, 0.05);  // m = 16; MC error ~0.015
  expect_invalid([&] { random_search_efficiency(big, 0); }, "max_m must be >= 1, got 0");
}

// --- KS ---------------------------------------------------------------------

TEST(AnalysisKs, StatisticOnSimpleSamples) {
  KsResult same = ks_2samp({1, 2, 3}, {3, 2, 1});
  EXPECT_EQ(same.statistic, 0);
  EXPECT_EQ(same.p_value, 1);
  KsResult apart = ks_2samp({1, 2, 3}, {4, 5, 6, 7});
  EXPECT_EQ(apart.statistic, 1);
  EXPECT_EQ(apart.location, 3);
  EXPECT_NEAR(apart.n_eff, 12.0 / 7.0, 1e-15);
  // Exact: 2 of the C(7, 3) orders of the pooled sample are as extreme.
  EXPECT_TRUE(apart.exact);
  EXPECT_NEAR(apart.p_value, 2.0 / 35, 1e-15);
  KsResult half = ks_2samp({1, 2}, {2, 3});
  EXPECT_DOUBLE_EQ(half.statistic, 0.5);
  expect_invalid([] { ks_2samp({}, {1.0}); }, "no models");
}

TEST(AnalysisKs, IntegerWeightsEqualReplicatedSamples) {
  std::mt19937_64 rng(5);
  const std::vector<double> a = normal_sample(rng, 40, 0, 1), b = normal_sample(rng, 30, 0.3, 1);
  std::vector<double> w(a.size()), replicated;
  for (size_t i = 0; i < a.size(); ++i) {
    w[i] = static_cast<double>(1 + i % 3);
    for (int k = 0; k < static_cast<int>(w[i]); ++k) replicated.push_back(a[i]);
  }
  const KsResult weighted = ks_2samp(Edf(a, w), Edf(b));
  const KsResult plain = ks_2samp(Edf(replicated), Edf(b));
  EXPECT_NEAR(weighted.statistic, plain.statistic, 1e-12);
  EXPECT_EQ(weighted.location, plain.location);
  // Kish's effective size of the weighted sample is below its 80 replicas.
  EXPECT_LT(weighted.n_eff, plain.n_eff);
  // Unequal weights keep the asymptotic p; equal ones, the same test as the
  // unweighted sample, get its exact p.
  EXPECT_FALSE(weighted.exact);
  EXPECT_EQ(weighted.p_value, ks_asymptotic_p(weighted.statistic, weighted.n_eff));
  EXPECT_TRUE(plain.exact);
  const KsResult equal = ks_2samp(Edf(a, std::vector<double>(a.size(), 0.3)), Edf(b));
  EXPECT_TRUE(equal.exact);
  EXPECT_NEAR(equal.p_value, ks_2samp(a, b).p_value, 1e-15);
}

TEST(AnalysisKolmogorov, LimitSeriesAgreeWhereTheyMeet) {
  // kolmogorov_sf switches series at x = 0.82; both sides must agree.
  EXPECT_NEAR(kolmogorov_sf(0.82 - 1e-13), kolmogorov_sf(0.82 + 1e-13), 1e-12);
  EXPECT_EQ(kolmogorov_sf(0), 1);
  EXPECT_EQ(kolmogorov_sf(0.01), 1);
  EXPECT_NEAR(kolmogorov_sf(1.0), 0.26999967167735456, 1e-15);  // scipy kstwobign.sf(1)
  EXPECT_LT(kolmogorov_sf(8), 1e-50);
  // The finite-n distribution tends to the limit.
  EXPECT_NEAR(kolmogorov_n_sf(100000, 1.0 / std::sqrt(100000.0)), kolmogorov_sf(1.0), 2e-3);
  expect_invalid([] { kolmogorov_n_sf(0, 0.5); }, "n must be >= 1, got 0");
}

// --- normalized EDF -------------------------------------------------------------

TEST(AnalysisNormalizedEdf, EachBinCarriesEqualMass) {
  // Bins over [1, 10000] in decades: 1 model in the first, 3 in the second, 0
  // in the third, 2 in the fourth; 2 models outside.
  const std::vector<double> c = {2, 20, 30, 50, 2000, 5000, 0.5, 20000};
  const ComplexityWeights w = complexity_weights(c, {1, 10000, 4});
  ASSERT_EQ(w.edges.size(), 5u);
  EXPECT_NEAR(w.edges[1], 10, 1e-9);
  EXPECT_EQ(w.counts, (std::vector<size_t>{1, 3, 0, 2}));
  EXPECT_EQ(w.empty_bins, (std::vector<int>{2}));
  EXPECT_EQ(w.num_dropped, 2u);
  // Three non-empty bins: 1/3 each.
  EXPECT_NEAR(w.weights[0], 1.0 / 3, 1e-15);
  EXPECT_NEAR(w.weights[1], 1.0 / 9, 1e-15);
  EXPECT_NEAR(w.weights[4], 1.0 / 6, 1e-15);
  EXPECT_EQ(w.weights[6], 0);
  EXPECT_EQ(w.weights[7], 0);
  // The model at exactly hi goes to the last bin.
  EXPECT_EQ(complexity_weights({1, 10}, {1, 10, 2}).counts, (std::vector<size_t>{1, 1}));
}

TEST(AnalysisNormalizedEdf, BadInputGivesAClearMessage) {
  expect_invalid(
      [] {
        complexity_weights({1, 2, 3}, {1, 3, 4});
      },
      "num_bins = 4 is larger than the 3 models within the complexity range");
  expect_invalid(
      [] {
        complexity_weights({100, 200}, {1, 10, 1});
      },
      "no model lies within the complexity range");
  expect_invalid([] { complexity_weights({1, 0, 3}, {1, 3, 1}); }, "complexity[1] is 0");
  expect_invalid([] { complexity_weights({1, 2}, {2, 1, 1}); }, "must satisfy 0 < lo < hi");
  expect_invalid([] { complexity_weights({1, 2}, {1, 2, 0}); }, "num_bins must be >= 1, got 0");
  expect_invalid([] { complexity_weights({}, {1, 2, 1}); }, "complexity is empty");
  expect_invalid([] { normalized_edf({}, {}, {1, 2, 1}); }, "no models");
}

TEST(AnalysisNormalizedEdf, RemovesADifferenceInComplexityDistribution) {
  // Two spaces whose error depends on complexity alone; only their
  // complexity distributions differ (log-uniform vs. skewed to large models).
  std::mt19937_64 rng(11);
  const size_t n = 40000;
  std::vector<double> err_a(n), err_b(n), flops_a(n), flops_b(n);
  for (size_t i = 0; i < n; ++i) {
    const double u_a = uniform01(rng);
    const double u_b = std::sqrt(uniform01(rng));  // density 2u on [0, 1]
    flops_a[i] = 1e8 * std::pow(10.0, u_a);
    flops_b[i] = 1e8 * std::pow(10.0, u_b);
    err_a[i] = 40 - 10 * u_a + 0.3 * standard_normal(rng);
    err_b[i] = 40 - 10 * u_b + 0.3 * standard_normal(rng);
  }
  const double raw = ks_2samp(err_a, err_b).statistic;
  // The range both spaces cover, as the report takes it.
  const double lo = std::max(*std::min_element(flops_a.begin(), flops_a.end()),
                             *std::min_element(flops_b.begin(), flops_b.end()));
  const double hi = std::min(*std::max_element(flops_a.begin(), flops_a.end()),
                             *std::max_element(flops_b.begin(), flops_b.end()));
  const ComplexityBins bins{lo, hi, 20};
  const NormalizedEdf a = normalized_edf(err_a, flops_a, bins);
  const NormalizedEdf b = normalized_edf(err_b, flops_b, bins);
  const KsResult normalized = ks_2samp(a.edf, b.edf);
  std::printf("KS D: unnormalized %.4f, complexity-normalized %.4f (p = %.3g)\n", raw,
              normalized.statistic, normalized.p_value);
  EXPECT_GT(raw, 0.2);
  EXPECT_LT(normalized.statistic, 0.05);
  EXPECT_TRUE(a.weights.empty_bins.empty());
  EXPECT_GT(normalized.p_value, 0);
}

// --- bootstrap ------------------------------------------------------------------

TEST(AnalysisBootstrap, GoodRangeContainsTheKnownOptimum) {
  // Error minimized at p = 0.65 on a 0.05 grid, plus an irrelevant parameter.
  std::mt19937_64 rng(17);
  const double step = 0.05, optimum = 0.65;
  const size_t n = 5000;
  std::vector<double> errors(n), p(n), other(n);
  for (size_t i = 0; i < n; ++i) {
    p[i] = step * static_cast<double>(uniform_index(rng, 21));
    other[i] = static_cast<double>(uniform_index(rng, 8));
    errors[i] = 30 + 40 * (p[i] - optimum) * (p[i] - optimum) + 0.3 * standard_normal(rng);
  }
  for (BootstrapMethod method : {BootstrapMethod::kOrderStatistic, BootstrapMethod::kResample}) {
    BootstrapOptions options;
    options.method = method;
    options.num_resamples = method == BootstrapMethod::kResample ? 2000 : 10000;
    const std::vector<size_t> best = bootstrap_best_models(errors, options);
    ASSERT_EQ(best.size(), static_cast<size_t>(options.num_resamples));
    const GoodRange g = good_range(best, p, options);
    EXPECT_LE(g.low, optimum);
    EXPECT_GE(g.high, optimum);
    EXPECT_LE(std::fabs(g.median - optimum), step + 1e-12);
    EXPECT_LT(g.high - g.low, 0.5);  // informative, not the whole [0, 1]
    const GoodRange o = good_range(best, other, options);
    EXPECT_LE(o.low, 1);  // the irrelevant parameter keeps a wide range
    EXPECT_GE(o.high, 6);
  }
}

TEST(AnalysisBootstrap, OrderStatisticMatchesLiteralResampling) {
  // The shortcut draws the best rank directly; its distribution must match
  // literally resampling 25% of the models and taking the best.
  std::mt19937_64 rng(23);
  const std::vector<double> errors = normal_sample(rng, 400, 30, 3);
  BootstrapOptions fast, slow;
  fast.num_resamples = slow.num_resamples = 20000;
  fast.seed = 1;
  slow.seed = 2;
  slow.method = BootstrapMethod::kResample;
  std::vector<size_t> order(errors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return errors[a] < errors[b]; });
  std::vector<double> rank(errors.size());
  for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = static_cast<double>(r);
  const std::vector<size_t> bf = bootstrap_best_models(errors, fast);
  const std::vector<size_t> bs = bootstrap_best_models(errors, slow);
  // P(best rank = r) = (1 - r/n)^s - (1 - (r+1)/n)^s with n = 400, s = 100.
  for (size_t r = 0; r < 4; ++r) {
    const double expected = std::pow(1 - r / 400.0, 100) - std::pow(1 - (r + 1) / 400.0, 100);
    const double sigma = std::sqrt(expected * (1 - expected) / 20000);
    const auto freq = [&](const std::vector<size_t>& best) {
      return static_cast<double>(
                 std::count_if(best.begin(), best.end(),
                               [&](size_t i) { return rank[i] == static_cast<double>(r); })) /
             20000.0;
    };
    EXPECT_NEAR(freq(bf), expected, 5 * sigma) << "rank " << r;
    EXPECT_NEAR(freq(bs), expected, 5 * sigma) << "rank " << r;
  }
  // Same seed, same resamples.
  EXPECT_EQ(bootstrap_best_models(errors, fast), bf);
}

TEST(AnalysisBootstrap, BadInputGivesAClearMessage) {
  expect_invalid([] { bootstrap_best_models({}); }, "no models");
  expect_invalid([] { bootstrap_best_models({1, NAN}); }, "errors[1] is nan");
  BootstrapOptions o;
  o.num_resamples = 0;
  expect_invalid([&] { bootstrap_best_models({1, 2}, o); }, "num_resamples must be >= 1, got 0");
  o = {};
  o.fraction = 1.5;
  expect_invalid([&] { bootstrap_best_models({1, 2}, o); }, "fraction must be in (0, 1], got 1.5");
  expect_invalid([] { good_range({5}, {1, 2}); }, "best model index 5 out of range");
  // A single model is its own best.
  const GoodRange g = good_range(bootstrap_best_models({3}), {7});
  EXPECT_EQ(g.low, 7);
  EXPECT_EQ(g.high, 7);
}

// --- trends -------------------------------------------------------------------

TEST(AnalysisTrend, FewDistinctValuesGetOneBinEach) {
  const std::vector<TrendBin> t = error_trend({1, 2, 1, 2, 3}, {10, 20, 12, 22, 30});
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].lo, 1);
  EXPECT_EQ(t[0].count, 2u);
  EXPECT_DOUBLE_EQ(t[0].mean, 11);
  EXPECT_DOUBLE_EQ(t[0].std, 1);
  EXPECT_DOUBLE_EQ(t[2].std, 0);
}

TEST(AnalysisTrend, ManyValuesAreBinned) {
  std::vector<double> v, e;
  for (int i = 0; i < 100; ++i) {
    v.push_back(1 + i);
    e.push_back(i < 50 ? 10 : 20);
  }
  TrendOptions o;
  o.num_bins = 4;
  const std::vector<TrendBin> t = error_trend(v, e, o);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].lo, 1);
  EXPECT_EQ(t[3].hi, 100);
  EXPECT_DOUBLE_EQ(t[0].mean, 10);
  EXPECT_DOUBLE_EQ(t[3].mean, 20);
  size_t total = 0;
  for (const TrendBin& b : t) total += b.count;
  EXPECT_EQ(total, 100u);
  o.log_scale = true;
  const std::vector<TrendBin> lt = error_trend(v, e, o);
  EXPECT_NEAR(lt[1].lo, std::sqrt(std::sqrt(100.0)), 1e-12);  // log-spaced edges
  expect_invalid([&] { error_trend({0, 1, 2, 3, 4}, {1, 1, 1, 1, 1}, o); }, "values[0] is 0");
  expect_invalid([] { error_trend({}, {}); }, "no models");
}

// --- range refinement -------------------------------------------------------------

TEST(AnalysisRefineRange, RoundsOutwardToTheGridAndNeverWidens) {
  // w_0 in [8, 256], multiples of 8; good range [37.2, 101.9] -> [32, 104].
  ParamRange r = narrow_range({8, 256, 8}, 37.2, 101.9);
  EXPECT_EQ(r.lo, 32);
  EXPECT_EQ(r.hi, 104);
  EXPECT_EQ(r.step, 8);
  // Already on the grid: unchanged, even with floating-point noise.
  r = narrow_range({1.5, 3.0, 0.05}, 2.0000000000001, 2.4999999999999);
  EXPECT_NEAR(r.lo, 2.0, 1e-12);
  EXPECT_NEAR(r.hi, 2.5, 1e-12);
  // Good range reaching past the range is clipped, never widened.
  r = narrow_range({8, 256, 8}, 2, 300);
  EXPECT_EQ(r.lo, 8);
  EXPECT_EQ(r.hi, 256);
  // A grid whose last point is not hi: rounding up stops at hi.
  r = narrow_range({0, 10, 3}, 4, 9.5);
  EXPECT_EQ(r.lo, 3);
  EXPECT_EQ(r.hi, 10);
  // Continuous parameter: plain intersection.
  r = narrow_range({0, 1, 0}, 0.25, 0.75);
  EXPECT_EQ(r.lo, 0.25);
  EXPECT_EQ(r.hi, 0.75);
  // Integer parameter, good range a single value.
  r = narrow_range(ParamRange{1, 16, 1}, GoodRange{5, 5, 5});
  EXPECT_EQ(r.lo, 5);
  EXPECT_EQ(r.hi, 5);
}

TEST(AnalysisRefineRange, BadInputGivesAClearMessage) {
  expect_invalid(
      [] {
        narrow_range({8, 256, 8}, 300, 400);
      },
      "good range [300, 400] lies outside the range [8, 256]");
  expect_invalid([] { narrow_range({8, 256, 8}, 50, 40); }, "good range [50, 40]");
  expect_invalid([] { narrow_range({8, 4, 8}, 5, 6); }, "range [8, 4] must be finite");
  expect_invalid(
      [] {
        narrow_range({8, 256, -1}, 10, 20);
      },
      "step must be finite and >= 0, got -1");
  expect_invalid([] { narrow_range({8, 256, 8}, NAN, 20); }, "good range [nan, 20]");
}

}  // namespace
}  // namespace nds::analysis
