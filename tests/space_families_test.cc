// ResNet/ResNeXt, DenseNet and VGG: expansion checked against published
// parameter counts (torchvision), pycls's published complexity, and
// torchvision's published GFLOPS.

#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "space/complexity.h"
#include "space/densenet.h"
#include "space/params.h"
#include "space/resnet.h"
#include "space/vgg.h"

namespace nds {
namespace {

NetSpec resnet(int depth, int cardinality = 1, int width_per_group = 64,
               const ExpandOptions& options = {}) {
  ResNetParams p;
  p.depth = depth;
  p.cardinality = cardinality;
  p.width_per_group = width_per_group;
  return expand_resnet(p, options);
}

NetSpec densenet(int growth, std::vector<int> blocks, int init, const ExpandOptions& options = {}) {
  DenseNetParams p;
  p.growth_rate = growth;
  p.block_config = std::move(blocks);
  p.init_features = init;
  return expand_densenet(p, options);
}

NetSpec vgg(int depth, bool bn, const ExpandOptions& options = {}) {
  return expand_vgg(vgg_preset(depth, bn), options);
}

// The named torchvision models, built from family parameters.
struct Named {
  const char* name;
  std::function<NetSpec()> build;
};

const std::vector<Named>& named_models() {
  static const std::vector<Named> models = {
      {"resnet18", [] { return resnet(18); }},
      {"resnet34", [] { return resnet(34); }},
      {"resnet50", [] { return resnet(50); }},
      {"resnet101", [] { return resnet(101); }},
      {"resnet152", [] { return resnet(152); }},
      {"resnext50_32x4d", [] { return resnet(50, 32, 4); }},
      {"resnext101_32x8d", [] { return resnet(101, 32, 8); }},
      {"densenet121", [] { return densenet(32, {6, 12, 24, 16}, 64); }},
      {"densenet161", [] { return densenet(48, {6, 12, 36, 24}, 96); }},
      {"densenet169", [] { return densenet(32, {6, 12, 32, 32}, 64); }},
      {"densenet201", [] { return densenet(32, {6, 12, 48, 32}, 64); }},
      {"vgg11", [] { return vgg(11, false); }},
      {"vgg11_bn", [] { return vgg(11, true); }},
      {"vgg13", [] { return vgg(13, false); }},
      {"vgg13_bn", [] { return vgg(13, true); }},
      {"vgg16", [] { return vgg(16, false); }},
      {"vgg16_bn", [] { return vgg(16, true); }},
      {"vgg19", [] { return vgg(19, false); }},
      {"vgg19_bn", [] { return vgg(19, true); }},
  };
  return models;
}

NetSpec build(const std::string& name) {
  for (const Named& m : named_models())
    if (name == m.name) return m.build();
  throw std::logic_error("test has no model " + name);
}

// Runs `f`, expecting std::invalid_argument whose message contains `needle`.
template <typename F>
void expect_invalid(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning '" << needle << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' does not mention '" << needle << "'";
  }
}

// Parameter counts of torchvision.models (sum of p.numel() over parameters()),
// as published in torchvision's model documentation.
TEST(FamiliesTest, TorchvisionParameterCounts) {
  const struct {
    const char* name;
    int64_t params;
  } expected[] = {
      {"resnet18", 11'689'512},         {"resnet34", 21'797'672},
      {"resnet50", 25'557'032},         {"resnet101", 44'549'160},
      {"resnet152", 60'192'808},        {"resnext50_32x4d", 25'028'904},
      {"resnext101_32x8d", 88'791'336}, {"densenet121", 7'978'856},
      {"densenet161", 28'681'000},      {"densenet169", 14'149'480},
      {"densenet201", 20'013'928},      {"vgg11", 132'863'336},
      {"vgg11_bn", 132'868'840},        {"vgg13", 133'047'848},
      {"vgg13_bn", 133'053'736},        {"vgg16", 138'357'544},
      {"vgg16_bn", 138'365'992},        {"vgg19", 143'667'240},
      {"vgg19_bn", 143'678'248},
  };
  for (const auto& e : expected) {
    SCOPED_TRACE(e.name);
    EXPECT_EQ(complexity(build(e.name), 224).params, e.params);
  }
}

// pycls dev/model_complexity.json: params, flops, acts at 224 with 1000 classes.
TEST(FamiliesTest, PyclsPublishedComplexity) {
  const struct {
    const char* name;
    int depth, cardinality, width_per_group;
    Complexity want;
  } expected[] = {
      {"R-50", 50, 1, 64, {25'557'032, 4'089'185'256, 11'315'688}},
      {"R-101", 101, 1, 64, {44'549'160, 7'801'406'440, 16'433'640}},
      {"R-152", 152, 1, 64, {60'192'808, 11'513'627'624, 22'755'816}},
      {"X-50-32x4d", 50, 32, 4, {25'028'904, 4'230'480'872, 14'602'216}},
      {"X-101-32x4d", 101, 32, 4, {44'177'704, 7'969'997'800, 21'426'152}},
      {"X-152-32x4d", 152, 32, 4, {59'951'400, 11'709'514'728, 29'855'720}},
  };
  for (const auto& e : expected) {
    SCOPED_TRACE(e.name);
    const Complexity c = complexity(resnet(e.depth, e.cardinality, e.width_per_group), 224);
    EXPECT_EQ(c.params, e.want.params);
    EXPECT_EQ(c.flops, e.want.flops);
    EXPECT_EQ(c.acts, e.want.acts);
  }
}

// DenseNet-264 of the paper (k = 32, blocks 6-12-64-48, 64 stem channels);
// torchvision has no such model. Reference: 33,337,704 parameters, the count
// documented for lucid's densenet_264 (DenseNetConfig(block_config=[6, 12, 64,
// 48], growth_rate=32, num_init_features=64)), github.com/ChanLumerico/lucid,
// docs/source/models/imgclf/dense/densenet_264.rst. PaddleClas lists 33.37M
// rounded. (timm's densenet264d uses k = 48 and a deep stem: not comparable.)
TEST(FamiliesTest, DenseNet264) {
  const NetSpec spec = densenet(32, {6, 12, 64, 48}, 64);
  const Complexity c = complexity(spec, 224);
  EXPECT_EQ(c.params, 33'337'704);
  // The final width is 64 + 6*32 -> 128, + 12*32 -> 256, + 64*32 -> 1152,
  // + 48*32 = 2688 features into the classifier.
  EXPECT_EQ(spec.blocks.back().w_in, 2688);
}

// torchvision's published GFLOPS (multiply-adds), to 1%.
TEST(FamiliesTest, TorchvisionGflops) {
  const struct {
    const char* name;
    double gflops;
  } expected[] = {
      {"resnet18", 1.81},         {"resnet34", 3.66},         {"resnet50", 4.09},
      {"resnet101", 7.80},        {"resnet152", 11.51},       {"resnext50_32x4d", 4.23},
      {"resnext101_32x8d", 16.41}, {"densenet121", 2.83},     {"densenet161", 7.73},
      {"densenet169", 3.36},      {"densenet201", 4.29},      {"vgg11", 7.61},
      {"vgg11_bn", 7.61},         {"vgg13", 11.31},           {"vgg13_bn", 11.31},
      {"vgg16", 15.47},           {"vgg16_bn", 15.47},        {"vgg19", 19.63},
      {"vgg19_bn", 19.63},
  };
  for (const auto& e : expected) {
    SCOPED_TRACE(e.name);
    const double gflops = static_cast<double>(complexity(build(e.name), 224).flops) / 1e9;
    EXPECT_NEAR(gflops, e.gflops, 0.01 * e.gflops);
  }
}

TEST(FamiliesTest, ResNetStructure) {
  const NetSpec spec = resnet(50, 32, 4);
  EXPECT_EQ(spec.family, "resnet");
  EXPECT_EQ(spec.num_stages(), 6);  // stem, four stages, head
  std::vector<int> first_stride, w_b, w_out;
  int prev_stage = 0;
  for (const Block& b : spec.blocks) {
    if (b.kind != BlockKind::kResBottleneck) continue;
    EXPECT_EQ(b.groups, 32);
    EXPECT_EQ(b.w_se, 0);
    if (b.stage != prev_stage) {
      first_stride.push_back(b.stride);
      w_b.push_back(b.w_b);
      w_out.push_back(b.w_out);
      prev_stage = b.stage;
    } else {
      EXPECT_EQ(b.stride, 1);
    }
  }
  EXPECT_EQ(first_stride, (std::vector<int>{1, 2, 2, 2}));
  EXPECT_EQ(w_b, (std::vector<int>{128, 256, 512, 1024}));
  EXPECT_EQ(w_out, (std::vector<int>{256, 512, 1024, 2048}));
  const Block& head = spec.blocks.back();
  EXPECT_EQ(head.kind, BlockKind::kHead);
  EXPECT_FALSE(head.bn);
  EXPECT_EQ(head.w_in, 2048);
  EXPECT_EQ(head.w_out, 1000);

  for (const Block& b : resnet(18).blocks)
    if (b.stage >= 1 && b.stage <= 4) {
      EXPECT_EQ(b.kind, BlockKind::kResBasic);
    }
}

TEST(FamiliesTest, DenseNetStructure) {
  const NetSpec spec = densenet(32, {6, 12, 24, 16}, 64);
  EXPECT_EQ(spec.family, "densenet");
  std::vector<int> transition_stage, transition_out;
  int dense_layers = 0;
  for (const Block& b : spec.blocks) {
    if (b.kind == BlockKind::kDenseLayer) {
      ++dense_layers;
      EXPECT_EQ(b.w_out - b.w_in, 32);
      EXPECT_EQ(b.w_b, 128);
    }
    if (b.kind == BlockKind::kTransition) {
      transition_stage.push_back(b.stage);
      transition_out.push_back(b.w_out);
    }
  }
  EXPECT_EQ(dense_layers, 58);
  // Transitions follow blocks 1..3 (not the last), in their dense block's stage.
  EXPECT_EQ(transition_stage, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(transition_out, (std::vector<int>{128, 256, 512}));
  const Block& head = spec.blocks.back();
  EXPECT_EQ(head.kind, BlockKind::kHead);
  EXPECT_TRUE(head.bn);
  EXPECT_EQ(head.stage, 5);
  EXPECT_EQ(head.w_in, 1024);

  // An odd width rounds down, like torchvision's num_features // 2.
  DenseNetParams p;
  p.growth_rate = 5;
  p.block_config = {3, 2};
  p.init_features = 8;  // 8 + 15 = 23 -> 11
  const NetSpec odd = expand_densenet(p);
  for (const Block& b : odd.blocks)
    if (b.kind == BlockKind::kTransition) {
      EXPECT_EQ(b.w_out, 11);
    }
  EXPECT_NO_THROW(complexity(odd, 224));
}

TEST(FamiliesTest, VggStructure) {
  const NetSpec spec = vgg(11, true);
  EXPECT_EQ(spec.family, "vgg");
  std::vector<BlockKind> head_kinds;
  int convs = 0, pools = 0;
  for (const Block& b : spec.blocks) {
    if (b.kind == BlockKind::kConv) {
      ++convs;
      EXPECT_TRUE(b.bias);
      EXPECT_TRUE(b.bn);
      EXPECT_EQ(b.kernel, 3);
      EXPECT_EQ(b.pad(), 1);
    }
    if (b.kind == BlockKind::kPool) {
      ++pools;
      EXPECT_EQ(b.pool, PoolType::kMax);
      EXPECT_EQ(b.kernel, 2);
      EXPECT_EQ(b.stride, 2);
    }
    if (b.stage == 6) head_kinds.push_back(b.kind);
  }
  EXPECT_EQ(convs, 8);
  EXPECT_EQ(pools, 5);
  EXPECT_EQ(head_kinds,
            (std::vector<BlockKind>{BlockKind::kAdaptivePool, BlockKind::kLinear,
                                    BlockKind::kDropout, BlockKind::kLinear, BlockKind::kDropout,
                                    BlockKind::kLinear}));
  const Block& last = spec.blocks.back();
  EXPECT_EQ(last.act, Activation::kNone);
  EXPECT_EQ(spec.blocks[spec.blocks.size() - 5].w_in, 512 * 7 * 7);

  // The adaptive pool makes the classifier independent of the input side.
  EXPECT_EQ(complexity(spec, 256).params, complexity(spec, 224).params);
}

TEST(FamiliesTest, BadInputsNameTheValue) {
  expect_invalid([] { resnet(42); }, "resnet: depth must be one of 18, 34, 50, 101, 152, got 42");
  expect_invalid([] { resnet(18, 32, 4); }, "got 32");
  expect_invalid([] { resnet(34, 1, 128); }, "got 128");
  expect_invalid([] { resnet(50, 0); }, "cardinality");
  expect_invalid([] { resnet(152, 1 << 30, 1 << 30); }, "1073741824 * 1073741824");
  expect_invalid(
      [] {
        ResNetParams p;
        p.stem_type = "bogus_stem";
        expand_resnet(p);
      },
      "bogus_stem");

  const auto dense_with = [](const std::function<void(DenseNetParams&)>& edit) {
    return [edit] {
      DenseNetParams p;
      edit(p);
      expand_densenet(p);
    };
  };
  expect_invalid(dense_with([](DenseNetParams& p) { p.compression = 0; }),
                 "compression must be in (0, 1], got 0");
  expect_invalid(dense_with([](DenseNetParams& p) { p.compression = 1.5; }),
                 "compression must be in (0, 1], got 1.5");
  expect_invalid(dense_with([](DenseNetParams& p) { p.growth_rate = 0; }), "growth_rate");
  expect_invalid(dense_with([](DenseNetParams& p) { p.block_config = {}; }), "block_config");
  expect_invalid(dense_with([](DenseNetParams& p) { p.block_config = {6, 0}; }),
                 "block_config[1] must be >= 1, got 0");
  expect_invalid(dense_with([](DenseNetParams& p) { p.bn_size = 0; }), "bn_size");
  expect_invalid(dense_with([](DenseNetParams& p) { p.init_features = -3; }), "got -3");
  // A compression so small that a transition would keep no channel.
  expect_invalid(dense_with([](DenseNetParams& p) { p.compression = 0.001; }), "compression");

  expect_invalid([] { vgg_preset(12, false); }, "vgg: depth must be one of 11, 13, 16, 19, got 12");
  expect_invalid(
      [] {
        VggParams p;
        p.widths = {64, 128};
        expand_vgg(p);
      },
      "widths");
  expect_invalid(
      [] {
        VggParams p;
        p.dropout = 1.5;
        expand_vgg(p);
      },
      "got 1.5");
}

TEST(FamiliesTest, UnknownJsonKeyIsRejected) {
  const auto finish_with = [](const char* family, const nlohmann::json& j) {
    return [family, j] {
      ParamReader r(j, family);
      if (std::string(family) == "resnet") resnet_params_from_json(r);
      if (std::string(family) == "densenet") densenet_params_from_json(r);
      if (std::string(family) == "vgg") vgg_params_from_json(r);
      r.finish();
    };
  };
  expect_invalid(finish_with("resnet", {{"depth", 50}, {"cardinalty", 32}}), "cardinalty");
  expect_invalid(finish_with("densenet", {{"growth", 32}}), "growth");
  expect_invalid(finish_with("vgg", {{"depth", 16}, {"bn", true}}), "'bn'");
  expect_invalid(finish_with("resnet", {{"cardinality", 32}}), "depth");
  expect_invalid(finish_with("vgg", {{"depth", 16}, {"depths", {1, 1}}}), "depth");
  expect_invalid(finish_with("vgg", {{"batch_norm", true}}), "depth");
}

TEST(FamiliesTest, JsonRoundTrip) {
  {
    ResNetParams p;
    p.depth = 101;
    p.cardinality = 32;
    p.width_per_group = 8;
    const nlohmann::json j = to_json(p);
    EXPECT_EQ(j.at("family"), "resnet");
    ParamReader r(j, "resnet");
    const ResNetParams q = resnet_params_from_json(r);
    r.finish();
    EXPECT_EQ(to_json(q), j);
    EXPECT_EQ(to_json(expand_resnet(q)), to_json(resnet(101, 32, 8)));
  }
  {
    DenseNetParams p;
    p.growth_rate = 48;
    p.block_config = {6, 12, 36, 24};
    p.init_features = 96;
    const nlohmann::json j = to_json(p);
    EXPECT_EQ(j.at("family"), "densenet");
    ParamReader r(j, "densenet");
    const DenseNetParams q = densenet_params_from_json(r);
    r.finish();
    EXPECT_EQ(to_json(q), j);
  }
  {
    const nlohmann::json j = to_json(vgg_preset(19, true));
    EXPECT_EQ(j.at("family"), "vgg");
    ParamReader r(j, "vgg");
    const VggParams q = vgg_params_from_json(r);
    r.finish();
    EXPECT_EQ(to_json(q), j);
  }
  {
    // A preset by depth equals the explicit lists. (ParamReader keeps a
    // reference to its JSON, so the object must outlive it.)
    const nlohmann::json j = {{"depth", 13}, {"batch_norm", true}};
    ParamReader r(j, "vgg");
    const VggParams q = vgg_params_from_json(r);
    r.finish();
    EXPECT_EQ(to_json(q), to_json(vgg_preset(13, true)));
  }
}

// Block-by-block costs of two specs of the same model; returns the indices
// of the blocks whose cost differs.
std::vector<size_t> differing_blocks(const NetSpec& a, const NetSpec& b, int resolution) {
  std::vector<BlockCost> pa, pb;
  complexity(a, resolution, &pa);
  complexity(b, resolution, &pb);
  EXPECT_EQ(pa.size(), pb.size());
  std::vector<size_t> out;
  for (size_t i = 0; i < pa.size() && i < pb.size(); ++i) {
    const Complexity& x = pa[i].cost;
    const Complexity& y = pb[i].cost;
    if (x.params != y.params || x.flops != y.flops || x.acts != y.acts) out.push_back(i);
  }
  return out;
}

TEST(FamiliesTest, NumClassesChangesOnlyTheFinalFc) {
  ExpandOptions ten;
  ten.num_classes = 10;
  const struct {
    NetSpec base, changed;
  } cases[] = {
      {resnet(50), resnet(50, 1, 64, ten)},
      {densenet(32, {6, 12, 24, 16}, 64), densenet(32, {6, 12, 24, 16}, 64, ten)},
      {vgg(16, false), vgg(16, false, ten)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.base.family);
    EXPECT_EQ(c.changed.num_classes, 10);
    EXPECT_EQ(c.changed.blocks.back().w_out, 10);
    const size_t last = c.base.blocks.size() - 1;
    EXPECT_EQ(differing_blocks(c.base, c.changed, 224), std::vector<size_t>{last});
    // The FC loses 990 outputs, each with its weights and bias.
    const int64_t fc_in = c.base.blocks.back().w_in;
    EXPECT_EQ(complexity(c.base, 224).params - complexity(c.changed, 224).params,
              990 * (fc_in + 1));
  }
}

TEST(FamiliesTest, InChannelsChangesOnlyTheStemConv) {
  ExpandOptions gray;
  gray.in_channels = 1;
  const struct {
    NetSpec base, changed;
    int64_t stem_kernel_area, stem_w;
  } cases[] = {
      {resnet(18), resnet(18, 1, 64, gray), 49, 64},
      {densenet(48, {6, 12, 36, 24}, 96), densenet(48, {6, 12, 36, 24}, 96, gray), 49, 96},
      {vgg(11, true), vgg(11, true, gray), 9, 64},  // the conv bias does not depend on inputs
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.base.family);
    EXPECT_EQ(c.changed.in_channels, 1);
    EXPECT_EQ(c.changed.blocks.front().w_in, 1);
    EXPECT_EQ(differing_blocks(c.base, c.changed, 224), std::vector<size_t>{0});
    // Two input channels fewer, each with a kernel per stem output channel.
    EXPECT_EQ(complexity(c.base, 224).params - complexity(c.changed, 224).params,
              2 * c.stem_kernel_area * c.stem_w);
  }
}

TEST(FamiliesTest, CifarStem) {
  ResNetParams p;
  p.depth = 18;
  p.stem_type = "res_stem_cifar";
  const NetSpec spec = expand_resnet(p, {3, 10});
  EXPECT_EQ(spec.resolution, 32);
  std::vector<BlockCost> per_block;
  Complexity c;
  ASSERT_NO_THROW(c = complexity(spec, 32, &per_block));
  EXPECT_GT(c.flops, 0);
  // 32 -> 32 (stem, stage 1) -> 16 -> 8 -> 4 before the head.
  EXPECT_EQ(per_block[per_block.size() - 2].out.h, 4);

  p.depth = 50;
  EXPECT_NO_THROW(complexity(expand_resnet(p, {3, 10}), 32));

  DenseNetParams d;
  d.stem_type = "res_stem_cifar";
  EXPECT_NO_THROW(complexity(expand_densenet(d, {3, 10}), 32));
}

}  // namespace
}  // namespace nds
