// The report document and space refinement, on small synthetic databases of
// real sampled models (sampler/) with deterministic synthetic errors; every
// number is checked against analysis/ computed directly.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/bootstrap.h"
#include "analysis/edf.h"
#include "analysis/ks.h"
#include "analysis/normalized_edf.h"
#include "analysis/rank_agreement.h"
#include "analysis/stats.h"
#include "analysis/trend.h"
#include "analysis/width_fit.h"
#include "reports/paired.h"
#include "reports/refine.h"
#include "reports/report_data.h"
#include "reports/sampling.h"
#include "sampler/builtin_spaces.h"
#include "sampler/design_space.h"
#include "sampler/hash.h"
#include "sampler/sampler.h"
#include "space/net_spec.h"
#include "store/reader.h"
#include "store/store.h"
#include "tests/reports_db_testing.h"
#include "tests/store_testing.h"

namespace nds::reports {
namespace {

using json = nlohmann::json;
using store::testing::ScratchDir;
using testing::add_sweep;
using testing::b_violation;
using testing::kReferenceError;
using testing::Outcome;
using testing::regnet_error;

// Every number in the document is finite (NaN would be dumped as null, but
// catch it at the source too).
void expect_all_finite(const json& j, const std::string& path = "$") {
  if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>())) << path;
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) expect_all_finite(v, path + "." + k);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      expect_all_finite(j[i], path + "[" + std::to_string(i) + "]");
  }
}

// The element of the array `list` whose `key` is `value`; a failure when none is.
const json& element(const json& list, const char* key, const std::string& value) {
  for (const json& e : list)
    if (e[key] == value) return e;
  static const json none;
  ADD_FAILURE() << "no element with " << key << " = " << value;
  return none;
}

const json& param(const json& doc, const std::string& name) {
  return element(doc["parameters"], "name", name);
}

std::vector<double> column(const json& fps, const char* key) {
  std::vector<double> out;
  for (const json& p : fps) out.push_back(p[key].get<double>());
  return out;
}

class ReportDataTest : public ::testing::Test {
 protected:
  ScratchDir dir_;
  std::string db_ = dir_.file("r.db");
};

TEST_F(ReportDataTest, RegnetDocumentMatchesAnalysis) {
  std::vector<double> errors;
  {
    store::Store st(db_);
    errors = add_sweep(st, {"rx", "regnet_x_cifar", 60, 3, regnet_error, {"resnet18", "resnet34"}});
  }
  store::Reader reader(db_);
  ReportOptions o;
  o.bootstrap_resamples = 500;
  o.normalized_bins = 4;
  o.seed = 9;
  const json doc = build_report(reader, "rx", o);
  expect_all_finite(doc);
  const json& s = doc["sweeps"][0];
  EXPECT_EQ(s["name"], "rx");
  EXPECT_EQ(s["family"], "regnet");
  EXPECT_EQ(s["n"], 60);  // the 2 references are not samples
  EXPECT_EQ(s["n_references"], 2);
  EXPECT_EQ(s["counts"]["COMPLETE"], 62);
  EXPECT_TRUE(s["parent"].is_null());

  const analysis::Edf edf(errors);
  const analysis::Summary sum = analysis::summarize(errors);
  EXPECT_DOUBLE_EQ(s["error"]["min"].get<double>(), sum.min);
  EXPECT_DOUBLE_EQ(s["error"]["median"].get<double>(), sum.median);
  EXPECT_DOUBLE_EQ(s["error"]["mean"].get<double>(), sum.mean);
  EXPECT_DOUBLE_EQ(s["error"]["max"].get<double>(), sum.max);
  // EDF steps: each distinct error once, F just above it.
  const auto& e = s["edf"]["errors"];
  const auto& cdf = s["edf"]["cdf"];
  ASSERT_EQ(e.size(), cdf.size());
  EXPECT_GT(e[0].get<double>(), kReferenceError);
  for (size_t i = 0; i < e.size(); ++i)
    EXPECT_DOUBLE_EQ(cdf[i].get<double>(), edf(std::nextafter(e[i].get<double>(), INFINITY)));
  EXPECT_DOUBLE_EQ(cdf.back().get<double>(), 1.0);
  const auto rs = analysis::random_search_efficiency(edf, 60);
  ASSERT_EQ(s["random_search"].size(), rs.size());
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(s["random_search"][i]["m"], rs[i].m);
    EXPECT_DOUBLE_EQ(s["random_search"][i]["expected_best"].get<double>(), rs[i].expected_best);
  }

  // Good ranges: the same bootstrap as analysis/ run directly.
  analysis::BootstrapOptions bo;
  bo.num_resamples = 500;
  bo.seed = 9;
  const auto best = analysis::bootstrap_best_models(errors, bo);
  store::TrialQuery q;
  q.state = store::TrialState::kComplete;
  std::vector<double> w0_col, depth_col;
  for (const auto& t : reader.trials("rx", q)) {
    if (!t.reference.empty()) continue;
    w0_col.push_back(t.w_0);
    depth_col.push_back(static_cast<double>(*t.depth));
  }
  const analysis::GoodRange g = analysis::good_range(best, w0_col, bo);
  const json& pw = param(doc, "w_0");
  EXPECT_DOUBLE_EQ(pw["good_range"]["low"].get<double>(), g.low);
  EXPECT_DOUBLE_EQ(pw["good_range"]["median"].get<double>(), g.median);
  EXPECT_DOUBLE_EQ(pw["good_range"]["high"].get<double>(), g.high);
  EXPECT_TRUE(pw["log_scale"].get<bool>());
  EXPECT_EQ(pw["space_range"], json::array({8.0, 256.0}));
  // The error is smallest at w_0 = 48: the good range holds the best w_0.
  const double best_w0 =
      w0_col[static_cast<size_t>(std::min_element(errors.begin(), errors.end()) - errors.begin())];
  EXPECT_LE(pw["good_range"]["low"].get<double>(), best_w0);
  EXPECT_GE(pw["good_range"]["high"].get<double>(), best_w0);
  analysis::TrendOptions to;
  to.num_bins = 10;
  to.log_scale = false;
  const auto trend = analysis::error_trend(depth_col, errors, to);
  const json& pd = param(doc, "depth");
  ASSERT_EQ(pd["trend"].size(), trend.size());
  for (size_t i = 0; i < trend.size(); ++i) {
    EXPECT_EQ(pd["trend"][i]["count"], trend[i].count);
    if (trend[i].count) {
      EXPECT_DOUBLE_EQ(pd["trend"][i]["mean"].get<double>(), trend[i].mean);
    }
  }
  for (const char* name : {"w_a", "w_m", "group_width", "flops", "params", "acts"})
    EXPECT_FALSE(param(doc, name)["good_range"].is_null()) << name;
  EXPECT_EQ(param(doc, "flops")["space_range"], json::array({0.0, 130e6}));

  // References: listed with their EDF percentile, never in the EDF.
  ASSERT_EQ(doc["references"].size(), 2u);
  EXPECT_EQ(doc["references"][0]["name"], "resnet18");
  EXPECT_DOUBLE_EQ(doc["references"][0]["error"].get<double>(), kReferenceError);
  EXPECT_DOUBLE_EQ(doc["references"][0]["percentile"].get<double>(), 100 * edf(kReferenceError));
  EXPECT_EQ(doc["scatter"]["total"], 60);
  EXPECT_EQ(doc["scatter"]["points"].size(), 60u);

  // Best and worst models, with their widths (the rule's, exact).
  ASSERT_EQ(doc["models"]["best"].size(), 5u);
  const json& b0 = doc["models"]["best"][0];
  EXPECT_DOUBLE_EQ(b0["error"].get<double>(), sum.min);
  EXPECT_DOUBLE_EQ(doc["models"]["worst"][0]["error"].get<double>(), sum.max);
  const json& fp = b0["family_params"];
  const auto widths =
      analysis::quantized_linear_widths(fp["w_a"].get<double>(), fp["w_0"].get<int>(),
                                        fp["w_m"].get<double>(), fp["depth"].get<int>());
  EXPECT_EQ(b0["widths"].get<std::vector<int>>(), widths);
  EXPECT_EQ(b0["fit"]["e_fit"], 0.0);
  EXPECT_EQ(b0["epochs"].size(), 2u);
  EXPECT_EQ(doc["e_fit"]["zero_fraction"], 1.0);
  EXPECT_EQ(doc["e_fit"]["count"], 60);

  // Normalized EDF over the sweep's own flops range, K = 4.
  const json& ne = s["normalized_edf"];
  ASSERT_FALSE(ne.contains("note") && !ne.contains("errors")) << ne.dump();
  std::vector<double> flops;
  for (const auto& t : reader.trials("rx", q))
    if (t.reference.empty()) flops.push_back(static_cast<double>(t.flops));
  const auto [fmin, fmax] = std::minmax_element(flops.begin(), flops.end());
  const auto nedf = analysis::normalized_edf(errors, flops, {*fmin, *fmax, 4});
  EXPECT_EQ(ne["bins"], 4);
  EXPECT_DOUBLE_EQ(ne["errors"][0].get<double>(), nedf.edf.sorted_errors()[0]);
  EXPECT_DOUBLE_EQ(ne["effective_size"].get<double>(), nedf.edf.effective_size());
}

TEST_F(ReportDataTest, ComparesSweepsByKs) {
  std::vector<double> a, b;
  {
    store::Store st(db_);
    a = add_sweep(st, {"a", "regnet_x_cifar", 50, 1, regnet_error});
    b = add_sweep(st, {"b",
                       "regnet_x_cifar",
                       45,
                       2,
                       [](const json& p, size_t i) { return regnet_error(p, i) + 1.5; },
                       {},
                       Outcome::kComplete,
                       "a"});
  }
  store::Reader reader(db_);
  ReportOptions o;
  o.compare = {"b"};
  o.bootstrap_resamples = 100;
  o.normalized_bins = 3;
  const json doc = build_report(reader, "a", o);
  expect_all_finite(doc);
  ASSERT_EQ(doc["sweeps"].size(), 2u);
  EXPECT_EQ(doc["sweeps"][1]["name"], "b");
  EXPECT_EQ(doc["sweeps"][1]["parent"], "a");
  ASSERT_EQ(doc["ks"].size(), 1u);
  const json& k = doc["ks"][0];
  const analysis::KsResult ks = analysis::ks_2samp(a, b);
  EXPECT_EQ(k["a"], "a");
  EXPECT_EQ(k["b"], "b");
  EXPECT_DOUBLE_EQ(k["d"].get<double>(), ks.statistic);
  EXPECT_DOUBLE_EQ(k["p"].get<double>(), ks.p_value);
  EXPECT_TRUE(ks.exact);  // two small unweighted samples
  EXPECT_EQ(k["p_method"], "exact");
  EXPECT_TRUE(k["p_normalized_method"] == "exact" || k["p_normalized_method"] == "asymptotic")
      << k.dump();
  EXPECT_TRUE(k["d_normalized"].is_number()) << k.dump();
  // Both normalized EDFs use the flops range the two sweeps share.
  EXPECT_EQ(doc["sweeps"][0]["normalized_edf"]["range"],
            doc["sweeps"][1]["normalized_edf"]["range"]);

  EXPECT_THROW(build_report(reader, "nope"), std::invalid_argument);
  ReportOptions bad;
  bad.compare = {"missing"};
  try {
    build_report(reader, "a", bad);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

TEST_F(ReportDataTest, SweepsWithoutCompletedModelsStillGiveADocument) {
  {
    store::Store st(db_);
    add_sweep(st, {"waiting", "regnet_x_cifar", 6, 0, regnet_error, {}, Outcome::kNone});
    add_sweep(st, {"failed", "regnet_x_cifar", 6, 1, regnet_error, {}, Outcome::kFailed});
    add_sweep(st, {"few", "regnet_x_cifar", 5, 2, regnet_error});
    add_sweep(st, {"one", "regnet_x_cifar", 1, 4, regnet_error});
  }
  store::Reader reader(db_);
  for (const char* name : {"waiting", "failed"}) {
    SCOPED_TRACE(name);
    ReportOptions o;
    o.compare = {"few"};
    const json doc = build_report(reader, name, o);
    expect_all_finite(doc);
    const json& s = doc["sweeps"][0];
    EXPECT_EQ(s["n"], 0);
    EXPECT_TRUE(s["error"].is_null());
    EXPECT_TRUE(s["edf"]["errors"].empty());
    EXPECT_NE(s["edf"]["note"].get<std::string>().find("no completed models"), std::string::npos);
    EXPECT_TRUE(s["normalized_edf"].contains("note"));
    EXPECT_FALSE(doc["notes"].empty());
    EXPECT_TRUE(doc["ks"][0]["d"].is_null());
    EXPECT_TRUE(doc["ks"][0].contains("note"));
    EXPECT_TRUE(doc["e_fit"].contains("note"));
    EXPECT_TRUE(doc["models"]["best"].empty());
    for (const json& p : doc["parameters"]) {
      EXPECT_TRUE(p["good_range"].is_null());
      EXPECT_TRUE(p.contains("note"));
    }
  }
  EXPECT_EQ(build_report(reader, "failed")["sweeps"][0]["counts"]["FAILED"], 6);

  // K = 10 bins over 5 models: the normalized EDF says why it is missing.
  const json few = build_report(reader, "few");
  expect_all_finite(few);
  EXPECT_EQ(few["sweeps"][0]["n"], 5);
  const std::string note = few["sweeps"][0]["normalized_edf"]["note"].get<std::string>();
  EXPECT_NE(note.find("10 flops bins"), std::string::npos) << note;
  EXPECT_FALSE(param(few, "w_0")["good_range"].is_null());

  // One model: no bootstrap, no normalization, but its EDF and numbers.
  const json one = build_report(reader, "one");
  expect_all_finite(one);
  EXPECT_EQ(one["sweeps"][0]["n"], 1);
  EXPECT_EQ(one["sweeps"][0]["edf"]["cdf"], json::array({1.0}));
  EXPECT_TRUE(param(one, "w_0")["good_range"].is_null());
  EXPECT_NE(param(one, "w_0")["note"].get<std::string>().find("at least 2"), std::string::npos);
}

TEST_F(ReportDataTest, AnynetDocumentFitsWidths) {
  {
    store::Store st(db_);
    add_sweep(st, {"ax", "anynet_x_a_cifar", 30, 5,
                   [](const json& p, size_t i) { return 20 + b_violation(p) + 0.1 * (i % 7); }});
  }
  store::Reader reader(db_);
  ReportOptions o;
  o.bootstrap_resamples = 200;
  o.max_fit_models = 12;
  const json doc = build_report(reader, "ax", o);
  expect_all_finite(doc);
  for (const char* name : {"d_1", "d_4", "w_1", "w_4", "b_2", "g_3"}) {
    const json& p = param(doc, name);
    EXPECT_FALSE(p["good_range"].is_null()) << name;
    EXPECT_TRUE(p["log_scale"].get<bool>()) << name;
  }
  EXPECT_EQ(param(doc, "w_2")["space_range"], json::array({8.0, 1024.0}));
  EXPECT_EQ(param(doc, "w_2")["stage"], 2);
  const json& f = doc["e_fit"];
  EXPECT_EQ(f["count"], 12);
  EXPECT_EQ(f["total"], 30);
  EXPECT_TRUE(f["sampled"].get<bool>());
  EXPECT_FALSE(f["by_construction"].get<bool>());
  EXPECT_LT(f["zero_fraction"].get<double>(), 1.0);  // AnyNetX_A breaks the rule
  const json& m = doc["models"]["best"][0];
  std::vector<int> widths;
  const json& fp = m["family_params"];
  for (size_t s = 0; s < fp["depths"].size(); ++s)
    widths.insert(widths.end(), fp["depths"][s].get<size_t>(), fp["widths"][s].get<int>());
  EXPECT_EQ(m["widths"].get<std::vector<int>>(), widths);
  const analysis::WidthFit fit = analysis::fit_widths(widths);
  EXPECT_DOUBLE_EQ(m["fit"]["e_fit"].get<double>(), fit.e_fit);
  EXPECT_EQ(m["fit"]["widths"].get<std::vector<int>>(), fit.fitted);
}

TEST(ReportSampling, SubsetsAreDeterministicAndKeepExtremes) {
  std::vector<double> x(1000), y(1000);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = std::sin(static_cast<double>(i) * 0.37) * 100;
    y[i] = static_cast<double>((i * 7919) % 1000);
  }
  const auto a = subset_keeping_extremes(1000, 20, {&x, &y}, 5);
  EXPECT_EQ(a, subset_keeping_extremes(1000, 20, {&x, &y}, 5));
  EXPECT_NE(a, subset_keeping_extremes(1000, 20, {&x, &y}, 6));
  EXPECT_EQ(a.size(), 20u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  const auto has = [&](size_t i) { return std::find(a.begin(), a.end(), i) != a.end(); };
  EXPECT_TRUE(has(static_cast<size_t>(std::min_element(x.begin(), x.end()) - x.begin())));
  EXPECT_TRUE(has(static_cast<size_t>(std::max_element(x.begin(), x.end()) - x.begin())));
  EXPECT_TRUE(has(static_cast<size_t>(std::min_element(y.begin(), y.end()) - y.begin())));
  EXPECT_TRUE(has(static_cast<size_t>(std::max_element(y.begin(), y.end()) - y.begin())));
  EXPECT_EQ(subset_keeping_extremes(10, 20, {&x}, 1).size(), 10u);
  const auto e = even_subset(101, 11);
  ASSERT_EQ(e.size(), 11u);
  EXPECT_EQ(e.front(), 0u);
  EXPECT_EQ(e.back(), 100u);
  EXPECT_EQ(e[5], 50u);
  EXPECT_EQ(random_subset(50, 10, 3).size(), 10u);
}

TEST_F(ReportDataTest, DownsampledScatterKeepsTheExtremes) {
  std::vector<double> errors;
  {
    store::Store st(db_);
    errors = add_sweep(st, {"rx", "regnet_x_cifar", 80, 7, regnet_error});
  }
  store::Reader reader(db_);
  ReportOptions o;
  o.max_points = 16;
  o.bootstrap_resamples = 50;
  const json doc = build_report(reader, "rx", o);
  EXPECT_EQ(doc["scatter"]["total"], 80);
  const json& pts = doc["scatter"]["points"];
  EXPECT_EQ(pts.size(), 16u);
  const auto err = column(pts, "error");
  EXPECT_DOUBLE_EQ(*std::min_element(err.begin(), err.end()),
                   *std::min_element(errors.begin(), errors.end()));
  EXPECT_DOUBLE_EQ(*std::max_element(err.begin(), err.end()),
                   *std::max_element(errors.begin(), errors.end()));
  EXPECT_EQ(param(doc, "w_0")["points"].size(), 16u);
  EXPECT_LE(doc["sweeps"][0]["edf"]["errors"].size(), 16u);
  EXPECT_EQ(doc["sweeps"][0]["edf"]["cdf"].back(), 1.0);
  EXPECT_EQ(doc, [&] {
    json again = build_report(reader, "rx", o);
    again["generated_at"] = doc["generated_at"];
    return again;
  }());
}

TEST_F(ReportDataTest, RefineNarrowsRegnetRangesAndRecordsTheParent) {
  {
    store::Store st(db_);
    add_sweep(st, {"rx", "regnet_x_cifar", 80, 11, regnet_error});
  }
  store::Reader reader(db_);
  RefineOptions o;
  o.bootstrap_resamples = 1000;
  const RefineResult r = refine_space(reader, "rx", o);
  EXPECT_EQ(r.space["parent"], "rx");
  EXPECT_EQ(r.space["name"], "rx_refined");
  EXPECT_FALSE(r.constraint.has_value());  // not an AnyNet space
  const sampler::DesignSpace space = sampler::parse_design_space(r.space, "refined");
  EXPECT_EQ(space.parent, "rx");
  EXPECT_EQ(sampler::to_json(space), r.space);  // written in the sampler's own form
  const sampler::DesignSpace old = sampler::builtin_space("regnet_x_cifar");
  const auto& w0 = space.params.at("w_0");
  EXPECT_GE(w0.low, old.params.at("w_0").low);
  EXPECT_LE(w0.high, old.params.at("w_0").high);
  EXPECT_LT(w0.high - w0.low, old.params.at("w_0").high - old.params.at("w_0").low);
  EXPECT_LE(w0.low, 48);
  EXPECT_GE(w0.high, 48);
  bool any_narrowed = false;
  for (const RangeChange& c : r.ranges) any_narrowed = any_narrowed || c.narrowed;
  EXPECT_TRUE(any_narrowed);
  for (const auto& [key, d] : space.params) {
    if (d.kind != sampler::DistKind::kInt && d.kind != sampler::DistKind::kFloat) continue;
    EXPECT_GE(d.low, old.params.at(key).low) << key;
    EXPECT_LE(d.high, old.params.at(key).high) << key;
  }
  // It draws models.
  const auto s = sampler::sample_n(space, 0, 3);
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(refine_space(reader, "rx", o).space, r.space);  // deterministic

  RefineOptions named = o;
  named.name = "next";
  EXPECT_EQ(refine_space(reader, "rx", named).space["name"], "next");
  EXPECT_THROW(refine_space(reader, "absent", o), std::invalid_argument);
}

TEST_F(ReportDataTest, RefineRefusesSweepsWithoutModels) {
  {
    store::Store st(db_);
    add_sweep(st, {"failed", "regnet_x_cifar", 4, 1, regnet_error, {}, Outcome::kFailed});
  }
  store::Reader reader(db_);
  try {
    refine_space(reader, "failed");
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("0 completed models"), std::string::npos) << e.what();
  }
}

TEST(ReportConstraint, JudgesOnConstructedData) {
  // Stage bottleneck ratios: the first half shared, the second half not.
  std::vector<std::vector<double>> values;
  std::vector<double> good, bad, flat;
  for (int i = 0; i < 60; ++i) {
    const bool shared = i % 2 == 0;
    values.push_back(shared ? std::vector<double>{2, 2, 2, 2}
                            : std::vector<double>{1, 4, 2, static_cast<double>(1 << (i % 3))});
    const double noise = 0.01 * (i % 11);
    good.push_back((shared ? 10 : 14) + noise);  // shared models are better
    bad.push_back((shared ? 14 : 10) + noise);   // shared models are worse
    flat.push_back(12 + 0.3 * (i % 13));         // no difference
  }
  const ConstraintEvidence g = judge_constraint("shared", "bottleneck_ratios", values, good);
  EXPECT_TRUE(g.judged);
  EXPECT_TRUE(g.supported) << g.reason;
  EXPECT_EQ(g.n_more, 30u);
  EXPECT_EQ(g.n_less, 30u);
  EXPECT_LT(g.median_more, g.median_less);
  const ConstraintEvidence b = judge_constraint("shared", "bottleneck_ratios", values, bad);
  EXPECT_TRUE(b.judged);
  EXPECT_FALSE(b.supported) << b.reason;
  EXPECT_LT(b.ks_p, 0.05);
  EXPECT_NE(b.reason.find("worse"), std::string::npos);
  const ConstraintEvidence f = judge_constraint("shared", "bottleneck_ratios", values, flat);
  EXPECT_TRUE(f.supported) << f.reason;  // costs nothing: take it

  // Too few models: not judged, not proposed.
  const std::vector<std::vector<double>> few(values.begin(), values.begin() + 8);
  const ConstraintEvidence n = judge_constraint(
      "shared", "bottleneck_ratios", few, std::vector<double>(good.begin(), good.begin() + 8));
  EXPECT_FALSE(n.judged);
  EXPECT_FALSE(n.supported);

  EXPECT_DOUBLE_EQ(constraint_violation("non_decreasing", {8, 16, 8, 32}), 1.0);
  EXPECT_DOUBLE_EQ(constraint_violation("non_decreasing", {8, 16, 16, 32}), 0.0);
  EXPECT_DOUBLE_EQ(constraint_violation("shared", {1, 4, 2}), 2.0);
  EXPECT_THROW(judge_constraint("sorted", "widths", values, good), std::invalid_argument);
}

TEST_F(ReportDataTest, RefineProposesTheNextAnynetConstraintOnlyWhenSupported) {
  {
    store::Store st(db_);
    // Shared bottleneck ratios help ...
    add_sweep(st, {"helps", "anynet_x_a_cifar", 60, 21, [](const json& p, size_t i) {
                     return 20 + 3 * b_violation(p) + 0.01 * (i % 7);
                   }});
    // ... or hurt.
    add_sweep(st, {"hurts", "anynet_x_a_cifar", 60, 22, [](const json& p, size_t i) {
                     return 30 - 3 * b_violation(p) + 0.01 * (i % 7);
                   }});
  }
  store::Reader reader(db_);
  RefineOptions o;
  o.bootstrap_resamples = 500;
  const RefineResult yes = refine_space(reader, "helps", o);
  ASSERT_TRUE(yes.constraint.has_value());
  EXPECT_EQ(yes.constraint->key, "bottleneck_ratios");
  EXPECT_EQ(yes.constraint->space_name, "AnyNetX_B");
  EXPECT_TRUE(yes.constraint->supported) << yes.constraint->reason;
  const sampler::DesignSpace ys = sampler::parse_design_space(yes.space, "helps_refined");
  EXPECT_EQ(ys.shared, std::vector<std::string>{"bottleneck_ratios"});
  EXPECT_EQ(ys.parent, "helps");
  EXPECT_EQ(sampler::sample_n(ys, 0, 2).size(), 2u);
  for (const auto& s : sampler::sample_n(ys, 1, 3)) EXPECT_EQ(b_violation(s.family_params), 0);

  const RefineResult no = refine_space(reader, "hurts", o);
  ASSERT_TRUE(no.constraint.has_value());
  EXPECT_EQ(no.constraint->key, "bottleneck_ratios");
  EXPECT_FALSE(no.constraint->supported) << no.constraint->reason;
  const sampler::DesignSpace ns = sampler::parse_design_space(no.space, "hurts_refined");
  EXPECT_EQ(sampler::to_json(ns), no.space);
  EXPECT_TRUE(ns.shared.empty());
  // Per-stage ranges: widths became a list of four distributions.
  EXPECT_EQ(ns.params.at("widths").kind, sampler::DistKind::kList);
  EXPECT_EQ(ns.params.at("widths").items.size(), 4u);
}

double anynet_error(const json& p, size_t i) {
  return 10 + 0.1 * static_cast<double>(p["widths"][0].get<int>() % 7) +
         0.01 * static_cast<double>(i);
}

TEST_F(ReportDataTest, RefinesAnXdSpaceTowardsXe) {
  // X_D: shared b and g, non-decreasing widths; the next step is depths.
  const auto depth_violation = [](const json& p) {
    std::vector<double> d;
    for (const json& x : p["depths"]) d.push_back(x.get<double>());
    return constraint_violation("non_decreasing", d);
  };
  {
    store::Store st(db_);
    add_sweep(st, {"xd", "anynet_x_d_cifar", 50, 31, [&](const json& p, size_t i) {
                     return 15 + 2 * depth_violation(p) + 0.01 * static_cast<double>(i % 5);
                   }});
  }
  store::Reader reader(db_);
  RefineOptions o;
  o.bootstrap_resamples = 300;
  const RefineResult r = refine_space(reader, "xd", o);
  ASSERT_TRUE(r.constraint.has_value());
  EXPECT_EQ(r.constraint->kind, "non_decreasing");
  EXPECT_EQ(r.constraint->key, "depths");
  EXPECT_EQ(r.constraint->space_name, "AnyNetX_E");
  EXPECT_TRUE(r.constraint->supported) << r.constraint->reason;
  const sampler::DesignSpace s = sampler::parse_design_space(r.space, "xd_refined");
  EXPECT_EQ(s.non_decreasing, (std::vector<std::string>{"widths", "depths"}));
  EXPECT_EQ(s.shared, (std::vector<std::string>{"bottleneck_ratios", "group_widths"}));
  for (const auto& m : sampler::sample_n(s, 0, 3)) EXPECT_EQ(depth_violation(m.family_params), 0);
  // The shared lists keep one range, the others are per stage.
  EXPECT_EQ(s.params.at("bottleneck_ratios").length, 4);
  bool per_stage = false;
  for (const RangeChange& c : r.ranges) per_stage = per_stage || c.param == "w_3";
  EXPECT_TRUE(per_stage);

  // An X_E space has no constraint left to propose.
  {
    store::Store st(db_);
    add_sweep(st, {"xe", "anynet_x_e_cifar", 12, 32, anynet_error});
  }
  const RefineResult e = refine_space(store::Reader(db_), "xe", o);
  EXPECT_FALSE(e.constraint.has_value());
  bool said = false;
  for (const std::string& n : e.notes) said = said || n.find("no AnyNetX constraint left") == 0;
  EXPECT_TRUE(said);
}

// ---- paired comparison ----

// Errors that depend on the model only (its w_0 and its index in the
// seed's stream), so a model keeps them whichever trial of a sweep it is.
double recipe_a(const json& p, size_t i) {
  return 10 + 4 * std::fabs(std::log2(p["w_0"].get<double>() / 48)) +
         0.37 * static_cast<double>(i % 11);
}
double recipe_b(const json& p, size_t i) {
  return 0.8 * recipe_a(p, i) + 1.1 * static_cast<double>((i * 7) % 5);
}

const json& paired_row(const json& doc, const std::string& b) {
  return element(doc["paired"], "b", b);
}

TEST_F(ReportDataTest, PairedComparisonPairsByHashAndMatchesRankStatistics) {
  const uint64_t seed = 5;
  {
    store::Store st(db_);
    add_sweep(st, {"short", "regnet_x_cifar", 30, seed, recipe_a});
    // Stream samples 39 down to 10: another order, 10 models "short" lacks,
    // and 20 it shares (its samples 10..29).
    testing::SweepSpec b("long", "regnet_x_cifar", 0, seed, recipe_b);
    for (size_t i = 40; i-- > 10;) b.order.push_back(i);
    add_sweep(st, b);
  }
  // The pairs by hand: stream index i of both sweeps is the same model.
  const auto samples = sampler::sample_n(sampler::builtin_space("regnet_x_cifar"), seed, 30);
  std::map<std::string, std::pair<double, double>> want;
  std::vector<double> ea, eb;
  double diff_sum = 0;
  for (size_t i = 10; i < 30; ++i) {
    ea.push_back(recipe_a(samples[i].family_params, i));
    eb.push_back(recipe_b(samples[i].family_params, i));
    want[sampler::hash_text(samples[i].hash)] = {ea.back(), eb.back()};
    diff_sum += eb.back() - ea.back();
  }
  ASSERT_EQ(want.size(), 20u) << "the 20 shared samples are distinct models";
  double ss = 0;
  for (size_t k = 0; k < ea.size(); ++k) ss += std::pow(eb[k] - ea[k] - diff_sum / 20, 2);

  store::Reader reader(db_);
  ReportOptions o;
  o.bootstrap_resamples = 100;
  o.compare = {"long"};
  o.seed = 4;
  const json doc = build_report(reader, "short", o);
  expect_all_finite(doc);
  ASSERT_EQ(doc["paired"].size(), 1u);
  const json& p = doc["paired"][0];
  EXPECT_EQ(p["a"], "short");
  EXPECT_EQ(p["n_a"], 30);
  EXPECT_EQ(p["n_b"], 30);
  EXPECT_EQ(p["n_pairs"], 20);
  EXPECT_FALSE(p.contains("note")) << p.dump();
  EXPECT_NEAR(p["spearman"]["value"].get<double>(), *analysis::spearman_rho(ea, eb), 1e-12);
  EXPECT_NEAR(p["kendall"]["value"].get<double>(), *analysis::kendall_tau_b(ea, eb), 1e-12);
  for (const char* c : {"spearman", "kendall"}) {
    EXPECT_LE(p[c]["low"].get<double>(), p[c]["value"].get<double>()) << c;
    EXPECT_GE(p[c]["high"].get<double>(), p[c]["value"].get<double>()) << c;
  }
  EXPECT_EQ(p["top_k"]["k"], 2);
  EXPECT_NEAR(p["difference"]["mean"].get<double>(), diff_sum / 20, 1e-12);
  EXPECT_NEAR(p["difference"]["sd"].get<double>(), std::sqrt(ss / 19), 1e-12);
  // Every listed pair is one model's two errors.
  ASSERT_EQ(p["pairs"]["points"].size(), 20u);
  EXPECT_EQ(p["pairs"]["downsampled"], false);
  for (const json& pt : p["pairs"]["points"]) {
    ASSERT_TRUE(want.count(pt[0].get<std::string>())) << pt;
    EXPECT_EQ(pt[1].get<double>(), want[pt[0].get<std::string>()].first);
    EXPECT_EQ(pt[2].get<double>(), want[pt[0].get<std::string>()].second);
  }
  // Deterministic for a seed; the other way round, the difference flips.
  EXPECT_EQ(build_report(reader, "short", o)["paired"], doc["paired"]);
  o.compare = {"short"};
  const json back = build_report(reader, "long", o)["paired"][0];
  EXPECT_NEAR(back["difference"]["mean"].get<double>(), -diff_sum / 20, 1e-12);
  EXPECT_NEAR(back["spearman"]["value"].get<double>(), p["spearman"]["value"].get<double>(), 1e-12);
  // Nothing compared: no paired rows.
  o.compare = {};
  EXPECT_EQ(build_report(reader, "long", o)["paired"], json::array());
}

TEST(PairedResamples, FewerPastTenThousandPairsButAtLeast200) {
  EXPECT_EQ(paired_resamples(0, 2000), 2000);
  EXPECT_EQ(paired_resamples(10000, 2000), 2000);
  EXPECT_EQ(paired_resamples(20000, 2000), 1000);
  EXPECT_EQ(paired_resamples(1000000, 2000), 200);
  EXPECT_EQ(paired_resamples(1000000, 50), 50);
}

TEST_F(ReportDataTest, PairedComparisonExplainsWhatItCannotCompute) {
  {
    store::Store st(db_);
    add_sweep(st, {"a", "regnet_x_cifar", 12, 5, recipe_a});
    add_sweep(st, {"other_seed", "regnet_x_cifar", 12, 6, recipe_b});
    add_sweep(st, {"waiting", "regnet_x_cifar", 4, 5, recipe_b, {}, Outcome::kNone});
    testing::SweepSpec two("two", "regnet_x_cifar", 0, 5, recipe_b);
    two.order = {1, 0};
    add_sweep(st, two);
    add_sweep(st, {"tied", "regnet_x_cifar", 8, 5, [](const json&, size_t) { return 50.0; }});
  }
  store::Reader reader(db_);
  ReportOptions o;
  o.bootstrap_resamples = 50;
  o.compare = {"other_seed", "waiting", "two", "tied"};
  const json doc = build_report(reader, "a", o);
  expect_all_finite(doc);
  const std::string text = doc.dump();
  EXPECT_EQ(text.find("NaN"), std::string::npos);
  EXPECT_EQ(text.find("nan"), std::string::npos);
  ASSERT_EQ(doc["paired"].size(), 4u);
  for (const json& r : doc["paired"]) {
    EXPECT_TRUE(r["spearman"].is_null()) << r.dump();
    EXPECT_TRUE(r["kendall"].is_null()) << r.dump();
    EXPECT_TRUE(r["note"].is_string()) << r.dump();
  }
  for (const char* b : {"other_seed", "waiting"}) {
    const json& r = paired_row(doc, b);
    EXPECT_EQ(r["n_pairs"], 0);
    const std::string want =
        "no models in common: no model hash was trained in both sweep 'a' "
        "(12 completed models) and sweep '" +
        std::string(b) + "'";
    EXPECT_EQ(r["note"].get<std::string>().rfind(want, 0), 0u) << r["note"];
    EXPECT_TRUE(r["difference"].is_null());
    EXPECT_TRUE(r["top_k"].is_null());
    EXPECT_EQ(r["pairs"]["points"], json::array());
  }
  EXPECT_EQ(paired_row(doc, "waiting")["n_b"], 0);
  const json& two = paired_row(doc, "two");
  EXPECT_EQ(two["n_pairs"], 2);
  EXPECT_EQ(two["note"], "2 models were trained in both sweeps; rank agreement needs at least 3");
  EXPECT_TRUE(two["top_k"].is_null());
  EXPECT_TRUE(two["difference"]["sd"].is_number());
  EXPECT_EQ(two["pairs"]["points"].size(), 2u);
  const json& tied = paired_row(doc, "tied");
  EXPECT_EQ(tied["n_pairs"], 8);
  EXPECT_EQ(tied["note"],
            "every paired model has the same error in sweep 'tied': its errors do not rank the "
            "models");
  EXPECT_EQ(tied["top_k"]["k"], 1);
}

}  // namespace
}  // namespace nds::reports
