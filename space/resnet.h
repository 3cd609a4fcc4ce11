#pragma once
// ResNet and ResNeXt (He et al. 2016; Xie et al. 2017), torchvision
// convention: the stride sits on the 3x3 conv of the bottleneck.

#include <string>

#include <nlohmann/json.hpp>

#include "space/net_spec.h"
#include "space/params.h"

namespace nds {

struct ResNetParams {
  int depth = 50;                         // 18, 34 (basic blocks), 50, 101, 152 (bottlenecks)
  int cardinality = 1;                    // groups of the 3x3 conv (ResNeXt: 32)
  int width_per_group = 64;               // bottleneck channels per group at stage 1 (ResNeXt: 4, 8)
  std::string stem_type = "res_stem_in";  // a pycls stem type
};

NetSpec expand_resnet(const ResNetParams& p, const ExpandOptions& options = {});
ResNetParams resnet_params_from_json(ParamReader& reader);
nlohmann::json to_json(const ResNetParams& p);

}  // namespace nds
