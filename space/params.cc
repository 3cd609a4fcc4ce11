#include "space/params.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "space/limits.h"

namespace nds {

std::string JsonName::str() const {
  return prefix + ": '" + key + (index >= 0 ? "[" + std::to_string(index) + "]'" : "'");
}

int json_int(const nlohmann::json& v, const JsonName& name) {
  const auto in_range = [](auto x) { return x >= -limits::kMaxInt && x <= limits::kMaxInt; };
  if (v.is_number_unsigned()) {
    // Read as unsigned: 2^64 - 1 must not wrap to -1.
    if (v.get<std::uint64_t>() <= static_cast<std::uint64_t>(limits::kMaxInt))
      return static_cast<int>(v.get<std::uint64_t>());
  } else if (v.is_number_integer()) {
    if (in_range(v.get<std::int64_t>())) return static_cast<int>(v.get<std::int64_t>());
  } else if (v.is_number_float()) {
    const double x = v.get<double>();
    if (!std::isfinite(x) || x != std::floor(x))
      throw std::invalid_argument(name.str() + " must be an integer, got " + json_text(v));
    if (in_range(x)) return static_cast<int>(x);
  } else {
    throw std::invalid_argument(name.str() + " must be an integer, got " + json_text(v));
  }
  throw std::invalid_argument(name.str() + " must be an integer of magnitude at most " +
                              std::to_string(limits::kMaxInt) + ", got " + json_text(v));
}

double json_number(const nlohmann::json& v, const JsonName& name) {
  if (!v.is_number())
    throw std::invalid_argument(name.str() + " must be a number, got " + json_text(v));
  const double x = v.get<double>();
  if (!std::isfinite(x))
    throw std::invalid_argument(name.str() + " must be a finite number, got " + format_number(x));
  return x;
}

bool json_bool(const nlohmann::json& v, const JsonName& name) {
  if (!v.is_boolean())
    throw std::invalid_argument(name.str() + " must be true or false, got " + json_text(v));
  return v.get<bool>();
}

std::string json_string(const nlohmann::json& v, const JsonName& name) {
  if (!v.is_string())
    throw std::invalid_argument(name.str() + " must be a string, got " + json_text(v));
  return v.get<std::string>();
}

std::string json_text(const nlohmann::json& v) {
  constexpr size_t kMaxChars = 80;
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() <= kMaxChars) return s;
  size_t cut = kMaxChars;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // mid-character
  return s.substr(0, cut) + "...";
}

ParamReader::ParamReader(const nlohmann::json& params, std::string family)
    : params_(params), family_(std::move(family)) {
  if (!params_.is_object()) fail("parameters must be a JSON object, got " + json_text(params_));
}

bool ParamReader::has(const char* key) const { return params_.contains(key); }

const nlohmann::json* ParamReader::find(const char* key) {
  used_.emplace_back(key);
  auto it = params_.find(key);
  return it == params_.end() ? nullptr : &*it;
}

void ParamReader::fail(const std::string& message) const {
  throw std::invalid_argument(family_ + ": " + message);
}

int ParamReader::get_int(const char* key, int fallback) {
  const nlohmann::json* v = find(key);
  return v ? json_int(*v, JsonName{family_, key}) : fallback;
}

double ParamReader::get_double(const char* key, double fallback) {
  const nlohmann::json* v = find(key);
  return v ? json_number(*v, JsonName{family_, key}) : fallback;
}

bool ParamReader::get_bool(const char* key, bool fallback) {
  const nlohmann::json* v = find(key);
  return v ? json_bool(*v, JsonName{family_, key}) : fallback;
}

std::string ParamReader::get_string(const char* key, const std::string& fallback) {
  const nlohmann::json* v = find(key);
  return v ? json_string(*v, JsonName{family_, key}) : fallback;
}

std::vector<int> ParamReader::get_ints(const char* key, const std::vector<int>& fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_array())
    fail(std::string("'") + key + "' must be a list of integers, got " + json_text(*v));
  std::vector<int> out;
  for (size_t i = 0; i < v->size(); ++i)
    out.push_back(json_int((*v)[i], JsonName{family_, key, static_cast<int>(i)}));
  return out;
}

std::vector<double> ParamReader::get_doubles(const char* key, const std::vector<double>& fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_array())
    fail(std::string("'") + key + "' must be a list of numbers, got " + json_text(*v));
  std::vector<double> out;
  for (size_t i = 0; i < v->size(); ++i)
    out.push_back(json_number((*v)[i], JsonName{family_, key, static_cast<int>(i)}));
  return out;
}

int ParamReader::require_int(const char* key) {
  if (!has(key)) fail(std::string("missing required key '") + key + "'");
  return get_int(key, 0);
}

double ParamReader::require_double(const char* key) {
  if (!has(key)) fail(std::string("missing required key '") + key + "'");
  return get_double(key, 0);
}

std::vector<int> ParamReader::require_ints(const char* key) {
  if (!has(key)) fail(std::string("missing required key '") + key + "'");
  return get_ints(key, {});
}

void ParamReader::finish() const {
  for (const auto& item : params_.items()) {
    const std::string& key = item.key();
    if (key == "family") continue;
    if (std::find(used_.begin(), used_.end(), key) == used_.end())
      fail("unknown key '" + key + "'");
  }
}

void param_error(const std::string& family, const std::string& what, const std::string& rule,
                 const std::string& value) {
  throw std::invalid_argument(family + ": " + what + " must be " + rule + ", got " + value);
}

// Only the side that is broken is named, so that the message reads as one rule.
std::string range_rule(std::int64_t value, std::int64_t lo, std::int64_t hi) {
  return value < lo ? ">= " + std::to_string(lo) : "at most " + std::to_string(hi);
}

void range_error(const std::string& family, const char* key, int index, std::int64_t value,
                 std::int64_t lo, std::int64_t hi) {
  const std::string what = index >= 0 ? key + ("[" + std::to_string(index) + "]") : key;
  param_error(family, what, range_rule(value, lo, hi), std::to_string(value));
}

std::string format_number(double v) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string format_list(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace nds
