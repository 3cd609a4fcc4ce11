// One validation of every model description (issue 13, item 4): integers where
// integers are meant, strides, kernels, groups, widths and depths >= 1,
// paddings >= 0, the sanity limits of space/limits.h, counts that cannot
// overflow, and error text that stays valid UTF-8. Each error must name the
// key, the block (for specs) and the value.

#include <gtest/gtest.h>

#include <climits>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "space/complexity.h"
#include "space/family.h"
#include "space/limits.h"
#include "space/net_spec.h"
#include "space/params.h"
#include "space/summary.h"
#include "space/zoo.h"

namespace nds {
namespace {

using nlohmann::json;

// `f` throws std::invalid_argument whose message holds every needle.
void expect_invalid(const std::function<void()>& f, std::initializer_list<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << *needles.begin() << "'";
  } catch (const std::invalid_argument& e) {
    for (const std::string& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
          << "message '" << e.what() << "' lacks '" << n << "'";
  }
}

// resnet50's expanded spec with `key` of block `index` set to `value`.
json resnet50_with(size_t index, const char* key, const json& value) {
  json j = to_json(fixed_point("resnet50"));
  j["blocks"][index][key] = value;
  return j;
}

void expect_bad_spec(const json& j, std::initializer_list<std::string> needles) {
  expect_invalid([&] { net_spec_from_json(j); }, needles);
}

TEST(JsonInt, IntegersOnlyNeverTruncated) {
  const std::string where = "test";
  EXPECT_EQ(json_int(json(7), JsonName{where, "k"}), 7);
  EXPECT_EQ(json_int(json(-7), JsonName{where, "k"}), -7);
  EXPECT_EQ(json_int(json(8.0), JsonName{where, "k"}), 8);  // a whole float is an integer
  EXPECT_EQ(json_int(json(limits::kMaxInt), JsonName{where, "k"}), limits::kMaxInt);
  expect_invalid([&] { json_int(json(3.7), JsonName{where, "k"}); }, {"test: 'k'", "3.7"});
  expect_invalid([&] { json_int(json(1e20), JsonName{where, "k"}); }, {"'k'", "1e+20"});
  expect_invalid(
      [&] {
        json_int(json(limits::kMaxInt + 1), JsonName{where, "k"});
      },
      {"'k'", "1073741825"});
  // 2^64 - 1 must not wrap to -1.
  expect_invalid(
      [&] {
        json_int(json(UINT64_MAX), JsonName{where, "k"});
      },
      {"'k'", "18446744073709551615"});
  expect_invalid([&] { json_int(json("3"), JsonName{where, "k", 2}); }, {"'k[2]'", "\"3\""});
  expect_invalid([&] { json_int(json(true), JsonName{where, "k"}); }, {"'k'", "true"});
}

TEST(JsonText, InvalidUtf8IsReplacedAndLongValuesCut) {
  const json bad = std::string(
      "a\xff\xfe"
      "b");
  std::string text;
  EXPECT_NO_THROW(text = json_text(bad));
  EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos) << text;  // U+FFFD
  // An error message quoting such a value does not throw while being built.
  expect_invalid([&] { json_int(bad, JsonName{"x", "k"}); }, {"'k'", "\xEF\xBF\xBD"});
  const std::string cut = json_text(json(std::string(1000, 'x')));
  EXPECT_LT(cut.size(), 100u);
  // Cutting never splits a multi-byte character: the result re-parses as a string.
  const std::string euros = json_text(json(std::string(300, 'a') + "\xE2\x82\xAC\xE2\x82\xAC"));
  EXPECT_NO_THROW(json(euros).dump());
}

TEST(SpecRules, StridesKernelsGroupsWidthsAtLeastOne) {
  // Block 0 is the stem conv, block 4 the first bottleneck of resnet50.
  expect_bad_spec(resnet50_with(0, "stride", 0), {"block 0", "'stride'", ">= 1", "got 0"});
  expect_bad_spec(resnet50_with(0, "kernel", 0), {"block 0", "'kernel'", "got 0"});
  expect_bad_spec(resnet50_with(0, "kernel", -1), {"block 0", "'kernel'", "got -1"});
  expect_bad_spec(resnet50_with(0, "groups", 0), {"block 0", "'groups'", "got 0"});
  expect_bad_spec(resnet50_with(0, "w_out", 0), {"block 0", "'w_out'", "got 0"});
  expect_bad_spec(resnet50_with(4, "w_b", 0), {"block 4", "res_bottleneck", "'w_b'", "got 0"});
  expect_bad_spec(resnet50_with(4, "w_in", -64), {"block 4", "'w_in'", "got -64"});
  expect_bad_spec(resnet50_with(4, "w_se", -1), {"block 4", "'w_se'", ">= 0", "got -1"});
  expect_bad_spec(resnet50_with(1, "stride", 0), {"block 1", "pool", "'stride'"});
}

TEST(SpecRules, PaddingsAtLeastZero) {
  expect_bad_spec(resnet50_with(0, "padding", -1), {"block 0", "'padding'", ">= 0", "got -1"});
  expect_bad_spec(resnet50_with(1, "padding", -5), {"block 1", "'padding'", "got -5"});
  // In memory, -1 is Block's "kernel / 2" and valid.
  NetSpec s = fixed_point("resnet50");
  s.blocks[0].padding = -1;
  EXPECT_NO_THROW(validate(s));
  s.blocks[0].padding = -2;
  expect_invalid([&] { validate(s); }, {"block 0", "'padding'", "got -2"});
}

TEST(SpecRules, IntegersNotTruncated) {
  expect_bad_spec(resnet50_with(0, "stride", 3.7), {"block 0", "'stride'", "3.7"});
  expect_bad_spec(resnet50_with(0, "kernel", 1e20), {"block 0", "'kernel'", "1e+20"});
  json j = to_json(fixed_point("resnet50"));
  j["resolution"] = 224.5;
  expect_bad_spec(j, {"'resolution'", "224.5"});
  expect_bad_spec(resnet50_with(0, "bn", 1), {"block 0", "'bn'", "true or false"});
}

TEST(SpecRules, OtherKindsFields) {
  json g = to_json(fixed_point("googlenet"));
  size_t inception = 0;
  while (g["blocks"][inception]["kind"] != "inception") ++inception;
  g["blocks"][inception]["branch"][2] = 0;
  expect_bad_spec(g, {"block " + std::to_string(inception), "'branch[2]'", "got 0"});
  json x = to_json(fixed_point("xception"));
  size_t xb = 0;
  while (x["blocks"][xb]["kind"] != "xception") ++xb;
  x["blocks"][xb]["repeats"] = 0;
  expect_bad_spec(x, {"'repeats'", "got 0"});
  json d = to_json(fixed_point("densenet121"));
  size_t dl = 0;
  while (d["blocks"][dl]["kind"] != "dense_layer") ++dl;
  d["blocks"][dl]["w_out"] = d["blocks"][dl]["w_in"];
  expect_bad_spec(d, {"'w_out'", "more than w_in"});
  json a = to_json(fixed_point("vgg16"));
  size_t drop = 0;
  while (a["blocks"][drop]["kind"] != "dropout") ++drop;
  a["blocks"][drop]["dropout"] = 1.5;
  expect_bad_spec(a, {"'dropout'", "1.5"});
}

TEST(SpecLimits, ResolutionChannelsBlocksClasses) {
  using namespace limits;
  json j = to_json(fixed_point("resnet18"));
  j["resolution"] = kMaxResolution + 1;
  expect_bad_spec(j, {"'resolution'", "at most 16384", "got 16385"});
  j = to_json(fixed_point("resnet18"));
  j["num_classes"] = kMaxClasses + 1;
  expect_bad_spec(j, {"'num_classes'", "got 1048577"});
  expect_bad_spec(resnet50_with(0, "w_out", kMaxChannels + 1), {"'w_out'", "got 16777217"});
  expect_bad_spec(resnet50_with(0, "kernel", kMaxResolution + 1), {"'kernel'", "got 16385"});
  expect_bad_spec(resnet50_with(0, "stage", kMaxBlocks + 1), {"'stage'", "got 10001"});
  j = to_json(fixed_point("resnet18"));
  const json last = j["blocks"].back();
  j["blocks"] = json::array();
  for (int i = 0; i <= kMaxBlocks; ++i) j["blocks"].push_back(last);
  expect_bad_spec(j, {"'blocks'", "at most 10000", "got 10001"});
  expect_invalid([] { complexity(fixed_point("resnet18"), kMaxResolution + 1); },
                 {"resolution", "got 16385"});
}

TEST(SpecLimits, ComplexityValidatesHandBuiltSpecs) {
  // A spec made in code reaches complexity() without the JSON reader: a zero
  // stride must be an error there too, not a division by zero.
  NetSpec s = fixed_point("resnet18");
  s.blocks[0].stride = 0;
  expect_invalid([&] { complexity(s, 224); }, {"block 0", "'stride'", "got 0"});
  s = fixed_point("resnet50");
  s.blocks[4].w_b = 0;
  expect_invalid([&] { summarize(s, 224); }, {"block 4", "'w_b'", "got 0"});
}

TEST(SpecLimits, CountsBeyondInt64AreAnErrorNotAWrap) {
  // Every field within its limit, yet 2^24 x 2^24 channels with a 16384^2
  // kernel is beyond 2^63 multiply-adds.
  using namespace limits;
  NetSpec s;
  s.family = "test";
  s.in_channels = kMaxChannels;
  s.num_classes = 10;
  Block c;
  c.kind = BlockKind::kConv;
  c.w_in = c.w_out = kMaxChannels;
  c.kernel = kMaxResolution;
  c.padding = kMaxResolution / 2;
  s.blocks = {c};
  expect_invalid([&] { complexity(s, kMaxResolution); }, {"exceeds 2^63", "block 0"});
}

TEST(SpecLimits, StageStrideSaturates) {
  // Padding keeps the side from shrinking, so the declared strides of a stage
  // may multiply past int range; the summary saturates instead of overflowing.
  NetSpec s;
  s.family = "test";
  s.num_classes = 10;
  for (int i = 0; i < 4; ++i) {
    Block c;
    c.kind = BlockKind::kConv;
    c.stage = 1;
    c.w_in = c.w_out = 3;
    c.kernel = 1;
    c.stride = limits::kMaxResolution;
    c.padding = limits::kMaxResolution;
    s.blocks.push_back(c);
  }
  const NetSummary sum = summarize(s, 224);
  EXPECT_EQ(sum.stages[1].stride, INT_MAX);
}

json regnet_with(const char* key, const json& value) {
  json j = {{"family", "regnet"}, {"depth", 13}, {"w_0", 24},
            {"w_a", 36.44},       {"w_m", 2.49}, {"group_width", 8}};
  j[key] = value;
  return j;
}

TEST(FamilyRules, IntegersNotTruncated) {
  expect_invalid([] { expand_params(regnet_with("depth", 3.7)); }, {"regnet: 'depth'", "3.7"});
  expect_invalid([] { expand_params(regnet_with("depth", 1e20)); }, {"'depth'", "1e+20"});
  expect_invalid([] { expand_params(regnet_with("w_0", UINT64_MAX)); }, {"'w_0'"});
  const json any = {{"family", "anynet"}, {"depths", {1, 2.5}}, {"widths", {32, 64}}};
  expect_invalid([&] { expand_params(any); }, {"anynet: 'depths[1]'", "2.5"});
  const json big = {{"family", "anynet"}, {"depths", {1, 1e20}}, {"widths", {32, 64}}};
  expect_invalid([&] { expand_params(big); }, {"'depths[1]'", "1e+20"});
}

TEST(FamilyRules, NoRunawayExpansion) {
  using namespace limits;
  // Depth 10^9 fails before a single block is allocated.
  expect_invalid([] { expand_params(regnet_with("depth", 1000000000)); },
                 {"regnet: depth", "at most 10000", "got 1000000000"});
  const json any = {{"family", "anynet"},
                    {"block_type", "res_basic_block"},
                    {"depths", {6000, 6000}},
                    {"widths", {32, 64}}};
  expect_invalid([&] { expand_params(any); }, {"anynet: depths", "12000 blocks"});
  const json dense = {{"family", "densenet"}, {"block_config", {6000, 6000}}};
  expect_invalid([&] { expand_params(dense); }, {"densenet: block_config", "12000 layers"});
  const json vgg = {{"family", "vgg"}, {"depths", {9000, 9000}}, {"widths", {8, 8}}};
  expect_invalid([&] { expand_params(vgg); }, {"vgg: depths", "18000 convs"});
}

TEST(FamilyRules, WidthsAndClassesWithinLimits) {
  using namespace limits;
  expect_invalid([] { expand_params(regnet_with("w_0", limits::kMaxChannels + 8)); },
                 {"regnet: w_0", "got 16777224"});
  expect_invalid([] { expand_params(regnet_with("w_a", 1e300)); }, {"regnet: w_a, w_m"});
  // A tiny bottleneck ratio would make widths of 10^10 in int arithmetic.
  expect_invalid([] { expand_params(regnet_with("bottleneck_ratio", 1e-9)); },
                 {"regnet: bottleneck_ratio", "at most 16777216"});
  const json any = {{"family", "anynet"},
                    {"depths", {1}},
                    {"widths", {64}},
                    {"bottleneck_ratios", {1.0 / (1 << 20)}}};  // 1/b = 2^20, whole
  expect_invalid([&] { expand_params(any); }, {"anynet: bottleneck_ratios", "stage 1"});
  json wide = {{"family", "anynet"}, {"depths", {1}}, {"widths", {kMaxChannels + 1}}};
  expect_invalid([&] { expand_params(wide); }, {"anynet: widths[0]", "got 16777217"});
  json strides = {{"family", "anynet"}, {"depths", {1}}, {"widths", {8}}, {"strides", {0}}};
  expect_invalid([&] { expand_params(strides); }, {"anynet: strides[0]", "got 0"});
  json classes = regnet_with("num_classes", kMaxClasses + 1);
  expect_invalid([&] { expand_params(classes); }, {"regnet: num_classes", "got 1048577"});
  json channels = {{"family", "lenet5"}, {"in_channels", kMaxChannels + 1}};
  expect_invalid([&] { expand_params(channels); }, {"lenet5: in_channels", "got 16777217"});
  // Options from the command line are checked too.
  ExpandOptions o;
  o.num_classes = kMaxClasses + 1;
  expect_invalid([&] { expand_params(regnet_with("depth", 13), o); },
                 {"'num_classes'", "got 1048577"});
}

TEST(FamilyRules, EveryFixedPointIsValid) {
  for (const FixedPoint& f : fixed_points()) {
    SCOPED_TRACE(f.name);
    EXPECT_NO_THROW(validate(fixed_point(f.name)));
  }
}

}  // namespace
}  // namespace nds
