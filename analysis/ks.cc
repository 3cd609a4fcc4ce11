#include "analysis/ks.h"

#include <algorithm>
#include <cmath>

#include "analysis/kolmogorov.h"

namespace nds::analysis {

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
  // np.round(en) rounds half to even, as nearbyint does in the default mode.
  const long long n = std::max(1LL, static_cast<long long>(std::nearbyint(r.n_eff)));
  r.p_value = kolmogorov_n_sf(n, r.statistic);
  r.p_value_limit = kolmogorov_sf(r.statistic * std::sqrt(r.n_eff));
  return r;
}

}  // namespace nds::analysis
