#include "space/params.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace nds {
ParamReader::ParamReader(const nlohmann::json& params, std::string family)
    : params_(params), family_(std::move(family)) {
  if (!params_.is_object()) fail("parameters must be a JSON object, got " + params_.dump());
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
  if (!v) return fallback;
  if (v->is_number_integer()) {
    const auto x = v->get<int64_t>();
    if (x < -(int64_t{1} << 30) || x > (int64_t{1} << 30))
      fail(std::string("'") + key + "' is out of range: " + v->dump());
    return static_cast<int>(x);
  }
  if (v->is_number_float()) {
    const double x = v->get<double>();
    if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) <= (1 << 30))
      return static_cast<int>(x);
  }
  fail(std::string("'") + key + "' must be an integer, got " + v->dump());
}

double ParamReader::get_double(const char* key, double fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_number()) fail(std::string("'") + key + "' must be a number, got " + v->dump());
  return v->get<double>();
}

bool ParamReader::get_bool(const char* key, bool fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) fail(std::string("'") + key + "' must be true or false, got " + v->dump());
  return v->get<bool>();
}

std::string ParamReader::get_string(const char* key, const std::string& fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_string()) fail(std::string("'") + key + "' must be a string, got " + v->dump());
  return v->get<std::string>();
}

std::vector<int> ParamReader::get_ints(const char* key, const std::vector<int>& fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_array())
    fail(std::string("'") + key + "' must be a list of integers, got " + v->dump());
  std::vector<int> out;
  for (const auto& e : *v) {
    if (!e.is_number_integer() && !(e.is_number_float() && e.get<double>() == std::floor(e.get<double>())))
      fail(std::string("'") + key + "' must be a list of integers, got " + v->dump());
    out.push_back(static_cast<int>(e.get<double>()));
  }
  return out;
}

std::vector<double> ParamReader::get_doubles(const char* key, const std::vector<double>& fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_array()) fail(std::string("'") + key + "' must be a list of numbers, got " + v->dump());
  std::vector<double> out;
  for (const auto& e : *v) {
    if (!e.is_number()) fail(std::string("'") + key + "' must be a list of numbers, got " + v->dump());
    out.push_back(e.get<double>());
  }
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
