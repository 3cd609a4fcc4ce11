// The fence around nds query --sql (issue 13, item 5): the function
// allow-list (fts3_tokenizer and every function a read does not need are
// refused), the connection's defensive switches, the sqlite3_limit bounds,
// the deadline, and database paths that SQLite could read as URIs. After
// every refused query the database's bytes are unchanged.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/reader.h"
#include "store/sql_guard.h"
#include "store/store.h"
#include "tests/store_testing.h"

namespace nds::store {
namespace {

using testing::fake_sweep;
using testing::fake_trials;
using testing::ScratchDir;

// The message of the std::invalid_argument that `fn` throws ("" if none).
template <typename Fn>
std::string refusal(Fn fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// Compiles and runs `sql` to the end.
void run(const Reader& r, const std::string& sql, double timeout = kDefaultQueryTimeoutSeconds) {
  GuardedQuery q(r.db(), sql, timeout);
  Row row;
  while (q.next(&row)) {
  }
}

// A database with one sweep of three trials.
std::string make_db(const std::string& path) {
  Store s(path, {});
  s.create_sweep(fake_sweep("a"), fake_trials(3));
  return path;
}

class QueryGuard : public ::testing::Test {
 protected:
  // Runs `sql`, expects it refused with `needle` in the one-line message,
  // and the file byte-for-byte as it was.
  void expect_refused(const std::string& sql, const std::string& needle, double timeout = 10) {
    SCOPED_TRACE(sql.substr(0, 80));
    const std::string msg = refusal([&] { run(reader_, sql, timeout); });
    EXPECT_NE(msg.find(needle), std::string::npos) << "message: '" << msg << "'";
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_TRUE(testing::read_bytes(path_) == bytes_) << "the database changed";
    EXPECT_EQ(dir_.files(), std::set<std::string>{"r.db"});
  }
  ScratchDir dir_;
  const std::string path_ = make_db(dir_.file("r.db"));
  const Reader reader_{path_};
  const std::string bytes_ = testing::read_bytes(path_);
};

TEST_F(QueryGuard, Fts3TokenizerIsRefusedNamingIt) {
  expect_refused("SELECT fts3_tokenizer('simple')", "fts3_tokenizer()");
  // The two-argument form, the one that installs a pointer, too.
  expect_refused("SELECT fts3_tokenizer('x', x'0000000000000000')", "fts3_tokenizer()");
  expect_refused("EXPLAIN SELECT fts3_tokenizer('simple')", "fts3_tokenizer()");
}

TEST_F(QueryGuard, FunctionsAReadDoesNotNeedAreRefused) {
  for (const char* fn :
       {"load_extension('x')", "sqlite_version()", "sqlite_source_id()",
        "sqlite_compileoption_used('SECURE_DELETE')", "changes()", "last_insert_rowid()",
        "total_changes()", "zeroblob(10)", "randomblob(10)", "sqlite_log(1, 'x')",
        "rtreenode(2, x'00')", "fts5_source_id()", "subtype(1)"}) {
    const std::string name = std::string(fn).substr(0, std::string(fn).find('('));
    expect_refused(std::string("SELECT ") + fn, "function " + name + "()");
  }
  // Inside a CTE, a subquery or a WHERE clause alike.
  expect_refused("WITH x AS (SELECT zeroblob(5) AS b) SELECT * FROM x", "zeroblob()");
  expect_refused("SELECT * FROM trials WHERE seed = (SELECT changes())", "changes()");
  // Table-valued functions other than json_each, json_tree and pragma_*.
  for (const char* table : {"dbstat", "sqlite_stmt", "fts3tokenize"})
    expect_refused(std::string("SELECT count(*) FROM ") + table, table);
  // The UPDATE of sqlite_master the authorizer lets SQLite compile for
  // table-valued functions is no way to write it.
  expect_refused("WITH x AS (SELECT 1) UPDATE sqlite_master SET sql = 'x'", "sqlite_master");
  // Functions this SQLite lacks are unknown (the shell's readfile, ...).
  expect_refused("SELECT readfile('/etc/passwd')", "readfile");
}

TEST_F(QueryGuard, FunctionsAReadNeedsWork) {
  for (const char* sql :
       {"SELECT abs(-1), char(65), coalesce(NULL, 1), format('%d', 2), hex('a'), "
        "ifnull(NULL, 1), iif(1, 2, 3), instr('ab', 'b'), length('x'), lower('A'), "
        "ltrim(' a'), max(1, 2), min(1, 2), nullif(1, 2), printf('%5.1f', 1.5), quote('a'), "
        "random(), replace('a', 'a', 'b'), round(1.25, 1), rtrim('a '), sign(-2), "
        "soundex('x'), substr('abc', 2), substring('abc', 2), trim(' a '), typeof(1), "
        "unicode('A'), upper('a'), likely(1), unlikely(1), likelihood(1, 0.5), "
        "'ab' LIKE 'a%', 'ab' GLOB 'a*'",
        "SELECT date(0, 'unixepoch'), time(0, 'unixepoch'), datetime(0, 'unixepoch'), "
        "julianday(0, 'unixepoch'), unixepoch('1970-01-02'), strftime('%Y', 0, 'unixepoch'), "
        "current_date, current_time, current_timestamp",
        "SELECT acos(1), acosh(1), asin(0), asinh(0), atan(0), atan2(0, 1), atanh(0), "
        "ceil(1.5), ceiling(1.5), cos(0), cosh(0), degrees(pi()), exp(0), floor(1.5), ln(1), "
        "log(10), log(2, 8), log10(10), log2(8), mod(7, 3), pow(2, 3), power(2, 3), "
        "radians(180), sin(0), sinh(0), sqrt(4), tan(0), tanh(0), trunc(1.5)",
        "SELECT json('{}'), json_array(1), json_array_length('[1]'), json_extract('{\"a\":1}', "
        "'$.a'), json_insert('{}', '$.a', 1), json_object('a', 1), json_patch('{}', '{}'), "
        "json_quote('a'), json_remove('[1]', '$[0]'), json_replace('{}', '$.a', 1), "
        "json_set('{}', '$.a', 1), json_type('1'), json_valid('1'), '{\"a\":2}' -> '$.a', "
        "'{\"a\":2}' ->> '$.a'",
        "SELECT avg(seed), count(*), group_concat(seed), sum(seed), total(seed), "
        "json_group_array(seed), json_group_object(sample_index, seed) FROM trials",
        "SELECT row_number() OVER w, rank() OVER w, dense_rank() OVER w, "
        "percent_rank() OVER w, cume_dist() OVER w, ntile(2) OVER w, lag(seed) OVER w, "
        "lead(seed) OVER w, first_value(seed) OVER w, last_value(seed) OVER w, "
        "nth_value(seed, 2) OVER w FROM trials WINDOW w AS (ORDER BY seed)",
        "SELECT key, value FROM json_each('[1, 2]')", "SELECT * FROM json_tree('{\"a\":[1]}')",
        "SELECT name FROM pragma_table_info('trials')",
        // The views, with an untrusted schema.
        "SELECT sweep, count(*) FROM results GROUP BY sweep",
        "SELECT count(*) FROM current_trials"}) {
    SCOPED_TRACE(sql);
    EXPECT_NO_THROW(run(reader_, sql));
  }
  EXPECT_TRUE(testing::read_bytes(path_) == bytes_);
}

TEST_F(QueryGuard, ConnectionIsFencedInWhileTheQueryLives) {
  sqlite3* h = reader_.db().handle();
  const int length_before = sqlite3_limit(h, SQLITE_LIMIT_LENGTH, -1);
  {
    GuardedQuery q(reader_.db(), "SELECT 1");
    int on = -1;
    sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, -1, &on);
    EXPECT_EQ(on, 1);
    sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, -1, &on);
    EXPECT_EQ(on, 0);
    sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, -1, &on);
    EXPECT_EQ(on, 0);
    sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &on);
    EXPECT_EQ(on, 0);
    EXPECT_EQ(sqlite3_limit(h, SQLITE_LIMIT_LENGTH, -1), kQueryMaxLength);
    EXPECT_EQ(sqlite3_limit(h, SQLITE_LIMIT_SQL_LENGTH, -1), kQueryMaxSqlLength);
    EXPECT_EQ(sqlite3_limit(h, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, -1), kQueryMaxLikePattern);
    EXPECT_EQ(sqlite3_limit(h, SQLITE_LIMIT_ATTACHED, -1), 0);
  }
  // The limits come back for the Reader's own queries; so they do after a refusal.
  EXPECT_EQ(sqlite3_limit(h, SQLITE_LIMIT_LENGTH, -1), length_before);
  expect_refused("SELECT zeroblob(1)", "zeroblob");
  EXPECT_EQ(sqlite3_limit(h, SQLITE_LIMIT_LENGTH, -1), length_before);
  EXPECT_EQ(reader_.sweeps().size(), 1u);
}

std::string repeated(const std::string& part, int n, const std::string& sep) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? sep : "") + part;
  return out;
}

TEST_F(QueryGuard, LimitsBoundLengthsAndSizes) {
  expect_refused("SELECT 1" + std::string(kQueryMaxSqlLength, ' '),
                 std::to_string(kQueryMaxSqlLength + 8) + " bytes long");
  const std::string pattern = "'" + std::string(kQueryMaxLikePattern + 1, '%') + "'";
  expect_refused("SELECT 'a' LIKE " + pattern, "LIKE or GLOB pattern too complex");
  expect_refused("SELECT 'a' GLOB " + pattern, "LIKE or GLOB pattern too complex");
  // Two halves, a little over the limit together.
  const std::string half = "printf('%." + std::to_string(kQueryMaxLength / 2 + 1) + "c', 'x')";
  expect_refused("SELECT " + half + " || " + half, "string or blob too big");
  expect_refused(repeated("SELECT 1", kQueryMaxCompoundSelect + 1, " UNION ALL "),
                 "too many terms in compound SELECT");
  expect_refused("SELECT " + repeated("1", kQueryMaxExprDepth + 2, " + "),
                 "Expression tree is too large");
  expect_refused("SELECT max(" + repeated("1", kQueryMaxFunctionArgs + 1, ", ") + ")",
                 "too many arguments");
  expect_refused("SELECT " + repeated("1", kQueryMaxColumns + 1, ", "), "too many columns");
  // Just under the limits is fine.
  EXPECT_NO_THROW(run(reader_, "SELECT 'a' LIKE '" + std::string(kQueryMaxLikePattern, '%') + "'"));
  EXPECT_NO_THROW(run(reader_, repeated("SELECT 1", kQueryMaxCompoundSelect, " UNION ALL ")));
}

TEST_F(QueryGuard, TimeoutStopsARunawayQuery) {
  const auto start = std::chrono::steady_clock::now();
  expect_refused(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
      "SELECT count(*) FROM c",
      "the query was stopped after 0.3 s", 0.3);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(took, 0.3);
  EXPECT_LT(took, 3.0);
  // The connection works afterwards, with no deadline left behind.
  EXPECT_NO_THROW(run(reader_, "SELECT count(*) FROM trials"));
  EXPECT_EQ(reader_.sweeps().size(), 1u);
}

TEST(QueryTimeout, OnlyPositiveSecondsUpToADay) {
  for (double bad : {0.0, -1.0, std::nan(""), 1e9, HUGE_VAL}) {
    SCOPED_TRACE(bad);
    EXPECT_NE(refusal([&] { check_query_timeout(bad); }).find("--timeout"), std::string::npos);
  }
  EXPECT_NE(refusal([] { check_query_timeout(-2); }).find("got -2"), std::string::npos);
  EXPECT_NO_THROW(check_query_timeout(0.001));
  EXPECT_NO_THROW(check_query_timeout(86400));
}

// ---- --db is a file path, never a SQLite URI ----

// Runs the test body in `dir` (relative paths), then returns to where it was.
class InDir {
 public:
  explicit InDir(const std::string& dir) {
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf)) old_ = buf;
    EXPECT_EQ(chdir(dir.c_str()), 0);
  }
  ~InDir() {
    if (!old_.empty() && chdir(old_.c_str()) != 0) ADD_FAILURE() << "cannot return to " << old_;
  }

 private:
  std::string old_;
};

TEST(DatabasePath, UriLookingNamesAreFileNames) {
  ScratchDir dir;
  InDir in(dir.path());
  {
    Store s("x.db", {});  // what a URI "file:x.db?..." would have opened
    s.create_sweep(fake_sweep("in_x"), fake_trials(1));
  }
  const std::string x_bytes = testing::read_bytes("x.db");
  const std::string uri = "file:x.db?nolock=1";
  {
    Store s(uri, {});
    s.create_sweep(fake_sweep("in_uri"), fake_trials(1));
    // The writer's lock and SQLite's files (WAL included) share the name.
    for (const std::string& f : dir.files())
      if (f != "x.db") {
        EXPECT_EQ(f.rfind(uri, 0), 0u) << f;
      }
    EXPECT_EQ(dir.files().count(uri + ".lock"), 1u);
  }
  EXPECT_EQ(dir.files(), (std::set<std::string>{"x.db", uri}));
  const auto sweeps = Reader(uri).sweeps();
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_EQ(sweeps[0].name, "in_uri");
  EXPECT_TRUE(testing::read_bytes("x.db") == x_bytes);
  // A URI to x.db is a missing file for a reader, not x.db read-only.
  EXPECT_NE(refusal([] { Reader r("file:x.db?mode=ro"); }).find("file:x.db?mode=ro"),
            std::string::npos);
  // Nor is ":memory:" an in-memory database: it is a file of that name.
  { Db(":memory:", Db::Mode::kCreate).exec("CREATE TABLE t(x)"); }
  EXPECT_EQ(dir.files().count(":memory:"), 1u);
  EXPECT_THROW(Db("", Db::Mode::kCreate), DatabaseFileError);
}

TEST(DatabasePath, AbsolutePathsAreUnchanged) {
  ScratchDir dir;
  const std::string path = dir.file("abs.db");
  { Store s(path, {}); }
  EXPECT_EQ(Reader(path).sweeps().size(), 0u);
  EXPECT_EQ(dir.files(), std::set<std::string>{"abs.db"});
}

}  // namespace
}  // namespace nds::store
