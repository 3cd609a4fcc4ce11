#include "cluster/noop_runner.h"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace nds::cluster {
namespace {

using Clock = std::chrono::steady_clock;

class NoopRunner : public TrialRunner {
 public:
  explicit NoopRunner(double ms) : ms_(ms) {}

  TrialOutcome run(const store::ClaimedTrial& trial, const nlohmann::json&,
                   TrialEvents& events) override {
    const Clock::time_point end =
        Clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms_ * 1000));
    // Wakes every 10 ms at most to behave like a runner between steps.
    while (Clock::now() < end) {
      if (events.stop_requested()) return {TrialStatus::kInterrupted, {}, ""};
      events.heartbeat();
      const auto left = end - Clock::now();
      std::this_thread::sleep_for(std::min<Clock::duration>(left, std::chrono::milliseconds(10)));
    }
    // An error in [10, 90) that depends on the seed only, so serial and MPI
    // runs of the same sweep store the same numbers.
    const auto u = static_cast<uint64_t>(trial.seed) * 0x9E3779B97F4A7C15ULL;
    const double err = 10 + 80 * static_cast<double>(u >> 11) / 9007199254740992.0;
    TrialOutcome o;
    store::EpochMetrics m;
    m.epoch = 1;
    m.train_loss = err / 40;
    m.train_top1_err = err;
    m.train_top5_err = err / 2;
    m.test_top1_err = err;
    m.test_top5_err = err / 2;
    m.lr = 0.1;
    m.seconds = ms_ / 1000;
    o.result.epochs = {m};
    o.result.top1_err = o.result.best_top1_err = err;
    o.result.top5_err = o.result.best_top5_err = err / 2;
    o.result.train_loss = m.train_loss;
    o.result.epochs_done = 1;
    o.result.train_seconds = ms_ / 1000;
    o.result.images_per_sec = 0;
    return o;
  }

  std::string device() const override { return "noop"; }

 private:
  double ms_;
};

}  // namespace

std::unique_ptr<TrialRunner> make_noop_runner(double milliseconds) {
  return std::make_unique<NoopRunner>(milliseconds);
}

double parse_noop_spec(const std::string& spec) {
  if (spec == "noop") return 0;
  if (spec.rfind("noop:", 0) == 0) {
    const std::string ms = spec.substr(5);
    char* end = nullptr;
    const double v = std::strtod(ms.c_str(), &end);
    if (!ms.empty() && end == ms.c_str() + ms.size() && v >= 0 && v <= 3.6e6) return v;
  }
  throw std::invalid_argument("--test-runner must be noop or noop:MS, got '" + spec + "'");
}

}  // namespace nds::cluster
