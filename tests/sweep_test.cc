// sweep/ without the CLI: the trial list and its seeds, and a plan run in
// one process with the no-op runner through sweep::Sweep's interface
// (create, resume, grow, refuse).

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sampler/builtin_spaces.h"
#include "store/reader.h"
#include "sweep/plan.h"
#include "sweep/sweep.h"
#include "sweep/trials.h"
#include "tests/store_testing.h"

namespace nds::sweep {
namespace {

using store::testing::ScratchDir;

Plan noop_plan(const std::string& db, int64_t n) {
  Plan p;
  p.db = db;
  p.name = "lib";
  p.n = n;
  p.seed = 7;
  p.space = sampler::builtin_space("regnet_x_cifar");
  p.runner = "noop";
  p.recipe = {{"test_runner", "noop"}};
  p.device_kind = "noop";
  p.nds_version = "test";
  p.quiet = true;
  return p;
}

// The no-op runner never asks for the trainer.
std::unique_ptr<cluster::TrialRunner> no_trainer(const nlohmann::json&, const std::string&,
                                                 const cluster::RunnerOptions&,
                                                 const std::string&) {
  throw std::logic_error("the trainer was asked for");
}

TEST(Trials, SamplesAreAPureFunctionOfTheirIndexAndReferencesFollow) {
  Plan p = noop_plan("unused.db", 5);
  const std::vector<store::NewTrial> five = make_samples(p);
  p.n = 3;
  std::vector<store::NewTrial> three = make_samples(p);
  ASSERT_EQ(five.size(), 5u);
  ASSERT_EQ(three.size(), 3u);
  std::set<int64_t> seeds;
  for (size_t i = 0; i < three.size(); ++i) {
    EXPECT_EQ(three[i].model.hash, five[i].model.hash);
    EXPECT_EQ(three[i].seed, five[i].seed);
    EXPECT_EQ(three[i].seed, trial_seed(7, i));
    EXPECT_GE(three[i].seed, 0);
    seeds.insert(three[i].seed);
  }
  EXPECT_EQ(seeds.size(), 3u);
  p.space.include = {"resnet18"};
  add_references(p, three);
  ASSERT_EQ(three.size(), 4u);
  EXPECT_EQ(three[3].reference, "resnet18");
  EXPECT_EQ(three[3].seed, trial_seed(7, 3));
}

TEST(Sweep, RunsAPlanInProcessThenResumesAndGrowsIt) {
  ScratchDir dir;
  std::ostringstream log;
  {
    Sweep sweep(no_trainer, log);
    ASSERT_TRUE(sweep.is_root());
    const Start start = sweep.open(noop_plan(dir.file("s.db"), 3));
    EXPECT_EQ(start.total, 3);
    EXPECT_FALSE(start.resumed);
    EXPECT_EQ(start.ranks, 1);
    const Summary s = sweep.run();
    EXPECT_TRUE(s.farm.store_error.empty());
    EXPECT_EQ(s.farm.dispatched, 3);
    EXPECT_EQ(s.counts[store::TrialState::kComplete], 3);
    EXPECT_EQ(s.trainers, 1);
  }
  {
    Sweep sweep(no_trainer, log);
    const Start start = sweep.open(noop_plan(dir.file("s.db"), 5));
    EXPECT_TRUE(start.resumed);
    EXPECT_EQ(start.grown_from, 3);
    EXPECT_EQ(start.complete, 3);
    const Summary s = sweep.run();
    EXPECT_EQ(s.farm.dispatched, 2);
    EXPECT_EQ(s.counts[store::TrialState::kComplete], 5);
  }
  store::Reader reader(dir.file("s.db"));
  EXPECT_EQ(reader.db().query_int("SELECT count(*) FROM trials WHERE state = 'COMPLETE'"), 5);
  EXPECT_EQ(log.str(), "");  // quiet
}

TEST(Sweep, RefusesAnotherExperimentUnderTheSameName) {
  ScratchDir dir;
  std::ostringstream log;
  {
    Sweep sweep(no_trainer, log);
    sweep.open(noop_plan(dir.file("s.db"), 2));
  }
  const std::string before = store::testing::read_bytes(dir.file("s.db"));
  Plan other = noop_plan(dir.file("s.db"), 2);
  other.seed = 8;
  Sweep sweep(no_trainer, log);
  try {
    sweep.open(other);
    FAIL() << "a different seed was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "sweep 'lib' in " + dir.file("s.db") +
                                         " was made with --seed 7, not 8; run it with its own "
                                         "options, or use a new --name");
  }
  EXPECT_EQ(store::testing::read_bytes(dir.file("s.db")), before);
  // A new database that cannot hold the sweep is removed again.
  Plan orphan = noop_plan(dir.file("new.db"), 2);
  orphan.space.parent = "nowhere";
  EXPECT_THROW(sweep.open(orphan), std::invalid_argument);
  EXPECT_EQ(dir.files().count("new.db"), 0u);
}

}  // namespace
}  // namespace nds::sweep
