// Width-fit quality (analysis/width_fit.h) against the RegNet generator of
// space/: analysis reimplements the quantized linear rule (it may not depend
// on space/), so this test checks the two agree and that every RegNet sample
// fits exactly while AnyNet samples that break the rule do not.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/random.h"
#include "analysis/stats.h"
#include "analysis/width_fit.h"
#include "space/regnet.h"

namespace nds::analysis {
namespace {

struct RuleParams {
  double w_a;
  int w_0;
  double w_m;
  int depth;
};

// A RegNet design-space sample (Radosavovic et al. 2020): d < 64, w_0 <= 256
// a multiple of 8, 0 < w_a <= 256 (log-uniform), w_m in [w_m_lo, w_m_hi].
RuleParams sample_regnet(std::mt19937_64& rng, double w_m_lo = 1.5, double w_m_hi = 3.0) {
  RuleParams p;
  p.depth = 1 + static_cast<int>(uniform_index(rng, 63));
  p.w_0 = 8 * (1 + static_cast<int>(uniform_index(rng, 32)));
  p.w_a = std::exp(std::log(0.5) + uniform01(rng) * std::log(512.0));
  p.w_m = w_m_lo + (w_m_hi - w_m_lo) * uniform01(rng);
  return p;
}

// AnyNetX_A: 4 stages, d_i in 1..16, w_i a multiple of 8 up to 1024; the
// per-block widths repeat each stage's width d_i times.
std::vector<int> sample_anynet_x_a(std::mt19937_64& rng) {
  std::vector<int> widths;
  for (int stage = 0; stage < 4; ++stage) {
    const int d = 1 + static_cast<int>(uniform_index(rng, 16));
    const int w = 8 * (1 + static_cast<int>(uniform_index(rng, 128)));
    widths.insert(widths.end(), static_cast<size_t>(d), w);
  }
  return widths;
}

std::string text(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += std::to_string(x) + " ";
  return s;
}

TEST(AnalysisWidthFit, RuleMatchesSpaceGenerateRegnet) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 3000; ++i) {
    RuleParams p = sample_regnet(rng, 1.01, 4.0);
    if (i % 10 == 0) p.w_a = 0;
    if (i % 7 == 0) p.w_0 = 8 * (1 + static_cast<int>(uniform_index(rng, 64)));
    const RegNetWidths g = generate_regnet(p.w_a, p.w_0, p.w_m, p.depth, 8);
    ASSERT_EQ(quantized_linear_widths(p.w_a, p.w_0, p.w_m, p.depth, 8), g.block_widths)
        << "w_a=" << p.w_a << " w_0=" << p.w_0 << " w_m=" << p.w_m << " d=" << p.depth;
  }
  EXPECT_EQ(quantized_linear_widths(36.44, 24, 2.49, 13, 8),
            generate_regnet(36.44, 24, 2.49, 13, 8).block_widths);
  EXPECT_THROW(quantized_linear_widths(10, 12, 2, 5, 8), std::invalid_argument);
  EXPECT_THROW(quantized_linear_widths(10, 16, 1, 5, 8), std::invalid_argument);
  EXPECT_THROW(quantized_linear_widths(-1, 16, 2, 5, 8), std::invalid_argument);
  EXPECT_THROW(quantized_linear_widths(10, 16, 2, 0, 8), std::invalid_argument);
}

TEST(AnalysisWidthFit, EveryRegnetSampleFitsExactly) {
  std::mt19937_64 rng(2);
  std::vector<RuleParams> samples;
  for (int i = 0; i < 2000; ++i) samples.push_back(sample_regnet(rng));
  // Beyond the paper's w_m range the rule still holds; so must the fit.
  for (int i = 0; i < 500; ++i) samples.push_back(sample_regnet(rng, 1.1, 1.5));
  for (int i = 0; i < 20; ++i) samples.push_back({0.0, 8 * (1 + i), 2.0, 1 + 3 * i});
  // pycls's RegNetX models (depth, w_0, w_a, w_m).
  samples.push_back({36.44, 24, 2.49, 13});
  samples.push_back({24.48, 24, 2.54, 22});
  samples.push_back({36.97, 48, 2.24, 16});
  samples.push_back({35.73, 56, 2.28, 16});
  samples.push_back({34.01, 80, 2.25, 18});
  samples.push_back({26.31, 88, 2.25, 25});
  samples.push_back({38.65, 96, 2.43, 23});
  samples.push_back({60.83, 184, 2.07, 17});
  samples.push_back({49.56, 80, 2.88, 23});
  samples.push_back({73.36, 168, 2.37, 19});
  samples.push_back({55.59, 216, 2.1, 22});
  samples.push_back({69.86, 320, 2.0, 23});
  for (const RuleParams& p : samples) {
    const std::vector<int> widths = generate_regnet(p.w_a, p.w_0, p.w_m, p.depth, 8).block_widths;
    const WidthFit fit = fit_widths(widths);
    ASSERT_LE(fit.e_fit, 1e-9) << "w_a=" << p.w_a << " w_0=" << p.w_0 << " w_m=" << p.w_m
                               << " d=" << p.depth << " widths " << text(widths);
    EXPECT_EQ(fit.fitted, widths);
    // The fitted parameters are a RegNet that space/ expands to the same widths.
    EXPECT_EQ(generate_regnet(fit.w_a, fit.w_0, fit.w_m, p.depth, 8).block_widths, widths);
  }
}

TEST(AnalysisWidthFit, AnynetSamplesThatBreakTheRuleHaveAPositiveFit) {
  std::mt19937_64 rng(3);
  std::vector<double> e_fits;
  double total_ms = 0, worst_ms = 0;
  int broken = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::vector<int> widths = sample_anynet_x_a(rng);
    const auto start = std::chrono::steady_clock::now();
    const WidthFit fit = fit_widths(widths);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    total_ms += ms;
    worst_ms = std::max(worst_ms, ms);
    // The reported fit is the rule's output for the reported parameters.
    ASSERT_EQ(fit.fitted.size(), widths.size());
    EXPECT_EQ(fit.fitted, quantized_linear_widths(fit.w_a, fit.w_0, fit.w_m,
                                                  static_cast<int>(widths.size()), 8));
    EXPECT_DOUBLE_EQ(fit.e_fit, width_fit_error(widths, fit.fitted));
    ASSERT_TRUE(std::isfinite(fit.e_fit));
    // The rule's widths never decrease, so a decreasing stage breaks it.
    if (!std::is_sorted(widths.begin(), widths.end())) {
      ++broken;
      EXPECT_GT(fit.e_fit, 0) << text(widths);
    }
    e_fits.push_back(fit.e_fit);
  }
  EXPECT_GT(broken, 500);
  // Non-decreasing widths that still break the rule: stage ratios no single
  // w_m explains, or stage lengths no linear u_j gives.
  for (const std::vector<int>& widths :
       {std::vector<int>{64, 64, 72, 72, 640, 640, 648, 648},
        std::vector<int>{16, 16, 16, 16, 16, 16, 16, 16, 32, 64},
        std::vector<int>{32, 32, 64, 64, 512, 512, 576, 576},
        std::vector<int>{48, 96, 96, 96, 96, 96, 96, 96, 96, 192, 384, 768}}) {
    EXPECT_GT(fit_widths(widths).e_fit, 0) << text(widths);
  }
  const Summary s = summarize(e_fits);
  std::printf("AnyNetX_A e_fit over %zu models: min %.3f p25 %.3f median %.3f p75 %.3f max %.3f\n",
              s.count, s.min, s.p25, s.median, s.p75, s.max);
  std::printf("fit_widths time: mean %.3f ms, worst %.3f ms\n", total_ms / 1000, worst_ms);
  EXPECT_GT(s.min, 0);  // none of these random samples is a RegNet
}

TEST(AnalysisWidthFit, NearRegnetWidthsFitAboutAsWellAsTheirRule) {
  // One block of a RegNet moved by one quantum: the generating rule fits with
  // a small error, and the search should do as well (or better).
  std::mt19937_64 rng(4);
  int as_good = 0;
  const int n = 300;
  double worst_excess = 0;
  for (int i = 0; i < n; ++i) {
    RuleParams p = sample_regnet(rng);
    p.depth = 8 + static_cast<int>(uniform_index(rng, 40));
    const std::vector<int> rule = generate_regnet(p.w_a, p.w_0, p.w_m, p.depth, 8).block_widths;
    std::vector<int> widths = rule;
    widths[uniform_index(rng, widths.size())] += 8;
    const double bound = width_fit_error(widths, rule);
    const WidthFit fit = fit_widths(widths);
    if (fit.e_fit <= bound + 1e-12) ++as_good;
    worst_excess = std::max(worst_excess, fit.e_fit - bound);
  }
  std::printf("near-RegNet: %d/%d fit at least as well as their rule; worst excess %.4f\n", as_good,
              n, worst_excess);
  EXPECT_GE(as_good, n * 9 / 10);
  EXPECT_LT(worst_excess, 0.05);
}

TEST(AnalysisWidthFit, SmallAndOffGridInputs) {
  EXPECT_EQ(fit_widths({24}).e_fit, 0);
  const WidthFit odd = fit_widths({12});  // no multiple of 8 equals 12
  EXPECT_NEAR(odd.e_fit, std::log(16.0 / 12.0), 1e-12);
  EXPECT_EQ(fit_widths({8, 8, 8, 8}).e_fit, 0);
  EXPECT_EQ(fit_widths({24, 48}).e_fit, 0);
  EXPECT_GT(fit_widths({16, 8}).e_fit, 0);  // the rule's widths never shrink
}

TEST(AnalysisWidthFit, BadInputGivesAClearMessage) {
  const auto message = [](const auto& fn) {
    try {
      fn();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_NE(message([] { fit_widths({}); }).find("widths is empty"), std::string::npos);
  EXPECT_NE(message([] { fit_widths({8, 0, 16}); }).find("widths[1] is 0"), std::string::npos);
  WidthFitOptions o;
  o.w_m_min = 1;
  EXPECT_NE(message([&] {
              fit_widths({8, 16}, o);
            }).find("1 < w_m_min <= w_m_max"),
            std::string::npos);
  EXPECT_NE(message([] {
              width_fit_error({8, 16}, {8});
            }).find("widths has 2 entries"),
            std::string::npos);
}

}  // namespace
}  // namespace nds::analysis
