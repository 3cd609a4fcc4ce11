#pragma once
// AnyNet (Radosavovic et al. 2020, pycls semantics): a stem, stages of
// identical blocks, and a classifier head.

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/blocks.h"
#include "space/net_spec.h"
#include "space/params.h"

namespace nds {

struct AnyNetParams {
  std::string stem_type = "simple_stem_in";  // simple_stem_in | res_stem_in | res_stem_cifar
  int stem_w = 32;                           // stem output width
  std::string block_type = "res_bottleneck_block";  // vanilla_block | res_basic_block | res_bottleneck_block
  std::vector<int> depths;                   // d_i: blocks per stage
  std::vector<int> widths;                   // w_i: output width per stage
  std::vector<int> strides;                  // s_i: stride of each stage's first block
  std::vector<double> bottleneck_ratios;     // b_i: w_b = w_i / b_i (bottleneck blocks)
  std::vector<int> group_widths;             // g_i: channels per group of the 3x3 conv
  double se_ratio = 0;                       // SE width = round(w_in * se_ratio); 0 = off
  int head_w = 0;                            // 1x1 conv width before the head; 0 = none
};

// pycls's adjust_block_compatibility: makes widths, bottleneck multipliers
// (bot_mul = 1 / b) and group widths agree, so that every bottleneck width is a
// multiple of its group width. Rewrites the three vectors in place.
void adjust_block_compatibility(std::vector<int>& ws, const std::vector<double>& bot_muls,
                                std::vector<int>& gs);

// Throws std::invalid_argument naming `key` unless every bottleneck width
// ws[i] * bot_muls[i] is at most limits::kMaxChannels; run before
// adjust_block_compatibility, which computes them in int.
void check_bottleneck_widths(const std::vector<int>& ws, const std::vector<double>& bot_muls,
                             const std::string& family, const char* key);

// Validates and expands (compatibility adjustment included). Throws
// std::invalid_argument naming the bad parameter.
NetSpec expand_anynet(const AnyNetParams& p, const ExpandOptions& options = {});

AnyNetParams anynet_params_from_json(ParamReader& reader);
nlohmann::json to_json(const AnyNetParams& p);

// The block kind of a block_type name; throws naming an unknown one.
BlockKind anynet_block_kind(const std::string& block_type);

// A body block of an AnyNet stage as expand_anynet builds it (the sampler's
// estimate costs the same blocks): `kind`, widths and stride; for a
// bottleneck block also its bottleneck width w_b, the group width of its 3x3
// conv (groups = w_b / group_width) and its SE width round(w_in * se_ratio).
// Inline: the estimate makes two per stage for every candidate it costs.
inline Block anynet_block(BlockKind kind, int stage, int w_in, int w_out, int stride, int w_b,
                          int group_width, double se_ratio) {
  Block b = make_block(kind, stage, w_in, w_out);
  b.stride = stride;
  if (kind == BlockKind::kResBottleneck) {
    b.w_b = w_b;
    b.groups = w_b / group_width;
    b.w_se = static_cast<int>(std::nearbyint(w_in * se_ratio));
  }
  return b;
}

// AnyNet's head blocks (stage `stage`) on w_in channels: a 1x1 conv to head_w
// when head_w > 0, then the pool and the classifier.
void append_head(std::vector<Block>& blocks, int stage, int w_in, int head_w, int num_classes);

// The stem blocks (stage 0) for a pycls stem type; used by every family that
// offers the pycls stems. Throws naming an unknown type.
void append_stem(std::vector<Block>& blocks, const std::string& stem_type, int w_in, int w_out,
                 const std::string& family);

}  // namespace nds
