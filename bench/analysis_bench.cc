// Speed of the analysis library: EDF + complexity-normalized EDF + a
// 10,000-resample bootstrap over 100,000 models, on one core, beside the same
// analysis in NumPy (bench/analysis_reference.py, run with /usr/bin/python3).
// Target: the C++ analysis under 1 s. Exits 0 whatever the timings.
//
// Usage: analysis_bench [--no-literal] [path/to/analysis_reference.py]

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/bootstrap.h"
#include "analysis/edf.h"
#include "analysis/normalized_edf.h"
#include "analysis/random.h"

#ifndef NDS_SOURCE_DIR
#define NDS_SOURCE_DIR "."
#endif

namespace {

using nds::analysis::BootstrapMethod;
using nds::analysis::BootstrapOptions;
using nds::analysis::ComplexityBins;
using nds::analysis::Edf;
using nds::analysis::GoodRange;

constexpr size_t kModels = 100000;
constexpr int kResamples = 10000;
constexpr double kFraction = 0.25;
constexpr int kBins = 10;
constexpr int kGridPoints = 1000;
constexpr int kRepeats = 5;

struct Data {
  std::vector<double> errors, flops, param;
};

// Standard normal noise: Box-Muller on two uniform01 draws (the same numbers
// with every standard library).
double standard_normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - nds::analysis::uniform01(rng);  // (0, 1], so the log is finite
  const double u2 = nds::analysis::uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925286766559 * u2);
}

// A synthetic sweep: log-uniform flops over two decades, a parameter on a
// 0.05 grid with an optimum at 2.2, and noise.
Data make_data() {
  std::mt19937_64 rng(12345);
  Data d;
  for (size_t i = 0; i < kModels; ++i) {
    const double u = nds::analysis::uniform01(rng);
    const double p = 1.5 + 0.05 * static_cast<double>(nds::analysis::uniform_index(rng, 31));
    d.flops.push_back(1e8 * std::pow(100.0, u));
    d.param.push_back(p);
    d.errors.push_back(35 - 8 * u + 20 * (p - 2.2) * (p - 2.2) + 0.5 * standard_normal(rng));
  }
  return d;
}

struct Result {
  std::vector<double> edf, normalized_edf;
  GoodRange good_param, good_flops;
};

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// F at each grid point.
std::vector<double> evaluate(const Edf& edf, const std::vector<double>& grid) {
  std::vector<double> out;
  out.reserve(grid.size());
  for (double e : grid) out.push_back(edf(e));
  return out;
}

// The analysis being timed, with its stages' times added to `stage_ms`.
Result analyze(const Data& d, BootstrapMethod method, std::vector<double>* stage_ms) {
  Result r;
  auto t = std::chrono::steady_clock::now();
  const auto [lo_e, hi_e] = std::minmax_element(d.errors.begin(), d.errors.end());
  std::vector<double> grid(kGridPoints);
  for (int i = 0; i < kGridPoints; ++i) {
    grid[static_cast<size_t>(i)] = *lo_e + (*hi_e - *lo_e) * i / (kGridPoints - 1);
  }
  const Edf edf(d.errors);
  r.edf = evaluate(edf, grid);
  (*stage_ms)[0] += ms_since(t);

  t = std::chrono::steady_clock::now();
  const auto [lo_c, hi_c] = std::minmax_element(d.flops.begin(), d.flops.end());
  const nds::analysis::NormalizedEdf nedf =
      nds::analysis::normalized_edf(d.errors, d.flops, ComplexityBins{*lo_c, *hi_c, kBins});
  r.normalized_edf = evaluate(nedf.edf, grid);
  (*stage_ms)[1] += ms_since(t);

  t = std::chrono::steady_clock::now();
  BootstrapOptions options;
  options.num_resamples = kResamples;
  options.fraction = kFraction;
  options.method = method;
  const std::vector<size_t> best = nds::analysis::bootstrap_best_models(d.errors, options);
  r.good_param = nds::analysis::good_range(best, d.param, options);
  r.good_flops = nds::analysis::good_range(best, d.flops, options);
  (*stage_ms)[2] += ms_since(t);
  return r;
}

std::vector<double> numbers(const std::string& line) {
  std::istringstream in(line);
  std::vector<double> v;
  for (double x; in >> x;) v.push_back(x);
  return v;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// Runs the NumPy reference; returns its "key values" lines, or empty on failure.
std::map<std::string, std::string> run_reference(const Data& d, const std::string& script,
                                                 bool literal) {
  const std::filesystem::path data = std::filesystem::temp_directory_path() /
                                     ("nds_analysis_bench_" + std::to_string(::getpid()) + ".bin");
  {
    std::ofstream out(data, std::ios::binary);
    const std::int64_t n = static_cast<std::int64_t>(d.errors.size());
    out.write(reinterpret_cast<const char*>(&n), sizeof(n));
    for (const auto* v : {&d.errors, &d.flops, &d.param}) {
      out.write(reinterpret_cast<const char*>(v->data()),
                static_cast<std::streamsize>(v->size() * sizeof(double)));
    }
  }
  // One core for NumPy too (BLAS is not used, but keep it honest).
  const std::string cmd =
      "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "
      "/usr/bin/python3 " +
      script + " " + data.string() + " " + std::to_string(kResamples) + " " +
      std::to_string(kFraction) + " " + std::to_string(kBins) + " " + std::to_string(kGridPoints) +
      (literal ? "" : " --no-literal") + " 2>&1";
  std::map<std::string, std::string> out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return out;
  std::string text;
  char buf[65536];
  for (size_t got; (got = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) text.append(buf, got);
  const int status = ::pclose(pipe);
  std::error_code ec;
  std::filesystem::remove(data, ec);
  if (status != 0) {
    std::printf("NumPy reference failed (status %d):\n%s\n", status, text.c_str());
    return {};
  }
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t space = line.find(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool literal = true;
  std::string script = std::string(NDS_SOURCE_DIR) + "/bench/analysis_reference.py";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--no-literal") {
      literal = false;
    } else {
      script = arg;
    }
  }
  const Data data = make_data();
  std::printf(
      "analysis bench: %zu models, bootstrap B=%d resamples of %.0f%%, K=%d complexity "
      "bins, EDFs on %d points\n",
      kModels, kResamples, kFraction * 100, kBins, kGridPoints);

  // Median of kRepeats runs of the whole analysis.
  std::vector<double> totals;
  std::vector<double> stage_ms(3, 0.0);
  Result result;
  for (int rep = 0; rep < kRepeats; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    result = analyze(data, BootstrapMethod::kOrderStatistic, &stage_ms);
    totals.push_back(ms_since(start));
  }
  std::sort(totals.begin(), totals.end());
  const double cpp_ms = totals[totals.size() / 2];
  std::printf("C++ stages (mean of %d): EDF %.2f ms, normalized EDF %.2f ms, bootstrap %.2f ms\n",
              kRepeats, stage_ms[0] / kRepeats, stage_ms[1] / kRepeats, stage_ms[2] / kRepeats);

  double cpp_literal_ms = -1;
  Result literal_result;
  if (literal) {
    std::vector<double> ignored(3, 0.0);
    const auto start = std::chrono::steady_clock::now();
    literal_result = analyze(data, BootstrapMethod::kResample, &ignored);
    cpp_literal_ms = ms_since(start);
  }

  const std::map<std::string, std::string> ref = run_reference(data, script, literal);
  const auto ref_ms = [&](const char* key) {
    const auto it = ref.find(key);
    return it == ref.end() ? -1.0 : std::atof(it->second.c_str());
  };
  const double numpy_ms = ref_ms("numpy_ms"), numpy_literal_ms = ref_ms("numpy_literal_ms");

  std::printf("\n%-52s %12s %12s %10s\n", "", "C++ (ms)", "NumPy (ms)", "NumPy/C++");
  const auto row = [](const char* what, double c, double p) {
    if (p > 0) {
      std::printf("%-52s %12.1f %12.1f %9.1fx\n", what, c, p, p / c);
    } else {
      std::printf("%-52s %12.1f %12s %10s\n", what, c, "n/a", "");
    }
  };
  row("EDF + normalized EDF + bootstrap (order statistic)", cpp_ms, numpy_ms);
  if (literal) row("same, bootstrap by literal resampling", cpp_literal_ms, numpy_literal_ms);
  std::printf("\ntarget: C++ analysis under 1000 ms on one core: %s (%.1f ms)\n",
              cpp_ms < 1000 ? "met" : "MISSED", cpp_ms);
  if (literal) {
    std::printf("        with literal resampling: %s (%.1f ms)\n",
                cpp_literal_ms < 1000 ? "met" : "missed", cpp_literal_ms);
  }

  const auto show = [](const char* what, const GoodRange& g) {
    std::printf("  %-30s [%.4g, %.4g, %.4g]\n", what, g.low, g.median, g.high);
  };
  std::printf("\ngood ranges (2.5%%, 50%%, 97.5%%):\n");
  show("param, C++", result.good_param);
  show("flops, C++", result.good_flops);
  if (literal) show("param, C++ literal", literal_result.good_param);
  if (ref.empty()) {
    std::printf("NumPy reference unavailable (%s); C++ timings only\n", script.c_str());
    return 0;
  }
  for (const char* key : {"good_param", "good_flops", "good_param_literal"}) {
    const auto it = ref.find(key);
    if (it == ref.end()) continue;
    const std::vector<double> v = numbers(it->second);
    if (v.size() == 3) {
      std::printf("  %-30s [%.4g, %.4g, %.4g]\n", (std::string(key) + ", NumPy").c_str(), v[0],
                  v[1], v[2]);
    }
  }
  const auto ref_vector = [&](const char* key) {
    const auto it = ref.find(key);
    return it == ref.end() ? std::vector<double>{} : numbers(it->second);
  };
  std::printf("agreement with NumPy: EDF max |diff| %.3g, normalized EDF max |diff| %.3g\n",
              max_abs_diff(result.edf, ref_vector("edf")),
              max_abs_diff(result.normalized_edf, ref_vector("normalized_edf")));
  return 0;
}
