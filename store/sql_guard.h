#pragma once
// A user's SQL statement run read-only (nds query --sql).
//
// Independent guards, any one of which refuses a write:
//   1. the connection is opened SQLITE_OPEN_READONLY with query_only on
//      (store/reader.h);
//   2. exactly one statement: anything but spaces, comments and ';' after
//      it is refused (so "SELECT 1; DELETE ..." never reaches SQLite);
//   3. an authorizer allows only reads: SELECT, reading columns, the SQL
//      functions on an allow-list (kAllowedFunctions in sql_guard.cc: core,
//      aggregate, window, date/time, math and JSON functions; not
//      load_extension, fts3_tokenizer, FTS/R-Tree internals or anything that
//      reports on the connection), the table-valued functions json_each,
//      json_tree and pragma_*, recursive CTEs, and PRAGMAs on a read-only
//      list without a value to set; ATTACH, DETACH, transactions and every
//      kind of write are denied while the statement is compiled;
//   4. sqlite3_stmt_readonly() must hold for the compiled statement (this
//      also catches VACUUM INTO and journal-mode changes).
// The statement must start with SELECT, WITH, VALUES, EXPLAIN or PRAGMA.
//
// While the query lives its connection is also fenced in: defensive mode,
// an untrusted schema (no functions with side effects in views), no
// extensions, no triggers, the lengths and sizes below bounded by
// sqlite3_limit, and a deadline checked by a progress handler. The limits
// are restored when the query ends.

#include <memory>
#include <string>
#include <vector>

#include "store/db.h"
#include "store/records.h"

namespace nds::store {

// How long a query may run (compiling, stepping and printing its rows)
// unless told otherwise (nds query --timeout).
constexpr double kDefaultQueryTimeoutSeconds = 10;
constexpr double kMaxQueryTimeoutSeconds = 86400;  // a day

// Bounds set with sqlite3_limit while a query runs. Far above what a read of
// an nds database needs (its longest value is a model's JSON, kilobytes),
// far below SQLite's defaults (1 GB strings, 1 GB statements).
constexpr int kQueryMaxLength = 16 << 20;    // a string, BLOB or row, bytes
constexpr int kQueryMaxSqlLength = 100000;   // the statement, bytes
constexpr int kQueryMaxLikePattern = 1000;   // a LIKE or GLOB pattern, bytes
constexpr int kQueryMaxColumns = 500;        // result columns, GROUP BY / ORDER BY terms
constexpr int kQueryMaxExprDepth = 200;      // nesting of an expression
constexpr int kQueryMaxCompoundSelect = 50;  // SELECTs joined by UNION etc.
constexpr int kQueryMaxFunctionArgs = 64;    // arguments of one function call
constexpr int kQueryMaxVdbeOps = 100000;     // instructions of the compiled program

// Throws std::invalid_argument naming `seconds` unless it is in
// (0, kMaxQueryTimeoutSeconds].
void check_query_timeout(double seconds);

class GuardedQuery {
 public:
  // Compiles `sql` on `db`, which must be a read-only connection. Throws
  // std::invalid_argument when the statement is refused or does not compile,
  // saying why ("--sql refused: ..."). The query is stopped once
  // `timeout_seconds` have passed since this call.
  GuardedQuery(const Db& db, const std::string& sql,
               double timeout_seconds = kDefaultQueryTimeoutSeconds);
  ~GuardedQuery();
  GuardedQuery(const GuardedQuery&) = delete;
  GuardedQuery& operator=(const GuardedQuery&) = delete;

  const std::vector<std::string>& columns() const { return columns_; }
  // The next row; false at the end. Throws std::invalid_argument when the
  // deadline passed or the statement fails on its own terms (a value or LIKE
  // pattern over the limits, malformed JSON, ...), StoreError when the file
  // does (busy, I/O, corrupt).
  bool next(Row* row);

 private:
  struct Fence;  // the authorizer's and progress handler's state

  void compile(const char* start);
  // Throws for a failed step: std::invalid_argument or StoreError (next()).
  [[noreturn]] void fail(int rc) const;

  const Db& db_;
  // Declared before stmt_, so the statement is finalized before the fence
  // comes down: SQLite may recompile it while it lives.
  std::unique_ptr<Fence> fence_;
  Statement stmt_;
  std::vector<std::string> columns_;
};

}  // namespace nds::store
