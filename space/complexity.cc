#include "space/complexity.h"

#include <array>
#include <stdexcept>
#include <string>

#include "space/layers.h"
#include "space/lowering.h"
#include "space/net_spec.h"

namespace nds {
namespace {

// Failures build their messages out of line, so that the counting code the
// sampler runs millions of times stays small enough to inline.
[[noreturn, gnu::noinline, gnu::cold]] void fail(const std::string& what) {
  throw std::invalid_argument(what);
}

// Counts are exact or an error: a spec within space/limits.h can still
// describe more than 2^63 - 1 operations, and a wrapped count would be
// silently wrong.
[[noreturn, gnu::noinline, gnu::cold]] void overflow() {
  fail("a count exceeds 2^63 - 1");
}
int64_t mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) overflow();
  return r;
}
int64_t add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) overflow();
  return r;
}
void add(Complexity& total, const Complexity& c) {
  total.params = add(total.params, c.params);
  total.flops = add(total.flops, c.flops);
  total.acts = add(total.acts, c.acts);
}

bool same(const Shape& a, const Shape& b) {
  return a.c == b.c && a.h == b.h && a.w == b.w;
}

std::string str(const Shape& s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

// Output side of a windowed op, PyTorch's rule (ceil mode may not start a
// window in the right padding).
int64_t window_out(int64_t in, int kernel, int stride, int padding, bool ceil_mode) {
  const int64_t span = in + 2 * padding - kernel;
  if (span < 0) return 0;
  // Stride 1 (most layers) skips the divisions.
  int64_t out =
      stride == 1 ? span + 1 : (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + padding) --out;
  return out;
}

// Counts one block's layer stream from a known input shape: follows the
// tensor's shape through the layers and parallel groups and adds each layer's
// cost. Final, so that lower_block_to<CostCounter> inlines every call.
class CostCounter final : public LayerSink {
 public:
  explicit CostCounter(const Shape& in) : cur_(in) {}

  const Complexity& cost() const { return cost_; }
  const Shape& shape() const { return cur_; }

  [[gnu::always_inline]] void layer(const Layer& l) override {
    switch (l.kind) {
      case LayerKind::kConv:
        return conv(l);
      case LayerKind::kBatchNorm:
        expect_channels(l.c_in, "batch norm");
        add(cost_, {2 * int64_t{l.c_in}, 0, 0});
        return;
      case LayerKind::kMaxPool:
      case LayerKind::kAvgPool:
        spatial(l.kernel, l.stride, l.padding, l.ceil_mode);
        add(cost_, {0, 0, mul(mul(cur_.c, cur_.h), cur_.w)});
        return;
      case LayerKind::kAdaptiveAvgPool:
        cur_.h = cur_.w = l.out_size;
        return;
      case LayerKind::kFlatten:
        cur_ = {mul(mul(cur_.c, cur_.h), cur_.w), 1, 1};
        return;
      case LayerKind::kLinear:
        return linear(l);
      case LayerKind::kActivation:
      case LayerKind::kLrn:
      case LayerKind::kDropout:
        return;
    }
  }

  void begin_group(Merge merge) override {
    if (open_ == groups_.size()) too_deep();
    Group& g = groups_[open_++];
    g.merge = merge;
    g.any = false;
    g.in_c = cur_.c;
    g.in_h = cur_.h;
    g.in_w = cur_.w;
  }
  void next_branch() override {
    const Group& g = merge_branch(groups_[open_ - 1]);
    cur_ = {g.in_c, g.in_h, g.in_w};
  }
  void end_group() override {
    const Group& g = merge_branch(groups_[--open_]);
    cur_ = {g.c, g.h, g.w};
  }

 private:
  // An open parallel group: its input shape and the merge of the branches
  // closed so far. Plain fields, set when the group opens: the counter is
  // built afresh for every block, millions of times in the sampler.
  struct Group {
    Merge merge;
    bool any;                  // whether a branch has been closed
    int64_t in_c, in_h, in_w;  // the group's input
    int64_t c, h, w;           // the closed branches, merged
  };

  [[gnu::always_inline]] void conv(const Layer& l) {
    expect_channels(l.c_in, "conv");
    // Most convs are not grouped: those skip the divisions.
    const bool grouped = l.groups != 1;
    if (grouped && (l.groups < 1 || l.c_in % l.groups != 0 || l.c_out % l.groups != 0))
      fail_groups(l.groups, l.c_in, l.c_out);
    spatial(l.kernel, l.stride, l.padding, false);
    const int64_t hw = mul(cur_.h, cur_.w);
    const int64_t per_group = grouped ? l.c_out / l.groups : l.c_out;
    const int64_t weights = mul(mul(int64_t{l.kernel} * l.kernel, l.c_in), per_group);
    const int64_t out = mul(l.c_out, hw);
    add(cost_, {add(weights, l.bias ? l.c_out : 0), add(mul(weights, hw), l.bias ? out : 0), out});
    cur_.c = l.c_out;
  }

  void linear(const Layer& l) {
    if (cur_.h != 1 || cur_.w != 1) fail("fully connected layer without flatten");
    expect_channels(l.c_in, "fully connected layer");
    const int64_t weights = add(mul(l.c_in, l.c_out), l.bias ? l.c_out : 0);
    add(cost_, {weights, weights, l.c_out});
    cur_.c = l.c_out;
  }

  // Folds the branch that just ended (its output is cur_) into the group.
  const Group& merge_branch(Group& g) const {
    const Shape& s = cur_;
    if (!g.any) {
      g.c = s.c;
      g.h = s.h;
      g.w = s.w;
      g.any = true;
      return g;
    }
    switch (g.merge) {
      case Merge::kAdd:
        if (s.c != g.c || s.h != g.h || s.w != g.w) fail("residual branches differ in shape");
        break;
      case Merge::kConcat:
        if (s.h != g.h || s.w != g.w) fail("concatenated branches differ in spatial size");
        g.c = add(g.c, s.c);
        break;
      case Merge::kMul:
        // The first branch is the gated input; later ones broadcast over it.
        if (s.c != g.c || !((s.h == g.h && s.w == g.w) || (s.h == 1 && s.w == 1)))
          fail("gate does not broadcast over its input");
        break;
    }
    return g;
  }

  void expect_channels(int c_in, const char* what) const {
    if (c_in != cur_.c) fail_channels(c_in, what);
  }
  void spatial(int kernel, int stride, int padding, bool ceil_mode) {
    const int64_t h = window_out(cur_.h, kernel, stride, padding, ceil_mode);
    // Inputs are mostly square: one division instead of two.
    const int64_t w = cur_.w == cur_.h ? h : window_out(cur_.w, kernel, stride, padding, ceil_mode);
    if (h < 1 || w < 1) fail_too_small(kernel);
    cur_.h = h;
    cur_.w = w;
  }

  [[noreturn, gnu::noinline, gnu::cold]] static void too_deep() {
    throw std::logic_error("layer groups nest too deep to count");
  }
  [[noreturn, gnu::noinline, gnu::cold]] static void fail_groups(int groups, int c_in, int c_out) {
    fail("conv groups " + std::to_string(groups) + " do not divide channels " +
         std::to_string(c_in) + "->" + std::to_string(c_out));
  }
  [[noreturn, gnu::noinline, gnu::cold]] void fail_channels(int c_in, const char* what) const {
    fail(std::string(what) + " expects " + std::to_string(c_in) + " input channels but gets " +
         std::to_string(cur_.c));
  }
  [[noreturn, gnu::noinline, gnu::cold]] void fail_too_small(int kernel) const {
    fail("input too small: spatial size below 1 (" + std::to_string(cur_.h) + "x" +
         std::to_string(cur_.w) + " into a " + std::to_string(kernel) + "x" +
         std::to_string(kernel) + " window)");
  }

  Shape cur_;
  Complexity cost_;
  // The open groups, innermost last: a small fixed array, since the sampler
  // counts millions of blocks, and no block nests deeper than the SE gate in
  // a bottleneck's residual branch.
  std::array<Group, 2> groups_;
  size_t open_ = 0;
};

// The block's declared inputs against the shape that reaches it.
void check_input(const Block& block, const Shape& in) {
  if (block.kind == BlockKind::kLinear) {
    const int64_t features = mul(mul(in.c, in.h), in.w);
    if (block.w_in != features)
      fail("fully connected layer expects " + std::to_string(block.w_in) +
           " input features but gets " + std::to_string(features) + " (" + str(in) +
           "): the input size does not fit the network");
  } else if (block.w_in != in.c) {
    fail("block declares " + std::to_string(block.w_in) + " input channels but gets " +
         std::to_string(in.c));
  }
}

// `what` went wrong in block `index` of `spec`: the message names the block.
[[noreturn]] void fail_in_block(const NetSpec& spec, size_t index, const std::string& what) {
  const Block& b = spec.blocks[index];
  fail(what + " in block " + std::to_string(index) + " (" + to_string(b.kind) + ", stage " +
       std::to_string(b.stage) + ")" + (spec.name.empty() ? "" : " of " + spec.name));
}

}  // namespace

// Flattened: every call of the layer stream inlined into one function, which
// the sampler's pre-filter calls millions of times (failures stay out of line).
[[gnu::flatten]] BlockCost block_cost(const Block& block, const Shape& in) {
  check_input(block, in);
  CostCounter counter(in);
  lower_block_to(block, counter);
  if (block.w_out != counter.shape().c)
    fail("block declares " + std::to_string(block.w_out) + " outputs but produces " +
         std::to_string(counter.shape().c));
  return {counter.cost(), counter.shape()};
}

Complexity complexity(const NetSpec& spec, int resolution, std::vector<BlockCost>* per_block) {
  validate_resolution(resolution);
  validate(spec);  // no zero stride or kernel reaches the arithmetic of block_cost
  if (per_block) {
    per_block->clear();
    per_block->reserve(spec.blocks.size());
  }
  Complexity total;
  Shape in{spec.in_channels, resolution, resolution};
  Shape last_in;   // the input of the last block counted
  BlockCost last;  // and its cost and output
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const Block& b = spec.blocks[i];
    try {
      // A block's cost depends only on the block and its input shape: a block
      // equal to the one before it, on the same input, costs the same again
      // (most of a RegNet stage), so it is not counted again.
      if (i == 0 || !same(in, last_in) || !(b == spec.blocks[i - 1])) {
        last_in = in;
        last = block_cost(b, in);
      }
      add(total, last.cost);
    } catch (const std::invalid_argument& e) {
      fail_in_block(spec, i, e.what());
    }
    in = last.out;
    if (per_block) per_block->push_back(last);
  }
  return total;
}

Complexity complexity(const NetSpec& spec, int resolution) {
  return complexity(spec, resolution, nullptr);
}

}  // namespace nds
