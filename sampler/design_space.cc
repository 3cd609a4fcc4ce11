#include "sampler/design_space.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <utility>

#include "sampler/hash.h"
#include "sampler/units.h"
#include "space/anynet.h"
#include "space/densenet.h"
#include "space/family.h"
#include "space/params.h"
#include "space/regnet.h"
#include "space/resnet.h"
#include "space/vgg.h"
#include "space/zoo.h"

namespace nds::sampler {
namespace {

using nlohmann::json;

// j.dump(), with text that is not valid UTF-8 replaced (U+FFFD) instead of
// thrown on: a bad byte in a name or message must not fail the write.
std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr int kMaxListLength = 64;
constexpr int kMaxBins = 10000;

// Errors carry the origin and the key path: "regnet_x: params.w_0: ...".
class Context {
 public:
  explicit Context(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw std::invalid_argument(origin_ + ": " + path + ": " + message);
  }

  // Rejects keys of `j` outside `allowed`, naming the first one.
  void only_keys(const json& j, const std::string& path,
                 std::initializer_list<const char*> allowed) const {
    for (const auto& item : j.items()) {
      const bool known = std::any_of(allowed.begin(), allowed.end(),
                                     [&](const char* k) { return item.key() == k; });
      if (known) continue;
      std::string list;
      for (const char* k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(path.empty() ? item.key() : path + "." + item.key(),
           "unknown key '" + item.key() + "' (known: " + list + ")");
    }
  }

  double number(const json& v, const std::string& path) const {
    if (!v.is_number()) fail(path, "must be a number, got " + json_text(v));
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail(path, "must be finite, got " + json_text(v));
    return x;
  }

  int integer(const json& v, const std::string& path, int lo, int hi) const {
    const double x = number(v, path);
    if (x != std::floor(x)) fail(path, "must be an integer, got " + json_text(v));
    if (x < lo || x > hi)
      fail(path, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                     json_text(v));
    return static_cast<int>(x);
  }

  std::string string(const json& v, const std::string& path) const {
    if (!v.is_string()) fail(path, "must be a string, got " + json_text(v));
    return v.get<std::string>();
  }

  const json& require(const json& j, const char* key, const std::string& path) const {
    const auto it = j.find(key);
    if (it == j.end()) fail(path, std::string("missing required key '") + key + "'");
    return *it;
  }

 private:
  std::string origin_;
};

bool is_distribution_object(const json& v) { return v.is_object(); }

ParamDist parse_dist(const Context& cx, const json& v, const std::string& path) {
  ParamDist d;
  if (v.is_array() && std::any_of(v.begin(), v.end(), is_distribution_object)) {
    d.kind = DistKind::kList;
    if (v.size() > static_cast<size_t>(kMaxListLength))
      cx.fail(path, "lists hold at most " + std::to_string(kMaxListLength) + " elements");
    for (size_t i = 0; i < v.size(); ++i)
      d.items.push_back(parse_dist(cx, v[i], path + "[" + std::to_string(i) + "]"));
    for (const ParamDist& item : d.items)
      if (item.is_list()) cx.fail(path, "list elements must be scalar distributions");
    return d;
  }
  if (!v.is_object()) {
    d.kind = DistKind::kFixed;
    d.value = v;
    return d;
  }
  if (!v.contains("dist"))
    cx.fail(path, "a distribution needs 'dist' (fixed, choice, int or float), got " + json_text(v));
  const std::string dist = cx.string(v["dist"], path + ".dist");
  const auto length = [&]() {
    return v.contains("length") ? cx.integer(v["length"], path + ".length", 1, kMaxListLength)
                                : 0;
  };
  if (dist == "fixed") {
    cx.only_keys(v, path, {"dist", "value"});
    d.kind = DistKind::kFixed;
    d.value = cx.require(v, "value", path);
    return d;
  }
  if (dist == "choice") {
    cx.only_keys(v, path, {"dist", "values", "length"});
    d.kind = DistKind::kChoice;
    const json& values = cx.require(v, "values", path);
    if (!values.is_array() || values.empty())
      cx.fail(path + ".values", "must be a non-empty list, got " + json_text(values));
    d.values.assign(values.begin(), values.end());
    d.length = length();
    return d;
  }
  if (dist == "int" || dist == "float") {
    cx.only_keys(v, path, {"dist", "rand", "low", "high", "q", "length"});
    d.kind = dist == "int" ? DistKind::kInt : DistKind::kFloat;
    d.rand = v.contains("rand")
                 ? rand_type_from_string(cx.string(v["rand"], path + ".rand"), path + ".rand")
                 : RandType::kUniform;
    d.low = cx.number(cx.require(v, "low", path), path + ".low");
    d.high = cx.number(cx.require(v, "high", path), path + ".high");
    // A float's step is part of its meaning (pycls quantizes every draw), so
    // it is not guessed; an int steps by 1 unless told.
    if (d.kind == DistKind::kFloat && !v.contains("q"))
      cx.fail(path, "missing required key 'q' (the quantization step of a float)");
    d.q = v.contains("q") ? cx.number(v["q"], path + ".q") : 1;
    validate_range(d.rand, d.low, d.high, d.q, d.kind == DistKind::kInt, path);
    d.range = QuantizedRange(d.rand, d.low, d.high, d.q);
    if (d.kind == DistKind::kInt && (std::fabs(d.low) > 1e9 || std::fabs(d.high) > 1e9))
      cx.fail(path, "int ranges must lie within [-1e9, 1e9]");
    d.length = length();
    return d;
  }
  cx.fail(path + ".dist", "unknown dist '" + dist + "' (fixed, choice, int, float)");
}

// A value the distribution can produce, for checking keys and types against
// the family before any sampling.
json representative(const ParamDist& d) {
  json one;
  switch (d.kind) {
    case DistKind::kFixed: return d.value;
    case DistKind::kChoice: one = d.values.front(); break;
    case DistKind::kInt: one = static_cast<std::int64_t>(d.high); break;
    case DistKind::kFloat: one = d.high; break;
    case DistKind::kList: {
      json list = json::array();
      for (const ParamDist& item : d.items) list.push_back(representative(item));
      return list;
    }
  }
  if (d.length == 0) return one;
  return json(static_cast<size_t>(d.length), one);
}

bool numeric(const ParamDist& d) {
  switch (d.kind) {
    case DistKind::kFixed: return d.value.is_number();
    case DistKind::kChoice:
      return std::all_of(d.values.begin(), d.values.end(),
                         [](const json& v) { return v.is_number(); });
    case DistKind::kInt:
    case DistKind::kFloat: return true;
    case DistKind::kList: return std::all_of(d.items.begin(), d.items.end(), numeric);
  }
  return false;
}

// Runs the family's own parameter reader over representative values, so that
// an unknown or misspelt key, a missing required key or a wrongly typed value
// fails now, naming the key, instead of rejecting every candidate later.
void check_family_keys(const Context& cx, const std::string& family, const json& probe) {
  try {
    ParamReader r(probe, family);
    if (family == "anynet") anynet_params_from_json(r);
    else if (family == "regnet") regnet_params_from_json(r);
    else if (family == "resnet") resnet_params_from_json(r);
    else if (family == "densenet") densenet_params_from_json(r);
    else if (family == "vgg") vgg_params_from_json(r);
    r.finish();
  } catch (const std::invalid_argument& e) {
    cx.fail("params", e.what());
  }
}

Window parse_window(const Context& cx, const json& v, const std::string& path) {
  Window w;
  w.on = true;
  if (v.is_string()) {
    const CountRange r = parse_count_range(v.get<std::string>(), path);
    w.lo = r.lo;
    w.hi = r.hi;
    return w;
  }
  if (!v.is_array() || v.size() != 2)
    cx.fail(path, "must be [low, high] (numbers, or counts like \"360M\"), got " + json_text(v));
  const auto bound = [&](const json& b, const std::string& at, bool upper) -> std::int64_t {
    if (upper && b.is_null()) return std::numeric_limits<std::int64_t>::max();
    if (b.is_string()) return parse_count(b.get<std::string>(), at);
    const double x = cx.number(b, at);
    if (x < 0 || x >= 9.2e18) cx.fail(at, "must be a count >= 0, got " + json_text(b));
    return std::llround(x);
  };
  w.lo = bound(v[0], path + "[0]", false);
  w.hi = bound(v[1], path + "[1]", true);
  if (w.lo > w.hi)
    cx.fail(path, "low " + std::to_string(w.lo) + " > high " + std::to_string(w.hi));
  return w;
}

std::vector<std::string> parse_list_keys(const Context& cx, const json& v, const std::string& path,
                                         const std::map<std::string, ParamDist>& params) {
  if (!v.is_array()) cx.fail(path, "must be a list of parameter names, got " + json_text(v));
  std::vector<std::string> keys;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    const std::string key = cx.string(v[i], at);
    const auto it = params.find(key);
    if (it == params.end()) cx.fail(at, "'" + key + "' is not a parameter of the space");
    if (!it->second.is_list())
      cx.fail(at, "'" + key + "' is not a list distribution (give it a 'length' or a list of "
                              "distributions)");
    if (std::find(keys.begin(), keys.end(), key) != keys.end())
      cx.fail(at, "'" + key + "' is listed twice");
    keys.push_back(key);
  }
  return keys;
}

Measure measure_from_string(const Context& cx, const std::string& s, const std::string& path) {
  for (Measure m : {Measure::kFlops, Measure::kParams, Measure::kActs})
    if (s == to_string(m)) return m;
  cx.fail(path, "unknown measure '" + s + "' (flops, params, acts)");
}

json dist_to_json(const ParamDist& d) {
  json j;
  switch (d.kind) {
    case DistKind::kFixed: {
      const bool plain = !d.value.is_object() &&
                         !(d.value.is_array() &&
                           std::any_of(d.value.begin(), d.value.end(), is_distribution_object));
      return plain ? d.value : json{{"dist", "fixed"}, {"value", d.value}};
    }
    case DistKind::kChoice:
      j = {{"dist", "choice"}, {"values", d.values}};
      break;
    case DistKind::kInt:
      j = {{"dist", "int"},
           {"rand", to_string(d.rand)},
           {"low", static_cast<std::int64_t>(d.low)},
           {"high", static_cast<std::int64_t>(d.high)},
           {"q", static_cast<std::int64_t>(d.q)}};
      break;
    case DistKind::kFloat:
      j = {{"dist", "float"}, {"rand", to_string(d.rand)}, {"low", d.low}, {"high", d.high},
           {"q", d.q}};
      break;
    case DistKind::kList: {
      json list = json::array();
      for (const ParamDist& item : d.items) list.push_back(dist_to_json(item));
      return list;
    }
  }
  if (d.length > 0) j["length"] = d.length;
  return j;
}

json window_to_json(const Window& w) {
  return json::array(
      {w.lo, w.hi == std::numeric_limits<std::int64_t>::max() ? json(nullptr) : json(w.hi)});
}

}  // namespace

void apply_overrides(json& j, const SpaceOverrides& o, const std::string& origin) {
  if (!j.is_object()) throw std::invalid_argument(origin + ": a space must be a JSON object");
  if (o.resolution) j["resolution"] = *o.resolution;
  if (o.num_classes) j["num_classes"] = *o.num_classes;
  if (o.in_channels) j["in_channels"] = *o.in_channels;
  const std::pair<const char*, const std::optional<Window>*> windows[] = {
      {"flops", &o.flops}, {"params", &o.params}, {"acts", &o.acts}};
  for (const auto& [key, w] : windows) {
    if (!*w) continue;
    if (j.contains("constraints") && !j["constraints"].is_object())
      throw std::invalid_argument(origin + ": constraints must be a JSON object");
    j["constraints"][key] = window_to_json(**w);
  }
  if (!o.include.empty()) {
    json inc = j.contains("include") ? j["include"] : json::array();
    if (!inc.is_array()) throw std::invalid_argument(origin + ": include must be a list");
    for (const std::string& name : o.include)
      if (std::find(inc.begin(), inc.end(), json(name)) == inc.end()) inc.push_back(name);
    j["include"] = inc;
  }
  if (o.stratify_bins > 0) {
    j["stratify"] = {{"bins", o.stratify_bins}};
    if (o.stratify_by) j["stratify"]["by"] = *o.stratify_by;
  }
  if (o.max_attempts) j["max_attempts"] = *o.max_attempts;
}

std::int64_t default_max_attempts(const std::string& family) {
  return family == "anynet" || family == "regnet" ? kDefaultMaxAttemptsEstimated
                                                  : kDefaultMaxAttempts;
}

const char* to_string(Measure m) {
  switch (m) {
    case Measure::kFlops: return "flops";
    case Measure::kParams: return "params";
    case Measure::kActs: return "acts";
  }
  return "?";
}

const Window& DesignSpace::window(Measure m) const {
  switch (m) {
    case Measure::kFlops: return flops;
    case Measure::kParams: return params_count;
    case Measure::kActs: return acts;
  }
  return flops;
}

DesignSpace parse_design_space(const json& j, const std::string& origin) {
  const Context cx(origin);
  if (!j.is_object()) cx.fail("space", "must be a JSON object, got " + json_text(j));
  cx.only_keys(j, "", {"name", "description", "family", "resolution", "num_classes",
                       "in_channels", "params", "constraints", "stratify", "max_attempts",
                       "include", "parent"});
  DesignSpace s;
  s.name = j.contains("name") ? cx.string(j["name"], "name") : origin;
  if (j.contains("description")) s.description = cx.string(j["description"], "description");
  s.family = cx.string(cx.require(j, "family", "space"), "family");
  const bool known_family = std::any_of(families().begin(), families().end(),
                                        [&](const FamilyInfo& f) { return s.family == f.name; });
  if (!known_family) {
    std::string list;
    for (const FamilyInfo& f : families()) list += (list.empty() ? "" : ", ") + std::string(f.name);
    cx.fail("family", "unknown family '" + s.family + "' (known: " + list + ")");
  }
  if (j.contains("resolution")) s.resolution = cx.integer(j["resolution"], "resolution", 1, 4096);
  if (j.contains("num_classes"))
    s.num_classes = cx.integer(j["num_classes"], "num_classes", 1, 1 << 24);
  if (j.contains("in_channels"))
    s.in_channels = cx.integer(j["in_channels"], "in_channels", 1, 1 << 16);
  s.max_attempts = default_max_attempts(s.family);
  if (j.contains("max_attempts")) {
    const double m = cx.number(j["max_attempts"], "max_attempts");
    if (m < 1 || m > 1e12 || m != std::floor(m))
      cx.fail("max_attempts",
              "must be an integer in [1, 1e12], got " + json_text(j["max_attempts"]));
    s.max_attempts = static_cast<std::int64_t>(m);
  }

  if (j.contains("params")) {
    const json& params = j["params"];
    if (!params.is_object()) cx.fail("params", "must be a JSON object, got " + json_text(params));
    for (const auto& item : params.items()) {
      const std::string path = "params." + item.key();
      if (item.key() == "family" || item.key() == "num_classes" || item.key() == "in_channels")
        cx.fail(path, "'" + item.key() + "' belongs at the top level of the space");
      s.params[item.key()] = parse_dist(cx, item.value(), path);
    }
  }
  json probe = {{"family", s.family}};
  for (const auto& [key, d] : s.params) probe[key] = representative(d);
  check_family_keys(cx, s.family, probe);

  if (j.contains("constraints")) {
    const json& c = j["constraints"];
    if (!c.is_object()) cx.fail("constraints", "must be a JSON object, got " + json_text(c));
    cx.only_keys(c, "constraints",
                 {"flops", "params", "acts", "shared", "non_decreasing", "num_stages"});
    if (c.contains("flops")) s.flops = parse_window(cx, c["flops"], "constraints.flops");
    if (c.contains("params"))
      s.params_count = parse_window(cx, c["params"], "constraints.params");
    if (c.contains("acts")) s.acts = parse_window(cx, c["acts"], "constraints.acts");
    if (c.contains("shared"))
      s.shared = parse_list_keys(cx, c["shared"], "constraints.shared", s.params);
    if (c.contains("non_decreasing")) {
      s.non_decreasing =
          parse_list_keys(cx, c["non_decreasing"], "constraints.non_decreasing", s.params);
      for (const std::string& key : s.non_decreasing)
        if (!numeric(s.params.at(key)))
          cx.fail("constraints.non_decreasing", "'" + key + "' does not draw numbers");
    }
    if (c.contains("num_stages")) {
      const std::string path = "constraints.num_stages";
      if (s.family != "regnet")
        cx.fail(path, "applies to the regnet family only, not " + s.family);
      const json& v = c["num_stages"];
      if (!v.is_array() || v.size() != 2) cx.fail(path, "must be [low, high], got " + json_text(v));
      s.min_stages = cx.integer(v[0], path + "[0]", 1, 1000);
      s.max_stages = cx.integer(v[1], path + "[1]", 1, 1000);
      if (s.min_stages > s.max_stages)
        cx.fail(path, "low " + std::to_string(s.min_stages) + " > high " +
                          std::to_string(s.max_stages));
    }
  }

  if (j.contains("include")) {
    const json& inc = j["include"];
    if (!inc.is_array())
      cx.fail("include", "must be a list of fixed-point names, got " + json_text(inc));
    for (size_t i = 0; i < inc.size(); ++i) {
      const std::string path = "include[" + std::to_string(i) + "]";
      const std::string model = cx.string(inc[i], path);
      if (find_fixed_point(model) == nullptr)
        cx.fail(path, "unknown fixed point '" + model + "' (nds describe --list)");
      if (std::find(s.include.begin(), s.include.end(), model) != s.include.end())
        cx.fail(path, "'" + model + "' is listed twice");
      s.include.push_back(model);
    }
  }
  if (j.contains("parent")) s.parent = cx.string(j["parent"], "parent");

  if (j.contains("stratify")) {
    const json& st = j["stratify"];
    if (!st.is_object()) cx.fail("stratify", "must be {\"by\": MEASURE, \"bins\": B}");
    cx.only_keys(st, "stratify", {"by", "bins"});
    s.stratify_bins = cx.integer(cx.require(st, "bins", "stratify"), "stratify.bins", 1, kMaxBins);
    if (st.contains("by"))
      s.stratify_by = measure_from_string(cx, cx.string(st["by"], "stratify.by"), "stratify.by");
    const Window& w = s.window(s.stratify_by);
    const std::string m = to_string(s.stratify_by);
    if (!w.on || w.lo <= 0 || w.hi == std::numeric_limits<std::int64_t>::max())
      cx.fail("stratify", "needs a " + m + " window with low > 0 and a finite high (e.g. --" + m +
                              " 200M:800M)");
    if (w.lo == w.hi) cx.fail("stratify", "needs a " + m + " window with low < high");
  }
  return s;
}

json to_json(const ParamDist& dist) {
  return dist_to_json(dist);
}

ParamDist with_range(const ParamDist& dist, double low, double high, const std::string& what) {
  if (dist.kind != DistKind::kInt && dist.kind != DistKind::kFloat)
    throw std::invalid_argument(what + ": not a number range");
  ParamDist out = dist;
  const bool integer = dist.kind == DistKind::kInt;
  out.low = integer ? static_cast<double>(std::llround(low)) : low;
  out.high = integer ? static_cast<double>(std::llround(high)) : high;
  validate_range(out.rand, out.low, out.high, out.q, integer, what);
  out.range = QuantizedRange(out.rand, out.low, out.high, out.q);
  return out;
}

std::string range_text(const ParamDist& dist) {
  const json j = dist_to_json(dist);
  if (dist.kind == DistKind::kInt || dist.kind == DistKind::kFloat)
    return "[" + json_text(j["low"]) + ", " + json_text(j["high"]) + "]";
  if (dist.kind == DistKind::kChoice) return json_text(j["values"]);
  return json_text(j);
}

json to_json(const DesignSpace& s) {
  json j = canonical_json(s);
  j["name"] = s.name;
  j["description"] = s.description;
  j["max_attempts"] = s.max_attempts;
  if (!s.parent.empty()) j["parent"] = s.parent;
  return j;
}

json canonical_json(const DesignSpace& s) {
  json params = json::object();
  for (const auto& [key, d] : s.params) params[key] = dist_to_json(d);
  json c = json::object();
  if (s.flops.on) c["flops"] = window_to_json(s.flops);
  if (s.params_count.on) c["params"] = window_to_json(s.params_count);
  if (s.acts.on) c["acts"] = window_to_json(s.acts);
  if (!s.shared.empty()) c["shared"] = s.shared;
  if (!s.non_decreasing.empty()) c["non_decreasing"] = s.non_decreasing;
  if (s.max_stages > 0) c["num_stages"] = {s.min_stages, s.max_stages};
  json j = {{"family", s.family},           {"resolution", s.resolution},
            {"num_classes", s.num_classes}, {"in_channels", s.in_channels},
            {"params", std::move(params)},  {"constraints", std::move(c)}};
  if (s.stratify_bins > 0)
    j["stratify"] = {{"by", to_string(s.stratify_by)}, {"bins", s.stratify_bins}};
  // Only when present, so spaces without references keep their hashes.
  if (!s.include.empty()) j["include"] = s.include;
  return j;
}

std::uint64_t space_hash(const DesignSpace& s) {
  return fnv1a64(json_text(canonical_json(s)));
}

}  // namespace nds::sampler
