// Design spaces and sampling: every built-in parses and its samples meet every
// constraint, sample i is a pure function of (space, seed, i), impossible
// constraints stop with a report, bad spaces are rejected naming the key.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampler/builtin_spaces.h"
#include "sampler/design_space.h"
#include "sampler/estimate.h"
#include "sampler/hash.h"
#include "sampler/sampler.h"
#include "space/anynet.h"
#include "space/complexity.h"
#include "space/family.h"
#include "space/params.h"
#include "space/regnet.h"
#include "space/zoo.h"

namespace nds::sampler {
namespace {

using nlohmann::json;

// Debug and sanitizer builds run the same checks on fewer samples.
int scaled(int n) {
  int divisor = 1;
#ifndef NDEBUG
  divisor *= 4;
#endif
#ifdef __SANITIZE_ADDRESS__
  divisor *= 5;
#endif
  return std::max(10, n / divisor);
}

DesignSpace parse(const std::string& text) {
  return parse_design_space(json::parse(text), "test");
}

// The message of the std::invalid_argument that parsing `text` throws.
std::string parse_error(const std::string& text) {
  try {
    parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

// Checks one sample against its space without trusting the sampler: the
// family parameters are expanded and counted again, and every constraint is
// checked on them.
void expect_meets(const DesignSpace& s, const Sample& x) {
  SCOPED_TRACE(s.name + " sample " + std::to_string(x.index) + ": " + x.family_params.dump());
  const NetSpec spec = expand_params(x.family_params);
  EXPECT_EQ(spec_hash(spec), x.hash);
  EXPECT_EQ(spec_hash(x.spec), x.hash);
  EXPECT_EQ(spec.in_channels, s.in_channels);
  EXPECT_EQ(spec.num_classes, s.num_classes);
  const Complexity c = complexity(spec, s.resolution);
  EXPECT_EQ(c.flops, x.cost.flops);
  EXPECT_EQ(c.params, x.cost.params);
  EXPECT_EQ(c.acts, x.cost.acts);
  EXPECT_TRUE(s.flops.contains(c.flops)) << c.flops;
  EXPECT_TRUE(s.params_count.contains(c.params)) << c.params;
  EXPECT_TRUE(s.acts.contains(c.acts)) << c.acts;
  // Every drawn value lies in its distribution's support.
  const auto in_support = [](const ParamDist& d, const json& v) {
    switch (d.kind) {
      case DistKind::kFixed:
        return v == d.value;
      case DistKind::kChoice:
        return std::find(d.values.begin(), d.values.end(), v) != d.values.end();
      case DistKind::kInt:
      case DistKind::kFloat:
        return v.is_number() && v.get<double>() >= d.low && v.get<double>() <= d.high &&
               (d.kind == DistKind::kFloat || v.is_number_integer());
      case DistKind::kList:
        return false;
    }
    return false;
  };
  for (const auto& [key, d] : s.params) {
    ASSERT_TRUE(x.family_params.contains(key)) << key;
    const json& v = x.family_params[key];
    if (d.kind == DistKind::kList) {
      ASSERT_EQ(v.size(), d.items.size()) << key;
      for (size_t i = 0; i < d.items.size(); ++i) EXPECT_TRUE(in_support(d.items[i], v[i])) << key;
    } else if (d.length > 0) {
      ASSERT_EQ(v.size(), static_cast<size_t>(d.length)) << key;
      for (const json& e : v) EXPECT_TRUE(in_support(d, e)) << key << " " << e;
    } else {
      EXPECT_TRUE(in_support(d, v)) << key << " " << v;
    }
  }
  for (const std::string& key : s.shared) {
    // One value for every stage, except where a group width was clamped to
    // its stage's width (pycls's compatibility rule).
    const json& v = x.family_params[key];
    const json& top = *std::max_element(v.begin(), v.end());
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == top) continue;
      EXPECT_EQ(key, "group_widths") << key << " is not shared";
      EXPECT_EQ(v[i], x.family_params["widths"][i]) << "group width below the shared one";
    }
  }
  for (const std::string& key : s.non_decreasing) {
    const json& v = x.family_params[key];
    for (size_t i = 1; i < v.size(); ++i)
      EXPECT_GE(v[i].get<double>(), v[i - 1].get<double>()) << key << " decreases";
  }
  if (s.max_stages > 0) {
    ParamReader r(x.family_params, "regnet");
    const RegNetParams p = regnet_params_from_json(r);
    const RegNetWidths g = generate_regnet(p.w_a, p.w_0, p.w_m, p.depth, p.quantum);
    EXPECT_EQ(g.num_stages, g.total_stages);
    EXPECT_GE(g.num_stages, s.min_stages);
    EXPECT_LE(g.num_stages, s.max_stages);
  }
  if (s.stratify_bins > 0) {
    const Window& w = s.window(s.stratify_by);
    const double v = static_cast<double>(s.stratify_by == Measure::kFlops    ? c.flops
                                         : s.stratify_by == Measure::kParams ? c.params
                                                                             : c.acts);
    const double pos = std::log(v / static_cast<double>(w.lo)) /
                       std::log(static_cast<double>(w.hi) / static_cast<double>(w.lo));
    EXPECT_EQ(x.bin, static_cast<int>(x.index % static_cast<std::uint64_t>(s.stratify_bins)));
    EXPECT_GE(pos * s.stratify_bins, x.bin - 1e-9);
    EXPECT_LE(pos * s.stratify_bins, x.bin + 1 + 1e-9);
  }
}

// ---------------------------------------------------------------- built-ins

TEST(SamplerBuiltins, EveryBuiltinParsesAndHasASmallImageVariant) {
  std::set<std::string> names;
  for (const BuiltinSpace& b : builtin_spaces()) {
    SCOPED_TRACE(b.name);
    EXPECT_TRUE(names.insert(b.name).second) << "listed twice";
    const DesignSpace s = builtin_space(b.name);
    EXPECT_EQ(s.name, b.name);
    EXPECT_FALSE(s.description.empty());
    // The canonical form parses back to the same form.
    EXPECT_EQ(to_json(parse_design_space(to_json(s), "again")), to_json(s));
    const std::string n = b.name;
    if (n.size() > 6 && n.compare(n.size() - 6, 6, "_cifar") == 0) {
      EXPECT_EQ(s.resolution, 32);
      EXPECT_EQ(s.num_classes, 10);
      EXPECT_EQ(s.params.at("stem_type").value, "res_stem_cifar");
      EXPECT_TRUE(names.count(n.substr(0, n.size() - 6))) << "no base space";
    } else {
      EXPECT_NE(find_builtin_space(n + "_cifar"), nullptr) << "no _cifar variant";
    }
  }
  for (const char* n : {"anynet_x_a", "anynet_x_b", "anynet_x_c", "anynet_x_d", "anynet_x_e",
                        "regnet_x", "regnet_y", "resnext", "densenet", "vanilla"})
    EXPECT_TRUE(names.count(n)) << n;
  try {
    builtin_space("regnet_z");
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("regnet_z"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("regnet_x"), std::string::npos);
  }
}

TEST(SamplerBuiltins, AnyNetChainAddsOneConstraintEach) {
  const DesignSpace a = builtin_space("anynet_x_a"), b = builtin_space("anynet_x_b"),
                    c = builtin_space("anynet_x_c"), d = builtin_space("anynet_x_d"),
                    e = builtin_space("anynet_x_e");
  EXPECT_EQ(canonical_json(a)["params"], canonical_json(e)["params"]);
  EXPECT_TRUE(a.shared.empty());
  EXPECT_EQ(b.shared, std::vector<std::string>({"bottleneck_ratios"}));
  EXPECT_EQ(c.shared, std::vector<std::string>({"bottleneck_ratios", "group_widths"}));
  EXPECT_EQ(d.non_decreasing, std::vector<std::string>({"widths"}));
  EXPECT_EQ(e.non_decreasing, std::vector<std::string>({"widths", "depths"}));
  for (const DesignSpace* s : {&a, &b, &c, &d, &e}) {
    EXPECT_EQ(s->flops.lo, 360000000);
    EXPECT_EQ(s->flops.hi, 400000000);
  }
  // The paper's ranges: d_i <= 16, w_i <= 1024 in steps of 8, b in {1,2,4}, g in {1..32}.
  const ParamDist& w = a.params.at("widths");
  EXPECT_EQ(w.high, 1024);
  EXPECT_EQ(w.q, 8);
  EXPECT_EQ(w.length, 4);
  EXPECT_EQ(a.params.at("depths").high, 16);
  EXPECT_EQ(a.params.at("bottleneck_ratios").high, 4);
  EXPECT_EQ(a.params.at("group_widths").high, 32);
}

TEST(SamplerBuiltins, RegNetUsesPyclsSamplerRanges) {
  const DesignSpace s = builtin_space("regnet_x");
  EXPECT_EQ(s.params.at("depth").low, 12);
  EXPECT_EQ(s.params.at("depth").high, 28);
  EXPECT_EQ(s.params.at("w_0").rand, RandType::kLogUniform);
  EXPECT_EQ(s.params.at("w_0").q, 8);
  EXPECT_EQ(s.params.at("w_a").q, 0.1);
  EXPECT_EQ(s.params.at("w_m").low, 2.0);
  EXPECT_EQ(s.params.at("w_m").q, 0.001);
  EXPECT_EQ(s.params.at("group_width").rand, RandType::kPower2OrLogUniform);
  EXPECT_EQ(s.min_stages, 4);
  EXPECT_EQ(s.max_stages, 4);
  EXPECT_EQ(builtin_space("regnet_y").params.at("se_ratio").value, 0.25);
}

struct BuiltinCase {
  const char* name;
  int samples;
};
void PrintTo(const BuiltinCase& c, std::ostream* os) {
  *os << c.name << " x" << c.samples;
}

class SamplerBuiltinSamples : public ::testing::TestWithParam<BuiltinCase> {};

TEST_P(SamplerBuiltinSamples, MeetEveryConstraintWithUniqueHashes) {
  const DesignSpace s = builtin_space(GetParam().name);
  const int n = scaled(GetParam().samples);
  Sampler sampler(s, 2024);
  std::set<std::uint64_t> hashes;
  for (int i = 0; i < n; ++i) {
    const Sample x = sampler.at(static_cast<std::uint64_t>(i));
    ASSERT_EQ(x.index, static_cast<std::uint64_t>(i));
    expect_meets(s, x);
    EXPECT_TRUE(hashes.insert(x.hash).second) << "duplicate hash at " << i;
    if (HasFailure()) break;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, SamplerBuiltinSamples,
    ::testing::Values(BuiltinCase{"anynet_x_a", 2000}, BuiltinCase{"anynet_x_a_cifar", 2000},
                      BuiltinCase{"anynet_x_b", 2000}, BuiltinCase{"anynet_x_b_cifar", 2000},
                      BuiltinCase{"anynet_x_c", 2000}, BuiltinCase{"anynet_x_c_cifar", 2000},
                      BuiltinCase{"anynet_x_d", 1000}, BuiltinCase{"anynet_x_d_cifar", 1000},
                      BuiltinCase{"anynet_x_e", 1000}, BuiltinCase{"anynet_x_e_cifar", 1000},
                      BuiltinCase{"regnet_x", 2000}, BuiltinCase{"regnet_x_cifar", 2000},
                      BuiltinCase{"regnet_y", 2000}, BuiltinCase{"regnet_y_cifar", 2000},
                      BuiltinCase{"resnext", 2000}, BuiltinCase{"resnext_cifar", 2000},
                      BuiltinCase{"densenet", 2000}, BuiltinCase{"densenet_cifar", 2000},
                      BuiltinCase{"vanilla", 2000}, BuiltinCase{"vanilla_cifar", 2000}),
    [](const ::testing::TestParamInfo<BuiltinCase>& c) { return std::string(c.param.name); });

TEST(SamplerBuiltins, EveryBuiltinIsCovered) {
  // The parameterized suite above lists each built-in once.
  EXPECT_EQ(builtin_spaces().size(), 20u);
}

// -------------------------------------------------------------- determinism

DesignSpace regnet_window() {
  DesignSpace s = builtin_space("regnet_x");
  s.flops = {true, 360000000, 400000000};
  return s;
}

void expect_same(const Sample& a, const Sample& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.family_params, b.family_params);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.cost.flops, b.cost.flops);
  EXPECT_EQ(a.bin, b.bin);
}

TEST(SamplerDeterminism, SameSpaceSeedAndIndexGiveTheSameSample) {
  const DesignSpace s = regnet_window();
  const std::vector<Sample> a = sample_n(s, 11, scaled(200));
  const std::vector<Sample> b = sample_n(s, 11, scaled(200));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) expect_same(a[i], b[i]);
  const std::vector<Sample> other = sample_n(s, 12, 5);
  EXPECT_NE(other[0].hash, a[0].hash);
}

TEST(SamplerDeterminism, SampleAloneEqualsSampleAmongMany) {
  const DesignSpace s = regnet_window();
  const int n = scaled(120);
  const std::vector<Sample> all = sample_n(s, 5, static_cast<std::uint64_t>(n));
  for (int i : {0, 1, n / 3, n - 1})
    expect_same(sample(s, 5, static_cast<std::uint64_t>(i)), all[i]);
  // Out of order, as a rank drawing its own indices would.
  Sampler sampler(s, 5);
  expect_same(sampler.at(static_cast<std::uint64_t>(n - 1)), all[n - 1]);
  expect_same(sampler.at(static_cast<std::uint64_t>(n / 3)), all[n / 3]);
  expect_same(sampler.at(0), all[0]);
}

TEST(SamplerDeterminism, SamplesArePinned) {
  // Fixed values: a change means every existing sweep would be redrawn.
  EXPECT_EQ(hash_text(sample(builtin_space("regnet_x"), 1, 0).hash), "91d442fa7b152c00");
  EXPECT_EQ(hash_text(sample(builtin_space("anynet_x_e"), 0, 0).hash), "df484e9a108c3d25");
  EXPECT_EQ(hash_text(spec_hash(fixed_point("resnet50"))), "f219d62379817c3a");
}

TEST(SamplerDeterminism, CanonicalTextIsTheJsonDump) {
  // spec_hash's definition: FNV-1a of to_json(spec) without "name", dumped.
  const auto dump = [](const NetSpec& spec) {
    json j = to_json(spec);
    j.erase("name");
    return j.dump();
  };
  for (const FixedPoint& f : fixed_points()) {
    const NetSpec spec = fixed_point(f.name);
    ASSERT_EQ(canonical_spec_text(spec), dump(spec)) << f.name;
    EXPECT_EQ(spec_hash(spec), fnv1a64(dump(spec)));
  }
  for (const BuiltinSpace& b : builtin_spaces()) {
    for (const Sample& x :
         sample_n(builtin_space(b.name), 1, static_cast<std::uint64_t>(scaled(20))))
      ASSERT_EQ(canonical_spec_text(x.spec), dump(x.spec)) << b.name;
  }
}

TEST(SamplerDeterminism, HashIgnoresTheName) {
  NetSpec spec = fixed_point("regnet_x_200mf");
  const std::uint64_t named = spec_hash(spec);
  spec.name.clear();
  EXPECT_EQ(spec_hash(spec), named);
  EXPECT_EQ(hash_text(named).size(), 16u);
  EXPECT_NE(spec_hash(fixed_point("regnet_x_400mf")), named);
}

// Fixed points to train alongside (include) change what a sweep trains, so
// they are part of the canonical form; the parent a space was refined from
// is provenance only.
TEST(SamplerSpaceFile, IncludeAndParent) {
  const std::string base =
      R"({"family": "regnet", "params": {"depth": {"dist": "int", "low": 6, "high": 12},
      "w_0": 24, "w_a": 36.0, "w_m": 2.5, "group_width": 8}})";
  const DesignSpace plain = parse(base);
  json with = json::parse(base);
  with["include"] = {"resnet18", "regnet_x_200mf"};
  with["parent"] = "sweep-1";
  const DesignSpace s = parse(with.dump());
  EXPECT_EQ(s.include, (std::vector<std::string>{"resnet18", "regnet_x_200mf"}));
  EXPECT_EQ(s.parent, "sweep-1");
  EXPECT_EQ(canonical_json(s)["include"], with["include"]);
  EXPECT_FALSE(canonical_json(s).contains("parent"));
  EXPECT_FALSE(canonical_json(plain).contains("include"));  // old spaces keep their hashes
  EXPECT_NE(space_hash(s), space_hash(plain));
  const DesignSpace round = parse_design_space(to_json(s), "round trip");
  EXPECT_EQ(round.include, s.include);
  EXPECT_EQ(round.parent, s.parent);

  with["include"] = {"resnet18", "resnet181"};
  EXPECT_NE(parse_error(with.dump()).find("include[1]: unknown fixed point 'resnet181'"),
            std::string::npos)
      << parse_error(with.dump());
  with["include"] = {"resnet18", "resnet18"};
  EXPECT_NE(parse_error(with.dump()).find("listed twice"), std::string::npos);
  with["include"] = "resnet18";
  EXPECT_NE(parse_error(with.dump()).find("must be a list"), std::string::npos);
}

// ---------------------------------------------------------- stratification

TEST(SamplerStratify, IndexIFallsInBinIModB) {
  DesignSpace s = builtin_space("regnet_x");
  s.flops = {true, 200000000, 1600000000};
  s.stratify_bins = 4;
  const int n = scaled(80);
  const std::vector<Sample> all = sample_n(s, 3, static_cast<std::uint64_t>(n));
  std::vector<int> counts(4, 0);
  for (const Sample& x : all) {
    expect_meets(s, x);
    ++counts[static_cast<size_t>(x.bin)];
  }
  EXPECT_LE(*std::max_element(counts.begin(), counts.end()) -
                *std::min_element(counts.begin(), counts.end()),
            1);
  expect_same(sample(s, 3, 6), all[6]);
}

TEST(SamplerStratify, NeedsAWindow) {
  EXPECT_NE(parse_error(R"({"family":"regnet","params":{"depth":13,"w_0":24,"w_a":36.4,
      "w_m":2.5,"group_width":8},"stratify":{"bins":4}})")
                .find("needs a flops window"),
            std::string::npos);
}

// ------------------------------------------------------ bounded rejection

TEST(SamplerRejection, ImpossibleConstraintStopsWithAReport) {
  DesignSpace s = builtin_space("regnet_x");
  s.flops = {true, 1, 2};
  const auto start = std::chrono::steady_clock::now();
  try {
    sample(s, 0, 0);
    ADD_FAILURE() << "no error";
  } catch (const SampleError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("1000000 attempts"), std::string::npos) << m;
    EXPECT_NE(m.find("num_stages [4, 4]"), std::string::npos) << m;
    EXPECT_NE(m.find("flops [1, 2] 0/"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
    ASSERT_FALSE(e.tallies().empty());
    EXPECT_EQ(e.tallies().front().reached, 1000000);
    EXPECT_EQ(e.tallies().back().name, "unique");
    EXPECT_EQ(e.tallies().back().reached, 0);
  }
  // A guard against a hang, not a speed target (bench_sample is): a million
  // attempts take about 0.3 s in Release and 10 s in the unoptimized
  // sanitizer build.
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 60);
}

TEST(SamplerRejection, FamiliesWithoutAnEstimateStopToo) {
  DesignSpace s = builtin_space("densenet");
  EXPECT_EQ(s.max_attempts, kDefaultMaxAttempts);
  s.flops = {true, 1, 2};
  s.max_attempts = 300;
  try {
    sample(s, 0, 0);
    ADD_FAILURE() << "no error";
  } catch (const SampleError& e) {
    EXPECT_NE(std::string(e.what()).find("300 attempts"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("valid 300/300, flops [1, 2] 0/300"), std::string::npos)
        << e.what();
  }
}

TEST(SamplerRejection, AnExhaustedSpaceSaysSo) {
  // Two distinct networks; the third sample finds only duplicates.
  const DesignSpace s = parse(R"({"family":"resnet","params":{"depth":{"dist":"choice",
      "values":[18,34]}},"max_attempts":200})");
  const std::vector<Sample> two = sample_n(s, 1, 2);
  EXPECT_NE(two[0].hash, two[1].hash);
  try {
    sample(s, 1, 2);
    ADD_FAILURE() << "no error";
  } catch (const SampleError& e) {
    EXPECT_NE(std::string(e.what()).find("sample 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unique 0/200"), std::string::npos) << e.what();
  }
}

TEST(SamplerRejection, FamilyErrorsAreReported) {
  // A negative FC width makes every candidate invalid; the family says why.
  const DesignSpace s = parse(R"({"family":"vgg","params":{"depths":[1,1],
      "widths":{"dist":"int","low":8,"high":16,"length":2},"fc_width":{"dist":"int","low":-8,"high":-1}},
      "max_attempts":50})");
  try {
    sample(s, 1, 0);
    ADD_FAILURE() << "no error";
  } catch (const SampleError& e) {
    EXPECT_NE(std::string(e.what()).find("valid 0/50"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fc_width"), std::string::npos) << e.what();
  }
}

// --------------------------------------------------------------- drawing

TEST(SamplerDraw, SharedListsRepeatOneDraw) {
  const DesignSpace s = builtin_space("anynet_x_c");
  Rng rng(4);
  std::set<int> seen;
  for (int i = 0; i < 200; ++i) {
    const json p = draw_params(s, rng);
    ASSERT_EQ(p["bottleneck_ratios"].size(), 4u);
    for (const char* key : {"bottleneck_ratios", "group_widths"})
      for (const json& v : p[key]) EXPECT_EQ(v, p[key][0]);
    seen.insert(p["group_widths"][0].get<int>());
    EXPECT_EQ(p["strides"], json::array({2, 2, 2, 2}));
  }
  EXPECT_EQ(seen, std::set<int>({1, 2, 4, 8, 16, 32}));
}

TEST(SamplerDraw, ListsOfDistributionsDrawEachElement) {
  const DesignSpace s = parse(R"({"family":"anynet","params":{
      "depths":[1,{"dist":"int","low":2,"high":3},{"dist":"choice","values":[5,7]}],
      "widths":{"dist":"int","rand":"log_uniform","low":8,"high":64,"q":8,"length":3}}})");
  Rng rng(5);
  for (int i = 0; i < 100; ++i) {
    const json p = draw_params(s, rng);
    EXPECT_EQ(p["depths"][0], 1);
    EXPECT_TRUE(p["depths"][1] == 2 || p["depths"][1] == 3);
    EXPECT_TRUE(p["depths"][2] == 5 || p["depths"][2] == 7);
    for (const json& w : p["widths"]) EXPECT_EQ(w.get<int>() % 8, 0);
  }
}

// ------------------------------------------------------------- estimates

// Every AnyNet/RegNet candidate of the built-ins (windows off), plus random
// AnyNets over every block type, stem and head: estimate == exact count.
TEST(SamplerEstimate, EqualsTheExactCount) {
  int compared = 0;
  for (const BuiltinSpace& b : builtin_spaces()) {
    DesignSpace s = builtin_space(b.name);
    if (s.family != "anynet" && s.family != "regnet") continue;
    Rng rng(6);
    for (int i = 0; i < scaled(300); ++i) {
      json p = draw_params(s, rng);
      p["in_channels"] = s.in_channels;
      p["num_classes"] = s.num_classes;
      NetSpec spec;
      try {
        spec = expand_params(p);
      } catch (const std::invalid_argument&) {
        continue;  // the sampler clamps first; not what this test is about
      }
      const Complexity exact = complexity(spec, s.resolution);
      ParamReader r(p, s.family);
      AnyNetParams a;
      if (s.family == "regnet") {
        const RegNetParams rp = regnet_params_from_json(r);
        RegNetWidths g;
        regnet_stages(rp.w_a, rp.w_0, rp.w_m, rp.depth, rp.quantum, &g);
        ASSERT_TRUE(regnet_stage_plan(rp, g, &a));
      } else {
        a = anynet_params_from_json(r);
      }
      const auto e = estimate_anynet(a, s.in_channels, s.num_classes, s.resolution);
      ASSERT_TRUE(e.has_value()) << p.dump();
      ASSERT_EQ(e->flops, exact.flops) << p.dump();
      ASSERT_EQ(e->params, exact.params) << p.dump();
      ASSERT_EQ(e->acts, exact.acts) << p.dump();
      ++compared;
    }
  }
  EXPECT_GT(compared, scaled(300));
  const int from_spaces = compared;

  Rng rng(7);
  const char* blocks[] = {"vanilla_block", "res_basic_block", "res_bottleneck_block"};
  const char* stems[] = {"simple_stem_in", "res_stem_in", "res_stem_cifar"};
  for (int i = 0; i < scaled(2000); ++i) {
    AnyNetParams a;
    a.block_type = blocks[rng.uniform_index(3)];
    a.stem_type = stems[rng.uniform_index(3)];
    a.stem_w = static_cast<int>(rng.uniform_int(1, 64));
    const int n = static_cast<int>(rng.uniform_int(1, 5));
    for (int j = 0; j < n; ++j) {
      a.depths.push_back(static_cast<int>(rng.uniform_int(1, 4)));
      a.widths.push_back(static_cast<int>(rng.uniform_int(1, 200)));
      a.strides.push_back(static_cast<int>(rng.uniform_int(1, 3)));
    }
    if (a.block_type == std::string("res_bottleneck_block")) {
      for (int j = 0; j < n; ++j) {
        a.bottleneck_ratios.push_back(std::vector<double>{0.5, 1, 2, 4}[rng.uniform_index(4)]);
        a.group_widths.push_back(static_cast<int>(rng.uniform_int(1, 16)));
      }
      a.se_ratio = rng.uniform_index(2) ? 0.25 : 0;
    }
    a.head_w = rng.uniform_index(2) ? static_cast<int>(rng.uniform_int(1, 300)) : 0;
    const int resolution = static_cast<int>(rng.uniform_int(8, 96));
    const int classes = static_cast<int>(rng.uniform_int(1, 100));
    const int channels = static_cast<int>(rng.uniform_int(1, 4));
    std::optional<Complexity> exact;
    try {
      exact = complexity(expand_anynet(a, {channels, classes}), resolution);
    } catch (const std::invalid_argument&) {
    }
    const auto e = estimate_anynet(a, channels, classes, resolution);
    // The estimate may decline what expands (it is only a pre-filter), but
    // what it counts must be exact, and it must decline what does not expand.
    if (!exact) {
      EXPECT_FALSE(e.has_value()) << to_json(a).dump();
      continue;
    }
    if (!e) continue;
    ASSERT_EQ(e->flops, exact->flops) << to_json(a).dump() << " at " << resolution;
    ASSERT_EQ(e->params, exact->params) << to_json(a).dump();
    ASSERT_EQ(e->acts, exact->acts) << to_json(a).dump();
    ++compared;
  }
  EXPECT_GT(compared - from_spaces, scaled(2000) / 10);
}

// RegNet parameters `p` with the group width clamped to the widest stage, as
// the sampler clamps it, and their stage plan by regnet_stage_plan.
std::pair<RegNetParams, AnyNetParams> clamped_regnet_plan(const json& p) {
  ParamReader r(p, "regnet");
  RegNetParams rp = regnet_params_from_json(r);
  RegNetWidths g;
  regnet_stages(rp.w_a, rp.w_0, rp.w_m, rp.depth, rp.quantum, &g);
  rp.group_width = std::min(rp.group_width, *std::max_element(g.widths.begin(), g.widths.end()));
  AnyNetParams plan;
  EXPECT_TRUE(regnet_stage_plan(rp, g, &plan)) << p.dump();
  return {rp, plan};
}

TEST(SamplerEstimate, StopsOncePastTheFlopsLimit) {
  const DesignSpace s = builtin_space("regnet_x");
  Rng rng(10);
  int stopped = 0;
  for (int i = 0; i < scaled(300); ++i) {
    const json p = draw_params(s, rng);
    const AnyNetParams a = clamped_regnet_plan(p).second;
    const auto full = estimate_anynet(a, s.in_channels, s.num_classes, s.resolution);
    ASSERT_TRUE(full.has_value()) << p.dump();
    // At the total itself nothing stops; below it, the count stops past the
    // limit, never past the total (flops only grow along the network).
    const auto at_total =
        estimate_anynet(a, s.in_channels, s.num_classes, s.resolution, full->flops);
    ASSERT_TRUE(at_total.has_value());
    EXPECT_EQ(at_total->flops, full->flops);
    EXPECT_EQ(at_total->params, full->params);
    EXPECT_EQ(at_total->acts, full->acts);
    const std::int64_t limit = full->flops / 3;
    const auto partial = estimate_anynet(a, s.in_channels, s.num_classes, s.resolution, limit);
    ASSERT_TRUE(partial.has_value());
    EXPECT_GT(partial->flops, limit) << p.dump();
    EXPECT_LE(partial->flops, full->flops) << p.dump();
    stopped += partial->flops < full->flops;
  }
  EXPECT_GT(stopped, scaled(300) / 2);
}

TEST(SamplerEstimate, RegNetStagesEqualGenerateRegnet) {
  Rng rng(8);
  for (int i = 0; i < scaled(100000); ++i) {
    const double w_a = rng.uniform_index(50) == 0 ? 0 : grid_value(rng.uniform_int(1, 4000), 0.1);
    const int w_0 = 8 * static_cast<int>(rng.uniform_int(1, 64));
    const double w_m = grid_value(rng.uniform_int(1001, 4000), 0.001);
    const int depth = static_cast<int>(rng.uniform_int(1, 64));
    const RegNetWidths want = generate_regnet(w_a, w_0, w_m, depth, 8);
    RegNetWidths got;
    regnet_stages(w_a, w_0, w_m, depth, 8, &got);
    ASSERT_EQ(got.widths, want.widths) << w_a << " " << w_0 << " " << w_m << " " << depth;
    ASSERT_EQ(got.depths, want.depths);
    ASSERT_EQ(got.num_stages, want.num_stages);
    ASSERT_EQ(got.total_stages, want.total_stages);
  }
}

TEST(SamplerEstimate, RegNetStagePlanEqualsRegnetToAnynet) {
  const DesignSpace s = builtin_space("regnet_y");
  Rng rng(9);
  for (int i = 0; i < scaled(500); ++i) {
    const json p = draw_params(s, rng);
    const auto [rp, plan] = clamped_regnet_plan(p);
    EXPECT_EQ(to_json(plan), to_json(regnet_to_anynet(rp))) << p.dump();
  }
}

// ------------------------------------------------------------ space files

TEST(SamplerSpaceFile, CanonicalFormAndHash) {
  const char* text = R"({"name":"mine","description":"d","family":"regnet","resolution":224,
      "params":{"depth":{"dist":"int","low":12,"high":28},"w_0":24,"w_a":36.4,"w_m":2.5,
      "group_width":{"dist":"choice","values":[8,16]}},
      "constraints":{"flops":["200M","1.6G"],"num_stages":[4,4]},"max_attempts":5000})";
  const DesignSpace s = parse(text);
  EXPECT_EQ(s.flops.lo, 200000000);
  EXPECT_EQ(s.flops.hi, 1600000000);
  EXPECT_EQ(s.max_attempts, 5000);
  EXPECT_EQ(s.params.at("depth").rand, RandType::kUniform);  // the default rand
  EXPECT_EQ(s.params.at("depth").q, 1);                      // the default int step
  const json c = canonical_json(s);
  EXPECT_FALSE(c.contains("name"));
  EXPECT_FALSE(c.contains("description"));
  EXPECT_FALSE(c.contains("max_attempts"));
  EXPECT_EQ(c["constraints"]["flops"], json::array({200000000, 1600000000}));
  EXPECT_EQ(c["params"]["depth"]["rand"], "uniform");
  // Name, description and the attempt budget do not change the samples.
  json renamed = json::parse(text);
  renamed["name"] = "theirs";
  renamed["description"] = "other";
  renamed["max_attempts"] = 7;
  EXPECT_EQ(space_hash(parse_design_space(renamed, "x")), space_hash(s));
  json changed = json::parse(text);
  changed["params"]["depth"]["high"] = 27;
  EXPECT_NE(space_hash(parse_design_space(changed, "x")), space_hash(s));
  // An open upper bound is written as null.
  const DesignSpace open = parse(R"({"family":"regnet","params":{"depth":13,"w_0":24,
      "w_a":36.4,"w_m":2.5,"group_width":8},"constraints":{"params":"1M:"}})");
  EXPECT_EQ(canonical_json(open)["constraints"]["params"], json::array({1000000, nullptr}));
  EXPECT_EQ(to_json(parse_design_space(to_json(open), "again")), to_json(open));
}

TEST(SamplerSpaceFile, BadSpacesNameTheKey) {
  const std::string regnet =
      R"("family":"regnet","params":{"depth":13,"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1, 2]", "must be a JSON object"},
      {R"({"params":{}})", "missing required key 'family'"},
      {R"({"family":"regnot","params":{}})", "unknown family 'regnot'"},
      {"{" + regnet + R"(,"colour":1})", "unknown key 'colour'"},
      {"{" + regnet + R"(,"constraints":{"flopz":[1,2]}})", "constraints.flopz"},
      {"{" + regnet + R"(,"constraints":{"flops":[400,300]}})", "low 400 > high 300"},
      {"{" + regnet + R"(,"constraints":{"flops":"400M:300M"}})", "low > high"},
      {"{" + regnet + R"(,"constraints":{"flops":[-1,300]}})", "constraints.flops[0]"},
      {"{" + regnet + R"(,"constraints":{"flops":[1]}})", "constraints.flops"},
      {"{" + regnet + R"(,"constraints":{"num_stages":[5,4]}})", "constraints.num_stages"},
      {"{" + regnet + R"(,"constraints":{"shared":["depth"]}})", "not a list distribution"},
      {"{" + regnet + R"(,"constraints":{"non_decreasing":["depths"]}})",
       "'depths' is not a parameter"},
      {"{" + regnet + R"(,"stratify":{"bins":0}})", "stratify.bins"},
      {"{" + regnet + R"(,"stratify":{"bins":3,"by":"speed"}})", "unknown measure 'speed'"},
      {"{" + regnet + R"(,"max_attempts":0})", "max_attempts"},
      {"{" + regnet + R"(,"resolution":0})", "resolution"},
      {R"({"family":"regnet","params":{"depth":13,"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8,"colour":1}})",
       "unknown key 'colour'"},
      {R"({"family":"regnet","params":{"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "missing required key 'depth'"},
      {R"({"family":"regnet","params":{"depth":{"dist":"int","low":28,"high":12},"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "params.depth: uniform range [28, 12] with step 1 is invalid: low > high"},
      {R"({"family":"regnet","params":{"depth":{"dist":"int","low":12,"high":28,"q":0},"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "step q must be > 0"},
      {R"({"family":"regnet","params":{"depth":{"dist":"int","low":12,"high":28,"q":-2},"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "params.depth"},
      {R"({"family":"regnet","params":{"depth":13,"w_0":24,"w_a":{"dist":"float","low":8,"high":256},"w_m":2.5,"group_width":8}})",
       "params.w_a: missing required key 'q'"},
      {R"({"family":"regnet","params":{"depth":13,"w_0":24,"w_a":36.4,"w_m":{"dist":"float","rand":"normal","low":2,"high":3,"q":0.1},"group_width":8}})",
       "unknown rand 'normal'"},
      {R"({"family":"regnet","params":{"depth":{"dist":"int","low":12,"high":28,"step":1},"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "params.depth.step"},
      {R"({"family":"regnet","params":{"depth":{"dist":"gauss"},"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "unknown dist 'gauss'"},
      {R"({"family":"regnet","params":{"depth":{"low":1},"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "needs 'dist'"},
      {R"({"family":"regnet","params":{"depth":{"dist":"choice","values":[]},"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "params.depth.values"},
      {R"({"family":"regnet","params":{"depth":{"dist":"int","low":1,"high":4,"length":0},"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "params.depth.length"},
      {R"({"family":"regnet","params":{"depth":{"dist":"int","low":1,"high":4.5},"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8}})",
       "whole"},
      {R"({"family":"regnet","params":{"depth":13,"w_0":24,"w_a":36.4,"w_m":2.5,"group_width":8,"num_classes":10}})",
       "top level"},
      {R"({"family":"anynet","params":{"depths":[1],"widths":[8]},"constraints":{"num_stages":[4,4]}})",
       "regnet family only"},
  };
  for (const auto& [text, needle] : cases) {
    const std::string m = parse_error(text);
    EXPECT_NE(m.find(needle), std::string::npos) << text << "\n  -> " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace nds::sampler
