#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "space/classic.h"
#include "space/complexity.h"
#include "space/net_spec.h"

namespace nds {
namespace {

using Builder = NetSpec (*)(const ExpandOptions&);

struct Classic {
  const char* family;
  Builder build;
};

const Classic kClassics[] = {
    {"lenet5", lenet5},
    {"alexnet", alexnet},
    {"googlenet", googlenet},
    {"xception", xception},
};

TEST(ClassicTest, FamilyAndResolution) {
  EXPECT_EQ(lenet5().family, "lenet5");
  EXPECT_EQ(lenet5().resolution, 32);
  EXPECT_EQ(alexnet().family, "alexnet");
  EXPECT_EQ(alexnet().resolution, 224);
  EXPECT_EQ(googlenet().family, "googlenet");
  EXPECT_EQ(googlenet().resolution, 224);
  EXPECT_EQ(xception().family, "xception");
  EXPECT_EQ(xception().resolution, 299);
  for (const Classic& c : kClassics) EXPECT_TRUE(c.build({}).name.empty()) << c.family;
}

TEST(ClassicTest, Defaults) {
  const NetSpec lenet = lenet5();
  EXPECT_EQ(lenet.in_channels, 1);
  EXPECT_EQ(lenet.num_classes, 10);
  for (Builder build : {alexnet, googlenet, xception}) {
    const NetSpec spec = build({});
    EXPECT_EQ(spec.in_channels, 3) << spec.family;
    EXPECT_EQ(spec.num_classes, 1000) << spec.family;
  }
}

// Every spec's chain of widths and spatial sizes holds at its own resolution,
// and every stage from the stem to the head has at least one block.
TEST(ClassicTest, ConsistentAtNativeResolution) {
  for (const Classic& c : kClassics) {
    const NetSpec spec = c.build({});
    EXPECT_NO_THROW(complexity(spec, spec.resolution)) << c.family;
    std::vector<int> blocks_per_stage(static_cast<size_t>(spec.num_stages()), 0);
    for (const Block& b : spec.blocks) ++blocks_per_stage.at(static_cast<size_t>(b.stage));
    for (size_t s = 0; s < blocks_per_stage.size(); ++s)
      EXPECT_GT(blocks_per_stage[s], 0) << c.family << " stage " << s;
  }
}

TEST(ClassicTest, PublishedParameterCounts) {
  EXPECT_EQ(complexity(lenet5(), 32).params, 61'706);        // LeCun et al. 1998 layer sizes
  EXPECT_EQ(complexity(alexnet(), 224).params, 61'100'840);  // torchvision num_params
  // Paper GoogLeNet (conv biases, no BN, no auxiliary heads).
  EXPECT_EQ(complexity(googlenet(), 224).params, 6'998'552);
  // Keras applications' trainable count: BN gamma/beta in, running stats out.
  EXPECT_EQ(complexity(xception(), 299).params, 22'855'952);
}

// LeNet-5 at 32x32, by hand (flops = multiply-adds incl. bias; valid 5x5 convs):
//   C1  28*28 *   6 * (5*5*1  + 1) = 784 *   6 *  26 = 122,304   acts 28*28*6  = 4,704
//   S2  pool                                           0   acts 14*14*6  = 1,176
//   C3  10*10 *  16 * (5*5*6  + 1) = 100 *  16 * 151 = 241,600   acts 10*10*16 = 1,600
//   S4  pool                                           0   acts  5*5*16  =   400
//   C5   1*1  * 120 * (5*5*16 + 1) =       120 * 401 =  48,120   acts 120
//   F6  84 * (120 + 1)                               =  10,164   acts 84
//   out 10 * (84 + 1)                                =     850   acts 10
//   total flops 423,038; total acts 8,094; params = C1..out weights+biases = 61,706.
TEST(ClassicTest, LeNet5ExactFlopsAndActs) {
  const Complexity c = complexity(lenet5(), 32);
  EXPECT_EQ(c.flops, 122'304 + 241'600 + 48'120 + 10'164 + 850);
  EXPECT_EQ(c.flops, 423'038);
  EXPECT_EQ(c.acts, 4'704 + 1'176 + 1'600 + 400 + 120 + 84 + 10);
  EXPECT_EQ(c.acts, 8'094);
}

// torchvision lists AlexNet_Weights.IMAGENET1K_V1 with "_ops": 0.714 (GFLOPS,
// counted as multiply-adds). By hand at 224 (sides 55, 27, 13, 13, 13, then 6):
//   conv1 55*55*64*(363+1) = 70,470,400    conv2 27*27*192*(1600+1) = 224,088,768
//   conv3 13*13*384*(1728+1) = 112,205,184 conv4 13*13*256*(3456+1) = 149,563,648
//   conv5 13*13*256*(2304+1) =  99,723,520
//   fc6 4096*(9216+1) = 37,752,832   fc7 4096*(4096+1) = 16,781,312   fc8 1000*4097 = 4,097,000
//   total 714,682,664.
TEST(ClassicTest, AlexNetFlopsMatchTorchvision) {
  const Complexity c = complexity(alexnet(), 224);
  EXPECT_EQ(c.flops, 70'470'400 + 224'088'768 + 112'205'184 + 149'563'648 + 99'723'520 +
                         37'752'832 + 16'781'312 + 4'097'000);
  EXPECT_LT(std::abs(static_cast<double>(c.flops) - 0.714e9) / 0.714e9, 0.01);
}

// The adaptive pool pins the classifier to 9216 inputs at other resolutions.
TEST(ClassicTest, AlexNetAdaptivePoolFixesClassifierInput) {
  const NetSpec spec = alexnet();
  EXPECT_EQ(complexity(spec, 256).params, complexity(spec, 224).params);
  EXPECT_GT(complexity(spec, 256).flops, complexity(spec, 224).flops);
}

// Sides 112 -> 56 -> 28 -> 14 -> 7 (ceil-mode pools); the last inception
// module, 5b, gives 384 + 384 + 128 + 128 = 1024 channels.
TEST(ClassicTest, GoogLeNetFinalStageOutput) {
  const NetSpec spec = googlenet();
  std::vector<BlockCost> per_block;
  complexity(spec, 224, &per_block);
  ASSERT_EQ(per_block.size(), spec.blocks.size());
  const int head_stage = spec.num_stages() - 1;
  int last_body = -1;
  for (size_t i = 0; i < spec.blocks.size(); ++i)
    if (spec.blocks[i].stage == head_stage - 1) last_body = static_cast<int>(i);
  ASSERT_GE(last_body, 0);
  const Shape& out = per_block[static_cast<size_t>(last_body)].out;
  EXPECT_EQ(out.c, 1024);
  EXPECT_EQ(out.h, 7);
  EXPECT_EQ(out.w, 7);
  EXPECT_EQ(spec.blocks[static_cast<size_t>(last_body)].kind, BlockKind::kInception);
}

// Inception 3a at 28x28 (784 positions), weights per position:
//   1x1 192*64 + reduce 192*96 + 3x3 96*128*9 + reduce 192*16 + 5x5 16*32*25 + proj 192*32
//   = 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144 = 163,328 (Table 1: "128M" ops),
// plus biases 64+96+128+16+32+32 = 368 per position; params 163,328 + 368.
TEST(ClassicTest, GoogLeNetInception3a) {
  const NetSpec spec = googlenet();
  std::vector<BlockCost> per_block;
  complexity(spec, 224, &per_block);
  size_t first = 0;
  while (first < spec.blocks.size() && spec.blocks[first].kind != BlockKind::kInception) ++first;
  ASSERT_LT(first, spec.blocks.size());
  const BlockCost& a3 = per_block[first];
  EXPECT_EQ(a3.cost.flops, int64_t{163'328 + 368} * 784);
  EXPECT_EQ(a3.cost.params, 163'328 + 368);
  EXPECT_EQ(a3.out.c, 256);
  EXPECT_EQ(a3.out.h, 28);
}

// A middle-flow module at 19x19 (361 positions): three separable convs of
// depthwise 3*3*728 + pointwise 728*728 = 536,536 weights each, and BN(728).
TEST(ClassicTest, XceptionMiddleFlowModule) {
  const NetSpec spec = xception();
  std::vector<BlockCost> per_block;
  complexity(spec, 299, &per_block);
  int middle = 0;
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const Block& b = spec.blocks[i];
    if (b.kind != BlockKind::kXception || b.w_in != 728 || b.w_out != 728) continue;
    ++middle;
    EXPECT_EQ(per_block[i].cost.flops, int64_t{3} * 536'536 * 361);
    EXPECT_EQ(per_block[i].cost.params, 3 * (536'536 + 2 * 728));
    EXPECT_EQ(per_block[i].out.h, 19);
  }
  EXPECT_EQ(middle, 8);
  EXPECT_EQ(per_block.back().out.c, 1000);
  EXPECT_EQ(per_block[per_block.size() - 2].out.h, 10);  // exit flow at 10x10
}

TEST(ClassicTest, XceptionComputesAt224) {
  const NetSpec spec = xception();
  std::vector<BlockCost> per_block;
  Complexity c;
  ASSERT_NO_THROW(c = complexity(spec, 224, &per_block));
  EXPECT_EQ(c.params, 22'855'952);  // all convs and the head are size-independent
  EXPECT_LT(c.flops, complexity(spec, 299).flops);
  EXPECT_EQ(per_block[per_block.size() - 2].out.h, 7);  // 224 -> 111 -> 109 -> 55, 28, 14, 7
}

// C5 is a 5x5 conv: at 64x64 it outputs 9x9x120, which F6 (120 inputs) cannot take.
TEST(ClassicTest, LeNet5RejectsLargerInput) {
  EXPECT_THROW(complexity(lenet5(), 64), std::invalid_argument);
  EXPECT_THROW(complexity(lenet5(), 16), std::invalid_argument);  // too small for C5
}

// Overriding the class count touches only the last block, a biased FC.
TEST(ClassicTest, NumClassesChangesOnlyTheLastFc) {
  for (const Classic& c : kClassics) {
    const NetSpec base = c.build({});
    ExpandOptions options;
    options.num_classes = base.num_classes + 7;
    const NetSpec other = c.build(options);
    EXPECT_EQ(other.num_classes, options.num_classes) << c.family;
    ASSERT_EQ(base.blocks.size(), other.blocks.size()) << c.family;
    for (size_t i = 0; i + 1 < base.blocks.size(); ++i)
      EXPECT_EQ(to_json(base.blocks[i]), to_json(other.blocks[i])) << c.family << " block " << i;
    const Block& last = other.blocks.back();
    EXPECT_EQ(last.w_out, options.num_classes) << c.family;
    const Complexity a = complexity(base, base.resolution);
    const Complexity b = complexity(other, other.resolution);
    EXPECT_EQ(b.params - a.params, int64_t{7} * (last.w_in + 1)) << c.family;
    EXPECT_EQ(b.flops - a.flops, int64_t{7} * (last.w_in + 1)) << c.family;
    EXPECT_EQ(b.acts - a.acts, 7) << c.family;
  }
}

// The input channel count reaches the first conv (and only costs there).
TEST(ClassicTest, InChannelsOverride) {
  ExpandOptions options;
  options.in_channels = 3;
  const NetSpec rgb = lenet5(options);
  EXPECT_EQ(rgb.blocks.front().w_in, 3);
  EXPECT_EQ(complexity(rgb, 32).params - complexity(lenet5(), 32).params, 6 * 5 * 5 * 2);
  options.in_channels = 1;
  for (Builder build : {alexnet, googlenet, xception}) {
    const NetSpec gray = build(options);
    EXPECT_EQ(gray.blocks.front().w_in, 1) << gray.family;
    EXPECT_NO_THROW(complexity(gray, gray.resolution)) << gray.family;
  }
}

// The expanded spec survives its JSON form (what a results database stores).
TEST(ClassicTest, JsonRoundTrip) {
  for (const Classic& c : kClassics) {
    const NetSpec spec = c.build({});
    const NetSpec back = net_spec_from_json(to_json(spec));
    EXPECT_EQ(to_json(back), to_json(spec)) << c.family;
    EXPECT_EQ(complexity(back, back.resolution).params, complexity(spec, spec.resolution).params)
        << c.family;
  }
}

}  // namespace
}  // namespace nds
