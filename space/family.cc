#include "space/family.h"

#include <stdexcept>
#include <string>

#include "space/anynet.h"
#include "space/classic.h"
#include "space/densenet.h"
#include "space/limits.h"
#include "space/params.h"
#include "space/regnet.h"
#include "space/resnet.h"
#include "space/vgg.h"

namespace nds {
namespace {

constexpr char kAnyNet[] = "anynet";
constexpr char kRegNet[] = "regnet";
constexpr char kResNet[] = "resnet";
constexpr char kDenseNet[] = "densenet";
constexpr char kVgg[] = "vgg";

// Adapter from JSON to a family's typed parameters and on to its expansion.
// ParamReader::finish() rejects keys the family does not know.
template <const char* Family, auto FromJson, auto Expand>
NetSpec expand_json(const nlohmann::json& j, const ExpandOptions& o) {
  ParamReader r(j, Family);
  const auto p = FromJson(r);
  r.finish();
  return Expand(p, o);
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
      {kAnyNet, "AnyNet: stem, stages of vanilla/basic/bottleneck blocks, head (pycls)",
       expand_json<kAnyNet, anynet_params_from_json, expand_anynet>},
      {kRegNet, "RegNet: quantized linear widths from (depth, w_0, w_a, w_m, g, b, se)",
       expand_json<kRegNet, regnet_params_from_json, expand_regnet>},
      {kResNet, "ResNet / ResNeXt: depth, cardinality, width per group (torchvision)",
       expand_json<kResNet, resnet_params_from_json, expand_resnet>},
      {kDenseNet, "DenseNet-BC: growth rate, block config, compression (torchvision)",
       expand_json<kDenseNet, densenet_params_from_json, expand_densenet>},
      {kVgg, "VGG: stages of 3x3 convs, optional BN, FC classifier (torchvision)",
       expand_json<kVgg, vgg_params_from_json, expand_vgg>},
      {"lenet5", "LeNet-5 (1998), fixed", expand_fixed_json<lenet5>},
      {"alexnet", "AlexNet, torchvision's single-tower variant, fixed", expand_fixed_json<alexnet>},
      {"googlenet", "GoogLeNet (2014 paper), fixed", expand_fixed_json<googlenet>},
      {"xception", "Xception (2017), fixed", expand_fixed_json<xception>},
  };
  return table;
}

NetSpec expand_params(const nlohmann::json& params, const ExpandOptions& options) {
  if (!params.is_object())
    throw std::invalid_argument("model parameters must be a JSON object, got " + json_text(params));
  const auto it = params.find("family");
  if (it == params.end()) throw std::invalid_argument("model parameters lack the key 'family'");
  const std::string where = "model parameters";
  const std::string name = json_string(*it, JsonName{where, "family"});
  for (const FamilyInfo& f : families()) {
    if (name != f.name) continue;
    // Channels and classes are common to every family: take them out here.
    nlohmann::json rest = params;
    ExpandOptions o;
    ParamReader common(params, name);
    o.in_channels = common.get_int("in_channels", 3);
    o.num_classes = common.get_int("num_classes", 1000);
    check_range(name, "in_channels", o.in_channels, 1, limits::kMaxChannels);
    check_range(name, "num_classes", o.num_classes, 1, limits::kMaxClasses);
    if (!common.has("in_channels")) o.in_channels = 0;  // the family's default
    if (!common.has("num_classes")) o.num_classes = 0;
    rest.erase("in_channels");
    rest.erase("num_classes");
    if (options.in_channels > 0) o.in_channels = options.in_channels;
    if (options.num_classes > 0) o.num_classes = options.num_classes;
    NetSpec spec = f.expand(rest, o);
    validate(spec);  // also covers `options`, which no family checks
    return spec;
  }
  std::string known;
  for (const FamilyInfo& f : families()) known += (known.empty() ? "" : ", ") + std::string(f.name);
  throw std::invalid_argument("unknown family '" + name + "' (known: " + known + ")");
}

}  // namespace nds
