#include "sampler/estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nds::sampler {
namespace {

// v = n copies of x, without vector::assign's out-of-line call: the estimate
// refills these short lists for every candidate it costs.
template <typename T>
void fill(std::vector<T>& v, size_t n, T x) {
  v.resize(n);
  std::fill(v.begin(), v.end(), x);
}

// adjust_block_compatibility, skipped when it would change nothing: with
// bottleneck multiplier 1 it keeps every width that its group width divides.
void adjust(std::vector<int>& ws, const std::vector<double>& bot_muls, std::vector<int>& gs) {
  for (size_t i = 0; i < ws.size(); ++i) {
    if (bot_muls[i] != 1.0 || gs[i] < 1 || gs[i] > ws[i] || ws[i] % gs[i] != 0) {
      adjust_block_compatibility(ws, bot_muls, gs);
      return;
    }
  }
}

// expand_anynet's checks of the stage lists, as conditions.
bool stage_lists_valid(const AnyNetParams& p) {
  const size_t n = p.depths.size();
  if (n < 1 || p.widths.size() != n || p.strides.size() != n) return false;
  if (p.stem_w < 1 || p.head_w < 0 || !(p.se_ratio >= 0 && p.se_ratio <= 1)) return false;
  for (size_t i = 0; i < n; ++i)
    if (p.depths[i] < 1 || p.widths[i] < 1 || p.strides[i] < 1) return false;
  return true;
}

// expand_anynet's bottleneck multipliers and group widths, checked as
// conditions and made compatible; false where expand_anynet would throw.
bool resolve_bottlenecks(const AnyNetParams& p, std::vector<int>& ws, std::vector<double>& bot_muls,
                         std::vector<int>& gs) {
  const size_t n = ws.size();
  if (!p.bottleneck_ratios.empty()) {
    if (p.bottleneck_ratios.size() != n) return false;
    for (size_t i = 0; i < n; ++i) {
      const double b = p.bottleneck_ratios[i];
      const double bm = b > 0 ? 1.0 / b : 0;
      if (!(b > 0 && (bm < 1 || bm == std::floor(bm)))) return false;
      bot_muls[i] = bm;
    }
  }
  if (!p.group_widths.empty() && p.group_widths.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (p.group_widths.empty()) {
      gs[i] = std::max(1, static_cast<int>(std::nearbyint(ws[i] * bot_muls[i])));
      continue;
    }
    const int g = p.group_widths[i];
    const int limit = std::max(ws[i], static_cast<int>(ws[i] * bot_muls[i]));
    if (g < 1 || g > limit) return false;
    gs[i] = g;
  }
  adjust(ws, bot_muls, gs);
  return true;
}

// Sums space's per-block costs along a network, as complexity() would over
// the expanded spec.
class Tally {
 public:
  Tally(int channels, int resolution) : shape_{channels, resolution, resolution} {}

  // `times` copies of `block` in a row: the copies after the first see the
  // first's output, so the block must keep its input's shape when times > 1
  // (a stage's later blocks do).
  void add(const Block& block, std::int64_t times = 1) { add(block_cost(block, shape_), times); }
  // Blocks whose cost on this tally's current shape is `c`.
  void add(const BlockCost& c, std::int64_t times = 1) {
    cost_.params += c.cost.params * times;
    cost_.flops += c.cost.flops * times;
    cost_.acts += c.cost.acts * times;
    shape_ = c.out;
  }
  void add(const std::vector<Block>& blocks) {
    for (const Block& b : blocks) add(b);
  }
  const Complexity& cost() const { return cost_; }
  const Shape& shape() const { return shape_; }

 private:
  Shape shape_;
  Complexity cost_;
};

// The stem's cost and output. A space fixes the stem's type and width, the
// input channels and the resolution, so the last stem costed is kept.
const BlockCost& stem_cost(const AnyNetParams& p, int in_channels, int resolution) {
  struct Stem {
    std::string type;
    int w = 0, in_channels = 0, resolution = 0;
    BlockCost cost;
  };
  thread_local Stem last;
  if (last.type == p.stem_type && last.w == p.stem_w && last.in_channels == in_channels &&
      last.resolution == resolution)
    return last.cost;
  thread_local std::vector<Block> blocks;
  blocks.clear();
  append_stem(blocks, p.stem_type, in_channels, p.stem_w, "anynet");
  Tally tally(in_channels, resolution);
  tally.add(blocks);
  last = {p.stem_type, p.stem_w, in_channels, resolution, {tally.cost(), tally.shape()}};
  return last.cost;
}

// anynet_block_kind(type), remembered from the last call: a space fixes the
// block type, and three string comparisons per candidate add up.
BlockKind block_kind(const std::string& type) {
  thread_local std::string last_type;
  thread_local BlockKind last_kind;
  thread_local bool known = false;  // whether last_type holds a known type
  if (!known || type != last_type) {
    last_kind = anynet_block_kind(type);  // throws for an unknown type
    last_type = type;
    known = true;
  }
  return last_kind;
}

// The cost of the network expand_anynet builds from `p` with the resolved
// widths, bottleneck multipliers and group widths: the stem, each stage's
// first block and (depth - 1) times one of its later, identical blocks, then
// the head. Throws std::invalid_argument where complexity() would. Stops
// after the stage whose flops pass max_flops (estimate_anynet).
Complexity count(const AnyNetParams& p, BlockKind kind, const std::vector<int>& ws,
                 const std::vector<double>& bot_muls, const std::vector<int>& gs, int in_channels,
                 int num_classes, int resolution, std::int64_t max_flops) {
  Tally tally(in_channels, resolution);
  tally.add(stem_cost(p, in_channels, resolution));
  int prev_w = p.stem_w;
  for (size_t i = 0; i < ws.size(); ++i) {
    const int stage = static_cast<int>(i) + 1;
    const int w = ws[i];
    const int w_b = static_cast<int>(std::nearbyint(w * bot_muls[i]));
    tally.add(anynet_block(kind, stage, prev_w, w, p.strides[i], w_b, gs[i], p.se_ratio));
    if (p.depths[i] > 1)
      tally.add(anynet_block(kind, stage, w, w, 1, w_b, gs[i], p.se_ratio), p.depths[i] - 1);
    if (tally.cost().flops > max_flops) return tally.cost();
    prev_w = w;
  }
  thread_local std::vector<Block> ends;
  ends.clear();
  append_head(ends, static_cast<int>(ws.size()) + 1, prev_w, p.head_w, num_classes);
  tally.add(ends);
  return tally.cost();
}

// estimate_anynet, throwing std::invalid_argument where it returns nullopt
// after the cheap checks: an unknown block or stem type, or a network
// complexity() would reject.
std::optional<Complexity> estimate(const AnyNetParams& p, int in_channels, int num_classes,
                                   int resolution, std::int64_t max_flops) {
  if (!stage_lists_valid(p)) return std::nullopt;
  const BlockKind kind = block_kind(p.block_type);
  const bool bottleneck = kind == BlockKind::kResBottleneck;
  if (!bottleneck && (!p.bottleneck_ratios.empty() || !p.group_widths.empty() || p.se_ratio > 0))
    return std::nullopt;

  // Widths, bottleneck multipliers and group widths after compatibility.
  const size_t n = p.depths.size();
  thread_local std::vector<int> ws, gs;
  thread_local std::vector<double> bot_muls;
  ws.assign(p.widths.begin(), p.widths.end());
  fill(bot_muls, n, 1.0);
  fill(gs, n, 0);
  if (bottleneck && !resolve_bottlenecks(p, ws, bot_muls, gs)) return std::nullopt;
  return count(p, kind, ws, bot_muls, gs, in_channels, num_classes, resolution, max_flops);
}

// generate_regnet's expressions, verbatim: block j's stage index.
double stage_of(int j, double w_a, int w_0, double log_w_m) {
  const double u = j * w_a + w_0;
  return std::nearbyint(std::log(u / w_0) / log_w_m);
}

}  // namespace

std::optional<Complexity> estimate_anynet(const AnyNetParams& p, int in_channels, int num_classes,
                                          int resolution, std::int64_t max_flops) {
  try {
    return estimate(p, in_channels, num_classes, resolution, max_flops);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

RegNetSpan regnet_span(double w_a, int w_0, double w_m, int depth) {
  const double log_w_m = std::log(w_m);
  return {log_w_m, stage_of(depth - 1, w_a, w_0, log_w_m)};
}

void regnet_stages(double w_a, int w_0, double w_m, int depth, int quantum, RegNetWidths* out) {
  regnet_stages(w_a, w_0, w_m, depth, quantum, regnet_span(w_a, w_0, w_m, depth), out);
}

void regnet_stages(double w_a, int w_0, double w_m, int depth, int quantum, const RegNetSpan& span,
                   RegNetWidths* out) {
  const auto stage_of = [&](int j) { return sampler::stage_of(j, w_a, w_0, span.log_w_m); };
  const double k_last = span.k_last;
  const double sqrt_w_m = std::sqrt(w_m);
  out->widths.clear();
  out->depths.clear();
  out->block_widths.clear();
  out->block_widths_cont.clear();
  const auto append = [&](int width, int blocks) {
    // Runs of equal quantized width are one stage (np.unique).
    if (!out->widths.empty() && out->widths.back() == width) {
      out->depths.back() += blocks;
    } else {
      out->widths.push_back(width);
      out->depths.push_back(blocks);
    }
  };
  const auto quantized = [&](double k) {
    const double w = w_0 * std::pow(w_m, k);
    return static_cast<int>(std::nearbyint(w / quantum)) * quantum;
  };
  if (k_last >= depth) {
    // More stage indices than blocks (w_m barely above 1): block by block.
    double max_k = 0;
    for (int j = 0; j < depth; ++j) {
      const double k = stage_of(j);
      max_k = std::max(max_k, k);
      append(quantized(k), 1);
    }
    out->num_stages = static_cast<int>(out->widths.size());
    out->total_stages = static_cast<int>(max_k) + 1;
    return;
  }
  int first = 0;  // first block of stage k
  for (double k = 0; k <= k_last; ++k) {
    const double w = w_0 * std::pow(w_m, k);
    // The first block past stage k: the least j with stage_of(j) > k. Stage
    // k ends about where u_j = w_0 * w_m^(k + 1/2); guess there, then step
    // to the exact boundary with stage_of itself.
    int next = depth;
    if (k < k_last) {
      const double guess = std::floor((w * sqrt_w_m - w_0) / w_a) + 1;
      next = static_cast<int>(std::clamp(guess, static_cast<double>(first), depth - 1.0));
      while (next > first && stage_of(next - 1) > k) --next;
      while (next < depth - 1 && stage_of(next) <= k) ++next;
    }
    const int blocks = next - first;
    first = next;
    if (blocks == 0) continue;  // the rule skipped stage k
    append(static_cast<int>(std::nearbyint(w / quantum)) * quantum, blocks);
  }
  out->num_stages = static_cast<int>(out->widths.size());
  out->total_stages = static_cast<int>(k_last) + 1;
}

bool regnet_stage_plan(const RegNetParams& p, const RegNetWidths& g, AnyNetParams* out) {
  // regnet_to_anynet's checks, as conditions.
  if (p.group_width < 1 || !(p.bottleneck_ratio > 0) || p.stride < 1 || g.widths.empty())
    return false;
  const int widest = *std::max_element(g.widths.begin(), g.widths.end());
  if (p.group_width > widest) return false;
  const size_t n = g.widths.size();
  AnyNetParams& a = *out;
  // Assigned only when they differ: the plan is rebuilt for every candidate
  // and these strings rarely change.
  static const std::string kBottleneck = "res_bottleneck_block";
  if (a.stem_type != p.stem_type) a.stem_type = p.stem_type;
  a.stem_w = p.stem_w;
  if (a.block_type != kBottleneck) a.block_type = kBottleneck;
  a.depths.assign(g.depths.begin(), g.depths.end());
  a.widths.assign(g.widths.begin(), g.widths.end());
  fill(a.strides, n, p.stride);
  fill(a.bottleneck_ratios, n, p.bottleneck_ratio);
  a.group_widths.resize(n);
  for (size_t i = 0; i < n; ++i) a.group_widths[i] = std::min(p.group_width, a.widths[i]);
  thread_local std::vector<double> bot_muls;
  fill(bot_muls, n, 1.0 / p.bottleneck_ratio);
  adjust(a.widths, bot_muls, a.group_widths);
  a.se_ratio = p.se_ratio;
  a.head_w = p.head_w;
  return true;
}

}  // namespace nds::sampler
