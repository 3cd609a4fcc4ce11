#include "cluster/status.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nds::cluster {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

SweepStatus status_of(const store::Reader& reader, const store::SweepSummary& summary,
                      double stale_before) {
  SweepStatus s;
  s.summary = summary;
  std::vector<double> finished;
  store::TrialQuery q;
  q.all_attempts = true;
  reader.for_each_trial(summary.name, q, [&](const store::TrialRecord& t) {
    ++s.attempts;
    if (!t.latest) return;
    if (!t.reference.empty()) ++s.references;
    // A heartbeat never written (NaN) is stale too.
    if (t.state == store::TrialState::kRunning && !(t.heartbeat_at >= stale_before)) ++s.stale;
    if (t.state == store::TrialState::kComplete && std::isfinite(t.finished_at))
      finished.push_back(t.finished_at);
  });
  std::sort(finished.begin(), finished.end());
  s.last_finished_at = finished.empty() ? kNaN : finished.back();
  s.per_hour = kNaN;
  s.eta_s = kNaN;
  const auto k = static_cast<int64_t>(std::min<size_t>(finished.size(), kThroughputWindow));
  if (k >= 2) {
    const double span = finished.back() - finished[finished.size() - static_cast<size_t>(k)];
    if (span > 0) {
      s.window = k;
      s.per_hour = static_cast<double>(k - 1) * 3600.0 / span;
    }
  }
  const int64_t left =
      summary.counts[store::TrialState::kWaiting] + summary.counts[store::TrialState::kRunning];
  if (left == 0)
    s.eta_s = 0;
  else if (std::isfinite(s.per_hour) && s.per_hour > 0)
    s.eta_s = static_cast<double>(left) * 3600.0 / s.per_hour;
  return s;
}

}  // namespace

std::vector<SweepStatus> sweep_status(const store::Reader& reader, const std::string& sweep,
                                      double stale_after_s, double now) {
  const double stale_before = now - stale_after_s;
  std::vector<SweepStatus> out;
  reader.snapshot([&] {
    if (!sweep.empty()) {
      out.push_back(status_of(reader, reader.sweep(sweep), stale_before));
      return;
    }
    for (const store::SweepSummary& s : reader.sweeps())
      out.push_back(status_of(reader, s, stale_before));
  });
  return out;
}

}  // namespace nds::cluster
