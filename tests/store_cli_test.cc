// nds query, nds export and nds db as a user runs them: formats, the
// read-only --sql guard and its fence (functions, limits, --timeout; checked
// by the file's hash or bytes), and one-line exit-2 errors for files that
// cannot be used, with nothing written; --db names a file, never a URI.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/db.h"
#include "store/sql_guard.h"
#include "store/store.h"
#include "tests/cli_testing.h"
#include "tests/store_testing.h"

namespace nds::store {
namespace {

using namespace cli_testing;  // tests/cli_testing.h: running nds, scratch folders
using testing::fake_result;
using testing::fake_sweep;
using testing::fake_trials;

// A database with two sweeps: "base" with 20 samples (15 complete, 2 failed,
// 1 diverged, 1 running, 1 waiting) and "refined" (waiting).
class StoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.file("results.db");
    Store s(db_, {});
    const int64_t id = s.create_sweep(fake_sweep("base"), fake_trials(20));
    s.create_sweep(fake_sweep("refined", "base"), fake_trials(4, 100));
    for (int i = 0; i < 19; ++i) {
      const auto c = s.claim(id, {i % 4, "node" + std::to_string(i % 2), "cuda"});
      ASSERT_TRUE(c);
      if (i < 15) {
        TrialResult r = fake_result(static_cast<uint64_t>(i), 3);
        r.top1_err = 30.0 + i;  // a known order for --best
        s.complete(c->trial_id, r);
      } else if (i < 17) {
        s.fail(c->trial_id, "CUDA error: out of memory, \"device 0\"\nsecond line");
      } else if (i == 17) {
        TrialResult r = fake_result(99, 2);
        r.top1_err = 90;  // after every completed trial when sorted by error
        s.diverge(c->trial_id, r, "loss is nan");
      }
    }
  }
  ScratchDir dir_{"store_cli"};
  std::string db_;
};

TEST_F(StoreCli, SweepsInEveryFormat) {
  CmdResult r = run_nds("query --db " + db_ + " --sweeps");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("base"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("30.00"), std::string::npos) << r.out;

  r = run_nds("query --db " + db_ + " --sweeps --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = stdout_json(r);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["name"], "base");
  EXPECT_EQ(j[0]["complete"], 15);
  EXPECT_EQ(j[0]["failed"], 2);
  EXPECT_EQ(j[0]["diverged"], 1);
  EXPECT_EQ(j[0]["running"], 1);
  EXPECT_EQ(j[0]["waiting"], 1);
  EXPECT_EQ(j[0]["best_top1_err"], 30.0);
  EXPECT_EQ(j[1]["parent"], "base");
  EXPECT_TRUE(j[1]["best_top1_err"].is_null());

  r = run_nds("query --db " + db_ + " --sweeps --format csv");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].rfind("id,name,family,sample_size,", 0), 0u) << rows[0];
}

TEST_F(StoreCli, TrialsAndBest) {
  CmdResult r = run_nds("query --db " + db_ + " --best base -k 3 --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = stdout_json(r);
  ASSERT_EQ(j.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(j[i]["sample_index"], i);
    EXPECT_EQ(j[i]["top1_err"], 30.0 + i);
    EXPECT_EQ(j[i]["state"], "COMPLETE");
  }
  r = run_nds("query --db " + db_ + " --best base");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 2u + 10u) << r.out;  // header, rule, 10 rows

  r = run_nds("query --db " + db_ + " --trials base --state failed --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  j = stdout_json(r);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["error"], "CUDA error: out of memory, \"device 0\"\nsecond line");

  r = run_nds("query --db " + db_ + " --trials base --sort error --limit 4 --format csv");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[1].rfind("base,1,0,0,1,COMPLETE,", 0), 0u) << rows[1];

  // CSV quoting (RFC 4180): a field with a comma, quotes and a newline.
  r = run_nds("query --db " + db_ + " --trials base --state FAILED --format csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(R"("CUDA error: out of memory, ""device 0"")"
                       "\nsecond line\""),
            std::string::npos)
      << r.out;

  r = run_nds("query --db " + db_ + " --trials base");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("DIVERGED"), std::string::npos);
  EXPECT_NE(r.out.find("WAITING"), std::string::npos);
}

TEST_F(StoreCli, SqlReadsAndFormats) {
  CmdResult r = run_nds("query --db " + db_ +
                        " --sql \"SELECT state, count(*) AS n FROM current_trials GROUP BY state "
                        "ORDER BY state\" --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = stdout_json(r);
  ASSERT_EQ(j.size(), 5u);
  EXPECT_EQ(j[0]["state"], "COMPLETE");
  EXPECT_EQ(j[0]["n"], 15);
  r = run_nds("query --db " + db_ +
              " --sql \"SELECT sweep, avg(top1_err) FROM results GROUP BY sweep\"");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("base"), std::string::npos) << r.out;
}

TEST_F(StoreCli, SqlThatWritesIsRefusedAndTheFileIsUnchanged) {
  const uint64_t hash = testing::file_hash(db_);
  const auto files = dir_.files();
  // The library test (store_test) covers many more; each run here starts nds.
  for (const char* sql :
       {"DELETE FROM trials", "ATTACH '/tmp/x.db' AS x", "INSERT INTO meta VALUES ('k', 'v')",
        "PRAGMA user_version = 9", "SELECT 1; DELETE FROM trials", "VACUUM INTO '/tmp/copy.db'",
        "WITH x AS (SELECT 1) DELETE FROM trials"}) {
    SCOPED_TRACE(sql);
    const CmdResult r = run_nds("query --db " + db_ + " --sql \"" + sql + "\"");
    expect_usage_error(r, "--sql refused");
  }
  EXPECT_EQ(testing::file_hash(db_), hash);
  EXPECT_EQ(dir_.files(), files);
  const CmdResult r =
      run_nds("query --db " + db_ + " --sql \"SELECT count(*) FROM trials\" --format csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "count(*)\n24\n");
}

// Issue 13, item 5: functions a read does not need, the limits and the
// deadline refuse a query with exit 2, leaving the file's bytes as they were.
TEST_F(StoreCli, SqlFunctionsLimitsAndTimeout) {
  const std::string bytes = read_bytes(db_);
  const auto files = dir_.files();
  const auto refused = [&](const std::string& sql, const std::string& more,
                           const std::string& needle) {
    SCOPED_TRACE(sql.substr(0, 60));
    expect_usage_error(run_nds("query --db " + db_ + " --sql \"" + sql + "\"" + more), needle);
    EXPECT_TRUE(read_bytes(db_) == bytes) << "the database changed";
    EXPECT_EQ(dir_.files(), files);
  };
  refused("SELECT fts3_tokenizer('simple')", "", "fts3_tokenizer()");
  refused("SELECT load_extension('/tmp/x.so')", "", "load_extension()");
  refused("SELECT count(*) FROM dbstat", "", "dbstat");
  refused("SELECT 'a' LIKE printf('%.2000c', '%')", "", "LIKE or GLOB pattern too complex");
  refused("SELECT 1" + std::string(kQueryMaxSqlLength, ' '), "", "bytes long");
  const auto start = std::chrono::steady_clock::now();
  refused("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
          " --timeout 0.5", "the query was stopped after 0.5 s");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  expect_usage_error(run_nds("query --db " + db_ + " --sql \"SELECT 1\" --timeout 0"),
                     "--timeout must be a number of seconds in (0, 86400], got 0");
  expect_usage_error(run_nds("query --db " + db_ + " --sweeps --timeout 5"),
                     "--timeout applies to --sql only");
  const CmdResult r = run_nds("query --db " + db_ + " --sql \"SELECT 2\" --timeout 3 --format csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "2\n2\n");
}

TEST_F(StoreCli, ExportCsvJsonlAndEpochs) {
  CmdResult r = run_nds("export --db " + db_ + " --sweep base");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("sweep,trial_id,sample_index,attempt,", 0), 0u);
  // 20 trials + header; two error fields hold an embedded newline.
  EXPECT_EQ(lines(r.out).size(), 21u + 2u);

  r = run_nds("export --db " + db_ + " --sweep base --format jsonl");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 20u);
  const nlohmann::json& first = rows[0];
  EXPECT_EQ(first["family_params"]["family"], "regnet");
  ASSERT_EQ(first["epochs"].size(), 3u);
  EXPECT_EQ(first["epochs"][2]["epoch"], 3);
  EXPECT_EQ(rows[19]["state"], "WAITING");

  const std::string out = dir_.file("epochs.csv");
  r = run_nds("export --db " + db_ + " --sweep base --epochs -o " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  // 15 complete trials x 3 epochs + the diverged one's 2, plus the header.
  EXPECT_EQ(lines(read_bytes(out)).size(), 15u * 3 + 2 + 1);

  expect_usage_error(run_nds("export --db " + db_ + " --sweep nope"), "no sweep 'nope'");
  expect_usage_error(run_nds("export --db " + db_ + " --sweep base --format json"), "--format");
}

TEST_F(StoreCli, BadOptions) {
  expect_usage_error(run_nds("query --sweeps"), "--db");
  expect_usage_error(run_nds("query --db " + db_ + " --sweeps --best base"), "exactly one");
  expect_usage_error(run_nds("query --db " + db_ + " --trials base --state DONE"), "DONE");
  expect_usage_error(run_nds("query --db " + db_ + " --best base -k 0"), "-k");
  expect_usage_error(run_nds("query --db " + db_ + " --sweeps --format xml"), "xml");
  expect_usage_error(run_nds("query --db " + db_ + " --trials nope"), "no sweep 'nope'");
  expect_usage_error(run_nds("query --db " + db_ + " --sweeps --state FAILED"), "--state");
}

// ---- files that cannot be used: one line, exit 2, nothing written ----

TEST(StoreCliFiles, NotAnNdsDatabase) {
  ScratchDir dir("store_cli");
  const std::string text = dir.file("x.db");
  std::ofstream(text) << "name,error\nresnet,23.1\n";
  const std::string sqlite = dir.file("other.db");
  { Db(sqlite, Db::Mode::kCreate).exec("CREATE TABLE t(x)"); }
  const uint64_t text_hash = testing::file_hash(text);
  const uint64_t sqlite_hash = testing::file_hash(sqlite);
  const auto files = dir.files();
  expect_usage_error(run_nds("query --db " + text + " --sweeps"), "is not an nds database");
  expect_usage_error(run_nds("db init --db " + text), "is not an nds database");
  expect_usage_error(run_nds("export --db " + sqlite + " --sweep a"), "is not an nds database");
  expect_usage_error(run_nds("db init --db " + sqlite), "is not an nds database");
  EXPECT_EQ(testing::file_hash(text), text_hash);
  EXPECT_EQ(testing::file_hash(sqlite), sqlite_hash);
  EXPECT_EQ(dir.files(), files);
}

TEST(StoreCliFiles, NewerSchema) {
  ScratchDir dir("store_cli");
  const std::string path = dir.file("future.db");
  { Store s(path, {}); }
  {
    Db(path, Db::Mode::kReadWrite).exec("UPDATE meta SET value = '7' WHERE key = 'schema_version'");
  }
  const uint64_t hash = testing::file_hash(path);
  expect_usage_error(run_nds("query --db " + path + " --sweeps"), "schema version 7");
  expect_usage_error(run_nds("db init --db " + path), "newer than this nds");
  EXPECT_EQ(testing::file_hash(path), hash);
  EXPECT_EQ(dir.files(), std::set<std::string>{"future.db"});
}

// Issue 13, item 5: --db is a file name for the writer's lock and for
// SQLite alike; a URI-looking name is never a URI.
TEST(StoreCliFiles, DbIsAFileNameNeverAUri) {
  ScratchDir dir("store_cli");
  {
    Store s(dir.file("x.db"), {});  // what "file:x.db?..." as a URI would open
    s.create_sweep(fake_sweep("in_x"), fake_trials(1));
  }
  const std::string x_bytes = read_bytes(dir.file("x.db"));
  const std::string uri = "file:x.db?nolock=1";
  CmdResult r = run_nds("db init --db '" + uri + "'", dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(dir.files(), (std::set<std::string>{"x.db", uri}));
  r = run_nds("query --db '" + uri + "' --sweeps --format csv", dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("in_x"), std::string::npos) << r.out;
  expect_usage_error(run_nds("query --db 'file:x.db?mode=ro' --sweeps", dir.path()),
                     "'file:x.db?mode=ro'");
  EXPECT_TRUE(read_bytes(dir.file("x.db")) == x_bytes);
  EXPECT_EQ(dir.files(), (std::set<std::string>{"x.db", uri}));
}

TEST(StoreCliFiles, MissingFileForARead) {
  ScratchDir dir("store_cli");
  expect_usage_error(run_nds("query --db " + dir.file("none.db") + " --sweeps"), "none.db");
  expect_usage_error(run_nds("export --db " + dir.file("none.db") + " --sweep a"), "none.db");
  EXPECT_TRUE(dir.files().empty());
}

// Runs nds as the unprivileged user `nobody` (root ignores directory
// permissions, and the test suite runs as root in CI).
CmdResult nds_as_nobody(const std::vector<std::string>& args) {
  CmdResult r;
  const std::string out_file = ::testing::TempDir() + "nds_nobody_out_" + std::to_string(getpid());
  const std::string err_file = ::testing::TempDir() + "nds_nobody_err_" + std::to_string(getpid());
  const int out_fd = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int err_fd = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(125);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(NDS_BINARY));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(NDS_BINARY, argv.data());
    _exit(126);
  }
  close(out_fd);
  close(err_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_bytes(out_file);
  r.err = read_bytes(err_file);
  std::remove(out_file.c_str());
  std::remove(err_file.c_str());
  return r;
}

TEST(StoreCliFiles, ReadOnlyDirectoryForAWrite) {
  ScratchDir dir("store_cli");
  ASSERT_EQ(chmod(dir.path().c_str(), 0555), 0);
  const CmdResult r = nds_as_nobody({"db", "init", "--db", dir.file("r.db")});
  if (r.code == 125) GTEST_SKIP() << "cannot drop root privileges to test directory permissions";
  ASSERT_NE(r.code, 126) << "cannot run " << NDS_BINARY << " as nobody";
  expect_usage_error(r, "is not writable");
  EXPECT_TRUE(dir.files().empty());
}

TEST(StoreCliFiles, SecondWriterIsRefused) {
  ScratchDir dir("store_cli");
  const std::string path = dir.file("r.db");
  Store writer(path, {});
  const CmdResult r = run_nds("db init --db " + path);
  expect_usage_error(r, "already open for writing by pid " + std::to_string(getpid()));
  // Reading meanwhile is fine.
  EXPECT_EQ(run_nds("query --db " + path + " --sweeps").code, 0);
}

TEST(StoreCliFiles, InitCheckAndRequeue) {
  ScratchDir dir("store_cli");
  const std::string path = dir.file("r.db");
  CmdResult r = run_nds("db init --db " + path + " --journal delete");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("created"), std::string::npos) << r.out;
  {
    StoreOptions o;
    double t = 1000;
    o.clock = [&t] { return t; };
    Store s(path, o);
    const int64_t id = s.create_sweep(fake_sweep("a"), fake_trials(3));
    s.claim(id, {0, "gone", ""});
    s.fail(s.claim(id, {0, "n", ""})->trial_id, "boom");
  }
  r = run_nds("db requeue --db " + path + " --sweep a --stale-after 60 --failed --max-attempts 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "requeued 1 stale trial\nrequeued 1 failed trial\n");
  r = run_nds("db check --db " + path);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ok"), std::string::npos);
  r = run_nds("query --db " + path + " --trials a --all-attempts --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(stdout_json(r).size(), 5u);
  expect_usage_error(run_nds("db requeue --db " + path + " --sweep a"), "--stale-after");
  expect_usage_error(run_nds("db init --db " + path + " --journal fast"), "fast");
  expect_usage_error(run_nds("db frobnicate --db " + path), "frobnicate");
}

}  // namespace
}  // namespace nds::store
