#include "space/family.h"

#include <stdexcept>
#include <string>

#include "space/anynet.h"
#include "space/classic.h"
#include "space/densenet.h"
#include "space/params.h"
#include "space/regnet.h"
#include "space/resnet.h"
#include "space/vgg.h"

namespace nds {
namespace {

// Adapters from JSON to each family's typed parameters. ParamReader::finish()
// rejects keys a family does not know.
NetSpec expand_anynet_json(const nlohmann::json& j, const ExpandOptions& o) {
  ParamReader r(j, "anynet");
  const AnyNetParams p = anynet_params_from_json(r);
  r.finish();
  return expand_anynet(p, o);
}
NetSpec expand_regnet_json(const nlohmann::json& j, const ExpandOptions& o) {
  ParamReader r(j, "regnet");
  const RegNetParams p = regnet_params_from_json(r);
  r.finish();
  return expand_regnet(p, o);
}
NetSpec expand_resnet_json(const nlohmann::json& j, const ExpandOptions& o) {
  ParamReader r(j, "resnet");
  const ResNetParams p = resnet_params_from_json(r);
  r.finish();
  return expand_resnet(p, o);
}
NetSpec expand_densenet_json(const nlohmann::json& j, const ExpandOptions& o) {
  ParamReader r(j, "densenet");
  const DenseNetParams p = densenet_params_from_json(r);
  r.finish();
  return expand_densenet(p, o);
}
NetSpec expand_vgg_json(const nlohmann::json& j, const ExpandOptions& o) {
  ParamReader r(j, "vgg");
  const VggParams p = vgg_params_from_json(r);
  r.finish();
  return expand_vgg(p, o);
}
// One-off networks take no parameters beyond channels and classes.
template <NetSpec (*Build)(const ExpandOptions&)>
NetSpec expand_fixed_json(const nlohmann::json& j, const ExpandOptions& o) {
  ParamReader r(j, j.value("family", std::string("network")));
  r.finish();
  return Build(o);
}

}  // namespace

const std::vector<FamilyInfo>& families() {
  static const std::vector<FamilyInfo> table = {
      {"anynet", "AnyNet: stem, stages of vanilla/basic/bottleneck blocks, head (pycls)",
       expand_anynet_json},
      {"regnet", "RegNet: quantized linear widths from (depth, w_0, w_a, w_m, g, b, se)",
       expand_regnet_json},
      {"resnet", "ResNet / ResNeXt: depth, cardinality, width per group (torchvision)",
       expand_resnet_json},
      {"densenet", "DenseNet-BC: growth rate, block config, compression (torchvision)",
       expand_densenet_json},
      {"vgg", "VGG: stages of 3x3 convs, optional BN, FC classifier (torchvision)",
       expand_vgg_json},
      {"lenet5", "LeNet-5 (1998), fixed", expand_fixed_json<lenet5>},
      {"alexnet", "AlexNet, torchvision's single-tower variant, fixed", expand_fixed_json<alexnet>},
      {"googlenet", "GoogLeNet (2014 paper), fixed", expand_fixed_json<googlenet>},
      {"xception", "Xception (2017), fixed", expand_fixed_json<xception>},
  };
  return table;
}

NetSpec expand_params(const nlohmann::json& params, const ExpandOptions& options) {
  if (!params.is_object())
    throw std::invalid_argument("model parameters must be a JSON object, got " + params.dump());
  const auto it = params.find("family");
  if (it == params.end()) throw std::invalid_argument("model parameters lack the key 'family'");
  if (!it->is_string()) throw std::invalid_argument("'family' must be a string, got " + it->dump());
  const std::string name = it->get<std::string>();
  for (const FamilyInfo& f : families()) {
    if (name != f.name) continue;
    // Channels and classes are common to every family: take them out here.
    nlohmann::json rest = params;
    ExpandOptions o;
    ParamReader common(params, name);
    o.in_channels = common.get_int("in_channels", 3);
    o.num_classes = common.get_int("num_classes", 1000);
    check_param(o.in_channels >= 1, name, "in_channels", ">= 1", std::to_string(o.in_channels));
    check_param(o.num_classes >= 1, name, "num_classes", ">= 1", std::to_string(o.num_classes));
    if (!common.has("in_channels")) o.in_channels = 0;  // the family's default
    if (!common.has("num_classes")) o.num_classes = 0;
    rest.erase("in_channels");
    rest.erase("num_classes");
    if (options.in_channels > 0) o.in_channels = options.in_channels;
    if (options.num_classes > 0) o.num_classes = options.num_classes;
    return f.expand(rest, o);
  }
  std::string known;
  for (const FamilyInfo& f : families()) known += (known.empty() ? "" : ", ") + std::string(f.name);
  throw std::invalid_argument("unknown family '" + name + "' (known: " + known + ")");
}

}  // namespace nds
