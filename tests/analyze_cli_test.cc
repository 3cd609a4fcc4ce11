// nds analyze and nds refine as a user runs them, on a small synthetic
// database: text and JSON output, the automatic comparison with a parent
// sweep, sweeps with nothing to analyse, refined spaces that nds sample
// accepts, and one-line exit-2 errors.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "sampler/design_space.h"
#include "store/store.h"
#include "tests/reports_db_testing.h"
#include "tests/store_testing.h"

namespace nds::reports {
namespace {

using json = nlohmann::json;
using store::testing::read_bytes;
using store::testing::ScratchDir;
using testing::add_sweep;
using testing::b_violation;
using testing::Outcome;
using testing::regnet_error;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result nds(const std::string& args, const ScratchDir& dir) {
  const std::string err_file = dir.path() + "/stderr.txt";
  const std::string cmd = std::string(NDS_BINARY) + " " + args + " 2>" + err_file;
  Result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_bytes(err_file);
  std::remove(err_file.c_str());
  return r;
}

// Exit 2, one line on stderr containing `needle`, nothing on stdout.
void expect_usage_error(const Result& r, const std::string& needle) {
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

class AnalyzeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.file("results.db");
    store::Store st(db_);
    add_sweep(st, {"rx", "regnet_x_cifar", 50, 1, regnet_error, {"resnet18"}});
    add_sweep(st, {"rx_child",
                   "regnet_x_cifar",
                   30,
                   2,
                   [](const json& p, size_t i) { return regnet_error(p, i) - 0.5; },
                   {},
                   Outcome::kComplete,
                   "rx"});
    add_sweep(st, {"waiting", "regnet_x_cifar", 4, 3, regnet_error, {}, Outcome::kNone});
    add_sweep(st, {"failed", "regnet_x_cifar", 4, 4, regnet_error, {}, Outcome::kFailed});
    add_sweep(st, {"ax", "anynet_x_a_cifar", 60, 5, [](const json& p, size_t i) {
                     return 20 + 3 * b_violation(p) + 0.01 * static_cast<double>(i % 7);
                   }});
  }
  std::string db() const { return "--db " + db_; }

  ScratchDir dir_;
  std::string db_;
};

TEST_F(AnalyzeCli, PrintsTheSummary) {
  const Result r = nds("analyze " + db() + " --sweep rx --bootstrap 500", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_TRUE(contains(r.out, "sweep rx (regnet): 50 completed models + 1 fixed point")) << r.out;
  EXPECT_TRUE(contains(r.out, "top-1 error (%): min ")) << r.out;
  EXPECT_TRUE(contains(r.out, "good ranges")) << r.out;
  EXPECT_TRUE(contains(r.out, "w_0 ")) << r.out;
  EXPECT_TRUE(contains(r.out, "e_fit")) << r.out;
  EXPECT_TRUE(contains(r.out, "resnet18")) << r.out;
  EXPECT_FALSE(contains(r.out, "KS against")) << r.out;  // no parent, no --compare
}

TEST_F(AnalyzeCli, JsonIsTheDocumentAndAChildIsComparedWithItsParent) {
  const Result r = nds("analyze " + db() + " --sweep rx_child --json --bootstrap 200", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["sweeps"][0]["name"], "rx_child");
  EXPECT_EQ(doc["sweeps"][0]["n"], 30);
  EXPECT_EQ(doc["sweeps"][0]["parent"], "rx");
  ASSERT_EQ(doc["ks"].size(), 1u);
  EXPECT_EQ(doc["ks"][0]["b"], "rx");
  EXPECT_TRUE(doc["ks"][0]["d"].is_number());
  EXPECT_EQ(doc["bootstrap"]["resamples"], 200);

  // --compare replaces the parent; repeated and multi-valued both work.
  const Result c =
      nds("analyze " + db() + " --sweep rx --compare rx_child --compare ax --json", dir_);
  ASSERT_EQ(c.code, 0) << c.err;
  const json two = json::parse(c.out);
  ASSERT_EQ(two["ks"].size(), 2u);
  EXPECT_EQ(two["ks"][1]["b"], "ax");
  const Result text = nds("analyze " + db() + " --sweep rx_child --bootstrap 100", dir_);
  EXPECT_TRUE(contains(text.out, "KS against")) << text.out;
}

TEST_F(AnalyzeCli, SweepsWithoutModelsSaySo) {
  for (const char* sweep : {"waiting", "failed"}) {
    const Result r = nds("analyze " + db() + " --sweep " + sweep, dir_);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "note: no completed models in sweep '" + std::string(sweep)))
        << r.out;
    EXPECT_FALSE(contains(r.out, "nan")) << r.out;
    const Result j = nds("analyze " + db() + " --sweep " + sweep + " --json", dir_);
    EXPECT_EQ(j.code, 0) << j.err;
    EXPECT_EQ(json::parse(j.out)["sweeps"][0]["n"], 0);
  }
  EXPECT_TRUE(contains(nds("analyze " + db() + " --sweep failed", dir_).out, "FAILED 4"));
  // K larger than the number of models.
  const Result k = nds("analyze " + db() + " --sweep rx --bins 80", dir_);
  EXPECT_EQ(k.code, 0) << k.err;
  EXPECT_TRUE(contains(k.out, "normalized EDF: 80 flops bins need at least 80 models")) << k.out;
}

TEST_F(AnalyzeCli, BadInputIsOneLineAndExit2) {
  expect_usage_error(nds("analyze " + db() + " --sweep nope", dir_), "nope");
  expect_usage_error(nds("analyze " + db() + " --sweep rx --compare nope", dir_), "nope");
  expect_usage_error(nds("analyze --db " + dir_.file("absent.db") + " --sweep rx", dir_),
                     "absent.db");
  expect_usage_error(nds("analyze " + db(), dir_), "--sweep");
  expect_usage_error(nds("analyze " + db() + " --sweep rx --bootstrap 0", dir_), "--bootstrap");
  expect_usage_error(nds("analyze " + db() + " --sweep rx --bins 0", dir_), "--bins");
  expect_usage_error(nds("analyze " + db() + " --sweep rx --bogus", dir_), "bogus");
  const std::string out = dir_.file("new.json");
  expect_usage_error(nds("refine " + db() + " --sweep nope --out " + out, dir_), "nope");
  expect_usage_error(nds("refine " + db() + " --sweep rx", dir_), "--out");
  expect_usage_error(nds("refine " + db() + " --sweep failed --out " + out, dir_),
                     "0 completed models");
  expect_usage_error(
      nds("refine " + db() + " --sweep rx --out " + dir_.file("no/such/x.json"), dir_),
      "does not exist");
  expect_usage_error(nds("refine " + db() + " --sweep rx --out " + out + " --bootstrap -1", dir_),
                     "--bootstrap");
  EXPECT_FALSE(dir_.files().count("new.json"));
}

TEST_F(AnalyzeCli, RefineWritesASpaceNdsSampleAccepts) {
  const std::string out = dir_.file("rx_next.json");
  const Result r = nds("refine " + db() + " --sweep rx --out " + out + " --bootstrap 1000", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "w_0: [8, 256] -> [")) << r.out;
  EXPECT_TRUE(contains(r.out, "wrote " + out)) << r.out;
  const json space = json::parse(read_bytes(out));
  EXPECT_EQ(space["parent"], "rx");
  EXPECT_EQ(space["name"], "rx_refined");
  const sampler::DesignSpace parsed = sampler::parse_design_space(space, out);
  EXPECT_LE(parsed.params.at("w_0").high - parsed.params.at("w_0").low, 256 - 8);
  const Result s = nds("sample --space " + out + " -n 3", dir_);
  EXPECT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(std::count(s.out.begin(), s.out.end(), '\n'), 3) << s.out;

  // No overwrite without --force; nothing else left in the directory.
  const std::string before = read_bytes(out);
  expect_usage_error(nds("refine " + db() + " --sweep rx --out " + out, dir_), "--force");
  EXPECT_EQ(read_bytes(out), before);
  const Result f =
      nds("refine " + db() + " --sweep rx --out " + out + " --force --name next --seed 3", dir_);
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_EQ(json::parse(read_bytes(out))["name"], "next");
  for (const std::string& file : dir_.files())
    EXPECT_EQ(file.find(".tmp"), std::string::npos) << file;
}

TEST_F(AnalyzeCli, RefineProposesTheNextAnynetConstraintWithItsEvidence) {
  const std::string out = dir_.file("ax_b.json");
  const Result r = nds("refine " + db() + " --sweep ax --out " + out + " --bootstrap 500", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out,
                       "next AnyNet constraint: shared bottleneck_ratios (AnyNetX_B): "
                       "added"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "KS D")) << r.out;
  const json space = json::parse(read_bytes(out));
  EXPECT_EQ(space["constraints"]["shared"], json::array({"bottleneck_ratios"}));
  EXPECT_EQ(nds("sample --space " + out + " -n 1", dir_).code, 0);
}

}  // namespace
}  // namespace nds::reports
