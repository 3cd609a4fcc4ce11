#include "space/classic.h"

namespace nds {
namespace {

// LeNet-5 has no normalization: every conv and FC carries its own bias, and
// the 5x5 convs are unpadded ("valid"), which is what shrinks 32 -> 28 -> 10 -> 1.
Block conv(int stage, int w_in, int w_out) {
  Block b;
  b.kind = BlockKind::kConv;
  b.stage = stage;
  b.w_in = w_in;
  b.w_out = w_out;
  b.kernel = 5;
  b.padding = 0;
  b.bn = false;
  b.bias = true;
  b.act = Activation::kTanh;
  return b;
}

// The subsampling layers S2 and S4: 2x2 average pools with stride 2.
Block subsample(int stage, int channels) {
  Block b;
  b.kind = BlockKind::kPool;
  b.stage = stage;
  b.w_in = b.w_out = channels;
  b.pool = PoolType::kAvg;
  b.kernel = 2;
  b.stride = 2;
  b.padding = 0;
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

NetSpec lenet5(const ExpandOptions& options) {
  NetSpec spec;
  spec.family = "lenet5";
  spec.in_channels = or_default(options.in_channels, 1);
  spec.num_classes = or_default(options.num_classes, 10);
  spec.resolution = 32;
  spec.blocks = {
      conv(0, spec.in_channels, 6),  // C1: 28x28x6
      subsample(0, 6),               // S2: 14x14x6
      // C3 connects every map to all 6 inputs, not the paper's sparse table.
      conv(1, 6, 16),    // C3: 10x10x16
      subsample(1, 16),  // S4: 5x5x16
      // C5 is a conv, not an FC: at 32x32 its output is 1x1x120, and at any
      // larger input F6 no longer fits, so complexity() rejects the spec.
      conv(2, 16, 120),                                // C5: 1x1x120
      fc(3, 120, 84, Activation::kTanh),               // F6
      fc(3, 84, spec.num_classes, Activation::kNone),  // output (logits)
  };
  return spec;
}

}  // namespace nds
