// The nds binary as a user runs it: exit codes, one-line errors, JSON output.

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_testing.h"

namespace {

using namespace nds::cli_testing;  // tests/cli_testing.h: running nds, scratch folders

TEST(Cli, HelpAndVersion) {
  CmdResult r = run_nds("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("describe"), std::string::npos);
  r = run_nds("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("nds ", 0), 0u);
  r = run_nds("describe --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--resolution"), std::string::npos);
  EXPECT_EQ(run_nds("").code, 2);
}

TEST(Cli, UnknownCommandsAndOptions) {
  expect_nds_usage_error("frobnicate", "frobnicate");
  expect_nds_usage_error("--frobnicate", "--frobnicate");
  expect_nds_usage_error("describe resnet50 --frobnicate", "frobnicate");
  expect_nds_usage_error("describe resnet50 --resolution abc", "resolution");
  expect_nds_usage_error("describe resnet50 --resolution 0", "--resolution");
  expect_nds_usage_error("describe", "NAME");
}

TEST(Cli, DescribeJsonHasTheExactNumbers) {
  const CmdResult r = run_nds("describe regnet_x_200mf --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = stdout_json(r);
  EXPECT_EQ(j["name"], "regnet_x_200mf");
  EXPECT_EQ(j["params"], 2684792);
  EXPECT_EQ(j["flops"], 199040872);
  EXPECT_EQ(j["acts"], 2164056);
  EXPECT_EQ(j["num_stages"], 4);
  ASSERT_EQ(j["stages"].size(), 6u);
  EXPECT_EQ(j["stages"][4]["depth"], 7);
  EXPECT_EQ(j["stages"][4]["width"], 368);
}

TEST(Cli, DescribeTableAndList) {
  CmdResult r = run_nds("describe resnet50");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("25,557,032"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("res_bottleneck"), std::string::npos);
  r = run_nds("describe --list");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"lenet5", "googlenet", "xception", "densenet264", "regnet_y_32gf"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
}

TEST(Cli, DescribeResolutionAndClasses) {
  const CmdResult r = run_nds("describe resnet18 --resolution 32 --classes 10 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = stdout_json(r);
  EXPECT_EQ(j["resolution"], 32);
  EXPECT_EQ(j["num_classes"], 10);
  EXPECT_EQ(j["params"], 11689512 - 512 * 990 - 990);
}

TEST(Cli, DescribeSpecFileOfFamilyParameters) {
  const ScratchDir dir("cli_test");
  const std::string path = dir.write(
      "regnet.json",
      R"({"family":"regnet","depth":13,"w_0":24,"w_a":36.44,"w_m":2.49,"group_width":8})");
  const CmdResult r = run_nds("describe " + path + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(stdout_json(r)["flops"], 199040872);
}

TEST(Cli, ExpandedSpecRoundTripsThroughDescribe) {
  const CmdResult spec = run_nds("describe densenet121 --spec");
  ASSERT_EQ(spec.code, 0) << spec.err;
  const ScratchDir dir("cli_test");
  const std::string path = dir.write("densenet121_spec.json", spec.out);
  const CmdResult r = run_nds("describe " + path + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(stdout_json(r)["params"], 7978856);
}

TEST(Cli, BadSpecsAreOneLineErrors) {
  const ScratchDir dir("cli_test");
  expect_nds_usage_error("describe resnet51", "resnet51");
  expect_nds_usage_error("describe " + dir.write("bad.json", "{\"family\": \"regnet\", "),
                         "malformed JSON");
  // regnet_x_200mf with one value wrong (or one key too many).
  const struct {
    const char* file;
    const char* text;
    const char* needle;
  } bad_regnets[] = {
      {"key.json",
       R"({"family":"regnet","depth":13,"w_0":24,"w_a":36.44,"w_m":2.49,"group_width":8,"colour":1})",
       "colour"},
      {"wm.json",
       R"({"family":"regnet","depth":13,"w_0":24,"w_a":36.44,"w_m":1.0,"group_width":8})", "w_m"},
      {"w0.json",
       R"({"family":"regnet","depth":13,"w_0":20,"w_a":36.44,"w_m":2.49,"group_width":8})", "w_0"},
      {"depth.json",
       R"({"family":"regnet","depth":-1,"w_0":24,"w_a":36.44,"w_m":2.49,"group_width":8})",
       "depth"},
      {"gw.json",
       R"({"family":"regnet","depth":13,"w_0":24,"w_a":36.44,"w_m":2.49,"group_width":4096})",
       "group_width"},
  };
  for (const auto& c : bad_regnets)
    expect_nds_usage_error("describe " + dir.write(c.file, c.text), c.needle);
  expect_nds_usage_error("describe " + dir.file("does_not_exist.json"), "does_not_exist.json");
  expect_nds_usage_error("describe lenet5 --resolution 64", "does not fit");
  expect_nds_usage_error("describe alexnet --resolution 8", "spatial size below 1");
}

}  // namespace
