#pragma once
// Fast cost of AnyNet and RegNet models, for rejecting candidates quickly.
//
// A sweep draws hundreds of candidates per accepted model (a 360M-400M flop
// window keeps about 1 RegNetX in 200), and expanding each into a NetSpec to
// count it would dominate. estimate_anynet sums space's per-block costs
// (block_cost in space/complexity.h, the same counter complexity() runs over
// the same blocks) along the stage plan without building the spec: a stage's
// later blocks are identical, so each stage costs first + (d - 1) * repeat.
// A block kind's cost is thus written once, by its layer stream.
//
// It is a pre-filter only. The sampler rejects a candidate on an estimate
// only when it lies clearly outside a window (kEstimateMargin), and every
// candidate it accepts is expanded and counted by space/complexity.h; so the
// samples do not depend on the estimate, only the speed does. Tests hold the
// estimates equal to the exact counts.

#include <cstdint>
#include <limits>
#include <optional>

#include "space/anynet.h"
#include "space/complexity.h"
#include "space/regnet.h"

namespace nds::sampler {

// Relative slack around a window within which an estimate never rejects.
constexpr double kEstimateMargin = 0.01;

// The cost expand_anynet(p, {in_channels, num_classes}) would have at
// `resolution`, or nullopt when expand_anynet or complexity() would reject the
// parameters. Counting stops once the flops so far exceed max_flops (a block
// never costs negative flops, so the total would too): the cost returned is
// then partial, its flops above max_flops, and the parameters are not checked
// further.
std::optional<Complexity> estimate_anynet(
    const AnyNetParams& p, int in_channels, int num_classes, int resolution,
    std::int64_t max_flops = std::numeric_limits<std::int64_t>::max());

// What generate_regnet(w_a, w_0, w_m, depth, ...) takes logs for: log(w_m),
// and the last block's stage index k_last = round(log(u / w_0) / log(w_m))
// with u = (depth - 1) * w_a + w_0, by its own float operations. Taken once
// for a candidate that both checks its stage count and plans its stages.
struct RegNetSpan {
  double log_w_m = 0;
  double k_last = 0;
};
RegNetSpan regnet_span(double w_a, int w_0, double w_m, int depth);

// generate_regnet(w_a, w_0, w_m, depth, quantum)'s stage widths, depths,
// num_stages and total_stages (not the per-block lists), by the same float
// operations but without a log and a pow per block: a block's stage index
// k_j = round(log(u_j / w_0) / log(w_m)) never decreases along the blocks, so
// each stage's end is guessed in closed form and confirmed by evaluating k_j
// on both sides of it. The arguments must be
// valid (generate_regnet would not throw). `out`'s storage is reused.
void regnet_stages(double w_a, int w_0, double w_m, int depth, int quantum, RegNetWidths* out);
// The same, given regnet_span(w_a, w_0, w_m, depth).
void regnet_stages(double w_a, int w_0, double w_m, int depth, int quantum, const RegNetSpan& span,
                   RegNetWidths* out);

// regnet_to_anynet(p) given the already generated widths `g` of p, without
// generating them again; nullopt when regnet_to_anynet would throw.
// `out` is overwritten (its vectors' storage is reused).
bool regnet_stage_plan(const RegNetParams& p, const RegNetWidths& g, AnyNetParams* out);

}  // namespace nds::sampler
