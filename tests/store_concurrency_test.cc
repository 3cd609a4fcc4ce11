// The writer under pressure: readers running `nds query` in a loop never
// make it wait or fail, and a writer killed with SIGKILL in the middle of a
// batch leaves a sound database holding every batch it had committed.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "store/reader.h"
#include "store/store.h"
#include "tests/store_testing.h"

namespace nds::store {
namespace {

using testing::fake_result;
using testing::fake_sweep;
using testing::fake_trials;
using testing::ScratchDir;

int run_quiet(const std::string& args, std::string* out) {
  const std::string cmd = std::string(NDS_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf{};
  size_t n = 0;
  out->clear();
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out->append(buf.data(), n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(StoreConcurrency, ReadersNeverBlockTheWriter) {
  ScratchDir dir;
  const std::string path = dir.file("r.db");
  constexpr int64_t kSweep = 5000;  // a new sweep when one is used up
  constexpr int64_t kPerBatch = 100;
  constexpr int kMinQueries = 6;  // each starts an nds process
  constexpr int64_t kMinBatches = 10;
  std::atomic<bool> done{false};
  std::atomic<int64_t> batches{0};
  std::string writer_error;
  double slowest_commit = 0;
  {
    StoreOptions o;
    // No busy timeout: any lock a reader held against the writer would fail
    // at once with "database is locked" instead of being waited out.
    o.busy_timeout_ms = 0;
    o.batch_ops = 1 << 30;
    o.batch_seconds = 1e9;
    Store store(path, o);
    int64_t sweeps = 0;
    int64_t id = store.create_sweep(fake_sweep("live0"), fake_trials(kSweep));
    std::thread writer([&] {
      try {
        for (int64_t i = 0; !done; ++i) {
          auto c = store.claim(id, {0, "w", ""});
          if (!c) {
            ++sweeps;
            id = store.create_sweep(fake_sweep("live" + std::to_string(sweeps)),
                                    fake_trials(kSweep, sweeps * kSweep));
            c = store.claim(id, {0, "w", ""});
          }
          store.complete(c->trial_id, fake_result(static_cast<uint64_t>(i), 10));
          if ((i + 1) % kPerBatch == 0) {
            const auto t0 = std::chrono::steady_clock::now();
            store.flush();
            slowest_commit = std::max(
                slowest_commit,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            ++batches;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
        }
        store.flush();
      } catch (const std::exception& e) {
        writer_error = e.what();
      }
      done = true;
    });

    int queries = 0;
    std::vector<std::string> reader_failures;
    const auto start = std::chrono::steady_clock::now();
    while (!done && (queries < kMinQueries || batches < kMinBatches) &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
      for (const char* args : {"--sweeps --format csv", "--best live0 -k 5 --format json",
                               "--sql \"SELECT count(*) FROM epochs\""}) {
        std::string out;
        const int code = run_quiet("query --db " + path + " " + args, &out);
        ++queries;
        if (code != 0) reader_failures.push_back(args + (": " + out));
      }
    }
    done = true;
    writer.join();
    EXPECT_TRUE(writer_error.empty()) << writer_error;
    EXPECT_TRUE(reader_failures.empty()) << reader_failures.front();
    EXPECT_GE(queries, kMinQueries);
    EXPECT_GE(batches.load(), kMinBatches);
    std::printf("[ info ] %d queries ran during %lld batches; slowest commit %.1f ms\n", queries,
                static_cast<long long>(batches.load()), slowest_commit * 1e3);
  }
  Reader r(path);
  int64_t complete = 0;
  for (const auto& s : r.sweeps()) {
    EXPECT_EQ(s.counts[TrialState::kRunning], 0);
    complete += s.counts[TrialState::kComplete];
  }
  EXPECT_GE(complete, batches.load() * kPerBatch);
}

// Every reported batch is there, nothing of a partial one, and at most one
// more whole batch: the kill can land between a commit and its report.
void expect_whole_committed_batches(int64_t complete, int64_t reported, int64_t batch) {
  EXPECT_EQ(complete % batch, 0) << complete;
  EXPECT_GE(complete, reported * batch);
  EXPECT_LE(complete, (reported + 1) * batch);
}

// The child writes batches of kBatch completed trials and reports on the
// pipe: "C n" once batch n is committed, "M n" half-way through batch n.
// The parent kills it right after a mid-batch report.
void killed_writer(JournalMode journal) {
  ScratchDir dir;
  const std::string path = dir.file("r.db");
  constexpr int kBatch = 100;
  constexpr int kBatchesBeforeKill = 5;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    FILE* report = fdopen(fds[1], "w");
    try {
      StoreOptions o;
      o.journal = journal;
      o.batch_ops = 1 << 30;
      o.batch_seconds = 1e9;
      Store store(path, o);
      const int64_t id = store.create_sweep(fake_sweep("k"), fake_trials(1000000 / 100));
      for (int batch = 0;; ++batch) {
        for (int i = 0; i < kBatch; ++i) {
          const auto c = store.claim(id, {0, "child", ""});
          if (!c) _exit(4);
          store.complete(c->trial_id, fake_result(static_cast<uint64_t>(c->sample_index), 10));
          if (i == kBatch / 2) {
            std::fprintf(report, "M %d\n", batch);
            std::fflush(report);
          }
        }
        store.flush();
        std::fprintf(report, "C %d\n", batch);
        std::fflush(report);
      }
    } catch (const std::exception& e) {
      std::fprintf(report, "E %s\n", e.what());
      std::fflush(report);
      _exit(3);
    }
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  int committed = 0;
  char line[512];
  bool killed = false;
  while (std::fgets(line, sizeof line, in)) {
    int n = 0;
    if (std::sscanf(line, "C %d", &n) == 1) committed = n + 1;
    if (std::sscanf(line, "M %d", &n) == 1 && committed >= kBatchesBeforeKill) {
      kill(child, SIGKILL);
      killed = true;
      break;
    }
    ASSERT_NE(line[0], 'E') << line;
  }
  // The child runs ahead of this reader: reports of batches it committed
  // before the kill may still sit in the pipe. Drain them (EOF once it died).
  while (std::fgets(line, sizeof line, in)) {
    int n = 0;
    if (std::sscanf(line, "C %d", &n) == 1) committed = n + 1;
  }
  std::fclose(in);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(killed);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  // A reader can open it at once. In rollback mode it cannot when the kill
  // left a hot journal (killed while committing, or after the page cache
  // spilled), which only a writer may roll back: then it says so.
  try {
    Reader r(path);
    EXPECT_EQ(r.db().query_text("PRAGMA integrity_check"), "ok");
    expect_whole_committed_batches(r.sweeps()[0].counts[TrialState::kComplete], committed, kBatch);
  } catch (const DatabaseFileError& e) {
    EXPECT_EQ(journal, JournalMode::kDelete) << e.what();
    EXPECT_NE(std::string(e.what()).find("hot journal"), std::string::npos) << e.what();
  }
  {
    Store again(path, {});  // the lock died with the child
    EXPECT_EQ(again.db().query_text("PRAGMA integrity_check"), "ok");
    const auto id = again.find_sweep("k");
    ASSERT_TRUE(id);
    const StateCounts c = again.counts(*id);
    expect_whole_committed_batches(c[TrialState::kComplete], committed, kBatch);
    EXPECT_EQ(c[TrialState::kRunning], 0);  // the uncommitted claims vanished with their batch
    EXPECT_EQ(again.db().query_int("SELECT count(*) FROM epochs"), c[TrialState::kComplete] * 10);
  }
  Reader r(path);
  EXPECT_EQ(r.db().query_text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(r.best("k", 1).size(), 1u);
}

TEST(StoreConcurrency, SigkillMidBatchKeepsCommittedBatchesWal) {
  killed_writer(JournalMode::kWal);
}

TEST(StoreConcurrency, SigkillMidBatchKeepsCommittedBatchesRollback) {
  killed_writer(JournalMode::kDelete);
}

}  // namespace
}  // namespace nds::store
