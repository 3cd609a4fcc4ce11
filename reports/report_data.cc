#include "reports/report_data.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>

#include "analysis/bootstrap.h"
#include "analysis/edf.h"
#include "analysis/ks.h"
#include "analysis/normalized_edf.h"
#include "analysis/random.h"
#include "analysis/stats.h"
#include "analysis/trend.h"
#include "analysis/width_fit.h"
#include "reports/paired.h"
#include "reports/sampling.h"
#include "reports/sweep_data.h"

namespace nds::reports {
namespace {

using json = nlohmann::json;

constexpr int kTrendBins = 10;
constexpr int kMaxRandomSearchM = 1024;
constexpr double kZeroFit = 1e-9;  // e_fit below this counts as an exact fit
// Seed offsets so the subsamples and the bootstrap draw unrelated streams.
constexpr uint64_t kBootstrapStream = 0;
constexpr uint64_t kPointsStream = 0x5ca77e4ull;
constexpr uint64_t kFitStream = 0xf17ull;
constexpr uint64_t kPairedStream = 0x9a1dull;
// Resamples of the paired rank-correlation intervals: each costs a sort of
// the pairs, so far fewer than the good ranges' B.
constexpr int kPairedResamples = 2000;

json num(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string state_summary(const store::StateCounts& c) {
  return std::to_string(c[store::TrialState::kComplete]) + " COMPLETE, " +
         std::to_string(c[store::TrialState::kFailed]) + " FAILED, " +
         std::to_string(c[store::TrialState::kDiverged]) + " DIVERGED, " +
         std::to_string(c[store::TrialState::kRunning]) + " RUNNING, " +
         std::to_string(c[store::TrialState::kWaiting]) + " WAITING";
}

std::string no_models_note(const SweepData& d) {
  return "no completed models in sweep '" + d.summary.name + "' (" +
         state_summary(d.summary.counts) + ")";
}

// The EDF's steps: one point per distinct error, F taken just above it,
// thinned to at most max_points evenly spaced in rank (ends kept).
json edf_json(const analysis::Edf& edf, size_t max_points) {
  const auto& e = edf.sorted_errors();
  const auto& cum = edf.cumulative();
  std::vector<size_t> last;  // the last index of each run of equal errors
  for (size_t i = 0; i < e.size(); ++i)
    if (i + 1 == e.size() || e[i + 1] != e[i]) last.push_back(i);
  const std::vector<size_t> keep = even_subset(last.size(), max_points);
  json errors = json::array(), cdf = json::array();
  for (size_t k : keep) {
    errors.push_back(e[last[k]]);
    cdf.push_back(cum[last[k] + 1]);
  }
  return {{"errors", std::move(errors)},
          {"cdf", std::move(cdf)},
          {"total", e.size()},
          {"downsampled", keep.size() < last.size()}};
}

json error_summary(const std::vector<double>& errors) {
  if (errors.empty()) return nullptr;
  const analysis::Summary s = analysis::summarize(errors);
  return {{"min", s.min},   {"p25", s.p25}, {"median", s.median}, {"p75", s.p75},
          {"mean", s.mean}, {"std", s.std}, {"max", s.max}};
}

json random_search_json(const analysis::Edf& edf) {
  const int max_m =
      static_cast<int>(std::min<size_t>(edf.size(), static_cast<size_t>(kMaxRandomSearchM)));
  json out = json::array();
  for (const auto& p : analysis::random_search_efficiency(edf, std::max(1, max_m))) {
    out.push_back({{"m", p.m},
                   {"expected_best", p.expected_best},
                   {"p25", p.best_p25},
                   {"median", p.best_median},
                   {"p75", p.best_p75}});
  }
  return out;
}

// The complexity range and bins of the normalized EDFs: the flops range every
// compared sweep with models covers.
struct NormalizedPlan {
  bool ok = false;
  std::string note;
  double lo = 0;
  double hi = 0;
};

NormalizedPlan plan_normalized(const std::vector<const SweepData*>& sweeps) {
  NormalizedPlan plan;
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  int with_models = 0;
  for (const SweepData* d : sweeps) {
    if (d->size() == 0) continue;
    ++with_models;
    const auto [mn, mx] = std::minmax_element(d->flops.begin(), d->flops.end());
    if (!(*mn > 0)) {
      plan.note = "sweep '" + d->summary.name + "' has a model with flops <= 0";
      return plan;
    }
    lo = std::max(lo, *mn);
    hi = std::min(hi, *mx);
  }
  if (with_models == 0) {
    plan.note = "no completed models";
    return plan;
  }
  if (!(lo < hi)) {
    plan.note = with_models == 1
                    ? "every model has the same flops: nothing to normalize over"
                    : "the compared sweeps' flops ranges do not overlap (or meet in one point)";
    return plan;
  }
  plan.ok = true;
  plan.lo = lo;
  plan.hi = hi;
  return plan;
}

struct SweepAnalysis {
  std::optional<analysis::Edf> edf;
  std::optional<analysis::NormalizedEdf> normalized;
  std::string normalized_note;
};

void normalize(const SweepData& d, const NormalizedPlan& plan, int bins, SweepAnalysis& a) {
  if (d.size() == 0) {
    a.normalized_note = no_models_note(d);
    return;
  }
  if (!plan.ok) {
    a.normalized_note = plan.note;
    return;
  }
  size_t in_range = 0;
  for (double f : d.flops) in_range += f >= plan.lo && f <= plan.hi;
  if (in_range < static_cast<size_t>(bins)) {
    a.normalized_note = std::to_string(bins) + " flops bins need at least " + std::to_string(bins) +
                        " models in the shared range; sweep '" + d.summary.name + "' has " +
                        std::to_string(in_range);
    return;
  }
  try {
    a.normalized = analysis::normalized_edf(d.errors, d.flops, {plan.lo, plan.hi, bins});
  } catch (const std::invalid_argument& e) {
    a.normalized_note = e.what();
  }
}

json normalized_json(const SweepAnalysis& a, int bins, const NormalizedPlan& plan,
                     size_t max_points) {
  if (!a.normalized) return {{"note", a.normalized_note}};
  const auto& w = a.normalized->weights;
  json out = edf_json(a.normalized->edf, max_points);
  out["measure"] = "flops";
  out["bins"] = bins;
  out["range"] = json::array({plan.lo, plan.hi});
  out["edges"] = w.edges;
  out["counts"] = w.counts;
  out["empty_bins"] = w.empty_bins;
  out["dropped"] = w.num_dropped;
  out["effective_size"] = num(a.normalized->edf.effective_size());
  if (!w.empty_bins.empty()) {
    out["warning"] = std::to_string(w.empty_bins.size()) + " of " + std::to_string(bins) +
                     " flops bins hold no model; their mass is spread over the others";
  }
  return out;
}

// What the sweep trained on, from its recipe: an image folder's name, else
// the source ("fashion-mnist"); null when the recipe does not say.
json dataset_of(const json& recipe) {
  if (!recipe.is_object() || !recipe.contains("data") || !recipe["data"].is_object())
    return nullptr;
  const json& d = recipe["data"];
  for (const char* key : {"dataset", "source"})
    if (d.contains(key) && d[key].is_string()) return d[key];
  return nullptr;
}

json sweep_json(const SweepData& d, const SweepAnalysis& a, const ReportOptions& o,
                const NormalizedPlan& plan) {
  const store::SweepSummary& s = d.summary;
  const store::StateCounts& c = s.counts;
  json out = {
      {"name", s.name},
      {"family", s.family},
      {"parent", s.parent.empty() ? json(nullptr) : json(s.parent)},
      {"space", d.space},
      {"recipe", d.recipe},
      {"data", dataset_of(d.recipe)},
      {"seed", s.seed},
      {"created_at", num(s.created_at)},
      {"finished_at", num(s.finished_at)},
      {"counts",
       {{"WAITING", c[store::TrialState::kWaiting]},
        {"RUNNING", c[store::TrialState::kRunning]},
        {"COMPLETE", c[store::TrialState::kComplete]},
        {"FAILED", c[store::TrialState::kFailed]},
        {"DIVERGED", c[store::TrialState::kDiverged]}}},
      {"n", d.size()},
      {"n_references", d.references.size()},
      {"error", error_summary(d.errors)},
  };
  if (a.edf) {
    out["edf"] = edf_json(*a.edf, o.max_points);
    out["random_search"] = random_search_json(*a.edf);
  } else {
    out["edf"] = {{"errors", json::array()},
                  {"cdf", json::array()},
                  {"total", 0},
                  {"note", no_models_note(d)}};
    out["random_search"] = json::array();
  }
  out["normalized_edf"] = normalized_json(a, o.normalized_bins, plan, o.max_points);
  return out;
}

const char* p_method(const analysis::KsResult& ks) {
  return ks.exact ? "exact" : "asymptotic";
}

json ks_json(const SweepData& a, const SweepAnalysis& aa, const SweepData& b,
             const SweepAnalysis& ba) {
  json row = {{"a", a.summary.name},     {"b", b.summary.name},    {"n_a", a.size()},
              {"n_b", b.size()},         {"d", nullptr},           {"p", nullptr},
              {"d_normalized", nullptr}, {"p_normalized", nullptr}};
  if (!aa.edf || !ba.edf) {
    row["note"] = !aa.edf ? no_models_note(a) : no_models_note(b);
    row["note_normalized"] = row["note"];
    return row;
  }
  const analysis::KsResult ks = analysis::ks_2samp(*aa.edf, *ba.edf);
  row["d"] = num(ks.statistic);
  row["p"] = num(ks.p_value);
  row["p_method"] = p_method(ks);
  row["location"] = num(ks.location);
  if (aa.normalized && ba.normalized) {
    const analysis::KsResult kn = analysis::ks_2samp(aa.normalized->edf, ba.normalized->edf);
    row["d_normalized"] = num(kn.statistic);
    row["p_normalized"] = num(kn.p_value);
    row["p_normalized_method"] = p_method(kn);
    row["n_eff_normalized"] = num(kn.n_eff);
  } else {
    row["note_normalized"] = !aa.normalized ? aa.normalized_note : ba.normalized_note;
  }
  return row;
}

json point_list(const std::vector<size_t>& keep, const std::vector<double>& values,
                const std::vector<double>& errors) {
  json out = json::array();
  for (size_t i : keep) out.push_back(json::array({values[i], errors[i]}));
  return out;
}

json parameter_json(const ParamColumn& c, const SweepData& d, const std::vector<size_t>& keep,
                    const std::vector<size_t>* best, const analysis::BootstrapOptions& bo) {
  json p = {{"name", c.name},
            {"log_scale", c.log_scale},
            {"space_range", c.space_range},
            {"points", point_list(keep, c.values, d.errors)}};
  if (!c.space_key.empty()) p["space_key"] = c.space_key;
  if (c.stage >= 0) p["stage"] = c.stage + 1;
  if (c.shared) p["shared"] = true;
  if (best) {
    const analysis::GoodRange g = analysis::good_range(*best, c.values, bo);
    p["good_range"] = {{"low", g.low}, {"median", g.median}, {"high", g.high}};
  } else {
    p["good_range"] = nullptr;
    p["note"] = d.size() == 0 ? no_models_note(d)
                              : "the bootstrap needs at least 2 completed models, sweep '" +
                                    d.summary.name + "' has " + std::to_string(d.size());
  }
  json trend = json::array();
  if (d.size() > 0) {
    analysis::TrendOptions to;
    to.num_bins = kTrendBins;
    to.log_scale = c.log_scale;
    for (const auto& b : analysis::error_trend(c.values, d.errors, to)) {
      trend.push_back({{"lo", b.lo},
                       {"hi", b.hi},
                       {"count", b.count},
                       {"mean", b.count ? json(b.mean) : json(nullptr)},
                       {"std", b.count ? json(b.std) : json(nullptr)}});
    }
  }
  p["trend"] = std::move(trend);
  return p;
}

json epochs_json(const std::vector<store::EpochMetrics>& epochs) {
  json out = json::array();
  for (const auto& e : epochs) {
    out.push_back({{"epoch", e.epoch},
                   {"train_loss", num(e.train_loss)},
                   {"train_top1_err", num(e.train_top1_err)},
                   {"test_top1_err", num(e.test_top1_err)},
                   {"test_top5_err", num(e.test_top5_err)},
                   {"lr", num(e.lr)},
                   {"seconds", num(e.seconds)}});
  }
  return out;
}

// The rule over a model's widths: RegNet's own parameters (exact by
// construction), or the best fit for an AnyNet model.
json fit_json(const SweepData& d, size_t i, const std::vector<int>& widths) {
  if (widths.empty()) return nullptr;
  if (d.summary.family == "regnet") {
    const ModelShape& s = d.shapes[i];
    return {{"w_0", static_cast<int64_t>(std::llround(s.w_0))},
            {"w_a", s.w_a},
            {"w_m", s.w_m},
            {"widths", widths},
            {"e_fit", 0.0},
            {"exact", true}};
  }
  const analysis::WidthFit f = analysis::fit_widths(widths);
  return {{"w_0", f.w_0},       {"w_a", f.w_a},     {"w_m", f.w_m},
          {"widths", f.fitted}, {"e_fit", f.e_fit}, {"exact", f.e_fit < kZeroFit}};
}

json model_json(const store::Reader& reader, const SweepData& d, size_t i) {
  const std::vector<int> widths = block_widths(d, i);
  json fp = json::parse(d.params_json[i], nullptr, false);
  if (fp.is_discarded()) fp = nullptr;
  return {{"sample_index", d.sample_index[i]},
          {"hash", d.hashes[i]},
          {"error", d.errors[i]},
          {"flops", d.flops[i]},
          {"params", d.params[i]},
          {"acts", d.acts[i]},
          {"family_params", std::move(fp)},
          {"widths", widths.empty() ? json(nullptr) : json(widths)},
          {"fit", fit_json(d, i, widths)},
          {"epochs", epochs_json(reader.epochs(d.trial_id[i]))}};
}

json models_json(const store::Reader& reader, const SweepData& d, int top) {
  std::vector<size_t> order(d.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (d.errors[a] != d.errors[b]) return d.errors[a] < d.errors[b];
    return d.sample_index[a] < d.sample_index[b];
  });
  const size_t k = std::min(order.size(), static_cast<size_t>(std::max(top, 0)));
  json best = json::array(), worst = json::array();
  for (size_t r = 0; r < k; ++r) best.push_back(model_json(reader, d, order[r]));
  for (size_t r = 0; r < k; ++r)
    worst.push_back(model_json(reader, d, order[order.size() - 1 - r]));
  json out = {{"best", std::move(best)}, {"worst", std::move(worst)}};
  if (d.size() == 0) out["note"] = no_models_note(d);
  return out;
}

json e_fit_json(const SweepData& d, const ReportOptions& o) {
  const std::string& family = d.summary.family;
  if (d.size() == 0) return {{"note", no_models_note(d)}};
  if (family != "regnet" && family != "anynet")
    return {{"note", "per-block width fits apply to anynet and regnet models, not " + family}};
  const std::vector<size_t> pick =
      random_subset(d.size(), std::max<size_t>(o.max_fit_models, 1), o.seed + kFitStream);
  std::vector<double> values;
  values.reserve(pick.size());
  for (size_t i : pick) {
    const std::vector<int> widths = block_widths(d, i);
    if (widths.empty()) continue;
    // RegNet widths follow the rule exactly, by construction: no search.
    values.push_back(family == "regnet" ? 0.0 : analysis::fit_widths(widths).e_fit);
  }
  if (values.empty()) return {{"note", "no model has per-block widths to fit"}};
  std::sort(values.begin(), values.end());
  const analysis::Summary s = analysis::summarize(values);
  const auto zeros =
      std::count_if(values.begin(), values.end(), [](double v) { return v < kZeroFit; });
  json out = {{"values", values},
              {"count", values.size()},
              {"total", d.size()},
              {"sampled", pick.size() < d.size()},
              {"min", s.min},
              {"p25", s.p25},
              {"median", s.median},
              {"p75", s.p75},
              {"max", s.max},
              {"mean", s.mean},
              {"zero_fraction", static_cast<double>(zeros) / static_cast<double>(values.size())},
              {"by_construction", family == "regnet"}};
  return out;
}

void check_options(const ReportOptions& o) {
  if (o.bootstrap_resamples < 1)
    throw std::invalid_argument("bootstrap resamples must be >= 1, got " +
                                std::to_string(o.bootstrap_resamples));
  if (o.normalized_bins < 1)
    throw std::invalid_argument("normalized EDF bins must be >= 1, got " +
                                std::to_string(o.normalized_bins));
  if (o.max_points < 2)
    throw std::invalid_argument("max points must be >= 2, got " + std::to_string(o.max_points));
  if (o.top_models < 0)
    throw std::invalid_argument("top models must be >= 0, got " + std::to_string(o.top_models));
}

// The error-vs-complexity scatter: the models in `keep`.
json scatter_json(const SweepData& main, const std::vector<size_t>& keep) {
  json points = json::array();
  for (size_t i : keep) {
    points.push_back({{"flops", main.flops[i]},
                      {"params", main.params[i]},
                      {"acts", main.acts[i]},
                      {"error", main.errors[i]},
                      {"sample_index", main.sample_index[i]}});
  }
  return {{"total", main.size()}, {"points", std::move(points)}};
}

// The reference models, each with its percentile in the sweep's EDF.
json references_json(const SweepData& main, const SweepAnalysis& an) {
  json refs = json::array();
  for (const ReferenceModel& r : main.references) {
    refs.push_back({{"name", r.name},
                    {"sample_index", r.sample_index},
                    {"flops", r.flops},
                    {"params", r.params},
                    {"acts", r.acts},
                    {"error", r.error},
                    {"percentile", an.edf ? json(100.0 * (*an.edf)(r.error)) : json(nullptr)}});
  }
  return refs;
}

// "parameters" (each column's points, trend and bootstrap good range) and
// "bootstrap" (how the good ranges were found).
void add_parameters(json& doc, const SweepData& main, const std::vector<ParamColumn>& params,
                    const std::vector<size_t>& keep, const ReportOptions& options) {
  analysis::BootstrapOptions bo;
  bo.num_resamples = options.bootstrap_resamples;
  bo.seed = options.seed + kBootstrapStream;
  std::optional<std::vector<size_t>> best;
  if (main.size() >= 2) best = analysis::bootstrap_best_models(main.errors, bo);
  json parameters = json::array();
  for (const ParamColumn& c : params)
    parameters.push_back(parameter_json(c, main, keep, best ? &*best : nullptr, bo));
  doc["parameters"] = std::move(parameters);
  doc["bootstrap"] = {{"resamples", options.bootstrap_resamples},
                      {"fraction", bo.fraction},
                      {"low_percentile", bo.low_percentile},
                      {"high_percentile", bo.high_percentile},
                      {"seed", options.seed}};
}

// One paired comparison per compared sweep: sweeps[0] against it.
json paired_rows(const std::vector<SweepData>& data, const ReportOptions& options) {
  PairedOptions po;
  po.max_points = options.max_points;
  po.num_resamples = kPairedResamples;
  po.seed = options.seed + kPairedStream;
  json rows = json::array();
  for (size_t k = 1; k < data.size(); ++k) rows.push_back(paired_json(data[0], data[k], po));
  return rows;
}

}  // namespace

nlohmann::json build_report(const store::Reader& reader, const std::string& sweep,
                            const ReportOptions& options) {
  check_options(options);
  json doc;
  reader.snapshot([&] {
    std::vector<SweepData> data;
    data.push_back(load_sweep(reader, sweep));
    for (const std::string& other : options.compare) data.push_back(load_sweep(reader, other));
    std::vector<const SweepData*> ptrs;
    for (const SweepData& d : data) ptrs.push_back(&d);

    std::vector<SweepAnalysis> an(data.size());
    const NormalizedPlan plan = plan_normalized(ptrs);
    for (size_t k = 0; k < data.size(); ++k) {
      if (data[k].size() > 0) an[k].edf.emplace(data[k].errors);
      normalize(data[k], plan, options.normalized_bins, an[k]);
    }
    const SweepData& main = data[0];
    json notes = json::array();
    for (const SweepData& d : data)
      if (d.size() == 0) notes.push_back(no_models_note(d));

    doc["nds_version"] =
        options.nds_version.empty() ? main.summary.nds_version : options.nds_version;
    doc["generated_at"] = utc_now();
    json sweeps = json::array();
    for (size_t k = 0; k < data.size(); ++k)
      sweeps.push_back(sweep_json(data[k], an[k], options, plan));
    doc["sweeps"] = std::move(sweeps);

    json ks = json::array();
    for (size_t k = 1; k < data.size(); ++k) ks.push_back(ks_json(main, an[0], data[k], an[k]));
    doc["ks"] = std::move(ks);
    doc["paired"] = paired_rows(data, options);

    // One subset of models for every scatter, keeping each axis's extremes.
    std::vector<ParamColumn> params = main.columns;
    for (ParamColumn& m : measure_columns(main)) params.push_back(std::move(m));
    std::vector<const std::vector<double>*> axes = {&main.errors};
    for (const ParamColumn& c : params) axes.push_back(&c.values);
    const std::vector<size_t> keep = subset_keeping_extremes(main.size(), options.max_points, axes,
                                                             options.seed + kPointsStream);
    doc["scatter"] = scatter_json(main, keep);
    doc["references"] = references_json(main, an[0]);
    add_parameters(doc, main, params, keep, options);
    doc["models"] = models_json(reader, main, options.top_models);
    doc["e_fit"] = e_fit_json(main, options);
    doc["notes"] = std::move(notes);
  });
  return doc;
}

}  // namespace nds::reports
