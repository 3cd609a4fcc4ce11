#pragma once
// RegNet (Radosavovic et al. 2020): per-block widths from a quantized linear
// rule, u_j = w_0 + w_a * j, grouped into stages of equal width.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/anynet.h"
#include "space/net_spec.h"
#include "space/params.h"

namespace nds {

struct RegNetParams {
  int depth = 13;                 // d: total number of blocks
  int w_0 = 24;                   // initial width, a multiple of `quantum`
  double w_a = 36.44;             // slope
  double w_m = 2.49;              // width multiplier between stages (> 1)
  int group_width = 8;            // g
  double bottleneck_ratio = 1;    // b: w_b = w / b
  double se_ratio = 0;            // > 0 makes a RegNetY
  int stride = 2;                 // stride of every stage's first block
  std::string stem_type = "simple_stem_in";
  int stem_w = 32;
  int head_w = 0;
  int quantum = 8;                // q: widths are multiples of q
};

// generate_regnet() of pycls, in exact arithmetic of the same float64 ops.
struct RegNetWidths {
  std::vector<int> widths;          // per stage
  std::vector<int> depths;          // per stage
  int num_stages = 0;               // stages produced
  int total_stages = 0;             // max s_j + 1 (stages the rule spans)
  std::vector<int> block_widths;    // w_j, quantized, per block
  std::vector<double> block_widths_cont;  // u_j, per block
};

// Throws std::invalid_argument for w_a < 0, w_0 <= 0, w_m <= 1, w_0 % q != 0,
// d < 1, and beyond space/limits.h (d > kMaxBlocks, widths > kMaxChannels).
RegNetWidths generate_regnet(double w_a, int w_0, double w_m, int depth, int quantum = 8);

// The AnyNet parameters a RegNet stands for (after compatibility adjustment).
AnyNetParams regnet_to_anynet(const RegNetParams& p);

NetSpec expand_regnet(const RegNetParams& p, const ExpandOptions& options = {});

RegNetParams regnet_params_from_json(ParamReader& reader);
nlohmann::json to_json(const RegNetParams& p);

}  // namespace nds
