#include "sampler/estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace nds::sampler {
namespace {

// Counts layers the way space/complexity.cc does, on a square input.
class Counter {
 public:
  Counter(int channels, int side) : c_(channels), side_(side) {}

  // conv (padding kernel / 2, no ceil mode); false when the output vanishes.
  bool conv(std::int64_t c_out, int kernel, int stride, std::int64_t groups = 1,
            bool bias = false) {
    if (!window(kernel, stride, kernel / 2)) return false;
    if (groups < 1 || c_ % groups != 0 || c_out % groups != 0) return false;
    const std::int64_t hw = side_ * side_;
    const std::int64_t weights = std::int64_t{kernel} * kernel * c_ * c_out / groups;
    cost_.params += weights + (bias ? c_out : 0);
    cost_.flops += weights * hw + (bias ? c_out * hw : 0);
    cost_.acts += c_out * hw;
    c_ = c_out;
    return true;
  }
  void bn() { cost_.params += 2 * c_; }
  bool max_pool(int kernel, int stride, int padding) {
    if (!window(kernel, stride, padding)) return false;
    cost_.acts += c_ * side_ * side_;
    return true;
  }
  void linear(std::int64_t c_out) {
    cost_.params += c_ * c_out + c_out;
    cost_.flops += c_ * c_out + c_out;
    cost_.acts += c_out;
    c_ = c_out;
  }

  std::int64_t channels() const { return c_; }
  std::int64_t side() const { return side_; }
  void set(std::int64_t channels, std::int64_t side) {
    c_ = channels;
    side_ = side;
  }
  const Complexity& cost() const { return cost_; }
  void add(const Complexity& c, std::int64_t times) {
    cost_.params += c.params * times;
    cost_.flops += c.flops * times;
    cost_.acts += c.acts * times;
  }

 private:
  bool window(int kernel, int stride, int padding) {
    const std::int64_t span = side_ + 2 * padding - kernel;
    if (span < 0) return false;
    side_ = span / stride + 1;
    return side_ >= 1;
  }

  std::int64_t c_;
  std::int64_t side_;
  Complexity cost_;
};

enum class Kind { kVanilla, kBasic, kBottleneck };

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

// One AnyNet block into `k` (space/layers.cc's lowering, as counts).
bool block(Counter& k, Kind kind, std::int64_t w_out, int stride, std::int64_t w_b,
           std::int64_t groups, std::int64_t w_se) {
  const std::int64_t w_in = k.channels();
  const std::int64_t side_in = k.side();
  switch (kind) {
    case Kind::kVanilla:
      if (!k.conv(w_out, 3, stride)) return false;
      k.bn();
      if (!k.conv(w_out, 3, 1)) return false;
      k.bn();
      return true;
    case Kind::kBasic:
    case Kind::kBottleneck: {
      if (kind == Kind::kBasic) {
        if (!k.conv(w_out, 3, stride)) return false;
        k.bn();
        if (!k.conv(w_out, 3, 1)) return false;
        k.bn();
      } else {
        if (!k.conv(w_b, 1, 1)) return false;
        k.bn();
        if (!k.conv(w_b, 3, stride, groups)) return false;
        k.bn();
        if (w_se > 0) {
          // Squeeze-excitation on the pooled 1x1 map; the gate keeps the shape.
          const std::int64_t side = k.side();
          k.set(w_b, 1);
          if (!k.conv(w_se, 1, 1, 1, true) || !k.conv(w_b, 1, 1, 1, true)) return false;
          k.set(w_b, side);
        }
        if (!k.conv(w_out, 1, 1)) return false;
        k.bn();
      }
      const std::int64_t side_out = k.side();
      if (w_in != w_out || stride != 1) {
        k.set(w_in, side_in);
        if (!k.conv(w_out, 1, stride)) return false;
        k.bn();
        if (k.side() != side_out) return false;  // branches differ: complexity() rejects
      }
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<Complexity> estimate_anynet(const AnyNetParams& p, int in_channels, int num_classes,
                                          int resolution) {
  // expand_anynet's checks, as conditions.
  const size_t n = p.depths.size();
  if (n < 1 || p.widths.size() != n || p.strides.size() != n) return std::nullopt;
  if (p.stem_w < 1 || p.head_w < 0 || !(p.se_ratio >= 0 && p.se_ratio <= 1)) return std::nullopt;
  for (size_t i = 0; i < n; ++i)
    if (p.depths[i] < 1 || p.widths[i] < 1 || p.strides[i] < 1) return std::nullopt;
  Kind kind;
  if (p.block_type == "vanilla_block") kind = Kind::kVanilla;
  else if (p.block_type == "res_basic_block") kind = Kind::kBasic;
  else if (p.block_type == "res_bottleneck_block") kind = Kind::kBottleneck;
  else return std::nullopt;
  const bool bottleneck = kind == Kind::kBottleneck;
  if (!bottleneck && (!p.bottleneck_ratios.empty() || !p.group_widths.empty() || p.se_ratio > 0))
    return std::nullopt;

  // Widths, bottleneck multipliers and group widths after compatibility.
  thread_local std::vector<int> ws, gs;
  thread_local std::vector<double> bot_muls;
  ws.assign(p.widths.begin(), p.widths.end());
  bot_muls.assign(n, 1.0);
  gs.assign(n, 0);
  if (bottleneck) {
    if (!p.bottleneck_ratios.empty()) {
      if (p.bottleneck_ratios.size() != n) return std::nullopt;
      for (size_t i = 0; i < n; ++i) {
        const double b = p.bottleneck_ratios[i];
        const double bm = b > 0 ? 1.0 / b : 0;
        if (!(b > 0 && (bm < 1 || bm == std::floor(bm)))) return std::nullopt;
        bot_muls[i] = bm;
      }
    }
    if (!p.group_widths.empty() && p.group_widths.size() != n) return std::nullopt;
    for (size_t i = 0; i < n; ++i) {
      if (p.group_widths.empty()) {
        gs[i] = std::max(1, static_cast<int>(std::nearbyint(ws[i] * bot_muls[i])));
        continue;
      }
      const int g = p.group_widths[i];
      const int limit = std::max(ws[i], static_cast<int>(ws[i] * bot_muls[i]));
      if (g < 1 || g > limit) return std::nullopt;
      gs[i] = g;
    }
    adjust(ws, bot_muls, gs);
  }

  Counter k(in_channels, resolution);
  if (p.stem_type == "simple_stem_in") {
    if (!k.conv(p.stem_w, 3, 2)) return std::nullopt;
    k.bn();
  } else if (p.stem_type == "res_stem_cifar") {
    if (!k.conv(p.stem_w, 3, 1)) return std::nullopt;
    k.bn();
  } else if (p.stem_type == "res_stem_in") {
    if (!k.conv(p.stem_w, 7, 2)) return std::nullopt;
    k.bn();
    if (!k.max_pool(3, 2, 1)) return std::nullopt;
  } else {
    return std::nullopt;
  }

  for (size_t i = 0; i < n; ++i) {
    const int w = ws[i];
    const std::int64_t w_b = bottleneck ? static_cast<std::int64_t>(std::nearbyint(w * bot_muls[i])) : 0;
    const std::int64_t groups = bottleneck ? w_b / gs[i] : 1;
    const auto se = [&](std::int64_t w_in) {
      return static_cast<std::int64_t>(std::nearbyint(static_cast<double>(w_in) * p.se_ratio));
    };
    if (!block(k, kind, w, p.strides[i], w_b, groups, se(k.channels()))) return std::nullopt;
    if (p.depths[i] > 1) {
      // Every later block of the stage sees the same shape: count one, add the rest.
      Counter repeat(w, static_cast<int>(k.side()));
      if (!block(repeat, kind, w, 1, w_b, groups, se(w))) return std::nullopt;
      k.add(repeat.cost(), p.depths[i] - 1);
    }
  }

  if (p.head_w > 0) {
    if (!k.conv(p.head_w, 1, 1)) return std::nullopt;
    k.bn();
  }
  k.set(k.channels(), 1);  // global average pool
  k.linear(num_classes);
  return k.cost();
}

void regnet_stages(double w_a, int w_0, double w_m, int depth, int quantum, RegNetWidths* out) {
  const double log_w_m = std::log(w_m);
  // generate_regnet's expressions, verbatim, for block j.
  const auto stage_of = [&](int j) {
    const double u = j * w_a + w_0;
    return std::nearbyint(std::log(u / w_0) / log_w_m);
  };
  const double k_last = stage_of(depth - 1);
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
  a.stem_type = p.stem_type;
  a.stem_w = p.stem_w;
  a.block_type = "res_bottleneck_block";
  a.depths.assign(g.depths.begin(), g.depths.end());
  a.widths.assign(g.widths.begin(), g.widths.end());
  a.strides.assign(n, p.stride);
  a.bottleneck_ratios.assign(n, p.bottleneck_ratio);
  a.group_widths.resize(n);
  for (size_t i = 0; i < n; ++i) a.group_widths[i] = std::min(p.group_width, a.widths[i]);
  thread_local std::vector<double> bot_muls;
  bot_muls.assign(n, 1.0 / p.bottleneck_ratio);
  adjust(a.widths, bot_muls, a.group_widths);
  a.se_ratio = p.se_ratio;
  a.head_w = p.head_w;
  return true;
}

}  // namespace nds::sampler
