// nds sweep --recipe-of with trials that train nothing (--test-runner noop):
// the new sweep reruns the first K samples of another (same models, same
// training seeds) as its sibling, resumes like any sweep, refuses what would
// change the samples, and nds analyze compares the two without --compare;
// a database of schema version 4 is migrated and then works.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/reader.h"
#include "store/schema.h"
#include "tests/cli_testing.h"
#include "tests/store_testing.h"

namespace nds::store {
namespace {

using namespace cli_testing;  // tests/cli_testing.h: running nds, scratch folders
using nlohmann::json;

// Sweep a: 6 samples of regnet_x_cifar with one reference, seed 5.
std::string sweep_a(const ScratchDir& dir) {
  return "sweep --space regnet_x_cifar -n 6 --seed 5 --include resnet18 --db " + dir.file("r.db") +
         " --name a --test-runner noop --quiet";
}

// A sweep of a's samples named `name` with `extra` options.
std::string sibling(const ScratchDir& dir, const std::string& name, const std::string& extra) {
  return "sweep --recipe-of a --db " + dir.file("r.db") + " --name " + name + " --quiet " + extra;
}

class SweepSibling : public ::testing::Test {
 protected:
  void SetUp() override {
    const CmdResult a = run_nds(sweep_a(dir_));
    ASSERT_EQ(a.code, 0) << a.err;
  }
  ScratchDir dir_{"sweep_sibling"};
};

TEST_F(SweepSibling, RerunsTheFirstSamplesAsASibling) {
  const std::string b = sibling(dir_, "b", "-n 4 --test-runner noop:1");
  const CmdResult first = run_nds(b);
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("5 COMPLETE"), std::string::npos) << first.out;  // 4 + the reference

  const Reader r(dir_.file("r.db"));
  const SweepSummary sa = r.sweep("a");
  const SweepSummary sb = r.sweep("b");
  EXPECT_EQ(sb.sibling_of, "a");
  EXPECT_EQ(sa.sibling_of, "");
  EXPECT_EQ(sb.seed, 5);
  EXPECT_EQ(sb.sample_size, 5);
  EXPECT_EQ(json::parse(sb.space_json), json::parse(sa.space_json));
  EXPECT_EQ(json::parse(sb.recipe_json), (json{{"test_runner", "noop:1"}}));
  EXPECT_EQ(r.siblings_of("a"), std::vector<std::string>{"b"});
  const auto ta = r.trials("a");
  const auto tb = r.trials("b");
  ASSERT_EQ(ta.size(), 7u);
  ASSERT_EQ(tb.size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(tb[i].model_hash, ta[i].model_hash) << i;
    EXPECT_EQ(tb[i].seed, ta[i].seed) << i;
    EXPECT_EQ(tb[i].reference, "");
  }
  EXPECT_EQ(tb[4].reference, "resnet18");  // its references too, after its samples
  EXPECT_EQ(tb[4].model_hash, ta[6].model_hash);

  // The same command resumes; more samples of a grow it.
  const CmdResult again = run_nds(b);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("this run: 0 finished"), std::string::npos) << again.out;
  const CmdResult grown = run_nds(sibling(dir_, "b", "-n 6 --test-runner noop:1"));
  ASSERT_EQ(grown.code, 0) << grown.err;
  const auto all = Reader(dir_.file("r.db")).trials("b");
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[5].model_hash, ta[5].model_hash);

  // nds query --sweeps names the sibling next to the parent.
  const CmdResult q = run_nds("query --db " + dir_.file("r.db") + " --sweeps --format csv");
  ASSERT_EQ(q.code, 0) << q.err;
  const std::vector<std::string> rows = lines(q.out);
  ASSERT_EQ(rows.size(), 3u) << q.out;
  EXPECT_EQ(rows[0].rfind("id,name,family,sample_size,seed,parent,sibling_of,", 0), 0u) << rows[0];
  EXPECT_EQ(rows[2].rfind("2,b,regnet,7,5,,a,", 0), 0u) << rows[2];
}

TEST_F(SweepSibling, TakesAllSamplesByDefault) {
  ASSERT_EQ(run_nds(sibling(dir_, "b", "--test-runner noop:1")).code, 0);
  EXPECT_EQ(Reader(dir_.file("r.db")).trials("b").size(), 7u);  // 6 samples, 1 reference
}

TEST_F(SweepSibling, RefusesWhatWouldChangeItsSamples) {
  const std::string bytes = read_bytes(dir_.file("r.db"));
  const auto refused = [&](const std::string& name, const std::string& extra,
                           const std::string& needle) {
    expect_usage_error(run_nds(sibling(dir_, name, extra)), needle);
  };
  refused("b", "--test-runner noop", "the recipe of b would equal a's; give a training option");
  refused("b", "-n 7 --test-runner noop:1", "-n 7 is not in 1..6: sweep 'a' has 6 samples");
  refused("b", "-n 0 --test-runner noop:1", "-n 0 is not in 1..6");
  refused("a", "--test-runner noop:1", "--name a is the sweep --recipe-of names");
  for (const std::string option : {"--space regnet_x_cifar", "--seed 5", "--flops :50M",
                                   "--include resnet18", "--resolution 32", "--classes 10"})
    refused("b", option + " --test-runner noop:1",
            option.substr(0, option.find(' ')) + " comes from the sweep --recipe-of names");
  refused("b", "--test-runner noop:1 --epochs 3", "unknown option '--epochs'");
  expect_usage_error(
      run_nds("sweep --recipe-of zz --db " + dir_.file("r.db") + " --name b --test-runner noop:1"),
      "no sweep 'zz' in");
  expect_usage_error(run_nds("sweep --recipe-of a --name b --test-runner noop:1"), "missing --db");
  EXPECT_EQ(read_bytes(dir_.file("r.db")), bytes);

  // A sibling is resumed as a sibling of the same sweep, not as a plain
  // sweep nor as another's sibling.
  ASSERT_EQ(run_nds(sibling(dir_, "b", "-n 2 --test-runner noop:1")).code, 0);
  ASSERT_EQ(run_nds(sibling(dir_, "c", "-n 2 --test-runner noop:2")).code, 0);
  const std::string after = read_bytes(dir_.file("r.db"));
  expect_usage_error(run_nds("sweep --space regnet_x_cifar -n 2 --seed 5 --include resnet18 --db " +
                             dir_.file("r.db") + " --name b --test-runner noop:1"),
                     "sweep 'b' in " + dir_.file("r.db") + " was made with --recipe-of a");
  expect_usage_error(run_nds("sweep --recipe-of c --db " + dir_.file("r.db") +
                             " --name b -n 2 --test-runner noop:1"),
                     "was made with --recipe-of a, not --recipe-of c");
  EXPECT_EQ(read_bytes(dir_.file("r.db")), after);
}

// Without --compare, nds analyze compares a sweep with the sweep it is a
// sibling of and with its own siblings, parent first, each once.
TEST_F(SweepSibling, AnalyzeComparesSiblingsByDefault) {
  ASSERT_EQ(run_nds(sibling(dir_, "b", "-n 4 --test-runner noop:1")).code, 0);
  ASSERT_EQ(run_nds(sibling(dir_, "c", "-n 3 --test-runner noop:2")).code, 0);
  const auto names = [&](const std::string& sweep) {
    const CmdResult r = run_nds("analyze --db " + dir_.file("r.db") + " --sweep " + sweep +
                                " --json --bootstrap 50");
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<std::string> out;
    const json doc = stdout_json(r);
    for (const json& s : doc.at("sweeps")) out.push_back(s.at("name").get<std::string>());
    return out;
  };
  EXPECT_EQ(names("a"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(names("b"), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(names("c"), (std::vector<std::string>{"c", "a"}));
  const CmdResult chosen =
      run_nds("analyze --db " + dir_.file("r.db") + " --sweep b --compare c --json --bootstrap 50");
  ASSERT_EQ(chosen.code, 0) << chosen.err;
  EXPECT_EQ(stdout_json(chosen)["sweeps"].size(), 2u);  // --compare replaces the default
  EXPECT_EQ(stdout_json(chosen)["sweeps"][1]["name"], "c");
}

// Makes the database at `path` what nds wrote at schema version 4: its
// sweeps without sibling_of.
void downgrade_to_v4(const std::string& path) {
  Db db(path, Db::Mode::kReadWrite);
  const std::string view = *db.query_text("SELECT sql FROM sqlite_schema WHERE name = 'results'");
  db.exec("DROP VIEW results");
  testing::drop_sibling_of(db);
  db.exec(view +
          "; UPDATE meta SET value = '4' WHERE key = 'schema_version'; "
          "PRAGMA user_version = 4");
}

TEST_F(SweepSibling, DatabaseOfVersion4IsMigratedAndThenTakesSiblings) {
  downgrade_to_v4(dir_.file("r.db"));
  EXPECT_EQ(Db(dir_.file("r.db"), Db::Mode::kReadOnly)
                .query_int("SELECT count(*) FROM pragma_table_info('sweeps') "
                           "WHERE name = 'sibling_of'"),
            0);
  // Readers never migrate: --recipe-of says how, and changes nothing.
  const std::string bytes = read_bytes(dir_.file("r.db"));
  expect_usage_error(run_nds(sibling(dir_, "b", "--test-runner noop:1")),
                     "has schema version 4; open it for writing once");
  EXPECT_EQ(read_bytes(dir_.file("r.db")), bytes);
  // Any writer migrates it: the same sweep command resumes a.
  const CmdResult resumed = run_nds(sweep_a(dir_));
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(Reader(dir_.file("r.db")).schema_version(), kSchemaVersion);
  EXPECT_EQ(Reader(dir_.file("r.db")).sweep("a").sibling_of, "");
  const CmdResult b = run_nds(sibling(dir_, "b", "-n 2 --test-runner noop:1"));
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(Reader(dir_.file("r.db")).sweep("b").sibling_of, "a");
}

}  // namespace
}  // namespace nds::store
