#include "space/resnet.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "space/anynet.h"
#include "space/blocks.h"
#include "space/limits.h"

namespace nds {
namespace {

constexpr const char* kFamily = "resnet";
constexpr int kStemWidth = 64;
constexpr int kNumStages = 4;

// Blocks per stage for each supported depth (torchvision's table).
std::vector<int> stage_depths(int depth) {
  switch (depth) {
    case 18: return {2, 2, 2, 2};
    case 34: return {3, 4, 6, 3};
    case 50: return {3, 4, 6, 3};
    case 101: return {3, 4, 23, 3};
    case 152: return {3, 8, 36, 3};
    default:
      throw std::invalid_argument(std::string(kFamily) +
                                  ": depth must be one of 18, 34, 50, 101, 152, got " +
                                  std::to_string(depth));
  }
}

}  // namespace

NetSpec expand_resnet(const ResNetParams& p, const ExpandOptions& options) {
  const std::string family = kFamily;
  const std::vector<int> depths = stage_depths(p.depth);
  const bool bottleneck = p.depth >= 50;
  check_param(p.cardinality >= 1, family, "cardinality", ">= 1", std::to_string(p.cardinality));
  check_param(p.width_per_group >= 1, family, "width_per_group", ">= 1",
              std::to_string(p.width_per_group));
  if (!bottleneck) {
    // torchvision's BasicBlock raises for anything but groups=1, base_width=64.
    const std::string why = " for basic blocks (depth " + std::to_string(p.depth) + ")";
    check_param(p.cardinality == 1, family, "cardinality", "1" + why,
                std::to_string(p.cardinality));
    check_param(p.width_per_group == 64, family, "width_per_group", "64" + why,
                std::to_string(p.width_per_group));
  }

  // torchvision: width = int(planes * (base_width / 64.)) * groups. The bound
  // is checked before multiplying, so absurd values fail instead of overflowing.
  constexpr int64_t kMaxWidth = limits::kMaxChannels;
  std::vector<int> w_bs(kNumStages, 0);
  if (bottleneck) {
    for (int i = 0; i < kNumStages; ++i) {
      const int64_t per_group = (int64_t{kStemWidth} << i) * p.width_per_group / 64;
      check_param(per_group <= kMaxWidth / p.cardinality, family, "cardinality * width_per_group",
                  "small enough for bottleneck widths of at most " + std::to_string(kMaxWidth),
                  std::to_string(p.cardinality) + " * " + std::to_string(p.width_per_group));
      w_bs[static_cast<size_t>(i)] = static_cast<int>(per_group * p.cardinality);
    }
  }

  NetSpec spec = make_spec(kFamily, options, 3, 1000, p.stem_type == "res_stem_cifar" ? 32 : 224);
  append_stem(spec.blocks, p.stem_type, spec.in_channels, kStemWidth, family);

  const int expansion = bottleneck ? 4 : 1;
  int prev_w = kStemWidth;
  for (int i = 0; i < kNumStages; ++i) {
    const int w = (kStemWidth << i) * expansion;
    for (int j = 0; j < depths[static_cast<size_t>(i)]; ++j) {
      Block b = make_block(bottleneck ? BlockKind::kResBottleneck : BlockKind::kResBasic, i + 1,
                           j == 0 ? prev_w : w, w);
      // torchvision's layer1 keeps the stem's resolution; later stages halve it.
      b.stride = (j == 0 && i > 0) ? 2 : 1;
      if (bottleneck) {
        b.w_b = w_bs[static_cast<size_t>(i)];
        b.groups = p.cardinality;
        b.w_se = 0;
      }
      spec.blocks.push_back(b);
    }
    prev_w = w;
  }

  spec.blocks.push_back(head_block(kNumStages + 1, prev_w, spec.num_classes));
  return spec;
}

ResNetParams resnet_params_from_json(ParamReader& r) {
  ResNetParams p;
  p.depth = r.require_int("depth");
  p.cardinality = r.get_int("cardinality", p.cardinality);
  p.width_per_group = r.get_int("width_per_group", p.width_per_group);
  p.stem_type = r.get_string("stem_type", p.stem_type);
  return p;
}

nlohmann::json to_json(const ResNetParams& p) {
  return {{"family", kFamily},
          {"depth", p.depth},
          {"cardinality", p.cardinality},
          {"width_per_group", p.width_per_group},
          {"stem_type", p.stem_type}};
}

}  // namespace nds
