#pragma once
// Distributions of Kolmogorov-Smirnov statistics, for p-values.

namespace nds::analysis {

// Kolmogorov's limiting distribution: P(K > x) for K = sup |Brownian bridge|,
// the limit of sqrt(n) D_n (scipy.stats.kstwobign.sf). Two theta-function
// series, each used where it converges fast; accurate to ~1e-15.
double kolmogorov_sf(double x);

// P(D_n >= d) for the two-sided one-sample statistic D_n with n samples
// (scipy.stats.kstwo.sf). Follows Simard & L'Ecuyer (2011): closed forms near
// the ends of the support, Durbin's matrix method (exact) for small n d^2,
// twice the one-sided tail where the two tails cannot both be exceeded (or
// nearly so), and the Pelz-Good expansion for large n. The regime boundaries
// are scipy's, so the p-values match scipy's to ~1e-10.
double kolmogorov_n_sf(long long n, double d);

// P(D_n^+ >= d) for the one-sided statistic (scipy.special.smirnov), by the
// Birnbaum-Tingey sum; for n > 10^6 the approximation exp(-(6nd+1)^2 / 18n).
double smirnov_sf(long long n, double d);

}  // namespace nds::analysis
