#pragma once
// Do two training recipes rank the same models alike? Given each model's
// error under recipe A and under recipe B (models paired by a key, the model
// hash), Spearman's rho and Kendall's tau-b with bootstrap 95% intervals, the
// overlap of the two top-k sets and the spread of the error difference: the
// check the NDS and RegNet papers made before trusting brief training.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nds::analysis {

// Errors of the models both sides trained, in one order: a[i] and b[i] are
// the same model. keys[i] names it (a model hash).
struct PairedErrors {
  std::vector<std::string> keys;
  std::vector<double> a;
  std::vector<double> b;
};

// Pairs the models of two sweeps by key. A key seen more than once on a side
// (the same model sampled twice) counts once, with its mean error there.
// Pairs come out sorted by key, so the result never depends on row order.
// Throws std::invalid_argument when keys and errors differ in length or an
// error is not finite.
PairedErrors pair_by_key(const std::vector<std::string>& keys_a,
                         const std::vector<double>& errors_a,
                         const std::vector<std::string>& keys_b,
                         const std::vector<double>& errors_b);

// Spearman's rho: Pearson's correlation of the average ranks (ties share
// the mean of their ranks), as scipy.stats.spearmanr. nullopt when fewer than
// 2 values or either side has all values equal (no ranking to compare).
std::optional<double> spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

// Kendall's tau-b (ties in x, in y and in both accounted for), as
// scipy.stats.kendalltau, in O(n log n). nullopt in the same cases as rho.
std::optional<double> kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

// The top k models of each side (lowest errors; equal errors go in key
// order) and how many of them the two sets share.
struct TopOverlap {
  size_t k = 0;
  size_t shared = 0;
};

// k = 10% of the pairs (rounded down), at least 1. Needs at least one pair.
TopOverlap top_overlap(const PairedErrors& pairs, double top_fraction = 0.10);

struct Interval {
  double low = 0;
  double high = 0;
};

// A rank correlation with its percentile-bootstrap interval. The interval is
// missing when too few resamples had a ranking on both sides.
struct Correlation {
  double value = 0;
  std::optional<Interval> ci;
};

struct RankAgreementOptions {
  int num_resamples = 2000;  // bootstrap resamples of the pairs
  std::uint64_t seed = 0;
  double top_fraction = 0.10;  // k of the top-k overlap, as a fraction of pairs
  double level = 0.95;         // the interval's coverage
  // How undefined_reason names the two sides ("sweep 'long'" in a report).
  std::string label_a = "sweep A";
  std::string label_b = "sweep B";
};

struct RankAgreement {
  size_t pairs = 0;
  // Empty when rho and tau are given; otherwise why not, in words (fewer
  // than 3 pairs, or one side's errors all equal).
  std::string undefined_reason;
  std::optional<Correlation> spearman;
  std::optional<Correlation> kendall;
  std::optional<TopOverlap> top;  // needs at least 3 pairs too
  double mean_difference = 0;     // mean of b - a (0 without pairs)
  double sd_difference = 0;       // its sample standard deviation (0 below 2 pairs)
};

// The whole comparison. Never NaN: what cannot be computed is missing and
// undefined_reason says why. Throws std::invalid_argument for bad options.
RankAgreement rank_agreement(const PairedErrors& pairs, const RankAgreementOptions& options = {});

}  // namespace nds::analysis
