#pragma once
// A user's SQL statement run read-only (nds query --sql).
//
// Four independent guards, any one of which refuses a write:
//   1. the connection is opened SQLITE_OPEN_READONLY with query_only on
//      (store/reader.h);
//   2. exactly one statement: anything but spaces, comments and ';' after
//      it is refused (so "SELECT 1; DELETE ..." never reaches SQLite);
//   3. an authorizer allows only reads: SELECT, reading columns, functions
//      (not load_extension), recursive CTEs, and PRAGMAs on a read-only list
//      without a value to set; ATTACH, DETACH, transactions and every kind
//      of write are denied while the statement is compiled;
//   4. sqlite3_stmt_readonly() must hold for the compiled statement (this
//      also catches VACUUM INTO and journal-mode changes).
// The statement must start with SELECT, WITH, VALUES, EXPLAIN or PRAGMA.

#include <string>
#include <vector>

#include "store/db.h"
#include "store/records.h"

namespace nds::store {

class GuardedQuery {
 public:
  // Compiles `sql` on `db`, which must be a read-only connection. Throws
  // std::invalid_argument when the statement is refused or does not compile,
  // saying why ("--sql refused: ...").
  GuardedQuery(const Db& db, const std::string& sql);
  ~GuardedQuery();
  GuardedQuery(const GuardedQuery&) = delete;
  GuardedQuery& operator=(const GuardedQuery&) = delete;

  const std::vector<std::string>& columns() const { return columns_; }
  // The next row; false at the end. Throws StoreError when SQLite fails.
  bool next(Row* row);

 private:
  const Db& db_;
  Statement stmt_;
  std::vector<std::string> columns_;
  std::string denied_;  // what the authorizer refused, for the message
};

}  // namespace nds::store
