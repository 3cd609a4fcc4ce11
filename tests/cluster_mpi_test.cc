// nds sweep under mpirun (label mpi), with trials that train nothing
// (--test-runner noop): the task farm hands out every trial exactly once,
// survives SIGKILL of the whole job, records injected failures, stops on
// SIGUSR1, and refuses bad input with one message from rank 0.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>

#include "store/reader.h"
#include "tests/cluster_testing.h"

namespace nds::cluster {
namespace {

using store::testing::ScratchDir;
using testing::CmdResult;
using testing::count_lines;
using testing::mpirun;
using testing::shell;

const std::string kNds = NDS_BINARY;

std::string sweep_args(const ScratchDir& dir, int n, const std::string& runner) {
  return " sweep --space regnet_x_cifar -n " + std::to_string(n) + " --db " + dir.file("r.db") +
         " --name s --test-runner " + runner + " --quiet";
}

std::vector<store::TrialRecord> all_attempts(const ScratchDir& dir) {
  store::TrialQuery q;
  q.all_attempts = true;
  return store::Reader(dir.file("r.db")).trials("s", q);
}

// Exactly one COMPLETE row per sample, and `n` of them.
void expect_each_complete_once(const ScratchDir& dir, int n) {
  std::map<int64_t, int> complete;
  for (const store::TrialRecord& t : all_attempts(dir))
    if (t.state == store::TrialState::kComplete) ++complete[t.sample_index];
  EXPECT_EQ(static_cast<int>(complete.size()), n);
  for (const auto& [index, count] : complete) EXPECT_EQ(count, 1) << "sample " << index;
}

// Starts `command` in its own process group; returns the pid.
pid_t start(const std::string& command, const std::string& err_file) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>" + err_file).c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits until `n` trials are COMPLETE (or `seconds` pass).
void wait_for_complete(const ScratchDir& dir, int n, double seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    usleep(50 * 1000);
    try {
      if (store::Reader(dir.file("r.db")).sweep("s").counts.complete >= n) return;
    } catch (const std::exception&) {
      // not created yet
    }
  }
}

// The ranks of a job whose mpirun was killed notice it within a second or
// so and die; until then rank 0 holds the writer lock. Waits for its release.
bool wait_for_writer_lock(const std::string& db, double seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    const int fd = open((db + ".lock").c_str(), O_RDWR);
    if (fd < 0) return true;
    const bool free = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd);  // drops our lock too
    if (free) return true;
    usleep(50 * 1000);
  }
  return false;
}

TEST(SweepMpi, ThreeRanksRunEveryTrialExactlyOnce) {
  ScratchDir dir;
  const CmdResult r = shell(mpirun(3) + kNds + sweep_args(dir, 12, "noop:20"), dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 1) << "only rank 0 prints: " << r.out;
  EXPECT_NE(r.out.find("12 COMPLETE"), std::string::npos) << r.out;
  EXPECT_EQ(all_attempts(dir).size(), 12u);
  expect_each_complete_once(dir, 12);
  std::set<int64_t> ranks;
  for (const store::TrialRecord& t : all_attempts(dir)) {
    ASSERT_TRUE(t.rank.has_value());
    ranks.insert(*t.rank);
  }
  EXPECT_EQ(ranks, (std::set<int64_t>{1, 2}));  // rank 0 serves, workers train
  EXPECT_EQ(store::Reader(dir.file("r.db")).sweep("s").world_size, 3);
}

TEST(SweepMpi, SigkillThenTheSameCommandCompletesEachTrialOnce) {
  ScratchDir dir;
  const std::string cmd = mpirun(3) + kNds + sweep_args(dir, 24, "noop:300");
  const pid_t pid = start(cmd, dir.file("err1.txt"));
  ASSERT_GT(pid, 0);
  wait_for_complete(dir, 3, 30);
  kill(-pid, SIGKILL);  // mpirun and every rank at once
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(wait_for_writer_lock(dir.file("r.db"), 20)) << "orphaned ranks still alive";
  int running = 0, complete = 0;
  for (const store::TrialRecord& t : all_attempts(dir)) {
    running += t.state == store::TrialState::kRunning;
    complete += t.state == store::TrialState::kComplete;
  }
  ASSERT_GE(complete, 3);
  ASSERT_LT(complete, 24) << "the kill came too late to test anything";
  EXPECT_GT(running, 0);  // left behind by the dead job

  const CmdResult again = shell(cmd, dir.path());
  ASSERT_EQ(again.code, 0) << again.err;
  expect_each_complete_once(dir, 24);
  int retried = 0;
  for (const store::TrialRecord& t : all_attempts(dir)) {
    EXPECT_NE(t.state, store::TrialState::kRunning);
    if (t.attempt > 0) {
      ++retried;
      EXPECT_EQ(t.state, store::TrialState::kComplete);
    }
    if (t.state == store::TrialState::kFailed) {
      EXPECT_NE(t.error.find("heartbeat"), std::string::npos) << t.error;
    }
  }
  EXPECT_EQ(retried, running);  // each interrupted trial retried once
}

TEST(SweepMpi, InjectedFailuresAreRecordedAndWorkersGoOn) {
  ScratchDir dir;
  const CmdResult r = shell(
      "NDS_INJECT_FAILURE=0,5,7 " + mpirun(3) + kNds + sweep_args(dir, 12, "noop:10"), dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const store::SweepSummary s = store::Reader(dir.file("r.db")).sweep("s");
  EXPECT_EQ(s.counts.failed, 3);
  EXPECT_EQ(s.counts.complete, 9);
}

TEST(SweepMpi, Sigusr1StopsReleasesAndResumes) {
  ScratchDir dir;
  const std::string cmd = mpirun(3) + kNds + sweep_args(dir, 12, "noop:300");
  const pid_t pid = start(cmd, dir.file("err1.txt"));
  wait_for_complete(dir, 2, 30);
  kill(pid, SIGUSR1);  // mpirun forwards it to every rank
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << store::testing::read_bytes(dir.file("err1.txt"));
  const std::string err = store::testing::read_bytes(dir.file("err1.txt"));
  EXPECT_NE(err.find("run the same command to resume"), std::string::npos) << err;
  const store::SweepSummary s = store::Reader(dir.file("r.db")).sweep("s");
  EXPECT_EQ(s.counts.running, 0);
  EXPECT_LT(s.counts.complete, 12);

  const CmdResult again = shell(cmd, dir.path());
  ASSERT_EQ(again.code, 0) << again.err;
  expect_each_complete_once(dir, 12);
  EXPECT_EQ(all_attempts(dir).size(), 12u);  // released trials keep their row
}

TEST(SweepMpi, BadInputExitsTwoWithOneMessageFromRankZero) {
  ScratchDir dir;
  const auto check = [&](const std::string& args, const std::string& needle) {
    const CmdResult r = shell(mpirun(3) + kNds + args, dir.path());
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  };
  check(" sweep --space regnet_x_cifar -n 0 --db " + dir.file("r.db") +
            " --name s --test-runner noop",
        "-n must be >= 1");
  check(" sweep --space regnet_x_cifar -n 4 --db " + dir.path() +
            "/missing/r.db --name s --test-runner noop",
        "does not exist");
  check(" sweep --space nope -n 4 --db " + dir.file("r.db") + " --name s --test-runner noop",
        "unknown space");
  ASSERT_EQ(shell(mpirun(3) + kNds + sweep_args(dir, 4, "noop"), dir.path()).code, 0);
  check(sweep_args(dir, 4, "noop") + " --flops :40M", "different space");
}

}  // namespace
}  // namespace nds::cluster
