#include "space/classic.h"

namespace nds {
namespace {

// AlexNet predates BN: convs and FCs carry biases and are followed by ReLU.
Block conv(int stage, int w_in, int w_out, int kernel, int stride, int padding) {
  Block b;
  b.kind = BlockKind::kConv;
  b.stage = stage;
  b.w_in = w_in;
  b.w_out = w_out;
  b.kernel = kernel;
  b.stride = stride;
  b.padding = padding;
  b.bn = false;
  b.bias = true;
  b.act = Activation::kRelu;
  return b;
}

// Overlapping 3x3 stride-2 max pool, unpadded.
Block max_pool(int stage, int channels) {
  Block b;
  b.kind = BlockKind::kPool;
  b.stage = stage;
  b.w_in = b.w_out = channels;
  b.pool = PoolType::kMax;
  b.kernel = 3;
  b.stride = 2;
  b.padding = 0;
  return b;
}

Block dropout(int stage, int channels, double p) {
  Block b;
  b.kind = BlockKind::kDropout;
  b.stage = stage;
  b.w_in = b.w_out = channels;
  b.dropout = p;
  return b;
}

Block fc(int stage, int w_in, int w_out, Activation act) {
  Block b;
  b.kind = BlockKind::kLinear;
  b.stage = stage;
  b.w_in = w_in;
  b.w_out = w_out;
  b.bias = true;
  b.act = act;
  return b;
}

}  // namespace

NetSpec alexnet(const ExpandOptions& options) {
  NetSpec spec;
  spec.family = "alexnet";
  spec.in_channels = or_default(options.in_channels, 3);
  spec.num_classes = or_default(options.num_classes, 1000);
  spec.resolution = 224;

  // Each body stage ends with the pool that follows it (torchvision's
  // `features`); at 224 the sides go 55 -> 27 -> 13 -> 6.
  constexpr int kPooledSide = 6;
  Block avgpool;
  avgpool.kind = BlockKind::kAdaptivePool;
  avgpool.stage = 3;
  avgpool.w_in = avgpool.w_out = 256;
  // The adaptive pool pins the classifier input to 6x6 at any resolution.
  avgpool.out_size = kPooledSide;
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
      avgpool,
      dropout(3, 256, 0.5),
      fc(3, kFlat, 4096, Activation::kRelu),
      dropout(3, 4096, 0.5),
      fc(3, 4096, 4096, Activation::kRelu),
      fc(3, 4096, spec.num_classes, Activation::kNone),
  };
  return spec;
}

}  // namespace nds
