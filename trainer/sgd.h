#pragma once
// SGD with momentum, optional Nesterov momentum and weight decay: the update
// of torch.optim.SGD (dampening 0), with fewer passes over memory.
//
// On the CPU one parallel loop updates every float parameter in a single
// pass (weight decay, momentum buffer, Nesterov step and parameter read and
// written once), instead of four or five tensor ops per parameter; elsewhere
// the update runs as multi-tensor (_foreach) ops. Gradients are reset to
// undefined rather than zeroed, so backward() hands its buffers over without
// a memset and an add.

#include <vector>

#include <torch/torch.h>

namespace nds::trainer {

class Sgd {
 public:
  struct Group {
    std::vector<torch::Tensor> params;
    double weight_decay = 0;
  };
  Sgd(std::vector<Group> groups, double momentum, bool nesterov);

  void zero_grad();       // every gradient back to undefined
  void step(double lr);   // parameters without a gradient are left alone

 private:
  struct Slot {
    torch::Tensor param;
    torch::Tensor buf;  // momentum buffer, starts at zero (as torch's first step: buf = d)
    float weight_decay;
  };
  bool fused_ok(const Slot& s) const;
  void step_fused(double lr);
  void step_foreach(double lr);

  std::vector<Slot> slots_;
  double momentum_;
  bool nesterov_;
};

}  // namespace nds::trainer
