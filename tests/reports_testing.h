#pragma once
// Helpers shared by the report tests: a realistic report document made by
// hand (docs/report_json.md), and a small well-formedness checker for the
// HTML/SVG the renderers write.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nds::reports::testing {

struct FixtureOptions {
  std::string name = "regnet_x-demo";
  std::vector<std::string> compare = {"anynet_x_e-demo"};
  int n = 60;         // completed models of the main sweep
  size_t points = 0;  // scatter/parameter points; 0: n
  int best = 5;       // models in best and worst
  bool references = true;
  std::string hostile;  // put into every other piece of user text when not empty
  uint64_t seed = 1;
};

class Lcg {
 public:
  explicit Lcg(uint64_t seed) : s_(seed * 2654435761u + 1) {}
  double uniform() {
    s_ = s_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(s_ >> 11) * (1.0 / 9007199254740992.0);
  }
  double range(double lo, double hi) { return lo + (hi - lo) * uniform(); }

 private:
  uint64_t s_;
};

inline nlohmann::json edf_of(std::vector<double> errors) {
  std::sort(errors.begin(), errors.end());
  std::vector<double> cdf;
  for (size_t i = 0; i < errors.size(); ++i)
    cdf.push_back(static_cast<double>(i + 1) / static_cast<double>(errors.size()));
  return {{"errors", errors}, {"cdf", cdf}};
}

inline nlohmann::json sweep_entry(const std::string& name, int n, Lcg& rng, double shift,
                                  const std::string& hostile) {
  nlohmann::json s;
  s["name"] = name;
  s["family"] = "regnet";
  s["parent"] = nullptr;
  s["space"] = {{"name", "regnet_x_cifar"},
                {"description", hostile.empty() ? "RegNetX, CIFAR-sized" : hostile},
                {"family", "regnet"},
                {"params", {{"w_0", {{"dist", "int"}, {"low", 8}, {"high", 256}}}}}};
  s["recipe"] = {{"epochs", 10}, {"lr", 0.1}, {"data", "fashion-mnist"}};
  s["seed"] = 0;
  s["created_at"] = 1763820000.0;
  s["finished_at"] = n > 0 ? nlohmann::json(1763823600.0) : nlohmann::json(nullptr);
  s["counts"] = {{"WAITING", n > 0 ? 0 : 8},
                 {"RUNNING", n > 0 ? 0 : 2},
                 {"COMPLETE", n},
                 {"FAILED", 1},
                 {"DIVERGED", 0}};
  s["n"] = n;
  if (n == 0) {
    s["error"] = nullptr;
    s["edf"] = {{"errors", nlohmann::json::array()}, {"cdf", nlohmann::json::array()}};
    s["normalized_edf"] = {{"note", "fewer than 2 completed trials"}};
    s["random_search"] = nlohmann::json::array();
    return s;
  }
  std::vector<double> errors;
  for (int i = 0; i < n; ++i) errors.push_back(8 + shift + 10 * std::pow(rng.uniform(), 2));
  const auto [mn, mx] = std::minmax_element(errors.begin(), errors.end());
  double mean = 0;
  for (double e : errors) mean += e / n;
  std::vector<double> sorted = errors;
  std::sort(sorted.begin(), sorted.end());
  s["error"] = {{"min", *mn}, {"median", sorted[sorted.size() / 2]}, {"mean", mean}, {"max", *mx}};
  s["edf"] = edf_of(errors);
  nlohmann::json ne = edf_of(errors);
  ne["measure"] = "flops";
  ne["bins"] = 5;
  ne["range"] = {2e7, 4e8};
  ne["empty_bins"] = nlohmann::json::array();
  ne["dropped"] = 1;
  ne["cdf"][0] = 0.0;  // weighted: not the raw 1/n steps
  s["normalized_edf"] = ne;
  nlohmann::json rs = nlohmann::json::array();
  for (int m : {1, 2, 4, 8, 16, 32, 64}) {
    if (m > n) break;
    const double b = *mn + (mean - *mn) / std::sqrt(static_cast<double>(m));
    rs.push_back(
        {{"m", m}, {"expected_best", b}, {"p25", b - 0.3}, {"median", b}, {"p75", b + 0.4}});
  }
  s["random_search"] = rs;
  return s;
}

inline nlohmann::json model_entry(int index, double error, Lcg& rng, const std::string& hostile) {
  const int depth = 8 + static_cast<int>(rng.range(0, 10));
  std::vector<int> widths, fitted;
  int w = 24;
  for (int j = 0; j < depth; ++j) {
    if (j % 3 == 0 && j > 0) w = std::min(1024, w * 2);
    widths.push_back(w + (j == depth - 1 ? 8 : 0));
    fitted.push_back(w);
  }
  nlohmann::json epochs = nlohmann::json::array();
  for (int e = 1; e <= 10; ++e)
    epochs.push_back({{"epoch", e},
                      {"train_loss", 2.0 / e},
                      {"test_top1_err", error + 30.0 / e},
                      {"lr", 0.1 * (1 - e / 11.0)}});
  return {{"sample_index", index},
          {"hash", "00ab" + std::to_string(1000 + index)},
          {"error", error},
          {"flops", rng.range(2e7, 4e8)},
          {"params", rng.range(2e5, 3e6)},
          {"family_params",
           {{"family", "regnet"},
            {"depth", depth},
            {"w_0", 24},
            {"w_a", 36.44},
            {"w_m", 2.49},
            {"note", hostile.empty() ? "x|y*z" : hostile}}},
          {"widths", widths},
          {"fit", {{"w_0", 24}, {"w_a", 36.4}, {"w_m", 2.5}, {"widths", fitted}, {"e_fit", 0.01}}},
          {"epochs", epochs}};
}

// A paired comparison of `a` and `b` (docs/report_json.md "paired"): n
// pairs near the diagonal and three models tied on one spot, or, for n == 0,
// the note of sweeps without a model in common.
inline nlohmann::json paired_entry(const std::string& a, const std::string& b, int n, Lcg& rng) {
  nlohmann::json row = {{"a", a}, {"b", b}, {"n_a", n}, {"n_b", n + 7}};
  nlohmann::json points = nlohmann::json::array();
  for (int i = 0; n > 0 && i < std::min(n, 30); ++i) {
    const double err_a = rng.range(8, 18);
    points.push_back({"00ab" + std::to_string(2000 + i), err_a, err_a + rng.range(0.5, 3)});
  }
  for (int i = 0; n > 0 && i < 3; ++i) points.push_back({"00cd" + std::to_string(i), 20.0, 21.0});
  row["n_pairs"] = points.size();
  row["pairs"] = {{"total", points.size()}, {"downsampled", false}, {"points", points}};
  row["bootstrap"] = {{"resamples", 2000}, {"level", 0.95}, {"seed", 39453}};
  if (n == 0) {
    for (const char* k : {"spearman", "kendall", "top_k", "difference"}) row[k] = nullptr;
    row["note"] = "no models in common: no model hash was trained in both sweep '" + a + "'";
    return row;
  }
  row["spearman"] = {{"value", 0.87}, {"low", 0.71}, {"high", 0.95}};
  row["kendall"] = {{"value", 0.69}, {"low", 0.52}, {"high", 0.81}};
  row["top_k"] = {{"k", 3}, {"shared", 2}, {"fraction", 2.0 / 3}};
  row["difference"] = {{"mean", 1.75}, {"sd", 0.72}};
  return row;
}

// A document like build_report's, with `options.compare` sweeps compared.
inline nlohmann::json make_document(const FixtureOptions& o = {}) {
  Lcg rng(o.seed);
  const std::string& bad = o.hostile;
  nlohmann::json doc;
  doc["nds_version"] = "0.1.0";
  doc["generated_at"] = "2026-11-22T14:00:00Z";
  doc["bootstrap"] = {{"fraction", 0.25},
                      {"low_percentile", 2.5},
                      {"high_percentile", 97.5},
                      {"resamples", 1000},
                      {"seed", 0}};
  doc["sweeps"] = nlohmann::json::array();
  doc["sweeps"].push_back(sweep_entry(o.name, o.n, rng, 0, bad));
  for (size_t i = 0; i < o.compare.size(); ++i)
    doc["sweeps"].push_back(sweep_entry(o.compare[i], o.n + 7, rng, 1.5 * (i + 1), bad));
  doc["ks"] = nlohmann::json::array();
  for (const std::string& c : o.compare) {
    nlohmann::json row = {{"a", o.name}, {"b", c}, {"d", 0.31}, {"p", 0.02}};
    if (o.n > 0) {
      row["d_normalized"] = 0.05;
      row["p_normalized"] = 0.9;
    } else {
      row["d"] = nullptr;
      row["p"] = nullptr;
      row["d_normalized"] = nullptr;
      row["p_normalized"] = nullptr;
      row["note"] = "fewer than 2 completed trials in " + o.name;
    }
    doc["ks"].push_back(row);
  }
  doc["paired"] = nlohmann::json::array();
  Lcg paired_rng(o.seed + 17);  // its own stream: the draws below stay as they were
  for (const std::string& c : o.compare)
    doc["paired"].push_back(paired_entry(o.name, c, o.n, paired_rng));
  if (o.n == 0) {
    doc["scatter"] = {{"total", 0}, {"points", nlohmann::json::array()}};
    doc["references"] = nlohmann::json::array();
    doc["parameters"] = nlohmann::json::array();
    doc["models"] = {{"best", nlohmann::json::array()}, {"worst", nlohmann::json::array()}};
    doc["e_fit"] = {{"note", "no completed trials"}};
    return doc;
  }
  const size_t points = o.points ? o.points : static_cast<size_t>(o.n);
  nlohmann::json pts = nlohmann::json::array();
  std::vector<std::vector<double>> rows;  // flops, params, acts, error, w_0, depth, w_m
  for (size_t i = 0; i < points; ++i) {
    const double flops = std::exp(rng.range(std::log(2e7), std::log(4e8)));
    const double params = flops / rng.range(50, 150);
    const double acts = flops / rng.range(80, 200);
    const double error = 8 + 10 * std::pow(rng.uniform(), 2) + 2e7 / flops;
    rows.push_back({flops, params, acts, error, std::round(rng.range(8, 256)),
                    std::round(rng.range(6, 16)), rng.range(2, 3)});
    pts.push_back({{"flops", flops},
                   {"params", params},
                   {"acts", acts},
                   {"error", error},
                   {"sample_index", i}});
  }
  doc["scatter"] = {{"total", std::max<size_t>(points, static_cast<size_t>(o.n))}, {"points", pts}};
  doc["references"] = nlohmann::json::array();
  if (o.references) {
    doc["references"].push_back({{"name", bad.empty() ? "resnet18_cifar" : bad},
                                 {"flops", 5.5e8},
                                 {"params", 1.1e7},
                                 {"acts", 5.5e5},
                                 {"error", 8.9},
                                 {"percentile", 25.0}});
    doc["references"].push_back({{"name", "regnet_x_200mf_cifar"},
                                 {"flops", 2e8},
                                 {"params", 2.3e6},
                                 {"acts", 1.9e6},
                                 {"error", 9.4},
                                 {"percentile", 40.0}});
  }
  doc["parameters"] = nlohmann::json::array();
  const struct {
    const char* name;
    size_t column;
    bool log;
  } params[] = {{"w_0", 4, true}, {"depth", 5, false}, {"w_m", 6, false}, {"flops", 0, true}};
  for (const auto& p : params) {
    nlohmann::json pp = nlohmann::json::array();
    for (const auto& r : rows) pp.push_back({r[p.column], r[3]});
    nlohmann::json trend = nlohmann::json::array();
    double lo = 1e300, hi = -1e300;
    for (const auto& r : rows) {
      lo = std::min(lo, r[p.column]);
      hi = std::max(hi, r[p.column]);
    }
    for (int b = 0; b < 5; ++b) {
      const double a = lo + (hi - lo) * b / 5, z = lo + (hi - lo) * (b + 1) / 5;
      trend.push_back({{"lo", a},
                       {"hi", z},
                       {"count", b == 3 ? 0 : 4 + b},
                       {"mean", 12.0 - b * 0.5},
                       {"std", 1.2}});
    }
    nlohmann::json entry = {{"name", p.name},
                            {"log_scale", p.log},
                            {"points", pp},
                            {"space_range", {lo * 0.9, hi * 1.1}},
                            {"trend", trend}};
    if (std::string(p.name) == "w_m") {
      entry["good_range"] = nullptr;
      entry["note"] = "the good range needs at least 20 models";
    } else {
      entry["good_range"] = {{"low", lo + (hi - lo) * 0.2},
                             {"median", lo + (hi - lo) * 0.4},
                             {"high", lo + (hi - lo) * 0.6}};
    }
    doc["parameters"].push_back(entry);
  }
  if (!bad.empty()) {
    nlohmann::json p = doc["parameters"][0];
    p["name"] = bad;
    doc["parameters"].push_back(p);
  }
  doc["models"] = {{"best", nlohmann::json::array()}, {"worst", nlohmann::json::array()}};
  const std::vector<double> sorted = doc["sweeps"][0]["edf"]["errors"].get<std::vector<double>>();
  for (int i = 0; i < o.best && i < o.n; ++i) {
    doc["models"]["best"].push_back(model_entry(i, sorted[static_cast<size_t>(i)], rng, bad));
    doc["models"]["worst"].push_back(
        model_entry(100 + i, sorted[sorted.size() - 1 - static_cast<size_t>(i)], rng, bad));
  }
  std::vector<double> efit;
  for (int i = 0; i < o.n; ++i) efit.push_back(i % 3 == 0 ? 0.0 : rng.range(0, 0.08));
  std::vector<double> es = efit;
  std::sort(es.begin(), es.end());
  doc["e_fit"] = {{"values", efit},
                  {"min", es.front()},
                  {"median", es[es.size() / 2]},
                  {"max", es.back()},
                  {"zero_fraction", 0.34}};
  return doc;
}

// Checks that `text` is well-formed markup: every element closed in order,
// attributes quoted, no raw '<' or unescaped '&' in text or attribute values.
// HTML void elements (meta, br, hr, img, input, link) and <!DOCTYPE> are
// allowed unclosed. Returns "" when fine, else what is wrong and where.
inline std::string markup_problem(const std::string& text) {
  std::vector<std::string> stack;
  size_t i = 0;
  const auto at_pos = [&](size_t p) { return " at byte " + std::to_string(p); };
  const auto entity_ok = [&](size_t p) {
    const size_t semi = text.find(';', p);
    if (semi == std::string::npos || semi - p > 10) return false;
    const std::string name = text.substr(p + 1, semi - p - 1);
    if (name.empty()) return false;
    if (name[0] == '#') return name.size() > 1;
    return std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(c) != 0; });
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '&') {
      if (!entity_ok(i)) return "bare '&'" + at_pos(i);
      ++i;
      continue;
    }
    if (c != '<') {
      ++i;
      continue;
    }
    if (text.compare(i, 9, "<!DOCTYPE") == 0) {
      i = text.find('>', i) + 1;
      continue;
    }
    const bool closing = i + 1 < text.size() && text[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '-'))
      ++j;
    const std::string name = text.substr(name_start, j - name_start);
    if (name.empty()) return "raw '<'" + at_pos(i);
    // Attributes: name="value" pairs.
    bool self_closing = false;
    while (true) {
      while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      if (j >= text.size()) return "unterminated tag <" + name + at_pos(i);
      if (text[j] == '>') {
        ++j;
        break;
      }
      if (text[j] == '/' && j + 1 < text.size() && text[j + 1] == '>') {
        self_closing = true;
        j += 2;
        break;
      }
      if (closing) return "junk in closing tag </" + name + at_pos(j);
      const size_t an = j;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) ||
                                 text[j] == '-' || text[j] == ':' || text[j] == '_'))
        ++j;
      if (j == an) return "bad attribute in <" + name + at_pos(j);
      if (text[j] != '=' || text[j + 1] != '"') return "unquoted attribute in <" + name + at_pos(j);
      const size_t end = text.find('"', j + 2);
      if (end == std::string::npos) return "unterminated attribute" + at_pos(j);
      for (size_t k = j + 2; k < end; ++k) {
        if (text[k] == '<') return "'<' in an attribute" + at_pos(k);
        if (text[k] == '&' && !entity_ok(k)) return "bare '&' in an attribute" + at_pos(k);
      }
      j = end + 1;
    }
    static const std::vector<std::string> kVoid = {"meta", "br", "hr", "img", "input", "link"};
    if (closing) {
      if (stack.empty() || stack.back() != name)
        return "</" + name + "> closes " + (stack.empty() ? "nothing" : "<" + stack.back() + ">") +
               at_pos(i);
      stack.pop_back();
    } else if (!self_closing && std::find(kVoid.begin(), kVoid.end(), name) == kVoid.end()) {
      stack.push_back(name);
    }
    i = j;
  }
  if (!stack.empty()) return "<" + stack.back() + "> never closed";
  return "";
}

// Every <svg>...</svg> element of a page, in order.
inline std::vector<std::string> svg_elements(const std::string& page) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = page.find("<svg", i)) != std::string::npos) {
    const size_t end = page.find("</svg>", i);
    if (end == std::string::npos) break;
    out.push_back(page.substr(i, end + 6 - i));
    i = end + 6;
  }
  return out;
}

inline size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t i = text.find(needle); i != std::string::npos; i = text.find(needle, i + 1)) ++n;
  return n;
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace nds::reports::testing
