#pragma once
// The values the results database holds, shared by the writer (store.h) and
// the readers (reader.h, sql_guard.h).
//
// Conventions: times are Unix seconds; errors are percentages (pycls's
// top1_err); a double that was not measured is NaN (stored as NULL); optional
// text is empty when absent (stored as NULL).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace nds::store {

// A trial is WAITING until a worker claims it (RUNNING), then ends COMPLETE
// (trained, has errors), DIVERGED (the loss became NaN/inf; not retried) or
// FAILED (an error, or its worker stopped sending heartbeats). Requeueing a
// FAILED attempt adds a new WAITING row for the same sample with attempt + 1;
// every attempt's row is kept.
enum class TrialState { kWaiting, kRunning, kComplete, kFailed, kDiverged };
inline constexpr size_t kTrialStates = 5;  // how many TrialState values there are

const char* to_string(TrialState state);  // "WAITING", "RUNNING", ...
// Case-insensitive; throws std::invalid_argument naming `text`.
TrialState parse_trial_state(const std::string& text);

// Trials per state (the latest attempt of each sample only), indexed by state:
// counts[TrialState::kComplete].
class StateCounts {
 public:
  int64_t& operator[](TrialState s) { return n_[static_cast<size_t>(s)]; }
  int64_t operator[](TrialState s) const { return n_[static_cast<size_t>(s)]; }
  int64_t total() const;

 private:
  std::array<int64_t, kTrialStates> n_{};
};

// Metrics of one training epoch (epoch 1 is the first).
struct EpochMetrics {
  int64_t epoch = 0;
  double train_loss = 0;
  double train_top1_err = 0;
  double train_top5_err = 0;
  double test_top1_err = 0;
  double test_top5_err = 0;
  double lr = 0;
  double seconds = 0;  // wall time of the epoch, evaluation included
};

// The outcome of training one trial.
struct TrialResult {
  double top1_err = 0;       // final test top-1 error
  double top5_err = 0;       // final test top-5 error
  double best_top1_err = 0;  // best test top-1 error over the epochs
  double best_top5_err = 0;
  double train_loss = 0;  // final training loss
  int64_t epochs_done = 0;
  double train_seconds = 0;    // wall time of the whole training
  double images_per_sec = 0;   // training throughput
  double data_seconds = 0;     // time the training waited for its data (image folders; 0 otherwise)
  int64_t skipped_images = 0;  // unreadable images replaced (--skip-bad-images)
  int64_t decoded_images = 0;  // images read from their files (image folders; the rest were cached)
  // Stored with the result (rows already recorded for the same epoch are
  // replaced).
  std::vector<EpochMetrics> epochs;
};

// A cell of a query result (nds query --sql): NULL, integer, real, text or blob.
struct Blob {
  std::string bytes;
  bool operator==(const Blob& o) const { return bytes == o.bytes; }
};
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;
using Row = std::vector<Value>;

}  // namespace nds::store
