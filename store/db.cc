#include "store/db.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <utility>

namespace nds::store {
namespace {

// statfs f_type values of file systems whose byte-range locks and shared
// memory are not coherent across hosts (or not at all), where SQLite's WAL
// mode is unsafe. Spelled out here because <linux/magic.h> lacks several.
struct NetworkFs {
  unsigned long magic;  // NOLINT(runtime/int): matches statfs's f_type
  const char* name;
};
constexpr NetworkFs kNetworkFilesystems[] = {
    {0x6969, "nfs"},        {0x517B, "smb"},        {0xFF534D42, "cifs"},  {0xFE534D42, "smb2"},
    {0x0BD00BD0, "lustre"}, {0x47504653, "gpfs"},   {0x00C36400, "ceph"},  {0x5346414F, "afs"},
    {0x6B414653, "afs"},    {0x19830326, "beegfs"}, {0xAAD7AAEA, "panfs"}, {0x7461636F, "ocfs2"},
    {0x01161970, "gfs2"},   {0x73757245, "coda"},   {0x564C, "ncp"},       {0x01021997, "9p"},
    {0x013111A8, "ibrix"},
};

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

const char* to_string(JournalMode mode) {
  switch (mode) {
    case JournalMode::kAuto:
      return "auto";
    case JournalMode::kWal:
      return "wal";
    case JournalMode::kDelete:
      return "delete";
  }
  return "?";
}

JournalMode parse_journal_mode(const std::string& text) {
  if (text == "auto") return JournalMode::kAuto;
  if (text == "wal") return JournalMode::kWal;
  if (text == "delete") return JournalMode::kDelete;
  throw std::invalid_argument("unknown journal mode '" + text + "' (expected auto, wal or delete)");
}

bool on_network_filesystem(const std::string& path, std::string* fs_name) {
  struct statfs fs {};
  std::string probe = path;
  struct stat st {};
  if (stat(probe.c_str(), &st) != 0) probe = parent_dir(path);
  if (statfs(probe.c_str(), &fs) != 0) return false;
  for (const NetworkFs& n : kNetworkFilesystems) {
    if (static_cast<unsigned long>(fs.f_type) == n.magic) {  // NOLINT(runtime/int)
      if (fs_name) *fs_name = n.name;
      return true;
    }
  }
  return false;
}

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// ---- Db ----

namespace {

// SQLite counts every allocation under a global mutex unless told not to,
// which costs several percent of a write-heavy writer; nds never asks for the
// counts. Has to run before SQLite initializes, so once, before the first open
// (a no-op, SQLITE_MISUSE, when the host program initialized it already).
void configure_sqlite_once() {
  static const bool done = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)done;
}

// The name SQLite is given for `path`: the same file, spelled so that SQLite
// can only read it as a file path. Debian builds SQLite with SQLITE_USE_URI,
// so "file:x.db?nolock=1" would open x.db with locking off while nds's writer
// lock guards "file:x.db?nolock=1.lock"; ":memory:" would be a private
// in-memory database. "./" in front of a relative path changes neither the
// file nor the lock file's directory, and no URI starts with "./" or "/".
std::string sqlite_file_name(const std::string& path) {
  return path[0] == '/' ? path : "./" + path;
}

}  // namespace

Db::Db(const std::string& path, Mode mode, int busy_timeout_ms) : path_(path), mode_(mode) {
  // "" would be a private temporary database, not a file.
  if (path.empty()) throw DatabaseFileError("empty database path");
  configure_sqlite_once();
  // Never SQLITE_OPEN_URI: see sqlite_file_name().
  int flags = SQLITE_OPEN_NOMUTEX;  // one thread per connection
  switch (mode) {
    case Mode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case Mode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::kCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
  }
  const int rc = sqlite3_open_v2(sqlite_file_name(path).c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("database '" + path + "': cannot open: " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  set_busy_timeout(busy_timeout_ms);
}

Db::~Db() {
  // Statements are finalized by their owners first; close_v2 defers the
  // close if one is still alive rather than failing.
  sqlite3_close_v2(db_);
}

void Db::set_busy_timeout(int ms) {
  sqlite3_busy_timeout(db_, ms);
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if ((rc & 0xFF) == SQLITE_BUSY)
      throw StoreError("database '" + path_ + "' is locked by another process (waited for the " +
                       "busy timeout): " + msg);
    throw StoreError("database '" + path_ + "': " + msg);
  }
}

Statement Db::prepare(const std::string& sql) const {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) fail("cannot prepare \"" + sql.substr(0, 60) + "\"", rc);
  return Statement(this, stmt);
}

std::optional<std::string> Db::query_text(const std::string& sql) const {
  Statement s = prepare(sql);
  if (!s.step() || s.is_null(0)) return std::nullopt;
  return s.text(0);
}

std::optional<int64_t> Db::query_int(const std::string& sql) const {
  Statement s = prepare(sql);
  if (!s.step() || s.is_null(0)) return std::nullopt;
  return s.int64(0);
}

int64_t Db::changes() const {
  return sqlite3_changes64(db_);
}

int64_t Db::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

void Db::fail(const std::string& what, int rc, bool was_in_transaction) const {
  std::string msg = sqlite3_errmsg(db_);
  if (msg == "not an error" || msg.empty()) msg = sqlite3_errstr(rc);
  const int code = rc & 0xFF;
  // "disk I/O error" alone does not say that the file grew past a limit.
  const int os_error = sqlite3_system_errno(db_);
  if ((code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CANTOPEN) && os_error != 0)
    msg += std::string(" (") + std::strerror(os_error) + ")";
  // SQLite may end the whole transaction after an error; saying so is what
  // keeps a later "cannot commit - no transaction is active" from hiding
  // the real cause.
  const bool rolled_back = was_in_transaction && !in_transaction();
  const std::string after =
      rolled_back ? " (SQLite rolled back the open transaction: its writes are lost; what was "
                    "committed before is safe)"
                  : "";
  if (code == SQLITE_BUSY)
    throw StoreError("database '" + path_ + "' is locked by another process (waited for the " +
                         "busy timeout): " + what + ": " + msg + after,
                     code);
  throw StoreError("database '" + path_ + "': " + what + ": " + msg + after, code);
}

bool Db::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

// ---- Statement ----

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_->fail("bind", rc);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  // SQLite itself stores NaN as NULL; make that explicit.
  const int rc = std::isnan(value) ? sqlite3_bind_null(stmt_, index)
                                   : sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) db_->fail("bind", rc);
  return *this;
}

Statement& Statement::bind(int index, const std::string& value) {
  const int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_->fail("bind", rc);
  return *this;
}

Statement& Statement::bind(int index, const char* value) {
  return value ? bind(index, std::string(value)) : bind_null(index);
}

Statement& Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_->fail("bind", rc);
  return *this;
}

Statement& Statement::bind_text_or_null(int index, const std::string& value) {
  return value.empty() ? bind_null(index) : bind(index, value);
}

bool Statement::step() {
  const bool in_transaction = db_->in_transaction();
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
  sqlite3_reset(stmt_);
  db_->fail("\"" + sql.substr(0, 60) + "\"", rc, in_transaction);
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int Statement::column_count() const {
  return sqlite3_column_count(stmt_);
}

std::string Statement::column_name(int col) const {
  const char* name = sqlite3_column_name(stmt_, col);
  return name ? name : "";
}

int Statement::column_type(int col) const {
  return sqlite3_column_type(stmt_, col);
}

bool Statement::is_null(int col) const {
  return column_type(col) == SQLITE_NULL;
}

int64_t Statement::int64(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

double Statement::real(int col) const {
  return is_null(col) ? std::nan("") : sqlite3_column_double(stmt_, col);
}

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<int64_t> Statement::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

}  // namespace nds::store
