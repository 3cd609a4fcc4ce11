#include "space/classic.h"

#include <array>
#include <vector>

#include "space/blocks.h"

namespace nds {
namespace {

// The 2014 network has no BN: every conv carries a bias and a ReLU.
Block conv(int stage, int w_in, int w_out, int kernel, int stride) {
  return biased_conv_block(stage, w_in, w_out, kernel, stride, kernel / 2, Activation::kRelu);
}

// 3x3 stride-2 max pool, unpadded with ceil mode (Caffe's rounding), which is
// what takes 112 -> 56 -> 28 -> 14 -> 7.
Block max_pool(int stage, int channels) {
  return pool_block(stage, channels, PoolType::kMax, 3, 2, 0, /*ceil_mode=*/true);
}

// Local response normalization with the paper's (Caffe's) constants, which
// are also Block's defaults.
Block lrn(int stage, int channels) {
  Block b = make_block(BlockKind::kLrn, stage, channels, channels);
  b.lrn_size = 5;
  b.lrn_alpha = 1e-4;
  b.lrn_beta = 0.75;
  b.lrn_k = 1.0;
  return b;
}

// One row of Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
using Row = std::array<int, 6>;

int inception_width(const Row& n) {
  return n[0] + n[2] + n[4] + n[5];
}

Block inception(int stage, int w_in, const Row& n) {
  Block b = make_block(BlockKind::kInception, stage, w_in, inception_width(n));
  b.branch = n;
  b.bn = false;
  b.bias = true;
  return b;
}

}  // namespace

NetSpec googlenet(const ExpandOptions& options) {
  NetSpec spec = make_spec("googlenet", options, 3, 1000, 224);

  // Stem (stage 0): 7x7/2 conv, pool, LRN, 1x1 and 3x3 convs, LRN, pool.
  spec.blocks = {
      conv(0, spec.in_channels, 64, 7, 2),
      max_pool(0, 64),
      lrn(0, 64),
      conv(0, 64, 64, 1, 1),
      conv(0, 64, 192, 3, 1),
      lrn(0, 192),
      max_pool(0, 192),
  };

  // Body: inception stages 3, 4 and 5 of the paper become stages 1, 2 and 3.
  // As in the stem, a stage ends with the pool that follows it.
  const std::array<std::vector<Row>, 3> stages = {{
      {{64, 96, 128, 16, 32, 32}, {128, 128, 192, 32, 96, 64}},        // 3a, 3b
      {{192, 96, 208, 16, 48, 64},                                     // 4a
       {160, 112, 224, 24, 64, 64},                                    // 4b
       {128, 128, 256, 24, 64, 64},                                    // 4c
       {112, 144, 288, 32, 64, 64},                                    // 4d
       {256, 160, 320, 32, 128, 128}},                                 // 4e
      {{256, 160, 320, 32, 128, 128}, {384, 192, 384, 48, 128, 128}},  // 5a, 5b
  }};
  int w = 192;
  for (size_t s = 0; s < stages.size(); ++s) {
    const int stage = static_cast<int>(s) + 1;
    for (const Row& row : stages[s]) {
      spec.blocks.push_back(inception(stage, w, row));
      w = inception_width(row);
    }
    if (s + 1 < stages.size()) spec.blocks.push_back(max_pool(stage, w));
  }

  // Head: global average pool (the paper's 7x7 average pool at 224), 40%
  // dropout, linear classifier. No auxiliary classifiers: they only train.
  spec.blocks.push_back(head_block(static_cast<int>(stages.size()) + 1, w, spec.num_classes,
                                   /*bn=*/false, /*dropout=*/0.4));
  return spec;
}

}  // namespace nds
