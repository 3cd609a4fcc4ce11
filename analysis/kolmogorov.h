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

// P(D_{n1,n2} >= d) for the two-sided two-sample statistic of n1 and n2
// models, exactly, under the permutation null (scipy.stats.ks_2samp
// (method='exact')): the share of lattice paths (0,0) -> (n1,n2) that leave
// the band |x/n1 - y/n2| < d. d is first rounded to the lattice, h / lcm(n1,
// n2) with h = round(d lcm), as scipy rounds it, so a D computed in floating
// point lands on its exact value. Equal sizes take the reflection formula
// (O(n)); others a column-by-column count of the band (Hodges; the shares
// recursion of Viehmann 2021, which never overflows).
double ks_2samp_exact_sf(long long n1, long long n2, double d);

// The steps ks_2samp_exact_sf(n1, n2, d) takes: about n for equal sizes,
// else the band's lattice cells, about max(n1,n2) (2 d min(n1,n2) + 1).
double ks_2samp_exact_cost(long long n1, long long n2, double d);

}  // namespace nds::analysis
