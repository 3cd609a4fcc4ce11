#include "trainer/export.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace nds::trainer {
namespace {

// A Python float literal that reads back as the same double.
std::string float_literal(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  std::string out = s.str();
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string pair(int v) { return "[" + std::to_string(v) + ", " + std::to_string(v) + "]"; }

std::string attribute(const std::string& path) {
  std::string name = path;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

// Writes forward() one statement per layer, in single-assignment form.
class ScriptSink final : public NamedLayerSink {
 public:
  ScriptSink() { code_ << "def forward(self, x: Tensor) -> Tensor:\n"; }

  std::string finish() {
    code_ << "    return " << cur_ << "\n";
    return code_.str();
  }

 private:
  void on_begin_block(const Block& /*block*/, const std::string& /*path*/) override {}
  void on_end_block() override {}

  void on_layer(const Layer& l, const std::string& path) override {
    const std::string self = "self." + attribute(path) + "_";
    switch (l.kind) {
      case LayerKind::kConv:
        assign("torch.conv2d(" + cur_ + ", " + self + "weight, " +
               (l.bias ? self + "bias" : "None") + ", " + pair(l.stride) + ", " + pair(l.padding) +
               ", [1, 1], " + std::to_string(l.groups) + ")");
        return;
      case LayerKind::kBatchNorm:
        assign("torch.batch_norm(" + cur_ + ", " + self + "weight, " + self + "bias, " + self +
               "running_mean, " + self + "running_var, False, " + float_literal(kBnMomentum) + ", " +
               float_literal(kBnEps) + ", False)");
        return;
      case LayerKind::kActivation:
        switch (l.act) {
          case Activation::kNone: return;
          case Activation::kRelu: assign("torch.relu(" + cur_ + ")"); return;
          case Activation::kTanh: assign("torch.tanh(" + cur_ + ")"); return;
          case Activation::kSigmoid: assign("torch.sigmoid(" + cur_ + ")"); return;
        }
        return;
      case LayerKind::kMaxPool:
        assign("torch.max_pool2d(" + cur_ + ", " + pair(l.kernel) + ", " + pair(l.stride) + ", " +
               pair(l.padding) + ", [1, 1], " + (l.ceil_mode ? "True" : "False") + ")");
        return;
      case LayerKind::kAvgPool:
        assign("torch.avg_pool2d(" + cur_ + ", " + pair(l.kernel) + ", " + pair(l.stride) + ", " +
               pair(l.padding) + ", " + (l.ceil_mode ? "True" : "False") + ", True, None)");
        return;
      case LayerKind::kAdaptiveAvgPool:
        assign("torch.adaptive_avg_pool2d(" + cur_ + ", " + pair(l.out_size) + ")");
        return;
      case LayerKind::kLrn:
        lrn(l);
        return;
      case LayerKind::kDropout:
        return;  // the identity at evaluation
      case LayerKind::kFlatten:
        assign("torch.flatten(" + cur_ + ", 1)");
        return;
      case LayerKind::kLinear:
        assign("torch.linear(" + cur_ + ", " + self + "weight, " +
               (l.bias ? self + "bias" : "None") + ")");
        return;
    }
  }

  // PyTorch's local_response_norm for 4-D input, statement by statement.
  void lrn(const Layer& l) {
    const std::string x = cur_;
    const std::string in = fresh();
    const std::string sizes = fresh();
    const std::string div = fresh();
    code_ << "    " << in << " = " << x << ".contiguous()\n";
    code_ << "    " << sizes << " = " << in << ".size()\n";
    code_ << "    " << div << " = torch.mul(" << in << ", " << in << ").unsqueeze(1)\n";
    code_ << "    " << div << " = " << div << ".view([" << sizes << "[0], 1, " << sizes << "[1], "
          << sizes << "[2], -1])\n";
    code_ << "    " << div << " = torch.constant_pad_nd(" << div << ", [0, 0, 0, 0, "
          << l.lrn_size / 2 << ", " << (l.lrn_size - 1) / 2 << "], 0.0)\n";
    code_ << "    " << div << " = torch.avg_pool3d(" << div << ", [" << l.lrn_size
          << ", 1, 1], [1, 1, 1], [0, 0, 0], False, True, None).squeeze(1)\n";
    code_ << "    " << div << " = " << div << ".view(" << sizes << ")\n";
    code_ << "    " << div << " = " << div << ".mul(" << float_literal(l.lrn_alpha) << ").add("
          << float_literal(l.lrn_k) << ").pow(" << float_literal(l.lrn_beta) << ")\n";
    cur_ = in;
    assign(in + " / " + div);
  }

  void on_begin_group(Merge merge, const std::string& /*path*/) override {
    groups_.push_back({merge, cur_, {}});
  }
  void on_next_branch() override {
    groups_.back().outputs.push_back(cur_);
    cur_ = groups_.back().input;
  }
  void on_end_group() override {
    Group g = std::move(groups_.back());
    groups_.pop_back();
    g.outputs.push_back(cur_);
    std::string expr;
    const auto join = [&](const char* sep) {
      for (size_t k = 0; k < g.outputs.size(); ++k) expr += (k ? sep : "") + g.outputs[k];
    };
    switch (g.merge) {
      case Merge::kAdd: join(" + "); break;
      case Merge::kMul: join(" * "); break;
      case Merge::kConcat:
        expr = "torch.cat([";
        join(", ");
        expr += "], 1)";
        break;
    }
    assign(expr);
  }

  std::string fresh() { return "x" + std::to_string(++vars_); }
  void assign(const std::string& expr) {
    const std::string v = fresh();
    code_ << "    " << v << " = " << expr << "\n";
    cur_ = v;
  }

  struct Group {
    Merge merge;
    std::string input;
    std::vector<std::string> outputs;
  };
  std::ostringstream code_;
  std::string cur_ = "x";
  int vars_ = 0;
  std::vector<Group> groups_;
};

}  // namespace

std::string torchscript_source(const NetSpec& spec) {
  ScriptSink sink;
  lower(spec, sink);
  return sink.finish();
}

torch::jit::Module to_torchscript(NetImpl& net) {
  torch::NoGradGuard no_grad;
  torch::jit::Module module("NdsNet");
  const auto copy = [](const torch::Tensor& t) {
    return t.detach().to(torch::kCPU).contiguous().clone();
  };
  for (const auto& p : net.named_parameters()) {
    module.register_parameter(attribute(p.key()), copy(p.value()), /*is_buffer=*/false);
  }
  for (const auto& b : net.named_buffers()) module.register_buffer(attribute(b.key()), copy(b.value()));
  module.define(torchscript_source(net.spec()));
  module.eval();
  return module;
}

void export_torchscript(NetImpl& net, const std::string& path, const nlohmann::json& metadata) {
  torch::jit::Module module = to_torchscript(net);
  torch::jit::ExtraFilesMap extra{
      {"nds.json", metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}};
  try {
    module.save(path, extra);
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot write the TorchScript model to '" + path +
                             "': " + e.what_without_backtrace());
  }
}

}  // namespace nds::trainer
