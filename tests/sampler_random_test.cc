// The sampler's random draws: the engine is the standard's, the streams are
// pinned, and every distribution fits its law (chi-square or KS at 0.001
// over 10,000 draws).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "sampler/design_space.h"
#include "sampler/random.h"
#include "sampler/units.h"

namespace nds::sampler {
namespace {

constexpr int kDraws = 10000;
constexpr double kZ999 = 3.090232;  // upper 0.001 point of the standard normal

// Upper 0.001 point of chi-square with `df` degrees of freedom
// (Wilson-Hilferty; within 0.5% of the tables for df >= 2, slightly above).
double chi2_critical(int df) {
  const double k = df;
  const double t = 1 - 2 / (9 * k) + kZ999 * std::sqrt(2 / (9 * k));
  return k * t * t * t;
}

// Chi-square of `counts` against probabilities `expected` (same keys).
void expect_fits(const std::map<double, int>& counts, const std::map<double, double>& expected,
                 int n, const std::string& what) {
  double chi2 = 0;
  double total_p = 0;
  for (const auto& [value, p] : expected) {
    total_p += p;
    const double e = p * n;
    const auto it = counts.find(value);
    const double o = it == counts.end() ? 0 : it->second;
    chi2 += (o - e) * (o - e) / e;
  }
  EXPECT_NEAR(total_p, 1.0, 1e-9) << what;
  for (const auto& [value, c] : counts)
    EXPECT_TRUE(expected.count(value)) << what << ": drew " << value << " outside the support";
  const int df = static_cast<int>(expected.size()) - 1;
  EXPECT_LT(chi2, chi2_critical(df)) << what << ": chi-square " << chi2 << " with " << df << " df";
}

std::map<double, int> histogram(RandType type, double low, double high, double q,
                                std::uint64_t seed) {
  Rng rng(seed);
  const QuantizedRange range(type, low, high, q);
  std::map<double, int> counts;
  for (int i = 0; i < kDraws; ++i) ++counts[range.draw(rng)];
  return counts;
}

// pycls's log_uniform law on the grid: P(k q) = P(f in ((k-1) q, k q]) for
// f log-uniform on (low - min(q, low/2), high].
std::map<double, double> log_uniform_pmf(double low, double high, double q) {
  const double lo = low - std::min(q, low / 2);
  const double span = std::log(high) - std::log(lo);
  std::map<double, double> pmf;
  for (std::int64_t k = grid_index(low, q); k <= grid_index(high, q); ++k) {
    const double a = std::max(lo, (k - 1) * q), b = std::min(high, k * q);
    pmf[grid_value(k, q)] = (std::log(b) - std::log(a)) / span;
  }
  return pmf;
}

TEST(SamplerRandom, EngineIsTheStandardMersenneTwister) {
  // [rand.predef]: the 10000th output of a default-constructed mt19937_64.
  Rng rng(5489u);
  std::uint64_t x = 0;
  for (int i = 0; i < 10000; ++i) x = rng.next();
  EXPECT_EQ(x, 9981545732273789042ULL);
}

TEST(SamplerRandom, StreamsArePinned) {
  // Fixed values: a change here changes every sample of every sweep.
  EXPECT_EQ(stream_seed(0, 0), 14944676671399597040ULL);
  EXPECT_EQ(stream_seed(1, 0), 7897923104574719199ULL);
  EXPECT_EQ(stream_seed(1, 1), 15487502717335573393ULL);
  Rng rng(stream_seed(42, 3));
  EXPECT_EQ(rng.next(), 17098192810381344512ULL);
  EXPECT_NEAR(rng.uniform01(), 0.150736, 1e-6);
  EXPECT_EQ(rng.uniform_index(1000), 596u);
}

TEST(SamplerRandom, DrawsArePinned) {
  Rng rng(7);
  std::vector<double> got;
  for (int i = 0; i < 3; ++i) got.push_back(draw(rng, RandType::kLogUniform, 8, 256, 8));
  for (int i = 0; i < 3; ++i) got.push_back(draw(rng, RandType::kLogUniform, 8.0, 256.0, 0.1));
  for (int i = 0; i < 3; ++i) got.push_back(draw(rng, RandType::kLogUniform, 2.0, 3.0, 0.001));
  const std::vector<double> want = {16, 8, 160, 11.6, 156.7, 211.4, 2.14, 2.082, 2.703};
  EXPECT_EQ(got, want);
}

TEST(SamplerRandom, StreamsDifferAcrossSeedsAndIndices) {
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 0; s < 50; ++s)
    for (std::uint64_t i = 0; i < 50; ++i) seeds.push_back(stream_seed(s, i));
  std::sort(seeds.begin(), seeds.end());
  EXPECT_EQ(std::unique(seeds.begin(), seeds.end()), seeds.end());
}

TEST(SamplerRandom, SameSeedSameDraws) {
  Rng a(123), b(123);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a.uniform01(), b.uniform01());
    ASSERT_EQ(a.uniform_index(37), b.uniform_index(37));
  }
}

TEST(SamplerRandom, Uniform01IsInTheUnitIntervalAndFits) {
  Rng rng(1);
  std::vector<double> u;
  for (int i = 0; i < kDraws; ++i) {
    u.push_back(rng.uniform01());
    ASSERT_GE(u.back(), 0.0);
    ASSERT_LT(u.back(), 1.0);
  }
  // Kolmogorov-Smirnov against U[0, 1).
  std::sort(u.begin(), u.end());
  double d = 0;
  for (int i = 0; i < kDraws; ++i)
    d = std::max({d, (i + 1.0) / kDraws - u[i], u[i] - static_cast<double>(i) / kDraws});
  EXPECT_LT(d, 1.949 / std::sqrt(kDraws));  // KS critical value at 0.001
}

TEST(SamplerRandom, UniformIndexIsUnbiased) {
  for (std::uint64_t n : {1u, 2u, 7u, 10u, 33u}) {
    Rng rng(n);
    std::map<double, int> counts;
    std::map<double, double> pmf;
    for (std::uint64_t k = 0; k < n; ++k) pmf[static_cast<double>(k)] = 1.0 / n;
    for (int i = 0; i < kDraws; ++i) ++counts[static_cast<double>(rng.uniform_index(n))];
    if (n == 1) {
      EXPECT_EQ(counts[0], kDraws);
      continue;
    }
    expect_fits(counts, pmf, kDraws, "uniform_index(" + std::to_string(n) + ")");
  }
  Rng rng(9);
  for (int i = 0; i < 1000; ++i) {
    const std::int64_t v = rng.uniform_int(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
  }
}

TEST(SamplerRandom, UniformOnTheGridFits) {
  // int: depth in [12, 28] (pycls regnet_sampler).
  std::map<double, double> pmf;
  for (int d = 12; d <= 28; ++d) pmf[d] = 1.0 / 17;
  expect_fits(histogram(RandType::kUniform, 12, 28, 1, 1), pmf, kDraws, "uniform int");
  // float with a decimal step: every multiple of 0.1 in [-0.5, 0.5], exactly.
  pmf.clear();
  for (int k = -5; k <= 5; ++k) pmf[grid_value(k, 0.1)] = 1.0 / 11;
  expect_fits(histogram(RandType::kUniform, -0.5, 0.5, 0.1, 2), pmf, kDraws, "uniform float");
}

TEST(SamplerRandom, UniformFloatWithAFineStepFitsKs) {
  Rng rng(3);
  const QuantizedRange range(RandType::kUniform, 2.0, 6.0, 1e-6);
  std::vector<double> x;
  for (int i = 0; i < kDraws; ++i) x.push_back(range.draw(rng));
  std::sort(x.begin(), x.end());
  ASSERT_GE(x.front(), 2.0);
  ASSERT_LE(x.back(), 6.0);
  double d = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double cdf = (x[i] - 2.0) / 4.0;
    d = std::max({d, (i + 1.0) / kDraws - cdf, cdf - static_cast<double>(i) / kDraws});
  }
  EXPECT_LT(d, 1.949 / std::sqrt(kDraws) + 1e-6);
}

TEST(SamplerRandom, LogUniformOnTheGridFitsPyclsLaw) {
  expect_fits(histogram(RandType::kLogUniform, 1, 16, 1, 4), log_uniform_pmf(1, 16, 1), kDraws,
              "log_uniform d in [1, 16]");
  expect_fits(histogram(RandType::kLogUniform, 8, 256, 8, 5), log_uniform_pmf(8, 256, 8), kDraws,
              "log_uniform w_0 in [8, 256] step 8");
  expect_fits(histogram(RandType::kLogUniform, 0.5, 4.0, 0.5, 6), log_uniform_pmf(0.5, 4.0, 0.5),
              kDraws, "log_uniform float step 0.5");
}

TEST(SamplerRandom, LogUniformFloatWithAFineStepFitsKs) {
  Rng rng(8);
  const double low = 8.0, high = 256.0, q = 0.1;  // w_a of pycls's regnet_sampler
  const QuantizedRange range(RandType::kLogUniform, low, high, q);
  std::vector<double> x;
  for (int i = 0; i < kDraws; ++i) x.push_back(range.draw(rng));
  std::sort(x.begin(), x.end());
  ASSERT_GE(x.front(), low);
  ASSERT_LE(x.back(), high);
  // Against the continuous law of f on (low - q, high]; rounding up by at
  // most q moves the CDF by less than log(1 + q / low) / span.
  const double lo = low - q, span = std::log(high / lo);
  double d = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double cdf = std::log(x[i] / lo) / span;
    d = std::max({d, (i + 1.0) / kDraws - cdf, cdf - static_cast<double>(i) / kDraws});
  }
  EXPECT_LT(d, 1.949 / std::sqrt(kDraws) + std::log(1 + q / low) / span);
}

TEST(SamplerRandom, DeferredDrawsTakeTheSameWordsAndGiveTheSameValues) {
  // The sampler draws log-uniform values in two steps (their exp taken only
  // when read): the same words from the engine, the same value in the end.
  const QuantizedRange ranges[] = {
      {RandType::kUniform, 12, 28, 1},
      {RandType::kLogUniform, 8.0, 256.0, 0.1},
      {RandType::kPower2, 1, 32, 1},
      {RandType::kPower2OrLogUniform, 1, 32, 8},  // powers below 8 kept, others redrawn
  };
  int pending_draws = 0;
  for (const QuantizedRange& range : ranges) {
    Rng whole(11), split(11);
    for (int i = 0; i < 1000; ++i) {
      bool pending = false;
      const double raw = range.draw_deferred(split, &pending);
      const double value = pending ? range.finish(raw) : raw;
      pending_draws += pending;
      ASSERT_EQ(range.draw(whole), value);
      ASSERT_EQ(whole.next(), split.next());
    }
  }
  EXPECT_GT(pending_draws, 1000);
}

TEST(SamplerRandom, PowerOfTwoExponentsAreUniform) {
  std::map<double, double> pmf;
  for (double v : {1, 2, 4, 8, 16, 32}) pmf[v] = 1.0 / 6;
  expect_fits(histogram(RandType::kPower2, 1, 32, 1, 10), pmf, kDraws, "power2 [1, 32]");
  pmf.clear();
  for (double v : {0.25, 0.5, 1.0}) pmf[v] = 1.0 / 3;
  expect_fits(histogram(RandType::kPower2, 0.25, 1.0, 0.25, 11), pmf, kDraws, "power2 [1/4, 1]");
}

TEST(SamplerRandom, PowerOfTwoOrLogUniformFollowsPycls) {
  // pycls GROUP_W [1, 32] with q 8 (its CIFAR sweep): 1, 2, 4 with 1/6 each;
  // the other half log-uniform on [8, 32] step 8.
  std::map<double, double> pmf;
  for (double v : {1, 2, 4}) pmf[v] = 1.0 / 6;
  for (const auto& [v, p] : log_uniform_pmf(8, 32, 8)) pmf[v] = p / 2;
  expect_fits(histogram(RandType::kPower2OrLogUniform, 1, 32, 8, 12), pmf, kDraws,
              "power2_or_log_uniform [1, 32] q 8");
  // [8, 128] with q 8 (regnet_sampler's default) is log-uniform on [8, 128].
  expect_fits(histogram(RandType::kPower2OrLogUniform, 8, 128, 8, 13), log_uniform_pmf(8, 128, 8),
              kDraws, "power2_or_log_uniform [8, 128] q 8");
}

TEST(SamplerRandom, GridValuesAreTheDecimalValues) {
  EXPECT_EQ(grid_value(3, 0.1), 0.3);
  EXPECT_EQ(grid_value(2612, 0.001), 2.612);
  EXPECT_EQ(grid_value(364, 0.1), 36.4);
  EXPECT_EQ(grid_value(1, 1.0 / 128), 0.0078125);
  EXPECT_EQ(grid_value(32, 8), 256);
  EXPECT_EQ(grid_index(0.3, 0.1), 3);
}

TEST(SamplerRandom, ValidateRangeRejectsImpossibleRanges) {
  const auto message = [](RandType t, double lo, double hi, double q, bool integer) {
    try {
      validate_range(t, lo, hi, q, integer, "params.x");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message(RandType::kUniform, 5, 1, 1, true).find("low > high"), std::string::npos);
  EXPECT_NE(message(RandType::kUniform, 1, 5, 0, true).find("q must be > 0"), std::string::npos);
  EXPECT_NE(message(RandType::kUniform, 1, 5, -1, true).find("params.x"), std::string::npos);
  EXPECT_NE(message(RandType::kUniform, 1, 10, 4, true).find("multiples"), std::string::npos);
  EXPECT_NE(message(RandType::kLogUniform, 0, 8, 1, true).find("low must be > 0"),
            std::string::npos);
  EXPECT_NE(message(RandType::kPower2, 3, 32, 1, true).find("powers of two"), std::string::npos);
  EXPECT_NE(message(RandType::kPower2, 2, 32, 4, true).find("q must be <= low"), std::string::npos);
  EXPECT_NE(message(RandType::kUniform, 0.5, 2, 0.5, true).find("whole"), std::string::npos);
  EXPECT_EQ(message(RandType::kUniform, -0.5, 0.5, 0.1, false), "");
  EXPECT_EQ(message(RandType::kPower2OrLogUniform, 1, 32, 8, true), "");
  EXPECT_THROW(rand_type_from_string("gaussian", "params.x.rand"), std::invalid_argument);
}

TEST(SamplerUnits, CountsWithSuffixes) {
  EXPECT_EQ(parse_count("200M", "x"), 200000000);
  EXPECT_EQ(parse_count("1.6G", "x"), 1600000000);
  EXPECT_EQ(parse_count("0.36G", "x"), 360000000);
  EXPECT_EQ(parse_count("5K", "x"), 5000);
  EXPECT_EQ(parse_count("5k", "x"), 5000);
  EXPECT_EQ(parse_count("2T", "x"), 2000000000000);
  EXPECT_EQ(parse_count("360000000", "x"), 360000000);
  EXPECT_EQ(parse_count("3.6e8", "x"), 360000000);
  EXPECT_EQ(parse_count("0", "x"), 0);
  for (const char* bad : {"", "abc", "5X", "5MM", "-1", "1e30", "M", " 5M"}) {
    try {
      parse_count(bad, "--flops");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--flops"), std::string::npos) << e.what();
    }
  }
}

TEST(SamplerUnits, Ranges) {
  CountRange r = parse_count_range("360M:400M", "--flops");
  EXPECT_EQ(r.lo, 360000000);
  EXPECT_EQ(r.hi, 400000000);
  r = parse_count_range("200M:", "--flops");
  EXPECT_EQ(r.lo, 200000000);
  EXPECT_EQ(r.hi, std::numeric_limits<std::int64_t>::max());
  r = parse_count_range(":5M", "--params");
  EXPECT_EQ(r.lo, 0);
  EXPECT_EQ(r.hi, 5000000);
  EXPECT_THROW(parse_count_range("400M:360M", "--flops"), std::invalid_argument);
  EXPECT_THROW(parse_count_range("400M", "--flops"), std::invalid_argument);
  EXPECT_THROW(parse_count_range(":", "--flops"), std::invalid_argument);
  EXPECT_THROW(parse_count_range("1:2:3", "--flops"), std::invalid_argument);
}

TEST(SamplerUnits, FormatCountRoundTrips) {
  EXPECT_EQ(format_count(400000000), "400M");
  EXPECT_EQ(format_count(1600000000), "1.6G");
  EXPECT_EQ(format_count(362500000), "362.5M");
  EXPECT_EQ(format_count(1234), "1.234K");
  EXPECT_EQ(format_count(12), "12");
  EXPECT_EQ(format_count(123456789), "123456789");
  for (std::int64_t v : {0LL, 1LL, 999LL, 1000LL, 1001LL, 360000000LL, 123456789LL})
    EXPECT_EQ(parse_count(format_count(v), "x"), v);
}

// The distribution helpers nds refine writes narrowed ranges with: the range
// moves on the distribution's own grid and is re-validated, and the JSON and
// text forms are the ones a space file and nds refine's table show.
TEST(SamplerDistributions, WithRangeMovesOnTheGridAndValidates) {
  const DesignSpace s = parse_design_space(
      {{"family", "regnet"},
       {"params",
        {{"depth", {{"dist", "int"}, {"low", 12}, {"high", 28}}},
         {"w_0", {{"dist", "int"}, {"rand", "log_uniform"}, {"low", 8}, {"high", 256}, {"q", 8}}},
         {"w_a", {{"dist", "float"}, {"low", 8.0}, {"high", 256.0}, {"q", 0.1}}},
         {"w_m", {{"dist", "float"}, {"low", 2.0}, {"high", 3.0}, {"q", 0.5}}},
         {"group_width", {{"dist", "choice"}, {"values", {8, 16, 32}}}},
         {"bottleneck_ratio", 1}}}},
      "dists");
  const ParamDist& w0 = s.params.at("w_0");
  const ParamDist narrowed = with_range(w0, 16, 64.4, "w_0");
  EXPECT_EQ(narrowed.low, 16);
  EXPECT_EQ(narrowed.high, 64);  // an int's ends are whole
  EXPECT_EQ(narrowed.rand, RandType::kLogUniform);
  EXPECT_EQ(to_json(narrowed),
            (nlohmann::json{
                {"dist", "int"}, {"rand", "log_uniform"}, {"low", 16}, {"high", 64}, {"q", 8}}));
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    const double v = narrowed.range.draw(rng);  // draws from the new range
    EXPECT_GE(v, 16);
    EXPECT_LE(v, 64);
  }
  EXPECT_EQ(range_text(narrowed), "[16, 64]");
  EXPECT_EQ(range_text(with_range(s.params.at("w_a"), 8.3, 30.1, "w_a")), "[8.3, 30.1]");
  EXPECT_EQ(range_text(s.params.at("group_width")), "[8,16,32]");
  EXPECT_EQ(range_text(s.params.at("bottleneck_ratio")), "1");
  // Off the grid, reversed, or not a number range: rejected, naming the key.
  try {
    with_range(w0, 12, 64, "w_0");
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("w_0", 0), 0u) << e.what();
  }
  EXPECT_THROW(with_range(s.params.at("w_m"), 3.0, 2.0, "w_m"), std::invalid_argument);
  EXPECT_THROW(with_range(s.params.at("group_width"), 8, 16, "g"), std::invalid_argument);
  // The JSON form of each distribution is what the space's JSON holds.
  const nlohmann::json whole = to_json(s);
  for (const auto& [key, d] : s.params) EXPECT_EQ(to_json(d), whole["params"][key]) << key;
}

}  // namespace
}  // namespace nds::sampler
