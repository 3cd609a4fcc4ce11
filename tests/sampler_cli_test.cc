// nds sample as a user runs it: byte-identical output, pure per-index
// samples, exit codes and one-line errors.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string temp_path(const std::string& name) {
  // Tests run as parallel processes: keep their files apart.
  return ::testing::TempDir() + "nds_sampler_cli_test_" + std::to_string(getpid()) + "_" + name;
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

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A usage error: exit 2, one line on stderr mentioning `needle`, nothing on stdout.
void expect_usage_error(const std::string& args, const std::string& needle) {
  SCOPED_TRACE(args);
  const Result r = nds(args);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

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
  const Result a = nds(args), b = nds(args);
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
  const Result other = nds("sample --space regnet_x -n 25 --seed 4 --flops 200M:800M");
  EXPECT_NE(other.out, a.out);
}

TEST(SamplerCli, SampleIAloneIsLineIOfALongerRun) {
  const Result all = nds("sample --space anynet_x_c -n 12 --seed 9");
  ASSERT_EQ(all.code, 0) << all.err;
  const std::vector<std::string> ls = lines(all.out);
  ASSERT_EQ(ls.size(), 12u);
  for (int i : {0, 5, 11}) {
    const Result one = nds("sample --space anynet_x_c -n 1 --seed 9 --start " + std::to_string(i));
    ASSERT_EQ(one.code, 0) << one.err;
    EXPECT_EQ(one.out, ls[static_cast<size_t>(i)] + "\n");
  }
  const Result tail = nds("sample --space anynet_x_c -n 4 --seed 9 --start 8");
  EXPECT_EQ(tail.out, ls[8] + "\n" + ls[9] + "\n" + ls[10] + "\n" + ls[11] + "\n");
}

TEST(SamplerCli, SpaceFilesShowAndDescribe) {
  const std::string path = write_file("space.json", kSpace);
  const Result r = nds("sample --space " + path + " -n 8 --seed 1");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<std::string> ls = lines(r.out);
  ASSERT_EQ(ls.size(), 8u);
  // --show prints the space as a file that samples the same.
  const Result shown = nds("sample --space " + path + " --show");
  ASSERT_EQ(shown.code, 0) << shown.err;
  const auto space = nlohmann::json::parse(shown.out);
  EXPECT_EQ(space["name"], "small_regnet");
  EXPECT_EQ(space["constraints"]["flops"], nlohmann::json::array({10000000, 200000000}));
  const std::string again = write_file("space_again.json", shown.out);
  EXPECT_EQ(nds("sample --space " + again + " -n 8 --seed 1").out, r.out);
  // A sample's family_params is what nds describe takes.
  const auto first = nlohmann::json::parse(ls[0]);
  const std::string model = write_file("model.json", first["family_params"].dump());
  const Result d = nds("describe " + model + " --resolution 32 --json");
  ASSERT_EQ(d.code, 0) << d.err;
  const auto described = nlohmann::json::parse(d.out);
  EXPECT_EQ(described["flops"], first["flops"]);
  EXPECT_EQ(described["params"], first["params"]);
  EXPECT_EQ(described["num_classes"], 10);
}

TEST(SamplerCli, OptionsOverrideTheSpace) {
  const Result r = nds("sample --space regnet_x_cifar -n 5 --seed 2 --resolution 28 --classes 7 "
                       "--in-channels 1 --flops 20M:");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::string& line : lines(r.out)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["resolution"], 28);
    EXPECT_EQ(j["num_classes"], 7);
    EXPECT_EQ(j["in_channels"], 1);
    EXPECT_GE(j["flops"].get<int64_t>(), 20000000);
    EXPECT_LE(j["params"].get<int64_t>(), 2000000);  // the space's own params window stays
  }
}

TEST(SamplerCli, StratifiedSamplesFillEveryBin) {
  const Result r = nds("sample --space regnet_x -n 12 --seed 1 --flops 100M:1.6G --stratify 4");
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<int> counts(4, 0);
  for (const std::string& line : lines(r.out)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["bin"], j["index"].get<int>() % 4);
    ++counts[j["bin"].get<size_t>()];
  }
  EXPECT_EQ(counts, std::vector<int>(4, 3));
}

TEST(SamplerCli, ListHelpAndTable) {
  Result r = nds("sample --list");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"anynet_x_a", "anynet_x_e", "regnet_x", "regnet_y", "resnext",
                           "densenet", "vanilla", "regnet_x_cifar", "anynet_x_a_cifar",
                           "vanilla_cifar", "densenet_cifar", "resnext_cifar"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  r = nds("sample --help");
  ASSERT_EQ(r.code, 0);
  for (const char* option : {"--space", "--seed", "--flops", "--params", "--resolution",
                             "--classes", "--stratify", "--format", "--start", "--max-attempts"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  r = nds("--help");
  EXPECT_NE(r.out.find("sample"), std::string::npos);
  r = nds("sample --space vanilla_cifar -n 3 --format table");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("hash"), std::string::npos);
  EXPECT_EQ(lines(r.out).size(), 2u + 3u);  // header, rule, three rows
}

TEST(SamplerCli, ImpossibleConstraintsStop) {
  const Result r = nds("sample --space regnet_x -n 3 --flops 1:2");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find("1000000 attempts"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("flops [1, 2] 0/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("num_stages [4, 4]"), std::string::npos) << r.err;
  expect_usage_error("sample --space resnext -n 1 --flops 1:2 --max-attempts 50",
                     "no model passed in 50 attempts");
}

TEST(SamplerCli, BadInputIsOneLineAndExitTwo) {
  expect_usage_error("sample", "--space");
  expect_usage_error("sample --space regnet_z", "unknown space 'regnet_z'");
  expect_usage_error("sample --space " + temp_path("missing.json"), "missing.json");
  expect_usage_error("sample --space " + write_file("bad.json", "{\"family\": \"regnet\", "),
                     "malformed JSON");
  expect_usage_error("sample --space " + write_file("key.json", R"({"family":"regnet","colour":1})"),
                     "colour");
  expect_usage_error(
      "sample --space " + write_file("fam.json", R"({"family":"regnot","params":{}})"),
      "unknown family 'regnot'");
  std::string low_high = kSpace;
  low_high.replace(low_high.find("\"low\": 6, \"high\": 16"), 20, "\"low\": 16, \"high\": 6");
  expect_usage_error("sample --space " + write_file("lowhigh.json", low_high), "low > high");
  std::string step = kSpace;
  step.replace(step.find("\"q\": 0.1"), 8, "\"q\": 0.0");
  expect_usage_error("sample --space " + write_file("step.json", step), "q must be > 0");
  expect_usage_error("sample --space regnet_x --flops 400M:360M", "low > high");
  expect_usage_error("sample --space regnet_x --flops 36OM:400M", "36OM");
  expect_usage_error("sample --space regnet_x --format xml", "xml");
  expect_usage_error("sample --space regnet_x -n -1", "-n");
  expect_usage_error("sample --space regnet_x --seed x", "--seed");
  expect_usage_error("sample --space regnet_x --stratify 4", "needs a flops window");
  expect_usage_error("sample --space regnet_x --stratify-by params", "--stratify");
}

}  // namespace
