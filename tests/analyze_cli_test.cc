// nds analyze and nds refine as a user runs them, on a small synthetic
// database: text and JSON output, the automatic comparison with a parent
// sweep, sweeps with nothing to analyse, refined spaces that nds sample
// accepts, and one-line exit-2 errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "reports/render_util.h"
#include "sampler/design_space.h"
#include "store/store.h"
#include "tests/cli_testing.h"
#include "tests/reports_db_testing.h"

namespace nds::reports {
namespace {

using namespace cli_testing;  // tests/cli_testing.h: running nds, scratch folders
using json = nlohmann::json;
using testing::add_sweep;
using testing::b_violation;
using testing::Outcome;
using testing::regnet_error;

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
    // The first 20 models of rx (same space and seed) under another "recipe".
    add_sweep(st, {"rx_short", "regnet_x_cifar", 20, 1, [](const json& p, size_t i) {
                     return 0.9 * regnet_error(p, i) + 0.05 * static_cast<double>(i % 5);
                   }});
    add_sweep(st, {"waiting", "regnet_x_cifar", 4, 3, regnet_error, {}, Outcome::kNone});
    add_sweep(st, {"failed", "regnet_x_cifar", 4, 4, regnet_error, {}, Outcome::kFailed});
    add_sweep(st, {"ax", "anynet_x_a_cifar", 60, 5, [](const json& p, size_t i) {
                     return 20 + 3 * b_violation(p) + 0.01 * static_cast<double>(i % 7);
                   }});
  }
  std::string db() const { return "--db " + db_; }

  ScratchDir dir_{"analyze_cli"};
  std::string db_;
};

TEST_F(AnalyzeCli, PrintsTheSummary) {
  const CmdResult r = run_nds("analyze " + db() + " --sweep rx --bootstrap 500");
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
  const CmdResult r = run_nds("analyze " + db() + " --sweep rx_child --json --bootstrap 200");
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = stdout_json(r);
  EXPECT_EQ(doc["sweeps"][0]["name"], "rx_child");
  EXPECT_EQ(doc["sweeps"][0]["n"], 30);
  EXPECT_EQ(doc["sweeps"][0]["parent"], "rx");
  ASSERT_EQ(doc["ks"].size(), 1u);
  EXPECT_EQ(doc["ks"][0]["b"], "rx");
  EXPECT_TRUE(doc["ks"][0]["d"].is_number());
  EXPECT_EQ(doc["bootstrap"]["resamples"], 200);

  // --compare replaces the parent; repeated and multi-valued both work.
  const CmdResult c =
      run_nds("analyze " + db() + " --sweep rx --compare rx_child --compare ax --json");
  ASSERT_EQ(c.code, 0) << c.err;
  const json two = stdout_json(c);
  ASSERT_EQ(two["ks"].size(), 2u);
  EXPECT_EQ(two["ks"][1]["b"], "ax");
  const CmdResult text = run_nds("analyze " + db() + " --sweep rx_child --bootstrap 100");
  EXPECT_TRUE(contains(text.out, "KS against")) << text.out;
}

// The line of `text` that starts with `start`, or "".
std::string line_starting(const std::string& text, const std::string& start) {
  for (const std::string& l : lines(text))
    if (l.rfind(start, 0) == 0) return l;
  return "";
}

TEST_F(AnalyzeCli, PairedComparisonOfSweepsThatTrainedTheSameModels) {
  const std::string args =
      "analyze " + db() + " --sweep rx --compare rx_short rx_child --bootstrap 100";
  const CmdResult r = run_nds(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out,
                       "paired comparison of the models both sweeps trained (same model "
                       "hash), A = rx: Spearman rho and Kendall tau"))
      << r.out;
  const json doc = stdout_json(run_nds(args + " --json"));
  ASSERT_EQ(doc["paired"].size(), 2u);
  const json& p = doc["paired"][0];
  EXPECT_EQ(p["n_pairs"], 20);
  const size_t section = r.out.find("paired comparison of");
  ASSERT_NE(section, std::string::npos) << r.out;
  const std::string row = line_starting(r.out.substr(section), "rx_short ");
  EXPECT_TRUE(contains(row, " 20 ")) << r.out;
  EXPECT_TRUE(contains(row, render::correlation(p["spearman"]))) << row;
  EXPECT_TRUE(contains(row, render::correlation(p["kendall"]))) << row;
  EXPECT_TRUE(contains(row, render::top_overlap(p["top_k"]))) << row;
  EXPECT_TRUE(contains(row, " [")) << "rho and tau with their intervals: " << row;
  // rx_child (another seed) trained none of rx's models: the reason, no numbers.
  EXPECT_TRUE(contains(r.out,
                       "  rx_child: no models in common: no model hash was trained in both sweep "
                       "'rx' (51 completed models) and sweep 'rx_child' (30)"))
      << r.out;
  EXPECT_FALSE(contains(r.out, "nan")) << r.out;
  // Nothing compared, no section.
  EXPECT_FALSE(contains(run_nds("analyze " + db() + " --sweep rx --bootstrap 100").out,
                        "paired comparison"));
}

TEST_F(AnalyzeCli, SweepsWithoutModelsSaySo) {
  for (const char* sweep : {"waiting", "failed"}) {
    const CmdResult r = run_nds("analyze " + db() + " --sweep " + sweep);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "note: no completed models in sweep '" + std::string(sweep)))
        << r.out;
    EXPECT_FALSE(contains(r.out, "nan")) << r.out;
    const CmdResult j = run_nds("analyze " + db() + " --sweep " + sweep + " --json");
    EXPECT_EQ(j.code, 0) << j.err;
    EXPECT_EQ(stdout_json(j)["sweeps"][0]["n"], 0);
  }
  EXPECT_TRUE(contains(run_nds("analyze " + db() + " --sweep failed").out, "FAILED 4"));
  // K larger than the number of models.
  const CmdResult k = run_nds("analyze " + db() + " --sweep rx --bins 80");
  EXPECT_EQ(k.code, 0) << k.err;
  EXPECT_TRUE(contains(k.out, "normalized EDF: 80 flops bins need at least 80 models")) << k.out;
}

TEST_F(AnalyzeCli, BadInputIsOneLineAndExit2) {
  expect_usage_error(run_nds("analyze " + db() + " --sweep nope"), "nope");
  expect_usage_error(run_nds("analyze " + db() + " --sweep rx --compare nope"), "nope");
  expect_usage_error(run_nds("analyze --db " + dir_.file("absent.db") + " --sweep rx"),
                     "absent.db");
  expect_usage_error(run_nds("analyze " + db()), "--sweep");
  expect_usage_error(run_nds("analyze " + db() + " --sweep rx --bootstrap 0"), "--bootstrap");
  expect_usage_error(run_nds("analyze " + db() + " --sweep rx --bins 0"), "--bins");
  expect_usage_error(run_nds("analyze " + db() + " --sweep rx --bogus"), "bogus");
  const std::string out = dir_.file("new.json");
  expect_usage_error(run_nds("refine " + db() + " --sweep nope --out " + out), "nope");
  expect_usage_error(run_nds("refine " + db() + " --sweep rx"), "--out");
  expect_usage_error(run_nds("refine " + db() + " --sweep failed --out " + out),
                     "0 completed models");
  expect_usage_error(run_nds("refine " + db() + " --sweep rx --out " + dir_.file("no/such/x.json")),
                     "does not exist");
  expect_usage_error(run_nds("refine " + db() + " --sweep rx --out " + out + " --bootstrap -1"),
                     "--bootstrap");
  EXPECT_FALSE(dir_.files().count("new.json"));
}

TEST_F(AnalyzeCli, RefineWritesASpaceNdsSampleAccepts) {
  const std::string out = dir_.file("rx_next.json");
  const CmdResult r = run_nds("refine " + db() + " --sweep rx --out " + out + " --bootstrap 1000");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "w_0: [8, 256] -> [")) << r.out;
  EXPECT_TRUE(contains(r.out, "wrote " + out)) << r.out;
  const json space = read_json(out);
  EXPECT_EQ(space["parent"], "rx");
  EXPECT_EQ(space["name"], "rx_refined");
  const sampler::DesignSpace parsed = sampler::parse_design_space(space, out);
  EXPECT_LE(parsed.params.at("w_0").high - parsed.params.at("w_0").low, 256 - 8);
  const CmdResult s = run_nds("sample --space " + out + " -n 3");
  EXPECT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(std::count(s.out.begin(), s.out.end(), '\n'), 3) << s.out;

  // No overwrite without --force; nothing else left in the directory.
  const std::string before = read_bytes(out);
  expect_usage_error(run_nds("refine " + db() + " --sweep rx --out " + out), "--force");
  EXPECT_EQ(read_bytes(out), before);
  const CmdResult f =
      run_nds("refine " + db() + " --sweep rx --out " + out + " --force --name next --seed 3");
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_EQ(read_json(out)["name"], "next");
  for (const std::string& file : dir_.files())
    EXPECT_EQ(file.find(".tmp"), std::string::npos) << file;
}

TEST_F(AnalyzeCli, RefineProposesTheNextAnynetConstraintWithItsEvidence) {
  const std::string out = dir_.file("ax_b.json");
  const CmdResult r = run_nds("refine " + db() + " --sweep ax --out " + out + " --bootstrap 500");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out,
                       "next AnyNet constraint: shared bottleneck_ratios (AnyNetX_B): "
                       "added"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "KS D")) << r.out;
  const json space = read_json(out);
  EXPECT_EQ(space["constraints"]["shared"], json::array({"bottleneck_ratios"}));
  EXPECT_EQ(run_nds("sample --space " + out + " -n 1").code, 0);
}

}  // namespace
}  // namespace nds::reports
