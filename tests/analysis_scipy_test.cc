// analysis/ against scipy.stats (Debian python3-scipy) in the same test run:
// EDF values, the two-sample KS statistic and its p-values (exact, as
// ks_2samp(method='exact') and the default 'auto', and asymptotic, as
// method='asymp'), and the Kolmogorov distributions behind them.
// Skipped only when /usr/bin/python3 cannot import scipy.

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/edf.h"
#include "analysis/kolmogorov.h"
#include "analysis/ks.h"
#include "analysis/random.h"
#include "analysis/rank_agreement.h"
#include "tests/analysis_testing.h"

namespace nds::analysis {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

// Reads the cases written by the test and prints one line per result:
//   ks <case> <statistic> <asymp pvalue> <auto pvalue>
//   exact <case> <statistic> <exact pvalue> <auto pvalue> <fell back>
//     (fell back: 1 where scipy's exact count came out past 1 by a rounding
//     error, 1.0000000000000002 for p = 1, and scipy gave the asymptotic p)
//   edf <case> <value at each probe point>
//   limit <x> <kstwobign.sf(x)>
//   finite <n> <d> <kstwo.sf(d, n)>
//   smirnov <n> <d> <scipy.special.smirnov(n, d)>
//   rank <case> <spearmanr> <kendalltau> (tau-b; nan where undefined)
constexpr const char* kScript = R"PY(
import sys
import warnings
import numpy as np
from scipy import special, stats

lines = open(sys.argv[1]).read().split('\n')
i = 0
while i < len(lines):
    head = lines[i].split()
    i += 1
    if not head:
        continue
    if head[0] == 'case':
        c = head[1]
        a = np.array(lines[i].split(), dtype=float)
        b = np.array(lines[i + 1].split(), dtype=float)
        probes = np.array(lines[i + 2].split(), dtype=float)
        i += 3
        r = stats.ks_2samp(a, b, method='asymp')
        auto = stats.ks_2samp(a, b).pvalue
        print('ks', c, repr(float(r.statistic)), repr(float(r.pvalue)), repr(float(auto)))
        # F(e) = fraction of models with error < e
        f = np.searchsorted(np.sort(a), probes, side='left') / len(a)
        print('edf', c, ' '.join(repr(float(v)) for v in f))
    elif head[0] == 'exact':
        a = np.array(lines[i].split(), dtype=float)
        b = np.array(lines[i + 1].split(), dtype=float)
        i += 2
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            r = stats.ks_2samp(a, b, method='exact')
            auto = stats.ks_2samp(a, b, method='auto').pvalue
        fell_back = any('unsuccessful' in str(w.message) for w in caught)
        print('exact', head[1], repr(float(r.statistic)), repr(float(r.pvalue)), repr(float(auto)),
              int(fell_back))
    elif head[0] == 'limit':
        x = float(head[1])
        print('limit', head[1], repr(float(stats.kstwobign.sf(x))))
    elif head[0] == 'finite':
        n, d = int(head[1]), float(head[2])
        print('finite', head[1], head[2], repr(float(stats.kstwo.sf(d, n))))
    elif head[0] == 'smirnov':
        n, d = int(head[1]), float(head[2])
        print('smirnov', head[1], head[2], repr(float(special.smirnov(n, d))))
    elif head[0] == 'rank':
        x = np.array(lines[i].split(), dtype=float)
        y = np.array(lines[i + 1].split(), dtype=float)
        i += 2
        rho = stats.spearmanr(x, y)[0]
        tau = stats.kendalltau(x, y)[0]
        print('rank', head[1], repr(float(rho)), repr(float(tau)))
)PY";

bool python_has_scipy() {
  const std::string cmd = std::string(kPython) + " -c 'import scipy.stats' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::string text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

struct Case {
  std::vector<double> a, b, probes;
};

class ScipyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!python_has_scipy()) GTEST_SKIP() << kPython << " cannot import scipy";
    dir_ = std::filesystem::temp_directory_path() /
           ("nds_analysis_scipy_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  // Runs the script on `input`; returns its output lines, split into words.
  std::vector<std::vector<std::string>> run(const std::string& input) {
    const std::filesystem::path script = dir_ / "compare.py", data = dir_ / "input.txt";
    std::ofstream(script) << kScript;
    std::ofstream(data) << input;
    const std::string cmd = std::string(kPython) + " " + script.string() + " " + data.string();
    FILE* pipe = ::popen(cmd.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    std::string out;
    char buf[65536];
    size_t got = 0;
    while (pipe != nullptr && (got = std::fread(buf, 1, sizeof(buf), pipe)) > 0)
      out.append(buf, got);
    const int status = pipe != nullptr ? ::pclose(pipe) : -1;
    EXPECT_EQ(status, 0) << "python failed:\n" << out;
    std::vector<std::vector<std::string>> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::vector<std::string> w;
      for (std::string s; words >> s;) w.push_back(s);
      if (!w.empty()) lines.push_back(w);
    }
    return lines;
  }

  std::filesystem::path dir_;
};

TEST_F(ScipyTest, EdfAndKsMatchKs2samp) {
  // Sample sizes spanning every regime of the p-value (small and large n,
  // small and large D), distributions from identical to far apart, and
  // rounded samples with many ties.
  struct Spec {
    size_t n1, n2;
    double shift, scale;
    bool ties;
  };
  const std::vector<Spec> specs = {{5, 7, 0.0, 1, false},
                                   {8, 13, 0.5, 1, false},
                                   {50, 80, 0.0, 1, false},
                                   {50, 80, 0.4, 1, false},
                                   {137, 211, 0.1, 1.3, false},
                                   {300, 300, 0.0, 1, true},
                                   {300, 310, 0.2, 1, true},
                                   {120, 100, 3.0, 1, false},
                                   {1000, 1500, 0.05, 1, false},
                                   {1000, 1500, 0.3, 1, false},
                                   {2500, 4000, 0.0, 1, false},
                                   {2500, 4000, 1.0, 1, true},
                                   {20000, 30000, 0.0, 1, false},
                                   {20000, 30000, 0.03, 1, false},
                                   {60000, 60000, 0.008, 1, false},
                                   // scipy's default is exact up to 10,000 models a side: a
                                   // narrow band, equal sizes, a band too wide to count cheaply
                                   // (asymptotic here), and one side past 10,000.
                                   {9999, 10000, 0.02, 1, false},
                                   {10000, 10000, 0.05, 1, false},
                                   {9000, 10000, 1.0, 1, false},
                                   {10001, 50, 0.3, 1, false}};
  std::mt19937_64 rng(2024);
  std::vector<Case> cases;
  std::ostringstream input;
  for (size_t c = 0; c < specs.size(); ++c) {
    const Spec& s = specs[c];
    Case k;
    const auto draw = [&](double mean, double sd) {
      const double v = mean + sd * analysis_testing::standard_normal(rng);
      return s.ties ? std::round(v * 10) / 10 : v;
    };
    for (size_t i = 0; i < s.n1; ++i) k.a.push_back(draw(0, 1));
    for (size_t i = 0; i < s.n2; ++i) k.b.push_back(draw(s.shift, s.scale));
    // Probe the EDF at sample values (the jumps) and between them.
    for (size_t i = 0; i < std::min<size_t>(s.n1, 500); ++i) {
      k.probes.push_back(k.a[i]);
      k.probes.push_back(k.a[i] + 0.01);
    }
    k.probes.push_back(-100);
    k.probes.push_back(100);
    input << "case " << c << "\n";
    for (const auto* v : {&k.a, &k.b, &k.probes}) {
      for (double x : *v) input << text(x) << ' ';
      input << "\n";
    }
    cases.push_back(std::move(k));
  }
  const auto lines = run(input.str());
  size_t ks_seen = 0, edf_seen = 0, exact_seen = 0;
  double worst_d = 0, worst_p = 0;
  for (const auto& w : lines) {
    const size_t c = std::stoul(w.at(1));
    ASSERT_LT(c, cases.size());
    const Case& k = cases[c];
    if (w[0] == "ks") {
      ++ks_seen;
      const KsResult r = ks_2samp(k.a, k.b);
      const double d = std::stod(w.at(2)), p = std::stod(w.at(3)), auto_p = std::stod(w.at(4));
      EXPECT_NEAR(r.statistic, d, 1e-9) << "case " << c;
      const double asymptotic = ks_asymptotic_p(r.statistic, r.n_eff);
      EXPECT_NEAR(asymptotic, p, 1e-6) << "case " << c << " D=" << d;
      worst_d = std::max(worst_d, std::fabs(r.statistic - d));
      worst_p = std::max(worst_p, std::fabs(asymptotic - p));
      // Exact wherever scipy's default is, but for a lattice too costly to count.
      const size_t larger = std::max(k.a.size(), k.b.size());
      const bool costly = k.a.size() != k.b.size() && larger == 10000 && d > 0.3;
      EXPECT_EQ(r.exact, larger <= 10000 && !costly) << "case " << c;
      if (r.exact) {
        ++exact_seen;
        EXPECT_LE(std::fabs(r.p_value - auto_p), 1e-10 * auto_p + 1e-300) << "case " << c;
      } else {
        EXPECT_EQ(r.p_value, asymptotic) << "case " << c;
        if (larger > 10000) {
          EXPECT_NEAR(r.p_value, auto_p, 1e-6) << "case " << c;
        }
      }
      std::printf("case %2zu: n1=%zu n2=%zu D=%.6f p=%.6g (%s; scipy auto %.6g, asymp %.6g)\n", c,
                  k.a.size(), k.b.size(), d, r.p_value, r.exact ? "exact" : "asymptotic", auto_p,
                  p);
    } else if (w[0] == "edf") {
      ++edf_seen;
      const Edf edf(k.a);
      ASSERT_EQ(w.size() - 2, k.probes.size());
      for (size_t i = 0; i < k.probes.size(); ++i) {
        EXPECT_NEAR(edf(k.probes[i]), std::stod(w[i + 2]), 1e-9) << "case " << c << " probe " << i;
      }
    }
  }
  EXPECT_EQ(ks_seen, cases.size());
  EXPECT_EQ(edf_seen, cases.size());
  EXPECT_GT(exact_seen, 5u);
  std::printf("worst |diff| vs scipy: D %.3g, asymptotic p-value %.3g\n", worst_d, worst_p);
}

TEST_F(ScipyTest, ExactPValueMatchesKs2sampExact) {
  // Every pair of sizes from 1 to 60 in a sparse grid (equal and unequal,
  // coprime and not), samples from identical to disjoint (D = 1), values
  // continuous or on a coarse grid (ties within and across the samples), and
  // interleaved samples (p near 1).
  const std::vector<size_t> sizes = {1, 2, 3, 5, 6, 7, 10, 12, 13, 20, 31, 44, 60};
  std::mt19937_64 rng(11);
  std::vector<std::pair<std::vector<double>, std::vector<double>>> cases;
  for (size_t n1 : sizes) {
    for (size_t n2 : sizes) {
      for (int kind = 0; kind < 5; ++kind) {
        std::vector<double> a, b;
        const double shift = kind == 1 ? 0.7 : kind == 2 ? 100 : 0;
        for (size_t i = 0; i < n1; ++i) a.push_back(analysis_testing::standard_normal(rng));
        for (size_t i = 0; i < n2; ++i) b.push_back(shift + analysis_testing::standard_normal(rng));
        if (kind == 3) {  // ties within and across
          for (auto* v : {&a, &b})
            for (double& x : *v) x = std::round(x * 2) / 2;
        }
        if (kind == 4) {  // interleaved: i / n1 against (j + 0.5) / n2
          for (size_t i = 0; i < n1; ++i) a[i] = static_cast<double>(i) / n1;
          for (size_t j = 0; j < n2; ++j) b[j] = (j + 0.5) / n2;
        }
        cases.emplace_back(a, b);
      }
    }
  }
  std::ostringstream input;
  for (size_t c = 0; c < cases.size(); ++c) {
    input << "exact " << c << "\n";
    for (const auto* v : {&cases[c].first, &cases[c].second}) {
      for (double x : *v) input << text(x) << ' ';
      input << "\n";
    }
  }
  size_t seen = 0, fell_back = 0;
  double worst = 0;
  for (const auto& w : run(input.str())) {
    ASSERT_EQ(w.at(0), "exact");
    const size_t c = std::stoul(w.at(1));
    ASSERT_LT(c, cases.size());
    ++seen;
    const auto& [a, b] = cases[c];
    const KsResult r = ks_2samp(a, b);
    const double d = std::stod(w.at(2)), p = std::stod(w.at(3)), auto_p = std::stod(w.at(4));
    EXPECT_TRUE(r.exact) << "case " << c;
    EXPECT_NEAR(r.statistic, d, 1e-12) << "case " << c;
    EXPECT_EQ(p, auto_p) << "case " << c << ": scipy's default is exact at these sizes";
    if (w.at(5) == "1") {
      // scipy's count, 1 + 2^-52, failed its [0, 1] check; ours is clipped to 1.
      ++fell_back;
      EXPECT_EQ(r.p_value, 1) << "case " << c << " n1=" << a.size() << " n2=" << b.size();
      continue;
    }
    const double rel = std::fabs(r.p_value - p) / std::max(p, 1e-300);
    worst = std::max(worst, rel);
    EXPECT_LT(rel, 1e-10) << "case " << c << " n1=" << a.size() << " n2=" << b.size() << " D=" << d
                          << " p=" << r.p_value << " scipy " << p;
  }
  EXPECT_EQ(seen, cases.size());
  EXPECT_LT(fell_back, seen / 10);
  std::printf(
      "%zu cases (%zu where scipy fell back), worst relative |diff| vs scipy's exact p-value "
      "%.3g\n",
      seen, fell_back, worst);
  // 6 against 6 disjoint models: 2 of the C(12, 6) orders are as extreme.
  EXPECT_NEAR(ks_2samp({1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}).p_value, 2.0 / 924, 1e-15);
}

TEST_F(ScipyTest, KolmogorovDistributionsMatch) {
  std::ostringstream input;
  std::vector<double> xs;
  for (int i = 1; i <= 300; ++i) xs.push_back(0.01 * i);
  for (double x : xs) input << "limit " << text(x) << "\n";
  // kstwo.sf(d, n) over n and d, crossing every regime boundary of scipy's
  // _kolmogn (n <= 140 or not, n d^2 against 0.754693, 2.2, 4, 18, 370,
  // n d^1.5 against 1.4, d against 1/n and 1 - 1/n, d >= 0.5).
  const std::vector<long long> ns = {1,   2,   3,   5,    10,    30,     100,
                                     140, 141, 500, 2000, 20000, 100000, 150000};
  int finite = 0;
  for (long long n : ns) {
    const double dn = static_cast<double>(n);
    std::vector<double> ds = {0.3 / dn, 0.75 / dn, 1.5 / dn, 0.5, 0.7, 1 - 0.5 / dn};
    // scipy's own evaluation is slow for large n: fewer points there.
    const bool large = n >= 20000;
    const std::vector<double> zs =
        n > 20000 ? std::vector<double>{0.5, 1.0, 1.6}
        : large   ? std::vector<double>{0.5, 1.0, 1.6, 3.0}
                  : std::vector<double>{0.3, 0.6, 0.8, 1.0, 1.2, 1.5, 1.9, 2.1, 3.0, 5.0, 15.0};
    const std::vector<double> vs =
        large ? std::vector<double>{1.0, 1.4} : std::vector<double>{0.5, 1.0, 1.4, 2.0};
    for (double z : zs) ds.push_back(z / std::sqrt(dn));
    for (double v : vs) ds.push_back(std::pow(v / dn, 2.0 / 3.0));
    for (double d : ds) {
      if (d <= 0 || d >= 1) continue;
      input << "finite " << n << " " << text(d) << "\n";
      if (n <= 2000) input << "smirnov " << n << " " << text(d) << "\n";
      ++finite;
    }
  }
  const auto lines = run(input.str());
  int limit_seen = 0, finite_seen = 0, smirnov_seen = 0;
  double worst_limit = 0, worst_finite = 0;
  for (const auto& w : lines) {
    if (w[0] == "limit") {
      ++limit_seen;
      const double x = std::stod(w.at(1));
      const double diff = std::fabs(kolmogorov_sf(x) - std::stod(w.at(2)));
      worst_limit = std::max(worst_limit, diff);
      EXPECT_LT(diff, 1e-10) << "x=" << x;
    } else if (w[0] == "finite") {
      ++finite_seen;
      const long long n = std::stoll(w.at(1));
      const double d = std::stod(w.at(2));
      const double diff = std::fabs(kolmogorov_n_sf(n, d) - std::stod(w.at(3)));
      worst_finite = std::max(worst_finite, diff);
      EXPECT_LT(diff, 1e-6) << "n=" << n << " d=" << d;
    } else if (w[0] == "smirnov") {
      ++smirnov_seen;
      const long long n = std::stoll(w.at(1));
      const double d = std::stod(w.at(2));
      EXPECT_NEAR(smirnov_sf(n, d), std::stod(w.at(3)), 1e-9) << "n=" << n << " d=" << d;
    }
  }
  EXPECT_EQ(limit_seen, static_cast<int>(xs.size()));
  EXPECT_EQ(finite_seen, finite);
  EXPECT_GT(smirnov_seen, 0);
  std::printf("worst |diff| vs scipy: kstwobign.sf %.3g, kstwo.sf %.3g\n", worst_limit,
              worst_finite);
}

}  // namespace
}  // namespace nds::analysis

namespace nds::analysis {
namespace {

TEST_F(ScipyTest, RankCorrelationsMatchSpearmanrAndKendalltau) {
  // Sizes from the smallest defined case up; continuous values, values
  // rounded to a few levels (many ties on each side and joint ties), exact
  // and reversed orders, and sides whose values are all equal (undefined:
  // scipy's nan, our nullopt).
  struct Spec {
    size_t n;
    double coupling;  // y = coupling * x + noise
    double step;      // rounding step; 0 keeps values continuous
  };
  const std::vector<Spec> specs = {{2, 1, 0},      {3, 0.5, 0},        {5, 0.8, 0.5},
                                   {10, 0.3, 0},   {10, 1, 1},         {40, 0.9, 0.25},
                                   {40, -0.7, 0},  {200, 0.5, 0.1},    {200, 0, 1},
                                   {1000, 0.6, 0}, {1000, 0.95, 0.05}, {3000, 0.2, 0.5}};
  std::mt19937_64 rng(7);
  std::vector<std::pair<std::vector<double>, std::vector<double>>> cases;
  for (const Spec& s : specs) {
    std::vector<double> x, y;
    for (size_t i = 0; i < s.n; ++i) {
      const double u = analysis_testing::standard_normal(rng);
      double v = s.coupling * u + std::sqrt(1 - std::min(1.0, s.coupling * s.coupling)) *
                                      analysis_testing::standard_normal(rng);
      double w = u;
      if (s.step > 0) {
        w = std::round(w / s.step) * s.step;
        v = std::round(v / s.step) * s.step;
      }
      x.push_back(w);
      y.push_back(v);
    }
    cases.emplace_back(x, y);
  }
  std::vector<double> ramp;
  for (int i = 0; i < 30; ++i) ramp.push_back(i % 7);
  std::vector<double> reversed(ramp.rbegin(), ramp.rend());
  cases.emplace_back(ramp, ramp);
  cases.emplace_back(ramp, reversed);
  cases.emplace_back(ramp, std::vector<double>(ramp.size(), 0.25));
  std::ostringstream input;
  for (size_t c = 0; c < cases.size(); ++c) {
    input << "rank " << c << "\n";
    for (const auto* v : {&cases[c].first, &cases[c].second}) {
      for (double x : *v) input << text(x) << ' ';
      input << "\n";
    }
  }
  size_t seen = 0;
  for (const auto& w : run(input.str())) {
    ASSERT_EQ(w.at(0), "rank");
    const size_t c = std::stoul(w.at(1));
    ASSERT_LT(c, cases.size());
    ++seen;
    const auto& [x, y] = cases[c];
    const double rho = std::stod(w.at(2)), tau = std::stod(w.at(3));
    const auto our_rho = spearman_rho(x, y);
    const auto our_tau = kendall_tau_b(x, y);
    ASSERT_EQ(our_rho.has_value(), !std::isnan(rho)) << "case " << c;
    ASSERT_EQ(our_tau.has_value(), !std::isnan(tau)) << "case " << c;
    if (our_rho) {
      EXPECT_NEAR(*our_rho, rho, 1e-12) << "case " << c << " n=" << x.size();
    }
    if (our_tau) {
      EXPECT_NEAR(*our_tau, tau, 1e-12) << "case " << c << " n=" << x.size();
    }
  }
  EXPECT_EQ(seen, cases.size());
}

}  // namespace
}  // namespace nds::analysis
