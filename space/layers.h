#pragma once
// A block as a stream of primitive layers: the interface every consumer uses.
//
// lower_block() streams a block's primitive layers, and the parallel groups
// that join them, into a LayerSink. Complexity counting is one sink (its
// per-block form, block_cost in space/complexity.h, also serves the sampler's
// pre-filter); the LibTorch builder and the TorchScript exporter are others.
// None of them knows what a "bottleneck block" is. The stream itself is
// written in space/lowering.h.

#include "space/net_spec.h"

namespace nds {

enum class LayerKind {
  kConv,          // 2-D convolution
  kBatchNorm,     // 2-D batch norm over c_in channels (2 * c_in parameters)
  kActivation,    // element-wise `act`
  kMaxPool,       // windowed max pool
  kAvgPool,       // windowed average pool (padding counted, as PyTorch's default)
  kAdaptiveAvgPool,  // adaptive average pool to out_size x out_size
  kLrn,           // local response normalization
  kDropout,       // dropout (identity at evaluation)
  kFlatten,       // N x C x H x W -> N x (C*H*W)
  kLinear,        // fully connected
};

struct Layer {
  LayerKind kind = LayerKind::kConv;
  int c_in = 0;    // input channels or features
  int c_out = 0;   // output channels or features
  int kernel = 1;
  int stride = 1;
  int padding = 0;
  int groups = 1;
  bool bias = false;
  bool ceil_mode = false;
  Activation act = Activation::kNone;
  int out_size = 1;   // kAdaptiveAvgPool
  double p = 0;       // kDropout
  int lrn_size = 5;   // kLrn
  double lrn_alpha = 1e-4;
  double lrn_beta = 0.75;
  double lrn_k = 1.0;
};

// How the branches of a parallel group are joined. Every branch starts from
// the group's input; an empty branch is the identity.
enum class Merge {
  kAdd,     // element-wise sum (residual connections)
  kConcat,  // concatenation along channels (dense and inception blocks)
  kMul,     // element-wise product with broadcasting (squeeze-excitation gate)
};

class LayerSink {
 public:
  virtual ~LayerSink() = default;
  virtual void begin_block(const Block& /*block*/, int /*index*/) {}
  virtual void end_block(const Block& /*block*/, int /*index*/) {}
  virtual void layer(const Layer& layer) = 0;
  virtual void begin_group(Merge merge) = 0;  // opens the group and its first branch
  virtual void next_branch() = 0;             // closes a branch, opens the next
  virtual void end_group() = 0;               // closes the last branch and merges
};

// Streams one block's layers into `sink` (no begin/end_block calls).
void lower_block(const Block& block, LayerSink& sink);

// Streams a whole network: begin_block, the block's layers, end_block, for each block.
void lower(const NetSpec& spec, LayerSink& sink);

}  // namespace nds
