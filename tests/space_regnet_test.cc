// RegNet generation and AnyNet expansion (the RegNet zoo numbers are in space_zoo_test).

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "space/anynet.h"
#include "space/complexity.h"
#include "space/family.h"
#include "space/regnet.h"
#include "space/zoo.h"

namespace nds {
namespace {

// The rule gives 24, 64, 152, 392; group-width compatibility (g = 16) then
// meets three exact halves (1.5, 9.5, 24.5 groups), which round to even.
TEST(RegNet, X400mfStageWidthsAndDepths) {
  const RegNetWidths g = generate_regnet(24.48, 24, 2.54, 22);
  EXPECT_EQ(g.widths, (std::vector<int>{24, 64, 152, 392}));
  EXPECT_EQ(g.depths, (std::vector<int>{1, 2, 7, 12}));
  EXPECT_EQ(g.num_stages, 4);
  RegNetParams p;
  p.depth = 22;
  p.w_0 = 24;
  p.w_a = 24.48;
  p.w_m = 2.54;
  p.group_width = 16;
  const AnyNetParams a = regnet_to_anynet(p);
  EXPECT_EQ(a.widths, (std::vector<int>{32, 64, 160, 384}));
  EXPECT_EQ(a.depths, (std::vector<int>{1, 2, 7, 12}));
}

TEST(RegNet, X8gfGroupWidthClampedInFirstStage) {
  RegNetParams p;
  p.depth = 23;
  p.w_0 = 80;
  p.w_a = 49.56;
  p.w_m = 2.88;
  p.group_width = 120;
  const AnyNetParams a = regnet_to_anynet(p);
  EXPECT_EQ(a.group_widths, (std::vector<int>{80, 120, 120, 120}));
  EXPECT_EQ(a.widths, (std::vector<int>{80, 240, 720, 1920}));
  // The expanded blocks carry the clamped groups: 80/80 = 1 group in stage 1.
  const NetSpec spec = expand_regnet(p);
  EXPECT_EQ(spec.blocks[1].groups, 1);
  EXPECT_EQ(spec.blocks[1].w_b / spec.blocks[1].groups, 80);
}

// Ties round to even, as np.round does: 8 * 2.5 = 20 is 2.5 quanta of 8 and
// rounds to 2 (16), not 3 (24).
TEST(RegNet, QuantizationTiesRoundToEven) {
  const RegNetWidths g = generate_regnet(12, 8, 2.5, 2);
  EXPECT_EQ(g.block_widths, (std::vector<int>{8, 16}));
}

// log(16/8) / log(4) is exactly 0.5, so the stage index rounds to 0.
TEST(RegNet, StageIndexTiesRoundToEven) {
  const RegNetWidths g = generate_regnet(8, 8, 4, 2);
  EXPECT_EQ(g.block_widths, (std::vector<int>{8, 8}));
  EXPECT_EQ(g.num_stages, 1);
  EXPECT_EQ(g.total_stages, 1);
}

TEST(RegNet, ReportsStagesProduced) {
  const RegNetWidths g = generate_regnet(36.44, 24, 2.49, 13);
  EXPECT_EQ(g.num_stages, 4);
  EXPECT_EQ(g.widths, (std::vector<int>{24, 56, 152, 368}));
  EXPECT_EQ(g.depths, (std::vector<int>{1, 1, 4, 7}));
}

void expect_invalid(const nlohmann::json& params, const std::string& needle) {
  try {
    expand_params(params);
    FAIL() << "no error for " << params.dump();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' lacks '" << needle << "'";
  }
}

TEST(RegNet, BadParametersAreNamed) {
  const nlohmann::json base = {{"family", "regnet"}, {"depth", 13},  {"w_0", 24},
                               {"w_a", 36.44},       {"w_m", 2.49}, {"group_width", 8}};
  auto with = [&](const char* key, nlohmann::json v) {
    nlohmann::json j = base;
    j[key] = std::move(v);
    return j;
  };
  expect_invalid(with("w_m", 1.0), "w_m");
  expect_invalid(with("w_m", 0.5), "w_m");
  expect_invalid(with("w_0", 20), "w_0");
  expect_invalid(with("depth", -3), "depth");
  expect_invalid(with("w_a", -1), "w_a");
  expect_invalid(with("group_width", 1024), "group_width");
  expect_invalid(with("bottleneck_ratio", 0), "bottleneck_ratio");
  expect_invalid(with("depht", 13), "depht");
  expect_invalid(with("depth", "13"), "depth");
  expect_invalid(with("depth", 13.5), "depth");
  nlohmann::json missing = base;
  missing.erase("w_m");
  expect_invalid(missing, "w_m");
}

// The CIFAR ResNets and plain nets of the NDS paper (pycls archive configs), 32x32, 10 classes.
AnyNetParams cifar_net(const char* block_type, int depth_per_stage) {
  AnyNetParams p;
  p.stem_type = "res_stem_cifar";
  p.stem_w = 16;
  p.block_type = block_type;
  p.depths = {depth_per_stage, depth_per_stage, depth_per_stage};
  p.widths = {16, 32, 64};
  p.strides = {1, 2, 2};
  return p;
}

TEST(AnyNet, CifarResNetsMatchPycls) {
  const ExpandOptions ten{3, 10};
  struct Case {
    const char* block;
    int depth;
    int64_t params, flops, acts;
  } cases[] = {
      {"res_basic_block", 9, 855770, 125747850, 544778},
      {"res_basic_block", 18, 1730714, 253149834, 1060874},
      {"vanilla_block", 9, 853018, 125485706, 532490},      // V-56
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.block) + " x" + std::to_string(c.depth));
    const Complexity got = complexity(expand_anynet(cifar_net(c.block, c.depth), ten), 32);
    EXPECT_EQ(got.params, c.params);
    EXPECT_EQ(got.flops, c.flops);
    EXPECT_EQ(got.acts, c.acts);
  }
}

TEST(AnyNet, ResNet50AsAnyNetMatchesPycls) {
  AnyNetParams p;
  p.stem_type = "res_stem_in";
  p.stem_w = 64;
  p.depths = {3, 4, 6, 3};
  p.widths = {256, 512, 1024, 2048};
  p.strides = {1, 2, 2, 2};
  p.bottleneck_ratios = {4, 4, 4, 4};
  p.group_widths = {64, 128, 256, 512};
  const Complexity c = complexity(expand_anynet(p), 224);
  EXPECT_EQ(c.params, 25557032);
  EXPECT_EQ(c.flops, 4089185256);
  EXPECT_EQ(c.acts, 11315688);
}

TEST(AnyNet, AdjustBlockCompatibilityFollowsPycls) {
  // Group width larger than the bottleneck width is clamped to it.
  std::vector<int> ws = {64}, gs = {32};
  adjust_block_compatibility(ws, {0.25}, gs);
  EXPECT_EQ(ws, std::vector<int>{64});
  EXPECT_EQ(gs, std::vector<int>{16});
  // A bottleneck width that is no multiple of g is rounded to the nearest multiple.
  ws = {200};
  gs = {48};
  adjust_block_compatibility(ws, {1.0}, gs);
  EXPECT_EQ(ws, std::vector<int>{192});
  // Inverted bottleneck (bot_mul 2): multiples of lcm(g, 2).
  ws = {24};
  gs = {6};
  adjust_block_compatibility(ws, {2.0}, gs);
  EXPECT_EQ(ws, std::vector<int>{24});
  EXPECT_EQ(gs, std::vector<int>{6});
}

TEST(AnyNet, BadParametersAreNamed) {
  const nlohmann::json base = {{"family", "anynet"},
                               {"depths", {1, 2}},
                               {"widths", {32, 64}},
                               {"group_widths", {8, 8}},
                               {"bottleneck_ratios", {1, 1}}};
  auto with = [&](const char* key, nlohmann::json v) {
    nlohmann::json j = base;
    j[key] = std::move(v);
    return j;
  };
  EXPECT_NO_THROW(expand_params(base));
  expect_invalid(with("depths", {1, -2}), "depths[1]");
  expect_invalid(with("widths", {32}), "widths");
  expect_invalid(with("group_widths", {8, 128}), "group_widths[1]");
  expect_invalid(with("block_type", "fancy_block"), "fancy_block");
  expect_invalid(with("stem_type", "big_stem"), "big_stem");
  expect_invalid(with("bottleneck_ratios", {1, 0.4}), "bottleneck_ratios[1]");
  expect_invalid(with("se_ratio", 2), "se_ratio");
  expect_invalid(with("colour", "red"), "colour");
}

}  // namespace
}  // namespace nds
