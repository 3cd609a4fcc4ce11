#pragma once
// Empirical distribution function of model errors (NDS, Radosavovic et al.
// 2019): F(e) is the fraction of models with error < e, or, with
// weights, the total weight of those models.

#include <cstddef>
#include <vector>

namespace nds::analysis {

class Edf {
 public:
  // Every model weighs 1/n. Throws std::invalid_argument for no errors (an
  // empty sweep, or one whose trials all failed) or a non-finite error.
  explicit Edf(const std::vector<double>& errors);

  // Weighted: weights >= 0, one per error, with a positive sum; they are
  // normalized to sum 1. Models of weight 0 are left out (the normalized EDF
  // gives 0 to models outside its complexity range).
  Edf(const std::vector<double>& errors, const std::vector<double>& weights);

  // F(e): weight of the models with error < e.
  double operator()(double e) const;

  size_t size() const { return errors_.size(); }  // models with positive weight
  // n for an unweighted EDF; Kish's (sum w)^2 / sum w^2 for a weighted one.
  double effective_size() const { return effective_size_; }

  // Errors sorted ascending, and cumulative()[i] = weight of the first i of
  // them (size() + 1 entries, from 0 to exactly 1).
  const std::vector<double>& sorted_errors() const { return errors_; }
  const std::vector<double>& cumulative() const { return cumulative_; }

 private:
  std::vector<double> errors_;
  std::vector<double> cumulative_;
  double effective_size_ = 0;
};

// Random-search efficiency (NDS): the best error among m models drawn
// at random (with replacement) from the EDF's distribution, in closed form
// from P(best >= e) = (1 - F(e))^m.
struct EfficiencyPoint {
  int m = 0;                 // models drawn
  double expected_best = 0;  // E[min error]
  double best_p25 = 0;       // quantiles of the min error
  double best_median = 0;
  double best_p75 = 0;
};

// m = 1, 2, 4, ... up to max_m (>= 1).
std::vector<EfficiencyPoint> random_search_efficiency(const Edf& edf, int max_m);

}  // namespace nds::analysis
