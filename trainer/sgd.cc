#include "trainer/sgd.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <map>
#include <utility>

namespace nds::trainer {
namespace {

// Elements per task of the fused loop: big enough to amortize a task, small
// enough to share a few million parameters between the threads.
constexpr int64_t kGrain = 1 << 15;

struct Item {
  float* p;
  const float* g;
  float* b;
  int64_t n;
  float wd;
};

}  // namespace

Sgd::Sgd(std::vector<Group> groups, double momentum, bool nesterov)
    : momentum_(momentum), nesterov_(nesterov) {
  torch::NoGradGuard no_grad;
  for (Group& g : groups)
    for (torch::Tensor& p : g.params)
      slots_.push_back({p, torch::zeros_like(p), static_cast<float>(g.weight_decay)});
}

void Sgd::zero_grad() {
  for (Slot& s : slots_) s.param.mutable_grad().reset();
}

bool Sgd::fused_ok(const Slot& s) const {
  const torch::Tensor& p = s.param;
  const torch::Tensor& g = p.grad();
  return p.device().is_cpu() && p.scalar_type() == torch::kFloat &&
         g.scalar_type() == torch::kFloat && !g.is_sparse() && g.device().is_cpu() &&
         p.is_non_overlapping_and_dense() && g.strides() == p.strides() &&
         s.buf.strides() == p.strides();
}

void Sgd::step(double lr) {
  torch::NoGradGuard no_grad;
  step_fused(lr);
  step_foreach(lr);
}

void Sgd::step_fused(double lr) {
  std::vector<Item> items;
  std::vector<int64_t> starts;  // of each item in the concatenation of all
  int64_t total = 0;
  for (Slot& s : slots_) {
    if (!s.param.grad().defined() || !fused_ok(s)) continue;
    items.push_back({s.param.data_ptr<float>(), s.param.grad().data_ptr<float>(),
                     s.buf.data_ptr<float>(), s.param.numel(), s.weight_decay});
    starts.push_back(total);
    total += s.param.numel();
  }
  if (items.empty()) return;
  const auto mu = static_cast<float>(momentum_);
  const auto rate = static_cast<float>(lr);
  const bool nesterov = nesterov_;
  // One parallel region for all parameters: each task walks the items its
  // range of the concatenation covers.
  at::parallel_for(0, total, kGrain, [&](int64_t begin, int64_t end) {
    auto k = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), begin) -
                                 starts.begin() - 1);
    for (; k < items.size() && starts[k] < end; ++k) {
      const Item& it = items[k];
      const int64_t lo = std::max(begin, starts[k]) - starts[k];
      const int64_t hi = std::min(end, starts[k] + it.n) - starts[k];
      float* p = it.p;
      const float* g = it.g;
      float* b = it.b;
      const float wd = it.wd;
      if (nesterov) {
        for (int64_t i = lo; i < hi; ++i) {
          const float d = g[i] + wd * p[i];
          const float m = mu * b[i] + d;
          b[i] = m;
          p[i] -= rate * (d + mu * m);
        }
      } else {
        for (int64_t i = lo; i < hi; ++i) {
          const float d = g[i] + wd * p[i];
          const float m = mu * b[i] + d;
          b[i] = m;
          p[i] -= rate * m;
        }
      }
    }
  });
}

void Sgd::step_foreach(double lr) {
  // Parameters the fused loop does not take (CUDA, other dtypes or layouts),
  // grouped by weight decay.
  std::map<float, std::vector<Slot*>> by_wd;
  for (Slot& s : slots_)
    if (s.param.grad().defined() && !fused_ok(s)) by_wd[s.weight_decay].push_back(&s);
  for (auto& [wd, slots] : by_wd) {
    std::vector<torch::Tensor> params, grads, bufs;
    for (Slot* s : slots) {
      params.push_back(s->param);
      grads.push_back(s->param.grad());  // reset before the next backward: safe to overwrite
      bufs.push_back(s->buf);
    }
    if (wd != 0) at::_foreach_add_(grads, params, wd);
    at::_foreach_mul_(bufs, momentum_);
    at::_foreach_add_(bufs, grads);
    if (nesterov_) {
      at::_foreach_add_(grads, bufs, momentum_);
      at::_foreach_add_(params, grads, -lr);
    } else {
      at::_foreach_add_(params, bufs, -lr);
    }
  }
}

}  // namespace nds::trainer
