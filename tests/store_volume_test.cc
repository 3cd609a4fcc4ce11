// Volume: 100,000 trial results with per-epoch metrics written through the
// writer's state machine and read back bit for bit (about 4 s of CPU in
// Release, 12 s under ASan).

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "store/reader.h"
#include "store/store.h"
#include "tests/store_testing.h"

namespace nds::store {
namespace {

using testing::fake_result;
using testing::fake_sweep;
using testing::ScratchDir;

// Doubles compare bit for bit (NaN == NaN).
bool same(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Lighter than testing::fake_model: JSON building would dominate the test.
ModelRecord light_model(int64_t i) {
  ModelRecord m;
  m.hash = testing::hash_of(i);
  m.family = "regnet";
  m.family_params = {{"family", "regnet"}, {"depth", 10 + i % 15}};
  m.spec = {{"n", i}};
  m.cost = {1000 + i, 200000 + 3 * i, 5000 + 7 * i};
  return m;
}

TEST(StoreVolume, HundredThousandTrialsRoundTripExactly) {
  constexpr int64_t kTrials = 100000;
  constexpr int kEpochs = 5;
  ScratchDir dir;
  const auto start = std::chrono::steady_clock::now();
  std::vector<TrialResult> results;
  results.reserve(kTrials);
  {
    StoreOptions o;
    o.batch_ops = 5000;
    Store s(dir.file("r.db"), o);
    std::vector<NewTrial> trials;
    trials.reserve(kTrials);
    for (int64_t i = 0; i < kTrials; ++i) trials.push_back({light_model(i), 1000 + i, ""});
    const int64_t id = s.create_sweep(fake_sweep("big"), trials);
    for (int64_t i = 0; i < kTrials; ++i) {
      const auto c = s.claim(id, {i % 64, "node", "cuda"});
      ASSERT_TRUE(c);
      ASSERT_EQ(c->sample_index, i);
      results.push_back(fake_result(static_cast<uint64_t>(i), kEpochs));
      if (i % 1000 == 7) results.back().train_loss = std::nan("");  // unmeasured: NULL
      ASSERT_TRUE(s.complete(c->trial_id, results.back()));
    }
  }
  const double write_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  Reader r(dir.file("r.db"));
  int64_t n = 0;
  int64_t epochs = 0;
  r.for_each_trial_with_epochs("big", false, [&](const TrialRecord& t, const auto& got) {
    ASSERT_EQ(t.sample_index, n);
    const TrialResult& want = results[static_cast<size_t>(n)];
    EXPECT_EQ(t.state, TrialState::kComplete);
    EXPECT_TRUE(same(t.top1_err, want.top1_err)) << n;
    EXPECT_TRUE(same(t.top5_err, want.top5_err)) << n;
    EXPECT_TRUE(same(t.best_top1_err, want.best_top1_err)) << n;
    EXPECT_TRUE(same(t.best_top5_err, want.best_top5_err)) << n;
    EXPECT_TRUE(same(t.train_loss, want.train_loss)) << n;
    EXPECT_TRUE(same(t.train_seconds, want.train_seconds)) << n;
    EXPECT_TRUE(same(t.images_per_sec, want.images_per_sec)) << n;
    EXPECT_EQ(t.epochs_done, kEpochs);
    EXPECT_EQ(t.model_hash, testing::hash_of(n));
    ASSERT_EQ(got.size(), static_cast<size_t>(kEpochs)) << n;
    for (size_t e = 0; e < got.size(); ++e) {
      const EpochMetrics& a = got[e];
      const EpochMetrics& b = want.epochs[e];
      EXPECT_EQ(a.epoch, b.epoch);
      EXPECT_TRUE(
          same(a.train_loss, b.train_loss) && same(a.train_top1_err, b.train_top1_err) &&
          same(a.train_top5_err, b.train_top5_err) && same(a.test_top1_err, b.test_top1_err) &&
          same(a.test_top5_err, b.test_top5_err) && same(a.lr, b.lr) && same(a.seconds, b.seconds))
          << "trial " << n << " epoch " << b.epoch;
      ++epochs;
    }
    ++n;
  });
  EXPECT_EQ(n, kTrials);
  EXPECT_EQ(epochs, kTrials * kEpochs);
  const auto best = r.best("big", 3);
  ASSERT_EQ(best.size(), 3u);
  EXPECT_LE(best[0].top1_err, best[1].top1_err);
  EXPECT_LE(best[1].top1_err, best[2].top1_err);
  std::printf("[ info ] wrote %lld trials x %d epochs in %.2f s (%.0f trials/s)\n",
              static_cast<long long>(kTrials), kEpochs, write_s,
              static_cast<double>(kTrials) / write_s);
}

}  // namespace
}  // namespace nds::store
