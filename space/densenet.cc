#include "space/densenet.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "space/anynet.h"
#include "space/blocks.h"
#include "space/limits.h"

namespace nds {
namespace {

constexpr const char* kFamily = "densenet";

// Each parameter's JSON key beside its field, in reading order: the one list
// that reading and writing the parameters share.
template <class Params, class Visit>
void for_each_param(Params& p, Visit&& visit) {
  visit("growth_rate", p.growth_rate);
  visit("block_config", p.block_config);
  visit("bn_size", p.bn_size);
  visit("compression", p.compression);
  visit("init_features", p.init_features);
  visit("stem_type", p.stem_type);
}

}  // namespace

NetSpec expand_densenet(const DenseNetParams& p, const ExpandOptions& options) {
  const std::string family = kFamily;
  check_param(p.growth_rate >= 1, family, "growth_rate", ">= 1", std::to_string(p.growth_rate));
  check_param(!p.block_config.empty(), family, "block_config", "a non-empty list",
              format_list(p.block_config));
  // Layers are counted before any is made, so that no expansion runs away.
  int64_t layers = 0;
  for (size_t i = 0; i < p.block_config.size(); ++i) {
    check_range(family, "block_config", p.block_config[i], 1, limits::kMaxBlocks,
                static_cast<int>(i));
    layers += p.block_config[i];
  }
  check_param(layers <= limits::kMaxBlocks, family, "block_config",
              "at most " + std::to_string(limits::kMaxBlocks) + " layers in all",
              std::to_string(layers) + " layers");
  check_param(p.bn_size >= 1, family, "bn_size", ">= 1", std::to_string(p.bn_size));
  check_param(p.compression > 0 && p.compression <= 1, family, "compression", "in (0, 1]",
              format_number(p.compression));
  check_range(family, "init_features", p.init_features, 1, limits::kMaxChannels);
  // Widths are tracked in 64 bits so that huge configurations are rejected
  // rather than overflowing.
  constexpr int64_t kMaxWidth = limits::kMaxChannels;
  const int64_t w_b = int64_t{p.bn_size} * p.growth_rate;
  check_param(w_b <= kMaxWidth, family, "bn_size * growth_rate",
              "at most " + std::to_string(kMaxWidth), std::to_string(w_b));

  NetSpec spec = make_spec(kFamily, options, 3, 1000, p.stem_type == "res_stem_cifar" ? 32 : 224);
  append_stem(spec.blocks, p.stem_type, spec.in_channels, p.init_features, family);

  int64_t c = p.init_features;
  const size_t n = p.block_config.size();
  for (size_t i = 0; i < n; ++i) {
    const int stage = static_cast<int>(i) + 1;
    const int64_t grown = c + int64_t{p.block_config[i]} * p.growth_rate;
    check_param(grown <= kMaxWidth, family, "block_config[" + std::to_string(i) + "]",
                "small enough to keep the width at most " + std::to_string(kMaxWidth),
                std::to_string(p.block_config[i]));
    for (int j = 0; j < p.block_config[i]; ++j) {
      Block b = make_block(BlockKind::kDenseLayer, stage, static_cast<int>(c),
                           static_cast<int>(c + p.growth_rate));
      b.w_b = static_cast<int>(w_b);
      spec.blocks.push_back(b);
      c += p.growth_rate;
    }
    if (i + 1 == n) break;
    // The transition belongs to the dense block it compresses.
    const auto kept = static_cast<int64_t>(std::floor(static_cast<double>(c) * p.compression));
    check_param(kept >= 1, family, "compression",
                "large enough to keep a channel of the " + std::to_string(c) +
                    " entering transition " + std::to_string(i),
                format_number(p.compression));
    spec.blocks.push_back(
        make_block(BlockKind::kTransition, stage, static_cast<int>(c), static_cast<int>(kept)));
    c = kept;
  }

  // torchvision's norm5 + ReLU before the pool and classifier.
  spec.blocks.push_back(
      head_block(static_cast<int>(n) + 1, static_cast<int>(c), spec.num_classes, /*bn=*/true));
  return spec;
}

DenseNetParams densenet_params_from_json(ParamReader& r) {
  DenseNetParams p;
  for_each_param(p, [&r](const char* key, auto& field) { r.read(key, field); });
  return p;
}

nlohmann::json to_json(const DenseNetParams& p) {
  nlohmann::json j = {{"family", kFamily}};
  for_each_param(p, [&j](const char* key, const auto& field) { j[key] = field; });
  return j;
}

}  // namespace nds
