#include "analysis/kolmogorov.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "analysis/check.h"

namespace nds::analysis {
namespace {

constexpr double kPi = 3.14159265358979323846264338327950288;
constexpr double kSqrt2Pi = 2.50662827463100050241576528481104525;
constexpr double kLn2 = 0.69314718055994530941723212145817657;
// exp() of anything below this is 0 in double precision (cephes MINLOG).
constexpr double kMinLog = -708.3964185322641;

double clip01(double p) {
  return std::min(1.0, std::max(0.0, p));
}

// log(n! / n^n): a direct sum for small n, Stirling's series otherwise (the
// n log n terms cancel analytically instead of numerically).
double log_factorial_over_power(long long n) {
  const double dn = static_cast<double>(n);
  if (n <= 20) {
    double s = 0;
    for (long long i = 1; i <= n; ++i) s += std::log(static_cast<double>(i) / dn);
    return s;
  }
  const double r = 1.0 / dn, r2 = r * r;
  const double series = r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 / 1680)));
  return 0.5 * std::log(2 * kPi * dn) - dn + series;
}

// Scales m so its largest magnitude lies in [0.5, 1), adding the power of two
// taken out to *exponent (H^n overflows a double long before n = 10^5).
void rescale(std::vector<double>& m, long long* exponent) {
  double largest = 0;
  for (double v : m) largest = std::max(largest, std::fabs(v));
  if (largest == 0) return;
  int e = 0;
  std::frexp(largest, &e);
  for (double& v : m) v = std::ldexp(v, -e);
  *exponent += e;
}

std::vector<double> multiply(const std::vector<double>& a, const std::vector<double>& b, size_t m) {
  std::vector<double> c(m * m, 0.0);
  for (size_t i = 0; i < m; ++i) {
    for (size_t l = 0; l < m; ++l) {
      const double a_il = a[i * m + l];
      if (a_il == 0) continue;
      const double* b_row = &b[l * m];
      double* c_row = &c[i * m];
      for (size_t j = 0; j < m; ++j) c_row[j] += a_il * b_row[j];
    }
  }
  return c;
}

// P(D_n < d) by Durbin's matrix formula (Marsaglia, Tsang & Wang 2003):
// with n d = k - h (k integer, 0 <= h < 1), P = n!/n^n (H^n)_{kk} for the
// (2k-1)x(2k-1) matrix H below. Cost O(k^3 log n); used only where k is small.
double durbin_cdf(long long n, double d) {
  const double nd = static_cast<double>(n) * d;
  const long long k = static_cast<long long>(std::ceil(nd));
  const double h = static_cast<double>(k) - nd;
  const size_t m = static_cast<size_t>(2 * k - 1);
  std::vector<double> inv_factorial(m + 1);
  inv_factorial[0] = 1;
  for (size_t i = 1; i <= m; ++i) inv_factorial[i] = inv_factorial[i - 1] / static_cast<double>(i);

  // h_ij = 1/(i-j+1)! on and below the superdiagonal; the first column and
  // last row lose the part of the band cut off by the boundary at h.
  std::vector<double> base(m * m, 0.0);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j <= std::min(i + 1, m - 1); ++j) base[i * m + j] = inv_factorial[i - j + 1];
  }
  for (size_t i = 0; i < m; ++i) {
    const double cut = 1.0 - std::pow(h, static_cast<double>(i + 1));
    base[i * m] = cut * inv_factorial[i + 1];
    base[(m - 1) * m + (m - 1 - i)] = cut * inv_factorial[i + 1];
  }
  const double corner = 1.0 - 2.0 * std::pow(h, static_cast<double>(m)) +
                        std::pow(std::max(0.0, 2.0 * h - 1.0), static_cast<double>(m));
  base[(m - 1) * m] = corner * inv_factorial[m];

  std::vector<double> result(m * m, 0.0);
  for (size_t i = 0; i < m; ++i) result[i * m + i] = 1;
  long long result_exp = 0, base_exp = 0;
  for (long long e = n; e > 0; e >>= 1) {
    if (e & 1) {
      result = multiply(result, base, m);
      result_exp += base_exp;
      rescale(result, &result_exp);
    }
    if (e > 1) {
      base = multiply(base, base, m);
      base_exp *= 2;
      rescale(base, &base_exp);
    }
  }
  const size_t kk = static_cast<size_t>(k - 1);
  const double value = result[kk * m + kk];
  if (value <= 0) return 0;
  const double log_p =
      std::log(value) + static_cast<double>(result_exp) * kLn2 + log_factorial_over_power(n);
  return clip01(std::exp(log_p));
}

// P(D_n <= x) by the Pelz-Good (1976) expansion K0 + K1/sqrt(n) + K2/n +
// K3/n^1.5 in z = x sqrt(n), each K_i written as theta-type sums that
// converge fast for small z.
double pelz_good_cdf(long long n, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double dn = static_cast<double>(n);
  const double z = std::sqrt(dn) * x;
  const double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2, z7 = z6 * z, z8 = z4 * z4;
  const double z10 = z8 * z2;
  const double log_q = -kPi * kPi / (8 * z2);
  if (log_q < kMinLog) return 0;
  const double pi2 = kPi * kPi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  const int k_max = static_cast<int>(std::ceil(16 * z / kPi)) + 2;

  // Sums over odd j = 2k - 1 of exp(-pi^2 j^2 / (8 z^2)) times polynomials.
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int k = k_max; k >= 1; --k) {  // smallest terms first
    const double j2 = static_cast<double>(2 * k - 1) * (2 * k - 1);
    const double j4 = j2 * j2, j6 = j4 * j2;
    const double e = std::exp(log_q * j2);
    s0 += e;
    s1 += (pi2 * j2 / 4 - z2) * e;
    s2 += (6 * z6 + 2 * z4 + pi2 * (2 * z4 - 5 * z2) * j2 / 4 + pi4 * (1 - 2 * z2) * j4 / 16) * e;
    s3 += (pi6 * (5 - 30 * z2) * j6 / 64 + pi4 * (-60 * z2 + 212 * z4) * j4 / 16 +
           pi2 * (135 * z4 - 96 * z6) * j2 / 4 - 30 * z6 - 90 * z8) *
          e;
  }
  // Sums over all k >= 1 of exp(-pi^2 k^2 / (2 z^2)) (the K2, K3 corrections).
  double t2 = 0, t3 = 0;
  for (int k = k_max; k >= 1; --k) {
    const double k2 = static_cast<double>(k) * k;
    const double e = std::exp(-pi2 * k2 / (2 * z2));
    t2 += k2 * e;
    t3 += (3 * z2 - pi2 * k2) * k2 * e;
  }
  const double k0 = kSqrt2Pi / z * s0;
  const double k1 = kSqrt2Pi / (6 * z4) * s1;
  const double k2 = kSqrt2Pi / (72 * z7) * s2 - pi2 * kSqrt2Pi / (36 * z3) * t2;
  const double k3 = kSqrt2Pi / (6480 * z10) * s3 + pi2 * kSqrt2Pi / (216 * z6) * t3;
  const double sqrt_n = std::sqrt(dn);
  return k0 + k1 / sqrt_n + k2 / dn + k3 / (dn * sqrt_n);
}

constexpr double kTinyShare = 1e-300;

// The lattice of two samples of n1 and n2 models: D = h / lcm(n1, n2).
struct Lattice {
  long long m = 0, n = 0;    // m >= n
  long long mg = 0, ng = 0;  // m / gcd, n / gcd
  long long h = 0;
};

Lattice lattice(const char* where, long long n1, long long n2, double d) {
  if (n1 < 1 || n2 < 1) {
    fail(where, "sizes must be >= 1, got " + std::to_string(n1) + " and " + std::to_string(n2));
  }
  if (!(d >= 0 && d <= 1)) fail(where, "d must lie in [0, 1], got " + format_value(d));
  Lattice l;
  l.m = std::max(n1, n2);
  l.n = std::min(n1, n2);
  const long long g = std::gcd(l.m, l.n);
  l.mg = l.m / g;
  l.ng = l.n / g;
  // np.round (half to even), as nearbyint in the default rounding mode.
  l.h = static_cast<long long>(std::nearbyint(d * static_cast<double>(l.mg * l.n)));
  return l;
}

// Two samples of n each: 2 sum_{k>=1} (-1)^(k-1) C(2n, n-kh) / C(2n, n) by
// the reflection principle, nested as 2 A0 (1 - A1 (1 - A2 (...))) with A_k
// the ratio of consecutive terms, so nothing large or cancelling is formed.
double equal_sizes_sf(long long n, long long h) {
  double p = 0;
  for (long long k = n / h; k >= 0; --k) {
    double ratio = 1;  // C(2n, n-(k+1)h) / C(2n, n-kh)
    for (long long j = 0; j < h; ++j) {
      ratio = static_cast<double>(n - k * h - j) * ratio / static_cast<double>(n + k * h + j + 1);
    }
    p = ratio * (1 - p);
  }
  return 2 * p;
}

long long floor_div(long long a, long long b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// Share of the paths (0,0) -> (m,n) that touch a cell with |ng x - mg y| >= h.
// col[y] holds, for the current column x, the share of the paths to (x,y)
// that have left the band: 1 outside it; inside, the average of its two
// predecessors weighted by the share of paths coming from each (x / (x+y)
// from the left, y / (x+y) from below). Only the band's cells are visited.
double unequal_sizes_sf(const Lattice& l) {
  const auto low = [&](long long x) {  // first cell inside the band
    return std::clamp(floor_div(l.ng * x - l.h, l.mg) + 1, 0LL, l.n);
  };
  const auto high = [&](long long x) {  // one past the last
    return std::min(floor_div(l.ng * x + l.h - 1, l.mg) + 1, l.n + 1);
  };
  std::vector<double> col(static_cast<size_t>(l.n) + 1, 1.0);
  std::fill(col.begin(), col.begin() + high(0), 0.0);
  for (long long x = 1; x <= l.m; ++x) {
    const long long lo = low(x), hi = high(x);
    if (hi <= lo) return 1;  // the band is closed: every path leaves
    const double dx = static_cast<double>(x);
    double below = lo > 0 ? 1.0 : 0.0;  // the cell under the band is outside
    for (long long y = lo; y < hi; ++y) {
      const double dy = static_cast<double>(y);
      below = (dx * col[static_cast<size_t>(y)] + dy * below) / (dx + dy);
      // Shares under 1e-300 change p by less than that, and as subnormals
      // they would slow each step tenfold.
      if (below < kTinyShare) below = 0;
      col[static_cast<size_t>(y)] = below;
    }
  }
  return col[static_cast<size_t>(l.n)];
}

}  // namespace

double ks_2samp_exact_sf(long long n1, long long n2, double d) {
  const Lattice l = lattice("ks_2samp_exact_sf", n1, n2, d);
  if (l.h == 0) return 1;
  return clip01(l.m == l.n ? equal_sizes_sf(l.n, l.h) : unequal_sizes_sf(l));
}

double ks_2samp_exact_cost(long long n1, long long n2, double d) {
  const Lattice l = lattice("ks_2samp_exact_cost", n1, n2, d);
  if (l.m == l.n) return static_cast<double>(l.n + l.h);
  const double width = std::min(static_cast<double>(l.n + 1),
                                2.0 * static_cast<double>(l.h) / static_cast<double>(l.mg) + 2);
  return static_cast<double>(l.m) * width;
}

double kolmogorov_sf(double x) {
  if (std::isnan(x)) fail("kolmogorov_sf", "x is nan");
  if (x <= 0) return 1;
  if (x <= 0.82) {
    // 1 - sqrt(2 pi)/x sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 x^2))
    const double log_u = -kPi * kPi / (8 * x * x);
    if (log_u < kMinLog) return 1;
    double sum = 0;
    for (int k = 1; k <= 50; ++k) {
      const double j = 2.0 * k - 1;
      const double term = std::exp(log_u * j * j);
      sum += term;
      if (term <= 1e-18 * sum) break;
    }
    return clip01(1.0 - kSqrt2Pi / x * sum);
  }
  // 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2)
  double sum = 0;
  for (int k = 1; k <= 50; ++k) {
    const double term = std::exp(-2.0 * k * k * x * x);
    sum += (k % 2 == 1) ? term : -term;
    if (term <= 1e-18 * std::fabs(sum)) break;
  }
  return clip01(2 * sum);
}

double smirnov_sf(long long n, double d) {
  const char* where = "smirnov_sf";
  if (n < 1) fail(where, "n must be >= 1, got " + std::to_string(n));
  if (std::isnan(d)) fail(where, "d is nan");
  if (d <= 0) return 1;
  if (d >= 1) return 0;
  if (n == 1) return 1 - d;
  const double dn = static_cast<double>(n);
  if (-2 * dn * d * d < kMinLog) return 0;
  if (n > 1000000) return std::exp(-std::pow(6 * dn * d + 1, 2) / (18 * dn));
  // d * sum_{j=0}^{floor(n(1-d))} C(n,j) (1 - d - j/n)^(n-j) (d + j/n)^(j-1); all
  // terms positive, summed in logs (C(n,j) overflows for large n).
  const long double nd = static_cast<long double>(dn) * d;
  const long double ln_n = std::log(static_cast<long double>(n));
  long double log_binomial = 0;  // log C(n, j)
  long double sum = 0;
  for (long long j = 0; j < n; ++j) {
    const long double below = static_cast<long double>(n - j) - nd;  // n (1 - d - j/n)
    if (below <= 0) break;
    const long double above = nd + static_cast<long double>(j);  // n (d + j/n)
    const long double log_term = log_binomial +
                                 static_cast<long double>(n - j) * (std::log(below) - ln_n) +
                                 static_cast<long double>(j - 1) * (std::log(above) - ln_n);
    sum += std::exp(log_term);
    log_binomial += std::log(static_cast<long double>(n - j) / static_cast<long double>(j + 1));
  }
  return clip01(static_cast<double>(sum * d));
}

double kolmogorov_n_sf(long long n, double d) {
  const char* where = "kolmogorov_n_sf";
  if (n < 1) fail(where, "n must be >= 1, got " + std::to_string(n));
  if (std::isnan(d)) fail(where, "d is nan");
  if (d >= 1) return 0;
  if (d <= 0) return 1;
  const double dn = static_cast<double>(n);
  const double t = dn * d;
  if (t <= 1) {
    // Ruben & Gambino: for 1/(2n) <= d <= 1/n, P(D_n < d) = n!/n^n (2t - 1)^n.
    if (t <= 0.5) return 1;
    return clip01(1 - std::exp(log_factorial_over_power(n) + dn * std::log(2 * t - 1)));
  }
  if (t >= dn - 1) return clip01(2 * std::pow(1 - d, dn));  // Ruben & Gambino
  // For d >= 0.5 both one-sided tails cannot be exceeded at once: exactly 2x.
  if (d >= 0.5) return clip01(2 * smirnov_sf(n, d));
  const double nd2 = t * d;
  if (n <= 140) {
    if (nd2 <= 4) return clip01(1 - durbin_cdf(n, d));
    return clip01(2 * smirnov_sf(n, d));
  }
  if (nd2 >= 370) return 0;
  if (nd2 >= 2.2) return clip01(2 * smirnov_sf(n, d));
  const double cdf =
      (n <= 100000 && dn * std::pow(d, 1.5) <= 1.4) ? durbin_cdf(n, d) : pelz_good_cdf(n, d);
  return clip01(1 - cdf);
}

}  // namespace nds::analysis
