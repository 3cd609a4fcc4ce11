#pragma once
// The one writer of a results database.
//
// Discipline:
//   - Exactly one Store per database at a time, across processes: the
//     constructor takes an exclusive flock() on "<db>.lock" (holding the
//     writer's pid and host) and refuses a second writer with a message
//     naming the first. The kernel drops the lock when the process dies, so a
//     killed writer never blocks the next one.
//   - Writes are grouped into batches: one BEGIN IMMEDIATE transaction that
//     commits after StoreOptions::batch_ops writes, when it is older than
//     batch_seconds (checked at each write and by flush_if_due()), or on
//     flush(). A crash loses at most the open batch; every committed batch
//     survives (WAL with synchronous=NORMAL, or rollback journal with FULL).
//   - Journal: WAL on local disks, so readers (nds query, pandas, sqlite3)
//     never block the writer; rollback journal on network file systems or
//     when asked (JournalMode::kDelete). The writer returns the file to
//     rollback mode when it closes, so an idle database is a single file.
//
// The sweep state machine (driven by the cluster layer):
//   create_sweep()  the sweep and every sampled model as a WAITING trial, in
//                   one transaction, so the set of models never depends on
//                   worker timing;
//   grow_sweep()    more samples after the existing ones, also in one;
//   claim()         the lowest WAITING sample -> RUNNING, with its model;
//   heartbeat(), record_epoch()  progress of a RUNNING trial;
//   complete(), diverge(), fail()  the end of a RUNNING trial;
//   lose()            a RUNNING trial whose worker stopped answering ->
//                     FAILED and lost, plus a new WAITING attempt;
//   requeue_stale()   RUNNING trials whose heartbeat is older than a grace
//                     period -> the same, for every such trial;
//   requeue_failed()  FAILED trials -> a new WAITING attempt, up to a limit;
//   release(), release_running()  RUNNING -> WAITING, same attempt (a stop
//                     that was no fault of the trial).
// Every attempt keeps its own row; `latest` marks the current one.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/complexity.h"
#include "store/db.h"
#include "store/records.h"

namespace nds::store {

// Where a sweep ran; filled by the caller (the store links no LibTorch/MPI).
struct BuildInfo {
  std::string nds_version;    // NDS_VERSION
  std::string torch_version;  // empty when unknown
  std::string device;         // "cuda", "cpu", "cuda:NVIDIA H100", ...
  int64_t world_size = 1;     // MPI ranks
};

struct SweepDef {
  std::string name;       // unique in the database: letters, digits, . _ - (1..128)
  std::string family;     // the model family sampled
  nlohmann::json space;   // the resolved design space
  nlohmann::json recipe;  // the training recipe
  int64_t seed = 0;
  std::string parent;  // the sweep whose space this one refines; empty: none
  // The sweep whose first samples (same space and seed) this one trains
  // again under another recipe (nds sweep --recipe-of); empty: none.
  std::string sibling_of;
  BuildInfo build;
};

// A distinct network. The hash is computed by the caller (sampler/hash.h);
// the store keys models by it and never recomputes it.
struct ModelRecord {
  std::string hash;
  std::string family;
  nlohmann::json family_params;  // {"family": ..., ...}
  nlohmann::json spec;           // to_json(NetSpec)
  Complexity cost;               // params, flops, acts
};

// One sample of a sweep: its model and training seed. Sample i of a sweep is
// element i of the vector given to create_sweep().
struct NewTrial {
  ModelRecord model;
  int64_t seed = 0;
  std::string reference;  // a fixed point's name for a reference trial; empty: a sample
};

struct Worker {
  int64_t rank = 0;
  std::string host;
  std::string device;
};

// What a worker needs to train a claimed trial.
struct ClaimedTrial {
  int64_t trial_id = 0;
  int64_t sweep_id = 0;
  int64_t sample_index = 0;
  int64_t attempt = 0;
  int64_t seed = 0;
  int64_t model_id = 0;
  std::string model_hash;
  std::string family_params_json;
  std::string spec_json;
  std::string reference;  // the fixed point's name; empty for a sample
};

struct StoreOptions {
  std::string nds_version = "unknown";  // recorded in meta and events
  JournalMode journal = JournalMode::kAuto;
  int busy_timeout_ms = kDefaultBusyTimeoutMs;
  int64_t batch_ops = 1000;    // writes per batch
  double batch_seconds = 1.0;  // the longest a batch stays open
  // How long flush() keeps retrying a COMMIT that a reader's lock makes busy
  // (rollback journal) before it throws; commits due meanwhile are put off
  // and retried, so results wait in memory instead of failing.
  double lock_wait_seconds = 600;
  // Unix seconds; tests inject a fake clock. Default: unix_now().
  std::function<double()> clock;
};

class Store {
 public:
  // Opens `path` for writing, creating it (and its schema) when missing and
  // migrating an older schema. Throws DatabaseFileError when the directory
  // cannot be written, the file is not an nds database or is newer, or
  // another process holds it for writing; nothing is created then.
  Store(const std::string& path, StoreOptions options = {});
  // Commits the open batch; releases the lock.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  JournalMode journal_mode() const { return journal_; }         // kWal or kDelete in effect
  const std::string& filesystem() const { return fs_name_; }    // "nfs", ... or "local"
  int schema_version_before() const { return schema_before_; }  // 0: created now
  Db& db() { return *db_; }

  // ---- sweeps ----
  // Inserts the sweep, its models (de-duplicated by hash across the whole
  // database) and one WAITING trial per element of `trials`, in one
  // transaction (committed on return). Throws std::invalid_argument for a bad
  // or taken name, an unknown parent or sibling, or no trials. Returns the
  // sweep id.
  int64_t create_sweep(const SweepDef& def, const std::vector<NewTrial>& trials);
  // Grows a sweep whose samples are 0..first-1: `samples` (no references)
  // become WAITING samples first, first+1, ...; its reference trials, which
  // follow the samples, move up past them (every attempt keeps its id, seed
  // and results; only sample_index changes), sample_size grows, finished_at is
  // cleared and a "sweep_grown" event {from, to, references} is logged, in one
  // transaction (committed on return). Throws std::invalid_argument for an
  // unknown sweep, no samples, a reference among them, or `first` other than
  // the sweep's number of samples; StoreError when its trials are not
  // numbered that way. Returns the new number of samples.
  int64_t grow_sweep(int64_t sweep_id, int64_t first, const std::vector<NewTrial>& samples);
  std::optional<int64_t> find_sweep(const std::string& name);
  // Sets finished_at.
  void finish_sweep(int64_t sweep_id);
  StateCounts counts(int64_t sweep_id);

  // ---- trials ----
  // The lowest-index WAITING trial of the sweep, now RUNNING on `worker`;
  // nullopt when none is waiting.
  std::optional<ClaimedTrial> claim(int64_t sweep_id, const Worker& worker);
  // These return false (and change nothing) when the trial is no longer
  // RUNNING, e.g. it was requeued as stale meanwhile; a late result is
  // logged as a "late_result" event.
  bool heartbeat(int64_t trial_id);
  bool record_epoch(int64_t trial_id, const EpochMetrics& metrics);  // also a heartbeat
  bool complete(int64_t trial_id, const TrialResult& result);        // top1_err must be finite
  bool diverge(int64_t trial_id, const TrialResult& partial, const std::string& error);
  bool fail(int64_t trial_id, const std::string& error, const TrialResult* partial = nullptr);

  // A RUNNING trial whose worker stopped answering: FAILED with `error` and
  // marked lost (no fault of the trial), plus a new WAITING attempt that
  // does not count against requeue_failed()'s limit. False (nothing
  // changes) when the trial is not RUNNING.
  bool lose(int64_t trial_id, const std::string& error);
  // RUNNING trials of the sweep whose last heartbeat is older than
  // `grace_seconds`: each becomes FAILED ("no heartbeat ...") and lost, and, unless it
  // already made `max_attempts` attempts (0 = no limit), gets a new WAITING
  // attempt. Returns the number requeued.
  int64_t requeue_stale(int64_t sweep_id, double grace_seconds, int64_t max_attempts = 0);
  // A RUNNING trial back to WAITING in the same attempt row (its worker was
  // stopped, not failed: SIGTERM, preemption). False when it is not RUNNING.
  bool release(int64_t trial_id);
  // release() for every RUNNING trial of the sweep. Returns the number released.
  int64_t release_running(int64_t sweep_id);
  // The sweep's current FAILED trials that made fewer than `max_attempts`
  // attempts (>= 1; lost attempts not counted) get a new WAITING attempt.
  // Returns the number requeued.
  int64_t requeue_failed(int64_t sweep_id, int64_t max_attempts);

  // Appends to the event log (detail: a JSON object, may be null).
  void log_event(const std::string& kind, std::optional<int64_t> sweep_id,
                 std::optional<int64_t> trial_id, const nlohmann::json& detail = nullptr);

  // ---- batching ----
  // Commits the open batch, if any; waits out a reader's lock (see
  // StoreOptions::lock_wait_seconds).
  void flush();
  // Commits it when older than batch_seconds, unless a reader's lock is in
  // the way: then the batch stays open, later writes join it, and a later
  // call retries (with backoff). True when it committed.
  bool flush_if_due();

 private:
  class Op;  // a savepoint around one compound write inside the batch

  double now() const { return options_.clock(); }
  void begin_write();
  void end_write();
  // Commits, waiting for a reader's lock up to options_.lock_wait_seconds.
  void commit();
  // Commits unless a reader's lock is in the way (then the batch stays open
  // and false is returned); throws on any other failure.
  bool try_commit(int wait_ms);
  // try_commit() with a short wait, unless the last busy attempt was too recent.
  bool commit_soon();
  // Forgets the open batch (after SQLite or an error rolled it back).
  void drop_batch();
  void acquire_lock();
  void release_lock();
  void open_database();
  // The id of the model with this hash, inserting it when new (inside an
  // open write). Throws StoreError when the hash is stored with a different
  // spec.
  int64_t model_id(const ModelRecord& model);
  bool finish(int64_t trial_id, TrialState state, const TrialResult* result,
              const std::string& error);
  void insert_epochs(int64_t trial_id, const std::vector<EpochMetrics>& epochs);
  int64_t requeue(int64_t trial_id, int64_t sweep_id, const std::string& reason);
  std::optional<int64_t> running_in(int64_t trial_id);  // its sweep when RUNNING
  void insert_event(const std::string& kind, std::optional<int64_t> sweep_id,
                    std::optional<int64_t> trial_id, const nlohmann::json& detail);
  void insert_event_batched(const std::string& kind, std::optional<int64_t> sweep_id,
                            std::optional<int64_t> trial_id, const nlohmann::json& detail);
  Statement& stmt(const char* sql);  // cached, reset, bindings cleared
  void forget_cached_state();        // after a rollback

  std::string path_;
  StoreOptions options_;
  std::string lock_path_;
  int lock_fd_ = -1;
  std::unique_ptr<Db> db_;
  JournalMode journal_ = JournalMode::kWal;
  std::string fs_name_ = "local";
  int schema_before_ = 0;
  bool in_batch_ = false;
  int op_depth_ = 0;  // open Op savepoints: no commit while one is open
  int64_t pending_ = 0;
  double batch_started_ = 0;
  double busy_since_ = -1;  // steady-clock seconds of the first busy COMMIT; -1: none
  double retry_at_ = 0;     // no quick COMMIT attempt before (steady clock)
  int busy_retries_ = 0;
  // Prepared statements keyed by their SQL text (a literal's address).
  std::unordered_map<const char*, Statement> statements_;
  std::unordered_map<size_t, Statement> epoch_inserts_;  // by rows per statement
  // hash -> (id, std::hash of its spec JSON): skips the lookup for models
  // seen before while still catching a clash.
  std::unordered_map<std::string, std::pair<int64_t, size_t>> model_ids_;
  // Per sweep, the next WAITING trials in sample order (a hint; see claim()).
  std::unordered_map<int64_t, std::deque<ClaimedTrial>> waiting_;
};

// A sweep name is 1..128 characters of letters, digits, '.', '_' and '-',
// not starting with '-'. Throws std::invalid_argument naming it otherwise.
void check_sweep_name(const std::string& name);

}  // namespace nds::store
