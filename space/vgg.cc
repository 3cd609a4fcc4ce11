#include "space/vgg.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nds {
namespace {

constexpr const char* kFamily = "vgg";
constexpr int kPoolSide = 7;  // torchvision's AdaptiveAvgPool2d((7, 7))

std::string list_text(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

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
  check_param(n >= 1, family, "depths", "a non-empty list", list_text(p.depths));
  check_param(p.widths.size() == n, family, "widths", std::to_string(n) + " values like depths",
              list_text(p.widths));
  for (size_t i = 0; i < n; ++i) {
    const std::string at = "[" + std::to_string(i) + "]";
    check_param(p.depths[i] >= 1, family, "depths" + at, ">= 1", std::to_string(p.depths[i]));
    check_param(p.widths[i] >= 1, family, "widths" + at, ">= 1", std::to_string(p.widths[i]));
  }
  check_param(p.fc_width >= 1, family, "fc_width", ">= 1", std::to_string(p.fc_width));
  check_param(p.dropout >= 0 && p.dropout < 1, family, "dropout", "in [0, 1)",
              format_number(p.dropout));
  // The flattened pool output must fit the int width of a kLinear block.
  const int64_t features = int64_t{p.widths.back()} * kPoolSide * kPoolSide;
  check_param(features <= (int64_t{1} << 30), family, "widths[" + std::to_string(n - 1) + "]",
              "small enough that width * 49 fits in 2^30", std::to_string(p.widths.back()));

  NetSpec spec;
  spec.family = family;
  spec.in_channels = or_default(options.in_channels, 3);
  spec.num_classes = or_default(options.num_classes, 1000);
  spec.resolution = 224;

  int prev_w = spec.in_channels;
  for (size_t i = 0; i < n; ++i) {
    const int stage = static_cast<int>(i) + 1;
    for (int j = 0; j < p.depths[i]; ++j) {
      Block conv;
      conv.kind = BlockKind::kConv;
      conv.stage = stage;
      conv.w_in = prev_w;
      conv.w_out = p.widths[i];
      conv.kernel = 3;
      conv.stride = 1;
      conv.padding = 1;
      conv.bias = true;  // torchvision keeps conv biases even with BN
      conv.bn = p.batch_norm;
      conv.act = Activation::kRelu;
      spec.blocks.push_back(conv);
      prev_w = p.widths[i];
    }
    Block pool;
    pool.kind = BlockKind::kPool;
    pool.stage = stage;
    pool.w_in = pool.w_out = prev_w;
    pool.pool = PoolType::kMax;
    pool.kernel = 2;
    pool.stride = 2;
    pool.padding = 0;
    spec.blocks.push_back(pool);
  }

  const int head_stage = static_cast<int>(n) + 1;
  Block adaptive;
  adaptive.kind = BlockKind::kAdaptivePool;
  adaptive.stage = head_stage;
  adaptive.w_in = adaptive.w_out = prev_w;
  adaptive.out_size = kPoolSide;
  spec.blocks.push_back(adaptive);

  // Classifier in torchvision's order: Linear, ReLU, Dropout, Linear, ReLU,
  // Dropout, Linear.
  const auto linear = [&](int w_in, int w_out, Activation act) {
    Block fc;
    fc.kind = BlockKind::kLinear;
    fc.stage = head_stage;
    fc.w_in = w_in;
    fc.w_out = w_out;
    fc.bias = true;
    fc.act = act;
    spec.blocks.push_back(fc);
  };
  const auto dropout = [&](int w) {
    Block d;
    d.kind = BlockKind::kDropout;
    d.stage = head_stage;
    d.w_in = d.w_out = w;
    d.dropout = p.dropout;
    spec.blocks.push_back(d);
  };
  linear(static_cast<int>(features), p.fc_width, Activation::kRelu);
  dropout(p.fc_width);
  linear(p.fc_width, p.fc_width, Activation::kRelu);
  dropout(p.fc_width);
  linear(p.fc_width, spec.num_classes, Activation::kNone);
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
