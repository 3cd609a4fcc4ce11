// cluster/ without MPI or LibTorch: messages, the serial farm with the no-op
// runner (outcomes, failures, stop and resume), status, the sbatch script.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <variant>

#include "cluster/farm.h"
#include "cluster/messages.h"
#include "cluster/noop_runner.h"
#include "cluster/signals.h"
#include "cluster/slurm.h"
#include "cluster/status.h"
#include "store/reader.h"
#include "store/store.h"
#include "tests/store_testing.h"

namespace nds::cluster {
namespace {

using nlohmann::json;
using store::testing::fake_sweep;
using store::testing::fake_trials;
using store::testing::ScratchDir;

TEST(Messages, ClaimedTrialRoundTrips) {
  store::ClaimedTrial t;
  t.trial_id = 7;
  t.sweep_id = 2;
  t.sample_index = 5;
  t.attempt = 1;
  t.seed = 123456789012345;
  t.model_id = 3;
  t.model_hash = "00ff00ff00ff00ff";
  t.family_params_json = R"({"family":"regnet"})";
  t.spec_json = R"({"blocks":[]})";
  t.reference = "resnet18";
  const store::ClaimedTrial u = claimed_from_json(json::parse(to_json(t).dump()));
  EXPECT_EQ(u.trial_id, 7);
  EXPECT_EQ(u.seed, t.seed);
  EXPECT_EQ(u.spec_json, t.spec_json);
  EXPECT_EQ(u.reference, "resnet18");
}

// The go message carries everything a worker needs; a no-go only its code.
TEST(Messages, GoMessageRoundTrips) {
  GoMessage go;
  go.go = true;
  go.recipe = {{"epochs", 2}, {"lr", 0.1}};
  go.runner = "noop:5";
  go.threads = 3;
  go.device = "cpu";
  go.data = "imagefolder:imgs";
  go.host = "node7";
  go.quiet = true;
  go.total = 12;
  go.max_attempts = 3;
  go.heartbeat_timeout_s = 2.5;
  const nlohmann::json j = nlohmann::json::parse(to_json(go).dump());
  const GoMessage back = go_from_json(j);
  EXPECT_EQ(to_json(back), to_json(go));
  const FarmOptions f = back.farm_options();
  EXPECT_EQ(f.total, 12);
  EXPECT_EQ(f.max_attempts, 3);
  EXPECT_EQ(f.heartbeat_timeout_s, 2.5);
  EXPECT_TRUE(f.quiet);
  GoMessage no;
  no.code = 2;
  EXPECT_EQ(to_json(no), (nlohmann::json{{"go", false}, {"code", 2}}));
  EXPECT_FALSE(go_from_json(to_json(no)).go);
  EXPECT_EQ(go_from_json(to_json(no)).code, 2);
}

TEST(Messages, OutcomeRoundTripsExactlyWithNaN) {
  TrialOutcome o;
  o.status = TrialStatus::kDiverged;
  o.error = "loss nan at epoch 1, step 3";
  o.result.top1_err = 0.1 + 0.2;  // not exactly representable in short decimal
  o.result.top5_err = std::numeric_limits<double>::quiet_NaN();
  o.result.epochs_done = 1;
  store::EpochMetrics m;
  m.epoch = 1;
  m.train_loss = 1.0 / 3.0;
  m.test_top1_err = std::numeric_limits<double>::quiet_NaN();
  o.result.epochs = {m};
  const TrialOutcome u = outcome_from_json(json::parse(to_json(o).dump()));
  EXPECT_EQ(u.status, TrialStatus::kDiverged);
  EXPECT_EQ(u.error, o.error);
  EXPECT_EQ(u.result.top1_err, o.result.top1_err);  // bit-exact through JSON text
  EXPECT_TRUE(std::isnan(u.result.top5_err));
  ASSERT_EQ(u.result.epochs.size(), 1u);
  EXPECT_EQ(u.result.epochs[0].train_loss, 1.0 / 3.0);
  EXPECT_TRUE(std::isnan(u.result.epochs[0].test_top1_err));
}

TEST(Messages, OutcomeCarriesDataTimeAndSkippedImages) {
  TrialOutcome o;
  o.status = TrialStatus::kComplete;
  o.result.data_seconds = 1.25;
  o.result.skipped_images = 3;
  o.result.decoded_images = 40;
  json j = to_json(o);
  const TrialOutcome u = outcome_from_json(json::parse(j.dump()));
  EXPECT_EQ(u.result.data_seconds, 1.25);
  EXPECT_EQ(u.result.skipped_images, 3);
  EXPECT_EQ(u.result.decoded_images, 40);
  // A peer built before these fields existed sends neither: not measured, none skipped.
  j.erase("data_seconds");
  j.erase("skipped_images");
  j.erase("decoded_images");
  const TrialOutcome old = outcome_from_json(j);
  EXPECT_TRUE(std::isnan(old.result.data_seconds));
  EXPECT_EQ(old.result.skipped_images, 0);
  EXPECT_EQ(old.result.decoded_images, 0);
}

// The farm's messages on the wire: each comes back as the type it was,
// with its fields; the wire text keeps the "type" key older peers read.
TEST(Messages, FarmMessagesRoundTripThroughTheirWireText) {
  store::EpochMetrics m;
  m.epoch = 2;
  m.train_loss = 0.5;
  const WorkerMessage epoch = decode_worker_message(encode(WorkerMessage{EpochMessage{9, m}}));
  ASSERT_TRUE(std::holds_alternative<EpochMessage>(epoch));
  EXPECT_EQ(std::get<EpochMessage>(epoch).trial_id, 9);
  EXPECT_EQ(std::get<EpochMessage>(epoch).metrics.train_loss, 0.5);
  EXPECT_EQ(json::parse(encode(WorkerMessage{HeartbeatMessage{9}})),
            (json{{"type", "heartbeat"}, {"trial", 9}}));

  const WorkerMessage ready =
      decode_worker_message(encode(WorkerMessage{ReadyMessage{"node1", "cpu"}}));
  EXPECT_EQ(std::get<ReadyMessage>(ready).host, "node1");
  EXPECT_EQ(std::get<ReadyMessage>(ready).device, "cpu");

  ResultMessage result;
  result.seconds = 1.5;
  result.outcome.status = TrialStatus::kFailed;
  result.outcome.error = "bad \xff byte";  // not UTF-8: replaced, not thrown on
  const WorkerMessage back = decode_worker_message(encode(WorkerMessage{result}));
  EXPECT_EQ(std::get<ResultMessage>(back).seconds, 1.5);
  EXPECT_EQ(std::get<ResultMessage>(back).outcome.status, TrialStatus::kFailed);
  EXPECT_EQ(std::get<ResultMessage>(back).outcome.error, "bad \xef\xbf\xbd byte");
  // A result without its length: the server times it itself.
  EXPECT_FALSE(
      std::get<ResultMessage>(decode_worker_message(encode(WorkerMessage{ResultMessage{}})))
          .seconds);
  EXPECT_EQ(std::get<FatalMessage>(decode_worker_message(R"({"type":"fatal"})")).error,
            "unknown error");

  store::ClaimedTrial t;
  t.trial_id = 4;
  t.model_hash = "abc";
  const ServerMessage trial = decode_server_message(encode(ServerMessage{TrialMessage{t}}));
  EXPECT_EQ(std::get<TrialMessage>(trial).trial.trial_id, 4);
  EXPECT_EQ(std::get<TrialMessage>(trial).trial.model_hash, "abc");
  for (const ServerMessage& plain :
       {ServerMessage{WaitMessage{}}, ServerMessage{DoneMessage{}}, ServerMessage{StopMessage{}}})
    EXPECT_EQ(decode_server_message(encode(plain)).index(), plain.index());
  EXPECT_EQ(json::parse(encode(ServerMessage{StopMessage{}})), (json{{"type", "stop"}}));
}

// A type this nds does not know decodes as such, with its text for the error.
TEST(Messages, UnknownMessagesKeepTheirText) {
  const WorkerMessage w = decode_worker_message(R"({"type":"hello","x":1})");
  ASSERT_TRUE(std::holds_alternative<UnknownMessage>(w));
  EXPECT_EQ(std::get<UnknownMessage>(w).text, R"({"type":"hello","x":1})");
  const ServerMessage s = decode_server_message(R"({"x":1})");
  ASSERT_TRUE(std::holds_alternative<UnknownMessage>(s));
  EXPECT_EQ(std::get<UnknownMessage>(s).text, R"({"x":1})");
  EXPECT_EQ(decode_go(encode(GoMessage{})).go, false);
}

TEST(Farm, ParsesTestRunnerSpecs) {
  EXPECT_EQ(parse_noop_spec("noop").milliseconds, 0);
  EXPECT_EQ(parse_noop_spec("noop:2.5").milliseconds, 2.5);
  const NoopSpec s = parse_noop_spec("noop:10:fail=3,7,11");
  EXPECT_EQ(s.milliseconds, 10);
  EXPECT_EQ(s.fail, (std::vector<int64_t>{3, 7, 11}));
  EXPECT_EQ(parse_noop_spec("noop:fail=2").fail, std::vector<int64_t>{2});
  for (const char* bad : {"", "nope", "noop:", "noop:-1", "noop:x", "noop:fail=", "noop:fail=3,,7",
                          "noop:fail=-1", "noop:1:fail=x", "noopy"})
    EXPECT_THROW(parse_noop_spec(bad), std::invalid_argument) << bad;
}

// A sweep of `n` fake trials in a fresh database.
int64_t make_sweep(store::Store& s, int n) {
  return s.create_sweep(fake_sweep("farm"), fake_trials(n));
}

TEST(Farm, SerialRunsEveryTrialOnceAndInjectsFailures) {
  ScratchDir dir;
  store::Store s(dir.file("r.db"));
  const int64_t id = make_sweep(s, 10);
  auto runner = make_noop_runner({0, {2, 5}});
  FarmOptions o;
  const FarmReport r = run_serial(s, id, *runner, json::object(), o);
  EXPECT_EQ(r.dispatched, 10);
  EXPECT_EQ(r.complete, 8);
  EXPECT_EQ(r.failed, 2);
  EXPECT_FALSE(r.interrupted);
  const store::StateCounts c = s.counts(id);
  EXPECT_EQ(c[store::TrialState::kComplete], 8);
  EXPECT_EQ(c[store::TrialState::kFailed], 2);
  s.flush();

  store::Reader reader(dir.file("r.db"));
  std::map<int64_t, store::TrialRecord> by_index;
  for (const store::TrialRecord& t : reader.trials("farm")) by_index[t.sample_index] = t;
  EXPECT_EQ(by_index[2].state, store::TrialState::kFailed);
  EXPECT_NE(by_index[2].error.find("injected failure"), std::string::npos) << by_index[2].error;
  EXPECT_EQ(by_index[3].state, store::TrialState::kComplete);
  EXPECT_TRUE(std::isfinite(by_index[3].top1_err));
}

TEST(Farm, MaxAttemptsRetriesFailedTrialsInTheSameRun) {
  ScratchDir dir;
  store::Store s(dir.file("r.db"));
  const int64_t id = make_sweep(s, 4);
  auto runner = make_noop_runner({0, {1}});
  FarmOptions o;
  o.max_attempts = 3;
  const FarmReport r = run_serial(s, id, *runner, json::object(), o);
  EXPECT_EQ(r.dispatched, 6);  // sample 1 three times
  EXPECT_EQ(r.failed, 3);
  s.flush();
  store::Reader reader(dir.file("r.db"));
  store::TrialQuery q;
  q.all_attempts = true;
  int attempts_of_1 = 0;
  for (const store::TrialRecord& t : reader.trials("farm", q))
    if (t.sample_index == 1) ++attempts_of_1;
  EXPECT_EQ(attempts_of_1, 3);
}

// A runner that asks to stop in the middle of its third trial.
class StoppingRunner : public TrialRunner {
 public:
  TrialOutcome run(const store::ClaimedTrial& t, const json& recipe, TrialEvents& events) override {
    if (++calls_ == 3) request_stop(15);
    if (events.stop_requested()) return {TrialStatus::kInterrupted, {}, ""};
    return inner_->run(t, recipe, events);
  }
  std::string device() const override { return "test"; }

 private:
  int calls_ = 0;
  std::unique_ptr<TrialRunner> inner_ = make_noop_runner({});
};

TEST(Farm, StopReleasesTheRunningTrialAndResumeFinishes) {
  ScratchDir dir;
  store::Store s(dir.file("r.db"));
  const int64_t id = make_sweep(s, 6);
  StoppingRunner stopping;
  clear_stop();
  const FarmReport r = run_serial(s, id, stopping, json::object(), {});
  clear_stop();
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.complete, 2);
  store::StateCounts c = s.counts(id);
  EXPECT_EQ(c[store::TrialState::kComplete], 2);
  EXPECT_EQ(c[store::TrialState::kRunning], 0);
  EXPECT_EQ(c[store::TrialState::kWaiting],
            4);  // the interrupted one is WAITING again, same attempt

  auto runner = make_noop_runner({});
  const FarmReport again = run_serial(s, id, *runner, json::object(), {});
  EXPECT_EQ(again.complete, 4);
  c = s.counts(id);
  EXPECT_EQ(c[store::TrialState::kComplete], 6);
  s.flush();
  store::Reader reader(dir.file("r.db"));
  store::TrialQuery q;
  q.all_attempts = true;
  EXPECT_EQ(reader.trials("farm", q).size(), 6u);  // release keeps one row per sample
}

TEST(Status, CountsThroughputAndEta) {
  ScratchDir dir;
  double now = 1'000'000;
  {
    store::StoreOptions so;
    so.clock = [&] { return now; };
    store::Store s(dir.file("r.db"), so);
    const int64_t id = make_sweep(s, 5);
    // Three trials, one every 60 s of the fake clock.
    for (int i = 0; i < 3; ++i) {
      const auto t = s.claim(id, {1, "h", "cpu"});
      ASSERT_TRUE(t);
      now += 60;
      store::TrialResult res;
      res.top1_err = res.best_top1_err = 40 + i;
      res.top5_err = res.best_top5_err = 10;
      ASSERT_TRUE(s.complete(t->trial_id, res));
    }
  }
  store::Reader reader(dir.file("r.db"));
  const std::vector<SweepStatus> all = sweep_status(reader, "farm", 600, store::unix_now());
  ASSERT_EQ(all.size(), 1u);
  const SweepStatus& st = all[0];
  EXPECT_EQ(st.summary.counts[store::TrialState::kComplete], 3);
  EXPECT_EQ(st.summary.counts[store::TrialState::kWaiting], 2);
  EXPECT_NEAR(st.per_hour, 60.0, 1e-9);  // 2 intervals over 120 s
  EXPECT_NEAR(st.eta_s, 120.0, 1e-9);    // 2 left at 60/h
  EXPECT_THROW(sweep_status(reader, "nope", 600, 0), std::invalid_argument);
}

TEST(Slurm, ParsesTimeLimits) {
  EXPECT_EQ(parse_slurm_time("04:00:00"), 4 * 3600);
  EXPECT_EQ(parse_slurm_time("1-00:30:05"), 86400 + 1805);
  for (const char* bad : {"4:00", "04:60:00", "04:00:61", "aa:00:00", "00:00:00", "",
                          "1-2-03:00:00", "04:00:00:00", "-04:00:00"})
    EXPECT_THROW(parse_slurm_time(bad), std::invalid_argument) << bad;
}

TEST(Slurm, ScriptHasTheDirectivesAndTheResumeTrap) {
  SlurmOptions o;
  o.nodes = 2;
  o.gpus_per_node = 4;
  o.time = "04:00:00";
  o.partition = "gpu";
  o.account = "lab";
  o.nds = "/opt/nds/bin/nds";
  o.sweep_args = {"--space", "regnet_x", "-n", "1000", "--db", "/scratch/my runs.db",
                  "--name",  "rx"};
  const std::string s = sbatch_script(o);
  for (const char* line :
       {"#!/bin/bash\n", "#SBATCH --nodes=2\n", "#SBATCH --ntasks=9\n",
        "#SBATCH --gpus-per-node=4\n", "#SBATCH --time=04:00:00\n", "#SBATCH --partition=gpu\n",
        "#SBATCH --account=lab\n", "#SBATCH --signal=B:USR1@300\n", "#SBATCH --requeue\n",
        "trap 'requeue USR1' USR1\n", "scontrol requeue \"$SLURM_JOB_ID\"",
        "kill -USR1 \"$launcher\"",
        "srun --kill-on-bad-exit=0 /opt/nds/bin/nds sweep --space regnet_x -n 1000 --db "
        "'/scratch/my runs.db' --name rx &\n"})
    EXPECT_NE(s.find(line), std::string::npos) << line << "\n---\n" << s;
  o.launcher = "mpirun";
  EXPECT_NE(sbatch_script(o).find("mpirun -np \"$SLURM_NTASKS\" /opt/nds/bin/nds sweep"),
            std::string::npos);
  o.launcher = "ssh";
  EXPECT_THROW(sbatch_script(o), std::invalid_argument);
  o.launcher = "srun";
  o.time = "00:04:00";  // shorter than the 300 s warning
  EXPECT_THROW(sbatch_script(o), std::invalid_argument);
  o.time = "04:00:00";
  o.sweep_args.clear();
  EXPECT_THROW(sbatch_script(o), std::invalid_argument);
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

}  // namespace
}  // namespace nds::cluster
