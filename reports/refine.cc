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
using sampler::DistKind;
using sampler::ParamDist;

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

bool contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// The space's list of `kind` ("shared" or "non_decreasing") constraints.
template <typename Space>  // DesignSpace or const DesignSpace
auto& constraint_list(Space& space, const std::string& kind) {
  return kind == "shared" ? space.shared : space.non_decreasing;
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

// An int or float distribution narrowed to the good range, on its own grid.
ParamDist narrow_number_range(const ParamDist& dist, const analysis::GoodRange& g,
                              const std::string& param, std::string& note) {
  const double lo = dist.low, hi = dist.high;
  double new_lo = lo, new_hi = hi;
  if (dist.rand == sampler::RandType::kPower2 ||
      dist.rand == sampler::RandType::kPower2OrLogUniform) {
    // The ends must stay powers of two: round outward to them.
    new_lo = std::max(lo, pow2_floor(std::max(g.low, lo)));
    new_hi = std::min(hi, pow2_ceil(std::min(g.high, hi)));
    if (!is_power_of_two(new_lo) || !is_power_of_two(new_hi) || new_lo > new_hi) {
      note = "no power-of-two range inside [" + fmt(lo) + ", " + fmt(hi) + "] covers it";
      return dist;
    }
  } else {
    try {
      const analysis::ParamRange r = analysis::narrow_range({lo, hi, dist.q}, g);
      new_lo = grid_point(r.lo, dist.q);
      new_hi = grid_point(r.hi, dist.q);
    } catch (const std::invalid_argument& e) {
      note = e.what();
      return dist;
    }
  }
  try {
    return sampler::with_range(dist, new_lo, new_hi, param);
  } catch (const std::invalid_argument& e) {
    note = e.what();
    return dist;
  }
}

// A choice of numbers narrowed to the values from the largest one <= the
// good range's low to the smallest one >= its high.
ParamDist narrow_choice(const ParamDist& dist, const analysis::GoodRange& g, std::string& note) {
  if (!std::all_of(dist.values.begin(), dist.values.end(),
                   [](const json& v) { return v.is_number(); })) {
    note = "a choice of non-numbers";
    return dist;
  }
  double from = -std::numeric_limits<double>::infinity();
  double to = std::numeric_limits<double>::infinity();
  for (const json& v : dist.values) {
    if (v.get<double>() <= g.low) from = std::max(from, v.get<double>());
    if (v.get<double>() >= g.high) to = std::min(to, v.get<double>());
  }
  ParamDist out = dist;
  out.values.clear();
  for (const json& v : dist.values)
    if (v.get<double>() >= from && v.get<double>() <= to) out.values.push_back(v);
  if (out.values.empty()) {
    note = "no choice lies in the good range";
    return dist;
  }
  return out;
}

// `dist` narrowed to the good range, on its own grid; unchanged, with a note
// saying why, when it cannot be.
ParamDist narrow_dist(const ParamDist& dist, const analysis::GoodRange& g, const std::string& param,
                      std::string& note) {
  if (dist.kind == DistKind::kInt || dist.kind == DistKind::kFloat)
    return narrow_number_range(dist, g, param, note);
  if (dist.kind == DistKind::kChoice) return narrow_choice(dist, g, note);
  note = "not a numeric range";
  return dist;
}

// A distribution a model draws a value from (not a fixed value or a list).
bool is_drawn(const ParamDist& d) {
  return d.kind == DistKind::kInt || d.kind == DistKind::kFloat || d.kind == DistKind::kChoice;
}

bool same(const ParamDist& a, const ParamDist& b) {
  return sampler::to_json(a) == sampler::to_json(b);
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

  ParamDist apply(const ParamDist& dist, const std::string& param, const std::string& key,
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
      rc.new_dist = narrow_dist(dist, *g, param, rc.note);
    }
    rc.narrowed = !same(rc.new_dist, dist);
    ParamDist out = rc.new_dist;
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

std::optional<ConstraintEvidence> next_constraint(const SweepData& d,
                                                  const sampler::DesignSpace& space,
                                                  double significance,
                                                  std::vector<std::string>& notes) {
  for (const ChainStep& step : kChain) {
    if (contains(constraint_list(space, step.kind), step.key)) continue;
    const auto param = space.params.find(step.key);
    if (param == space.params.end() || !param->second.is_list()) continue;
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

// A length-L distribution narrowed per stage: a list of L distributions,
// each narrowed to its own stage's good range (unchanged when none moved).
ParamDist narrow_per_stage(Narrower& nr, const SweepData& d, const std::string& key,
                           const ParamDist& dist) {
  ParamDist item = dist;
  item.length = 0;
  ParamDist list;
  list.kind = DistKind::kList;
  for (int i = 0; i < dist.length; ++i) {
    list.items.push_back(
        nr.apply(item, list_param_name(d.summary.family, key) + "_" + std::to_string(i + 1), key,
                 nr.good(find_column(d.columns, key, i, false))));
  }
  const bool moved = std::any_of(list.items.begin(), list.items.end(),
                                 [&](const ParamDist& x) { return !same(x, item); });
  return moved ? list : dist;
}

// A list of distributions narrowed element by element (a shared one draws
// its first element only, so only that one is narrowed).
ParamDist narrow_items(Narrower& nr, const SweepData& d, const std::string& key, ParamDist list,
                       bool shared) {
  for (size_t i = 0; i < list.items.size(); ++i) {
    if (!is_drawn(list.items[i])) continue;
    if (shared && i > 0) break;
    const ParamColumn* c = shared ? find_column(d.columns, key, -1, true)
                                  : find_column(d.columns, key, static_cast<int>(i), false);
    const std::string name =
        list_param_name(d.summary.family, key) + (shared ? "" : "_" + std::to_string(i + 1));
    list.items[i] = nr.apply(list.items[i], name, key, nr.good(c));
  }
  return list;
}

// One parameter of the space narrowed to its good range(s); `shared`: the
// refined space draws it once for every stage.
ParamDist narrow_param(Narrower& nr, const SweepData& d, const std::string& key,
                       const ParamDist& dist, bool shared) {
  if (dist.kind == DistKind::kList) return narrow_items(nr, d, key, dist, shared);
  if (!is_drawn(dist)) return dist;
  if (dist.length <= 0)
    return nr.apply(dist, key, key, nr.good(find_column(d.columns, key, -1, false)));
  if (shared)
    return nr.apply(dist, list_param_name(d.summary.family, key), key,
                    pooled(nr, d.columns, key, dist.length));
  return narrow_per_stage(nr, d, key, dist);
}

// Splits the models' errors by their violations v at the median `threshold`:
// "more constrained" is v <= median, or v < median (returns true) when ties
// at the median make that the more even split (b_i takes 3 values).
bool split_at_median(const std::vector<double>& v, double threshold,
                     const std::vector<double>& errors, std::vector<double>& more,
                     std::vector<double>& less) {
  const double t = threshold + 1e-12;
  const auto at_most =
      static_cast<size_t>(std::count_if(v.begin(), v.end(), [&](double x) { return x <= t; }));
  const auto below = static_cast<size_t>(
      std::count_if(v.begin(), v.end(), [&](double x) { return x < threshold - 1e-12; }));
  const auto imbalance = [&](size_t k) {
    return k > v.size() - k ? 2 * k - v.size() : v.size() - 2 * k;
  };
  const bool strict = below > 0 && imbalance(below) < imbalance(at_most);
  for (size_t i = 0; i < v.size(); ++i)
    ((strict ? v[i] < threshold - 1e-12 : v[i] <= t) ? more : less).push_back(errors[i]);
  return strict;
}

// The sentence for a judged constraint: its medians and KS test, and
// whether the models closer to meeting it are worse.
std::string verdict(const ConstraintEvidence& ev, const std::string& what, bool worse,
                    double significance) {
  const std::string medians = "median error " + fmt(ev.median_more) + " (" +
                              std::to_string(ev.n_more) + " models closer to " + what + ") vs " +
                              fmt(ev.median_less) + " (" + std::to_string(ev.n_less) +
                              " others), KS D " + fmt(ev.ks_d) + ", p " + fmt(ev.ks_p);
  if (worse) return "models closer to " + what + " are worse: " + medians;
  if (ev.median_more <= ev.median_less)
    return "models closer to " + what + " are no worse: " + medians;
  return "models closer to " + what + " are not significantly worse (p >= " + fmt(significance) +
         "): " + medians;
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
  std::vector<double> more, less;
  const bool strict = split_at_median(v, ev.threshold, errors, more, less);
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
  ev.reason = verdict(ev, what, worse, significance);
  return ev;
}

RefineResult refine_space(const store::Reader& reader, const std::string& sweep,
                          const RefineOptions& o) {
  if (o.bootstrap_resamples < 1)
    throw std::invalid_argument("bootstrap resamples must be >= 1, got " +
                                std::to_string(o.bootstrap_resamples));
  const SweepData d = load_sweep(reader, sweep);
  if (!d.design)
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
    result.constraint = next_constraint(d, *d.design, o.significance, result.notes);
  const ConstraintEvidence* add =
      result.constraint && result.constraint->supported ? &*result.constraint : nullptr;

  sampler::DesignSpace space = *d.design;
  for (auto& [key, dist] : space.params) {
    const bool shared =
        contains(d.design->shared, key) || (add && add->kind == "shared" && add->key == key);
    dist = narrow_param(nr, d, key, dist, shared);
  }
  if (add) constraint_list(space, add->kind).push_back(add->key);
  space.name = o.name.empty() ? sweep + "_refined" : o.name;
  space.description = "Refined from sweep '" + sweep + "' (" + std::to_string(d.size()) +
                      " models): ranges narrowed to bootstrap good ranges";
  if (add)
    space.description += "; adds " +
                         std::string(add->kind == "shared" ? "a shared " : "non-decreasing ") +
                         add->key + " (" + add->space_name + ")";
  space.parent = sweep;
  result.space = sampler::to_json(space);
  return result;
}

}  // namespace nds::reports
