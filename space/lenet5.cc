#include "space/classic.h"

#include "space/blocks.h"

namespace nds {
namespace {

// LeNet-5 has no normalization: every conv and FC carries its own bias, and
// the 5x5 convs are unpadded ("valid"), which is what shrinks 32 -> 28 -> 10 -> 1.
Block conv(int stage, int w_in, int w_out) {
  return biased_conv_block(stage, w_in, w_out, 5, 1, 0, Activation::kTanh);
}

// The subsampling layers S2 and S4: 2x2 average pools with stride 2.
Block subsample(int stage, int channels) {
  return pool_block(stage, channels, PoolType::kAvg, 2, 2, 0);
}

}  // namespace

NetSpec lenet5(const ExpandOptions& options) {
  NetSpec spec = make_spec("lenet5", options, 1, 10, 32);
  spec.blocks = {
      conv(0, spec.in_channels, 6),  // C1: 28x28x6
      subsample(0, 6),               // S2: 14x14x6
      // C3 connects every map to all 6 inputs, not the paper's sparse table.
      conv(1, 6, 16),    // C3: 10x10x16
      subsample(1, 16),  // S4: 5x5x16
      // C5 is a conv, not an FC: at 32x32 its output is 1x1x120, and at any
      // larger input F6 no longer fits, so complexity() rejects the spec.
      conv(2, 16, 120),                                          // C5: 1x1x120
      linear_block(3, 120, 84, Activation::kTanh),               // F6
      linear_block(3, 84, spec.num_classes, Activation::kNone),  // output (logits)
  };
  return spec;
}

}  // namespace nds
