#include "space/vgg.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "space/blocks.h"
#include "space/limits.h"

namespace nds {
namespace {

constexpr const char* kFamily = "vgg";
constexpr int kPoolSide = 7;  // torchvision's AdaptiveAvgPool2d((7, 7))

}  // namespace

VggParams vgg_preset(int depth, bool batch_norm) {
  VggParams p;
  switch (depth) {
    case 11: p.depths = {1, 1, 2, 2, 2}; break;
    case 13: p.depths = {2, 2, 2, 2, 2}; break;
    case 16: p.depths = {2, 2, 3, 3, 3}; break;
    case 19: p.depths = {2, 2, 4, 4, 4}; break;
    default:
      throw std::invalid_argument(std::string(kFamily) +
                                  ": depth must be one of 11, 13, 16, 19, got " +
                                  std::to_string(depth));
  }
  p.widths = {64, 128, 256, 512, 512};
  p.batch_norm = batch_norm;
  return p;
}

NetSpec expand_vgg(const VggParams& p, const ExpandOptions& options) {
  const std::string family = kFamily;
  const size_t n = p.depths.size();
  check_param(n >= 1, family, "depths", "a non-empty list", format_list(p.depths));
  check_param(p.widths.size() == n, family, "widths", std::to_string(n) + " values like depths",
              format_list(p.widths));
  int64_t convs = 0;  // counted before any block is made
  for (size_t i = 0; i < n; ++i) {
    check_range(family, "depths", p.depths[i], 1, limits::kMaxBlocks, static_cast<int>(i));
    check_range(family, "widths", p.widths[i], 1, limits::kMaxChannels, static_cast<int>(i));
    convs += p.depths[i];
  }
  check_param(convs <= limits::kMaxBlocks, family, "depths",
              "at most " + std::to_string(limits::kMaxBlocks) + " convs in all",
              std::to_string(convs) + " convs");
  check_range(family, "fc_width", p.fc_width, 1, limits::kMaxChannels);
  check_param(p.dropout >= 0 && p.dropout < 1, family, "dropout", "in [0, 1)",
              format_number(p.dropout));
  // The flattened pool output must fit the int width of a kLinear block.
  const int64_t features = int64_t{p.widths.back()} * kPoolSide * kPoolSide;
  check_param(features <= limits::kMaxFeatures, family, "widths[" + std::to_string(n - 1) + "]",
              "small enough that width * 49 is at most " + std::to_string(limits::kMaxFeatures),
              std::to_string(p.widths.back()));

  NetSpec spec = make_spec(kFamily, options, 3, 1000, 224);

  int prev_w = spec.in_channels;
  for (size_t i = 0; i < n; ++i) {
    const int stage = static_cast<int>(i) + 1;
    for (int j = 0; j < p.depths[i]; ++j) {
      Block conv = conv_block(stage, prev_w, p.widths[i], 3, 1, 1);
      conv.bias = true;  // torchvision keeps conv biases even with BN
      conv.bn = p.batch_norm;
      spec.blocks.push_back(conv);
      prev_w = p.widths[i];
    }
    spec.blocks.push_back(pool_block(stage, prev_w, PoolType::kMax, 2, 2, 0));
  }

  const int head_stage = static_cast<int>(n) + 1;
  spec.blocks.push_back(adaptive_pool_block(head_stage, prev_w, kPoolSide));

  // Classifier in torchvision's order: Linear, ReLU, Dropout, Linear, ReLU,
  // Dropout, Linear.
  spec.blocks.insert(
      spec.blocks.end(),
      {
          linear_block(head_stage, static_cast<int>(features), p.fc_width, Activation::kRelu),
          dropout_block(head_stage, p.fc_width, p.dropout),
          linear_block(head_stage, p.fc_width, p.fc_width, Activation::kRelu),
          dropout_block(head_stage, p.fc_width, p.dropout),
          linear_block(head_stage, p.fc_width, spec.num_classes, Activation::kNone),
      });
  return spec;
}

VggParams vgg_params_from_json(ParamReader& r) {
  VggParams p;
  if (r.has("depth")) {
    if (r.has("depths") || r.has("widths"))
      r.fail("give either 'depth' (a preset) or 'depths'/'widths', not both");
    p = vgg_preset(r.require_int("depth"), false);
  } else {
    if (!r.has("depths")) r.fail("missing required key 'depth' (11, 13, 16, 19) or 'depths'");
    p.depths = r.require_ints("depths");
    p.widths = r.get_ints("widths", p.widths);
  }
  p.batch_norm = r.get_bool("batch_norm", p.batch_norm);
  p.fc_width = r.get_int("fc_width", p.fc_width);
  p.dropout = r.get_double("dropout", p.dropout);
  return p;
}

nlohmann::json to_json(const VggParams& p) {
  return {{"family", kFamily},
          {"depths", p.depths},
          {"widths", p.widths},
          {"batch_norm", p.batch_norm},
          {"fc_width", p.fc_width},
          {"dropout", p.dropout}};
}

}  // namespace nds
