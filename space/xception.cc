#include "space/classic.h"

#include "space/blocks.h"

namespace nds {
namespace {

// Every conv of Xception is bias-free and followed by BN (Chollet 2017, Sec. 3),
// as conv_block's defaults; the entry convs are unpadded, Keras 'valid': 299 -> 149 -> 147.
Block entry_conv(int w_in, int w_out, int stride) {
  return conv_block(0, w_in, w_out, 3, stride, /*padding=*/0);
}

// A residual module: `repeats` separable 3x3 convs (each BN'd, ReLU between),
// a 3x3/2 max pool when strided, and a 1x1 projection shortcut when the shape
// changes (see lower_xception in space/lowering.h).
Block xception_module(int stage, int w_in, int w_out, int repeats, int stride,
                      bool relu_first = true, bool grow_first = true) {
  Block b = make_block(BlockKind::kXception, stage, w_in, w_out);
  b.repeats = repeats;
  b.stride = stride;
  b.relu_first = relu_first;
  b.grow_first = grow_first;
  return b;
}

// A 3x3 separable conv with BN and ReLU after it (Block's defaults).
Block separable(int stage, int w_in, int w_out) {
  return window_block(BlockKind::kSeparable, stage, w_in, w_out, 3, 1, /*padding=*/-1);
}

}  // namespace

NetSpec xception(const ExpandOptions& options) {
  NetSpec spec = make_spec("xception", options, 3, 1000, 299);

  // Stage 0: the two plain convs that open the entry flow.
  spec.blocks.push_back(entry_conv(spec.in_channels, 32, 2));
  spec.blocks.push_back(entry_conv(32, 64, 1));

  // Stage 1, entry flow: three strided modules, 147 -> 74 -> 37 -> 19 at 299.
  // The first follows a ReLU'd conv, so it does not start with another ReLU.
  spec.blocks.push_back(xception_module(1, 64, 128, 2, 2, /*relu_first=*/false));
  spec.blocks.push_back(xception_module(1, 128, 256, 2, 2));
  spec.blocks.push_back(xception_module(1, 256, 728, 2, 2));

  // Stage 2, middle flow: eight identity-shortcut modules of three convs.
  constexpr int kMiddleRepeats = 8;
  for (int i = 0; i < kMiddleRepeats; ++i)
    spec.blocks.push_back(xception_module(2, 728, 728, 3, 1));

  // Stage 3, exit flow: a strided module that widens only on its last conv,
  // then two separable convs with ReLU after BN (19 -> 10 at 299).
  spec.blocks.push_back(
      xception_module(3, 728, 1024, 2, 2, /*relu_first=*/true, /*grow_first=*/false));
  spec.blocks.push_back(separable(3, 1024, 1536));
  spec.blocks.push_back(separable(3, 1536, 2048));

  // Head: global average pool and the classifier; no BN, no dropout (Keras).
  spec.blocks.push_back(head_block(4, 2048, spec.num_classes));
  return spec;
}

}  // namespace nds
