#include "reports/sweep_data.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "analysis/width_fit.h"

namespace nds::reports {
namespace {

using json = nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kRegnetQuantum = 8;  // the rule's q (pycls's regnet q = 8)

// RegNet's parameters kept as indexed model columns (store/schema.h).
const char* const kRegnetColumns[] = {"depth", "w_0",         "w_a",
                                      "w_m",   "group_width", "bottleneck_ratio"};

bool is_regnet_column(const std::string& key) {
  for (const char* k : kRegnetColumns)
    if (key == k) return true;
  return false;
}

double regnet_value(const store::TrialRecord& t, const std::string& key) {
  if (key == "depth") return t.depth ? static_cast<double>(*t.depth) : kNaN;
  if (key == "w_0") return t.w_0;
  if (key == "w_a") return t.w_a;
  if (key == "w_m") return t.w_m;
  if (key == "group_width") return t.group_width ? static_cast<double>(*t.group_width) : kNaN;
  return t.bottleneck_ratio;
}

bool is_power_of_two(double v) {
  if (!(v > 0) || !std::isfinite(v)) return false;
  int e = 0;
  return std::frexp(v, &e) == 0.5;
}

// The numeric range of one drawn parameter of a space: an int or float
// distribution, or a choice of numbers; nullopt for anything else.
struct DistRange {
  double low = 0;
  double high = 0;
  bool log_scale = false;
};

std::optional<DistRange> dist_range(const sampler::ParamDist& d) {
  DistRange out;
  if (d.kind == sampler::DistKind::kInt || d.kind == sampler::DistKind::kFloat) {
    out.low = d.low;
    out.high = d.high;
    out.log_scale = d.rand != sampler::RandType::kUniform && out.low > 0;
    return out;
  }
  if (d.kind != sampler::DistKind::kChoice || d.values.empty()) return std::nullopt;
  bool powers = true;
  out.low = std::numeric_limits<double>::infinity();
  out.high = -out.low;
  for (const json& v : d.values) {
    if (!v.is_number()) return std::nullopt;
    const double x = v.get<double>();
    out.low = std::min(out.low, x);
    out.high = std::max(out.high, x);
    powers = powers && is_power_of_two(x);
  }
  out.log_scale = powers && out.high > out.low;  // {1, 2, 4}: a log axis
  return out;
}

bool contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

ParamColumn make_column(const std::string& family, const std::string& key, int stage, bool shared,
                        const DistRange& r) {
  ParamColumn c;
  c.space_key = key;
  c.stage = stage;
  c.shared = shared;
  c.name = stage < 0 ? (shared ? list_param_name(family, key) : key)
                     : list_param_name(family, key) + "_" + std::to_string(stage + 1);
  c.log_scale = r.log_scale;
  c.space_range = json::array({r.low, r.high});
  return c;
}

// The design parameters the stored space draws: scalars, each element of a
// list, or one column for a shared list.
std::vector<ParamColumn> space_columns(const std::string& family,
                                       const std::optional<sampler::DesignSpace>& space) {
  std::vector<ParamColumn> out;
  if (!space) return out;
  for (const auto& [key, d] : space->params) {
    const bool shared = contains(space->shared, key);
    if (d.kind == sampler::DistKind::kList) {
      // A list of per-element distributions (a shared one draws its first).
      for (size_t i = 0; i < d.items.size(); ++i) {
        const std::optional<DistRange> r = dist_range(d.items[i]);
        if (!r) continue;
        if (shared) {
          out.push_back(make_column(family, key, -1, true, *r));
          break;
        }
        out.push_back(make_column(family, key, static_cast<int>(i), false, *r));
      }
      continue;
    }
    const std::optional<DistRange> r = dist_range(d);
    if (!r) continue;
    if (d.length <= 0) {
      out.push_back(make_column(family, key, -1, false, *r));
    } else if (shared) {
      out.push_back(make_column(family, key, -1, true, *r));
    } else {
      for (int i = 0; i < d.length; ++i) out.push_back(make_column(family, key, i, false, *r));
    }
  }
  return out;
}

// [lo, hi] of a complexity window, or null when absent or unbounded.
json window_range(const std::optional<sampler::DesignSpace>& space, sampler::Measure m) {
  if (!space) return nullptr;
  const sampler::Window& w = space->window(m);
  if (!w.on || w.hi == std::numeric_limits<std::int64_t>::max()) return nullptr;
  return json::array({static_cast<double>(w.lo), static_cast<double>(w.hi)});
}

// The stored space as the sampler reads it, or nullopt.
std::optional<sampler::DesignSpace> parse_stored_space(const json& space,
                                                       const std::string& sweep) {
  if (!space.is_object()) return std::nullopt;
  try {
    return sampler::parse_design_space(space, sweep);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

std::vector<int> to_ints(const std::vector<double>& v) {
  std::vector<int> out;
  out.reserve(v.size());
  for (double x : v) {
    if (!(std::fabs(x) < 1e9)) return {};
    out.push_back(static_cast<int>(std::llround(x)));
  }
  return out;
}

// Reads `"key": NUMBER` or `"key": [NUMBER, ...]` from a flat JSON object's
// text into `out` (a scalar as one element): the family parameters of
// 100,000 models are read in milliseconds this way, where a full JSON parse
// of each would take a second. False when the key is absent or holds
// anything else; the caller then parses the text properly.
bool scan_numbers(const std::string& text, const std::string& key, std::vector<double>& out) {
  out.clear();
  const std::string quoted = "\"" + key + "\"";
  const char* const begin = text.c_str();
  for (size_t pos = text.find(quoted); pos != std::string::npos; pos = text.find(quoted, pos + 1)) {
    size_t b = pos;
    while (b > 0 && std::isspace(static_cast<unsigned char>(text[b - 1]))) --b;
    if (b == 0 || (text[b - 1] != '{' && text[b - 1] != ',')) continue;  // inside a string
    const char* p = begin + pos + quoted.size();
    while (std::isspace(static_cast<unsigned char>(*p))) ++p;
    if (*p != ':') continue;
    ++p;
    while (std::isspace(static_cast<unsigned char>(*p))) ++p;
    const bool list = *p == '[';
    if (list) ++p;
    for (;;) {
      while (std::isspace(static_cast<unsigned char>(*p))) ++p;
      if (list && *p == ']' && out.empty()) return true;  // an empty list
      if (!(*p == '-' || (*p >= '0' && *p <= '9'))) return false;
      char* end = nullptr;
      const double v = std::strtod(p, &end);
      if (end == p) return false;
      out.push_back(v);
      p = end;
      if (!list) return true;
      while (std::isspace(static_cast<unsigned char>(*p))) ++p;
      if (*p == ']') return true;
      if (*p != ',') return false;
      ++p;
    }
  }
  return false;
}

// Each key's value(s) in one model's family parameters; empty when absent or
// not numeric.
void read_keys(const std::string& params_json, const std::vector<std::string>& keys,
               std::vector<std::vector<double>>& found) {
  bool all = true;
  for (size_t k = 0; k < keys.size(); ++k)
    all = scan_numbers(params_json, keys[k], found[k]) && all;
  if (all) return;
  const json fp = json::parse(params_json, nullptr, false);
  for (size_t k = 0; k < keys.size(); ++k) {
    found[k].clear();
    if (!fp.is_object() || !fp.contains(keys[k])) continue;
    const json& v = fp[keys[k]];
    if (v.is_number()) {
      found[k].push_back(v.get<double>());
    } else if (v.is_array()) {
      for (const json& x : v) {
        if (!x.is_number()) {
          found[k].clear();
          break;
        }
        found[k].push_back(x.get<double>());
      }
    }
  }
}

// The sweep's row: its summary, stored space and recipe, and the design
// parameter columns the space draws (for a regnet sweep without a stored
// space, the rule's indexed columns).
void read_sweep_row(SweepData& data, store::SweepSummary summary) {
  data.summary = std::move(summary);
  data.space = json::parse(data.summary.space_json, nullptr, false);
  if (data.space.is_discarded()) data.space = nullptr;
  data.recipe = json::parse(data.summary.recipe_json, nullptr, false);
  if (data.recipe.is_discarded()) data.recipe = nullptr;
  data.design = parse_stored_space(data.space, data.summary.name);
  data.columns = space_columns(data.summary.family, data.design);
  if (data.summary.family == "regnet" && !data.design) {
    // No stored space to read: the rule's parameters, kept when they vary.
    for (const char* k : kRegnetColumns) {
      ParamColumn c;
      c.name = c.space_key = k;
      c.log_scale = c.name == "w_0" || c.name == "w_a" || c.name == "group_width";
      data.columns.push_back(std::move(c));
    }
  }
}

// The family-parameter keys each model's values are read from, and which of
// them feeds each column. RegNet reads the indexed columns; other families
// read their family parameters (AnyNet needs its stage lists anyway: keys 0
// and 1 are its depths and widths).
struct FamilyKeys {
  std::vector<std::string> keys;
  std::vector<size_t> column_key;  // per column: its index in keys
};

FamilyKeys family_keys(const SweepData& data) {
  FamilyKeys out;
  const bool regnet = data.summary.family == "regnet";
  const auto need = [&](const std::string& k) {
    if (!contains(out.keys, k)) out.keys.push_back(k);
  };
  if (data.summary.family == "anynet") {
    need("depths");
    need("widths");
  }
  for (const ParamColumn& c : data.columns)
    if (!(regnet && is_regnet_column(c.space_key))) need(c.space_key);
  for (const ParamColumn& c : data.columns)
    out.column_key.push_back(static_cast<size_t>(
        std::find(out.keys.begin(), out.keys.end(), c.space_key) - out.keys.begin()));
  return out;
}

// Appends one completed sample's row: its error, complexity, shape and
// column values (`found`: its values of keys.keys).
void add_model(SweepData& data, const store::TrialRecord& t, const FamilyKeys& keys,
               const std::vector<std::vector<double>>& found) {
  const bool regnet = data.summary.family == "regnet";
  data.errors.push_back(t.top1_err);
  data.flops.push_back(static_cast<double>(t.flops));
  data.params.push_back(static_cast<double>(t.params));
  data.acts.push_back(static_cast<double>(t.acts));
  data.sample_index.push_back(t.sample_index);
  data.trial_id.push_back(t.id);
  data.hashes.push_back(t.model_hash);
  data.params_json.push_back(t.params_json);
  ModelShape shape;
  if (regnet) {
    shape.w_0 = t.w_0;
    shape.w_a = t.w_a;
    shape.w_m = t.w_m;
    shape.depth = t.depth ? static_cast<int>(*t.depth) : 0;
  } else if (data.summary.family == "anynet") {
    shape.stage_depths = to_ints(found[0]);
    shape.stage_widths = to_ints(found[1]);
  }
  data.shapes.push_back(std::move(shape));
  for (size_t k = 0; k < data.columns.size(); ++k) {
    ParamColumn& c = data.columns[k];
    double v = kNaN;
    if (regnet && is_regnet_column(c.space_key)) {
      v = regnet_value(t, c.space_key);
    } else {
      const std::vector<double>& x = found[keys.column_key[k]];
      const size_t at = static_cast<size_t>(std::max(c.stage, 0));
      if (at < x.size()) v = x[at];
    }
    c.values.push_back(v);
  }
}

// A parameter some model lacks (a family's optional key) is no column, nor,
// without a stored space, one that never varies; a column with a value <= 0
// is not drawn on a log scale.
void drop_unusable_columns(SweepData& data) {
  const size_t n = data.size();
  const bool has_space = data.design.has_value();
  data.columns.erase(std::remove_if(data.columns.begin(), data.columns.end(),
                                    [&](const ParamColumn& c) {
                                      for (double v : c.values)
                                        if (!std::isfinite(v)) return true;
                                      if (!has_space && n > 0) {
                                        const auto [lo, hi] =
                                            std::minmax_element(c.values.begin(), c.values.end());
                                        return *lo == *hi;  // nothing to analyse
                                      }
                                      return false;
                                    }),
                     data.columns.end());
  for (ParamColumn& c : data.columns)
    if (c.log_scale)
      for (double v : c.values)
        if (!(v > 0)) {
          c.log_scale = false;
          break;
        }
}

}  // namespace

std::string list_param_name(const std::string& family, const std::string& key) {
  if (family == "anynet") {
    if (key == "depths") return "d";
    if (key == "widths") return "w";
    if (key == "bottleneck_ratios") return "b";
    if (key == "group_widths") return "g";
    if (key == "strides") return "s";
  }
  return key;
}

SweepData load_sweep(const store::Reader& reader, const std::string& sweep) {
  SweepData data;
  reader.snapshot([&] {
    read_sweep_row(data, reader.sweep(sweep));
    const FamilyKeys keys = family_keys(data);
    std::vector<std::vector<double>> found(keys.keys.size());
    store::TrialQuery query;
    query.state = store::TrialState::kComplete;
    reader.for_each_trial(sweep, query, [&](const store::TrialRecord& t) {
      if (!std::isfinite(t.top1_err)) return;  // COMPLETE always has one; be safe
      if (!t.reference.empty()) {
        data.references.push_back({t.reference, t.sample_index, t.id, t.top1_err,
                                   static_cast<double>(t.flops), static_cast<double>(t.params),
                                   static_cast<double>(t.acts), t.model_hash});
        return;
      }
      read_keys(t.params_json, keys.keys, found);
      add_model(data, t, keys, found);
    });
  });
  drop_unusable_columns(data);
  return data;
}

std::vector<ParamColumn> measure_columns(const SweepData& data) {
  std::vector<ParamColumn> out;
  const std::pair<sampler::Measure, const std::vector<double>*> measures[] = {
      {sampler::Measure::kFlops, &data.flops},
      {sampler::Measure::kParams, &data.params},
      {sampler::Measure::kActs, &data.acts}};
  for (const auto& [measure, values] : measures) {
    ParamColumn c;
    c.name = sampler::to_string(measure);
    c.log_scale = std::all_of(values->begin(), values->end(), [](double v) { return v > 0; });
    c.values = *values;
    c.space_range = window_range(data.design, measure);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<int> block_widths(const SweepData& data, size_t i) {
  const ModelShape& s = data.shapes.at(i);
  const std::string& family = data.summary.family;
  std::vector<int> out;
  if (family == "regnet") {
    const double w_0 = std::nearbyint(s.w_0);
    if (!(w_0 >= 1 && w_0 < 1e9) || s.depth < 1) return out;
    try {
      out = analysis::quantized_linear_widths(s.w_a, static_cast<int>(w_0), s.w_m, s.depth,
                                              kRegnetQuantum);
    } catch (const std::invalid_argument&) {
      out.clear();  // not a rule pycls would sample (w_m <= 1, ...): no widths to show
    }
  } else if (family == "anynet") {
    if (s.stage_depths.size() != s.stage_widths.size()) return out;
    for (size_t k = 0; k < s.stage_depths.size(); ++k) {
      if (s.stage_depths[k] < 0 || s.stage_depths[k] > 100000 || s.stage_widths[k] <= 0) return {};
      out.insert(out.end(), static_cast<size_t>(s.stage_depths[k]), s.stage_widths[k]);
    }
  }
  return out;
}

}  // namespace nds::reports
