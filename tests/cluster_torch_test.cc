// nds sweep with real training (labels torch, mpi): a 3-rank run stores the
// same results, bit for bit, as the serial run of the same command at the
// same thread count, and every trial once; epoch rows reach the database
// while a trial still trains, and a stop ends a trial within its epoch.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "store/reader.h"
#include "tests/cluster_testing.h"
#include "tests/image_testing.h"

namespace nds::cluster {
namespace {

using store::testing::ScratchDir;
using testing::CmdResult;
using testing::mpirun;
using testing::shell;

const std::string kNds = NDS_BINARY;

// Tiny: 12 small RegNetX models, 256 synthetic images, one epoch of 4 steps.
std::string sweep(const std::string& db) {
  return kNds + " sweep --space regnet_x_cifar --flops :20M -n 12 --db " + db +
         " --name t --seed 3 --data synthetic --synthetic-size 256 --epochs 1 --batch-size 64 "
         "--threads 1 --quiet";
}

std::map<int64_t, store::TrialRecord> latest(const std::string& db) {
  std::map<int64_t, store::TrialRecord> out;
  for (const store::TrialRecord& t : store::Reader(db).trials("t")) out[t.sample_index] = t;
  return out;
}

TEST(SweepTorch, MpiRunEqualsSerialRun) {
  ScratchDir dir;
  const CmdResult serial = shell(sweep(dir.file("serial.db")), dir.path());
  ASSERT_EQ(serial.code, 0) << serial.err;
  const CmdResult mpi = shell(mpirun(3) + sweep(dir.file("mpi.db")), dir.path());
  ASSERT_EQ(mpi.code, 0) << mpi.err;

  const auto a = latest(dir.file("serial.db"));
  const auto b = latest(dir.file("mpi.db"));
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  for (const auto& [i, t] : a) {
    const store::TrialRecord& u = b.at(i);
    EXPECT_EQ(t.state, store::TrialState::kComplete) << t.error;
    EXPECT_EQ(u.state, store::TrialState::kComplete) << u.error;
    EXPECT_EQ(t.model_hash, u.model_hash) << i;
    EXPECT_EQ(t.seed, u.seed) << i;
    EXPECT_EQ(t.top1_err, u.top1_err) << i;  // exact: same seed, same thread count
    EXPECT_EQ(t.top5_err, u.top5_err) << i;
    EXPECT_EQ(t.train_loss, u.train_loss) << i;
    EXPECT_EQ(t.epochs_done, 1);
    ASSERT_TRUE(u.rank.has_value());
    EXPECT_NE(*u.rank, 0);  // rank 0 does not train when there are workers
  }
  store::TrialQuery q;
  q.all_attempts = true;
  EXPECT_EQ(store::Reader(dir.file("mpi.db")).trials("t", q).size(), 12u);
}

// An image folder under mpirun with the decode-once cache: each worker reads
// every image from its file in its first trial only; the report names the data.
TEST(SweepTorch, ImageFolderSweepDecodesOncePerWorker) {
  image_testing::ScratchFolder folder("sweep_imf");
  image_testing::write_photo_folder(folder.path(), {"a", "b", "c"}, 8, 3);  // 24 + 9 images
  ScratchDir dir;
  const CmdResult r =
      shell(mpirun(3) + kNds + " sweep --space regnet_x_cifar --flops :20M -n 6 --db " +
                dir.file("f.db") + " --name t --seed 2 --data imagefolder:" + folder.path() +
                " --cache 64M --epochs 2 --batch-size 8 --threads 1 --quiet",
            dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<int64_t, std::vector<store::TrialRecord>> by_rank;
  for (const auto& [i, t] : latest(dir.file("f.db"))) {
    EXPECT_EQ(t.state, store::TrialState::kComplete) << t.error;
    EXPECT_TRUE(std::isfinite(t.data_seconds)) << i;
    EXPECT_EQ(t.skipped_images, 0);
    by_rank[t.rank.value_or(-1)].push_back(t);
  }
  ASSERT_EQ(by_rank.size(), 2u);  // both workers trained
  for (auto& [rank, trials] : by_rank) {
    std::sort(trials.begin(), trials.end(),
              [](const auto& a, const auto& b) { return a.started_at < b.started_at; });
    EXPECT_EQ(trials.front().decoded_images, 33) << "rank " << rank;  // train + test, once
    for (size_t k = 1; k < trials.size(); ++k)
      EXPECT_EQ(trials[k].decoded_images, 0) << "rank " << rank << ", trial " << k;
  }
  const std::string name = folder.path().substr(folder.path().find_last_of('/') + 1);
  const CmdResult report =
      shell(kNds + " report --db " + dir.file("f.db") + " --sweep t --format md", dir.path());
  ASSERT_EQ(report.code, 0) << report.err;
  EXPECT_NE(report.out.find("imagefolder:" + name), std::string::npos);
}

// A worker that cannot start (its node lacks the data: it runs in a folder
// without the relative image folder) tells rank 0, which names it, and does
// not make mpirun end the healthy ranks: the other worker trains every trial.
TEST(SweepTorch, AWorkerThatCannotStartLeavesTheOthersTraining) {
  ScratchDir dir;
  image_testing::write_photo_folder(dir.file("imgs"), {"a", "b"}, 4, 2);
  ASSERT_EQ(mkdir(dir.file("elsewhere").c_str(), 0755), 0);
  const std::string args = " sweep --space regnet_x_cifar --flops :20M -n 3 --db " +
                           dir.file("f.db") +
                           " --name t --data imagefolder:imgs --epochs 1 --batch-size 4 "
                           "--threads 1 --quiet";
  // Ranks 0 and 1 run in the scratch folder, rank 2 elsewhere.
  const CmdResult r = shell("cd " + dir.path() + " && timeout 300 " + mpirun(2) + kNds + args +
                                " : --wdir " + dir.file("elsewhere") + " -np 1 " + kNds + args,
                            dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("rank 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot train"), std::string::npos) << r.err;
  const auto trials = latest(dir.file("f.db"));
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& [i, t] : trials) {
    EXPECT_EQ(t.state, store::TrialState::kComplete) << t.error;
    EXPECT_EQ(t.rank, 1) << i;
  }
}

TEST(SweepTorch, NanLossIsDivergedAndTheSweepEnds) {
  ScratchDir dir;
  const CmdResult r =
      shell(kNds + " sweep --space regnet_x_cifar --flops :20M -n 2 --db " + dir.file("d.db") +
                " --name t --data synthetic --synthetic-size 512 --epochs 3 "
                "--batch-size 64 --lr 1000 --threads 1 --quiet",
            dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& [i, t] : latest(dir.file("d.db"))) {
    EXPECT_EQ(t.state, store::TrialState::kDiverged) << i;
    EXPECT_NE(t.error.find("nan"), std::string::npos) << t.error;
  }
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

// The epoch rows of the sweep's RUNNING trial once it has `n` (empty while
// it has fewer or none is RUNNING); a database not yet created reads as empty.
std::vector<store::EpochMetrics> running_epochs(const std::string& db, size_t n) {
  try {
    const store::Reader reader(db);
    for (const store::TrialRecord& t : reader.trials("t"))
      if (t.state == store::TrialState::kRunning) {
        std::vector<store::EpochMetrics> e = reader.epochs(t.id);
        if (e.size() >= n) return e;
      }
  } catch (const std::exception&) {
    // not created yet
  }
  return {};
}

// Per-epoch metrics travel from the worker to rank 0 as each epoch ends
// (Store::record_epoch), not only with the result; a stop reaches the worker
// between steps. The trial would train for 40+ s; it is stopped after two epochs.
TEST(SweepTorch, EpochRowsArriveWhileTheTrialTrainsAndAStopEndsIt) {
  ScratchDir dir;
  const std::string db = dir.file("e.db");
  const std::string cmd = mpirun(2) + kNds + " sweep --space regnet_x_cifar --flops :20M -n 1 " +
                          "--db " + db + " --name t --data synthetic --synthetic-size 256 " +
                          "--epochs 400 --batch-size 64 --threads 1 --quiet";
  const pid_t pid = start(cmd, dir.file("err.txt"));
  ASSERT_GT(pid, 0);
  std::vector<store::EpochMetrics> seen;
  for (int i = 0; i < 1200 && seen.empty(); ++i) {  // up to a minute
    usleep(50 * 1000);
    seen = running_epochs(db, 2);
    int status = 0;
    if (seen.empty() && waitpid(pid, &status, WNOHANG) == pid)
      FAIL() << "the sweep ended before two epochs were seen: "
             << store::testing::read_bytes(dir.file("err.txt"));
  }
  kill(pid, SIGUSR1);  // mpirun forwards it to every rank
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_GE(seen.size(), 2u) << "no epoch rows of a RUNNING trial within a minute";
  for (size_t e = 0; e < seen.size(); ++e) {
    EXPECT_EQ(seen[e].epoch, static_cast<int64_t>(e) + 1);
    EXPECT_TRUE(std::isfinite(seen[e].train_loss)) << e;
    EXPECT_GE(seen[e].test_top1_err, 0) << e;
    EXPECT_LE(seen[e].test_top1_err, 100) << e;
    EXPECT_GT(seen[e].lr, 0) << e;
  }
  ASSERT_TRUE(WIFEXITED(status));
  const std::string err = store::testing::read_bytes(dir.file("err.txt"));
  EXPECT_EQ(WEXITSTATUS(status), 3) << err;
  EXPECT_EQ(err.find("did not stop"), std::string::npos) << err;  // not ended by the timeout
  const auto trials = latest(db);
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials.begin()->second.state, store::TrialState::kWaiting);  // to resume
}

}  // namespace
}  // namespace nds::cluster
