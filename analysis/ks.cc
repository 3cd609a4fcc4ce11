#include "analysis/ks.h"

#include <algorithm>
#include <cmath>

#include "analysis/kolmogorov.h"

namespace nds::analysis {
namespace {

constexpr double kMaxExactSize = 10000;  // scipy's MAX_AUTO_N
// Past this many lattice cells (~0.1 s) a report keeps the asymptotic p;
// equal sizes (O(n)) and narrow bands stay well below it up to 10,000.
constexpr double kMaxExactCells = 1e7;

// Kish's size is the model count exactly when every weight is the same: an
// unweighted EDF, or a weighted one that is the same test. The tolerance
// absorbs the rounding of the weighted sums.
bool equal_weights(const Edf& e) {
  return e.effective_size() >= static_cast<double>(e.size()) * (1 - 1e-9);
}

bool exact_applies(const Edf& a, const Edf& b, double d) {
  if (!equal_weights(a) || !equal_weights(b)) return false;
  const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size());
  if (std::max(n1, n2) > kMaxExactSize) return false;
  const auto size = [](const Edf& e) { return static_cast<long long>(e.size()); };
  return ks_2samp_exact_cost(size(a), size(b), d) <= kMaxExactCells;
}

}  // namespace

double ks_asymptotic_p(double d, double n_eff) {
  // np.round(en) rounds half to even, as nearbyint does in the default mode.
  const long long n = std::max(1LL, static_cast<long long>(std::nearbyint(n_eff)));
  return kolmogorov_n_sf(n, d);
}

KsResult ks_2samp(const std::vector<double>& a, const std::vector<double>& b) {
  return ks_2samp(Edf(a), Edf(b));
}

KsResult ks_2samp(const Edf& a, const Edf& b) {
  const std::vector<double>& xa = a.sorted_errors();
  const std::vector<double>& xb = b.sorted_errors();
  const std::vector<double>& ca = a.cumulative();
  const std::vector<double>& cb = b.cumulative();
  // Walk the union of the sample values; after consuming every copy of a value
  // v, ca[ia] and cb[ib] are the right-continuous F's at v, and the sup over
  // all e is attained at one of these points.
  KsResult r;
  size_t ia = 0, ib = 0;
  while (ia < xa.size() || ib < xb.size()) {
    const double v = (ib == xb.size() || (ia < xa.size() && xa[ia] <= xb[ib])) ? xa[ia] : xb[ib];
    while (ia < xa.size() && xa[ia] == v) ++ia;
    while (ib < xb.size() && xb[ib] == v) ++ib;
    const double diff = std::fabs(ca[ia] - cb[ib]);
    if (diff > r.statistic) {
      r.statistic = diff;
      r.location = v;
    }
  }
  if (r.statistic == 0) r.location = xa.front();
  const double n1 = a.effective_size(), n2 = b.effective_size();
  r.n_eff = n1 * n2 / (n1 + n2);
  r.exact = exact_applies(a, b, r.statistic);
  r.p_value = r.exact ? ks_2samp_exact_sf(static_cast<long long>(a.size()),
                                          static_cast<long long>(b.size()), r.statistic)
                      : ks_asymptotic_p(r.statistic, r.n_eff);
  r.p_value_limit = kolmogorov_sf(r.statistic * std::sqrt(r.n_eff));
  return r;
}

}  // namespace nds::analysis
