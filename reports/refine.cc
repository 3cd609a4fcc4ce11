#include "reports/refine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "analysis/ks.h"
#include "analysis/refine_range.h"
#include "analysis/stats.h"
#include "reports/sweep_data.h"

namespace nds::reports {
namespace {

using json = nlohmann::json;

struct ChainStep {
  const char* kind;
  const char* key;
  const char* space_name;
};

// The RegNet paper's AnyNetX chain, in order.
constexpr ChainStep kChain[] = {
    {"shared", "bottleneck_ratios", "AnyNetX_B"},
    {"shared", "group_widths", "AnyNetX_C"},
    {"non_decreasing", "widths", "AnyNetX_D"},
    {"non_decreasing", "depths", "AnyNetX_E"},
};

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

bool in_list(const json& space, const std::string& constraint, const std::string& key) {
  if (!space.contains("constraints") || !space["constraints"].is_object()) return false;
  const json& c = space["constraints"];
  if (!c.contains(constraint) || !c[constraint].is_array()) return false;
  for (const json& k : c[constraint])
    if (k.is_string() && k.get<std::string>() == key) return true;
  return false;
}

bool is_dist(const json& d) {
  return d.is_object() && d.contains("dist") && d["dist"].is_string();
}

bool is_list_param(const json& v) {
  if (v.is_array()) return std::any_of(v.begin(), v.end(), is_dist);
  return is_dist(v) && v.contains("length") && v["length"].is_number_integer() &&
         v["length"].get<int>() > 0;
}

bool is_power_of_two(double v) {
  if (!(v > 0) || !std::isfinite(v)) return false;
  int e = 0;
  return std::frexp(v, &e) == 0.5;
}

double pow2_floor(double v) {
  return std::exp2(std::floor(std::log2(v) + 1e-9));
}
double pow2_ceil(double v) {
  return std::exp2(std::ceil(std::log2(v) - 1e-9));
}

// k q, computed as k / (1 / q) when 1 / q is whole (q = 0.1 gives 8.3, not
// 8.3000000000000007), so the value reads back as a multiple of q.
double grid_point(double v, double q) {
  const double k = std::nearbyint(v / q);
  const double inverse = std::nearbyint(1 / q);
  if (q < 1 && inverse >= 1 && std::fabs(1 / q - inverse) <= 1e-9 * inverse) return k / inverse;
  return k * q;
}

json number(double v, bool integer) {
  if (integer) return static_cast<int64_t>(std::llround(v));
  return v;
}

// `dist` (without "length") narrowed to the good range, on its own grid.
json narrow_dist(const json& dist, const analysis::GoodRange& g, std::string& note) {
  const std::string kind = dist["dist"].get<std::string>();
  json out = dist;
  if (kind == "int" || kind == "float") {
    const bool integer = kind == "int";
    const double lo = dist.value("low", 0.0), hi = dist.value("high", 0.0);
    const double q = dist.contains("q") ? dist["q"].get<double>() : 1.0;
    const std::string rand = dist.value("rand", std::string("uniform"));
    double new_lo = lo, new_hi = hi;
    if (rand == "power2" || rand == "power2_or_log_uniform") {
      // The ends must stay powers of two: round outward to them.
      new_lo = std::max(lo, pow2_floor(std::max(g.low, lo)));
      new_hi = std::min(hi, pow2_ceil(std::min(g.high, hi)));
      if (!is_power_of_two(new_lo) || !is_power_of_two(new_hi) || new_lo > new_hi) {
        note = "no power-of-two range inside [" + fmt(lo) + ", " + fmt(hi) + "] covers it";
        return dist;
      }
    } else {
      try {
        const analysis::ParamRange r = analysis::narrow_range({lo, hi, q}, g);
        new_lo = grid_point(r.lo, q);
        new_hi = grid_point(r.hi, q);
      } catch (const std::invalid_argument& e) {
        note = e.what();
        return dist;
      }
    }
    out["low"] = number(new_lo, integer);
    out["high"] = number(new_hi, integer);
    return out;
  }
  if (kind == "choice" && dist.contains("values") && dist["values"].is_array()) {
    std::vector<double> values;
    for (const json& v : dist["values"]) {
      if (!v.is_number()) {
        note = "a choice of non-numbers";
        return dist;
      }
      values.push_back(v.get<double>());
    }
    // Outward: from the largest value <= low to the smallest value >= high.
    double from = -std::numeric_limits<double>::infinity();
    double to = std::numeric_limits<double>::infinity();
    for (double v : values) {
      if (v <= g.low) from = std::max(from, v);
      if (v >= g.high) to = std::min(to, v);
    }
    json kept = json::array();
    for (const json& v : dist["values"])
      if (v.get<double>() >= from && v.get<double>() <= to) kept.push_back(v);
    if (kept.empty()) {
      note = "no choice lies in the good range";
      return dist;
    }
    out["values"] = std::move(kept);
    return out;
  }
  note = "not a numeric range";
  return dist;
}

const ParamColumn* find_column(const std::vector<ParamColumn>& columns, const std::string& key,
                               int stage, bool shared) {
  for (const ParamColumn& c : columns)
    if (c.space_key == key && c.stage == stage && c.shared == shared) return &c;
  return nullptr;
}

struct Narrower {
  const std::vector<size_t>& best;
  const analysis::BootstrapOptions& bo;
  std::vector<RangeChange>& changes;

  std::optional<analysis::GoodRange> good(const ParamColumn* c) const {
    if (!c) return std::nullopt;
    return analysis::good_range(best, c->values, bo);
  }

  json apply(const json& dist, const std::string& param, const std::string& key,
             const std::optional<analysis::GoodRange>& g) {
    RangeChange rc;
    rc.param = param;
    rc.space_key = key;
    rc.old_dist = dist;
    if (!g) {
      rc.new_dist = dist;
      rc.note = "no completed model drew it";
    } else {
      rc.good = *g;
      rc.new_dist = narrow_dist(dist, *g, rc.note);
    }
    rc.narrowed = rc.new_dist != dist;
    json out = rc.new_dist;
    changes.push_back(std::move(rc));
    return out;
  }
};

// A list's good range when it becomes shared: the union of its stages'.
std::optional<analysis::GoodRange> pooled(const Narrower& nr, const std::vector<ParamColumn>& cols,
                                          const std::string& key, int length) {
  if (const ParamColumn* c = find_column(cols, key, -1, true)) return nr.good(c);
  std::optional<analysis::GoodRange> out;
  std::vector<double> medians;
  for (int i = 0; i < length; ++i) {
    const auto g = nr.good(find_column(cols, key, i, false));
    if (!g) return std::nullopt;
    if (!out) out = g;
    out->low = std::min(out->low, g->low);
    out->high = std::max(out->high, g->high);
    medians.push_back(g->median);
  }
  if (out) out->median = analysis::percentile(medians, 50);
  return out;
}

std::vector<double> number_list(const json& v) {
  std::vector<double> out;
  if (!v.is_array()) return out;
  for (const json& x : v) {
    if (!x.is_number()) return {};
    out.push_back(x.get<double>());
  }
  return out;
}

std::optional<ConstraintEvidence> next_constraint(const SweepData& d, double significance,
                                                  std::vector<std::string>& notes) {
  const json& params = d.space["params"];
  for (const ChainStep& step : kChain) {
    if (in_list(d.space, step.kind, step.key)) continue;
    if (!params.contains(step.key) || !is_list_param(params[step.key])) continue;
    std::vector<std::vector<double>> values;
    std::vector<double> errors;
    for (size_t i = 0; i < d.size(); ++i) {
      const json fp = json::parse(d.params_json[i], nullptr, false);
      if (!fp.is_object() || !fp.contains(step.key)) continue;
      std::vector<double> v = number_list(fp[step.key]);
      if (v.empty() || std::any_of(v.begin(), v.end(), [](double x) { return !(x > 0); })) continue;
      values.push_back(std::move(v));
      errors.push_back(d.errors[i]);
    }
    ConstraintEvidence ev = judge_constraint(step.kind, step.key, values, errors, significance);
    ev.space_name = step.space_name;
    return ev;
  }
  notes.push_back(
      "no AnyNetX constraint left to propose: the space already has every one the chain adds "
      "(or lacks the lists they constrain)");
  return std::nullopt;
}

}  // namespace

double constraint_violation(const std::string& kind, const std::vector<double>& v) {
  if (v.empty()) return 0;
  if (kind == "shared") {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return std::log2(*hi / *lo);
  }
  double total = 0;
  for (size_t i = 0; i + 1 < v.size(); ++i) total += std::max(0.0, std::log2(v[i] / v[i + 1]));
  return total;
}

ConstraintEvidence judge_constraint(const std::string& kind, const std::string& key,
                                    const std::vector<std::vector<double>>& stage_values,
                                    const std::vector<double>& errors, double significance) {
  if (kind != "shared" && kind != "non_decreasing")
    throw std::invalid_argument("unknown constraint kind '" + kind + "' (shared, non_decreasing)");
  if (stage_values.size() != errors.size())
    throw std::invalid_argument("judge_constraint: " + std::to_string(stage_values.size()) +
                                " models but " + std::to_string(errors.size()) + " errors");
  ConstraintEvidence ev;
  ev.kind = kind;
  ev.key = key;
  std::vector<double> v;
  v.reserve(errors.size());
  for (const auto& s : stage_values) v.push_back(constraint_violation(kind, s));
  const std::string what = kind == "shared" ? "a shared " + key : "non-decreasing " + key;
  if (v.empty()) {
    ev.reason = "no model to judge " + what + " by";
    return ev;
  }
  ev.threshold = analysis::percentile(v, 50);
  // Violations tie often (b_i takes 3 values): split at "<= median" or
  // "< median", whichever gives the more even groups.
  const double t = ev.threshold + 1e-12;
  const auto at_most =
      static_cast<size_t>(std::count_if(v.begin(), v.end(), [&](double x) { return x <= t; }));
  const auto below = static_cast<size_t>(
      std::count_if(v.begin(), v.end(), [&](double x) { return x < ev.threshold - 1e-12; }));
  const auto imbalance = [&](size_t k) {
    return k > v.size() - k ? 2 * k - v.size() : v.size() - 2 * k;
  };
  const bool strict = below > 0 && imbalance(below) < imbalance(at_most);
  std::vector<double> more, less;
  for (size_t i = 0; i < v.size(); ++i)
    ((strict ? v[i] < ev.threshold - 1e-12 : v[i] <= t) ? more : less).push_back(errors[i]);
  ev.strict = strict;
  ev.n_more = more.size();
  ev.n_less = less.size();
  if (less.empty()) {
    ev.reason = "every model is equally close to " + what + ": the data cannot tell";
    return ev;
  }
  if (more.size() < kMinGroup || less.size() < kMinGroup) {
    ev.reason = "judging " + what + " needs " + std::to_string(kMinGroup) +
                " models on each side of the median violation, have " +
                std::to_string(more.size()) + " and " + std::to_string(less.size());
    return ev;
  }
  ev.judged = true;
  ev.median_more = analysis::percentile(more, 50);
  ev.median_less = analysis::percentile(less, 50);
  const analysis::KsResult ks = analysis::ks_2samp(more, less);
  ev.ks_d = ks.statistic;
  ev.ks_p = ks.p_value;
  const bool worse = ev.median_more > ev.median_less && ev.ks_p < significance;
  ev.supported = !worse;
  const std::string medians = "median error " + fmt(ev.median_more) + " (" +
                              std::to_string(ev.n_more) + " models closer to " + what + ") vs " +
                              fmt(ev.median_less) + " (" + std::to_string(ev.n_less) +
                              " others), KS D " + fmt(ev.ks_d) + ", p " + fmt(ev.ks_p);
  if (worse)
    ev.reason = "models closer to " + what + " are worse: " + medians;
  else if (ev.median_more <= ev.median_less)
    ev.reason = "models closer to " + what + " are no worse: " + medians;
  else
    ev.reason = "models closer to " + what +
                " are not significantly worse (p >= " + fmt(significance) + "): " + medians;
  return ev;
}

RefineResult refine_space(const store::Reader& reader, const std::string& sweep,
                          const RefineOptions& o) {
  if (o.bootstrap_resamples < 1)
    throw std::invalid_argument("bootstrap resamples must be >= 1, got " +
                                std::to_string(o.bootstrap_resamples));
  const SweepData d = load_sweep(reader, sweep);
  if (!d.space.is_object() || !d.space.contains("params") || !d.space["params"].is_object())
    throw std::invalid_argument("sweep '" + sweep + "' has no stored design space to refine");
  if (d.size() < 2)
    throw std::invalid_argument("sweep '" + sweep + "' has " + std::to_string(d.size()) +
                                " completed models; refining needs at least 2");
  RefineResult result;
  result.models = d.size();
  if (d.size() < 4 * kMinGroup)
    result.notes.push_back("only " + std::to_string(d.size()) +
                           " completed models: the good ranges are rough");

  analysis::BootstrapOptions bo;
  bo.num_resamples = o.bootstrap_resamples;
  bo.seed = o.seed;
  const std::vector<size_t> best = analysis::bootstrap_best_models(d.errors, bo);
  Narrower nr{best, bo, result.ranges};

  if (d.summary.family == "anynet")
    result.constraint = next_constraint(d, o.significance, result.notes);
  const ConstraintEvidence* add =
      result.constraint && result.constraint->supported ? &*result.constraint : nullptr;

  json space = d.space;
  for (auto& [key, v] : space["params"].items()) {
    const bool shared =
        in_list(d.space, "shared", key) || (add && add->kind == "shared" && add->key == key);
    if (is_dist(v)) {
      const int length =
          v.contains("length") && v["length"].is_number_integer() ? v["length"].get<int>() : 0;
      if (length <= 0) {
        v = nr.apply(v, key, key, nr.good(find_column(d.columns, key, -1, false)));
      } else if (shared) {
        v = nr.apply(v, list_param_name(d.summary.family, key), key,
                     pooled(nr, d.columns, key, length));
      } else {
        // One distribution per stage, each narrowed to its own good range.
        json item = v;
        item.erase("length");
        json items = json::array();
        for (int i = 0; i < length; ++i) {
          items.push_back(
              nr.apply(item, list_param_name(d.summary.family, key) + "_" + std::to_string(i + 1),
                       key, nr.good(find_column(d.columns, key, i, false))));
        }
        if (std::any_of(items.begin(), items.end(), [&](const json& x) { return x != item; }))
          v = std::move(items);
      }
    } else if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) {
        if (!is_dist(v[i])) continue;
        if (shared && i > 0) break;  // a shared list draws its first element only
        const ParamColumn* c = shared ? find_column(d.columns, key, -1, true)
                                      : find_column(d.columns, key, static_cast<int>(i), false);
        const std::string name =
            list_param_name(d.summary.family, key) + (shared ? "" : "_" + std::to_string(i + 1));
        v[i] = nr.apply(v[i], name, key, nr.good(c));
      }
    }
  }

  if (add) {
    json& c = space["constraints"];
    if (!c.is_object()) c = json::object();
    if (!c.contains(add->kind) || !c[add->kind].is_array()) c[add->kind] = json::array();
    c[add->kind].push_back(add->key);
  }
  const std::string name = o.name.empty() ? sweep + "_refined" : o.name;
  std::string description = "Refined from sweep '" + sweep + "' (" + std::to_string(d.size()) +
                            " models): ranges narrowed to bootstrap good ranges";
  if (add)
    description += "; adds " +
                   std::string(add->kind == "shared" ? "a shared " : "non-decreasing ") + add->key +
                   " (" + add->space_name + ")";
  space["name"] = name;
  space["description"] = description;
  space["parent"] = sweep;
  result.space = std::move(space);
  return result;
}

}  // namespace nds::reports
