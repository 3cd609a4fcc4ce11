// Complexity counting on small hand-checked specs, and the spec's consistency checks.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "space/blocks.h"
#include "space/complexity.h"
#include "space/layers.h"
#include "space/net_spec.h"
#include "space/summary.h"
#include "space/zoo.h"

namespace nds {
namespace {

NetSpec net(std::vector<Block> blocks, int classes = 10) {
  NetSpec s;
  s.family = "test";
  s.in_channels = blocks.front().w_in;
  s.num_classes = classes;
  s.blocks = std::move(blocks);
  return s;
}

TEST(Complexity, ConvBnReluHeadByHand) {
  // 3x3 s2 conv 3->8 on 8x8: out 4x4. weights 3*3*3*8 = 216, BN 16.
  // flops 216 * 16 = 3456; acts 8*16 = 128. Head: FC 8->10 with bias: 90 params,
  // 90 flops, 10 acts.
  const Complexity c = complexity(net({conv_block(0, 3, 8, 3, 2), head_block(1, 8, 10)}), 8);
  EXPECT_EQ(c.params, 216 + 16 + 90);
  EXPECT_EQ(c.flops, 3456 + 90);
  EXPECT_EQ(c.acts, 128 + 10);
}

TEST(Complexity, BlockCostCountsOneBlockByHand) {
  // The conv of ConvBnReluHeadByHand alone, on its 3x8x8 input: out 8x4x4.
  const BlockCost c = block_cost(conv_block(0, 3, 8, 3, 2), {3, 8, 8});
  EXPECT_EQ(c.cost.params, 216 + 16);
  EXPECT_EQ(c.cost.flops, 3456);
  EXPECT_EQ(c.cost.acts, 128);
  EXPECT_EQ(c.out.c, 8);
  EXPECT_EQ(c.out.h, 4);
  EXPECT_EQ(c.out.w, 4);
  // A basic residual block 8->16 on 8x8: two 3x3 convs (8*16*9 and 16*16*9
  // weights) and, as the width changes, the 1x1 projection (8*16), each with
  // BN; strided, all three run at 4x4.
  const BlockCost r = block_cost(make_block(BlockKind::kResBasic, 1, 8, 16), {8, 8, 8});
  EXPECT_EQ(r.cost.params, 8 * 16 * 9 + 32 + 16 * 16 * 9 + 32 + 8 * 16 + 32);
  Block strided = make_block(BlockKind::kResBasic, 1, 8, 16);
  strided.stride = 2;
  const BlockCost rs = block_cost(strided, {8, 8, 8});
  EXPECT_EQ(rs.cost.flops, (8 * 16 * 9 + 16 * 16 * 9 + 8 * 16) * 16);
  EXPECT_EQ(rs.cost.acts, 3 * 16 * 16);
  EXPECT_EQ(rs.out.h, 4);
  // Without the spec around it, an error names no block.
  try {
    block_cost(conv_block(0, 3, 8, 3, 2), {4, 8, 8});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "block declares 3 input channels but gets 4");
  }
}

TEST(Complexity, GroupedConvDividesByGroups) {
  Block b = conv_block(0, 8, 16, 3, 1);
  b.groups = 4;
  b.bn = false;
  const Complexity c = complexity(net({b, head_block(1, 16, 10)}), 5);
  EXPECT_EQ(c.params, 3 * 3 * 8 * 16 / 4 + 170);
  EXPECT_EQ(c.flops, 3 * 3 * 8 * 16 / 4 * 25 + 170);
}

TEST(Complexity, PoolCeilModeFollowsPyTorch) {
  Block p;
  p.kind = BlockKind::kPool;
  p.w_in = p.w_out = 3;
  p.kernel = 3;
  p.stride = 2;
  p.padding = 0;
  p.ceil_mode = true;
  std::vector<BlockCost> per;
  complexity(net({p, head_block(1, 3, 10)}), 112, &per);
  EXPECT_EQ(per[0].out.h, 56);  // ceil((112-3)/2)+1 = 56; floor mode gives 55
  p.ceil_mode = false;
  complexity(net({p, head_block(1, 3, 10)}), 112, &per);
  EXPECT_EQ(per[0].out.h, 55);
}

TEST(Complexity, InputTooSmallIsAClearError) {
  NetSpec s = net({conv_block(0, 3, 8, 7, 1), head_block(1, 8, 10)});
  s.blocks[0].padding = 0;
  try {
    complexity(s, 4);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("spatial size below 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(complexity(s, 0), std::invalid_argument);
}

TEST(Complexity, InconsistentWidthsAreCaught) {
  EXPECT_THROW(complexity(net({conv_block(0, 3, 8, 3, 1), head_block(1, 16, 10)}), 8),
               std::invalid_argument);
  NetSpec rgb_into_four = net({conv_block(0, 4, 8, 3, 1), head_block(1, 8, 10)});
  rgb_into_four.in_channels = 3;
  EXPECT_THROW(complexity(rgb_into_four, 8), std::invalid_argument);
  Block bad = conv_block(0, 3, 8, 3, 1);
  bad.groups = 3;  // 8 output channels are not divisible into 3 groups
  EXPECT_THROW(complexity(net({bad, head_block(1, 8, 10)}), 8), std::invalid_argument);
}

TEST(Complexity, SqueezeExcitationCostsTwoBiasedConvsOnly) {
  Block x;
  x.kind = BlockKind::kResBottleneck;
  x.stage = 1;
  x.w_in = x.w_out = x.w_b = 16;
  x.groups = 2;
  x.stride = 1;
  Block y = x;
  y.w_se = 4;
  const Complexity cx = complexity(net({x, head_block(2, 16, 10)}), 8);
  const Complexity cy = complexity(net({y, head_block(2, 16, 10)}), 8);
  EXPECT_EQ(cy.params - cx.params, (16 * 4 + 4) + (4 * 16 + 16));
  EXPECT_EQ(cy.flops - cx.flops, (16 * 4 + 4) + (4 * 16 + 16));
  EXPECT_EQ(cy.acts - cx.acts, 4 + 16);
}

TEST(NetSpecJson, EveryFixedPointRoundTrips) {
  for (const FixedPoint& f : fixed_points()) {
    SCOPED_TRACE(f.name);
    const NetSpec spec = fixed_point(f.name);
    const nlohmann::json j = to_json(spec);
    const NetSpec back = net_spec_from_json(j);
    EXPECT_EQ(to_json(back), j);
    const Complexity a = complexity(spec, spec.resolution);
    const Complexity b = complexity(back, back.resolution);
    EXPECT_EQ(a.params, b.params);
    EXPECT_EQ(a.flops, b.flops);
    EXPECT_EQ(a.acts, b.acts);
  }
}

TEST(NetSpecJson, RejectsUnknownAndMisplacedKeys) {
  nlohmann::json j = to_json(fixed_point("resnet18"));
  j["blocks"][0]["colour"] = "red";
  EXPECT_THROW(net_spec_from_json(j), std::invalid_argument);
  j = to_json(fixed_point("resnet18"));
  j["blocks"][0]["w_se"] = 4;  // a conv block has no SE
  EXPECT_THROW(net_spec_from_json(j), std::invalid_argument);
  j = to_json(fixed_point("resnet18"));
  j["blocks"][0]["kind"] = "wormhole";
  EXPECT_THROW(net_spec_from_json(j), std::invalid_argument);
  EXPECT_THROW(net_spec_from_json(nlohmann::json::array()), std::invalid_argument);
}

TEST(Summary, StagesOfRegNetX200mf) {
  const NetSummary s = summarize(fixed_point("regnet_x_200mf"), 224);
  ASSERT_EQ(s.stages.size(), 6u);
  EXPECT_EQ(s.body_stages, 4);
  EXPECT_EQ(s.stages[0].name, "stem");
  EXPECT_EQ(s.stages[5].name, "head");
  EXPECT_EQ(s.stages[4].depth, 7);
  EXPECT_EQ(s.stages[4].width, 368);
  EXPECT_EQ(s.stages[4].group_width, 8);
  EXPECT_EQ(s.stages[4].groups, 46);
  EXPECT_EQ(s.stages[4].out.h, 7);
  int64_t params = 0;
  for (const StageSummary& st : s.stages) params += st.cost.params;
  EXPECT_EQ(params, s.total.params);
}

// A sink that records the layer stream, to check the lowering of one block.
class Recorder final : public LayerSink {
 public:
  std::string trace;
  void layer(const Layer& l) override {
    static const char* kNames[] = {"conv", "bn",  "act",  "max",  "avg",
                                   "gap",  "lrn", "drop", "flat", "fc"};
    trace += std::string(kNames[static_cast<int>(l.kind)]) + " ";
  }
  void begin_group(Merge m) override {
    trace += m == Merge::kAdd ? "add( " : m == Merge::kConcat ? "cat( " : "mul( ";
  }
  void next_branch() override { trace += "| "; }
  void end_group() override { trace += ") "; }
};

TEST(Layers, BottleneckWithSeLowersInPyclsOrder) {
  Block y;
  y.kind = BlockKind::kResBottleneck;
  y.w_in = 16;
  y.w_out = 32;
  y.w_b = 32;
  y.groups = 4;
  y.stride = 2;
  y.w_se = 4;
  Recorder r;
  lower_block(y, r);
  EXPECT_EQ(r.trace,
            "add( conv bn act conv bn act mul( | gap conv act conv act ) conv bn | conv bn ) act ");
}

TEST(Layers, DenseLayerConcatenatesItsInput) {
  Block d;
  d.kind = BlockKind::kDenseLayer;
  d.w_in = 64;
  d.w_out = 96;
  d.w_b = 128;
  Recorder r;
  lower_block(d, r);
  EXPECT_EQ(r.trace, "cat( | bn act conv bn act conv ) ");
}

}  // namespace
}  // namespace nds
