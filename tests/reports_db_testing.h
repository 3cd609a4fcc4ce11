#pragma once
// Synthetic results databases for the report and analyze/refine tests: real
// samples of built-in spaces (sampler/) with deterministic synthetic errors,
// completed through the store's state machine.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/refine.h"
#include "sampler/builtin_spaces.h"
#include "sampler/design_space.h"
#include "sampler/hash.h"
#include "sampler/sampler.h"
#include "space/net_spec.h"
#include "store/store.h"

namespace nds::reports::testing {

using json = nlohmann::json;

// How a sampled model's error is made up: a function of its family params.
using ErrorFn = std::function<double(const json& family_params, size_t index)>;

enum class Outcome { kComplete, kNone, kFailed };

struct SweepSpec {
  SweepSpec(std::string name_, std::string space_, int n_, uint64_t seed_, ErrorFn error_,
            std::vector<std::string> references_ = {}, Outcome outcome_ = Outcome::kComplete,
            std::string parent_ = "")
      : name(std::move(name_)),
        space(std::move(space_)),
        n(n_),
        seed(seed_),
        error(std::move(error_)),
        references(std::move(references_)),
        outcome(outcome_),
        parent(std::move(parent_)) {}
  std::string name;
  std::string space;  // built-in space name
  int n;
  uint64_t seed;
  ErrorFn error;
  std::vector<std::string> references;  // fixed points trained with the sweep
  Outcome outcome;
  std::string parent;
  // When not empty, trial k is sample order[k] of the seed's stream (n is
  // then ignored), and the error function gets that stream index: the same
  // model keeps its index in every sweep of the space and seed.
  std::vector<size_t> order;
};

inline constexpr double kReferenceError = 1.25;  // below every sample's: must not enter the EDF

inline store::ModelRecord record_of(const sampler::Sample& s, const std::string& family) {
  store::ModelRecord m;
  m.hash = sampler::hash_text(s.hash);
  m.family = family;
  m.family_params = s.family_params;
  m.spec = to_json(s.spec);
  m.cost = s.cost;
  return m;
}

// A sweep of real samples of a built-in space; returns the errors given to
// the samples, in sample order.
inline std::vector<double> add_sweep(store::Store& st, const SweepSpec& spec) {
  const sampler::DesignSpace space = sampler::builtin_space(spec.space);
  std::vector<size_t> order = spec.order;
  if (order.empty())
    for (int i = 0; i < spec.n; ++i) order.push_back(static_cast<size_t>(i));
  const size_t drawn = order.empty() ? 0 : *std::max_element(order.begin(), order.end()) + 1;
  const auto samples = sampler::sample_n(space, spec.seed, drawn);
  std::vector<store::NewTrial> trials;
  std::vector<double> errors;
  for (size_t k = 0; k < order.size(); ++k) {
    const sampler::Sample& s = samples[order[k]];
    trials.push_back({record_of(s, space.family), static_cast<int64_t>(k), ""});
    errors.push_back(spec.error(s.family_params, order[k]));
  }
  for (size_t k = 0; k < spec.references.size(); ++k) {
    store::ModelRecord m;
    m.hash = "ref" + std::to_string(k) + spec.name;
    m.family = "resnet";
    m.family_params = {{"family", "resnet"}, {"name", spec.references[k]}};
    m.spec = {{"family", "resnet"}, {"name", spec.references[k]}};
    m.cost = {11000000, 1800000000 + static_cast<int64_t>(k), 2500000};
    trials.push_back({m, 99, spec.references[k]});
  }
  store::SweepDef def;
  def.name = spec.name;
  def.family = space.family;
  def.space = sampler::to_json(space);
  def.recipe = {{"epochs", 1}};
  def.seed = static_cast<int64_t>(spec.seed);
  def.parent = spec.parent;
  def.build = {"test", "", "cpu", 1};
  const int64_t id = st.create_sweep(def, trials);
  if (spec.outcome == Outcome::kNone) return errors;
  size_t i = 0;
  while (auto c = st.claim(id, {0, "test", "cpu"})) {
    if (spec.outcome == Outcome::kFailed) {
      st.fail(c->trial_id, "synthetic failure");
      continue;
    }
    store::TrialResult r;
    const size_t idx = static_cast<size_t>(c->sample_index);
    r.top1_err = c->reference.empty() ? errors.at(idx) : kReferenceError;
    r.top5_err = r.top1_err / 2;
    r.best_top1_err = r.top1_err;
    r.best_top5_err = r.top5_err;
    r.epochs_done = 2;
    for (int e = 1; e <= 2; ++e) {
      store::EpochMetrics m;
      m.epoch = e;
      m.train_loss = 1.0 / e;
      m.test_top1_err = r.top1_err + 2 - e;
      m.lr = 0.1 / e;
      r.epochs.push_back(m);
    }
    st.complete(c->trial_id, r);
    ++i;
  }
  st.flush();
  return errors;
}

inline double regnet_error(const json& p, size_t i) {
  // Minimized at w_0 = 48; a little index noise breaks ties.
  const double w0 = p["w_0"].get<double>();
  return 10 + 4 * std::fabs(std::log2(w0 / 48)) + 0.01 * static_cast<double>(i % 17);
}

// log2(max / min) of a model's stage bottleneck ratios (0: shared).
inline double b_violation(const json& p) {
  std::vector<double> b;
  for (const json& x : p["bottleneck_ratios"]) b.push_back(x.get<double>());
  return constraint_violation("shared", b);
}

}  // namespace nds::reports::testing
