#include "store/reader.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>

#include "store/schema.h"

namespace nds::store {
namespace {

constexpr const char* kTrialSelect =
    "SELECT t.id, t.sweep_id, t.sample_index, t.attempt, t.latest, t.state, t.seed, t.rank, "
    "t.host, t.device, t.started_at, t.finished_at, t.heartbeat_at, t.top1_err, t.top5_err, "
    "t.best_top1_err, t.best_top5_err, t.train_loss, t.epochs_done, t.train_seconds, "
    "t.images_per_sec, t.error, m.id, m.hash, m.family, m.params, m.flops, m.acts, m.depth, "
    "m.w_0, m.w_a, m.w_m, m.group_width, m.bottleneck_ratio, m.params_json, t.reference, "
    "t.data_seconds, t.skipped_images, t.decoded_images, t.lost "
    "FROM trials t JOIN models m ON m.id = t.model_id ";

TrialRecord read_trial(const Statement& s) {
  TrialRecord r;
  r.id = s.int64(0);
  r.sweep_id = s.int64(1);
  r.sample_index = s.int64(2);
  r.attempt = s.int64(3);
  r.latest = s.int64(4) != 0;
  r.state = parse_trial_state(s.text(5));
  r.seed = s.int64(6);
  r.rank = s.opt_int64(7);
  r.host = s.text(8);
  r.device = s.text(9);
  r.started_at = s.real(10);
  r.finished_at = s.real(11);
  r.heartbeat_at = s.real(12);
  r.top1_err = s.real(13);
  r.top5_err = s.real(14);
  r.best_top1_err = s.real(15);
  r.best_top5_err = s.real(16);
  r.train_loss = s.real(17);
  r.epochs_done = s.int64(18);
  r.train_seconds = s.real(19);
  r.images_per_sec = s.real(20);
  r.error = s.text(21);
  r.model_id = s.int64(22);
  r.model_hash = s.text(23);
  r.family = s.text(24);
  r.params = s.int64(25);
  r.flops = s.int64(26);
  r.acts = s.int64(27);
  r.depth = s.opt_int64(28);
  r.w_0 = s.real(29);
  r.w_a = s.real(30);
  r.w_m = s.real(31);
  r.group_width = s.opt_int64(32);
  r.bottleneck_ratio = s.real(33);
  r.params_json = s.text(34);
  r.reference = s.text(35);
  r.data_seconds = s.real(36);
  r.skipped_images = s.int64(37);
  r.decoded_images = s.int64(38);
  r.lost = s.int64(39) != 0;
  return r;
}

EpochMetrics read_epoch(const Statement& s, int first) {
  EpochMetrics e;
  e.epoch = s.int64(first);
  e.train_loss = s.real(first + 1);
  e.train_top1_err = s.real(first + 2);
  e.train_top5_err = s.real(first + 3);
  e.test_top1_err = s.real(first + 4);
  e.test_top5_err = s.real(first + 5);
  e.lr = s.real(first + 6);
  e.seconds = s.real(first + 7);
  return e;
}

constexpr const char* kEpochColumns =
    "e.epoch, e.train_loss, e.train_top1_err, e.train_top5_err, e.test_top1_err, "
    "e.test_top5_err, e.lr, e.seconds";

// Opens `path` read-only after checking that it exists (so nothing is
// created). Throws DatabaseFileError naming it when it does not.
std::unique_ptr<Db> open_read_only(const std::string& path, int busy_timeout_ms) {
  struct stat st {};
  if (path.empty()) throw DatabaseFileError("empty database path");
  if (stat(path.c_str(), &st) != 0)
    throw DatabaseFileError("cannot open database '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw DatabaseFileError("'" + path + "' is not a regular file");
  if (access(path.c_str(), R_OK) != 0)
    throw DatabaseFileError("cannot read database '" + path + "': " + std::strerror(errno));
  auto db = std::make_unique<Db>(path, Db::Mode::kReadOnly, busy_timeout_ms);
  db->exec("PRAGMA query_only = 1");
  return db;
}

}  // namespace

Reader::Reader(const std::string& path, int busy_timeout_ms)
    : db_(open_read_only(path, busy_timeout_ms)) {
  int version = 0;
  const SchemaState state = check_schema(*db_, &version);
  if (state == SchemaState::kEmpty)
    throw DatabaseFileError("'" + path + "' is not an nds database (an empty file)");
  if (state == SchemaState::kOlder)
    throw DatabaseFileError("database '" + path + "' has schema version " +
                            std::to_string(version) +
                            "; open it for writing once (nds db init --db " + path +
                            ") to migrate it to version " + std::to_string(kSchemaVersion));
  schema_version_ = version;
}

void Reader::snapshot(const std::function<void()>& fn) const {
  if (!sqlite3_get_autocommit(db_->handle())) {  // already inside one
    fn();
    return;
  }
  db_->exec("BEGIN");
  try {
    fn();
  } catch (...) {
    sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  db_->exec("COMMIT");
}

std::vector<SweepSummary> Reader::sweeps() const {
  std::vector<SweepSummary> out;
  snapshot([&] {
    Statement s = db_->prepare(
        "SELECT s.id, s.name, s.family, s.sample_size, s.seed, p.name, s.created_at, "
        "s.finished_at, s.nds_version, s.torch_version, s.device, s.world_size, "
        "(SELECT min(t.top1_err) FROM trials t WHERE t.sweep_id = s.id AND t.state = 'COMPLETE'), "
        "b.name FROM sweeps s LEFT JOIN sweeps p ON p.id = s.parent_id "
        "LEFT JOIN sweeps b ON b.id = s.sibling_of ORDER BY s.id");
    std::map<int64_t, size_t> at;
    while (s.step()) {
      SweepSummary w;
      w.id = s.int64(0);
      w.name = s.text(1);
      w.family = s.text(2);
      w.sample_size = s.int64(3);
      w.seed = s.int64(4);
      w.parent = s.text(5);
      w.created_at = s.real(6);
      w.finished_at = s.real(7);
      w.nds_version = s.text(8);
      w.torch_version = s.text(9);
      w.device = s.text(10);
      w.world_size = s.int64(11);
      w.best_top1_err = s.real(12);
      w.sibling_of = s.text(13);
      at[w.id] = out.size();
      out.push_back(std::move(w));
    }
    Statement c = db_->prepare(
        "SELECT sweep_id, state, count(*) FROM trials WHERE latest = 1 GROUP BY sweep_id, state");
    while (c.step()) {
      const auto it = at.find(c.int64(0));
      if (it != at.end()) out[it->second].counts[parse_trial_state(c.text(1))] = c.int64(2);
    }
  });
  return out;
}

int64_t Reader::sweep_id(const std::string& name) const {
  Statement s = db_->prepare("SELECT id FROM sweeps WHERE name = ?1");
  s.bind(1, name);
  if (s.step()) return s.int64(0);
  std::string known;
  Statement all = db_->prepare("SELECT name FROM sweeps ORDER BY id LIMIT 11");
  int n = 0;
  while (all.step()) {
    known += (n ? ", " : "") + (n == 10 ? std::string("...") : all.text(0));
    ++n;
  }
  throw std::invalid_argument("no sweep '" + name + "' in '" + db_->path() + "' (" +
                              (known.empty() ? "it holds no sweeps" : "sweeps: " + known) + ")");
}

SweepSummary Reader::sweep(const std::string& name) const {
  SweepSummary found;
  snapshot([&] {
    const int64_t id = sweep_id(name);
    for (SweepSummary& s : sweeps())
      if (s.id == id) found = std::move(s);
    Statement s = db_->prepare("SELECT space_json, recipe_json FROM sweeps WHERE id = ?1");
    s.bind(1, id);
    if (s.step()) {
      found.space_json = s.text(0);
      found.recipe_json = s.text(1);
    }
  });
  return found;
}

std::vector<std::string> Reader::siblings_of(const std::string& name) const {
  std::vector<std::string> out;
  snapshot([&] {
    Statement s = db_->prepare("SELECT name FROM sweeps WHERE sibling_of = ?1 ORDER BY id");
    s.bind(1, sweep_id(name));
    while (s.step()) out.push_back(s.text(0));
  });
  return out;
}

void Reader::for_each_trial(const std::string& sweep, const TrialQuery& query,
                            const std::function<void(const TrialRecord&)>& fn) const {
  if (query.limit < 0)
    throw std::invalid_argument("limit must be >= 0, got " + std::to_string(query.limit));
  const int64_t id = sweep_id(sweep);
  std::string sql = std::string(kTrialSelect) + "WHERE t.sweep_id = ?1";
  if (!query.all_attempts) sql += " AND t.latest = 1";
  if (query.state) sql += " AND t.state = ?2";
  sql += query.sort == TrialQuery::Sort::kError
             ? " ORDER BY t.top1_err IS NULL, t.top1_err, t.sample_index, t.attempt"
             : " ORDER BY t.sample_index, t.attempt";
  if (query.limit > 0) sql += " LIMIT ?3";
  Statement s = db_->prepare(sql);
  s.bind(1, id);
  if (query.state) s.bind(2, to_string(*query.state));
  if (query.limit > 0) s.bind(3, query.limit);
  while (s.step()) fn(read_trial(s));
}

std::vector<TrialRecord> Reader::trials(const std::string& sweep, const TrialQuery& query) const {
  std::vector<TrialRecord> out;
  for_each_trial(sweep, query, [&](const TrialRecord& r) { out.push_back(r); });
  return out;
}

std::vector<TrialRecord> Reader::best(const std::string& sweep, int64_t k) const {
  if (k < 1) throw std::invalid_argument("k must be >= 1, got " + std::to_string(k));
  const int64_t id = sweep_id(sweep);
  // The literal state matches the partial index trials_best.
  Statement s = db_->prepare(std::string(kTrialSelect) +
                             "WHERE t.sweep_id = ?1 AND t.state = 'COMPLETE' AND "
                             "t.top1_err IS NOT NULL ORDER BY t.top1_err, t.sample_index "
                             "LIMIT ?2");
  s.bind(1, id).bind(2, k);
  std::vector<TrialRecord> out;
  while (s.step()) out.push_back(read_trial(s));
  return out;
}

std::vector<EpochMetrics> Reader::epochs(int64_t trial_id) const {
  Statement s = db_->prepare(std::string("SELECT ") + kEpochColumns +
                             " FROM epochs e WHERE e.trial_id = ?1 ORDER BY e.epoch");
  s.bind(1, trial_id);
  std::vector<EpochMetrics> out;
  while (s.step()) out.push_back(read_epoch(s, 0));
  return out;
}

namespace {

Statement epoch_stream(const Db& db, int64_t sweep_id, bool all_attempts) {
  Statement s = db.prepare(std::string("SELECT e.trial_id, ") + kEpochColumns +
                           " FROM trials t JOIN epochs e ON e.trial_id = t.id "
                           "WHERE t.sweep_id = ?1" +
                           (all_attempts ? "" : " AND t.latest = 1") +
                           " ORDER BY t.sample_index, t.attempt, e.epoch");
  s.bind(1, sweep_id);
  return s;
}

}  // namespace

void Reader::for_each_trial_with_epochs(
    const std::string& sweep, bool all_attempts,
    const std::function<void(const TrialRecord&, const std::vector<EpochMetrics>&)>& fn) const {
  snapshot([&] {
    const int64_t id = sweep_id(sweep);
    Statement e = epoch_stream(*db_, id, all_attempts);
    bool more = e.step();
    std::vector<EpochMetrics> epochs;
    TrialQuery query;
    query.all_attempts = all_attempts;
    for_each_trial(sweep, query, [&](const TrialRecord& t) {
      // Both streams are in (sample_index, attempt) order: the epochs of `t`
      // are the next rows whose trial id is t.id.
      epochs.clear();
      while (more && e.int64(0) == t.id) {
        epochs.push_back(read_epoch(e, 1));
        more = e.step();
      }
      fn(t, epochs);
    });
  });
}

}  // namespace nds::store
