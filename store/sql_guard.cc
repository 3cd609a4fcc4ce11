#include "store/sql_guard.h"

#include <sqlite3.h>

#include <cctype>
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

int authorize(void* user, int action, const char* a3, const char* a4, const char* /*db*/,
              const char* /*trigger*/) {
  auto* denied = static_cast<std::string*>(user);
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (a4 && sqlite3_stricmp(a4, "load_extension") == 0) {
        *denied = "load_extension() is not allowed";
        return SQLITE_DENY;
      }
      return SQLITE_OK;
    case SQLITE_PRAGMA: {
      const char* name = a3 ? a3 : "";
      if (listed(name, kPragmaWithArgument, std::size(kPragmaWithArgument))) return SQLITE_OK;
      if (!a4 && listed(name, kPragmaReadOnly, std::size(kPragmaReadOnly))) return SQLITE_OK;
      *denied = a4 ? "PRAGMA " + std::string(name) + " with a value (it sets it)"
                   : "PRAGMA " + std::string(name) + " (not on the read-only list)";
      return SQLITE_DENY;
    }
    default:
      if (denied->empty()) {
        *denied = action_name(action);
        if (action == SQLITE_ATTACH || action == SQLITE_DETACH) {
          *denied += " (nds query reads one database)";
        } else if (a3 && (action == SQLITE_INSERT || action == SQLITE_UPDATE ||
                          action == SQLITE_DELETE)) {
          *denied += std::string(" on ") + a3 + " (a write)";
        } else {
          *denied += " (a write)";
        }
      }
      return SQLITE_DENY;
  }
}

}  // namespace

GuardedQuery::GuardedQuery(const Db& db, const std::string& sql) : db_(db), stmt_(&db, nullptr) {
  if (!db.read_only()) throw std::logic_error("GuardedQuery needs a read-only connection");
  const char* start = skip_blank(sql.c_str(), true);
  if (!*start) throw std::invalid_argument("--sql: empty statement");
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

  sqlite3_set_authorizer(db.handle(), authorize, &denied_);
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db.handle(), start, -1, &raw, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_set_authorizer(db.handle(), nullptr, nullptr);
    if (!denied_.empty()) refuse(denied_ + " is not allowed; --sql is read-only");
    throw std::invalid_argument(std::string("--sql: ") + sqlite3_errmsg(db.handle()));
  }
  stmt_ = Statement(&db, raw);
  try {
    if (!raw) throw std::invalid_argument("--sql: empty statement");
    const char* rest = skip_blank(tail ? tail : "", true);
    if (*rest)
      refuse("one statement at a time (more follows: '" + std::string(rest).substr(0, 30) + "')");
    if (!sqlite3_stmt_readonly(raw)) refuse("the statement would write; --sql is read-only");
  } catch (...) {
    // The destructor will not run: uninstall the authorizer here.
    sqlite3_set_authorizer(db.handle(), nullptr, nullptr);
    throw;
  }
  for (int i = 0; i < stmt_.column_count(); ++i) columns_.push_back(stmt_.column_name(i));
}

GuardedQuery::~GuardedQuery() {
  // Kept installed while the statement lives: SQLite may recompile it.
  stmt_ = Statement(&db_, nullptr);
  sqlite3_set_authorizer(db_.handle(), nullptr, nullptr);
}

bool GuardedQuery::next(Row* row) {
  if (!stmt_.step()) return false;
  row->clear();
  sqlite3_stmt* s = stmt_.handle();
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
