// TrainHooks: on_epoch sees every epoch with the metrics the result keeps,
// on_step sees every step, hooks leave the training itself unchanged, and a
// stop from on_step ends training early with only finished epochs kept.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "space/family.h"
#include "trainer/builder.h"
#include "trainer/data.h"
#include "trainer/train.h"

namespace {

using nds::trainer::Dataset;
using nds::trainer::EpochMetrics;
using nds::trainer::TrainConfig;
using nds::trainer::TrainHooks;
using nds::trainer::TrainResult;

// Tiny on purpose: a plain two-stage network on 8x8 images, under a second a run.
nds::NetSpec tiny_net() {
  return nds::expand_params({{"family", "anynet"},
                             {"stem_type", "simple_stem_in"},
                             {"stem_w", 8},
                             {"block_type", "vanilla_block"},
                             {"depths", {1, 1}},
                             {"widths", {8, 16}},
                             {"strides", {1, 2}}},
                            {3, 4});
}

Dataset tiny_data() {
  nds::trainer::DataOptions opt;
  opt.classes = 4;
  opt.resolution = 8;
  opt.synthetic_train = 128;
  opt.synthetic_test = 64;
  opt.seed = 5;
  return nds::trainer::load_dataset(nds::trainer::parse_data_source("synthetic"), opt);
}

TrainConfig tiny_config() {
  TrainConfig c;
  c.epochs = 3;
  c.batch_size = 32;  // 4 steps an epoch
  c.threads = 1;
  c.seed = 9;
  return c;
}

TrainResult run(const Dataset& data, const TrainConfig& c, const TrainHooks& hooks = {}) {
  nds::trainer::Net net = nds::trainer::build_net(tiny_net(), c.seed, c.init());
  return nds::trainer::train(net, data, c, nullptr, hooks);
}

void expect_same(const EpochMetrics& a, const EpochMetrics& b) {
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.lr, b.lr);
  EXPECT_EQ(a.train_loss, b.train_loss);
  EXPECT_EQ(a.train_top1_err, b.train_top1_err);
  EXPECT_EQ(a.train_top5_err, b.train_top5_err);
  EXPECT_EQ(a.test_top1_err, b.test_top1_err);
  EXPECT_EQ(a.test_top5_err, b.test_top5_err);
  EXPECT_EQ(a.train_seconds, b.train_seconds);
  EXPECT_EQ(a.eval_seconds, b.eval_seconds);
}

TEST(TrainerHooks, EveryEpochAndStepIsSeenAndTrainingIsUnchanged) {
  const Dataset data = tiny_data();
  const TrainConfig c = tiny_config();
  std::vector<EpochMetrics> seen;
  std::vector<int64_t> steps;
  TrainHooks hooks;
  hooks.on_epoch = [&](const EpochMetrics& m) { seen.push_back(m); };
  hooks.on_step = [&](int64_t step) {
    steps.push_back(step);
    return false;
  };
  const TrainResult with = run(data, c, hooks);
  EXPECT_FALSE(with.stopped);
  ASSERT_EQ(with.epochs.size(), 3u);
  ASSERT_EQ(seen.size(), with.epochs.size());
  for (size_t e = 0; e < seen.size(); ++e) {
    SCOPED_TRACE(e);
    expect_same(seen[e], with.epochs[e]);
    EXPECT_GE(seen[e].test_top1_err, 0);  // evaluated before it is reported
  }
  ASSERT_EQ(static_cast<int64_t>(steps.size()), with.steps);
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i], static_cast<int64_t>(i) + 1);

  // The same run without hooks: the same numbers, bit for bit.
  const TrainResult without = run(data, c);
  ASSERT_EQ(without.epochs.size(), with.epochs.size());
  for (size_t e = 0; e < with.epochs.size(); ++e) {
    EXPECT_EQ(without.epochs[e].train_loss, with.epochs[e].train_loss) << e;
    EXPECT_EQ(without.epochs[e].test_top1_err, with.epochs[e].test_top1_err) << e;
  }
}

TEST(TrainerHooks, AStopFromOnStepEndsTrainingEarly) {
  const Dataset data = tiny_data();
  TrainConfig c = tiny_config();
  c.epochs = 50;  // would take many seconds if the stop were ignored
  std::vector<EpochMetrics> seen;
  int64_t calls = 0;
  TrainHooks hooks;
  hooks.on_epoch = [&](const EpochMetrics& m) { seen.push_back(m); };
  hooks.on_step = [&](int64_t step) {
    ++calls;
    return step == 6;  // in the middle of epoch 2
  };
  const TrainResult r = run(data, c, hooks);
  EXPECT_TRUE(r.stopped);
  EXPECT_FALSE(r.diverged);
  EXPECT_EQ(r.steps, 6);
  EXPECT_EQ(calls, 6);
  // Epoch 1 finished and was reported; the unfinished epoch 2 is in neither.
  ASSERT_EQ(r.epochs.size(), 1u);
  ASSERT_EQ(seen.size(), 1u);
  expect_same(seen[0], r.epochs[0]);
  EXPECT_EQ(r.epochs[0].steps, 4);

  // A stop at the very first step leaves no epoch at all.
  hooks.on_step = [](int64_t) { return true; };
  seen.clear();
  const TrainResult first = run(data, c, hooks);
  EXPECT_TRUE(first.stopped);
  EXPECT_EQ(first.steps, 1);
  EXPECT_TRUE(first.epochs.empty());
  EXPECT_TRUE(seen.empty());
}

TEST(TrainerHooks, ADivergedEpochIsReportedToo) {
  const Dataset data = tiny_data();
  TrainConfig c = tiny_config();
  c.lr = 1e30;
  c.warmup_epochs = 0;
  std::vector<EpochMetrics> seen;
  TrainHooks hooks;
  hooks.on_epoch = [&](const EpochMetrics& m) { seen.push_back(m); };
  const TrainResult r = run(data, c, hooks);
  ASSERT_TRUE(r.diverged);
  ASSERT_EQ(seen.size(), r.epochs.size());
  for (size_t e = 0; e < seen.size(); ++e) EXPECT_EQ(seen[e].epoch, r.epochs[e].epoch);
}

}  // namespace
