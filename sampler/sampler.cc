#include "sampler/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sampler/candidate.h"
#include "sampler/estimate.h"
#include "sampler/hash.h"
#include "sampler/units.h"
#include "space/family.h"
#include "space/regnet.h"

namespace nds::sampler {
namespace {

using nlohmann::json;

std::string window_text(const Window& w) {
  return "[" + format_count(w.lo) + ", " +
         (w.hi == std::numeric_limits<std::int64_t>::max() ? std::string("inf")
                                                           : format_count(w.hi)) +
         "]";
}

// Whether a window could hold v, allowing for kEstimateMargin.
bool near(const Window& w, std::int64_t v) {
  if (!w.on) return true;
  const double x = static_cast<double>(v);
  return x >= static_cast<double>(w.lo) * (1 - kEstimateMargin) &&
         x <= static_cast<double>(w.hi) * (1 + kEstimateMargin);
}

// The most flops an estimate may reach without being rejected on flops
// (near() holds up to here), so the estimate can stop counting past it.
std::int64_t estimate_flops_limit(const Window& w) {
  const double hi = static_cast<double>(w.hi) * (1 + kEstimateMargin);
  if (!w.on || hi >= 0x1p62) return std::numeric_limits<std::int64_t>::max();
  return static_cast<std::int64_t>(std::floor(hi));
}

// Typed reads of drawn values, accepting what ParamReader accepts; false
// when it would reject the value (the exact path then reports why). An
// absent parameter leaves *out at its default.
constexpr double kIntLimit = 1 << 30;
constexpr size_t kMaxMemo = 1 << 20;  // plans remembered per sweep (bounds memory)

bool to_int(const Value& v, int* out) {
  const std::optional<double> x = v.as_number();
  if (!x || !std::isfinite(*x) || *x != std::floor(*x) || std::fabs(*x) > kIntLimit) return false;
  *out = static_cast<int>(*x);
  return true;
}

bool read_int(const Candidate& c, const Candidate::Param* p, int* out) {
  if (!p) return true;
  if (p->list) return false;
  const Value& v = c.at(*p);
  // An int distribution's draw is a whole number already: only its size is
  // checked (the common case, without to_int's libm calls).
  if (!v.ref && v.integer) {
    const double x = v.number();
    if (std::fabs(x) > kIntLimit) return false;
    *out = static_cast<int>(x);
    return true;
  }
  return to_int(v, out);
}

bool read_double(const Candidate& c, const Candidate::Param* p, double* out) {
  if (!p) return true;
  if (p->list) return false;
  const std::optional<double> x = c.at(*p).as_number();
  if (!x) return false;
  *out = *x;
  return true;
}

bool read_string(const Candidate& c, const Candidate::Param* p, std::string* out) {
  if (!p) return true;
  const Value& v = c.at(*p);
  if (p->list || !v.ref || !v.ref->is_string()) return false;
  *out = v.ref->get_ref<const std::string&>();
  return true;
}

// A list parameter: drawn element by element, or a fixed JSON array.
template <typename T>
bool read_list(const Candidate& c, const Candidate::Param* p, std::vector<T>* out) {
  if (!p) return true;
  out->clear();
  const auto push = [&](const Value& v) {
    if constexpr (std::is_same_v<T, int>) {
      int x = 0;
      if (!to_int(v, &x)) return false;
      out->push_back(x);
    } else {
      const std::optional<double> x = v.as_number();
      if (!x) return false;
      out->push_back(*x);
    }
    return true;
  };
  if (p->list) {
    for (size_t i = 0; i < p->length; ++i)
      if (!push(c.at(*p, i))) return false;
    return true;
  }
  const Value& v = c.at(*p);
  if (!v.ref || !v.ref->is_array()) return false;
  for (const json& e : *v.ref) {
    Value element;
    element.ref = &e;
    if (!push(element)) return false;
  }
  return true;
}

bool non_decreasing(const Candidate& c, const Candidate::Param& p) {
  for (size_t i = 1; i < p.length; ++i)
    if (*c.at(p, i).as_number() < *c.at(p, i - 1).as_number()) return false;
  return true;
}

// pycls's adjust_block_compatibility would clamp a group width wider than its
// stage; expand_anynet rejects one instead, so the sampler clamps it first
// (to the widest group expand accepts), which keeps pycls's model.
int anynet_group_limit(int w, double bottleneck_ratio) {
  const double bot_mul = bottleneck_ratio > 0 ? 1 / bottleneck_ratio : 1;
  return std::max(w, static_cast<int>(w * bot_mul));
}

void clamp_anynet_groups(AnyNetParams& p) {
  if (p.group_widths.size() != p.widths.size()) return;
  for (size_t i = 0; i < p.group_widths.size(); ++i) {
    const double b = i < p.bottleneck_ratios.size() ? p.bottleneck_ratios[i] : 1;
    p.group_widths[i] = std::min(p.group_widths[i], anynet_group_limit(p.widths[i], b));
  }
}

void clamp_anynet_groups(json& params) {
  const auto gs = params.find("group_widths");
  const auto ws = params.find("widths");
  if (gs == params.end() || ws == params.end() || !gs->is_array() || !ws->is_array() ||
      gs->size() != ws->size())
    return;
  const auto bs = params.find("bottleneck_ratios");
  for (size_t i = 0; i < gs->size(); ++i) {
    if (!(*gs)[i].is_number() || !(*ws)[i].is_number()) continue;
    double b = 1;
    if (bs != params.end() && bs->is_array() && i < bs->size() && (*bs)[i].is_number())
      b = (*bs)[i].get<double>();
    const int limit = anynet_group_limit(static_cast<int>((*ws)[i].get<double>()), b);
    if ((*gs)[i].get<double>() > limit) (*gs)[i] = limit;
  }
}

// The RegNet parameters the sampler reads, each into an int or a double
// field of RegNetParams (stem_type, neither, is the one string).
struct RegNetField {
  const char* key;
  int RegNetParams::*as_int;
  double RegNetParams::*as_double;
};
constexpr RegNetField kRegNetFields[] = {
    {"depth", &RegNetParams::depth, nullptr},
    {"w_0", &RegNetParams::w_0, nullptr},
    {"w_a", nullptr, &RegNetParams::w_a},
    {"w_m", nullptr, &RegNetParams::w_m},
    {"group_width", &RegNetParams::group_width, nullptr},
    {"bottleneck_ratio", nullptr, &RegNetParams::bottleneck_ratio},
    {"se_ratio", nullptr, &RegNetParams::se_ratio},
    {"stride", &RegNetParams::stride, nullptr},
    {"stem_type", nullptr, nullptr},
    {"stem_w", &RegNetParams::stem_w, nullptr},
    {"head_w", &RegNetParams::head_w, nullptr},
    {"quantum", &RegNetParams::quantum, nullptr},
};

// One index's candidate loop: the checks in order, with their tallies.
class Attempt {
 public:
  Attempt(const DesignSpace& space, const std::unordered_set<std::uint64_t>& seen, PlanMemo& memo,
          std::uint64_t index)
      : space_(space), seen_(seen), memo_(memo), index_(index), candidate_(space) {
    for (const std::string& key : space.non_decreasing)
      tallies_.push_back({"non_decreasing " + key, 0, 0});
    if (space.max_stages > 0)
      tallies_.push_back({"num_stages [" + std::to_string(space.min_stages) + ", " +
                              std::to_string(space.max_stages) + "]",
                          0, 0});
    tallies_.push_back({"valid", 0, 0});
    for (Measure m : {Measure::kFlops, Measure::kParams, Measure::kActs})
      if (space.window(m).on)
        tallies_.push_back({std::string(to_string(m)) + " " + window_text(space.window(m)), 0, 0});
    if (space.stratify_bins > 0) {
      bin_ = static_cast<int>(index % static_cast<std::uint64_t>(space.stratify_bins));
      const Window& w = space.window(space.stratify_by);
      log_lo_ = std::log(static_cast<double>(w.lo));
      log_span_ = std::log(static_cast<double>(w.hi)) - log_lo_;
      tallies_.push_back({"bin " + std::to_string(bin_) + " of " +
                              std::to_string(space.stratify_bins) + " (log " +
                              to_string(space.stratify_by) + ")",
                          0, 0});
    }
    tallies_.push_back({"unique", 0, 0});
    for (const std::string& key : space.non_decreasing) sorted_.push_back(candidate_.find(key));
    windows_ = space.flops.on || space.params_count.on || space.acts.on;
    max_estimate_flops_ = estimate_flops_limit(space.flops);
    const auto slot = [&](const char* key) { return candidate_.find(key); };
    regnet_family_ = space.family == "regnet";
    anynet_family_ = space.family == "anynet";
    if (regnet_family_) {
      for (const RegNetField& f : kRegNetFields) slots_.push_back(slot(f.key));
      prepare_regnet();
    } else if (anynet_family_) {
      for (const char* key : {"stem_type", "stem_w", "block_type", "depths", "widths", "strides",
                              "bottleneck_ratios", "group_widths", "se_ratio", "head_w"})
        slots_.push_back(slot(key));
    }
  }

  Sample run(std::uint64_t seed) {
    Rng rng(stream_seed(seed, index_));
    Sample s;
    for (std::int64_t attempt = 1; attempt <= space_.max_attempts; ++attempt) {
      s.spec.blocks.clear();  // an empty spec means "not expanded yet"
      if (!candidate(rng, &s)) continue;
      s.index = index_;
      s.attempts = attempt;
      s.bin = bin_;
      return s;
    }
    throw SampleError(message(seed), tallies_);
  }

 private:
  // Counts one candidate reaching the next check; returns `ok`.
  bool check(bool ok) {
    ConstraintTally& t = tallies_[step_++];
    ++t.reached;
    if (ok) ++t.passed;
    return ok;
  }

  // The candidate fails the current check because the family rejects it;
  // the family's message is kept for the error report.
  bool reject_invalid() {
    check(false);
    if (first_error_.empty()) {
      try {
        expand_params(materialize());
        first_error_ = "(unexpected: the parameters expand)";
      } catch (const std::invalid_argument& e) {
        first_error_ = e.what();
      }
    }
    return false;
  }

  // Reads RegNet field i (in kRegNetFields order) from the candidate into `r`.
  bool read_regnet_field(size_t i, RegNetParams& r) const {
    const RegNetField& f = kRegNetFields[i];
    const Candidate::Param* p = slots_[i];
    if (f.as_int) return read_int(candidate_, p, &(r.*f.as_int));
    if (f.as_double) return read_double(candidate_, p, &(r.*f.as_double));
    return read_string(candidate_, p, &r.stem_type);
  }

  // Whether RegNet field i always draws a plain number its field takes as it
  // is: an int distribution, or a float one into a double field.
  bool plain_number(size_t i) const {
    const ParamDist& d = *slots_[i]->dist;
    if (d.is_list()) return false;
    return d.kind == DistKind::kInt || (d.kind == DistKind::kFloat && kRegNetFields[i].as_double);
  }

  // Whether reading RegNet field i never rejects a candidate: a plain number
  // that its field holds whatever the draw.
  bool always_reads(size_t i) const {
    if (!plain_number(i)) return false;
    const ParamDist& d = *slots_[i]->dist;
    return !kRegNetFields[i].as_int ||
           (std::fabs(d.low) <= kIntLimit && std::fabs(d.high) <= kIntLimit);
  }

  // Fixed values are read once; each attempt reads only what it drew. A
  // drawn group width that always reads is read late, once the stage checks
  // pass (its log-uniform draw's exp is then taken for those alone).
  void prepare_regnet() {
    regnet_fixed_ok_ = slots_[0] && slots_[1] && slots_[2] && slots_[3] && slots_[4];
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i]) continue;
      if (slots_[i]->dist->kind == DistKind::kFixed)
        regnet_fixed_ok_ = regnet_fixed_ok_ && read_regnet_field(i, regnet_fixed_);
      else if (kRegNetFields[i].as_int == &RegNetParams::group_width && always_reads(i))
        late_group_width_ = &candidate_.at(*slots_[i]);
      else
        regnet_drawn_.push_back({i, plain_number(i) ? &candidate_.at(*slots_[i]) : nullptr});
    }
    regnet_ = regnet_fixed_;
  }

  bool read_regnet() {
    if (!regnet_fixed_ok_) return false;
    regnet_.group_width = regnet_fixed_.group_width;  // the one field a check rewrites
    for (const DrawnField& d : regnet_drawn_) {
      if (!d.value) {
        if (!read_regnet_field(d.slot, regnet_)) return false;
        continue;
      }
      // What read_int and read_double accept of a plain number, inline: this
      // runs for every drawn value of every candidate.
      const RegNetField& f = kRegNetFields[d.slot];
      const double x = d.value->number();
      if (!f.as_int) {
        regnet_.*f.as_double = x;
      } else if (std::fabs(x) <= kIntLimit) {
        regnet_.*f.as_int = static_cast<int>(x);
      } else {
        return false;
      }
    }
    return true;
  }

  bool read_anynet() {
    AnyNetParams& p = anynet_;
    const AnyNetParams defaults;
    p.stem_type = defaults.stem_type;
    p.stem_w = defaults.stem_w;
    p.block_type = defaults.block_type;
    p.bottleneck_ratios.clear();
    p.group_widths.clear();
    p.se_ratio = defaults.se_ratio;
    p.head_w = defaults.head_w;
    const auto& s = slots_;
    if (!s[3] || !s[4]) return false;  // depths and widths are required
    if (!read_list(candidate_, s[3], &p.depths)) return false;
    if (!s[5]) p.strides.assign(p.depths.size(), 2);
    return read_string(candidate_, s[0], &p.stem_type) && read_int(candidate_, s[1], &p.stem_w) &&
           read_string(candidate_, s[2], &p.block_type) && read_list(candidate_, s[4], &p.widths) &&
           read_list(candidate_, s[5], &p.strides) &&
           read_list(candidate_, s[6], &p.bottleneck_ratios) &&
           read_list(candidate_, s[7], &p.group_widths) &&
           read_double(candidate_, s[8], &p.se_ratio) && read_int(candidate_, s[9], &p.head_w);
  }

  // Whether RegNet `p`'s rule spans a number of stages in the space's range;
  // sets *span when it gets that far (most candidates stop before the logs).
  bool spans_stage_range(const RegNetParams& p, RegNetSpan* span) const {
    // The last block has the largest stage index (widths grow with the block
    // index), so the stages the rule spans are known from it alone, with
    // generate_regnet's own float operations.
    const double u = (p.depth - 1) * p.w_a + p.w_0;
    // Without logs first: the last stage index is round(log_w_m(u / w_0)),
    // so u / w_0 far below w_m^(min - 3/2) or far above w_m^(max - 1/2)
    // decides it (powers by multiplication and one square root).
    const double r = u / p.w_0;
    double low = std::sqrt(p.w_m) / p.w_m;  // w_m^(-1/2)
    for (int i = 1; i < space_.min_stages; ++i) low *= p.w_m;
    double high = std::sqrt(p.w_m);
    for (int i = 1; i < space_.max_stages; ++i) high *= p.w_m;
    if (r < low * (1 - 1e-9) || r > high * (1 + 1e-9)) return false;
    *span = regnet_span(p.w_a, p.w_0, p.w_m, p.depth);
    const int spanned = static_cast<int>(span->k_last) + 1;
    return spanned >= space_.min_stages && spanned <= space_.max_stages;
  }

  // RegNet's rule and num_stages; false when the candidate is rejected.
  // Sets *plan when the stage lists are known (for the estimate).
  bool regnet_checks(bool* plan) {
    *plan = false;
    if (!read_regnet()) return reject_invalid();
    const RegNetParams& p = regnet_;
    const bool rule_ok = p.depth >= 1 && p.quantum >= 1 && p.w_0 > 0 && p.w_0 % p.quantum == 0 &&
                         std::isfinite(p.w_a) && p.w_a >= 0 && std::isfinite(p.w_m) && p.w_m > 1;
    if (!rule_ok) return reject_invalid();
    RegNetSpan span;  // the logs, taken once for the stage check and the stages
    if (space_.max_stages <= 0)
      span = regnet_span(p.w_a, p.w_0, p.w_m, p.depth);
    else if (!spans_stage_range(p, &span))
      return check(false);
    regnet_stages(p.w_a, p.w_0, p.w_m, p.depth, p.quantum, span, &widths_);
    // pycls keeps a RegNet only when it produces every stage its rule spans
    // (num_stages == max_stage) and their number is in range.
    if (space_.max_stages > 0 &&
        !check(widths_.num_stages == widths_.total_stages &&
               widths_.num_stages >= space_.min_stages && widths_.num_stages <= space_.max_stages))
      return false;
    // pycls clamps the group width to each stage's width; regnet_to_anynet
    // does too, but rejects a width above the widest stage, so clamp it here.
    if (late_group_width_) regnet_.group_width = static_cast<int>(late_group_width_->number());
    const int widest = *std::max_element(widths_.widths.begin(), widths_.widths.end());
    clamped_group_width_ = std::min(p.group_width, widest);
    regnet_.group_width = clamped_group_width_;
    *plan = regnet_stage_plan(regnet_, widths_, &anynet_);
    return true;
  }

  // The candidate's parameters as the family reads them, clamped like pycls.
  json materialize() const {
    json params = candidate_.to_json();
    if (regnet_family_ && clamped_group_width_ > 0) {
      const auto gw = params.find("group_width");
      if (gw != params.end() && gw->is_number() && gw->get<double>() > clamped_group_width_)
        *gw = clamped_group_width_;
    } else if (anynet_family_) {
      clamp_anynet_groups(params);
    }
    params["in_channels"] = space_.in_channels;
    params["num_classes"] = space_.num_classes;
    return params;
  }

  // Rejects on the per-block estimate when it lies clearly outside a
  // window; counts the windows the way the exact path would (the estimate
  // equals the exact count; see sampler/estimate.h).
  bool estimate_rejects(const Complexity& e) {
    if (near(space_.flops, e.flops) && near(space_.params_count, e.params) &&
        near(space_.acts, e.acts))
      return false;
    check(true);  // valid
    if (space_.flops.on && !check(space_.flops.contains(e.flops))) return true;
    if (space_.params_count.on && !check(space_.params_count.contains(e.params))) return true;
    if (space_.acts.on) check(space_.acts.contains(e.acts));
    return true;
  }

  // estimate_rejects on the estimate of the stage plan's cost, if it has one.
  // Counting stops once the flops alone reject the candidate; its tally then
  // says "flops" even where the full count would have found the network
  // invalid (an overflow) further on: rejected either way.
  bool plan_estimate_rejects() {
    const std::optional<Complexity> e = estimate_anynet(
        anynet_, space_.in_channels, space_.num_classes, space_.resolution, max_estimate_flops_);
    return e && estimate_rejects(*e);
  }

  bool candidate(Rng& rng, Sample* out) {
    step_ = 0;
    clamped_group_width_ = 0;
    candidate_.draw(rng);
    for (const Candidate::Param* p : sorted_)
      if (!check(non_decreasing(candidate_, *p))) return false;

    // The stage plan, when the family has one and the values read cleanly.
    bool plan = false;
    if (regnet_family_) {
      if (!regnet_checks(&plan)) return false;
    } else if (anynet_family_ && read_anynet()) {
      clamp_anynet_groups(anynet_);
      plan = true;
    }
    if (plan && windows_ && plan_estimate_rejects()) return false;

    // A plan seen before needs no expansion to be judged.
    PlanResult* known = nullptr;
    std::string key;
    if (plan) {
      key = plan_key();
      const auto it = memo_.find(key);
      if (it != memo_.end()) known = &it->second;
    }
    // JSON only for candidates that need it: a known plan is judged without.
    json params;
    const auto family_params = [&]() -> json& {
      if (params.is_null()) params = materialize();
      return params;
    };
    if (!known) {
      try {
        out->spec = expand_params(family_params());
        out->cost = complexity(out->spec, space_.resolution);
      } catch (const std::invalid_argument& e) {
        check(false);
        if (first_error_.empty()) first_error_ = e.what();
        return false;
      }
      if (plan && memo_.size() < kMaxMemo)
        known = &memo_.emplace(key, PlanResult{out->cost}).first->second;
    } else {
      out->cost = known->cost;
    }
    check(true);  // valid
    const Complexity& c = out->cost;
    if (space_.flops.on && !check(space_.flops.contains(c.flops))) return false;
    if (space_.params_count.on && !check(space_.params_count.contains(c.params))) return false;
    if (space_.acts.on && !check(space_.acts.contains(c.acts))) return false;
    if (space_.stratify_bins > 0) {
      const Measure m = space_.stratify_by;
      const std::int64_t v = m == Measure::kFlops    ? c.flops
                             : m == Measure::kParams ? c.params
                                                     : c.acts;
      const int bins = space_.stratify_bins;
      const double x = (std::log(static_cast<double>(v)) - log_lo_) / log_span_;
      const int b = std::clamp(static_cast<int>(std::floor(x * bins)), 0, bins - 1);
      if (!check(b == bin_)) return false;
    }
    if (known && known->has_hash) {
      out->hash = known->hash;
    } else {
      if (out->spec.blocks.empty()) out->spec = expand_params(family_params());
      out->hash = spec_hash(out->spec);
      if (known) {
        known->hash = out->hash;
        known->has_hash = true;
      }
    }
    if (!check(seen_.count(out->hash) == 0)) return false;
    if (out->spec.blocks.empty()) out->spec = expand_params(family_params());
    out->family_params = std::move(family_params());
    return true;
  }

  // The plan's exact identity: every field expand_anynet reads.
  std::string plan_key() const {
    const AnyNetParams& a = anynet_;
    std::string k = a.stem_type + '|' + a.block_type + '|';
    const auto put = [&](auto v) { k.append(reinterpret_cast<const char*>(&v), sizeof v); };
    put(a.stem_w);
    put(a.head_w);
    put(a.se_ratio);
    for (const auto* list : {&a.depths, &a.widths, &a.strides, &a.group_widths}) {
      put(list->size());
      for (int v : *list) put(v);
    }
    put(a.bottleneck_ratios.size());
    for (double v : a.bottleneck_ratios) put(v);
    return k;
  }

  std::string message(std::uint64_t seed) const {
    std::string m = space_.name + ": sample " + std::to_string(index_) + " (seed " +
                    std::to_string(seed) + "): no model passed in " +
                    std::to_string(space_.max_attempts) + " attempts; passed:";
    for (size_t i = 0; i < tallies_.size(); ++i)
      m += std::string(i ? "," : "") + " " + tallies_[i].name + " " +
           std::to_string(tallies_[i].passed) + "/" + std::to_string(tallies_[i].reached);
    if (!first_error_.empty()) m += "; first family rejection: " + first_error_;
    return m;
  }

  const DesignSpace& space_;
  const std::unordered_set<std::uint64_t>& seen_;
  PlanMemo& memo_;
  std::uint64_t index_;
  Candidate candidate_;
  std::vector<const Candidate::Param*> sorted_;  // the non_decreasing lists
  std::vector<const Candidate::Param*> slots_;   // the family's keys, for typed reads
  bool windows_ = false;                         // any complexity window on
  std::int64_t max_estimate_flops_ = 0;          // estimate_flops_limit(space_.flops)
  bool regnet_family_ = false;
  bool anynet_family_ = false;
  RegNetParams regnet_;
  RegNetParams regnet_fixed_;     // defaults with the space's fixed values
  bool regnet_fixed_ok_ = false;  // the fixed values read cleanly, required keys present
  // A drawn RegNet value: its kRegNetFields index and, when plain_number,
  // the candidate's value to read directly.
  struct DrawnField {
    size_t slot;
    const Value* value;
  };
  std::vector<DrawnField> regnet_drawn_;
  const Value* late_group_width_ = nullptr;  // a drawn group width read late (prepare_regnet)
  RegNetWidths widths_;
  AnyNetParams anynet_;
  int clamped_group_width_ = 0;
  std::vector<ConstraintTally> tallies_;
  size_t step_ = 0;
  int bin_ = -1;
  double log_lo_ = 0;
  double log_span_ = 1;
  std::string first_error_;
};

}  // namespace

json draw_params(const DesignSpace& space, Rng& rng) {
  Candidate c(space);
  c.draw(rng);
  return c.to_json();
}

Sampler::Sampler(DesignSpace space, std::uint64_t seed) : space_(std::move(space)), seed_(seed) {}

Sample Sampler::draw(std::uint64_t index, const std::unordered_set<std::uint64_t>& seen) {
  return Attempt(space_, seen, memo_, index).run(seed_);
}

Sample Sampler::at(std::uint64_t index) {
  if (index < hashes_.size()) {
    // An index already passed: only the samples before it count as seen.
    const std::unordered_set<std::uint64_t> before(hashes_.begin(),
                                                   hashes_.begin() + static_cast<long>(index));
    return draw(index, before);
  }
  while (hashes_.size() < index) {
    // Sample j's hash joins the set before sample j + 1 is drawn.
    const std::uint64_t h = draw(hashes_.size(), seen_).hash;
    hashes_.push_back(h);
    seen_.insert(h);
  }
  Sample s = draw(index, seen_);
  hashes_.push_back(s.hash);
  seen_.insert(s.hash);
  return s;
}

Sample sample(const DesignSpace& space, std::uint64_t seed, std::uint64_t index) {
  return Sampler(space, seed).at(index);
}

std::vector<Sample> sample_n(const DesignSpace& space, std::uint64_t seed, std::uint64_t n) {
  Sampler sampler(space, seed);
  std::vector<Sample> out;
  out.reserve(static_cast<size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) out.push_back(sampler.at(i));
  return out;
}

}  // namespace nds::sampler
