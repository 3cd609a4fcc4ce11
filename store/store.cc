#include "store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>

#include "store/schema.h"

namespace nds::store {
namespace {

// j.dump(), with text that is not valid UTF-8 replaced (U+FFFD) instead of
// thrown on: a bad byte in a name or message must not fail the write.
std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

// The common scalar parameters, so analyses can filter and index on them.
// A list whose entries are all equal (AnyNet's shared g or b) gives its value;
// depth is the total depth (the sum of per-stage depths when given as a list).
std::optional<double> number(const nlohmann::json& p, const char* key) {
  if (!p.is_object()) return std::nullopt;
  const auto it = p.find(key);
  if (it == p.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<double> uniform(const nlohmann::json& p, const char* key, const char* list_key) {
  if (auto v = number(p, key)) return v;
  if (!p.is_object()) return std::nullopt;
  const auto it = p.find(list_key);
  if (it == p.end() || !it->is_array() || it->empty()) return std::nullopt;
  std::optional<double> first;
  for (const auto& e : *it) {
    if (!e.is_number()) return std::nullopt;
    const double v = e.get<double>();
    if (first && *first != v) return std::nullopt;
    first = v;
  }
  return first;
}

std::optional<double> total_depth(const nlohmann::json& p) {
  if (auto v = number(p, "depth")) return v;
  if (!p.is_object()) return std::nullopt;
  const auto it = p.find("depths");
  if (it == p.end() || !it->is_array() || it->empty()) return std::nullopt;
  double sum = 0;
  for (const auto& e : *it) {
    if (!e.is_number()) return std::nullopt;
    sum += e.get<double>();
  }
  return sum;
}

std::optional<int64_t> as_int(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  return static_cast<int64_t>(std::llround(*v));
}

// The first column of every row `s` returns, as ids; leaves `s` reset.
std::vector<int64_t> ids(Statement& s) {
  std::vector<int64_t> out;
  while (s.step()) out.push_back(s.int64(0));
  s.reset();
  return out;
}

// Text that binds NULL when empty (optional text columns).
struct TextOrNull {
  const std::string& text;
};

void bind_value(Statement& s, int index, const TextOrNull& v) {
  s.bind_text_or_null(index, v.text);
}
template <typename T>
void bind_value(Statement& s, int index, const T& v) {
  s.bind(index, v);
}

// Binds `values` to ?first, ?first + 1, ... in turn: a statement's values are
// listed in its placeholders' order, with no hand-kept numbers to drift.
template <typename... Values>
Statement& bind_in_order(Statement& s, int first, const Values&... values) {
  int index = first;
  (bind_value(s, index++, values), ...);
  return s;
}

// Waiting for a reader's lock is timed on a steady clock: StoreOptions::clock
// is the time recorded in the database (and a test's fake one).
double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A commit tried between the farm's messages waits this long for a reader's
// lock before it is put off (and retried with backoff up to kMaxRetrySeconds).
constexpr int kQuickCommitWaitMs = 100;
constexpr double kMaxRetrySeconds = 5;
// Writes kept in memory while commits are put off, in batches: past that the
// writer waits for the lock (memory stays bounded).
constexpr int64_t kMaxDeferredBatches = 100;

constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kSavepoint = "SAVEPOINT nds_op";
constexpr const char* kRelease = "RELEASE nds_op";
constexpr const char* kRollbackTo = "ROLLBACK TO nds_op";
constexpr const char* kInsertTrial =
    "INSERT INTO trials(sweep_id, sample_index, attempt, model_id, seed, reference) "
    "VALUES (?1, ?2, 0, ?3, ?4, ?5)";
constexpr const char* kTrialState = "SELECT state, sweep_id FROM trials WHERE id = ?1";
constexpr const char* kMarkLost =
    "UPDATE trials SET state = 'FAILED', finished_at = ?2, error = ?3, lost = 1 "
    "WHERE id = ?1 AND state = 'RUNNING'";

}  // namespace

void check_sweep_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 128 && name[0] != '-';
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    ok = ok && allowed;
  }
  if (!ok)
    throw std::invalid_argument("bad sweep name '" + name +
                                "': use 1..128 letters, digits, '.', '_' or '-', not starting "
                                "with '-'");
}

// A savepoint around one compound write, so a failure half-way leaves the
// rest of the batch intact and the write all-or-nothing.
class Store::Op {
 public:
  explicit Op(Store& store) : store_(store) {
    store_.begin_write();
    store_.stmt(kSavepoint).run();
    ++store_.op_depth_;
  }
  void done() {
    --store_.op_depth_;
    store_.stmt(kRelease).run();
    finished_ = true;
    store_.end_write();
  }
  ~Op() {
    if (finished_) return;
    --store_.op_depth_;
    sqlite3_exec(store_.db_->handle(), kRollbackTo, nullptr, nullptr, nullptr);
    sqlite3_exec(store_.db_->handle(), kRelease, nullptr, nullptr, nullptr);
    store_.forget_cached_state();  // what the rolled-back write added is gone
  }
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

 private:
  Store& store_;
  bool finished_ = false;
};

Store::Store(const std::string& path, StoreOptions options)
    : path_(path), options_(std::move(options)) {
  if (path_.empty()) throw std::invalid_argument("empty database path");
  if (!options_.clock) options_.clock = unix_now;
  if (options_.batch_ops < 1)
    throw std::invalid_argument("batch_ops must be >= 1, got " +
                                std::to_string(options_.batch_ops));
  const std::string dir = parent_dir(path_);
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0)
    throw DatabaseFileError("cannot write database '" + path_ + "': directory '" + dir +
                            "': " + errno_text(errno));
  if (!S_ISDIR(st.st_mode))
    throw DatabaseFileError("cannot write database '" + path_ + "': '" + dir +
                            "' is not a directory");
  if (access(dir.c_str(), W_OK) != 0)
    throw DatabaseFileError("cannot write database '" + path_ + "': directory '" + dir +
                            "' is not writable (" + errno_text(errno) + ")");
  acquire_lock();
  try {
    open_database();
  } catch (...) {
    statements_.clear();
    epoch_inserts_.clear();
    db_.reset();
    release_lock();
    throw;
  }
}

Store::~Store() {
  try {
    if (db_) {
      options_.lock_wait_seconds = std::min(options_.lock_wait_seconds, 10.0);
      insert_event_batched("writer_closed", std::nullopt, std::nullopt, nullptr);
      flush();
      if (journal_ == JournalMode::kWal) {
        // Back to a single self-contained file while idle. Skipped (the
        // database stays in WAL) when a reader has it open right now.
        statements_.clear();
        epoch_inserts_.clear();
        db_->set_busy_timeout(0);
        sqlite3_exec(db_->handle(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
      }
    }
  } catch (const std::exception&) {
    // A destructor cannot report; the open batch is lost, committed ones are safe.
  }
  statements_.clear();
  epoch_inserts_.clear();
  db_.reset();
  release_lock();
}

void Store::acquire_lock() {
  lock_path_ = path_ + ".lock";
  // The previous holder may remove the file between our open() and flock();
  // then our lock is on a stale inode: retry with the current file.
  for (int attempt = 0; attempt < 10; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw DatabaseFileError("cannot write database '" + path_ + "': cannot create lock file '" +
                              lock_path_ + "': " + errno_text(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      std::string holder(256, '\0');
      const ssize_t n = pread(fd, holder.data(), holder.size(), 0);
      holder.resize(n > 0 ? static_cast<size_t>(n) : 0);
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
      ::close(fd);
      if (err == EWOULDBLOCK)
        throw DatabaseFileError("database '" + path_ + "' is already open for writing" +
                                (holder.empty() ? "" : " by " + holder) + " (lock file '" +
                                lock_path_ + "'); nds allows one writer per database");
      throw DatabaseFileError("cannot lock '" + lock_path_ + "': " + errno_text(err));
    }
    struct stat held {};
    struct stat current {};
    if (fstat(fd, &held) == 0 && stat(lock_path_.c_str(), &current) == 0 &&
        held.st_ino == current.st_ino && held.st_dev == current.st_dev) {
      const std::string who = "pid " + std::to_string(getpid()) + " on host " + host_name() + "\n";
      if (ftruncate(fd, 0) != 0 || pwrite(fd, who.data(), who.size(), 0) < 0) {
        // The lock itself is what matters; the text only improves messages.
      }
      lock_fd_ = fd;
      return;
    }
    ::close(fd);
  }
  throw StoreError("cannot acquire lock file '" + lock_path_ + "': it keeps changing");
}

void Store::release_lock() {
  if (lock_fd_ < 0) return;
  // Unlink while still holding the lock, so no one can lock the old inode
  // and believe it current (acquire_lock checks the inode).
  ::unlink(lock_path_.c_str());
  ::close(lock_fd_);
  lock_fd_ = -1;
}

void Store::open_database() {
  struct stat st {};
  const bool exists = stat(path_.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode))
    throw DatabaseFileError("'" + path_ + "' is not a regular file");
  if (exists && access(path_.c_str(), W_OK) != 0)
    throw DatabaseFileError("cannot write database '" + path_ + "': " + errno_text(errno));
  db_ = std::make_unique<Db>(path_, exists ? Db::Mode::kReadWrite : Db::Mode::kCreate,
                             options_.busy_timeout_ms);
  try {
    // Validate before anything writes: a foreign file is left untouched.
    check_schema(*db_);

    std::string fs;
    const bool network = on_network_filesystem(path_, &fs);
    fs_name_ = network ? fs : "local";
    journal_ = options_.journal;
    if (journal_ == JournalMode::kAuto)
      journal_ = network ? JournalMode::kDelete : JournalMode::kWal;
    if (journal_ == JournalMode::kWal && network)
      throw std::invalid_argument("journal mode wal is unsafe for '" + path_ + "' on " + fs +
                                  " (no shared memory across hosts): use delete or auto");
    // 8 KB pages for a new file: finished trials grow their rows and split
    // fewer pages; writes measured ~15% faster than with 4 KB.
    if (!exists) db_->exec("PRAGMA page_size = 8192");
    const char* want = journal_ == JournalMode::kWal ? "wal" : "delete";
    const std::string got =
        db_->query_text(std::string("PRAGMA journal_mode = ") + want).value_or("?");
    if (got != want)
      throw StoreError("database '" + path_ + "': cannot switch the journal mode to " + want +
                       " (it stays " + got + "; is another program using the file?)");
    // WAL+NORMAL and rollback+FULL both keep every committed transaction
    // across a process crash; FULL also across power loss in rollback mode.
    db_->exec(journal_ == JournalMode::kWal ? "PRAGMA synchronous = NORMAL"
                                            : "PRAGMA synchronous = FULL");
    // Foreign keys stay unenforced (SQLite's default): every write here
    // checks its trial first, and enforcement doubled the cost of an epoch
    // row. A 40 MB WAL between checkpoints: each checkpoint fsyncs the
    // database, and with SQLite's default (4 MB) those fsyncs halved the
    // write rate.
    db_->exec(
        "PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY; "
        "PRAGMA wal_autocheckpoint = 10000");
    schema_before_ = ensure_schema(*db_, options_.nds_version);
  } catch (...) {
    statements_.clear();
    db_.reset();
    if (!exists) ::unlink(path_.c_str());  // created by this call: leave nothing behind
    throw;
  }
  insert_event_batched("writer_opened", std::nullopt, std::nullopt,
                       {{"pid", static_cast<int64_t>(getpid())},
                        {"host", host_name()},
                        {"nds_version", options_.nds_version},
                        {"journal", to_string(journal_)},
                        {"filesystem", fs_name_}});
  flush();
}

Statement& Store::stmt(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) it = statements_.emplace(sql, db_->prepare(sql)).first;
  it->second.reset();
  return it->second;
}

void Store::begin_write() {
  if (in_batch_ && !db_->in_transaction()) {
    // SQLite rolled the batch back after an error that was reported then
    // (Statement::step says so); start a new one.
    drop_batch();
  }
  if (in_batch_) return;
  stmt(kBegin).run();
  in_batch_ = true;
  pending_ = 0;
  batch_started_ = now();
}

void Store::end_write() {
  ++pending_;
  if (op_depth_ != 0) return;
  if (pending_ >= kMaxDeferredBatches * options_.batch_ops) {
    commit();  // a reader has kept us waiting long: memory stays bounded
    return;
  }
  if (pending_ >= options_.batch_ops || now() - batch_started_ >= options_.batch_seconds)
    commit_soon();
}

void Store::drop_batch() {
  if (db_->in_transaction()) sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  in_batch_ = false;
  pending_ = 0;
  retry_at_ = 0;
  busy_since_ = -1;
  forget_cached_state();
}

bool Store::try_commit(int wait_ms) {
  if (!in_batch_) return true;
  if (!db_->in_transaction()) {
    drop_batch();
    throw StoreError("database '" + path_ +
                     "': SQLite rolled back the open batch after an "
                     "earlier error; what was committed before is safe");
  }
  db_->set_busy_timeout(wait_ms);
  try {
    stmt(kCommit).run();
  } catch (const StoreError& e) {
    db_->set_busy_timeout(options_.busy_timeout_ms);
    // In rollback-journal mode a reader holding its lock makes COMMIT busy
    // while the transaction stays open: keep the batch and try again later.
    const bool locked = e.code() == SQLITE_BUSY || e.code() == SQLITE_LOCKED;
    if (locked && db_->in_transaction()) {
      const double t = monotonic_seconds();
      if (busy_since_ < 0) busy_since_ = t;
      retry_at_ = t + std::min(kMaxRetrySeconds, 0.05 * std::pow(2.0, ++busy_retries_));
      return false;
    }
    drop_batch();  // the batch is lost (the error says why); the connection stays usable
    throw;
  }
  db_->set_busy_timeout(options_.busy_timeout_ms);
  in_batch_ = false;
  pending_ = 0;
  busy_since_ = -1;
  busy_retries_ = 0;
  retry_at_ = 0;
  return true;
}

bool Store::commit_soon() {
  if (!in_batch_ || monotonic_seconds() < retry_at_) return false;
  return try_commit(kQuickCommitWaitMs);
}

void Store::commit() {
  while (!try_commit(options_.busy_timeout_ms)) {
    const double waited = monotonic_seconds() - busy_since_;
    if (waited >= options_.lock_wait_seconds) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.0f", waited);
      throw StoreError("database '" + path_ +
                           "' is locked by another process (a reader that "
                           "keeps its lock): could not commit for " +
                           std::string(buf) + " s; " + std::to_string(pending_) +
                           " writes are not committed",
                       SQLITE_BUSY);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Store::forget_cached_state() {
  model_ids_.clear();
  waiting_.clear();
}

void Store::flush() {
  if (op_depth_ == 0) commit();
}

bool Store::flush_if_due() {
  if (!in_batch_ || op_depth_ != 0 || now() - batch_started_ < options_.batch_seconds) return false;
  return commit_soon();
}

void Store::insert_event(const std::string& kind, std::optional<int64_t> sweep_id,
                         std::optional<int64_t> trial_id, const nlohmann::json& detail) {
  Statement& s = stmt(
      "INSERT INTO events(time, kind, sweep_id, trial_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind(1, now()).bind(2, kind).bind(3, sweep_id).bind(4, trial_id);
  if (detail.is_null())
    s.bind_null(5);
  else
    s.bind(5, json_text(detail));
  s.run();
}

void Store::insert_event_batched(const std::string& kind, std::optional<int64_t> sweep_id,
                                 std::optional<int64_t> trial_id, const nlohmann::json& detail) {
  begin_write();
  insert_event(kind, sweep_id, trial_id, detail);
  end_write();
}

void Store::log_event(const std::string& kind, std::optional<int64_t> sweep_id,
                      std::optional<int64_t> trial_id, const nlohmann::json& detail) {
  if (kind.empty()) throw std::invalid_argument("empty event kind");
  insert_event_batched(kind, sweep_id, trial_id, detail);
}

// ---- sweeps and models ----

std::optional<int64_t> Store::find_sweep(const std::string& name) {
  Statement& s = stmt("SELECT id FROM sweeps WHERE name = ?1");
  s.bind(1, name);
  std::optional<int64_t> id;
  if (s.step()) id = s.int64(0);
  s.reset();
  return id;
}

int64_t Store::model_id(const ModelRecord& m) {
  if (m.hash.empty()) throw std::invalid_argument("model with an empty hash");
  if (m.family.empty()) throw std::invalid_argument("model " + m.hash + " has no family");
  const std::string spec_json = json_text(m.spec);
  const size_t spec_digest = std::hash<std::string>()(spec_json);
  const auto clash = [&] {
    return StoreError("database '" + path_ + "': model hash " + m.hash +
                      " is already stored with a different spec (a hash collision, or the "
                      "expansion of its family changed)");
  };
  if (const auto it = model_ids_.find(m.hash); it != model_ids_.end()) {
    if (it->second.second != spec_digest) throw clash();
    return it->second.first;
  }
  Statement& ins = stmt(
      "INSERT INTO models(hash, family, params_json, spec_json, params, flops, acts, depth, w_0, "
      "w_a, w_m, group_width, bottleneck_ratio) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
      "ON CONFLICT(hash) DO NOTHING");
  const nlohmann::json& fp = m.family_params;
  bind_in_order(ins, 1, m.hash, m.family, json_text(fp), spec_json, m.cost.params, m.cost.flops,
                m.cost.acts, as_int(total_depth(fp)), number(fp, "w_0"), number(fp, "w_a"),
                number(fp, "w_m"), as_int(uniform(fp, "group_width", "group_widths")),
                uniform(fp, "bottleneck_ratio", "bottleneck_ratios"))
      .run();
  int64_t id = 0;
  if (db_->changes() == 1) {
    id = db_->last_insert_rowid();
  } else {
    Statement& find = stmt("SELECT id, spec_json FROM models WHERE hash = ?1");
    find.bind(1, m.hash);
    if (!find.step()) throw StoreError("database '" + path_ + "': model " + m.hash + " vanished");
    id = find.int64(0);
    const bool same = find.text(1) == spec_json;
    find.reset();
    if (!same) throw clash();
  }
  model_ids_.emplace(m.hash, std::make_pair(id, spec_digest));
  return id;
}

int64_t Store::create_sweep(const SweepDef& def, const std::vector<NewTrial>& trials) {
  check_sweep_name(def.name);
  if (def.family.empty()) throw std::invalid_argument("sweep '" + def.name + "' has no family");
  if (trials.empty()) throw std::invalid_argument("sweep '" + def.name + "' has no trials");
  flush();  // the sweep is one transaction of its own
  if (find_sweep(def.name))
    throw std::invalid_argument("sweep '" + def.name + "' already exists in '" + path_ + "'");
  // The id of a sweep `def` names as its `role`; nullopt for none.
  const auto related = [&](const std::string& name, const char* role) -> std::optional<int64_t> {
    if (name.empty()) return std::nullopt;
    const std::optional<int64_t> id = find_sweep(name);
    if (!id)
      throw std::invalid_argument(std::string(role) + " sweep '" + name + "' of '" + def.name +
                                  "' is not in '" + path_ + "'");
    return id;
  };
  const std::optional<int64_t> parent = related(def.parent, "parent");
  const std::optional<int64_t> sibling_of = related(def.sibling_of, "sibling");
  Op op(*this);
  Statement& s = stmt(
      "INSERT INTO sweeps(name, family, space_json, recipe_json, seed, sample_size, parent_id, "
      "created_at, nds_version, torch_version, device, world_size, sibling_of) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  const std::string& nds_version =
      def.build.nds_version.empty() ? options_.nds_version : def.build.nds_version;
  bind_in_order(s, 1, def.name, def.family, json_text(def.space), json_text(def.recipe), def.seed,
                static_cast<int64_t>(trials.size()), parent, now(), nds_version,
                TextOrNull{def.build.torch_version}, TextOrNull{def.build.device},
                def.build.world_size, sibling_of)
      .run();
  const int64_t sweep_id = db_->last_insert_rowid();
  Statement& t = stmt(kInsertTrial);
  for (size_t i = 0; i < trials.size(); ++i) {
    const int64_t model = model_id(trials[i].model);
    t.bind(1, sweep_id).bind(2, static_cast<int64_t>(i)).bind(3, model).bind(4, trials[i].seed);
    t.bind_text_or_null(5, trials[i].reference);
    t.run();
  }
  insert_event("sweep_created", sweep_id, std::nullopt,
               {{"name", def.name}, {"trials", trials.size()}, {"seed", def.seed}});
  op.done();
  flush();
  return sweep_id;
}

int64_t Store::grow_sweep(int64_t sweep_id, int64_t first, const std::vector<NewTrial>& samples) {
  const std::string which = "sweep " + std::to_string(sweep_id) + " in '" + path_ + "'";
  if (samples.empty()) throw std::invalid_argument(which + ": no samples to add");
  for (const NewTrial& t : samples)
    if (!t.reference.empty())
      throw std::invalid_argument(which + ": reference '" + t.reference + "' is not a sample");
  flush();  // the growth is one transaction of its own
  Op op(*this);
  // A sweep's latest trials: samples 0..N-1, then its references.
  Statement& q = stmt(
      "SELECT s.sample_size, count(t.id), count(t.reference), min(t.sample_index), "
      "max(t.sample_index), max(CASE WHEN t.reference IS NULL THEN t.sample_index END) "
      "FROM sweeps s LEFT JOIN trials t ON t.sweep_id = s.id AND t.latest = 1 "
      "WHERE s.id = ?1 GROUP BY s.id");
  q.bind(1, sweep_id);
  if (!q.step()) throw std::invalid_argument("no sweep with id " + std::to_string(sweep_id));
  const int64_t rows = q.int64(1);
  const int64_t references = q.int64(2);
  const int64_t have = rows - references;
  // Growing relies on nds sweep's numbering; refuse anything else rather
  // than interleave samples and references.
  const bool numbered = rows == q.int64(0) && q.int64(3) == 0 && q.int64(4) == rows - 1 &&
                        q.opt_int64(5).value_or(-1) == have - 1;
  q.reset();
  if (!numbered)
    throw StoreError(which + ": its trials are not samples 0..N-1 followed by references");
  if (first != have)
    throw std::invalid_argument(which + " has " + std::to_string(have) +
                                " samples; cannot add samples from " + std::to_string(first));
  const auto added = static_cast<int64_t>(samples.size());
  if (references > 0) {
    // Moving the references up by ?2 goes through negative indices (x -> -1-x
    // -> x+?2): SQLite checks the unique (sweep_id, sample_index, attempt) row by
    // row, so a direct +?2 could collide with the next reference half-way.
    stmt(
        "UPDATE trials SET sample_index = -1 - sample_index "
        "WHERE sweep_id = ?1 AND reference IS NOT NULL")
        .bind(1, sweep_id)
        .run();
    stmt(
        "UPDATE trials SET sample_index = ?2 - 1 - sample_index "
        "WHERE sweep_id = ?1 AND sample_index < 0")
        .bind(1, sweep_id)
        .bind(2, added)
        .run();
  }
  Statement& t = stmt(kInsertTrial);
  for (int64_t i = 0; i < added; ++i) {
    const NewTrial& n = samples[static_cast<size_t>(i)];
    const int64_t model = model_id(n.model);
    t.bind(1, sweep_id).bind(2, have + i).bind(3, model).bind(4, n.seed).bind_null(5).run();
  }
  stmt("UPDATE sweeps SET sample_size = sample_size + ?2, finished_at = NULL WHERE id = ?1")
      .bind(1, sweep_id)
      .bind(2, added)
      .run();
  insert_event("sweep_grown", sweep_id, std::nullopt,
               {{"from", have}, {"to", have + added}, {"references", references}});
  waiting_.erase(sweep_id);  // queued references changed their index
  op.done();
  flush();
  return have + added;
}

void Store::finish_sweep(int64_t sweep_id) {
  Op op(*this);
  stmt("UPDATE sweeps SET finished_at = ?2 WHERE id = ?1").bind(1, sweep_id).bind(2, now()).run();
  if (db_->changes() == 0)
    throw std::invalid_argument("no sweep with id " + std::to_string(sweep_id));
  const StateCounts c = counts(sweep_id);
  insert_event("sweep_finished", sweep_id, std::nullopt,
               {{"complete", c[TrialState::kComplete]},
                {"failed", c[TrialState::kFailed]},
                {"diverged", c[TrialState::kDiverged]},
                {"waiting", c[TrialState::kWaiting]},
                {"running", c[TrialState::kRunning]}});
  op.done();
}

StateCounts Store::counts(int64_t sweep_id) {
  StateCounts c;
  Statement& s =
      stmt("SELECT state, count(*) FROM trials WHERE sweep_id = ?1 AND latest = 1 GROUP BY state");
  s.bind(1, sweep_id);
  while (s.step()) c[parse_trial_state(s.text(0))] = s.int64(1);
  s.reset();
  return c;
}

// ---- trials ----

std::optional<ClaimedTrial> Store::claim(int64_t sweep_id, const Worker& worker) {
  begin_write();
  std::deque<ClaimedTrial>& queue = waiting_[sweep_id];
  std::optional<ClaimedTrial> c;
  for (bool refilled = false; !c;) {
    if (queue.empty()) {
      if (refilled) break;  // nothing is waiting
      // Claiming takes the lowest-index WAITING trial. The writer keeps the
      // next few thousand in memory (refilled here), so a claim is one UPDATE
      // by id; the state guard makes a stale entry harmless (it is skipped).
      Statement& w = stmt(
          "SELECT id, sample_index, attempt, model_id, seed, reference FROM trials "
          "WHERE sweep_id = ?1 AND latest = 1 AND state = 'WAITING' "
          "ORDER BY sample_index LIMIT 4096");
      w.bind(1, sweep_id);
      while (w.step()) {
        ClaimedTrial t;
        t.trial_id = w.int64(0);
        t.sweep_id = sweep_id;
        t.sample_index = w.int64(1);
        t.attempt = w.int64(2);
        t.model_id = w.int64(3);
        t.seed = w.int64(4);
        if (!w.is_null(5)) t.reference = w.text(5);
        queue.push_back(std::move(t));
      }
      w.reset();
      refilled = true;
      continue;
    }
    ClaimedTrial next = std::move(queue.front());
    queue.pop_front();
    Statement& claim = stmt(
        "UPDATE trials SET state = 'RUNNING', rank = ?2, host = ?3, device = ?4, started_at = ?5, "
        "heartbeat_at = ?5 WHERE id = ?1 AND state = 'WAITING' AND latest = 1");
    bind_in_order(claim, 1, next.trial_id, worker.rank, TextOrNull{worker.host},
                  TextOrNull{worker.device}, now())
        .run();
    if (db_->changes() == 1) c = std::move(next);
  }
  if (c) {
    Statement& m = stmt("SELECT hash, params_json, spec_json FROM models WHERE id = ?1");
    m.bind(1, c->model_id);
    if (m.step()) {
      c->model_hash = m.text(0);
      c->family_params_json = m.text(1);
      c->spec_json = m.text(2);
    }
    m.reset();
  }
  end_write();
  return c;
}

bool Store::heartbeat(int64_t trial_id) {
  begin_write();
  stmt("UPDATE trials SET heartbeat_at = ?2 WHERE id = ?1 AND state = 'RUNNING'")
      .bind(1, trial_id)
      .bind(2, now())
      .run();
  const bool ok = db_->changes() == 1;
  end_write();
  return ok;
}

void Store::insert_epochs(int64_t trial_id, const std::vector<EpochMetrics>& epochs) {
  // Several rows per statement: one VDBE run per chunk instead of per epoch
  // (the bulk of a result's cost when it carries all its epochs).
  constexpr size_t kChunk = 16;
  constexpr int kColumns = 9;
  for (size_t first = 0; first < epochs.size(); first += kChunk) {
    const size_t rows = std::min(kChunk, epochs.size() - first);
    auto it = epoch_inserts_.find(rows);
    if (it == epoch_inserts_.end()) {
      std::string sql =
          "INSERT OR REPLACE INTO epochs(trial_id, epoch, train_loss, train_top1_err, "
          "train_top5_err, test_top1_err, test_top5_err, lr, seconds) VALUES ";
      for (size_t r = 0; r < rows; ++r) sql += r ? ",(?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?)";
      it = epoch_inserts_.emplace(rows, db_->prepare(sql)).first;
    }
    Statement& s = it->second;
    s.reset();
    for (size_t r = 0; r < rows; ++r) {
      const EpochMetrics& e = epochs[first + r];
      const int b = static_cast<int>(r) * kColumns;
      bind_in_order(s, b + 1, trial_id, e.epoch, e.train_loss, e.train_top1_err, e.train_top5_err,
                    e.test_top1_err, e.test_top5_err, e.lr, e.seconds);
    }
    s.run();
  }
}

// The hot paths (record_epoch, complete) run without a savepoint: a
// savepoint copies every page the write touches into a sub-journal, which
// doubled their cost. They are ordered instead so that a failure half-way
// leaves a state that is legal anyway: epochs are written while the trial is
// still RUNNING (a running trial with some epochs is normal), and the state
// changes last, in one statement.
bool Store::record_epoch(int64_t trial_id, const EpochMetrics& metrics) {
  begin_write();
  stmt(
      "UPDATE trials SET heartbeat_at = ?2, epochs_done = max(epochs_done, ?3) "
      "WHERE id = ?1 AND state = 'RUNNING'")
      .bind(1, trial_id)
      .bind(2, now())
      .bind(3, metrics.epoch)
      .run();
  const bool running = db_->changes() == 1;
  if (running) insert_epochs(trial_id, {metrics});
  end_write();
  return running;
}

bool Store::finish(int64_t trial_id, TrialState state, const TrialResult* result,
                   const std::string& error) {
  const auto write_result = [&] {
    Statement& s = stmt(
        "UPDATE trials SET state = ?2, finished_at = ?3, heartbeat_at = ?3, top1_err = ?4, "
        "top5_err = ?5, best_top1_err = ?6, best_top5_err = ?7, train_loss = ?8, "
        "epochs_done = max(epochs_done, ?9), train_seconds = ?10, images_per_sec = ?11, "
        "error = ?12, data_seconds = ?13, skipped_images = ?14, decoded_images = ?15 "
        "WHERE id = ?1 AND state = 'RUNNING'");
    const TrialResult& r = *result;
    bind_in_order(s, 1, trial_id, to_string(state), now(), r.top1_err, r.top5_err, r.best_top1_err,
                  r.best_top5_err, r.train_loss, r.epochs_done, r.train_seconds, r.images_per_sec,
                  TextOrNull{error}, r.data_seconds, r.skipped_images, r.decoded_images)
        .run();
  };
  // The common case first: a RUNNING trial completes. The guarded UPDATE
  // itself tells whether the trial was RUNNING, which saves a lookup per
  // result; anything else takes the checked path below.
  if (state == TrialState::kComplete && result) {
    begin_write();
    write_result();
    const bool updated = db_->changes() == 1;
    if (updated) insert_epochs(trial_id, result->epochs);
    end_write();
    if (updated) return true;
  }
  Statement& q = stmt(kTrialState);
  q.bind(1, trial_id);
  if (!q.step()) {
    q.reset();
    throw std::invalid_argument("no trial with id " + std::to_string(trial_id) + " in '" + path_ +
                                "'");
  }
  const std::string current = q.text(0);
  const int64_t sweep_id = q.int64(1);
  q.reset();
  if (current != to_string(TrialState::kRunning)) {
    insert_event_batched("late_result", sweep_id, trial_id,
                         {{"reported", to_string(state)}, {"state", current}});
    return false;
  }
  // Failures are rare: a savepoint keeps the state change and its event together.
  Op op(*this);
  if (result) {
    write_result();
    insert_epochs(trial_id, result->epochs);
  } else {
    stmt(
        "UPDATE trials SET state = ?2, finished_at = ?3, error = ?4 "
        "WHERE id = ?1 AND state = 'RUNNING'")
        .bind(1, trial_id)
        .bind(2, to_string(state))
        .bind(3, now())
        .bind_text_or_null(4, error)
        .run();
  }
  if (state != TrialState::kComplete)
    insert_event(state == TrialState::kFailed ? "trial_failed" : "trial_diverged", sweep_id,
                 trial_id, {{"error", error}});
  op.done();
  return true;
}

bool Store::complete(int64_t trial_id, const TrialResult& result) {
  if (!std::isfinite(result.top1_err))
    throw std::invalid_argument("trial " + std::to_string(trial_id) +
                                ": a COMPLETE result needs a finite top1_err (use diverge())");
  return finish(trial_id, TrialState::kComplete, &result, "");
}

bool Store::diverge(int64_t trial_id, const TrialResult& partial, const std::string& error) {
  return finish(trial_id, TrialState::kDiverged, &partial, error);
}

bool Store::fail(int64_t trial_id, const std::string& error, const TrialResult* partial) {
  return finish(trial_id, TrialState::kFailed, partial, error);
}

int64_t Store::requeue(int64_t trial_id, int64_t sweep_id, const std::string& reason) {
  waiting_.erase(sweep_id);  // the new attempt may come before the queued ones
  stmt("UPDATE trials SET latest = 0 WHERE id = ?1").bind(1, trial_id).run();
  stmt(
      "INSERT INTO trials(sweep_id, sample_index, attempt, model_id, seed, reference) "
      "SELECT sweep_id, sample_index, attempt + 1, model_id, seed, reference FROM trials "
      "WHERE id = ?1")
      .bind(1, trial_id)
      .run();
  const int64_t next = db_->last_insert_rowid();
  insert_event("trial_requeued", sweep_id, next, {{"from_trial", trial_id}, {"reason", reason}});
  return next;
}

int64_t Store::requeue_stale(int64_t sweep_id, double grace_seconds, int64_t max_attempts) {
  if (!(grace_seconds >= 0))
    throw std::invalid_argument("grace period must be >= 0 s, got " +
                                std::to_string(grace_seconds));
  if (max_attempts < 0)
    throw std::invalid_argument("max attempts must be >= 0, got " + std::to_string(max_attempts));
  Op op(*this);
  const double t = now();
  struct Stale {
    int64_t id, attempt;
    std::string error;
  };
  std::vector<Stale> stale;
  Statement& s = stmt(
      "SELECT id, attempt, host, rank, heartbeat_at FROM trials WHERE sweep_id = ?1 "
      "AND latest = 1 AND state = 'RUNNING' AND (heartbeat_at IS NULL OR heartbeat_at < ?2) "
      "ORDER BY sample_index");
  s.bind(1, sweep_id).bind(2, t - grace_seconds);
  while (s.step()) {
    const double last = s.real(4);
    std::string where = s.text(2).empty() ? "" : " on host " + s.text(2);
    if (!s.is_null(3)) where += " rank " + std::to_string(s.int64(3));
    char age[32];
    std::snprintf(age, sizeof age, "%.0f", std::isnan(last) ? 0.0 : t - last);
    stale.push_back(
        {s.int64(0), s.int64(1),
         "no heartbeat for " + std::string(age) + " s (worker" + where + " presumed dead)"});
  }
  s.reset();
  int64_t requeued = 0;
  for (const Stale& x : stale) {
    stmt(kMarkLost).bind(1, x.id).bind(2, t).bind(3, x.error).run();
    if (max_attempts == 0 || x.attempt + 1 < max_attempts) {
      requeue(x.id, sweep_id, "stale: " + x.error);
      ++requeued;
    } else {
      insert_event("trial_failed", sweep_id, x.id,
                   {{"error", x.error}, {"attempts", x.attempt + 1}});
    }
  }
  op.done();
  return requeued;
}

std::optional<int64_t> Store::running_in(int64_t trial_id) {
  Statement& st = stmt(kTrialState);
  st.bind(1, trial_id);
  std::optional<int64_t> sweep_id;
  if (st.step() && st.text(0) == "RUNNING") sweep_id = st.int64(1);
  st.reset();
  return sweep_id;
}

bool Store::lose(int64_t trial_id, const std::string& error) {
  Op op(*this);
  const std::optional<int64_t> sweep = running_in(trial_id);
  const int64_t sweep_id = sweep.value_or(0);
  const bool running = sweep.has_value();
  if (running) {
    stmt(kMarkLost).bind(1, trial_id).bind(2, now()).bind(3, error).run();
    insert_event("trial_lost", sweep_id, trial_id, {{"error", error}});
    requeue(trial_id, sweep_id, "lost: " + error);
  }
  op.done();
  return running;
}

int64_t Store::requeue_failed(int64_t sweep_id, int64_t max_attempts) {
  if (max_attempts < 1)
    throw std::invalid_argument("max attempts must be >= 1, got " + std::to_string(max_attempts));
  Op op(*this);
  // Attempts whose worker was lost are no fault of the trial: they do not count.
  const std::vector<int64_t> failed =
      ids(stmt("SELECT id FROM trials t WHERE sweep_id = ?1 AND latest = 1 AND state = 'FAILED' "
               "AND attempt + 1 - (SELECT count(*) FROM trials p WHERE p.sweep_id = t.sweep_id "
               "AND p.sample_index = t.sample_index AND p.lost = 1) < ?2 ORDER BY sample_index")
              .bind(1, sweep_id)
              .bind(2, max_attempts));
  for (int64_t id : failed) requeue(id, sweep_id, "failed");
  op.done();
  return static_cast<int64_t>(failed.size());
}

bool Store::release(int64_t trial_id) {
  Op op(*this);
  const std::optional<int64_t> sweep = running_in(trial_id);
  const int64_t sweep_id = sweep.value_or(0);
  const bool running = sweep.has_value();
  if (running) {
    // Back to WAITING as if never claimed; the attempt keeps its row.
    stmt(
        "UPDATE trials SET state = 'WAITING', rank = NULL, host = NULL, device = NULL, "
        "started_at = NULL, heartbeat_at = NULL, epochs_done = 0 "
        "WHERE id = ?1 AND state = 'RUNNING' AND latest = 1")
        .bind(1, trial_id)
        .run();
    stmt("DELETE FROM epochs WHERE trial_id = ?1")
        .bind(1, trial_id)
        .run();                // a WAITING trial has no progress
    waiting_.erase(sweep_id);  // it goes before the queued ones
    insert_event("trial_released", sweep_id, trial_id, nullptr);
  }
  op.done();
  return running;
}

int64_t Store::release_running(int64_t sweep_id) {
  Op op(*this);
  const std::vector<int64_t> running =
      ids(stmt("SELECT id FROM trials WHERE sweep_id = ?1 AND latest = 1 AND state = 'RUNNING' "
               "ORDER BY sample_index")
              .bind(1, sweep_id));
  for (int64_t id : running) release(id);
  op.done();
  return static_cast<int64_t>(running.size());
}

}  // namespace nds::store
