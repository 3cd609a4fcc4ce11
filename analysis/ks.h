#pragma once
// Two-sample Kolmogorov-Smirnov comparison of design spaces (NDS):
// D = sup_e |F1(e) - F2(e)| between two (possibly weighted) EDFs.

#include <vector>

#include "analysis/edf.h"

namespace nds::analysis {

struct KsResult {
  double statistic = 0;  // D
  // Two-sided p-value, as scipy.stats.ks_2samp's default (method='auto')
  // computes it where it can: exact (ks_2samp_exact_sf) when every model of
  // each sample weighs the same, neither holds more than 10,000 models
  // (scipy's MAX_AUTO_N) and the count stays cheap (see ks.cc); otherwise
  // asymptotic, ks_asymptotic_p.
  double p_value = 1;
  bool exact = false;  // which of the two p_value is
  // Kolmogorov's limit instead: P(K > D sqrt(en)) (scipy.stats.kstwobign.sf).
  double p_value_limit = 1;
  // An error at which the sup is attained, F's taken just above it.
  double location = 0;
  // en = n1 n2 / (n1 + n2). For weighted EDFs n1, n2 are their effective
  // (Kish) sizes, so unequal weights count as fewer models.
  double n_eff = 0;
};

// scipy.stats.ks_2samp(method='asymp')'s p-value: P(D_n >= d) for n =
// round(n_eff) (scipy.stats.kstwo.sf), with n at least 1 (scipy gives nan for
// two single-model samples).
double ks_asymptotic_p(double d, double n_eff);

// Throws std::invalid_argument for an empty or non-finite sample.
KsResult ks_2samp(const std::vector<double>& a, const std::vector<double>& b);
KsResult ks_2samp(const Edf& a, const Edf& b);

}  // namespace nds::analysis
