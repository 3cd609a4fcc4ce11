#include "analysis/check.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace nds::analysis {

std::string format_value(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {  // integers as integers, not "3e+02"
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  // The first precision that round-trips is the shortest faithful text.
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

void fail(const std::string& where, const std::string& message) {
  throw std::invalid_argument(where + ": " + message);
}

void check_not_empty(const std::string& where, const std::string& what, size_t size) {
  if (size == 0) fail(where, what + " is empty");
}

void check_finite(const std::string& where, const std::string& what,
                  const std::vector<double>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      fail(where, what + "[" + std::to_string(i) + "] is " + format_value(values[i]) +
                      " (values must be finite; drop failed trials first)");
    }
  }
}

void check_same_size(const std::string& where, const std::string& what_a, size_t size_a,
                     const std::string& what_b, size_t size_b) {
  if (size_a != size_b) {
    fail(where, what_a + " has " + std::to_string(size_a) + " entries but " + what_b + " has " +
                    std::to_string(size_b) + " (one per model)");
  }
}

}  // namespace nds::analysis
