#include "space/complexity.h"

#include <stdexcept>
#include <string>

#include "space/layers.h"
#include "space/net_spec.h"

namespace nds {
namespace {

// Output side of a windowed op, PyTorch's rule (ceil mode may not start a
// window in the right padding).
int64_t window_out(int64_t in, int kernel, int stride, int padding, bool ceil_mode) {
  const int64_t span = in + 2 * padding - kernel;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + padding) --out;
  return out;
}

class CostSink final : public LayerSink {
 public:
  CostSink(const NetSpec& spec, int resolution, std::vector<BlockCost>* per_block)
      : spec_(spec), per_block_(per_block) {
    validate_resolution(resolution);
    validate(spec);  // no zero stride or kernel reaches the arithmetic below
    cur_ = {spec.in_channels, resolution, resolution};
    if (per_block_) {
      per_block_->clear();
      per_block_->reserve(spec.blocks.size());
    }
  }

  const Complexity& total() const { return total_; }

  // A block's cost depends only on the block and its input shape: when the
  // block equals the last lowered one and sees the same input, its cost and
  // output are that block's again. Returns false, doing nothing, otherwise.
  bool repeat_last(int index) {
    if (cur_.c != last_in_.c || cur_.h != last_in_.h || cur_.w != last_in_.w) return false;
    index_ = index;
    add(total_, last_cost_);
    cur_ = last_out_;
    if (per_block_) per_block_->push_back({last_cost_, last_out_});
    return true;
  }

  void begin_block(const Block& block, int index) override {
    index_ = index;
    at_block_start_ = total_;
    last_in_ = cur_;
    if (block.kind == BlockKind::kLinear) {
      const int64_t features = mul(mul(cur_.c, cur_.h), cur_.w);
      if (block.w_in != features)
        fail("fully connected layer expects " + std::to_string(block.w_in) +
             " input features but gets " + std::to_string(features) + " (" +
             std::to_string(cur_.c) + "x" + std::to_string(cur_.h) + "x" + std::to_string(cur_.w) +
             "): the input size does not fit the network");
    } else if (block.w_in != cur_.c) {
      fail("block declares " + std::to_string(block.w_in) + " input channels but gets " +
           std::to_string(cur_.c));
    }
  }
  void end_block(const Block& block, int /*index*/) override {
    if (block.w_out != cur_.c)
      fail("block declares " + std::to_string(block.w_out) + " outputs but produces " +
           std::to_string(cur_.c));
    last_cost_.params = total_.params - at_block_start_.params;
    last_cost_.flops = total_.flops - at_block_start_.flops;
    last_cost_.acts = total_.acts - at_block_start_.acts;
    last_out_ = cur_;
    if (per_block_) per_block_->push_back({last_cost_, last_out_});
  }

  void layer(const Layer& l) override {
    switch (l.kind) {
      case LayerKind::kConv: {
        expect_channels(l.c_in, "conv");
        if (l.groups < 1 || l.c_in % l.groups != 0 || l.c_out % l.groups != 0)
          fail("conv groups " + std::to_string(l.groups) + " do not divide channels " +
               std::to_string(l.c_in) + "->" + std::to_string(l.c_out));
        spatial(l.kernel, l.stride, l.padding, false);
        const int64_t hw = mul(cur_.h, cur_.w);
        const int64_t weights = mul(mul(int64_t{l.kernel} * l.kernel, l.c_in), l.c_out / l.groups);
        const int64_t out = mul(l.c_out, hw);
        add(total_,
            {add(weights, l.bias ? l.c_out : 0), add(mul(weights, hw), l.bias ? out : 0), out});
        cur_.c = l.c_out;
        return;
      }
      case LayerKind::kBatchNorm:
        expect_channels(l.c_in, "batch norm");
        add(total_, {2 * int64_t{l.c_in}, 0, 0});
        return;
      case LayerKind::kMaxPool:
      case LayerKind::kAvgPool:
        spatial(l.kernel, l.stride, l.padding, l.ceil_mode);
        add(total_, {0, 0, mul(mul(cur_.c, cur_.h), cur_.w)});
        return;
      case LayerKind::kAdaptiveAvgPool:
        cur_.h = cur_.w = l.out_size;
        return;
      case LayerKind::kFlatten:
        cur_ = {mul(mul(cur_.c, cur_.h), cur_.w), 1, 1};
        return;
      case LayerKind::kLinear: {
        if (cur_.h != 1 || cur_.w != 1) fail("fully connected layer without flatten");
        expect_channels(l.c_in, "fully connected layer");
        const int64_t weights = add(mul(l.c_in, l.c_out), l.bias ? l.c_out : 0);
        add(total_, {weights, weights, l.c_out});
        cur_.c = l.c_out;
        return;
      }
      case LayerKind::kActivation:
      case LayerKind::kLrn:
      case LayerKind::kDropout:
        return;
    }
  }

  void begin_group(Merge merge) override { groups_.push_back({merge, cur_, {}, false}); }
  void next_branch() override {
    merge_branch(groups_.back());
    cur_ = groups_.back().input;
  }
  void end_group() override {
    merge_branch(groups_.back());
    cur_ = groups_.back().merged;
    groups_.pop_back();
  }

 private:
  struct Group {
    Merge merge;
    Shape input;
    Shape merged;  // the branches closed so far, merged
    bool any;      // whether a branch has been closed
  };

  // Folds the branch that just ended (its output is cur_) into the group.
  void merge_branch(Group& g) const {
    const Shape& s = cur_;
    if (!g.any) {
      g.merged = s;
      g.any = true;
      return;
    }
    Shape& out = g.merged;
    switch (g.merge) {
      case Merge::kAdd:
        if (s.c != out.c || s.h != out.h || s.w != out.w) fail("residual branches differ in shape");
        return;
      case Merge::kConcat:
        if (s.h != out.h || s.w != out.w) fail("concatenated branches differ in spatial size");
        out.c = add(out.c, s.c);
        return;
      case Merge::kMul:
        // The first branch is the gated input; later ones broadcast over it.
        if (s.c != out.c || !((s.h == out.h && s.w == out.w) || (s.h == 1 && s.w == 1)))
          fail("gate does not broadcast over its input");
        return;
    }
  }

  // Counts are exact or an error: a spec within space/limits.h can still
  // describe more than 2^63 - 1 operations, and a wrapped count would be
  // silently wrong.
  int64_t mul(int64_t a, int64_t b) const {
    int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) overflow();
    return r;
  }
  int64_t add(int64_t a, int64_t b) const {
    int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) overflow();
    return r;
  }
  void add(Complexity& total, const Complexity& c) const {
    total.params = add(total.params, c.params);
    total.flops = add(total.flops, c.flops);
    total.acts = add(total.acts, c.acts);
  }
  [[noreturn]] void overflow() const { fail("a count exceeds 2^63 - 1"); }

  [[noreturn]] void fail(const std::string& what) const {
    const Block& b = spec_.blocks.at(static_cast<size_t>(index_));
    throw std::invalid_argument(what + " in block " + std::to_string(index_) + " (" +
                                to_string(b.kind) + ", stage " + std::to_string(b.stage) + ")" +
                                (spec_.name.empty() ? "" : " of " + spec_.name));
  }
  void expect_channels(int c_in, const char* what) const {
    if (c_in != cur_.c)
      fail(std::string(what) + " expects " + std::to_string(c_in) + " input channels but gets " +
           std::to_string(cur_.c));
  }
  void spatial(int kernel, int stride, int padding, bool ceil_mode) {
    const int64_t h = window_out(cur_.h, kernel, stride, padding, ceil_mode);
    const int64_t w = window_out(cur_.w, kernel, stride, padding, ceil_mode);
    if (h < 1 || w < 1)
      fail("input too small: spatial size below 1 (" + std::to_string(cur_.h) + "x" +
           std::to_string(cur_.w) + " into a " + std::to_string(kernel) + "x" +
           std::to_string(kernel) + " window)");
    cur_.h = h;
    cur_.w = w;
  }

  const NetSpec& spec_;
  std::vector<BlockCost>* per_block_;
  Shape cur_;
  Complexity total_;
  Complexity at_block_start_;
  Shape last_in_;         // the last lowered block's input shape,
  Shape last_out_;        // its output shape
  Complexity last_cost_;  // and its cost
  int index_ = 0;
  std::vector<Group> groups_;
};

}  // namespace

Complexity complexity(const NetSpec& spec, int resolution, std::vector<BlockCost>* per_block) {
  CostSink sink(spec, resolution, per_block);
  // lower() written out, so that repeated blocks (most of a RegNet stage) are
  // not lowered again.
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const Block& b = spec.blocks[i];
    const int index = static_cast<int>(i);
    if (i > 0 && b == spec.blocks[i - 1] && sink.repeat_last(index)) continue;
    sink.begin_block(b, index);
    lower_block(b, sink);
    sink.end_block(b, index);
  }
  return sink.total();
}

Complexity complexity(const NetSpec& spec, int resolution) {
  return complexity(spec, resolution, nullptr);
}

}  // namespace nds
