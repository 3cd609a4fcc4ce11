#include "space/blocks.h"

namespace nds {

Block window_block(BlockKind kind, int stage, int w_in, int w_out, int kernel, int stride,
                   int padding) {
  Block b = make_block(kind, stage, w_in, w_out);
  b.kernel = kernel;
  b.stride = stride;
  b.padding = padding;
  return b;
}

Block conv_block(int stage, int w_in, int w_out, int kernel, int stride, int padding) {
  return window_block(BlockKind::kConv, stage, w_in, w_out, kernel, stride, padding);
}

Block biased_conv_block(int stage, int w_in, int w_out, int kernel, int stride, int padding,
                        Activation act) {
  Block b = conv_block(stage, w_in, w_out, kernel, stride, padding);
  b.bn = false;
  b.bias = true;
  b.act = act;
  return b;
}

Block pool_block(int stage, int channels, PoolType type, int kernel, int stride, int padding,
                 bool ceil_mode) {
  Block b = window_block(BlockKind::kPool, stage, channels, channels, kernel, stride, padding);
  b.pool = type;
  b.ceil_mode = ceil_mode;
  return b;
}

Block dropout_block(int stage, int channels, double p) {
  Block b = make_block(BlockKind::kDropout, stage, channels, channels);
  b.dropout = p;
  return b;
}

Block linear_block(int stage, int w_in, int w_out, Activation act) {
  Block b = make_block(BlockKind::kLinear, stage, w_in, w_out);
  b.bias = true;
  b.act = act;
  return b;
}

Block adaptive_pool_block(int stage, int channels, int out_size) {
  Block b = make_block(BlockKind::kAdaptivePool, stage, channels, channels);
  b.out_size = out_size;
  return b;
}

Block head_block(int stage, int w_in, int num_classes, bool bn, double dropout) {
  Block b = make_block(BlockKind::kHead, stage, w_in, num_classes);
  b.bn = bn;
  b.dropout = dropout;
  return b;
}

NetSpec make_spec(const char* family, const ExpandOptions& options, int default_in_channels,
                  int default_classes, int resolution) {
  NetSpec spec;
  spec.family = family;
  spec.in_channels = or_default(options.in_channels, default_in_channels);
  spec.num_classes = or_default(options.num_classes, default_classes);
  spec.resolution = resolution;
  return spec;
}

}  // namespace nds
