// nds sample as a user runs it: byte-identical output, pure per-index
// samples, exit codes and one-line errors.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli_testing.h"

namespace {

using namespace nds::cli_testing;  // tests/cli_testing.h: running nds, scratch folders

constexpr const char* kSpace = R"({
  "name": "small_regnet",
  "family": "regnet",
  "resolution": 32,
  "num_classes": 10,
  "params": {
    "stem_type": "res_stem_cifar",
    "depth": {"dist": "int", "low": 6, "high": 16},
    "w_0": {"dist": "int", "rand": "log_uniform", "low": 8, "high": 64, "q": 8},
    "w_a": {"dist": "float", "rand": "log_uniform", "low": 8.0, "high": 64.0, "q": 0.1},
    "w_m": {"dist": "float", "rand": "log_uniform", "low": 2.0, "high": 3.0, "q": 0.001},
    "group_width": {"dist": "int", "rand": "power2", "low": 8, "high": 32}
  },
  "constraints": {"flops": ["10M", "200M"], "num_stages": [2, 3]}
})";

TEST(SamplerCli, SameCommandSameBytes) {
  const std::string args = "sample --space regnet_x -n 25 --seed 3 --flops 200M:800M";
  const CmdResult a = run_nds(args), b = run_nds(args);
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_TRUE(a.err.empty()) << a.err;
  EXPECT_EQ(a.out, b.out);
  const std::vector<std::string> ls = lines(a.out);
  ASSERT_EQ(ls.size(), 25u);
  std::set<std::string> hashes;
  for (size_t i = 0; i < ls.size(); ++i) {
    const auto j = nlohmann::json::parse(ls[i]);
    EXPECT_EQ(ls[i].rfind("{\"index\":" + std::to_string(i) + ",\"hash\":", 0), 0u) << ls[i];
    EXPECT_EQ(j["index"], i);
    EXPECT_TRUE(hashes.insert(j["hash"].get<std::string>()).second);
    EXPECT_GE(j["flops"].get<int64_t>(), 200000000);
    EXPECT_LE(j["flops"].get<int64_t>(), 800000000);
    EXPECT_EQ(j["num_stages"], 4);
    EXPECT_EQ(j["family"], "regnet");
    for (const char* key : {"family_params", "params", "acts", "stages", "attempts", "resolution"})
      EXPECT_TRUE(j.contains(key)) << key;
  }
  const CmdResult other = run_nds("sample --space regnet_x -n 25 --seed 4 --flops 200M:800M");
  EXPECT_NE(other.out, a.out);
}

TEST(SamplerCli, SampleIAloneIsLineIOfALongerRun) {
  const CmdResult all = run_nds("sample --space anynet_x_c -n 12 --seed 9");
  ASSERT_EQ(all.code, 0) << all.err;
  const std::vector<std::string> ls = lines(all.out);
  ASSERT_EQ(ls.size(), 12u);
  for (int i : {0, 5, 11}) {
    const CmdResult one =
        run_nds("sample --space anynet_x_c -n 1 --seed 9 --start " + std::to_string(i));
    ASSERT_EQ(one.code, 0) << one.err;
    EXPECT_EQ(one.out, ls[static_cast<size_t>(i)] + "\n");
  }
  const CmdResult tail = run_nds("sample --space anynet_x_c -n 4 --seed 9 --start 8");
  EXPECT_EQ(tail.out, ls[8] + "\n" + ls[9] + "\n" + ls[10] + "\n" + ls[11] + "\n");
}

TEST(SamplerCli, SpaceFilesShowAndDescribe) {
  const ScratchDir dir("sampler_cli");
  const std::string path = dir.write("space.json", kSpace);
  const CmdResult r = run_nds("sample --space " + path + " -n 8 --seed 1");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<std::string> ls = lines(r.out);
  ASSERT_EQ(ls.size(), 8u);
  // --show prints the space as a file that samples the same.
  const CmdResult shown = run_nds("sample --space " + path + " --show");
  ASSERT_EQ(shown.code, 0) << shown.err;
  const auto space = stdout_json(shown);
  EXPECT_EQ(space["name"], "small_regnet");
  EXPECT_EQ(space["constraints"]["flops"], nlohmann::json::array({10000000, 200000000}));
  const std::string again = dir.write("space_again.json", shown.out);
  EXPECT_EQ(run_nds("sample --space " + again + " -n 8 --seed 1").out, r.out);
  // A sample's family_params is what nds describe takes.
  const auto first = nlohmann::json::parse(ls[0]);
  const std::string model = dir.write("model.json", first["family_params"].dump());
  const CmdResult d = run_nds("describe " + model + " --resolution 32 --json");
  ASSERT_EQ(d.code, 0) << d.err;
  const auto described = stdout_json(d);
  EXPECT_EQ(described["flops"], first["flops"]);
  EXPECT_EQ(described["params"], first["params"]);
  EXPECT_EQ(described["num_classes"], 10);
}

TEST(SamplerCli, OptionsOverrideTheSpace) {
  const CmdResult r = run_nds(
      "sample --space regnet_x_cifar -n 5 --seed 2 --resolution 28 --classes 7 "
      "--in-channels 1 --flops 20M:");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const nlohmann::json& j : json_lines(r.out)) {
    EXPECT_EQ(j["resolution"], 28);
    EXPECT_EQ(j["num_classes"], 7);
    EXPECT_EQ(j["in_channels"], 1);
    EXPECT_GE(j["flops"].get<int64_t>(), 20000000);
    EXPECT_LE(j["params"].get<int64_t>(), 2000000);  // the space's own params window stays
  }
}

TEST(SamplerCli, StratifiedSamplesFillEveryBin) {
  const CmdResult r =
      run_nds("sample --space regnet_x -n 12 --seed 1 --flops 100M:1.6G --stratify 4");
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<int> counts(4, 0);
  for (const nlohmann::json& j : json_lines(r.out)) {
    EXPECT_EQ(j["bin"], j["index"].get<int>() % 4);
    ++counts[j["bin"].get<size_t>()];
  }
  EXPECT_EQ(counts, std::vector<int>(4, 3));
}

TEST(SamplerCli, ListHelpAndTable) {
  CmdResult r = run_nds("sample --list");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name :
       {"anynet_x_a", "anynet_x_e", "regnet_x", "regnet_y", "resnext", "densenet", "vanilla",
        "regnet_x_cifar", "anynet_x_a_cifar", "vanilla_cifar", "densenet_cifar", "resnext_cifar"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  r = run_nds("sample --help");
  ASSERT_EQ(r.code, 0);
  for (const char* option : {"--space", "--seed", "--flops", "--params", "--resolution",
                             "--classes", "--stratify", "--format", "--start", "--max-attempts"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  r = run_nds("--help");
  EXPECT_NE(r.out.find("sample"), std::string::npos);
  r = run_nds("sample --space vanilla_cifar -n 3 --format table");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("hash"), std::string::npos);
  EXPECT_EQ(lines(r.out).size(), 2u + 3u);  // header, rule, three rows
}

TEST(SamplerCli, ImpossibleConstraintsStop) {
  const CmdResult r = run_nds("sample --space regnet_x -n 3 --flops 1:2");
  expect_usage_error(r, "1000000 attempts");
  EXPECT_NE(r.err.find("flops [1, 2] 0/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("num_stages [4, 4]"), std::string::npos) << r.err;
  expect_nds_usage_error("sample --space resnext -n 1 --flops 1:2 --max-attempts 50",
                         "no model passed in 50 attempts");
}

TEST(SamplerCli, BadInputIsOneLineAndExitTwo) {
  const ScratchDir dir("sampler_cli");
  expect_nds_usage_error("sample", "--space");
  expect_nds_usage_error("sample --space regnet_z", "unknown space 'regnet_z'");
  expect_nds_usage_error("sample --space " + dir.file("missing.json"), "missing.json");
  expect_nds_usage_error("sample --space " + dir.write("bad.json", "{\"family\": \"regnet\", "),
                         "malformed JSON");
  expect_nds_usage_error(
      "sample --space " + dir.write("key.json", R"({"family":"regnet","colour":1})"), "colour");
  expect_nds_usage_error(
      "sample --space " + dir.write("fam.json", R"({"family":"regnot","params":{}})"),
      "unknown family 'regnot'");
  std::string low_high = kSpace;
  low_high.replace(low_high.find("\"low\": 6, \"high\": 16"), 20, "\"low\": 16, \"high\": 6");
  expect_nds_usage_error("sample --space " + dir.write("lowhigh.json", low_high), "low > high");
  std::string step = kSpace;
  step.replace(step.find("\"q\": 0.1"), 8, "\"q\": 0.0");
  expect_nds_usage_error("sample --space " + dir.write("step.json", step), "q must be > 0");
  expect_nds_usage_error("sample --space regnet_x --flops 400M:360M", "low > high");
  expect_nds_usage_error("sample --space regnet_x --flops 36OM:400M", "36OM");
  expect_nds_usage_error("sample --space regnet_x --format xml", "xml");
  expect_nds_usage_error("sample --space regnet_x -n -1", "-n");
  expect_nds_usage_error("sample --space regnet_x --seed x", "--seed");
  expect_nds_usage_error("sample --space regnet_x --stratify 4", "needs a flops window");
  expect_nds_usage_error("sample --space regnet_x --stratify-by params", "--stratify");
}

}  // namespace
