// The nds binary as a user runs it: exit codes, one-line errors, JSON output.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string temp_path(const std::string& name) {
  // Tests run as parallel processes: keep their files apart.
  return ::testing::TempDir() + "nds_cli_test_" + std::to_string(getpid()) + "_" + name;
}

Result nds(const std::string& args) {
  const std::string err_file = temp_path("stderr.txt");
  const std::string cmd = std::string(NDS_BINARY) + " " + args + " 2>" + err_file;
  Result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = temp_path(name);
  std::ofstream(path) << text;
  return path;
}

// A usage error: exit 2, exactly one line on stderr mentioning `needle`, nothing on stdout.
void expect_usage_error(const std::string& args, const std::string& needle) {
  SCOPED_TRACE(args);
  const Result r = nds(args);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(Cli, HelpAndVersion) {
  Result r = nds("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("describe"), std::string::npos);
  r = nds("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("nds ", 0), 0u);
  r = nds("describe --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--resolution"), std::string::npos);
  EXPECT_EQ(nds("").code, 2);
}

TEST(Cli, UnknownCommandsAndOptions) {
  expect_usage_error("frobnicate", "frobnicate");
  expect_usage_error("--frobnicate", "--frobnicate");
  expect_usage_error("describe resnet50 --frobnicate", "frobnicate");
  expect_usage_error("describe resnet50 --resolution abc", "resolution");
  expect_usage_error("describe resnet50 --resolution 0", "--resolution");
  expect_usage_error("describe", "NAME");
}

TEST(Cli, DescribeJsonHasTheExactNumbers) {
  const Result r = nds("describe regnet_x_200mf --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
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
  Result r = nds("describe resnet50");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("25,557,032"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("res_bottleneck"), std::string::npos);
  r = nds("describe --list");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"lenet5", "googlenet", "xception", "densenet264", "regnet_y_32gf"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
}

TEST(Cli, DescribeResolutionAndClasses) {
  const Result r = nds("describe resnet18 --resolution 32 --classes 10 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["resolution"], 32);
  EXPECT_EQ(j["num_classes"], 10);
  EXPECT_EQ(j["params"], 11689512 - 512 * 990 - 990);
}

TEST(Cli, DescribeSpecFileOfFamilyParameters) {
  const std::string path = write_file(
      "regnet.json",
      R"({"family":"regnet","depth":13,"w_0":24,"w_a":36.44,"w_m":2.49,"group_width":8})");
  const Result r = nds("describe " + path + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["flops"], 199040872);
}

TEST(Cli, ExpandedSpecRoundTripsThroughDescribe) {
  const Result spec = nds("describe densenet121 --spec");
  ASSERT_EQ(spec.code, 0) << spec.err;
  const std::string path = write_file("densenet121_spec.json", spec.out);
  const Result r = nds("describe " + path + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["params"], 7978856);
}

TEST(Cli, BadSpecsAreOneLineErrors) {
  expect_usage_error("describe resnet51", "resnet51");
  expect_usage_error("describe " + write_file("bad.json", "{\"family\": \"regnet\", "), "malformed JSON");
  expect_usage_error(
      "describe " + write_file("key.json", R"({"family":"regnet","depth":13,"w_0":24,"w_a":36.44,"w_m":2.49,"group_width":8,"colour":1})"),
      "colour");
  expect_usage_error(
      "describe " + write_file("wm.json", R"({"family":"regnet","depth":13,"w_0":24,"w_a":36.44,"w_m":1.0,"group_width":8})"),
      "w_m");
  expect_usage_error(
      "describe " + write_file("w0.json", R"({"family":"regnet","depth":13,"w_0":20,"w_a":36.44,"w_m":2.49,"group_width":8})"),
      "w_0");
  expect_usage_error(
      "describe " + write_file("depth.json", R"({"family":"regnet","depth":-1,"w_0":24,"w_a":36.44,"w_m":2.49,"group_width":8})"),
      "depth");
  expect_usage_error(
      "describe " + write_file("gw.json", R"({"family":"regnet","depth":13,"w_0":24,"w_a":36.44,"w_m":2.49,"group_width":4096})"),
      "group_width");
  expect_usage_error("describe " + temp_path("does_not_exist.json"), "does_not_exist.json");
  expect_usage_error("describe lenet5 --resolution 64", "does not fit");
  expect_usage_error("describe alexnet --resolution 8", "spatial size below 1");
}

}  // namespace
