// nds analyze: the numbers of a sweep's design-space analysis as text (or the
// report document as JSON): EDF summary, KS against other sweeps, paired
// rank agreement with them, bootstrap good ranges, width-fit quality, where
// the fixed points fall.

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/report_args.h"
#include "reports/render_util.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using json = nlohmann::json;

constexpr const char* kUsage =
    "usage: nds analyze --db FILE --sweep NAME [--compare NAME2 ...] [--json]\n"
    "                   [--bootstrap B] [--seed S] [--bins K]\n\n"
    "The error EDF of a sweep's completed models, KS statistics against the compared sweeps\n"
    "(raw and flops-normalized) and the rank agreement of the models both trained (paired\n"
    "by model hash), bootstrap good ranges of every design parameter, the width-fit\n"
    "quality e_fit, and the EDF percentile of each fixed point trained in the sweep.\n"
    "Without --compare, a sweep is compared with its parent (nds refine) and its\n"
    "siblings (nds sweep --recipe-of: the same samples under another recipe). --json\n"
    "prints the report document (docs/report_json.md).\n\n";

std::string g(const json& v, int digits = 4) {
  if (!v.is_number()) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v.get<double>());
  return buf;
}

std::string count_text(const json& v) {
  if (!v.is_number()) return "-";
  const double x = v.get<double>();
  if (x >= 1e4) return si(x);
  return g(v, 5);
}

std::string range_text(const json& r, bool counts) {
  if (!r.is_array() || r.size() != 2) return "-";
  return "[" + (counts ? count_text(r[0]) : g(r[0], 5)) + ", " +
         (counts ? count_text(r[1]) : g(r[1], 5)) + "]";
}

// How alike sweeps[0] and each compared sweep rank the models both trained.
void print_paired(std::ostream& out, const json& paired) {
  if (!paired.is_array() || paired.empty()) return;
  out << "\npaired comparison of the models both sweeps trained (same model hash), A = "
      << paired[0]["a"].get<std::string>()
      << ": Spearman rho and Kendall tau with bootstrap 95% intervals, the top-k sets' "
         "overlap, the error difference B - A:\n";
  TextTable t({"sweep B", "pairs", "rho", "tau", "top-k shared", "diff mean", "diff sd"});
  for (const json& p : paired) {
    const json& diff = p["difference"];
    t.add({p["b"].get<std::string>(), std::to_string(p["n_pairs"].get<int64_t>()),
           reports::render::correlation(p["spearman"], "-"),
           reports::render::correlation(p["kendall"], "-"),
           reports::render::top_overlap(p["top_k"], "-"), diff.is_object() ? g(diff["mean"]) : "-",
           diff.is_object() ? g(diff["sd"]) : "-"});
  }
  out << t.str();
  for (const json& p : paired)
    if (p.contains("note"))
      out << "  " << p["b"].get<std::string>() << ": " << p["note"].get<std::string>() << '\n';
}

bool is_measure(const std::string& name) {
  return name == "flops" || name == "params" || name == "acts";
}

void print_text(std::ostream& out, const json& doc) {
  const json& s = doc["sweeps"][0];
  const json& c = s["counts"];
  out << "sweep " << s["name"].get<std::string>() << " (" << s["family"].get<std::string>()
      << (s["parent"].is_string() ? ", refined from " + s["parent"].get<std::string>() : "")
      << "): " << s["n"].get<int64_t>() << " completed models";
  const int64_t refs = s["n_references"].get<int64_t>();
  if (refs > 0) out << " + " << refs << (refs == 1 ? " fixed point" : " fixed points");
  out << "; trials COMPLETE " << c["COMPLETE"] << ", FAILED " << c["FAILED"] << ", DIVERGED "
      << c["DIVERGED"] << ", RUNNING " << c["RUNNING"] << ", WAITING " << c["WAITING"] << '\n';
  for (const json& note : doc["notes"]) out << "note: " << note.get<std::string>() << '\n';
  if (s["error"].is_null()) return;

  const json& e = s["error"];
  out << "\ntop-1 error (%): min " << g(e["min"]) << "  p25 " << g(e["p25"]) << "  median "
      << g(e["median"]) << "  mean " << g(e["mean"]) << "  p75 " << g(e["p75"]) << "  max "
      << g(e["max"]) << '\n';
  out << "random search, expected best of m models:";
  for (const json& p : s["random_search"]) {
    const int m = p["m"].get<int>();
    if (m == 1 || m == 4 || m == 16 || m == 64 || m == 256 || m == 1024)
      out << "  m=" << m << " " << g(p["expected_best"]);
  }
  out << '\n';
  if (s["normalized_edf"].contains("note") && !s["normalized_edf"].contains("errors"))
    out << "normalized EDF: " << s["normalized_edf"]["note"].get<std::string>() << '\n';

  if (!doc["ks"].empty()) {
    out << "\nKS against compared sweeps (raw EDFs; flops-normalized EDFs):\n";
    TextTable t({"sweep", "n", "min", "median", "D", "p", "D norm", "p norm"});
    for (size_t i = 0; i < doc["ks"].size(); ++i) {
      const json& k = doc["ks"][i];
      const json& other = doc["sweeps"][i + 1];
      t.add({k["b"].get<std::string>(), std::to_string(k["n_b"].get<int64_t>()),
             other["error"].is_null() ? "-" : g(other["error"]["min"]),
             other["error"].is_null() ? "-" : g(other["error"]["median"]), g(k["d"]), g(k["p"]),
             g(k["d_normalized"]), g(k["p_normalized"])});
    }
    out << t.str();
    for (const json& k : doc["ks"]) {
      if (k.contains("note"))
        out << "  " << k["b"].get<std::string>() << ": " << k["note"].get<std::string>() << '\n';
      else if (k.contains("note_normalized"))
        out << "  " << k["b"].get<std::string>()
            << " (normalized): " << k["note_normalized"].get<std::string>() << '\n';
    }
  }

  if (doc.contains("paired")) print_paired(out, doc["paired"]);

  const json& b = doc["bootstrap"];
  out << "\ngood ranges (bootstrap: best model of " << b["resamples"]
      << " resamples of 25% of the models; " << g(b["low_percentile"]) << " / 50 / "
      << g(b["high_percentile"]) << " percentiles):\n";
  TextTable t({"parameter", "space range", "low", "median", "high"});
  std::string note;
  for (const json& p : doc["parameters"]) {
    const std::string name = p["name"].get<std::string>();
    const bool counts = is_measure(name);
    const json& r = p["good_range"];
    if (r.is_null()) {
      if (p.contains("note")) note = p["note"].get<std::string>();
      t.add({name, range_text(p["space_range"], counts), "-", "-", "-"});
      continue;
    }
    const auto v = [&](const char* k) { return counts ? count_text(r[k]) : g(r[k], 5); };
    t.add({name, range_text(p["space_range"], counts), v("low"), v("median"), v("high")});
  }
  out << t.str();
  if (!note.empty()) out << "  " << note << '\n';

  const json& f = doc["e_fit"];
  out << "\ne_fit (mean |log(fitted / actual)| of per-block widths under the best quantized "
         "linear rule): ";
  if (f.contains("note")) {
    out << f["note"].get<std::string>() << '\n';
  } else {
    out << f["count"] << " models";
    if (f["sampled"].get<bool>()) out << " (a seeded sample of " << f["total"] << ")";
    out << ": min " << g(f["min"]) << "  median " << g(f["median"]) << "  max " << g(f["max"])
        << "  exact fits " << g(json(100 * f["zero_fraction"].get<double>())) << "%";
    if (f["by_construction"].get<bool>()) out << " (RegNet: exact by construction)";
    out << '\n';
  }

  if (!doc["references"].empty()) {
    out << "\nfixed points (percentile: % of the sweep's models with lower error):\n";
    TextTable r({"name", "error", "flops", "params", "percentile"});
    for (const json& ref : doc["references"]) {
      r.add({ref["name"].get<std::string>(), g(ref["error"]), count_text(ref["flops"]),
             count_text(ref["params"]), g(ref["percentile"]) + "%"});
    }
    out << r.str();
  }

  const json& best = doc["models"]["best"];
  if (!best.empty()) {
    out << "\nbest models:\n";
    TextTable m({"sample", "error", "flops", "params", "e_fit"});
    for (const json& x : best) {
      m.add({std::to_string(x["sample_index"].get<int64_t>()), g(x["error"]),
             count_text(x["flops"]), count_text(x["params"]),
             x["fit"].is_null() ? "-" : g(x["fit"]["e_fit"], 3)});
    }
    out << m.str();
  }
}

}  // namespace

int run_analyze(const std::vector<std::string>& args) {
  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "the results database (required)")
      ("sweep", po::value<std::string>(), "the sweep to analyse (required)")
      ("compare", po::value<std::vector<std::string>>()->multitoken()->composing(),
       "sweeps to compare with (default: the sweep's parent and siblings)")
      ("json", "print the report document as JSON")
      ("bootstrap", po::value<int>()->default_value(10000), "bootstrap resamples B")
      ("seed", po::value<uint64_t>()->default_value(0), "seed of the bootstrap and subsamples")
      ("bins", po::value<int>()->default_value(10), "flops bins K of the normalized EDF");
  // clang-format on
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm)) return kExitOk;
  if (!vm.count("db")) throw std::invalid_argument("missing --db FILE (see nds analyze --help)");
  if (!vm.count("sweep"))
    throw std::invalid_argument("missing --sweep NAME (see nds analyze --help)");
  const json doc = build_sweep_report(vm, read_report_options(vm));
  if (vm.count("json")) {
    std::cout << json_dump(doc, 2) << '\n';
  } else {
    print_text(std::cout, doc);
  }
  std::cout.flush();
  if (!std::cout) throw std::runtime_error("writing the analysis failed");
  return kExitOk;
}

}  // namespace nds::cli
