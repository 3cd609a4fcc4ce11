#pragma once
// Thin RAII wrappers over the SQLite C API: a connection and its prepared
// statements. Every connection gets a busy timeout, so a momentary lock held
// by another process (a reader in rollback-journal mode, the sqlite3 shell)
// is waited out instead of surfacing as "database is locked".

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace nds::store {

// SQLite or file-system failure while using a database (exit 1 in the CLI).
// `code` is SQLite's primary result code (SQLITE_FULL, SQLITE_IOERR, ...; 0
// when the error is nds's own). When SQLite rolled the whole open
// transaction back (it does so after SQLITE_FULL, IOERR, NOMEM and a few
// others) the message says so: its writes are gone, committed ones remain.
class StoreError : public std::runtime_error {
 public:
  explicit StoreError(const std::string& what, int code = 0)
      : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_ = 0;
};

// The database file the user named cannot be used as asked: missing (for a
// read), not an nds database, from a newer schema, in a directory that cannot
// be written (for a write), or already open for writing by another process.
// Bad input, so it derives from std::invalid_argument (exit 2 in the CLI).
// Nothing has been created or written when it is thrown.
class DatabaseFileError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// How the writer journals its transactions.
//   kWal:    write-ahead log; readers never block the writer. Needs shared
//            memory between processes, so only on local file systems.
//   kDelete: rollback journal; safe on network file systems (NFS, SMB,
//            Lustre, GPFS, ...), where WAL's shared memory is not coherent.
//   kAuto:   kWal, or kDelete when the file lies on a network file system.
enum class JournalMode { kAuto, kWal, kDelete };

const char* to_string(JournalMode mode);  // "auto", "wal", "delete"
// Throws std::invalid_argument naming `text` when it is none of the above.
JournalMode parse_journal_mode(const std::string& text);

// True when `path` (a file or directory; for a file that does not exist yet,
// its directory is examined) lies on a network or cluster file system. The
// file system's name is stored in `fs_name` when given ("nfs", "lustre", ...).
bool on_network_filesystem(const std::string& path, std::string* fs_name = nullptr);

// Default busy timeout for every connection.
constexpr int kDefaultBusyTimeoutMs = 10000;

class Statement;

class Db {
 public:
  enum class Mode {
    kReadOnly,   // SQLITE_OPEN_READONLY: never creates or writes the file
    kReadWrite,  // the file must exist
    kCreate,     // read-write, created when missing
  };

  // Opens the file `path`: always a file path, never a SQLite URI or
  // ":memory:" (a relative "file:x.db?mode=ro" is the file of that name in
  // the working directory). Throws DatabaseFileError for an empty path and
  // StoreError when SQLite cannot open it.
  Db(const std::string& path, Mode mode, int busy_timeout_ms = kDefaultBusyTimeoutMs);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  bool read_only() const { return mode_ == Mode::kReadOnly; }

  // Runs one or more statements that return no rows.
  void exec(const std::string& sql);
  Statement prepare(const std::string& sql) const;

  // The value of a single-row, single-column query, or nullopt when it
  // returns no row or NULL.
  std::optional<std::string> query_text(const std::string& sql) const;
  std::optional<int64_t> query_int(const std::string& sql) const;

  int64_t changes() const;
  int64_t last_insert_rowid() const;
  void set_busy_timeout(int ms);

  // Throws StoreError: "database 'PATH': <what>: <sqlite message>" for the
  // SQLite result code `rc`. `was_in_transaction`: a transaction was open
  // before the failing call; the error then says whether SQLite rolled it
  // back.
  [[noreturn]] void fail(const std::string& what, int rc, bool was_in_transaction = false) const;
  // Whether a transaction is open (sqlite3_get_autocommit() is off).
  bool in_transaction() const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  Mode mode_;
};

// A prepared statement. bind() indices start at 1; column indices at 0.
class Statement {
 public:
  Statement(const Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, double value);  // NaN is stored as NULL
  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, const char* value);
  Statement& bind_null(int index);
  // Empty text binds NULL (for optional text columns).
  Statement& bind_text_or_null(int index, const std::string& value);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // Advances; true when a row is ready. Throws StoreError on failure.
  bool step();
  // Steps a statement that returns no rows (or ignores them), then resets it.
  void run();
  // Resets the statement and clears its bindings for reuse.
  void reset();

  int column_count() const;
  std::string column_name(int col) const;
  int column_type(int col) const;  // SQLITE_INTEGER, SQLITE_FLOAT, ...
  bool is_null(int col) const;
  int64_t int64(int col) const;
  double real(int col) const;       // NULL reads as NaN
  std::string text(int col) const;  // NULL reads as ""
  std::optional<int64_t> opt_int64(int col) const;

  sqlite3_stmt* handle() const { return stmt_; }

 private:
  const Db* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Seconds since the Unix epoch, with sub-second precision.
double unix_now();

}  // namespace nds::store
