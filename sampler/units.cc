#include "sampler/units.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace nds::sampler {
namespace {

struct Suffix {
  char letter;
  double scale;
};
constexpr Suffix kSuffixes[] = {{'T', 1e12}, {'G', 1e9}, {'M', 1e6}, {'K', 1e3}, {'k', 1e3}};

[[noreturn]] void bad(const std::string& what, const std::string& text, const std::string& why) {
  throw std::invalid_argument(what + ": '" + text + "' " + why);
}

}  // namespace

std::int64_t parse_count(const std::string& text, const std::string& what) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  double value = 0;
  // from_chars ignores the locale, unlike strtod (a ',' decimal point would
  // otherwise change what "1.6G" means).
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin)
    bad(what, text, "is not a count (write e.g. 200M, 1.6G, 5K or 360000000)");
  double scale = 1;
  if (ptr != end) {
    bool known = false;
    for (const Suffix& s : kSuffixes) {
      if (end - ptr == 1 && *ptr == s.letter) {
        scale = s.scale;
        known = true;
      }
    }
    if (!known) bad(what, text, "has an unknown suffix (K, M, G or T)");
  }
  const double v = value * scale;
  if (!std::isfinite(v) || v < 0) bad(what, text, "must be a finite count >= 0");
  if (v >= 9.2e18) bad(what, text, "is too large");
  return std::llround(v);
}

CountRange parse_count_range(const std::string& text, const std::string& what) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos)
    bad(what, text, "must be LO:HI (e.g. 360M:400M; LO: or :HI for one bound)");
  const std::string lo = text.substr(0, colon), hi = text.substr(colon + 1);
  if (lo.empty() && hi.empty()) bad(what, text, "gives neither bound");
  CountRange r;
  r.lo = lo.empty() ? 0 : parse_count(lo, what);
  r.hi = hi.empty() ? std::numeric_limits<std::int64_t>::max() : parse_count(hi, what);
  if (r.lo > r.hi) bad(what, text, "has low > high");
  return r;
}

std::string format_count(std::int64_t v) {
  for (const Suffix& s : kSuffixes) {
    if (static_cast<double>(v) < s.scale) continue;
    // The largest suffix only, with up to three decimals: 1.6G, 362.5M;
    // anything finer is printed in full.
    for (int decimals = 0; decimals <= 3; ++decimals) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%.*f", decimals, static_cast<double>(v) / s.scale);
      const std::string t = buf + std::string(1, s.letter);
      if (parse_count(t, "count") == v) return t;
    }
    break;
  }
  return std::to_string(v);
}

}  // namespace nds::sampler
