#pragma once
// The range narrowing that design-space refinement needs (RegNet):
// a parameter's range shrinks to its bootstrap good range, on the parameter's
// own grid and never beyond the old range.

#include "analysis/bootstrap.h"

namespace nds::analysis {

// A numeric parameter range on the grid lo, lo + step, lo + 2 step, ... (up to
// hi); step 0 means continuous.
struct ParamRange {
  double lo = 0;
  double hi = 0;
  double step = 0;
};

// [good_lo, good_hi] rounded outward to the grid (down for lo, up for hi),
// then clipped to [range.lo, range.hi]: the result is never wider than the
// old range and always contains the part of the good range inside it. Grid
// points within 1e-9 steps of an end count as on it, so floating-point noise
// does not add a step. Throws std::invalid_argument for a malformed range
// (lo > hi, step < 0, non-finite), good_lo > good_hi, or a good range that
// misses the range entirely.
ParamRange narrow_range(const ParamRange& range, double good_lo, double good_hi);

// narrow_range to [good.low, good.high].
ParamRange narrow_range(const ParamRange& range, const GoodRange& good);

}  // namespace nds::analysis
