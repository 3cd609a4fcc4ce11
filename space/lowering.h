#pragma once
// The layer stream itself: which primitive layers, and which parallel groups,
// each block kind is made of. This is the one place that says it.
//
// It is a template over the sink so that the cost counter in
// space/complexity.cc gets its calls inlined (the sampler's pre-filter costs
// millions of blocks), while the builder and the exporter reach it through
// the virtual LayerSink of space/layers.h. Include it only to instantiate
// lower_block_to for a new kind of sink; everyone else calls lower_block().

#include <stdexcept>
#include <string>

#include "space/layers.h"
#include "space/net_spec.h"

namespace nds {
namespace lowering {

// Small emitters so each block below reads like its paper figure.
template <class Sink>
class Emit {
 public:
  explicit Emit(Sink& sink) : sink_(sink) {}

  void conv(int c_in, int c_out, int kernel, int stride = 1, int groups = 1, bool bias = false,
            int padding = -1) {
    Layer l = window(LayerKind::kConv, kernel, stride, padding >= 0 ? padding : kernel / 2);
    l.c_in = c_in;
    l.c_out = c_out;
    l.groups = groups;
    l.bias = bias;
    sink_.layer(l);
  }
  void bn(int c) {
    Layer l = of(LayerKind::kBatchNorm);
    l.c_in = c;
    l.c_out = c;
    sink_.layer(l);
  }
  void act(Activation a) {
    if (a == Activation::kNone) return;
    Layer l = of(LayerKind::kActivation);
    l.act = a;
    sink_.layer(l);
  }
  void relu() { act(Activation::kRelu); }
  void pool(PoolType type, int kernel, int stride, int padding, bool ceil_mode = false) {
    Layer l = window(type == PoolType::kMax ? LayerKind::kMaxPool : LayerKind::kAvgPool, kernel,
                     stride, padding);
    l.ceil_mode = ceil_mode;
    sink_.layer(l);
  }
  void adaptive_avg_pool(int out_size) {
    Layer l = of(LayerKind::kAdaptiveAvgPool);
    l.out_size = out_size;
    sink_.layer(l);
  }
  void dropout(double p) {
    if (p <= 0) return;
    Layer l = of(LayerKind::kDropout);
    l.p = p;
    sink_.layer(l);
  }
  void flatten() { sink_.layer(of(LayerKind::kFlatten)); }
  void linear(int c_in, int c_out, bool bias) {
    Layer l = of(LayerKind::kLinear);
    l.c_in = c_in;
    l.c_out = c_out;
    l.bias = bias;
    sink_.layer(l);
  }
  // Depthwise k x k then pointwise 1x1, no norm between (Chollet's Xception).
  void separable(int c_in, int c_out, int kernel, int stride = 1) {
    conv(c_in, c_in, kernel, stride, c_in);
    conv(c_in, c_out, 1);
  }
  void lrn(const Block& b) {
    Layer l = of(LayerKind::kLrn);
    l.lrn_size = b.lrn_size;
    l.lrn_alpha = b.lrn_alpha;
    l.lrn_beta = b.lrn_beta;
    l.lrn_k = b.lrn_k;
    sink_.layer(l);
  }
  void begin(Merge m) { sink_.begin_group(m); }
  void next() { sink_.next_branch(); }
  void end() { sink_.end_group(); }

  // conv -> [BN] -> act, the unit most classic networks repeat.
  void conv_unit(int c_in, int c_out, int kernel, int stride, bool with_bn, bool bias, Activation a,
                 int padding = -1) {
    conv(c_in, c_out, kernel, stride, 1, bias, padding);
    if (with_bn) bn(c_out);
    act(a);
  }
  // Residual shortcut branch: a strided 1x1 projection when the shape changes.
  void shortcut(int w_in, int w_out, int stride) {
    if (w_in != w_out || stride != 1) {
      conv(w_in, w_out, 1, stride);
      bn(w_out);
    }
  }

 private:
  static Layer of(LayerKind kind) {
    Layer l;
    l.kind = kind;
    return l;
  }
  // A windowed layer (conv or pool): its kernel, stride and padding.
  static Layer window(LayerKind kind, int kernel, int stride, int padding) {
    Layer l = of(kind);
    l.kernel = kernel;
    l.stride = stride;
    l.padding = padding;
    return l;
  }

  Sink& sink_;
};

template <class Sink>
void lower_bottleneck(const Block& b, Emit<Sink>& e) {
  e.begin(Merge::kAdd);
  e.conv(b.w_in, b.w_b, 1);
  e.bn(b.w_b);
  e.relu();
  e.conv(b.w_b, b.w_b, 3, b.stride, b.groups);
  e.bn(b.w_b);
  e.relu();
  if (b.w_se > 0) {
    // Squeeze-excitation: x * sigmoid(W2 relu(W1 gap(x))), 1x1 convs with bias.
    e.begin(Merge::kMul);
    e.next();
    e.adaptive_avg_pool(1);
    e.conv(b.w_b, b.w_se, 1, 1, 1, true);
    e.relu();
    e.conv(b.w_se, b.w_b, 1, 1, 1, true);
    e.act(Activation::kSigmoid);
    e.end();
  }
  e.conv(b.w_b, b.w_out, 1);
  e.bn(b.w_out);
  e.next();
  e.shortcut(b.w_in, b.w_out, b.stride);
  e.end();
  e.relu();
}

template <class Sink>
void lower_xception(const Block& b, Emit<Sink>& e) {
  e.begin(Merge::kAdd);
  int c = b.w_in;
  for (int i = 0; i < b.repeats; ++i) {
    const bool last = i == b.repeats - 1;
    const int c_out = (b.grow_first || last) ? b.w_out : b.w_in;
    if (i > 0 || b.relu_first) e.relu();
    e.separable(c, c_out, 3);
    e.bn(c_out);
    c = c_out;
  }
  if (b.stride != 1) e.pool(PoolType::kMax, 3, b.stride, 1);
  e.next();
  e.shortcut(b.w_in, b.w_out, b.stride);
  e.end();
}

template <class Sink>
void lower_inception(const Block& b, Emit<Sink>& e) {
  const auto& n = b.branch;
  const auto unit = [&](int c_in, int c_out, int kernel) {
    e.conv_unit(c_in, c_out, kernel, 1, b.bn, b.bias, Activation::kRelu);
  };
  e.begin(Merge::kConcat);
  unit(b.w_in, n[0], 1);
  e.next();
  unit(b.w_in, n[1], 1);
  unit(n[1], n[2], 3);
  e.next();
  unit(b.w_in, n[3], 1);
  unit(n[3], n[4], 5);
  e.next();
  e.pool(PoolType::kMax, 3, 1, 1, true);
  unit(b.w_in, n[5], 1);
  e.end();
}

// The residual blocks of ResNet and AnyNet.
template <class Sink>
void lower_residual(const Block& b, Emit<Sink>& e) {
  switch (b.kind) {
    case BlockKind::kVanilla:
      e.conv_unit(b.w_in, b.w_out, 3, b.stride, true, false, Activation::kRelu);
      e.conv_unit(b.w_out, b.w_out, 3, 1, true, false, Activation::kRelu);
      return;
    case BlockKind::kResBasic:
      e.begin(Merge::kAdd);
      e.conv_unit(b.w_in, b.w_out, 3, b.stride, true, false, Activation::kRelu);
      e.conv_unit(b.w_out, b.w_out, 3, 1, true, false, Activation::kNone);
      e.next();
      e.shortcut(b.w_in, b.w_out, b.stride);
      e.end();
      e.relu();
      return;
    default:
      lower_bottleneck(b, e);
      return;
  }
}

// DenseNet's layer (output = concat(x, H(x)); the identity branch is empty)
// and its transition.
template <class Sink>
void lower_dense(const Block& b, Emit<Sink>& e) {
  if (b.kind == BlockKind::kTransition) {
    e.bn(b.w_in);
    e.relu();
    e.conv(b.w_in, b.w_out, 1);
    e.pool(PoolType::kAvg, 2, 2, 0);
    return;
  }
  e.begin(Merge::kConcat);
  e.next();
  e.bn(b.w_in);
  e.relu();
  e.conv(b.w_in, b.w_b, 1);
  e.bn(b.w_b);
  e.relu();
  e.conv(b.w_b, b.w_out - b.w_in, 3);
  e.end();
}

// The single-layer kinds of the classic networks and the classifier head.
template <class Sink>
void lower_plain(const Block& b, Emit<Sink>& e) {
  switch (b.kind) {
    case BlockKind::kConv:
      e.conv(b.w_in, b.w_out, b.kernel, b.stride, b.groups, b.bias, b.pad());
      if (b.bn) e.bn(b.w_out);
      e.act(b.act);
      return;
    case BlockKind::kPool:
      e.pool(b.pool, b.kernel, b.stride, b.pad(), b.ceil_mode);
      return;
    case BlockKind::kAdaptivePool:
      e.adaptive_avg_pool(b.out_size);
      return;
    case BlockKind::kLrn:
      e.lrn(b);
      return;
    case BlockKind::kDropout:
      e.dropout(b.dropout);
      return;
    case BlockKind::kLinear:
      e.flatten();
      e.linear(b.w_in, b.w_out, b.bias);
      e.act(b.act);
      return;
    default:  // kHead
      if (b.bn) {
        e.bn(b.w_in);
        e.relu();
      }
      e.adaptive_avg_pool(1);
      e.dropout(b.dropout);
      e.flatten();
      e.linear(b.w_in, b.w_out, true);
      return;
  }
}

}  // namespace lowering

// Streams one block's layers into `sink` (no begin/end_block calls). Sink is
// LayerSink or a final class derived from it.
template <class Sink>
void lower_block_to(const Block& b, Sink& sink) {
  lowering::Emit<Sink> e(sink);
  switch (b.kind) {
    case BlockKind::kConv:
    case BlockKind::kPool:
    case BlockKind::kAdaptivePool:
    case BlockKind::kLrn:
    case BlockKind::kDropout:
    case BlockKind::kLinear:
    case BlockKind::kHead:
      return lowering::lower_plain(b, e);
    case BlockKind::kVanilla:
    case BlockKind::kResBasic:
    case BlockKind::kResBottleneck:
      return lowering::lower_residual(b, e);
    case BlockKind::kDenseLayer:
    case BlockKind::kTransition:
      return lowering::lower_dense(b, e);
    case BlockKind::kInception:
      return lowering::lower_inception(b, e);
    case BlockKind::kSeparable:
      e.separable(b.w_in, b.w_out, b.kernel, b.stride);
      if (b.bn) e.bn(b.w_out);
      e.act(b.act);
      return;
    case BlockKind::kXception:
      return lowering::lower_xception(b, e);
  }
  throw std::logic_error("lower_block: unhandled block kind " +
                         std::to_string(static_cast<int>(b.kind)));
}

}  // namespace nds
