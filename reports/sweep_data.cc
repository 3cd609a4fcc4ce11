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

// The numeric range of one drawn parameter of a space (sampler's format:
// {"dist": "int"|"float", "rand": R, "low": L, "high": H, ...} or
// {"dist": "choice", "values": [...]}); nullopt for anything else.
struct DistRange {
  double low = 0;
  double high = 0;
  bool log_scale = false;
};

bool dist_range(const json& d, DistRange& out) {
  if (!d.is_object() || !d.contains("dist") || !d["dist"].is_string()) return false;
  const std::string kind = d["dist"].get<std::string>();
  if (kind == "int" || kind == "float") {
    if (!d.contains("low") || !d.contains("high") || !d["low"].is_number() ||
        !d["high"].is_number())
      return false;
    out.low = d["low"].get<double>();
    out.high = d["high"].get<double>();
    const std::string rand = d.contains("rand") && d["rand"].is_string()
                                 ? d["rand"].get<std::string>()
                                 : std::string("uniform");
    out.log_scale = rand != "uniform" && out.low > 0;
    return true;
  }
  if (kind == "choice") {
    if (!d.contains("values") || !d["values"].is_array() || d["values"].empty()) return false;
    bool powers = true;
    out.low = std::numeric_limits<double>::infinity();
    out.high = -out.low;
    for (const json& v : d["values"]) {
      if (!v.is_number()) return false;
      const double x = v.get<double>();
      out.low = std::min(out.low, x);
      out.high = std::max(out.high, x);
      powers = powers && is_power_of_two(x);
    }
    out.log_scale = powers && out.high > out.low;  // {1, 2, 4}: a log axis
    return true;
  }
  return false;
}

int list_length(const json& d) {
  if (d.is_object() && d.contains("length") && d["length"].is_number_integer())
    return d["length"].get<int>();
  return 0;
}

bool in_list(const json& space, const char* constraint, const std::string& key) {
  if (!space.is_object() || !space.contains("constraints")) return false;
  const json& c = space["constraints"];
  if (!c.is_object() || !c.contains(constraint) || !c[constraint].is_array()) return false;
  for (const json& k : c[constraint])
    if (k.is_string() && k.get<std::string>() == key) return true;
  return false;
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
std::vector<ParamColumn> space_columns(const std::string& family, const json& space) {
  std::vector<ParamColumn> out;
  if (!space.is_object() || !space.contains("params") || !space["params"].is_object()) return out;
  for (const auto& [key, v] : space["params"].items()) {
    const bool shared = in_list(space, "shared", key);
    DistRange r;
    if (v.is_object()) {
      if (!dist_range(v, r)) continue;
      const int length = list_length(v);
      if (length <= 0) {
        out.push_back(make_column(family, key, -1, false, r));
      } else if (shared) {
        ParamColumn c = make_column(family, key, -1, true, r);
        out.push_back(std::move(c));
      } else {
        for (int i = 0; i < length; ++i) out.push_back(make_column(family, key, i, false, r));
      }
    } else if (v.is_array()) {
      // A list of per-element distributions (a shared one draws its first).
      for (size_t i = 0; i < v.size(); ++i) {
        if (!dist_range(v[i], r)) continue;
        if (shared) {
          out.push_back(make_column(family, key, -1, true, r));
          break;
        }
        out.push_back(make_column(family, key, static_cast<int>(i), false, r));
      }
    }
  }
  return out;
}

// A count of the space format: a number, a string with a K/M/G/T suffix,
// or null (no bound).
bool parse_count(const json& v, double& out) {
  if (v.is_number()) {
    out = v.get<double>();
    return std::isfinite(out);
  }
  if (!v.is_string()) return false;
  const std::string s = v.get<std::string>();
  if (s.empty()) return false;
  char* end = nullptr;
  double x = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return false;
  const std::string suffix(end);
  if (suffix == "K" || suffix == "k")
    x *= 1e3;
  else if (suffix == "M" || suffix == "m")
    x *= 1e6;
  else if (suffix == "G" || suffix == "g")
    x *= 1e9;
  else if (suffix == "T" || suffix == "t")
    x *= 1e12;
  else if (!suffix.empty())
    return false;
  out = x;
  return std::isfinite(out);
}

// [lo, hi] of a complexity window, or null when absent or unbounded.
json window_range(const json& space, const char* measure) {
  if (!space.is_object() || !space.contains("constraints")) return nullptr;
  const json& c = space["constraints"];
  if (!c.is_object() || !c.contains(measure)) return nullptr;
  const json& w = c[measure];
  double lo = 0, hi = 0;
  if (w.is_array() && w.size() == 2) {
    if (!parse_count(w[0], lo) || !parse_count(w[1], hi)) return nullptr;
  } else if (w.is_string()) {
    const std::string s = w.get<std::string>();
    const size_t colon = s.find(':');
    if (colon == std::string::npos) return nullptr;
    const std::string a = s.substr(0, colon), b = s.substr(colon + 1);
    if (a.empty())
      lo = 0;
    else if (!parse_count(json(a), lo))
      return nullptr;
    if (!parse_count(json(b), hi)) return nullptr;
  } else {
    return nullptr;
  }
  return json::array({lo, hi});
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
  bool has_space_params = false;
  reader.snapshot([&] {
    data.summary = reader.sweep(sweep);
    const std::string& family = data.summary.family;
    data.space = json::parse(data.summary.space_json, nullptr, false);
    if (data.space.is_discarded()) data.space = nullptr;
    data.recipe = json::parse(data.summary.recipe_json, nullptr, false);
    if (data.recipe.is_discarded()) data.recipe = nullptr;

    const bool regnet = family == "regnet";
    const bool anynet = family == "anynet";
    has_space_params =
        data.space.is_object() && data.space.contains("params") && data.space["params"].is_object();
    data.columns = space_columns(family, data.space);
    if (regnet && !has_space_params) {
      // No stored space to read: the rule's parameters, kept when they vary.
      for (const char* k : kRegnetColumns) {
        ParamColumn c;
        c.name = c.space_key = k;
        c.log_scale = c.name == "w_0" || c.name == "w_a" || c.name == "group_width";
        data.columns.push_back(std::move(c));
      }
    }
    // RegNet reads the indexed columns; other families read their family
    // parameters (AnyNet needs its stage lists anyway).
    std::vector<std::string> keys;
    const auto need = [&](const std::string& k) {
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    };
    if (anynet) {
      need("depths");
      need("widths");
    }
    for (const ParamColumn& c : data.columns)
      if (!(regnet && is_regnet_column(c.space_key))) need(c.space_key);
    std::vector<size_t> column_key(data.columns.size());
    for (size_t k = 0; k < data.columns.size(); ++k)
      column_key[k] = static_cast<size_t>(
          std::find(keys.begin(), keys.end(), data.columns[k].space_key) - keys.begin());

    std::vector<std::vector<double>> found(keys.size());
    store::TrialQuery query;
    query.state = store::TrialState::kComplete;
    reader.for_each_trial(sweep, query, [&](const store::TrialRecord& t) {
      if (!std::isfinite(t.top1_err)) return;  // COMPLETE always has one; be safe
      if (!t.reference.empty()) {
        data.references.push_back({t.reference, t.sample_index, t.id, t.top1_err,
                                   static_cast<double>(t.flops), static_cast<double>(t.params),
                                   static_cast<double>(t.acts)});
        return;
      }
      read_keys(t.params_json, keys, found);
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
      } else if (anynet) {
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
          const std::vector<double>& x = found[column_key[k]];
          const size_t at = static_cast<size_t>(std::max(c.stage, 0));
          if (at < x.size()) v = x[at];
        }
        c.values.push_back(v);
      }
    });
  });

  // A parameter some model lacks (a family's optional key) is no column.
  const size_t n = data.size();
  data.columns.erase(std::remove_if(data.columns.begin(), data.columns.end(),
                                    [&](const ParamColumn& c) {
                                      for (double v : c.values)
                                        if (!std::isfinite(v)) return true;
                                      if (!has_space_params && n > 0) {
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
  return data;
}

std::vector<ParamColumn> measure_columns(const SweepData& data) {
  std::vector<ParamColumn> out;
  const std::pair<const char*, const std::vector<double>*> measures[] = {
      {"flops", &data.flops}, {"params", &data.params}, {"acts", &data.acts}};
  for (const auto& [name, values] : measures) {
    ParamColumn c;
    c.name = name;
    c.log_scale = std::all_of(values->begin(), values->end(), [](double v) { return v > 0; });
    c.values = *values;
    c.space_range = window_range(data.space, name);
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
