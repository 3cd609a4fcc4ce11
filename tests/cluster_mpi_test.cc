// nds sweep under mpirun (label mpi), with trials that train nothing
// (--test-runner noop): the task farm hands out every trial exactly once,
// survives SIGKILL of the whole job, records injected failures, stops on
// SIGUSR1, refuses bad input with one message from rank 0, gives up a hung
// worker, waits out a reader's lock and stops cleanly when the database
// cannot grow.

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

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
      if (store::Reader(dir.file("r.db")).sweep("s").counts[store::TrialState::kComplete] >= n)
        return;
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
  const CmdResult r =
      shell(mpirun(3) + kNds + sweep_args(dir, 12, "noop:10:fail=0,5,7"), dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const store::SweepSummary s = store::Reader(dir.file("r.db")).sweep("s");
  EXPECT_EQ(s.counts[store::TrialState::kFailed], 3);
  EXPECT_EQ(s.counts[store::TrialState::kComplete], 9);
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
  EXPECT_EQ(s.counts[store::TrialState::kRunning], 0);
  EXPECT_LT(s.counts[store::TrialState::kComplete], 12);

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

// The pid of rank `rank` of the job that mpirun `launcher` started (its child
// with OMPI_COMM_WORLD_RANK=rank), or -1.
pid_t rank_pid(pid_t launcher, int rank) {
  DIR* proc = opendir("/proc");
  if (!proc) return -1;
  pid_t found = -1;
  while (dirent* e = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    const std::string stat = store::testing::read_bytes("/proc/" + std::to_string(pid) + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    int parent = 0;
    char state = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &parent) != 2) continue;
    if (parent != launcher) continue;
    const std::string env = store::testing::read_bytes("/proc/" + std::to_string(pid) + "/environ");
    const std::string want = std::string("OMPI_COMM_WORLD_RANK=") + std::to_string(rank) + '\0';
    if (env.find(want) != std::string::npos || env.rfind(want.substr(1), 0) == 0) found = pid;
  }
  closedir(proc);
  return found;
}

// Waits for `pid` at most `seconds`; kills its process group past that.
// Returns its exit status, or -1 when it had to be killed.
int wait_exit(pid_t pid, double seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    usleep(50 * 1000);
  }
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The lost attempt of a sweep, once rank 0 has given its worker up.
std::optional<store::TrialRecord> lost_attempt(const ScratchDir& dir) {
  try {
    for (const store::TrialRecord& t : all_attempts(dir))
      if (t.lost) return t;
  } catch (const std::exception&) {
    // busy or not created yet
  }
  return std::nullopt;
}

// Starts a sweep of `n` trials of 0.3 s with a 2 s heartbeat timeout and,
// once two are COMPLETE, stops rank 1 (SIGSTOP, as a hung GPU would leave
// it). Returns mpirun's pid and rank 1's.
std::pair<pid_t, pid_t> start_and_hang_a_worker(const ScratchDir& dir, int n) {
  const pid_t pid =
      start(mpirun(3) + kNds + sweep_args(dir, n, "noop:300") + " --heartbeat-timeout 2",
            dir.file("err.txt"));
  wait_for_complete(dir, 2, 60);
  const pid_t worker = rank_pid(pid, 1);
  if (worker > 0) kill(worker, SIGSTOP);
  return {pid, worker};
}

// A worker that stops answering mid-trial (SIGSTOP, as a hung GPU would) is
// given up after --heartbeat-timeout: its trial is trained again elsewhere,
// every sample ends COMPLETE once, and the job ends without the lost rank
// (status 4), naming it.
TEST(SweepMpi, HungWorkerIsGivenUpAndTheJobEndsWithoutIt) {
  ScratchDir dir;
  const auto [pid, worker] = start_and_hang_a_worker(dir, 12);
  ASSERT_GT(worker, 0);
  const double stopped_at = now_s();
  const int code = wait_exit(pid, 120);
  // 10 trials of 0.3 s left for one worker, the 2 s timeout, MPI_Abort.
  EXPECT_LT(now_s() - stopped_at, 2 + 10 * 0.3 + 20);
  kill(worker, SIGKILL);
  const std::string log = store::testing::read_bytes(dir.file("err.txt"));
  EXPECT_EQ(code, 4) << log;
  EXPECT_NE(log.find("no heartbeat from rank 1"), std::string::npos) << log;
  EXPECT_NE(log.find("without the lost rank 1"), std::string::npos) << log;
  expect_each_complete_once(dir, 12);
  const std::optional<store::TrialRecord> lost = lost_attempt(dir);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->state, store::TrialState::kFailed);
  EXPECT_EQ(lost->rank, 1);
  EXPECT_NE(lost->error.find("no heartbeat from rank 1"), std::string::npos) << lost->error;
  EXPECT_FALSE(lost->latest);  // a new attempt took its place
  const store::SweepSummary s = store::Reader(dir.file("r.db")).sweep("s");
  EXPECT_EQ(s.counts[store::TrialState::kComplete], 12);
  EXPECT_TRUE(std::isfinite(s.finished_at));
}

// The same worker continued after it was given up: its late result is not
// recorded (the sample stays COMPLETE once, by the other rank), it gets no
// more trials, and the job ends normally.
TEST(SweepMpi, LateResultOfAWorkerGivenUpIsNotRecorded) {
  ScratchDir dir;
  const auto [pid, worker] = start_and_hang_a_worker(dir, 40);
  ASSERT_GT(worker, 0);
  std::optional<store::TrialRecord> lost;
  for (int i = 0; i < 600 && !lost; ++i) {
    usleep(50 * 1000);
    lost = lost_attempt(dir);
  }
  kill(worker, SIGCONT);
  ASSERT_TRUE(lost);
  const int code = wait_exit(pid, 120);
  const std::string log = store::testing::read_bytes(dir.file("err.txt"));
  EXPECT_EQ(code, 0) << log;
  EXPECT_NE(log.find("late result is not recorded"), std::string::npos) << log;
  expect_each_complete_once(dir, 40);
  for (const store::TrialRecord& t : all_attempts(dir)) {
    if (t.sample_index != lost->sample_index) continue;
    if (t.id == lost->id) {
      EXPECT_EQ(t.state, store::TrialState::kFailed);  // not overwritten by the late result
    } else {
      EXPECT_EQ(t.state, store::TrialState::kComplete);
      EXPECT_EQ(t.rank, 2);
    }
  }
  store::Reader r(dir.file("r.db"));
  EXPECT_GE(r.db().query_int("SELECT count(*) FROM events WHERE kind = 'late_result'"), 1);
  // Nothing started on rank 1 after it was given up.
  EXPECT_EQ(r.db().query_int("SELECT count(*) FROM trials WHERE rank = 1 AND started_at > " +
                             std::to_string(lost->finished_at)),
            0);
}

// A reader that holds its lock on a rollback-journal database for twice the
// busy timeout delays commits, not the sweep: rank 0 keeps handing out
// trials meanwhile and every sample ends COMPLETE once.
TEST(SweepMpi, AReaderHoldingTheLockDoesNotEndTheSweep) {
  ScratchDir dir;
  const std::string err = dir.file("err.txt");
  const pid_t pid = start(
      mpirun(3) + kNds + sweep_args(dir, 24, "noop:200") + " --journal delete --busy-timeout 1",
      err);
  wait_for_complete(dir, 2, 60);
  double held_from = 0;
  double held_to = 0;
  {
    store::Db db(dir.file("r.db"), store::Db::Mode::kReadOnly);
    db.exec("BEGIN");
    store::Statement st = db.prepare("SELECT count(*) FROM trials");
    ASSERT_TRUE(st.step());  // a shared lock until COMMIT
    held_from = store::unix_now();
    sleep(2);
    usleep(500 * 1000);
    held_to = store::unix_now();
    st.reset();
    db.exec("COMMIT");
  }
  const int code = wait_exit(pid, 120);
  EXPECT_EQ(code, 0) << store::testing::read_bytes(err);
  expect_each_complete_once(dir, 24);
  store::Reader r(dir.file("r.db"));
  EXPECT_EQ(r.db().query_text("PRAGMA journal_mode"), "delete");
  // Results kept arriving while the commit waited.
  EXPECT_GE(r.db().query_int("SELECT count(*) FROM trials WHERE finished_at BETWEEN " +
                             std::to_string(held_from) + " AND " + std::to_string(held_to)),
            2);
}

// The database file cannot grow (a file-size limit on rank 0 standing in for
// a full disk): the sweep stops with status 5 and a message naming the file
// and the cause; everything committed before is intact, and the same command
// without the limit finishes the sweep.
TEST(SweepMpi, ADatabaseThatCannotGrowStopsTheSweepCleanly) {
  ScratchDir dir;
  // 3000 samples make a database larger than Open MPI's shared-memory
  // segment (4 MiB), which rank 0 creates under the same limit.
  const std::string args = sweep_args(dir, 3000, "noop:2") + " --journal delete";
  // A first run trains a few samples and is stopped: what it committed must survive.
  const pid_t pid = start(mpirun(3) + kNds + args, dir.file("err1.txt"));
  wait_for_complete(dir, 10, 60);
  kill(pid, SIGUSR1);
  ASSERT_EQ(wait_exit(pid, 60), 3) << store::testing::read_bytes(dir.file("err1.txt"));
  const std::vector<store::TrialRecord> before = all_attempts(dir);
  // Rank 0 (the writer) may grow files by 64 KiB more; nds ignores SIGXFSZ,
  // so writes past that fail with EFBIG.
  const long kib = static_cast<long>(store::testing::read_bytes(dir.file("r.db")).size() / 1024);
  const CmdResult r =
      shell("timeout 120 " + mpirun(1) + "bash -c 'ulimit -f " + std::to_string(kib + 64) +
                "; exec " + kNds + args + "' : -np 2 " + kNds + args,
            dir.path());
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find(dir.file("r.db")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("disk I/O error"), std::string::npos) << r.err;  // SQLite's cause
  EXPECT_NE(r.err.find("rolled back"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run the same command to resume"), std::string::npos) << r.err;
  {
    store::Reader reader(dir.file("r.db"));
    EXPECT_EQ(reader.db().query_text("PRAGMA integrity_check"), "ok");
  }
  const std::vector<store::TrialRecord> after = all_attempts(dir);
  for (const store::TrialRecord& t : before) {
    if (t.state != store::TrialState::kComplete) continue;
    bool kept = false;
    for (const store::TrialRecord& u : after)
      kept = kept || (u.id == t.id && u.state == t.state && u.top1_err == t.top1_err);
    EXPECT_TRUE(kept) << "sample " << t.sample_index;
  }
  const CmdResult again = shell(mpirun(3) + kNds + args, dir.path());
  ASSERT_EQ(again.code, 0) << again.err;
  expect_each_complete_once(dir, 3000);
}

}  // namespace
}  // namespace nds::cluster
