#include "reports/render_util.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "reports/svg.h"

namespace nds::reports::render {

const Json& at(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  const auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::optional<double> number(const Json& v) {
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::vector<double> numbers(const Json& array) {
  std::vector<double> out;
  if (!array.is_array()) return out;
  out.reserve(array.size());
  for (const Json& v : array)
    if (const auto d = number(v)) out.push_back(*d);
  return out;
}

std::string text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (const auto d = number(v)) return svg::compact(*d, 6);
  return one_line(v);
}

std::string pretty(const Json& v) {
  return v.dump(2, ' ', false, Json::error_handler_t::replace);
}

std::string one_line(const Json& v) {
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string percent(std::optional<double> v) {
  return v ? svg::fixed(*v, 2) : "n/a";
}

std::string num(std::optional<double> v, int significant) {
  return v ? svg::compact(*v, significant) : "n/a";
}

std::string correlation(const Json& c, const std::string& missing) {
  const auto value = number(c, "value");
  if (!value) return missing;
  const auto low = number(c, "low");
  const auto high = number(c, "high");
  if (!low || !high) return num(value, 3);
  return num(value, 3) + " [" + num(low, 3) + ", " + num(high, 3) + "]";
}

std::string top_overlap(const Json& t, const std::string& missing) {
  const auto k = number(t, "k");
  const auto shared = number(t, "shared");
  if (!k || !shared) return missing;
  return num(shared, 12) + " of top " + num(k, 12);
}

std::string utc(std::optional<double> unix_seconds) {
  if (!unix_seconds || std::fabs(*unix_seconds) > 1e12) return "n/a";
  const std::time_t t = static_cast<std::time_t>(std::floor(*unix_seconds));
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "n/a";
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

Unit unit_for(const std::string& measure, double largest, bool log_scale) {
  const std::string scale_note = log_scale ? ", log scale" : "";
  Unit u;
  if (measure == "flops") {
    if (largest >= 1e9) {
      u = {1e9, "GFLOPs", ""};
    } else if (largest >= 1e6) {
      u = {1e6, "MFLOPs", ""};
    } else {
      u = {1e3, "KFLOPs", ""};
    }
    u.label = "flops (" + u.suffix + scale_note + ")";
  } else if (measure == "params" || measure == "acts") {
    if (largest >= 1e5) {
      u = {1e6, "M", ""};
    } else {
      u = {1e3, "K", ""};
    }
    u.label = measure + " (" + u.suffix + scale_note + ")";
  } else {
    u.label = measure + (log_scale ? " (log scale)" : "");
  }
  return u;
}

std::string si(std::optional<double> v) {
  if (!v) return "n/a";
  const double a = std::fabs(*v);
  const char* suffix = "";
  double s = 1;
  if (a >= 1e12) {
    s = 1e12;
    suffix = "T";
  } else if (a >= 1e9) {
    s = 1e9;
    suffix = "G";
  } else if (a >= 1e6) {
    s = 1e6;
    suffix = "M";
  } else if (a >= 1e3) {
    s = 1e3;
    suffix = "K";
  }
  if (s == 1) return svg::compact(*v, 4);
  return svg::fixed(*v / s, 1) + suffix;
}

void check_document(const Json& doc) {
  if (!doc.is_object())
    throw std::invalid_argument("a report document must be a JSON object, not " +
                                std::string(doc.type_name()));
  const Json& sweeps = at(doc, "sweeps");
  if (!sweeps.is_array() || sweeps.empty())
    throw std::invalid_argument("a report document needs a non-empty \"sweeps\" array");
  for (const Json& s : sweeps)
    if (!s.is_object())
      throw std::invalid_argument("each element of \"sweeps\" must be an object, not " +
                                  std::string(s.type_name()));
}

}  // namespace nds::reports::render
