// nds sweep / status / slurm as a user runs them, with trials that train
// nothing (--test-runner noop, test-only) so that the farm itself is what is
// tested: serial runs, resume, refusals, failure injection, signals. The
// mpirun cases are in cluster_mpi_test.cc, real training in
// cluster_torch_test.cc.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/reader.h"
#include "store/store.h"
#include "tests/cli_testing.h"
#include "tests/store_testing.h"

namespace nds::cluster {
namespace {

using namespace cli_testing;  // tests/cli_testing.h: running nds, scratch folders

// The arguments of a 12-sample sweep into r.db that trains nothing.
std::string sweep(const ScratchDir& dir, const std::string& extra = "") {
  return "sweep --space regnet_x_cifar -n 12 --db " + dir.file("r.db") +
         " --name s --test-runner noop " + extra;
}

TEST(SweepCli, SerialCompletesAndResumeTrainsNothingTwice) {
  ScratchDir dir("cluster_cli");
  const CmdResult first = run_nds(sweep(dir, "--quiet"));
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("12 COMPLETE"), std::string::npos) << first.out;
  const CmdResult again = run_nds(sweep(dir, "--quiet"));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("this run: 0 finished"), std::string::npos) << again.out;
  store::Reader reader(dir.file("r.db"));
  store::TrialQuery q;
  q.all_attempts = true;
  EXPECT_EQ(reader.trials("s", q).size(), 12u);
  EXPECT_TRUE(std::isfinite(reader.sweep("s").finished_at));
}

TEST(SweepCli, RefusesBadInputBeforeTraining) {
  ScratchDir dir("cluster_cli");
  expect_usage_error(run_nds("sweep --space regnet_x_cifar -n 0 --db " + dir.file("r.db") +
                             " --name s --test-runner noop"),
                     "-n must be >= 1");
  expect_usage_error(run_nds("sweep --space regnet_x_cifar -n 3 --db " + dir.path() +
                             "/missing/r.db --name s --test-runner noop"),
                     "does not exist");
  expect_usage_error(run_nds("sweep --space no_such_space -n 3 --db " + dir.file("r.db") +
                             " --name s --test-runner noop"),
                     "unknown space 'no_such_space'");
  EXPECT_TRUE(dir.files().empty());  // no database was created

  ASSERT_EQ(run_nds(sweep(dir, "--quiet")).code, 0);
  // Refusals come before the writer opens the file: it stays byte for byte.
  const std::string bytes = read_bytes(dir.file("r.db"));
  expect_usage_error(run_nds(sweep(dir, "--quiet --flops :50M")), "different space");
  expect_usage_error(run_nds("sweep --space regnet_x_cifar -n 11 --db " + dir.file("r.db") +
                             " --name s --test-runner noop"),
                     "has 12 samples and cannot shrink to 11");
  expect_usage_error(run_nds(sweep(dir, "--seed 4")), "--seed 0");
  EXPECT_EQ(read_bytes(dir.file("r.db")), bytes);
  EXPECT_EQ(dir.files(), std::set<std::string>{"r.db"});
}

std::string sweep_n(const ScratchDir& dir, int n, const std::string& extra = "",
                    const std::string& db = "r.db") {
  return "sweep --space regnet_x_cifar -n " + std::to_string(n) + " --db " + dir.file(db) +
         " --name s --test-runner noop --quiet " + extra;
}

// Every trial row (every column but `skip`, doubles exactly), in id order.
std::vector<std::string> trial_rows(const std::string& db, const std::string& skip = "") {
  const store::Reader reader(db);
  store::Statement s = reader.db().prepare("SELECT * FROM trials ORDER BY id");
  std::vector<std::string> rows;
  while (s.step()) {
    std::string row;
    for (int c = 0; c < s.column_count(); ++c) {
      if (s.column_name(c) == skip) continue;
      char real[64];
      std::snprintf(real, sizeof real, "%a", s.real(c));
      row += s.column_name(c) + "=" +
             (s.is_null(c)                         ? "NULL"
              : s.column_type(c) == SQLITE_FLOAT   ? std::string(real)
              : s.column_type(c) == SQLITE_INTEGER ? std::to_string(s.int64(c))
                                                   : s.text(c)) +
             " ";
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<nlohmann::json> grown_events(const std::string& db) {
  const store::Reader reader(db);
  store::Statement s =
      reader.db().prepare("SELECT detail FROM events WHERE kind = 'sweep_grown' ORDER BY id");
  std::vector<nlohmann::json> out;
  while (s.step()) out.push_back(nlohmann::json::parse(s.text(0)));
  return out;
}

// Samples `first`.. of the sweep in `grown` are the model and seed that a
// new sweep of that size (in `fresh`) has at the same index.
void expect_same_samples(const std::string& grown, const std::string& fresh, int64_t first) {
  const std::vector<store::TrialRecord> g = store::Reader(grown).trials("s");
  const std::vector<store::TrialRecord> f = store::Reader(fresh).trials("s");
  ASSERT_EQ(g.size(), f.size());
  for (size_t i = static_cast<size_t>(first); i < g.size(); ++i) {
    if (!f[i].reference.empty()) continue;
    EXPECT_EQ(g[i].sample_index, f[i].sample_index);
    EXPECT_EQ(g[i].model_hash, f[i].model_hash) << i;
    EXPECT_EQ(g[i].seed, f[i].seed) << i;
  }
}

TEST(SweepCli, LargerNGrowsTheSweepAndSmallerNIsRefused) {
  ScratchDir dir("cluster_cli");
  ASSERT_EQ(run_nds(sweep_n(dir, 4)).code, 0);
  const std::vector<std::string> before = trial_rows(dir.file("r.db"));
  ASSERT_EQ(before.size(), 4u);

  const CmdResult grown = run_nds(sweep_n(dir, 6));
  ASSERT_EQ(grown.code, 0) << grown.err;
  EXPECT_NE(grown.out.find("6 COMPLETE"), std::string::npos) << grown.out;
  EXPECT_NE(grown.out.find("this run: 2 finished"), std::string::npos) << grown.out;
  const std::vector<std::string> after = trial_rows(dir.file("r.db"));
  ASSERT_EQ(after.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(after.begin(), after.begin() + 4), before);
  {
    const store::Reader reader(dir.file("r.db"));
    const store::SweepSummary s = reader.sweep("s");
    EXPECT_EQ(s.sample_size, 6);
    EXPECT_EQ(s.counts[store::TrialState::kComplete], 6);
    EXPECT_TRUE(std::isfinite(s.finished_at));
  }
  const std::vector<nlohmann::json> events = grown_events(dir.file("r.db"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["from"], 4);
  EXPECT_EQ(events[0]["to"], 6);
  // Samples 4 and 5 are what a sweep made with -n 6 at once has.
  ASSERT_EQ(run_nds(sweep_n(dir, 6, "", "fresh.db")).code, 0);
  expect_same_samples(dir.file("r.db"), dir.file("fresh.db"), 4);

  const std::string bytes = read_bytes(dir.file("r.db"));
  expect_usage_error(run_nds(sweep_n(dir, 3)), "has 6 samples and cannot shrink to 3");
  EXPECT_EQ(read_bytes(dir.file("r.db")), bytes);
  EXPECT_EQ(dir.files(), (std::set<std::string>{"fresh.db", "r.db"}));
  const CmdResult again = run_nds(sweep_n(dir, 6));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("this run: 0 finished"), std::string::npos) << again.out;
}

TEST(SweepCli, GrowingMovesReferencesAfterTheNewSamples) {
  ScratchDir dir("cluster_cli");
  const std::string include = "--include resnet18,regnet_x_200mf";
  ASSERT_EQ(run_nds(sweep_n(dir, 4, include)).code, 0);
  // Rows by id: samples 0..3, then the references at 4 and 5.
  const std::vector<std::string> before = trial_rows(dir.file("r.db"), "sample_index");
  ASSERT_EQ(before.size(), 6u);

  const CmdResult grown = run_nds(sweep_n(dir, 6, include));
  ASSERT_EQ(grown.code, 0) << grown.err;
  EXPECT_NE(grown.out.find("8 COMPLETE"), std::string::npos) << grown.out;
  // Only the references' sample_index changed; nothing was added twice.
  const std::vector<std::string> after = trial_rows(dir.file("r.db"), "sample_index");
  ASSERT_EQ(after.size(), 8u);
  EXPECT_EQ(std::vector<std::string>(after.begin(), after.begin() + 6), before);
  const std::vector<store::TrialRecord> trials = store::Reader(dir.file("r.db")).trials("s");
  ASSERT_EQ(trials.size(), 8u);
  for (const store::TrialRecord& t : trials) {
    EXPECT_EQ(t.reference, t.sample_index < 6    ? ""
                           : t.sample_index == 6 ? "resnet18"
                                                 : "regnet_x_200mf")
        << t.sample_index;
    EXPECT_EQ(t.state, store::TrialState::kComplete);
  }
  const std::vector<nlohmann::json> events = grown_events(dir.file("r.db"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["references"], 2);
  ASSERT_EQ(run_nds(sweep_n(dir, 6, include, "fresh.db")).code, 0);
  expect_same_samples(dir.file("r.db"), dir.file("fresh.db"), 4);
}

TEST(SweepCli, InjectedFailuresAreFailedAndTheRestComplete) {
  ScratchDir dir("cluster_cli");
  // The test runner fails samples 1 and 4.
  const std::string cmd = "sweep --space regnet_x_cifar -n 12 --db " + dir.file("r.db") +
                          " --name s --test-runner noop:fail=1,4 --quiet";
  const CmdResult r = run_nds(cmd);
  ASSERT_EQ(r.code, 0) << r.err;
  store::Reader reader(dir.file("r.db"));
  const store::SweepSummary s = reader.sweep("s");
  EXPECT_EQ(s.counts[store::TrialState::kComplete], 10);
  EXPECT_EQ(s.counts[store::TrialState::kFailed], 2);
  for (const store::TrialRecord& t : reader.trials("s")) {
    const bool injected = t.sample_index == 1 || t.sample_index == 4;
    EXPECT_EQ(t.state, injected ? store::TrialState::kFailed : store::TrialState::kComplete);
    if (injected) {
      EXPECT_NE(t.error.find("injected failure"), std::string::npos);
    }
  }
  // --max-retries gives them more attempts (which fail again here).
  const CmdResult retry = run_nds(cmd + " --max-retries 1");
  ASSERT_EQ(retry.code, 0) << retry.err;
  store::TrialQuery q;
  q.all_attempts = true;
  EXPECT_EQ(store::Reader(dir.file("r.db")).trials("s", q).size(), 14u);
}

TEST(SweepCli, SigtermReleasesRunningTrialsAndTheSameCommandResumes) {
  ScratchDir dir("cluster_cli");
  const std::string cmd = "sweep --space regnet_x_cifar -n 12 --db " + dir.file("r.db") +
                          " --name s --test-runner noop:150 --quiet";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c",
          ("exec " + nds_binary() + " " + cmd + " >/dev/null 2>" + dir.file("err.txt")).c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  usleep(700 * 1000);  // a few trials in
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_NE(read_bytes(dir.file("err.txt")).find("run the same command to resume"),
            std::string::npos);
  {
    store::Reader reader(dir.file("r.db"));
    const store::SweepSummary s = reader.sweep("s");
    EXPECT_EQ(s.counts[store::TrialState::kRunning], 0);
    EXPECT_GT(s.counts[store::TrialState::kWaiting], 0);
  }
  const CmdResult again = run_nds(cmd);
  ASSERT_EQ(again.code, 0) << again.err;
  store::Reader reader(dir.file("r.db"));
  store::TrialQuery q;
  q.all_attempts = true;
  EXPECT_EQ(reader.sweep("s").counts[store::TrialState::kComplete], 12);
  EXPECT_EQ(reader.trials("s", q).size(), 12u);  // released, not failed: no extra attempts
}

TEST(SweepCli, IncludedFixedPointsAreReferenceTrials) {
  ScratchDir dir("cluster_cli");
  const CmdResult r = run_nds(sweep(dir, "--quiet --include resnet18,regnet_x_200mf"));
  ASSERT_EQ(r.code, 0) << r.err;
  store::Reader reader(dir.file("r.db"));
  const std::vector<store::TrialRecord> trials = reader.trials("s");
  ASSERT_EQ(trials.size(), 14u);
  for (const store::TrialRecord& t : trials) {
    if (t.sample_index < 12) {
      EXPECT_TRUE(t.reference.empty()) << t.sample_index;
    } else {
      EXPECT_EQ(t.reference, t.sample_index == 12 ? "resnet18" : "regnet_x_200mf");
      EXPECT_EQ(t.state, store::TrialState::kComplete);
    }
  }
  // The references are part of the sweep: the same command without them is refused.
  expect_usage_error(run_nds(sweep(dir, "--quiet")), "different space");
}

TEST(SweepCli, UnknownParentIsRefused) {
  ScratchDir dir("cluster_cli");
  nlohmann::json space =
      read_json(std::string(NDS_SOURCE_DIR) + "/sampler/spaces/regnet_x_cifar.json");
  space["parent"] = "no_such_sweep";
  dir.write("child.json", space.dump());
  expect_usage_error(run_nds("sweep --space " + dir.file("child.json") + " -n 3 --db " +
                             dir.file("r.db") + " --name c --test-runner noop"),
                     "no_such_sweep");
  // Nothing is left behind: the database did not exist before.
  EXPECT_EQ(dir.files(), std::set<std::string>{"child.json"});
  // In an existing database the parent is looked up; nothing is added or lost.
  ASSERT_EQ(run_nds(sweep(dir, "--quiet")).code, 0);
  expect_usage_error(run_nds("sweep --space " + dir.file("child.json") + " -n 3 --db " +
                             dir.file("r.db") + " --name c --test-runner noop"),
                     "no_such_sweep");
  const store::Reader r(dir.file("r.db"));
  ASSERT_EQ(r.sweeps().size(), 1u);
  EXPECT_EQ(r.sweeps()[0].name, "s");
  EXPECT_EQ(r.sweeps()[0].counts[store::TrialState::kComplete], 12);
  EXPECT_EQ(dir.files(), (std::set<std::string>{"child.json", "r.db"}));
}

TEST(StatusCli, ShowsCountsAndRejectsUnknownSweeps) {
  ScratchDir dir("cluster_cli");
  ASSERT_EQ(run_nds(sweep(dir, "--quiet")).code, 0);
  const CmdResult r = run_nds("status --db " + dir.file("r.db"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("complete"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("done"), std::string::npos) << r.out;
  const CmdResult j = run_nds("status --json --db " + dir.file("r.db") + " --sweep s");
  ASSERT_EQ(j.code, 0) << j.err;
  const nlohmann::json o = stdout_json(j);
  EXPECT_EQ(o["complete"], 12);
  EXPECT_EQ(o["eta_s"], 0);
  expect_usage_error(run_nds("status --db " + dir.file("r.db") + " --sweep nope"), "nope");
  expect_usage_error(run_nds("status --db " + dir.file("none.db")), "none.db");
}

// RUNNING trials whose heartbeat is older than --stale-after (default: the
// sweep's heartbeat timeout) are shown as stale.
TEST(StatusCli, ShowsRunningTrialsWithAnOldHeartbeatAsStale) {
  ScratchDir dir("cluster_cli");
  {
    store::StoreOptions o;
    o.clock = [] { return store::unix_now() - 1000; };  // claimed 1000 s ago
    store::Store s(dir.file("r.db"), o);
    const int64_t id =
        s.create_sweep(store::testing::fake_sweep("s"), store::testing::fake_trials(3));
    ASSERT_TRUE(s.claim(id, {1, "node7", ""}));
  }
  const CmdResult r = run_nds("status --db " + dir.file("r.db"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("1 (1 stale)"), std::string::npos) << r.out;
  const auto stale = [&](const std::string& after) {
    const CmdResult j =
        run_nds("status --json --db " + dir.file("r.db") + " --stale-after " + after);
    EXPECT_EQ(j.code, 0) << j.err;
    return stdout_json(j).value("stale", -1);
  };
  EXPECT_EQ(stale("900"), 1);
  EXPECT_EQ(stale("1200"), 0);
  expect_usage_error(run_nds("status --db " + dir.file("r.db") + " --stale-after inf"),
                     "--stale-after");
}

TEST(SlurmCli, PrintsTheScriptAndRejectsBadTime) {
  ScratchDir dir("cluster_cli");
  const CmdResult r = run_nds(
      "slurm --nodes 2 --gpus-per-node 4 --time 02:00:00 --partition gpu "
      "-- --space regnet_x -n 100 --db runs.db --name rx");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"#SBATCH --nodes=2", "#SBATCH --ntasks=9", "#SBATCH --gpus-per-node=4",
                        "#SBATCH --time=02:00:00", "#SBATCH --partition=gpu",
                        "#SBATCH --signal=B:USR1@300", "#SBATCH --requeue", "scontrol requeue",
                        " sweep --space regnet_x -n 100 --db runs.db --name rx &"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  expect_usage_error(run_nds("slurm --nodes 2 --gpus-per-node 4 --time 2h -- --name x"),
                     "--time must be");
  expect_usage_error(run_nds("slurm --nodes 2 --gpus-per-node 4 --time 02:61:00 -- --name x"),
                     "02:61:00");
}

}  // namespace
}  // namespace nds::cluster
