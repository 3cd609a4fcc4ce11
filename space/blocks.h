#pragma once
// Shared Block constructors for the family files. Each sets the fields every
// caller of that kind sets; a family that differs (no BN, conv biases, another
// activation) adjusts the returned block where it makes that choice.

#include "space/net_spec.h"

namespace nds {

// A block of `kind` with only the fields every block needs (Block's first
// four); the rest keep Block's defaults. Inline: the sampler's estimate makes
// a few blocks per candidate.
inline Block make_block(BlockKind kind, int stage, int w_in, int w_out) {
  return Block{kind, stage, w_in, w_out};
}

// A block with a window (conv, pool, separable conv): kernel, stride and
// padding set; padding -1 means kernel / 2. Block's defaults are pycls's: BN
// after the convs, no bias, ReLU.
Block window_block(BlockKind kind, int stage, int w_in, int w_out, int kernel, int stride,
                   int padding);

// A conv with pycls's defaults: BN, ReLU, no bias; padding -1 means kernel / 2.
Block conv_block(int stage, int w_in, int w_out, int kernel, int stride = 1, int padding = -1);

// A conv of the networks before BN (LeNet-5, AlexNet, GoogLeNet): a bias and
// `act` instead of BN.
Block biased_conv_block(int stage, int w_in, int w_out, int kernel, int stride, int padding,
                        Activation act);

// A max or average pool over `channels`; padding -1 means kernel / 2.
Block pool_block(int stage, int channels, PoolType type, int kernel, int stride, int padding,
                 bool ceil_mode = false);

// Dropout with probability p over `channels`.
Block dropout_block(int stage, int channels, double p);

// A fully connected layer with bias, followed by `act`.
Block linear_block(int stage, int w_in, int w_out, Activation act);

// An adaptive average pool to out_size x out_size over `channels`.
Block adaptive_pool_block(int stage, int channels, int out_size);

// The classifier head: [BN-ReLU] global average pool [dropout] FC to num_classes.
Block head_block(int stage, int w_in, int num_classes, bool bn = false, double dropout = 0);

// An empty spec of `family` with the options' channels and classes, or the defaults.
NetSpec make_spec(const char* family, const ExpandOptions& options, int default_in_channels,
                  int default_classes, int resolution);

}  // namespace nds
