#include "space/anynet.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>

#include "space/blocks.h"
#include "space/limits.h"

namespace nds {
namespace {

constexpr const char* kFamily = "anynet";

}  // namespace

BlockKind anynet_block_kind(const std::string& block_type) {
  if (block_type == "vanilla_block") return BlockKind::kVanilla;
  if (block_type == "res_basic_block") return BlockKind::kResBasic;
  if (block_type == "res_bottleneck_block") return BlockKind::kResBottleneck;
  throw std::invalid_argument(std::string(kFamily) + ": unknown block_type '" + block_type +
                              "' (vanilla_block, res_basic_block, res_bottleneck_block)");
}

void append_head(std::vector<Block>& blocks, int stage, int w_in, int head_w, int num_classes) {
  if (head_w > 0) {
    blocks.push_back(conv_block(stage, w_in, head_w, 1));
    w_in = head_w;
  }
  blocks.push_back(head_block(stage, w_in, num_classes));
}

namespace {

// Lengths, ranges and the limits of space/limits.h, before anything is
// allocated or multiplied. The checks build no message unless one fails: the
// sampler expands every candidate.
void check_stage_lists(const AnyNetParams& p, const std::string& family) {
  using namespace limits;
  const size_t n = p.depths.size();
  if (!(n >= 1)) param_error(family, "depths", "a non-empty list", format_list(p.depths));
  if (!(p.widths.size() == n))
    param_error(family, "widths", std::to_string(n) + " values like depths", format_list(p.widths));
  if (!(p.strides.size() == n))
    param_error(family, "strides", std::to_string(n) + " values like depths",
                format_list(p.strides));
  check_range(family, "stem_w", p.stem_w, 1, kMaxChannels);
  check_range(family, "head_w", p.head_w, 0, kMaxChannels);
  if (!(p.se_ratio >= 0 && p.se_ratio <= 1))
    param_error(family, "se_ratio", "in [0, 1]", format_number(p.se_ratio));
  int64_t total_depth = 0;
  for (size_t i = 0; i < n; ++i) {
    const int at = static_cast<int>(i);
    check_range(family, "depths", p.depths[i], 1, kMaxBlocks, at);
    check_range(family, "widths", p.widths[i], 1, kMaxChannels, at);
    check_range(family, "strides", p.strides[i], 1, kMaxResolution, at);
    total_depth += p.depths[i];
  }
  if (!(total_depth <= kMaxBlocks))
    param_error(family, "depths", "at most " + std::to_string(kMaxBlocks) + " blocks in all",
                std::to_string(total_depth) + " blocks");
}

}  // namespace

void append_stem(std::vector<Block>& blocks, const std::string& stem_type, int w_in, int w_out,
                 const std::string& family) {
  if (stem_type == "simple_stem_in") {
    blocks.push_back(conv_block(0, w_in, w_out, 3, 2));
  } else if (stem_type == "res_stem_cifar") {
    blocks.push_back(conv_block(0, w_in, w_out, 3, 1));
  } else if (stem_type == "res_stem_in") {
    blocks.push_back(conv_block(0, w_in, w_out, 7, 2));
    blocks.push_back(pool_block(0, w_out, PoolType::kMax, 3, 2, /*padding=*/-1));
  } else {
    throw std::invalid_argument(family + ": unknown stem_type '" + stem_type +
                                "' (simple_stem_in, res_stem_in, res_stem_cifar)");
  }
}

void adjust_block_compatibility(std::vector<int>& ws, const std::vector<double>& bot_muls,
                                std::vector<int>& gs) {
  for (size_t i = 0; i < ws.size(); ++i) {
    const double b = bot_muls[i];
    // Python: v = int(max(1, w * b)); g = min(g, v); m = lcm(g, int(b)) if b > 1 else g
    // Callers keep w * b within int range (check_bottleneck_widths); the lcm
    // may still exceed it, so m and v are int64.
    const int v0 = static_cast<int>(std::max(1.0, ws[i] * b));
    const int g = std::min(gs[i], v0);
    const int64_t m = b > 1 ? std::lcm(int64_t{g}, static_cast<int64_t>(b)) : g;
    // v = max(m, int(round(v / m) * m)); w = int(v / b); round() is half-to-even.
    const int64_t v =
        std::max(m, static_cast<int64_t>(std::nearbyint(static_cast<double>(v0) / m) * m));
    ws[i] = static_cast<int>(v / b);
    gs[i] = g;
  }
}

void check_bottleneck_widths(const std::vector<int>& ws, const std::vector<double>& bot_muls,
                             const std::string& family, const char* key) {
  for (size_t i = 0; i < ws.size(); ++i) {
    // In double: adjust_block_compatibility casts w * bot_mul to int.
    const double w_b = ws[i] * bot_muls[i];
    if (!(w_b <= limits::kMaxChannels))
      param_error(family, key,
                  "such that bottleneck widths are at most " + std::to_string(limits::kMaxChannels),
                  format_number(w_b) + " in stage " + std::to_string(i + 1));
  }
}

namespace {

// Bottleneck multipliers and group widths of a res_bottleneck_block AnyNet,
// checked, then made compatible as pycls does. Rewrites ws, bot_muls and gs.
void resolve_bottlenecks(const AnyNetParams& p, const std::string& family, std::vector<int>& ws,
                         std::vector<double>& bot_muls, std::vector<int>& gs) {
  const size_t n = ws.size();
  const auto at = [](const char* key, size_t i) { return key + ("[" + std::to_string(i) + "]"); };
  if (!p.bottleneck_ratios.empty()) {
    if (!(p.bottleneck_ratios.size() == n))
      param_error(family, "bottleneck_ratios", std::to_string(n) + " values like depths",
                  std::to_string(p.bottleneck_ratios.size()) + " values");
    for (size_t i = 0; i < n; ++i) {
      const double b = p.bottleneck_ratios[i];
      const double bm = b > 0 ? 1.0 / b : 0;
      // pycls requires bot_mul < 1 or a whole number.
      if (!(b > 0 && (bm < 1 || bm == std::floor(bm))))
        param_error(family, at("bottleneck_ratios", i), "> 0 with 1/b < 1 or whole",
                    format_number(b));
      bot_muls[i] = bm;
    }
    check_bottleneck_widths(ws, bot_muls, family, "bottleneck_ratios");
  }
  for (size_t i = 0; i < n; ++i) {
    if (p.group_widths.empty()) {
      gs[i] = std::max(1, static_cast<int>(std::nearbyint(ws[i] * bot_muls[i])));  // one group
      continue;
    }
    if (!(p.group_widths.size() == n))
      param_error(family, "group_widths", std::to_string(n) + " values like depths",
                  format_list(p.group_widths));
    const int g = p.group_widths[i];
    if (!(g >= 1)) param_error(family, at("group_widths", i), ">= 1", std::to_string(g));
    const int limit = std::max(ws[i], static_cast<int>(ws[i] * bot_muls[i]));
    if (!(g <= limit))
      param_error(family, at("group_widths", i), "at most the stage width " + std::to_string(limit),
                  std::to_string(g));
    gs[i] = g;
  }
  adjust_block_compatibility(ws, bot_muls, gs);
  // The adjustment rounds bottleneck widths to a multiple of lcm(g, 1/b).
  check_bottleneck_widths(ws, bot_muls, family, "group_widths");
}

}  // namespace

NetSpec expand_anynet(const AnyNetParams& p, const ExpandOptions& options) {
  const std::string family = kFamily;
  check_stage_lists(p, family);
  const size_t n = p.depths.size();
  const BlockKind kind = anynet_block_kind(p.block_type);
  const bool bottleneck = kind == BlockKind::kResBottleneck;
  if (!bottleneck) {
    if (!p.bottleneck_ratios.empty() || !p.group_widths.empty() || p.se_ratio > 0)
      throw std::invalid_argument(family +
                                  ": bottleneck_ratios, group_widths and se_ratio apply to "
                                  "res_bottleneck_block only, not " +
                                  p.block_type);
  }

  std::vector<int> ws = p.widths;
  std::vector<double> bot_muls(n, 1.0);
  std::vector<int> gs(n, 0);
  if (bottleneck) resolve_bottlenecks(p, family, ws, bot_muls, gs);

  NetSpec spec = make_spec(kFamily, options, 3, 1000, p.stem_type == "res_stem_cifar" ? 32 : 224);
  int total_blocks = 0;
  for (int d : p.depths) total_blocks += d;
  spec.blocks.reserve(static_cast<size_t>(total_blocks) + 4);
  append_stem(spec.blocks, p.stem_type, spec.in_channels, p.stem_w, family);

  int prev_w = p.stem_w;
  for (size_t i = 0; i < n; ++i) {
    const int w = ws[i];
    const int w_b = static_cast<int>(std::nearbyint(w * bot_muls[i]));
    for (int j = 0; j < p.depths[i]; ++j)
      spec.blocks.push_back(anynet_block(kind, static_cast<int>(i) + 1, j == 0 ? prev_w : w, w,
                                         j == 0 ? p.strides[i] : 1, w_b, gs[i], p.se_ratio));
    prev_w = w;
  }
  append_head(spec.blocks, static_cast<int>(n) + 1, prev_w, p.head_w, spec.num_classes);
  return spec;
}

AnyNetParams anynet_params_from_json(ParamReader& r) {
  AnyNetParams p;
  p.stem_type = r.get_string("stem_type", p.stem_type);
  p.stem_w = r.get_int("stem_w", p.stem_w);
  p.block_type = r.get_string("block_type", p.block_type);
  p.depths = r.require_ints("depths");
  p.widths = r.require_ints("widths");
  p.strides = r.get_ints("strides", std::vector<int>(p.depths.size(), 2));
  p.bottleneck_ratios = r.get_doubles("bottleneck_ratios", {});
  p.group_widths = r.get_ints("group_widths", {});
  p.se_ratio = r.get_double("se_ratio", p.se_ratio);
  p.head_w = r.get_int("head_w", p.head_w);
  return p;
}

nlohmann::json to_json(const AnyNetParams& p) {
  nlohmann::json j = {
      {"family", kFamily},          {"stem_type", p.stem_type}, {"stem_w", p.stem_w},
      {"block_type", p.block_type}, {"depths", p.depths},       {"widths", p.widths},
      {"strides", p.strides},       {"se_ratio", p.se_ratio},   {"head_w", p.head_w}};
  if (!p.bottleneck_ratios.empty()) j["bottleneck_ratios"] = p.bottleneck_ratios;
  if (!p.group_widths.empty()) j["group_widths"] = p.group_widths;
  return j;
}

}  // namespace nds
