// analysis/rank_agreement: pairing by key, the cases without a number, the
// top-k overlap and the bootstrap intervals. Agreement with scipy's
// spearmanr/kendalltau is in analysis_scipy_test.

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/rank_agreement.h"

namespace nds::analysis {
namespace {

TEST(RankAgreement, PairsByKeyNotByPosition) {
  const PairedErrors p = pair_by_key({"m3", "m1", "m2", "only_a"}, {0.3, 0.1, 0.2, 0.9},
                                     {"m2", "only_b", "m1", "m3"}, {0.25, 0.5, 0.15, 0.35});
  EXPECT_EQ(p.keys, (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(p.a, (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_EQ(p.b, (std::vector<double>{0.15, 0.25, 0.35}));
}

TEST(RankAgreement, AModelSampledTwiceCountsOnceWithItsMeanError) {
  const PairedErrors p = pair_by_key({"m1", "m1", "m2"}, {0.1, 0.3, 0.4}, {"m1", "m2"}, {0.2, 0.5});
  ASSERT_EQ(p.keys.size(), 2u);
  EXPECT_DOUBLE_EQ(p.a[0], 0.2);
}

TEST(RankAgreement, RefusesMismatchedOrNonFiniteInput) {
  EXPECT_THROW(pair_by_key({"a"}, {}, {}, {}), std::invalid_argument);
  EXPECT_THROW(pair_by_key({"a"}, {NAN}, {"a"}, {0.1}), std::invalid_argument);
  EXPECT_THROW(rank_agreement({{"a"}, {0.1, 0.2}, {0.3}}), std::invalid_argument);
  RankAgreementOptions bad;
  bad.num_resamples = 0;
  EXPECT_THROW(rank_agreement({}, bad), std::invalid_argument);
}

void expect_no_nan(const RankAgreement& r) {
  EXPECT_FALSE(std::isnan(r.mean_difference));
  EXPECT_FALSE(std::isnan(r.sd_difference));
}

TEST(RankAgreement, FewerThanThreePairsSayWhy) {
  for (size_t n : {0u, 1u, 2u}) {
    PairedErrors p;
    for (size_t i = 0; i < n; ++i) {
      p.keys.push_back("m" + std::to_string(i));
      p.a.push_back(0.1 * static_cast<double>(i));
      p.b.push_back(0.2 * static_cast<double>(i));
    }
    const RankAgreement r = rank_agreement(p);
    EXPECT_EQ(r.pairs, n);
    EXPECT_NE(r.undefined_reason.find("at least 3"), std::string::npos) << r.undefined_reason;
    EXPECT_FALSE(r.spearman);
    EXPECT_FALSE(r.kendall);
    EXPECT_FALSE(r.top);
    expect_no_nan(r);
  }
}

TEST(RankAgreement, AllTiedErrorsSayWhy) {
  const PairedErrors p{{"a", "b", "c", "d"}, {0.1, 0.2, 0.3, 0.4}, {0.5, 0.5, 0.5, 0.5}};
  const RankAgreement r = rank_agreement(p);
  EXPECT_NE(r.undefined_reason.find("same error in sweep B"), std::string::npos)
      << r.undefined_reason;
  EXPECT_FALSE(r.spearman);
  EXPECT_FALSE(r.kendall);
  EXPECT_FALSE(spearman_rho(p.b, p.a));
  EXPECT_FALSE(kendall_tau_b(p.a, p.b));
  expect_no_nan(r);
  EXPECT_DOUBLE_EQ(r.mean_difference, 0.25);
}

TEST(RankAgreement, TopOverlapUsesTenPercentAtLeastOne) {
  PairedErrors p;
  for (int i = 0; i < 25; ++i) {
    p.keys.push_back("m" + std::to_string(100 + i));
    p.a.push_back(i);
    p.b.push_back(-i);  // reversed: the best of A are the worst of B
  }
  TopOverlap top = top_overlap(p);
  EXPECT_EQ(top.k, 2u);
  EXPECT_EQ(top.shared, 0u);
  p.b = p.a;
  EXPECT_EQ(top_overlap(p).shared, 2u);
  p.keys.resize(5), p.a.resize(5), p.b.resize(5);
  EXPECT_EQ(top_overlap(p).k, 1u);
  // Ties at the boundary go in key order on both sides.
  p.a = {0.1, 0.1, 0.1, 0.2, 0.3};
  p.b = {0.3, 0.1, 0.1, 0.1, 0.2};
  EXPECT_EQ(top_overlap(p).shared, 0u);
  p.b = {0.1, 0.3, 0.1, 0.1, 0.2};
  EXPECT_EQ(top_overlap(p).shared, 1u);
}

TEST(RankAgreement, BootstrapIntervalsBracketTheValueAndFollowTheSeed) {
  PairedErrors p;
  for (int i = 0; i < 60; ++i) {
    p.keys.push_back("m" + std::to_string(i));
    p.a.push_back(0.2 + 0.003 * i);
    p.b.push_back(0.25 + 0.003 * i + 0.02 * std::sin(i * 1.7));  // noisy, same trend
  }
  RankAgreementOptions o;
  o.num_resamples = 500;
  o.seed = 11;
  const RankAgreement r = rank_agreement(p, o);
  ASSERT_TRUE(r.undefined_reason.empty());
  ASSERT_TRUE(r.spearman && r.spearman->ci);
  ASSERT_TRUE(r.kendall && r.kendall->ci);
  EXPECT_GT(r.spearman->value, 0.8);
  EXPECT_LE(r.spearman->ci->low, r.spearman->value);
  EXPECT_GE(r.spearman->ci->high, r.spearman->value);
  EXPECT_LE(r.kendall->ci->low, r.kendall->value);
  EXPECT_GE(r.kendall->ci->high, r.kendall->value);
  EXPECT_LE(r.kendall->ci->high, 1.0);
  EXPECT_NEAR(r.mean_difference, 0.05, 0.01);
  EXPECT_GT(r.sd_difference, 0);
  const RankAgreement again = rank_agreement(p, o);
  EXPECT_EQ(again.spearman->ci->low, r.spearman->ci->low);
  EXPECT_EQ(again.kendall->ci->high, r.kendall->ci->high);
  o.seed = 12;
  EXPECT_NE(rank_agreement(p, o).spearman->ci->low, r.spearman->ci->low);
}

TEST(RankAgreement, PerfectAgreementHasUnitCorrelations) {
  const PairedErrors p{{"a", "b", "c", "d", "e"}, {0.1, 0.2, 0.2, 0.4, 0.5}, {1, 2, 2, 4, 5}};
  const RankAgreement r = rank_agreement(p);
  ASSERT_TRUE(r.spearman && r.kendall);
  EXPECT_DOUBLE_EQ(r.spearman->value, 1.0);
  EXPECT_DOUBLE_EQ(r.kendall->value, 1.0);
}

}  // namespace
}  // namespace nds::analysis
