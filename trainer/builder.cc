#include "trainer/builder.h"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace nds::trainer {

// --- NamedLayerSink ----------------------------------------------------------

void NamedLayerSink::begin_block(const Block& block, int index) {
  frames_.push_back({"blocks." + std::to_string(index), 0, Previous::kNothing, {}});
  on_begin_block(block, frames_.back().prefix);
}

void NamedLayerSink::end_block(const Block& /*block*/, int /*index*/) {
  on_end_block();
  frames_.pop_back();
}

void NamedLayerSink::layer(const Layer& layer) {
  Frame& f = frames_.back();
  on_layer(layer, f.prefix + "." + std::to_string(f.next));
  ++f.next;
  f.last = Previous::kLayer;
  f.last_layer = layer;
}

void NamedLayerSink::begin_group(Merge merge) {
  Frame& f = frames_.back();
  const std::string path = f.prefix + "." + std::to_string(f.next);
  ++f.next;
  on_begin_group(merge, path);
  groups_.push_back({path, 0});
  frames_.push_back({path + ".0", 0, Previous::kNothing, {}});
}

void NamedLayerSink::next_branch() {
  frames_.pop_back();
  GroupFrame& g = groups_.back();
  ++g.branch;
  frames_.push_back({g.path + "." + std::to_string(g.branch), 0, Previous::kNothing, {}});
  on_next_branch();
}

void NamedLayerSink::end_group() {
  frames_.pop_back();
  groups_.pop_back();
  on_end_group();
  frames_.back().last = Previous::kGroup;
}

NamedLayerSink::Previous NamedLayerSink::previous() const { return frames_.back().last; }

const Layer& NamedLayerSink::previous_layer() const { return frames_.back().last_layer; }

// --- Containers --------------------------------------------------------------

torch::Tensor SeqImpl::forward(torch::Tensor x) {
  for (const auto& call : calls_) x = call(x);
  return x;
}

std::shared_ptr<torch::nn::Module> SeqImpl::last() const {
  const auto kids = children();
  return kids.empty() ? nullptr : kids.back();
}

Seq ParallelImpl::add_branch() {
  branches_.push_back(register_module(std::to_string(branches_.size()), Seq()));
  return branches_.back();
}

torch::Tensor ParallelImpl::run(size_t k, const torch::Tensor& x) {
  return branches_[k]->empty() ? x : branches_[k]->forward(x);
}

torch::Tensor ParallelImpl::forward(const torch::Tensor& x) {
  switch (merge_) {
    case Merge::kAdd: {
      torch::Tensor y = run(0, x);
      for (size_t k = 1; k < branches_.size(); ++k) y = y + run(k, x);
      return y;
    }
    case Merge::kConcat: {
      std::vector<torch::Tensor> parts;
      parts.reserve(branches_.size());
      for (size_t k = 0; k < branches_.size(); ++k) parts.push_back(run(k, x));
      return torch::cat(parts, 1);
    }
    case Merge::kMul: {
      torch::Tensor y = run(0, x);
      for (size_t k = 1; k < branches_.size(); ++k) y = y * run(k, x);
      return y;
    }
  }
  throw std::logic_error("ParallelImpl: unknown merge");
}

torch::Tensor LrnImpl::forward(const torch::Tensor& x) {
  // PyTorch's formula views the input as 5-D, which needs NCHW order.
  return torch::nn::functional::local_response_norm(
      x.contiguous(),
      torch::nn::functional::LocalResponseNormFuncOptions(size_).alpha(alpha_).beta(beta_).k(k_));
}

// --- The builder sink ----------------------------------------------------------

namespace {

namespace nn = torch::nn;

class BuildSink final : public NamedLayerSink {
 public:
  explicit BuildSink(Seq root) : root_(std::move(root)) {}

  std::vector<nn::BatchNorm2d> take_final_bns() { return std::move(final_bns_); }

 private:
  void on_begin_block(const Block& /*block*/, const std::string& /*path*/) override {
    Seq block;
    root_->add(block);
    seqs_.push_back(block);
  }
  void on_end_block() override { seqs_.pop_back(); }

  void on_layer(const Layer& l, const std::string& /*path*/) override {
    Seq& seq = seqs_.back();
    switch (l.kind) {
      case LayerKind::kConv:
        seq->add(nn::Conv2d(nn::Conv2dOptions(l.c_in, l.c_out, l.kernel)
                                .stride(l.stride)
                                .padding(l.padding)
                                .groups(l.groups)
                                .bias(l.bias)));
        return;
      case LayerKind::kBatchNorm:
        seq->add(nn::BatchNorm2d(nn::BatchNorm2dOptions(l.c_in).eps(kBnEps).momentum(kBnMomentum)));
        return;
      case LayerKind::kActivation:
        add_activation(seq, l.act);
        return;
      case LayerKind::kMaxPool:
        seq->add(nn::MaxPool2d(
            nn::MaxPool2dOptions(l.kernel).stride(l.stride).padding(l.padding).ceil_mode(
                l.ceil_mode)));
        return;
      case LayerKind::kAvgPool:
        seq->add(nn::AvgPool2d(
            nn::AvgPool2dOptions(l.kernel).stride(l.stride).padding(l.padding).ceil_mode(
                l.ceil_mode)));
        return;
      case LayerKind::kAdaptiveAvgPool:
        seq->add(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(l.out_size)));
        return;
      case LayerKind::kLrn:
        seq->add(Lrn(l));
        return;
      case LayerKind::kDropout:
        seq->add(nn::Dropout(nn::DropoutOptions(l.p)));
        return;
      case LayerKind::kFlatten:
        seq->add(nn::Flatten());
        return;
      case LayerKind::kLinear:
        seq->add(nn::Linear(nn::LinearOptions(l.c_in, l.c_out).bias(l.bias)));
        return;
    }
    throw std::logic_error("builder: unhandled layer kind " +
                           std::to_string(static_cast<int>(l.kind)));
  }

  // ReLU works in place when the tensor it overwrites is one nothing else
  // reads: the fresh output of a conv, BN, FC or merge. At the start of a
  // block or branch its input may be shared (a residual's shortcut reads it).
  void add_activation(Seq& seq, Activation act) {
    switch (act) {
      case Activation::kNone:
        return;
      case Activation::kRelu: {
        bool in_place = previous() == Previous::kGroup;
        if (previous() == Previous::kLayer) {
          const LayerKind k = previous_layer().kind;
          in_place = k == LayerKind::kConv || k == LayerKind::kBatchNorm || k == LayerKind::kLinear;
        }
        seq->add(nn::ReLU(nn::ReLUOptions(in_place)));
        return;
      }
      case Activation::kTanh:
        seq->add(nn::Tanh());
        return;
      case Activation::kSigmoid:
        seq->add(nn::Sigmoid());
        return;
    }
  }

  void on_begin_group(Merge merge, const std::string& /*path*/) override {
    Parallel group(merge);
    seqs_.back()->add(group);
    groups_.push_back(group);
    seqs_.push_back(group->add_branch());
  }
  void on_next_branch() override {
    close_branch();
    seqs_.push_back(groups_.back()->add_branch());
  }
  void on_end_group() override {
    close_branch();
    groups_.pop_back();
  }

  // Notes the BN that ends the residual branch (branch 0) of a sum.
  void close_branch() {
    const Parallel& g = groups_.back();
    if (g->merge() == Merge::kAdd && g->branches().size() == 1) {
      if (auto bn = std::dynamic_pointer_cast<nn::BatchNorm2dImpl>(seqs_.back()->last()))
        final_bns_.emplace_back(bn);
    }
    seqs_.pop_back();
  }

  Seq root_;
  std::vector<Seq> seqs_;
  std::vector<Parallel> groups_;
  std::vector<nn::BatchNorm2d> final_bns_;
};

}  // namespace

// --- NetImpl -------------------------------------------------------------------

NetImpl::NetImpl(NetSpec spec, InitOptions init)
    : spec_(std::move(spec)), blocks_(register_module("blocks", Seq())) {
  BuildSink sink(blocks_);
  lower(spec_, sink);
  final_bns_ = sink.take_final_bns();
  init_weights(*this);
  if (init.zero_init_final_gamma) {
    torch::NoGradGuard no_grad;
    for (auto& bn : final_bns_) bn->weight.zero_();
  }
}

torch::Tensor NetImpl::forward(const torch::Tensor& x) { return blocks_->forward(x); }

std::vector<torch::Tensor> NetImpl::bn_and_bias_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& m : modules(/*include_self=*/false)) {
    if (auto* bn = m->as<nn::BatchNorm2d>()) {
      out.push_back(bn->weight);
      out.push_back(bn->bias);
    } else if (auto* conv = m->as<nn::Conv2d>()) {
      if (conv->bias.defined()) out.push_back(conv->bias);
    } else if (auto* fc = m->as<nn::Linear>()) {
      if (fc->bias.defined()) out.push_back(fc->bias);
    }
  }
  return out;
}

std::vector<nn::BatchNorm2dImpl*> NetImpl::batch_norms() const {
  std::vector<nn::BatchNorm2dImpl*> out;
  for (const auto& m : modules(/*include_self=*/false))
    if (auto* bn = m->as<nn::BatchNorm2d>()) out.push_back(bn);
  return out;
}

void init_weights(torch::nn::Module& net) {
  torch::NoGradGuard no_grad;
  for (const auto& m : net.modules(/*include_self=*/false)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      const auto& k = conv->options.kernel_size();
      const double fan_out = static_cast<double>((*k)[0] * (*k)[1] * conv->options.out_channels());
      conv->weight.normal_(0, std::sqrt(2.0 / fan_out));
    } else if (auto* bn = m->as<nn::BatchNorm2d>()) {
      bn->weight.fill_(1);
      bn->bias.zero_();
    } else if (auto* fc = m->as<nn::Linear>()) {
      fc->weight.normal_(0, 0.01);
      if (fc->bias.defined()) fc->bias.zero_();
    }
  }
}

Net build_net(const NetSpec& spec, uint64_t seed, InitOptions init) {
  torch::manual_seed(seed);
  return Net(spec, init);
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

void to_channels_last(torch::nn::Module& net) {
  torch::NoGradGuard no_grad;
  for (const auto& m : net.modules(/*include_self=*/false))
    if (auto* conv = m->as<nn::Conv2d>())
      conv->weight.set_data(conv->weight.contiguous(at::MemoryFormat::ChannelsLast));
}

}  // namespace nds::trainer
