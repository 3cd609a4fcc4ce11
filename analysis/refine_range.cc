#include "analysis/refine_range.h"

#include <algorithm>
#include <cmath>

#include "analysis/check.h"

namespace nds::analysis {
namespace {

constexpr const char* kWhere = "narrow_range";
constexpr double kGridTolerance = 1e-9;  // in steps

std::string range_text(double lo, double hi) {
  return "[" + format_value(lo) + ", " + format_value(hi) + "]";
}

}  // namespace

ParamRange narrow_range(const ParamRange& range, double good_lo, double good_hi) {
  if (!(std::isfinite(range.lo) && std::isfinite(range.hi) && range.lo <= range.hi)) {
    fail(kWhere, "range " + range_text(range.lo, range.hi) + " must be finite with lo <= hi");
  }
  if (!(std::isfinite(range.step) && range.step >= 0)) {
    fail(kWhere, "step must be finite and >= 0, got " + format_value(range.step));
  }
  if (!(std::isfinite(good_lo) && std::isfinite(good_hi) && good_lo <= good_hi)) {
    fail(kWhere, "good range " + range_text(good_lo, good_hi) + " must be finite with lo <= hi");
  }
  if (good_hi < range.lo || good_lo > range.hi) {
    fail(kWhere, "good range " + range_text(good_lo, good_hi) + " lies outside the range " +
                     range_text(range.lo, range.hi));
  }
  ParamRange out = range;
  const double lo = std::max(good_lo, range.lo);
  const double hi = std::min(good_hi, range.hi);
  if (range.step == 0) {
    out.lo = lo;
    out.hi = hi;
    return out;
  }
  const double lo_steps = std::floor((lo - range.lo) / range.step + kGridTolerance);
  const double hi_steps = std::ceil((hi - range.lo) / range.step - kGridTolerance);
  out.lo = std::max(range.lo, range.lo + lo_steps * range.step);
  out.hi = std::min(range.hi, range.lo + hi_steps * range.step);
  out.lo = std::min(out.lo, out.hi);
  return out;
}

ParamRange narrow_range(const ParamRange& range, const GoodRange& good) {
  return narrow_range(range, good.low, good.high);
}

}  // namespace nds::analysis
