#include "reports/paired.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "analysis/rank_agreement.h"
#include "reports/sampling.h"

namespace nds::reports {
namespace {

using json = nlohmann::json;

// The points subset draws a stream unrelated to the bootstrap's.
constexpr uint64_t kPointsStream = 0x9a12edull;

// Every completed model of a sweep by its hash: the samples and the fixed
// points, since a fixed point trained under both recipes is a pair too.
struct Side {
  std::vector<std::string> keys;
  std::vector<double> errors;
};

Side side_of(const SweepData& d) {
  Side s{d.hashes, d.errors};
  for (const ReferenceModel& r : d.references) {
    s.keys.push_back(r.hash);
    s.errors.push_back(r.error);
  }
  return s;
}

json correlation_json(const std::optional<analysis::Correlation>& c) {
  if (!c) return nullptr;
  return {{"value", c->value},
          {"low", c->ci ? json(c->ci->low) : json(nullptr)},
          {"high", c->ci ? json(c->ci->high) : json(nullptr)}};
}

json top_json(const std::optional<analysis::TopOverlap>& t) {
  if (!t) return nullptr;
  return {{"k", t->k},
          {"shared", t->shared},
          {"fraction", static_cast<double>(t->shared) / static_cast<double>(t->k)}};
}

json difference_json(const analysis::RankAgreement& r) {
  if (r.pairs == 0) return nullptr;
  return {{"mean", r.mean_difference},
          {"sd", r.pairs >= 2 ? json(r.sd_difference) : json(nullptr)}};
}

// [hash, error in a, error in b] per pair, at most max_points of them (a
// seeded subset that keeps each side's best and worst).
json points_json(const analysis::PairedErrors& p, const PairedOptions& o) {
  const std::vector<size_t> keep =
      subset_keeping_extremes(p.a.size(), o.max_points, {&p.a, &p.b}, o.seed + kPointsStream);
  json points = json::array();
  for (size_t i : keep) points.push_back(json::array({p.keys[i], p.a[i], p.b[i]}));
  return {{"total", p.a.size()}, {"downsampled", keep.size() < p.a.size()}, {"points", points}};
}

std::string quoted(const SweepData& d) {
  return "sweep '" + d.summary.name + "'";
}

std::string no_pairs_note(const SweepData& a, size_t n_a, const SweepData& b, size_t n_b) {
  return "no models in common: no model hash was trained in both " + quoted(a) + " (" +
         std::to_string(n_a) + " completed models) and " + quoted(b) + " (" + std::to_string(n_b) +
         ")";
}

}  // namespace

int paired_resamples(size_t pairs, int most) {
  constexpr double kPairSortsBudget = 2e7;
  constexpr int kFewest = 200;
  const double fit = kPairSortsBudget / static_cast<double>(std::max<size_t>(pairs, 1));
  if (fit >= most) return most;
  return std::max(std::min(most, kFewest), static_cast<int>(fit));
}

json paired_json(const SweepData& a, const SweepData& b, const PairedOptions& options) {
  const Side sa = side_of(a);
  const Side sb = side_of(b);
  const analysis::PairedErrors pairs =
      analysis::pair_by_key(sa.keys, sa.errors, sb.keys, sb.errors);
  analysis::RankAgreementOptions ro;
  ro.num_resamples = paired_resamples(pairs.a.size(), options.num_resamples);
  ro.seed = options.seed;
  ro.label_a = quoted(a);
  ro.label_b = quoted(b);
  const analysis::RankAgreement r = analysis::rank_agreement(pairs, ro);
  json out = {
      {"a", a.summary.name},
      {"b", b.summary.name},
      {"n_a", sa.keys.size()},
      {"n_b", sb.keys.size()},
      {"n_pairs", r.pairs},
      {"spearman", correlation_json(r.spearman)},
      {"kendall", correlation_json(r.kendall)},
      {"top_k", top_json(r.top)},
      {"difference", difference_json(r)},
      {"bootstrap", {{"resamples", ro.num_resamples}, {"level", ro.level}, {"seed", ro.seed}}},
      {"pairs", points_json(pairs, options)}};
  if (r.pairs == 0) {
    out["note"] = no_pairs_note(a, sa.keys.size(), b, sb.keys.size());
  } else if (!r.undefined_reason.empty()) {
    out["note"] = r.undefined_reason;
  }
  return out;
}

}  // namespace nds::reports
