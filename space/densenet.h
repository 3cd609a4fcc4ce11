#pragma once
// DenseNet-BC (Huang et al. 2017), torchvision layout: BN-ReLU-Conv order,
// bottleneck layers, compressing transitions, a final BN.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/net_spec.h"
#include "space/params.h"

namespace nds {

struct DenseNetParams {
  int growth_rate = 32;                          // k: channels each layer adds
  std::vector<int> block_config = {6, 12, 24, 16};  // layers per dense block
  int bn_size = 4;                               // bottleneck width = bn_size * k
  double compression = 0.5;                      // theta: transition keeps floor(theta * c)
  int init_features = 64;                        // stem width
  std::string stem_type = "res_stem_in";         // a pycls stem type
};

NetSpec expand_densenet(const DenseNetParams& p, const ExpandOptions& options = {});
DenseNetParams densenet_params_from_json(ParamReader& reader);
nlohmann::json to_json(const DenseNetParams& p);

}  // namespace nds
