#include "store/sql_guard.h"

#include <sqlite3.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <stdexcept>

namespace nds::store {
namespace {

[[noreturn]] void refuse(const std::string& why) {
  throw std::invalid_argument("--sql refused: " + why);
}

// Skips white space, comments and (when `semicolons`) statement separators.
const char* skip_blank(const char* p, bool semicolons) {
  for (;;) {
    while (*p && (std::isspace(static_cast<unsigned char>(*p)) || (semicolons && *p == ';'))) ++p;
    if (p[0] == '-' && p[1] == '-') {
      while (*p && *p != '\n') ++p;
    } else if (p[0] == '/' && p[1] == '*') {
      const char* end = std::strstr(p + 2, "*/");
      p = end ? end + 2 : p + std::strlen(p);
    } else {
      return p;
    }
  }
}

std::string first_word(const char* p) {
  std::string w;
  while (std::isalpha(static_cast<unsigned char>(*p)))
    w += static_cast<char>(std::toupper(static_cast<unsigned char>(*p++)));
  return w;
}

bool one_of(const std::string& w, std::initializer_list<const char*> words) {
  for (const char* x : words)
    if (w == x) return true;
  return false;
}

// PRAGMAs that only report. Those in kPragmaWithArgument take a table or
// index name (or a count) as argument; the others must come without a value,
// since "PRAGMA x = v" sets it.
constexpr const char* kPragmaWithArgument[] = {
    "table_info",  "table_xinfo",      "table_list",        "index_list",      "index_info",
    "index_xinfo", "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check"};
constexpr const char* kPragmaReadOnly[] = {
    "application_id", "user_version",   "schema_version", "data_version", "page_size",
    "page_count",     "freelist_count", "journal_mode",   "encoding",     "database_list",
    "collation_list", "function_list",  "module_list",    "pragma_list",  "compile_options",
    "foreign_keys",   "auto_vacuum",    "max_page_count", "query_only"};

// The SQL functions a read may call: SQLite 3.40's core scalar, aggregate
// and window functions, date and time, math (SQLITE_ENABLE_MATH_FUNCTIONS)
// and JSON functions ("->" and "->>" are JSON's operators; LIKE and GLOB
// call like() and glob()). Every other function is denied, including any a
// later SQLite or another build adds: load_extension; fts3_tokenizer (built
// with SQLITE_ENABLE_FTS3_TOKENIZER, as Debian's is, its two-argument form
// installs a tokenizer from a raw pointer: a known path to code execution);
// the FTS3/FTS5 and R-Tree helpers (an nds database has no such tables);
// what reports on the connection or the build (changes, last_insert_rowid,
// total_changes, sqlite_*) or writes the error log (sqlite_log); subtype;
// and what only makes bytes (zeroblob, randomblob).
constexpr const char* kAllowedFunctions[] = {
    // core scalar
    "abs", "char", "coalesce", "format", "glob", "hex", "ifnull", "iif", "instr", "length", "like",
    "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif", "printf", "quote", "random",
    "replace", "round", "rtrim", "sign", "soundex", "substr", "substring", "trim", "typeof",
    "unicode", "unlikely", "upper",
    // aggregate (max and min above)
    "avg", "count", "group_concat", "sum", "total",
    // window
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value",
    // date and time
    "date", "time", "datetime", "julianday", "unixepoch", "strftime", "current_date",
    "current_time", "current_timestamp",
    // math
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh",
    "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power", "radians",
    "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
    // JSON
    "json", "json_array", "json_array_length", "json_extract", "json_insert", "json_object",
    "json_patch", "json_quote", "json_remove", "json_replace", "json_set", "json_type",
    "json_valid", "json_group_array", "json_group_object", "->", "->>"};

// Table-valued functions (eponymous virtual tables) a read may use besides
// pragma_*, whose PRAGMA the authorizer checks as it runs. The others of
// the build (dbstat, sqlite_stmt, fts3tokenize, ...) are denied.
constexpr const char* kAllowedTableFunctions[] = {"json_each", "json_tree"};

struct Limit {
  int id;
  int value;
};
// sqlite3_limit bounds while a query runs (values in sql_guard.h). No
// attached databases at all; a bound variable (?) is never given.
constexpr Limit kLimits[] = {
    {SQLITE_LIMIT_LENGTH, kQueryMaxLength},
    {SQLITE_LIMIT_SQL_LENGTH, kQueryMaxSqlLength},
    {SQLITE_LIMIT_COLUMN, kQueryMaxColumns},
    {SQLITE_LIMIT_EXPR_DEPTH, kQueryMaxExprDepth},
    {SQLITE_LIMIT_COMPOUND_SELECT, kQueryMaxCompoundSelect},
    {SQLITE_LIMIT_VDBE_OP, kQueryMaxVdbeOps},
    {SQLITE_LIMIT_FUNCTION_ARG, kQueryMaxFunctionArgs},
    {SQLITE_LIMIT_ATTACHED, 0},
    {SQLITE_LIMIT_LIKE_PATTERN_LENGTH, kQueryMaxLikePattern},
};

// Connection switches for an untrusted statement: defensive mode (no
// writable_schema, no shadow-table writes); an untrusted schema (views and
// triggers may call only side-effect-free functions); no extension loading;
// no fts3_tokenizer pointers (where the build lets that be switched off;
// Debian's does not, hence kAllowedFunctions); no triggers (a read fires
// none). Views stay on: results and current_trials are views.
constexpr int kSwitches[][2] = {
    {SQLITE_DBCONFIG_DEFENSIVE, 1},
    {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0},
    {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0},
    {SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0},
    {SQLITE_DBCONFIG_ENABLE_TRIGGER, 0},
    {SQLITE_DBCONFIG_ENABLE_VIEW, 1},
};

// The progress handler runs every this many virtual-machine instructions:
// microseconds apart, so the deadline is kept to within a millisecond.
constexpr int kProgressInstructions = 1000;

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

bool listed(const char* name, const char* const* first, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (sqlite3_stricmp(name, first[i]) == 0) return true;
  return false;
}

const char* action_name(int action) {
  switch (action) {
    case SQLITE_INSERT:
      return "INSERT";
    case SQLITE_UPDATE:
      return "UPDATE";
    case SQLITE_DELETE:
      return "DELETE";
    case SQLITE_ATTACH:
      return "ATTACH";
    case SQLITE_DETACH:
      return "DETACH";
    case SQLITE_TRANSACTION:
      return "a transaction statement";
    case SQLITE_SAVEPOINT:
      return "SAVEPOINT";
    case SQLITE_ALTER_TABLE:
      return "ALTER TABLE";
    case SQLITE_REINDEX:
      return "REINDEX";
    case SQLITE_ANALYZE:
      return "ANALYZE";
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_VTABLE:
      return "a virtual table change";
    default:
      break;
  }
  if (action >= SQLITE_CREATE_INDEX && action <= SQLITE_CREATE_VIEW) return "CREATE";
  if (action >= SQLITE_DROP_INDEX && action <= SQLITE_DROP_VIEW) return "DROP";
  return "a write";
}

// What a denied action is called in the message, with why it is denied.
std::string write_text(int action, const char* table) {
  std::string what = action_name(action);
  if (action == SQLITE_ATTACH || action == SQLITE_DETACH)
    return what + " (nds query reads one database)";
  if (table && (action == SQLITE_INSERT || action == SQLITE_UPDATE || action == SQLITE_DELETE))
    return what + " on " + table + " (a write)";
  return what + " (a write)";
}

// Throws unless the first word makes a statement --sql may run.
void check_first_word(const char* start) {
  const std::string word = first_word(start);
  if (one_of(word, {"ATTACH", "DETACH"}))
    refuse(word + " is not allowed (nds query reads one database, read-only)");
  if (one_of(word, {"INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER",
                    "VACUUM", "REINDEX", "ANALYZE", "BEGIN", "COMMIT", "END", "ROLLBACK",
                    "SAVEPOINT", "RELEASE"}))
    refuse(word + " statements write or open transactions; --sql is read-only");
  if (!one_of(word, {"SELECT", "WITH", "VALUES", "EXPLAIN", "PRAGMA"}))
    refuse("a statement must start with SELECT, WITH, VALUES, EXPLAIN or PRAGMA, not '" +
           (word.empty() ? std::string(start).substr(0, 20) : word) + "'");
}

// Errors a statement causes on its own (bad SQL or values, limits, a
// denied action): the user's input, not the file's state.
bool statement_error(int rc) {
  const int primary = rc & 0xFF;
  return primary == SQLITE_ERROR || primary == SQLITE_TOOBIG || primary == SQLITE_RANGE ||
         primary == SQLITE_MISMATCH || primary == SQLITE_AUTH;
}

}  // namespace

void check_query_timeout(double seconds) {
  if (!(seconds > 0 && seconds <= kMaxQueryTimeoutSeconds))
    throw std::invalid_argument("--timeout must be a number of seconds in (0, " +
                                seconds_text(kMaxQueryTimeoutSeconds) + "], got " +
                                seconds_text(seconds));
}

// Everything installed on the connection for the query's life, and the
// state the callbacks share with the query.
struct GuardedQuery::Fence {
  Fence(const Db& db, double timeout_seconds);
  ~Fence();
  Fence(const Fence&) = delete;
  Fence& operator=(const Fence&) = delete;

  static int authorize(void* user, int action, const char* a3, const char* a4, const char* db,
                       const char* trigger);
  static int on_progress(void* user);
  int deny(const std::string& why);
  bool table_allowed(const char* table) const;

  sqlite3* handle;
  double timeout_seconds;
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;
  std::string denied;                // the first refusal, for the message
  std::vector<std::string> modules;  // virtual-table modules: table-valued functions
  int saved_limits[std::size(kLimits)] = {};
};

GuardedQuery::Fence::Fence(const Db& db, double timeout)
    : handle(db.handle()),
      timeout_seconds(timeout),
      deadline(std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   std::chrono::duration<double>(timeout))) {
  // Listed before the authorizer is installed (it would judge this query).
  Statement list = db.prepare("SELECT name FROM pragma_module_list");
  while (list.step()) modules.push_back(list.text(0));
  for (const auto& [option, value] : kSwitches) {
    int now = -1;
    if (sqlite3_db_config(handle, option, value, &now) != SQLITE_OK || now != value)
      throw StoreError("database '" + db.path() + "': cannot fence in a --sql query (option " +
                       std::to_string(option) + " of sqlite3_db_config)");
  }
  for (size_t i = 0; i < std::size(kLimits); ++i)
    saved_limits[i] = sqlite3_limit(handle, kLimits[i].id, kLimits[i].value);
  sqlite3_set_authorizer(handle, authorize, this);
  sqlite3_progress_handler(handle, kProgressInstructions, on_progress, this);
}

GuardedQuery::Fence::~Fence() {
  // The switches stay: they only make the read-only connection safer.
  sqlite3_progress_handler(handle, 0, nullptr, nullptr);
  sqlite3_set_authorizer(handle, nullptr, nullptr);
  for (size_t i = 0; i < std::size(kLimits); ++i)
    sqlite3_limit(handle, kLimits[i].id, saved_limits[i]);
}

int GuardedQuery::Fence::on_progress(void* user) {
  auto* fence = static_cast<Fence*>(user);
  if (std::chrono::steady_clock::now() < fence->deadline) return 0;
  fence->timed_out = true;
  return 1;  // SQLite ends the statement with SQLITE_INTERRUPT
}

int GuardedQuery::Fence::deny(const std::string& why) {
  if (denied.empty()) denied = why;
  return SQLITE_DENY;
}

bool GuardedQuery::Fence::table_allowed(const char* table) const {
  if (!table || sqlite3_strnicmp(table, "pragma_", 7) == 0) return true;
  if (listed(table, kAllowedTableFunctions, std::size(kAllowedTableFunctions))) return true;
  for (const std::string& m : modules)
    if (sqlite3_stricmp(table, m.c_str()) == 0) return false;
  return true;  // a table or view of the database
}

int GuardedQuery::Fence::authorize(void* user, int action, const char* a3, const char* a4,
                                   const char* /*db*/, const char* /*trigger*/) {
  auto* fence = static_cast<Fence*>(user);
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_UPDATE:
      // SQLite asks about an UPDATE of sqlite_master while it declares a
      // table-valued function's columns on first use (json_each, pragma_*).
      // That code never runs, and no statement can write sqlite_master:
      // SQLite refuses it unless writable_schema, which defensive mode and
      // the PRAGMA list keep off.
      if (a3 && sqlite3_stricmp(a3, "sqlite_master") == 0) return SQLITE_OK;
      return fence->deny(write_text(action, a3) + " is not allowed; --sql is read-only");
    case SQLITE_READ:
      if (fence->table_allowed(a3)) return SQLITE_OK;
      return fence->deny("the table-valued function " + std::string(a3) +
                         " is not allowed (not one a read needs; see docs/store.md)");
    case SQLITE_FUNCTION:
      if (a4 && listed(a4, kAllowedFunctions, std::size(kAllowedFunctions))) return SQLITE_OK;
      return fence->deny("the function " + std::string(a4 ? a4 : "?") +
                         "() is not allowed (not one a read needs; see docs/store.md)");
    case SQLITE_PRAGMA: {
      const char* name = a3 ? a3 : "";
      if (listed(name, kPragmaWithArgument, std::size(kPragmaWithArgument))) return SQLITE_OK;
      if (!a4 && listed(name, kPragmaReadOnly, std::size(kPragmaReadOnly))) return SQLITE_OK;
      return fence->deny(
          a4 ? "PRAGMA " + std::string(name) +
                   " with a value (it sets it) is not allowed; --sql is read-only"
             : "PRAGMA " + std::string(name) +
                   " (not on the read-only list) is not allowed; --sql is read-only");
    }
    default:
      return fence->deny(write_text(action, a3) + " is not allowed; --sql is read-only");
  }
}

GuardedQuery::GuardedQuery(const Db& db, const std::string& sql, double timeout_seconds)
    : db_(db), stmt_(&db, nullptr) {
  if (!db.read_only()) throw std::logic_error("GuardedQuery needs a read-only connection");
  check_query_timeout(timeout_seconds);
  if (sql.size() > static_cast<size_t>(kQueryMaxSqlLength))
    refuse("the statement is " + std::to_string(sql.size()) + " bytes long; at most " +
           std::to_string(kQueryMaxSqlLength) + " are allowed");
  const char* start = skip_blank(sql.c_str(), true);
  if (!*start) throw std::invalid_argument("--sql: empty statement");
  check_first_word(start);
  // When compile() throws, stmt_ and then fence_ are destroyed: nothing stays
  // installed on the connection.
  fence_ = std::make_unique<Fence>(db, timeout_seconds);
  compile(start);
  for (int i = 0; i < stmt_.column_count(); ++i) columns_.push_back(stmt_.column_name(i));
}

void GuardedQuery::compile(const char* start) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db_.handle(), start, -1, &raw, &tail);
  if (rc != SQLITE_OK) {
    if (!fence_->denied.empty()) refuse(fence_->denied);
    throw std::invalid_argument(std::string("--sql: ") + sqlite3_errmsg(db_.handle()));
  }
  stmt_ = Statement(&db_, raw);
  if (!raw) throw std::invalid_argument("--sql: empty statement");
  const char* rest = skip_blank(tail ? tail : "", true);
  if (*rest)
    refuse("one statement at a time (more follows: '" + std::string(rest).substr(0, 30) + "')");
  if (!sqlite3_stmt_readonly(raw)) refuse("the statement would write; --sql is read-only");
}

GuardedQuery::~GuardedQuery() = default;

void GuardedQuery::fail(int rc) const {
  const std::string msg = sqlite3_errmsg(db_.handle());
  sqlite3_reset(stmt_.handle());
  if (fence_->timed_out)
    throw std::invalid_argument(
        "--sql: the query was stopped after " + seconds_text(fence_->timeout_seconds) +
        " s (--timeout SECONDS, default " + seconds_text(kDefaultQueryTimeoutSeconds) + ")");
  if (statement_error(rc)) throw std::invalid_argument("--sql: " + msg);
  db_.fail("--sql", rc);
}

bool GuardedQuery::next(Row* row) {
  sqlite3_stmt* s = stmt_.handle();
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) fail(rc);
  row->clear();
  for (int i = 0; i < static_cast<int>(columns_.size()); ++i) {
    switch (sqlite3_column_type(s, i)) {
      case SQLITE_INTEGER:
        row->emplace_back(static_cast<int64_t>(sqlite3_column_int64(s, i)));
        break;
      case SQLITE_FLOAT:
        row->emplace_back(sqlite3_column_double(s, i));
        break;
      case SQLITE_TEXT:
        row->emplace_back(stmt_.text(i));
        break;
      case SQLITE_BLOB: {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
        row->emplace_back(
            Blob{std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(s, i)))});
        break;
      }
      default:
        row->emplace_back(std::monostate{});
        break;
    }
  }
  return true;
}

}  // namespace nds::store
