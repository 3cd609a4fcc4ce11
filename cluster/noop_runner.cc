#include "cluster/noop_runner.h"

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <unordered_set>

namespace nds::cluster {
namespace {

using Clock = std::chrono::steady_clock;

class NoopRunner : public TrialRunner {
 public:
  explicit NoopRunner(const NoopSpec& spec)
      : ms_(spec.milliseconds), fail_(spec.fail.begin(), spec.fail.end()) {}

  TrialOutcome run(const store::ClaimedTrial& trial, const nlohmann::json&,
                   TrialEvents& events) override {
    if (trial.reference.empty() && fail_.count(trial.sample_index))
      throw std::runtime_error("injected failure (test runner) in sample " +
                               std::to_string(trial.sample_index));
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
  std::unordered_set<int64_t> fail_;
};

// "3,7,11" -> {3, 7, 11}; throws naming a bad entry.
std::vector<int64_t> parse_index_list(const std::string& list, const std::string& spec) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    const std::string item = list.substr(start, comma - start);
    if (item.empty() || item.size() > 18 ||
        item.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("bad sample index '" + item + "' in --test-runner '" + spec +
                                  "' (expected fail=3,7,11)");
    out.push_back(std::stoll(item));
    start = comma + 1;
  }
  return out;
}

double parse_milliseconds(const std::string& ms, const std::string& spec) {
  char* end = nullptr;
  const double v = std::strtod(ms.c_str(), &end);
  if (ms.empty() || end != ms.c_str() + ms.size() || !(v >= 0 && v <= 3.6e6))
    throw std::invalid_argument("--test-runner must be noop[:MS][:fail=I,J], got '" + spec + "'");
  return v;
}

}  // namespace

std::unique_ptr<TrialRunner> make_noop_runner(const NoopSpec& spec) {
  return std::make_unique<NoopRunner>(spec);
}

NoopSpec parse_noop_spec(const std::string& spec) {
  const std::string usage = "--test-runner must be noop[:MS][:fail=I,J], got '" + spec + "'";
  if (spec.rfind("noop", 0) != 0) throw std::invalid_argument(usage);
  NoopSpec out;
  std::string rest = spec.substr(4);
  const size_t fail = rest.find(":fail=");
  if (fail != std::string::npos) {
    out.fail = parse_index_list(rest.substr(fail + 6), spec);
    if (out.fail.empty()) throw std::invalid_argument(usage);
    rest.resize(fail);
  }
  if (rest.empty()) return out;
  if (rest[0] != ':') throw std::invalid_argument(usage);
  out.milliseconds = parse_milliseconds(rest.substr(1), spec);
  return out;
}

}  // namespace nds::cluster
