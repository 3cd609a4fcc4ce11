// The results database: schema, sweeps and models, the trial state machine,
// batching, read-back, and the read-only SQL guard.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "space/family.h"
#include "store/reader.h"
#include "store/schema.h"
#include "store/sql_guard.h"
#include "store/store.h"
#include "tests/store_testing.h"

namespace nds::store {
namespace {

using testing::fake_model;
using testing::fake_result;
using testing::fake_sweep;
using testing::fake_trials;
using testing::ScratchDir;

// Doubles compare bit for bit (NaN == NaN).
bool same(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

StoreOptions options_with_clock(double* t) {
  StoreOptions o;
  o.nds_version = "0.1.0-test";
  o.clock = [t] { return *t; };
  return o;
}

TEST(Store, CreatesVersionedSchema) {
  ScratchDir dir;
  const std::string path = dir.file("r.db");
  {
    Store s(path, {});
    EXPECT_EQ(s.schema_version_before(), 0);
    EXPECT_EQ(s.journal_mode(), JournalMode::kWal);
    EXPECT_EQ(s.filesystem(), "local");
    EXPECT_EQ(s.db().query_text("SELECT value FROM meta WHERE key = 'schema_version'"),
              std::to_string(kSchemaVersion));
    EXPECT_EQ(s.db().query_int("PRAGMA application_id"), kApplicationId);
    EXPECT_EQ(s.db().query_text("PRAGMA journal_mode"), "wal");
    for (const char* table : {"meta", "sweeps", "models", "trials", "epochs", "events"})
      EXPECT_EQ(s.db().query_int(std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") +
                                 table + "'"),
                1)
          << table;
  }
  // Closed: back to one self-contained file in rollback mode, lock released.
  EXPECT_EQ(dir.files(), std::set<std::string>{"r.db"});
  Store again(path, {});
  EXPECT_EQ(again.schema_version_before(), kSchemaVersion);
  Reader r(path);
  EXPECT_EQ(r.schema_version(), kSchemaVersion);
}

TEST(Store, RollbackJournalWhenAsked) {
  ScratchDir dir;
  StoreOptions o;
  o.journal = JournalMode::kDelete;
  Store s(dir.file("r.db"), o);
  EXPECT_EQ(s.journal_mode(), JournalMode::kDelete);
  EXPECT_EQ(s.db().query_text("PRAGMA journal_mode"), "delete");
  EXPECT_EQ(s.db().query_int("PRAGMA synchronous"), 2);  // FULL
  EXPECT_FALSE(on_network_filesystem(dir.path()));
  EXPECT_EQ(parse_journal_mode("wal"), JournalMode::kWal);
  EXPECT_THROW(parse_journal_mode("truncate"), std::invalid_argument);
}

TEST(Store, SweepsModelsAndWaitingTrials) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  const int64_t a = s.create_sweep(fake_sweep("a"), fake_trials(5));
  EXPECT_EQ(s.counts(a)[TrialState::kWaiting], 5);
  EXPECT_EQ(s.counts(a).total(), 5);
  // A refined sweep re-using two of the models: models are shared by hash.
  auto trials = fake_trials(2, 3);
  trials.push_back({fake_model(100), 1, ""});
  const int64_t b = s.create_sweep(fake_sweep("b", "a"), trials);
  EXPECT_EQ(s.db().query_int("SELECT count(*) FROM models"), 6);
  EXPECT_EQ(s.db().query_int("SELECT parent_id FROM sweeps WHERE id = " + std::to_string(b)), a);
  EXPECT_EQ(s.find_sweep("b"), b);
  EXPECT_EQ(s.find_sweep("c"), std::nullopt);

  Reader r(dir.file("r.db"));
  const auto sweeps = r.sweeps();
  ASSERT_EQ(sweeps.size(), 2u);
  EXPECT_EQ(sweeps[1].name, "b");
  EXPECT_EQ(sweeps[1].parent, "a");
  EXPECT_EQ(sweeps[1].sample_size, 3);
  EXPECT_EQ(sweeps[1].torch_version, "2.3.0");
  EXPECT_EQ(sweeps[1].world_size, 4);
  EXPECT_TRUE(std::isnan(sweeps[1].best_top1_err));
  const auto t = r.trials("b");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].model_hash, fake_model(3).hash);
  EXPECT_EQ(t[0].seed, 1000);
  EXPECT_EQ(t[0].depth, 13);
  EXPECT_EQ(t[0].w_0, 8 * 4);
  EXPECT_EQ(t[0].group_width, 8);
  EXPECT_EQ(t[0].params, 1003);
  EXPECT_EQ(t[0].flops, 200009);
  EXPECT_EQ(nlohmann::json::parse(t[0].params_json), fake_model(3).family_params);
  const auto full = r.sweep("a");
  EXPECT_EQ(nlohmann::json::parse(full.space_json), fake_sweep("a").space);
  EXPECT_EQ(nlohmann::json::parse(full.recipe_json), fake_sweep("a").recipe);
}

// A sweep made as another's sibling (nds sweep --recipe-of) names it; the
// other lists its siblings in id order; an unknown sibling is refused.
TEST(Store, SiblingSweeps) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  s.create_sweep(fake_sweep("a"), fake_trials(4));
  SweepDef b = fake_sweep("b");
  b.sibling_of = "a";
  const int64_t b_id = s.create_sweep(b, fake_trials(2));
  SweepDef c = fake_sweep("c", "a");
  c.sibling_of = "a";
  s.create_sweep(c, fake_trials(1));
  SweepDef bad = fake_sweep("d");
  bad.sibling_of = "nope";
  try {
    s.create_sweep(bad, fake_trials(1));
    ADD_FAILURE() << "an unknown sibling was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "sibling sweep 'nope' of 'd' is not in '" + dir.file("r.db") + "'");
  }
  s.flush();
  EXPECT_EQ(s.db().query_int("SELECT sibling_of FROM sweeps WHERE id = " + std::to_string(b_id)),
            *s.find_sweep("a"));

  Reader r(dir.file("r.db"));
  const auto sweeps = r.sweeps();
  ASSERT_EQ(sweeps.size(), 3u);
  EXPECT_EQ(sweeps[0].sibling_of, "");
  EXPECT_EQ(sweeps[1].sibling_of, "a");
  EXPECT_EQ(sweeps[1].parent, "");
  EXPECT_EQ(sweeps[2].sibling_of, "a");
  EXPECT_EQ(sweeps[2].parent, "a");
  EXPECT_EQ(r.sweep("b").sibling_of, "a");
  EXPECT_EQ(r.siblings_of("a"), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(r.siblings_of("b").empty());
  EXPECT_THROW(r.siblings_of("nope"), std::invalid_argument);
}

TEST(Store, ScalarColumnsFromRealFamilies) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  const nlohmann::json regnet = {{"family", "regnet"}, {"depth", 13}, {"w_0", 24},
                                 {"w_a", 36.44},       {"w_m", 2.49}, {"group_width", 8}};
  const nlohmann::json anynet = {{"family", "anynet"},
                                 {"depths", {1, 2, 4, 7}},
                                 {"widths", {32, 64, 128, 256}},
                                 {"strides", {2, 2, 2, 2}},
                                 {"bottleneck_ratios", {1, 1, 1, 1}},
                                 {"group_widths", {16, 16, 16, 16}},
                                 {"block_type", "res_bottleneck_block"}};
  std::vector<NewTrial> trials;
  for (const auto& p : {regnet, anynet}) {
    ModelRecord m;
    m.hash = "h" + std::to_string(trials.size());
    m.family = p["family"];
    m.family_params = p;
    m.spec = to_json(expand_params(p));
    trials.push_back({m, 1, ""});
  }
  s.create_sweep(fake_sweep("a"), trials);
  Statement q = s.db().prepare(
      "SELECT depth, w_0, w_a, w_m, group_width, bottleneck_ratio, spec_json FROM models ORDER BY "
      "id");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 13);
  EXPECT_EQ(q.real(1), 24);
  EXPECT_EQ(q.real(2), 36.44);
  EXPECT_EQ(q.real(3), 2.49);
  EXPECT_EQ(q.int64(4), 8);
  EXPECT_TRUE(q.is_null(5));
  // The stored spec expands back to the same network.
  EXPECT_EQ(to_json(net_spec_from_json(nlohmann::json::parse(q.text(6)))),
            to_json(expand_params(regnet)));
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 14);  // total depth
  EXPECT_TRUE(q.is_null(1));
  EXPECT_EQ(q.int64(4), 16);  // one group width shared by every stage
  EXPECT_EQ(q.real(5), 1.0);
}

TEST(Store, RejectsBadSweeps) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  s.create_sweep(fake_sweep("a"), fake_trials(1));
  EXPECT_THROW(s.create_sweep(fake_sweep("a"), fake_trials(1)), std::invalid_argument);
  for (const char* bad : {"", "-x", "a b", "a/b", "é"})
    EXPECT_THROW(s.create_sweep(fake_sweep(bad), fake_trials(1)), std::invalid_argument) << bad;
  EXPECT_THROW(s.create_sweep(fake_sweep("b", "nope"), fake_trials(1)), std::invalid_argument);
  EXPECT_THROW(s.create_sweep(fake_sweep("b"), {}), std::invalid_argument);
  try {
    s.create_sweep(fake_sweep("a"), fake_trials(1));
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'a' already exists"), std::string::npos) << e.what();
  }
  // Same hash, different network: refused, and the sweep is not half-created.
  auto clash = fake_trials(2);
  clash[1].model.hash = clash[0].model.hash;
  EXPECT_THROW(s.create_sweep(fake_sweep("c"), clash), StoreError);
  EXPECT_EQ(s.find_sweep("c"), std::nullopt);
  EXPECT_EQ(s.db().query_int("SELECT count(*) FROM trials"), 1);
  EXPECT_EQ(s.db().query_int("SELECT count(*) FROM models"), 1);
}

TEST(Store, ClaimHeartbeatComplete) {
  ScratchDir dir;
  double t = 1000;
  Store s(dir.file("r.db"), options_with_clock(&t));
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(3));
  const auto c0 = s.claim(id, {2, "node7", "cuda:0"});
  ASSERT_TRUE(c0);
  EXPECT_EQ(c0->sample_index, 0);
  EXPECT_EQ(c0->attempt, 0);
  EXPECT_EQ(c0->seed, 1000);
  EXPECT_EQ(c0->model_hash, fake_model(0).hash);
  EXPECT_EQ(nlohmann::json::parse(c0->spec_json), fake_model(0).spec);
  EXPECT_EQ(nlohmann::json::parse(c0->family_params_json), fake_model(0).family_params);
  const auto c1 = s.claim(id, {3, "node8", "cuda:1"});
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->sample_index, 1);
  EXPECT_EQ(s.counts(id)[TrialState::kRunning], 2);

  t = 1010;
  EXPECT_TRUE(s.heartbeat(c0->trial_id));
  const TrialResult res = fake_result(1, 3);
  EXPECT_TRUE(s.record_epoch(c0->trial_id, res.epochs[0]));
  t = 1020;
  EXPECT_TRUE(s.complete(c0->trial_id, res));
  EXPECT_FALSE(s.complete(c0->trial_id, res));  // not RUNNING any more: a late result
  EXPECT_FALSE(s.heartbeat(c0->trial_id));
  EXPECT_FALSE(s.record_epoch(c0->trial_id, res.epochs[0]));
  EXPECT_TRUE(s.diverge(c1->trial_id, fake_result(2, 1), "loss is nan at epoch 1"));
  TrialResult nan_result = res;
  nan_result.top1_err = std::nan("");
  EXPECT_THROW(s.complete(c0->trial_id, nan_result), std::invalid_argument);
  EXPECT_THROW(s.complete(999999, res), std::invalid_argument);
  s.flush();

  Reader r(dir.file("r.db"));
  const auto all = r.trials("a");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].state, TrialState::kComplete);
  EXPECT_EQ(all[0].rank, 2);
  EXPECT_EQ(all[0].host, "node7");
  EXPECT_EQ(all[0].device, "cuda:0");
  EXPECT_EQ(all[0].started_at, 1000);
  EXPECT_EQ(all[0].finished_at, 1020);
  EXPECT_TRUE(same(all[0].top1_err, res.top1_err));
  EXPECT_EQ(all[0].epochs_done, 3);
  EXPECT_EQ(all[1].state, TrialState::kDiverged);
  EXPECT_EQ(all[1].error, "loss is nan at epoch 1");
  EXPECT_EQ(all[2].state, TrialState::kWaiting);
  EXPECT_EQ(r.epochs(c0->trial_id).size(), 3u);
  EXPECT_EQ(r.best("a", 5).size(), 1u);
  const auto kinds = r.db().query_int("SELECT count(*) FROM events WHERE kind = 'late_result'");
  EXPECT_EQ(kinds, 1);

  // Last one; then nothing is waiting.
  ASSERT_TRUE(s.claim(id, {0, "n", ""}));
  EXPECT_FALSE(s.claim(id, {0, "n", ""}));
}

TEST(Store, RequeuesStaleRunningTrialsKeepingEachAttempt) {
  ScratchDir dir;
  double t = 1000;
  Store s(dir.file("r.db"), options_with_clock(&t));
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(2));
  const auto dead = s.claim(id, {1, "nodeA", ""});
  const auto alive = s.claim(id, {2, "nodeB", ""});
  ASSERT_TRUE(dead && alive);
  t = 1050;
  s.heartbeat(alive->trial_id);
  t = 1100;  // dead's heartbeat is 100 s old, alive's 50 s
  EXPECT_EQ(s.requeue_stale(id, 60), 1);
  StateCounts c = s.counts(id);
  EXPECT_EQ(c[TrialState::kWaiting], 1);
  EXPECT_EQ(c[TrialState::kRunning], 1);
  EXPECT_EQ(c[TrialState::kFailed], 0);  // the failed attempt is no longer the current one
  // The dead worker reports late: refused, the new attempt is untouched.
  EXPECT_FALSE(s.complete(dead->trial_id, fake_result(1, 1)));
  const auto again = s.claim(id, {3, "nodeC", ""});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->sample_index, dead->sample_index);
  EXPECT_EQ(again->attempt, 1);
  EXPECT_EQ(again->seed, dead->seed);
  EXPECT_EQ(again->model_id, dead->model_id);
  // With a limit of 2 attempts, a second stale heartbeat is final.
  t = 1300;
  s.heartbeat(alive->trial_id);
  EXPECT_EQ(s.requeue_stale(id, 60, 2), 0);
  c = s.counts(id);
  EXPECT_EQ(c[TrialState::kFailed], 1);
  EXPECT_EQ(c[TrialState::kRunning], 1);
  s.flush();

  Reader r(dir.file("r.db"));
  TrialQuery q;
  q.all_attempts = true;
  const auto rows = r.trials("a", q);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].attempt, 0);
  EXPECT_EQ(rows[0].state, TrialState::kFailed);
  EXPECT_FALSE(rows[0].latest);
  EXPECT_NE(rows[0].error.find("no heartbeat for 100 s"), std::string::npos) << rows[0].error;
  EXPECT_NE(rows[0].error.find("nodeA"), std::string::npos) << rows[0].error;
  EXPECT_EQ(rows[1].attempt, 1);
  EXPECT_EQ(rows[1].state, TrialState::kFailed);
  EXPECT_TRUE(rows[1].latest);
  EXPECT_EQ(rows[2].state, TrialState::kRunning);
  EXPECT_EQ(r.db().query_int("SELECT count(*) FROM events WHERE kind = 'trial_requeued'"), 1);
  EXPECT_THROW(s.requeue_stale(id, -1), std::invalid_argument);
}

TEST(Store, RequeuesFailedTrialsUpToTheLimit) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(2));
  EXPECT_THROW(s.requeue_failed(id, 0), std::invalid_argument);
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto c = s.claim(id, {0, "n", ""});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sample_index, 0);
    EXPECT_EQ(c->attempt, attempt);
    EXPECT_TRUE(s.fail(c->trial_id, "CUDA out of memory, attempt " + std::to_string(attempt)));
    EXPECT_EQ(s.requeue_failed(id, 3), attempt < 2 ? 1 : 0);
  }
  // Diverged trials are not retried.
  const auto d = s.claim(id, {0, "n", ""});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->sample_index, 1);
  s.diverge(d->trial_id, fake_result(3, 2), "nan");
  EXPECT_EQ(s.requeue_failed(id, 10), 1);  // only sample 0, now allowed 10 attempts
  const StateCounts c = s.counts(id);
  EXPECT_EQ(c[TrialState::kWaiting], 1);
  EXPECT_EQ(c[TrialState::kDiverged], 1);
  s.flush();
  Reader r(dir.file("r.db"));
  TrialQuery q;
  q.all_attempts = true;
  q.state = TrialState::kFailed;
  const auto failed = r.trials("a", q);
  ASSERT_EQ(failed.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(failed[i].attempt, i);
    EXPECT_EQ(failed[i].error, "CUDA out of memory, attempt " + std::to_string(i));
  }
}

TEST(Store, ReleasesRunningTrialsToWaitingInTheSameRow) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(3));
  const auto first = s.claim(id, {1, "n", ""});
  const auto second = s.claim(id, {2, "n", ""});
  ASSERT_TRUE(first && second);
  EpochMetrics e;
  e.epoch = 1;
  e.train_loss = 2;
  ASSERT_TRUE(s.record_epoch(second->trial_id, e));
  EXPECT_TRUE(s.complete(first->trial_id, fake_result(1, 1)));
  EXPECT_FALSE(s.release(first->trial_id));  // COMPLETE stays COMPLETE
  EXPECT_EQ(s.release_running(id), 1);
  EXPECT_FALSE(s.release(second->trial_id));  // already WAITING
  StateCounts c = s.counts(id);
  EXPECT_EQ(c[TrialState::kComplete], 1);
  EXPECT_EQ(c[TrialState::kWaiting], 2);
  // The released sample comes back first, as the same attempt.
  const auto again = s.claim(id, {3, "m", ""});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->trial_id, second->trial_id);
  EXPECT_EQ(again->attempt, 0);
  s.flush();
  Reader r(dir.file("r.db"));
  EXPECT_TRUE(r.epochs(second->trial_id).empty());  // its partial progress is gone
  TrialQuery q;
  q.all_attempts = true;
  EXPECT_EQ(r.trials("a", q).size(), 3u);
  EXPECT_EQ(r.db().query_int("SELECT count(*) FROM events WHERE kind = 'trial_released'"), 1);
}

TEST(Store, ReferenceTrialsKeepTheirNameThroughRetries) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  std::vector<NewTrial> trials = fake_trials(2);
  trials[1].reference = "resnet18";
  const int64_t id = s.create_sweep(fake_sweep("a"), trials);
  const auto sample = s.claim(id, {0, "n", ""});
  const auto ref = s.claim(id, {0, "n", ""});
  ASSERT_TRUE(sample && ref);
  EXPECT_EQ(sample->reference, "");
  EXPECT_EQ(ref->reference, "resnet18");
  EXPECT_TRUE(s.fail(ref->trial_id, "out of memory"));
  EXPECT_EQ(s.requeue_failed(id, 2), 1);
  const auto retry = s.claim(id, {0, "n", ""});
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->reference, "resnet18");
  s.flush();
  Reader r(dir.file("r.db"));
  const auto rows = r.trials("a");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].reference, "");
  EXPECT_EQ(rows[1].reference, "resnet18");
  EXPECT_EQ(r.db().query_text("SELECT reference FROM results WHERE sample_index = 1"), "resnet18");
}

TEST(Store, StoresDataTimeAndSkippedImages) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(3));
  const auto c0 = s.claim(id, {0, "n", ""});
  const auto c1 = s.claim(id, {0, "n", ""});
  ASSERT_TRUE(c0 && c1);
  TrialResult res = fake_result(1, 2);
  res.data_seconds = 1.25;
  res.skipped_images = 3;
  res.decoded_images = 40;
  EXPECT_TRUE(s.complete(c0->trial_id, res));
  TrialResult partial = fake_result(2, 1);
  partial.data_seconds = 0.5;
  partial.skipped_images = 1;
  EXPECT_TRUE(s.diverge(c1->trial_id, partial, "loss is nan"));  // the checked path
  s.flush();

  Reader r(dir.file("r.db"));
  const auto rows = r.trials("a");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].data_seconds, 1.25);
  EXPECT_EQ(rows[0].skipped_images, 3);
  EXPECT_EQ(rows[0].decoded_images, 40);
  EXPECT_EQ(rows[1].data_seconds, 0.5);
  EXPECT_EQ(rows[1].skipped_images, 1);
  EXPECT_TRUE(std::isnan(rows[2].data_seconds));  // not trained: not measured
  EXPECT_EQ(rows[2].skipped_images, 0);
  EXPECT_EQ(r.db().query_text("SELECT data_seconds || ' ' || skipped_images FROM results "
                              "WHERE sample_index = 0"),
            "1.25 3");
}

// Undoes, by hand, the schema versions after `version` on the database at
// `path`: the columns they added and the results view's use of them.
void downgrade(const std::string& path, int version) {
  Db db(path, Db::Mode::kReadWrite);
  std::string view = *db.query_text("SELECT sql FROM sqlite_schema WHERE name = 'results'");
  const auto drop = [&](const std::string& column) {
    const std::string listed = " t." + column + ",";
    view.erase(view.find(listed), listed.size());
    db.exec("ALTER TABLE trials DROP COLUMN " + column);
  };
  db.exec("DROP VIEW results");
  if (version < 5) testing::drop_sibling_of(db);
  if (version < 4) drop("lost");
  if (version < 3) {
    drop("data_seconds");
    drop("skipped_images");
    drop("decoded_images");
  }
  if (version < 2) drop("reference");
  db.exec(view + "; UPDATE meta SET value = '" + std::to_string(version) +
          "' WHERE key = 'schema_version'");
}

// Everything pragma_table_info says of each column, so a migrated column
// must match a new one's type, NOT NULL and default too.
std::vector<std::string> columns(const std::string& path, const std::string& table) {
  Db db(path, Db::Mode::kReadOnly);
  std::vector<std::string> out;
  Statement st = db.prepare(
      "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('" + table + "')");
  while (st.step())
    out.push_back(st.text(0) + " " + st.text(1) + " " + st.text(2) + " " + st.text(3) + " " +
                  st.text(4));
  return out;
}

// A database of an older version (made by undoing the later ones by hand,
// with a completed trial) is migrated by the next writer to the columns a
// new database has.
void expect_migrates_from(int version) {
  ScratchDir dir;
  const std::string old_path = dir.file("old.db");
  const std::string new_path = dir.file("new.db");
  {
    Store s(old_path, {});
    const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(2));
    const auto c = s.claim(id, {0, "n", ""});
    ASSERT_TRUE(c);
    EXPECT_TRUE(s.complete(c->trial_id, fake_result(1, 1)));
  }
  downgrade(old_path, version);
  EXPECT_THROW(Reader{old_path}, DatabaseFileError);  // readers never migrate
  {
    Store migrated(old_path, {});
    EXPECT_EQ(migrated.schema_version_before(), version);
  }
  { Store fresh(new_path, {}); }
  for (const char* table : {"trials", "results", "current_trials", "models", "sweeps"})
    EXPECT_EQ(columns(old_path, table), columns(new_path, table)) << table;
  Reader r(old_path);
  EXPECT_EQ(r.schema_version(), kSchemaVersion);
  const auto rows = r.trials("a");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, TrialState::kComplete);
  if (version < 3) {
    EXPECT_TRUE(std::isnan(rows[0].data_seconds));  // trained before it was measured
  }
  EXPECT_FALSE(rows[0].lost);
  EXPECT_EQ(rows[0].skipped_images, 0);
  EXPECT_EQ(r.sweep("a").sibling_of, "");  // made before siblings existed: none
  EXPECT_EQ(r.db().query_int("SELECT count(*) FROM events WHERE kind = 'schema_migrated'"), 1);
  EXPECT_EQ(
      r.db().query_text("SELECT detail FROM events WHERE kind = 'schema_migrated'"),
      "{\"from\":" + std::to_string(version) + ",\"to\":" + std::to_string(kSchemaVersion) + "}");
}

TEST(Store, MigratesVersion1) {
  expect_migrates_from(1);
}

TEST(Store, MigratesVersion2) {
  expect_migrates_from(2);
}

TEST(Store, MigratesVersion3) {
  expect_migrates_from(3);
}

TEST(Store, MigratesVersion4) {
  expect_migrates_from(4);
}

TEST(Store, BatchesCommitTogether) {
  ScratchDir dir;
  StoreOptions o;
  o.batch_ops = 10;
  o.batch_seconds = 1e9;
  Store s(dir.file("r.db"), o);
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(30));
  Reader r(dir.file("r.db"));
  const auto running = [&] { return r.sweeps()[0].counts[TrialState::kRunning]; };
  for (int i = 0; i < 9; ++i) s.claim(id, {0, "n", ""});
  EXPECT_EQ(running(), 0);  // the batch is still open
  s.claim(id, {0, "n", ""});
  EXPECT_EQ(running(), 10);  // the 10th write committed it
  s.claim(id, {0, "n", ""});
  EXPECT_EQ(running(), 10);
  EXPECT_FALSE(s.flush_if_due());
  s.flush();
  EXPECT_EQ(running(), 11);
}

// In rollback-journal mode a long reader can hold the writer's COMMIT past the
// busy timeout and past lock_wait_seconds: flush() then says so, the batch
// survives and commits on the next flush().
TEST(Store, BusyCommitKeepsTheBatchInRollbackMode) {
  ScratchDir dir;
  StoreOptions o;
  o.journal = JournalMode::kDelete;
  o.busy_timeout_ms = 50;
  o.lock_wait_seconds = 0.3;
  o.batch_ops = 1 << 20;
  o.batch_seconds = 1e9;
  Store s(dir.file("r.db"), o);
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(3));
  Reader r(dir.file("r.db"));
  s.claim(id, {0, "n", ""});
  r.snapshot([&] {
    EXPECT_EQ(r.sweeps()[0].counts[TrialState::kRunning], 0);  // holds a shared lock from here
    try {
      s.flush();
      ADD_FAILURE() << "COMMIT went through a reader's lock";
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
    }
  });
  s.flush();
  EXPECT_EQ(r.sweeps()[0].counts[TrialState::kRunning], 1);
}

// While a reader holds its lock (rollback journal), commits that fall due are
// put off instead of failing or blocking: writes go on into the open batch
// and the first due commit after the reader lets go writes them all.
TEST(Store, DueCommitsWaitForAReaderWithoutBlockingWrites) {
  ScratchDir dir;
  StoreOptions o;
  o.journal = JournalMode::kDelete;
  o.busy_timeout_ms = 20;
  o.batch_ops = 2;
  o.batch_seconds = 0;
  Store s(dir.file("r.db"), o);
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(40));
  Reader r(dir.file("r.db"));
  r.snapshot([&] {
    EXPECT_EQ(r.sweeps()[0].counts[TrialState::kRunning], 0);  // holds a shared lock from here
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(s.claim(id, {0, "n", ""}));
      EXPECT_FALSE(s.flush_if_due());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(seconds, 5.0);  // a few quick tries, not 30 busy timeouts in a row
  });
  bool committed = false;
  for (int i = 0; i < 100 && !committed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    committed = s.flush_if_due();
  }
  EXPECT_TRUE(committed);
  EXPECT_EQ(r.sweeps()[0].counts[TrialState::kRunning], 30);  // every write kept while it waited
}

// An attempt whose worker was lost is FAILED and marked lost, gets a new
// attempt at once, and does not count against requeue_failed()'s limit.
TEST(Store, LostAttemptsDoNotUseUpRetries) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(1));
  const auto first = s.claim(id, {1, "n", ""});
  ASSERT_TRUE(first);
  EXPECT_TRUE(s.lose(first->trial_id, "no heartbeat from rank 1 on n for 9 s"));
  EXPECT_FALSE(s.lose(first->trial_id, "again"));                // no longer RUNNING
  EXPECT_FALSE(s.complete(first->trial_id, fake_result(1, 1)));  // a late result
  const auto second = s.claim(id, {2, "n", ""});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->attempt, 1);
  EXPECT_TRUE(s.fail(second->trial_id, "boom"));
  EXPECT_EQ(s.requeue_failed(id, 2), 1);  // 2 attempts made, 1 of them the trial's fault
  const auto third = s.claim(id, {2, "n", ""});
  ASSERT_TRUE(third);
  EXPECT_TRUE(s.fail(third->trial_id, "boom"));
  EXPECT_EQ(s.requeue_failed(id, 2), 0);
  s.flush();
  store::TrialQuery q;
  q.all_attempts = true;
  const auto rows = Reader(dir.file("r.db")).trials("a", q);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].state, TrialState::kFailed);
  EXPECT_TRUE(rows[0].lost);
  EXPECT_EQ(rows[0].error, "no heartbeat from rank 1 on n for 9 s");
  EXPECT_FALSE(rows[1].lost);
  EXPECT_EQ(Reader(dir.file("r.db"))
                .db()
                .query_int("SELECT count(*) FROM events WHERE kind = 'late_result'"),
            1);
}

// A write that does not fit (max_page_count stands in for a full disk)
// fails with SQLite's own cause; nothing committed is lost and the store
// goes on once there is room.
TEST(Store, FullDatabaseReportsItsCauseAndKeepsWhatWasCommitted) {
  ScratchDir dir;
  StoreOptions o;
  o.batch_ops = 1 << 20;
  o.batch_seconds = 1e9;
  Store s(dir.file("r.db"), o);
  const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(4));
  const auto c = s.claim(id, {0, "n", ""});
  ASSERT_TRUE(c);
  ASSERT_TRUE(s.complete(c->trial_id, fake_result(1, 2)));
  s.flush();
  const int64_t pages = s.db().query_int("PRAGMA page_count").value();
  s.db().exec("PRAGMA max_page_count = " + std::to_string(pages));
  try {
    s.create_sweep(fake_sweep("b"), fake_trials(200, 1000));
    ADD_FAILURE() << "200 models fit in a full database";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.code(), SQLITE_FULL) << e.what();
    EXPECT_NE(std::string(e.what()).find("full"), std::string::npos) << e.what();
    // The message says whether SQLite ended the open batch.
    const bool rolled_back = !s.db().in_transaction();
    EXPECT_EQ(std::string(e.what()).find("rolled back") != std::string::npos, rolled_back)
        << e.what();
  }
  s.db().exec("PRAGMA max_page_count = 1073741823");
  const auto next = s.claim(id, {0, "n", ""});
  ASSERT_TRUE(next);
  s.flush();
  const auto rows = Reader(dir.file("r.db")).trials("a");
  EXPECT_EQ(rows[0].state, TrialState::kComplete);
  EXPECT_EQ(rows[0].top1_err, fake_result(1, 2).top1_err);
  EXPECT_EQ(Reader(dir.file("r.db")).db().query_text("PRAGMA integrity_check"), "ok");
}

TEST(Store, EventsAreAppendOnly) {
  ScratchDir dir;
  Store s(dir.file("r.db"), {});
  s.log_event("note", std::nullopt, std::nullopt, {{"text", "hello"}});
  s.flush();
  EXPECT_THROW(s.db().exec("UPDATE events SET kind = 'x'"), StoreError);
  EXPECT_THROW(s.db().exec("DELETE FROM events"), StoreError);
  EXPECT_EQ(s.db().query_text("SELECT detail FROM events WHERE kind = 'note'"),
            R"({"text":"hello"})");
}

// ---- opening databases that are not ours ----

TEST(Store, RefusesForeignAndNewerDatabasesWithoutTouchingThem) {
  ScratchDir dir;
  const std::string text = dir.file("notes.db");
  std::ofstream(text) << "just some text\n";
  const std::string other = dir.file("other.db");
  { Db(other, Db::Mode::kCreate).exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)"); }
  const std::string newer = dir.file("newer.db");
  { Store s(newer, {}); }
  {
    Db(newer, Db::Mode::kReadWrite)
        .exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  }

  for (const std::string& path : {text, other, newer}) {
    SCOPED_TRACE(path);
    const auto before = dir.files();
    const uint64_t hash = testing::file_hash(path);
    EXPECT_THROW(Store(path, {}), DatabaseFileError);
    EXPECT_THROW(Reader{path}, DatabaseFileError);
    EXPECT_EQ(testing::file_hash(path), hash);
    EXPECT_EQ(dir.files(), before);
  }
  try {
    Reader r(newer);
  } catch (const DatabaseFileError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
  try {
    Reader r(text);
  } catch (const DatabaseFileError& e) {
    EXPECT_NE(std::string(e.what()).find("is not an nds database"), std::string::npos) << e.what();
  }
  // A missing file is an error for a reader and is not created.
  EXPECT_THROW(Reader{dir.file("missing.db")}, DatabaseFileError);
  EXPECT_EQ(dir.files().count("missing.db"), 0u);
}

TEST(Store, OneWriterAtATime) {
  ScratchDir dir;
  Store first(dir.file("r.db"), {});
  try {
    Store second(dir.file("r.db"), {});
    FAIL() << "a second writer opened the database";
  } catch (const DatabaseFileError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("already open for writing by pid " + std::to_string(getpid())),
              std::string::npos)
        << msg;
  }
  // Readers are welcome meanwhile.
  EXPECT_NO_THROW(Reader{dir.file("r.db")});
}

TEST(Store, WriterRefusesAMissingDirectory) {
  ScratchDir dir;
  EXPECT_THROW(Store(dir.file("nope/r.db"), {}), DatabaseFileError);
  std::ofstream(dir.file("plain")) << "x";
  EXPECT_THROW(Store(dir.file("plain/r.db"), {}), DatabaseFileError);
}

// ---- the SQL guard ----

class SqlGuard : public ::testing::Test {
 protected:
  void SetUp() override {
    Store s(dir_.file("r.db"), {});
    s.create_sweep(fake_sweep("a"), fake_trials(3));
  }
  ScratchDir dir_;
};

TEST_F(SqlGuard, RunsReadOnlyStatements) {
  Reader r(dir_.file("r.db"));
  for (const char* sql :
       {"SELECT count(*) FROM trials", "  -- comment\n select 1;  ",
        "WITH x AS (SELECT 2) SELECT * FROM x", "VALUES (1), (2)", "PRAGMA table_info(trials)",
        "PRAGMA user_version", "EXPLAIN QUERY PLAN SELECT * FROM trials", "SELECT * FROM results",
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT n FROM "
        "c"}) {
    SCOPED_TRACE(sql);
    EXPECT_NO_THROW(GuardedQuery(r.db(), sql));
  }
  GuardedQuery q(r.db(), "SELECT sample_index, seed, NULL, 1.5, x'00ff' FROM trials ORDER BY 1");
  EXPECT_EQ(q.columns().size(), 5u);
  Row row;
  ASSERT_TRUE(q.next(&row));
  EXPECT_EQ(std::get<int64_t>(row[1]), 1000);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(row[2]));
  EXPECT_EQ(std::get<double>(row[3]), 1.5);
  EXPECT_EQ(std::get<Blob>(row[4]).bytes, std::string("\x00\xff", 2));
}

TEST_F(SqlGuard, RefusesWritesAttachAndMoreThanOneStatement) {
  const uint64_t hash = testing::file_hash(dir_.file("r.db"));
  Reader r(dir_.file("r.db"));
  for (const char* sql : {"DELETE FROM trials",
                          "delete from trials",
                          "INSERT INTO meta VALUES ('a', 'b')",
                          "UPDATE trials SET seed = 0",
                          "DROP TABLE trials",
                          "CREATE TABLE x(y)",
                          "ATTACH 'other.db' AS o",
                          "DETACH main",
                          "/* hi */ ATTACH ':memory:' AS m",
                          "SELECT 1; DELETE FROM trials",
                          "SELECT 1; SELECT 2",
                          "WITH x AS (SELECT 1) DELETE FROM trials",
                          "PRAGMA user_version = 7",
                          "PRAGMA journal_mode = wal",
                          "PRAGMA writable_schema = 1",
                          "PRAGMA wal_checkpoint",
                          "VACUUM",
                          "VACUUM INTO 'copy.db'",
                          "BEGIN",
                          "REINDEX",
                          "ANALYZE",
                          "REPLACE INTO meta VALUES ('a', 'b')",
                          "SELECT load_extension('x')",
                          "",
                          "  ;  ",
                          "SELECT * FROM no_such_table",
                          "SELEC 1"}) {
    SCOPED_TRACE(sql);
    EXPECT_THROW(GuardedQuery(r.db(), sql), std::invalid_argument);
  }
  try {
    GuardedQuery q(r.db(), "ATTACH 'x.db' AS x");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("ATTACH"), std::string::npos) << e.what();
  }
  // Still usable afterwards, and the file is unchanged.
  EXPECT_NO_THROW(GuardedQuery(r.db(), "SELECT 1"));
  EXPECT_EQ(testing::file_hash(dir_.file("r.db")), hash);
  EXPECT_EQ(dir_.files(), std::set<std::string>{"r.db"});
}

}  // namespace
}  // namespace nds::store
