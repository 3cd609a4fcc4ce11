#include "space/classic.h"

#include "space/blocks.h"

namespace nds {
namespace {

// AlexNet predates BN: convs and FCs carry biases and are followed by ReLU.
Block conv(int stage, int w_in, int w_out, int kernel, int stride, int padding) {
  return biased_conv_block(stage, w_in, w_out, kernel, stride, padding, Activation::kRelu);
}

// Overlapping 3x3 stride-2 max pool, unpadded.
Block max_pool(int stage, int channels) {
  return pool_block(stage, channels, PoolType::kMax, 3, 2, 0);
}

}  // namespace

NetSpec alexnet(const ExpandOptions& options) {
  NetSpec spec = make_spec("alexnet", options, 3, 1000, 224);

  // Each body stage ends with the pool that follows it (torchvision's
  // `features`); at 224 the sides go 55 -> 27 -> 13 -> 6.
  constexpr int kPooledSide = 6;
  constexpr int kFlat = 256 * kPooledSide * kPooledSide;  // 9216

  spec.blocks = {
      conv(0, spec.in_channels, 64, 11, 4, 2),
      max_pool(0, 64),
      conv(1, 64, 192, 5, 1, 2),
      max_pool(1, 192),
      conv(2, 192, 384, 3, 1, 1),
      conv(2, 384, 256, 3, 1, 1),
      conv(2, 256, 256, 3, 1, 1),
      max_pool(2, 256),
      // The adaptive pool pins the classifier input to 6x6 at any resolution.
      adaptive_pool_block(3, 256, kPooledSide),
      dropout_block(3, 256, 0.5),
      linear_block(3, kFlat, 4096, Activation::kRelu),
      dropout_block(3, 4096, 0.5),
      linear_block(3, 4096, 4096, Activation::kRelu),
      linear_block(3, 4096, spec.num_classes, Activation::kNone),
  };
  return spec;
}

}  // namespace nds
