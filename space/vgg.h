#pragma once
// VGG (Simonyan & Zisserman 2015), torchvision layout: stages of 3x3 convs
// with bias (optionally BN), 2x2 max pools, adaptive 7x7 average pool, and a
// 4096-4096 classifier with dropout.

#include <vector>

#include <nlohmann/json.hpp>

#include "space/net_spec.h"
#include "space/params.h"

namespace nds {

struct VggParams {
  std::vector<int> depths = {2, 2, 3, 3, 3};           // convs per stage (vgg16)
  std::vector<int> widths = {64, 128, 256, 512, 512};  // channels per stage
  bool batch_norm = false;                             // BN after every conv
  int fc_width = 4096;                                 // hidden FC width
  double dropout = 0.5;                                // dropout before hidden FCs
};

VggParams vgg_preset(int depth, bool batch_norm);  // 11, 13, 16 or 19
NetSpec expand_vgg(const VggParams& p, const ExpandOptions& options = {});
VggParams vgg_params_from_json(ParamReader& reader);  // also accepts "depth": 11|13|16|19
nlohmann::json to_json(const VggParams& p);

}  // namespace nds
