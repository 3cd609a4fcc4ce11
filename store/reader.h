#pragma once
// Read-only access to a results database: what `nds query`, `nds export`
// and the analysis commands read. A Reader opens the file with
// SQLITE_OPEN_READONLY and query_only, so it never creates, writes or
// migrates it, and in WAL mode never blocks the writer.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/db.h"
#include "store/records.h"

namespace nds::store {

struct SweepSummary {
  int64_t id = 0;
  std::string name;
  std::string family;
  int64_t sample_size = 0;
  int64_t seed = 0;
  std::string parent;  // empty: none
  // The sweep whose first samples this one trains again under another
  // recipe (nds sweep --recipe-of); empty: none.
  std::string sibling_of;
  double created_at = 0;
  double finished_at = 0;  // NaN while unfinished
  std::string nds_version;
  std::string torch_version;
  std::string device;
  int64_t world_size = 1;
  StateCounts counts;        // latest attempts
  double best_top1_err = 0;  // NaN when nothing completed
  std::string space_json;    // filled by Reader::sweep() only
  std::string recipe_json;   // filled by Reader::sweep() only
};

// A trial row with its model's summary.
struct TrialRecord {
  int64_t id = 0;
  int64_t sweep_id = 0;
  int64_t sample_index = 0;
  int64_t attempt = 0;
  bool latest = true;
  TrialState state = TrialState::kWaiting;
  int64_t seed = 0;
  std::optional<int64_t> rank;
  std::string host;
  std::string device;
  double started_at = 0;  // NaN when absent, as for every double below
  double finished_at = 0;
  double heartbeat_at = 0;
  double top1_err = 0;
  double top5_err = 0;
  double best_top1_err = 0;
  double best_top5_err = 0;
  double train_loss = 0;
  int64_t epochs_done = 0;
  double train_seconds = 0;
  double images_per_sec = 0;
  double data_seconds = 0;  // NaN without a result, or for one stored before schema version 3
  int64_t skipped_images = 0;
  int64_t decoded_images = 0;
  bool lost = false;  // ended because its worker was lost (no heartbeat)
  std::string error;
  std::string reference;  // the fixed point a reference trial trains; empty for a sample
  // The model.
  int64_t model_id = 0;
  std::string model_hash;
  std::string family;
  int64_t params = 0;
  int64_t flops = 0;
  int64_t acts = 0;
  std::optional<int64_t> depth;
  double w_0 = 0;
  double w_a = 0;
  double w_m = 0;
  std::optional<int64_t> group_width;
  double bottleneck_ratio = 0;
  std::string params_json;  // family parameters
};

struct TrialQuery {
  std::optional<TrialState> state;                         // only trials in this state
  enum class Sort { kIndex, kError } sort = Sort::kIndex;  // kError: top1_err, unset last
  int64_t limit = 0;                                       // 0: all
  bool all_attempts = false;  // false: the latest attempt of each sample
};

class Reader {
 public:
  // Throws DatabaseFileError when `path` is missing, not an nds database,
  // from a newer schema, or from an older one (which a writer must migrate).
  explicit Reader(const std::string& path, int busy_timeout_ms = kDefaultBusyTimeoutMs);

  const Db& db() const { return *db_; }
  int schema_version() const { return schema_version_; }

  std::vector<SweepSummary> sweeps() const;
  // Throws std::invalid_argument naming the sweep (and the known ones) when absent.
  SweepSummary sweep(const std::string& name) const;
  // The sweeps made as siblings of `name` (their sibling_of), in id order.
  // Throws as sweep() does for an unknown name.
  std::vector<std::string> siblings_of(const std::string& name) const;

  std::vector<TrialRecord> trials(const std::string& sweep, const TrialQuery& query = {}) const;
  // The same, streamed (for exports of any size).
  void for_each_trial(const std::string& sweep, const TrialQuery& query,
                      const std::function<void(const TrialRecord&)>& fn) const;
  // The k COMPLETE trials with the lowest final top-1 error (ties: lower
  // sample index first).
  std::vector<TrialRecord> best(const std::string& sweep, int64_t k) const;

  std::vector<EpochMetrics> epochs(int64_t trial_id) const;
  // Each trial (latest attempts, or all) in sample order with its epochs, in
  // one snapshot: two streams merged, so memory stays bounded.
  void for_each_trial_with_epochs(
      const std::string& sweep, bool all_attempts,
      const std::function<void(const TrialRecord&, const std::vector<EpochMetrics>&)>& fn) const;

  // Runs `fn` inside one read transaction, so several queries see the same
  // snapshot while a writer keeps committing.
  void snapshot(const std::function<void()>& fn) const;

 private:
  int64_t sweep_id(const std::string& name) const;

  std::unique_ptr<Db> db_;
  int schema_version_ = 0;
};

}  // namespace nds::store
