#pragma once
// NetSpec -> LibTorch module, by listening to the layer stream.
//
// The builder never looks at a block's kind: it is a LayerSink that turns each
// primitive layer of lower() (space/layers.h) into a torch::nn module and each
// parallel group into a ParallelImpl. Complexity counting reads the very same
// stream, which is why a built module's parameter count equals the analytic
// params of space/complexity.h exactly.
//
// Module layout (the names state_dict() and the TorchScript export use):
//   blocks.<i>            block i of the spec, a sequence (SeqImpl) of its layers
//   blocks.<i>.<j>        the j-th layer or group of that sequence
//   ....<j>.<k>.<m>       layer m of branch k of a group
// Every layer takes an index, parameter-free ones (ReLU, pools) included.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "space/layers.h"
#include "space/net_spec.h"

namespace nds::trainer {

// BatchNorm2d constants (pycls's and PyTorch's defaults), shared with the exporter.
constexpr double kBnEps = 1e-5;
constexpr double kBnMomentum = 0.1;

// Tracks the module path of each item of the layer stream, so that every
// sink that needs names (builder, exporter) derives them by the same rule.
class NamedLayerSink : public LayerSink {
 public:
  void begin_block(const Block& block, int index) final;
  void end_block(const Block& block, int index) final;
  void layer(const Layer& layer) final;
  void begin_group(Merge merge) final;
  void next_branch() final;
  void end_group() final;

 protected:
  // `path` is the item's module path, e.g. "blocks.3.0.1".
  virtual void on_begin_block(const Block& block, const std::string& path) = 0;
  virtual void on_end_block() = 0;
  virtual void on_layer(const Layer& layer, const std::string& path) = 0;
  virtual void on_begin_group(Merge merge, const std::string& path) = 0;
  virtual void on_next_branch() = 0;
  virtual void on_end_group() = 0;

  // What precedes the current item in its sequence: nothing (it opens a
  // block or a branch), a layer, or a whole group.
  enum class Previous { kNothing, kLayer, kGroup };
  Previous previous() const;
  const Layer& previous_layer() const;  // valid when previous() == kLayer

 private:
  struct Frame {
    std::string prefix;  // module path of the sequence
    int next = 0;        // index of its next item
    Previous last = Previous::kNothing;
    Layer last_layer;
  };
  struct GroupFrame {
    std::string path;
    int branch = 0;
  };
  std::vector<Frame> frames_;
  std::vector<GroupFrame> groups_;
};

// A sequence of modules applied in order; children are named "0", "1", ...
// (torch::nn::Sequential cannot hold itself, and its type-erased calls are
// not needed: every module here maps a tensor to a tensor).
class SeqImpl : public torch::nn::Module {
 public:
  template <typename Holder>
  void add(Holder holder) {
    auto impl = register_module(std::to_string(calls_.size()), std::move(holder));  // shared_ptr
    calls_.emplace_back([impl](const torch::Tensor& x) { return impl->forward(x); });
  }
  torch::Tensor forward(torch::Tensor x);
  bool empty() const { return calls_.empty(); }
  size_t size() const { return calls_.size(); }
  // The last module of the sequence (null when empty).
  std::shared_ptr<torch::nn::Module> last() const;

 private:
  std::vector<std::function<torch::Tensor(const torch::Tensor&)>> calls_;
};
TORCH_MODULE(Seq);

// Branches that all read the group's input, merged by sum, channel
// concatenation or (broadcast) product. An empty branch is the identity.
class ParallelImpl : public torch::nn::Module {
 public:
  explicit ParallelImpl(Merge merge) : merge_(merge) {}
  // Adds an empty branch, registered as child "<k>", and returns it.
  Seq add_branch();
  torch::Tensor forward(const torch::Tensor& x);

  Merge merge() const { return merge_; }
  const std::vector<Seq>& branches() const { return branches_; }

 private:
  torch::Tensor run(size_t k, const torch::Tensor& x);

  Merge merge_;
  std::vector<Seq> branches_;
};
TORCH_MODULE(Parallel);

// Local response normalization across channels (PyTorch's formula), which
// also accepts channels-last input.
class LrnImpl : public torch::nn::Module {
 public:
  explicit LrnImpl(const Layer& layer)
      : size_(layer.lrn_size), alpha_(layer.lrn_alpha), beta_(layer.lrn_beta), k_(layer.lrn_k) {}
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int64_t size_;
  double alpha_, beta_, k_;
};
TORCH_MODULE(Lrn);

struct InitOptions {
  // Start every residual function at zero: the BN that ends the residual
  // branch of an additive group gets gamma = 0, so each block begins as its
  // shortcut (pycls's BN.ZERO_INIT_FINAL_GAMMA, torchvision's
  // zero_init_residual). Steadies the first steps of short runs.
  bool zero_init_final_gamma = false;
};

// The whole network: one Seq per block of the spec.
class NetImpl : public torch::nn::Module {
 public:
  // Builds and initializes (init_weights) on the CPU, drawing from the
  // global torch generator.
  explicit NetImpl(NetSpec spec, InitOptions init = {});
  torch::Tensor forward(const torch::Tensor& x);

  const NetSpec& spec() const { return spec_; }

  // Parameters that weight decay may skip: BN's gamma and beta, and the
  // biases of convs and FC layers.
  std::vector<torch::Tensor> bn_and_bias_parameters() const;
  std::vector<torch::nn::BatchNorm2dImpl*> batch_norms() const;

 private:
  NetSpec spec_;
  Seq blocks_;
  // The BNs that end a residual branch (the first branch of an additive
  // group, which space/lowering.h writes before the shortcut).
  std::vector<torch::nn::BatchNorm2d> final_bns_;
};
TORCH_MODULE(Net);

// pycls's init: conv weights N(0, sqrt(2 / fan_out)) with fan_out = k*k*c_out,
// BN gamma 1 and beta 0, FC weights N(0, 0.01) and biases 0. Conv biases keep
// PyTorch's default, as in pycls.
void init_weights(torch::nn::Module& net);

// Seeds the global torch generator with `seed`, then builds the network: the
// same seed gives the same initial weights.
Net build_net(const NetSpec& spec, uint64_t seed, InitOptions init = {});

// Elements of all parameters (running statistics are buffers, not counted).
int64_t count_parameters(const torch::nn::Module& module);

// Converts conv weights (and so every activation after the first conv) to
// channels-last memory order, which oneDNN convolves without reorders.
void to_channels_last(torch::nn::Module& net);

}  // namespace nds::trainer
