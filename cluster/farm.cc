#include "cluster/farm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <variant>

#include "cluster/messages.h"
#include "cluster/resources.h"
#include "cluster/signals.h"

namespace nds::cluster {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Sleeps between empty polls: short right after a message (the next one
// usually follows), growing to a cap when nothing happens, so an idle rank
// costs next to no CPU. MPI has no wake-up, so the cap is the latency of a
// message that arrives while the rank sleeps: both sides of an exchange must
// keep it small, or their backoffs grow in step and every round trip pays
// both full sleeps (with 20 ms caps a trial took 28 ms to hand over).
class Backoff {
 public:
  explicit Backoff(int max_us) : max_us_(max_us) {}
  void reset() { us_ = kMinUs; }
  void sleep() {
    std::this_thread::sleep_for(std::chrono::microseconds(us_));
    us_ = std::min(us_ * 2, max_us_);
  }

 private:
  static constexpr int kMinUs = 50;
  int max_us_;
  int us_ = kMinUs;
};

// Rank 0 between messages: a result waits 5 ms on average to be noticed
// (0.5% of a one-second trial) for at most 100 wake-ups a second; a wake-up
// (a context switch and an MPI_Iprobe) costs 30-50 us of CPU in a VM, so a
// 2 ms cap already took 2% of a core.
constexpr int kServeMaxSleepUs = 10000;
// A worker waiting for rank 0's answer to its result: it comes within
// rank 0's cap, so polling faster costs little and saves most of a cap.
constexpr int kReplyMaxSleepUs = 200;
// Anything else (the go message before the sweep starts): no hurry.
constexpr int kIdleMaxSleepUs = 20000;

std::string percent(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", v);
  return buf;
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// The trial's name in progress lines: "sample 7" or "regnet_x_200mf".
std::string trial_name(const store::ClaimedTrial& t) {
  return t.reference.empty() ? "sample " + std::to_string(t.sample_index) : t.reference;
}

class ProgressLog {
 public:
  explicit ProgressLog(const FarmOptions& o) : options_(o) {}
  void finished(const store::ClaimedTrial& t, const TrialOutcome& o, int rank, double seconds) {
    ++done_;
    if (options_.quiet || !options_.log) return;
    std::string line = "[" + std::to_string(done_) +
                       (options_.total > 0 ? "/" + std::to_string(options_.total) : "") + "] " +
                       trial_name(t) + " " + to_string(o.status);
    if (o.status == TrialStatus::kComplete) line += " top-1 " + percent(o.result.top1_err);
    if (!o.error.empty()) line += ": " + o.error;
    line += " (" + fixed1(seconds) + " s";
    if (rank > 0) line += ", rank " + std::to_string(rank);
    line += ")";
    *options_.log << line << '\n' << std::flush;
  }
  void message(const std::string& line) {
    if (options_.log) *options_.log << line << '\n' << std::flush;
  }

 private:
  const FarmOptions& options_;
  int64_t done_ = 0;
};

// The next WAITING trial; when none, FAILED ones get another attempt (up to
// max_attempts) and are claimed in turn.
std::optional<store::ClaimedTrial> claim_next(store::Store& store, int64_t sweep_id,
                                              const store::Worker& worker,
                                              const FarmOptions& options) {
  std::optional<store::ClaimedTrial> trial = store.claim(sweep_id, worker);
  if (!trial && options.max_attempts > 0 &&
      store.requeue_failed(sweep_id, options.max_attempts) > 0)
    trial = store.claim(sweep_id, worker);
  return trial;
}

void count(FarmReport& report, TrialStatus status) {
  switch (status) {
    case TrialStatus::kComplete:
      ++report.complete;
      break;
    case TrialStatus::kDiverged:
      ++report.diverged;
      break;
    case TrialStatus::kFailed:
      ++report.failed;
      break;
    case TrialStatus::kInterrupted:
      ++report.released;
      break;
  }
}

// Runs one trial, turning an exception into a FAILED outcome.
TrialOutcome run_trial(TrialRunner& runner, const store::ClaimedTrial& trial, const json& recipe,
                       TrialEvents& events) {
  try {
    return runner.run(trial, recipe, events);
  } catch (const std::exception& e) {
    TrialOutcome o;
    o.status = TrialStatus::kFailed;
    o.error = e.what();
    if (o.error.empty()) o.error = "unknown error";
    return o;
  }
}

std::string wait_for(Comm& comm, int source, int max_sleep_us) {
  Backoff backoff(max_sleep_us);
  while (true) {
    if (comm.poll()) return comm.receive(source);
    backoff.sleep();
  }
}

// ---- serial ----

class SerialEvents : public TrialEvents {
 public:
  SerialEvents(store::Store& store, int64_t trial_id, double heartbeat_s)
      : store_(store), trial_id_(trial_id), heartbeat_s_(heartbeat_s) {}
  void heartbeat() override {
    if (seconds_since(last_) < heartbeat_s_) return;
    last_ = Clock::now();
    store_.heartbeat(trial_id_);
    store_.flush_if_due();
  }
  void epoch(const store::EpochMetrics& m) override {
    last_ = Clock::now();
    store_.record_epoch(trial_id_, m);
    store_.flush_if_due();
  }
  bool stop_requested() override { return cluster::stop_requested(); }

 private:
  store::Store& store_;
  int64_t trial_id_;
  double heartbeat_s_;
  Clock::time_point last_ = Clock::now();
};

// ---- worker ----

class WorkerEvents : public TrialEvents {
 public:
  WorkerEvents(Comm& comm, int64_t trial_id, double heartbeat_s)
      : comm_(comm), trial_id_(trial_id), heartbeat_s_(heartbeat_s) {}
  void heartbeat() override {
    if (seconds_since(last_) < heartbeat_s_) return;
    last_ = Clock::now();
    comm_.send(0, encode(HeartbeatMessage{trial_id_}));
  }
  void epoch(const store::EpochMetrics& m) override {
    last_ = Clock::now();
    comm_.send(0, encode(EpochMessage{trial_id_, m}));
  }
  bool stop_requested() override {
    if (stopped_ || cluster::stop_requested()) return true;
    // Rank 0 sends nothing to a busy worker but `stop`.
    if (comm_.poll() &&
        std::holds_alternative<StopMessage>(decode_server_message(comm_.receive(0))))
      stopped_ = true;
    return stopped_;
  }

 private:
  Comm& comm_;
  int64_t trial_id_;
  double heartbeat_s_;
  Clock::time_point last_ = Clock::now();
  bool stopped_ = false;
};

// The serial farm's loop: claims and runs trials in this process.
void run_trials_here(store::Store& store, int64_t sweep_id, TrialRunner& runner, const json& recipe,
                     const FarmOptions& options, FarmReport& report) {
  ProgressLog log(options);
  const store::Worker me{0, host_name(), runner.device()};
  while (!stop_requested()) {
    const std::optional<store::ClaimedTrial> trial = claim_next(store, sweep_id, me, options);
    if (!trial) break;
    ++report.dispatched;
    SerialEvents events(store, trial->trial_id, options.heartbeat_s);
    const Clock::time_point t0 = Clock::now();
    const TrialOutcome outcome = run_trial(runner, *trial, recipe, events);
    const double seconds = seconds_since(t0);
    report.busy_s += seconds;
    record_outcome(store, trial->trial_id, outcome);
    store.flush_if_due();
    count(report, outcome.status);
    log.finished(*trial, outcome, 0, seconds);
  }
}

// ---- rank 0 ----

// Rank 0's side of the farm: answers the workers' messages, watches their
// heartbeats and is the only one to touch the store.
class Server {
 public:
  Server(Comm& comm, store::Store& store, int64_t sweep_id, const FarmOptions& options)
      : comm_(comm),
        store_(store),
        sweep_id_(sweep_id),
        options_(options),
        log_(options),
        live_(comm.size() - 1),
        start_(Clock::now()),
        last_check_(start_) {}

  FarmReport run() {
    Backoff backoff(kServeMaxSleepUs);
    while (live_ > static_cast<int>(lost_.size())) {
      watch_stop();
      if (const std::optional<int> src = comm_.poll()) {
        backoff.reset();
        const int rank = *src;
        guarded([&] { handle(rank, decode_worker_message(comm_.receive(rank))); });
      } else {
        // Only with no message waiting: a heartbeat still queued is not late.
        guarded([&] { idle(); });
        backoff.sleep();
      }
    }
    guarded([&] { store_.flush(); });
    report_.wall_s = seconds_since(start_);
    for (const auto& [rank, where] : lost_) report_.lost.push_back(where);
    if (unable_ == comm_.size() - 1 && !report_.interrupted)
      throw std::runtime_error("no worker could train: " + first_unable_);
    return report_;
  }

 private:
  struct Busy {
    store::ClaimedTrial trial;
    Clock::time_point since;
    Clock::time_point heard;  // its last message
  };

  void send(int rank, const ServerMessage& msg) { comm_.send(rank, encode(msg)); }
  std::string where(int rank) {
    const std::string host = workers_[rank].host;
    return "rank " + std::to_string(rank) + (host.empty() ? "" : " on " + host);
  }

  // A store failure (full disk, I/O error, a lock held too long) stops the
  // sweep: what was committed stays, running trials are left for the resume.
  template <typename F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const store::StoreError& e) {
      if (!report_.store_error.empty()) return;  // already stopping for it
      report_.store_error = e.what();
      begin_stop("the database cannot be written");
    }
  }

  void handle(int rank, const WorkerMessage& msg) {
    if (const auto* ready = std::get_if<ReadyMessage>(&msg)) return on_ready(rank, *ready);
    if (lost_.count(rank)) return on_lost_message(rank, msg);
    if (std::holds_alternative<HeartbeatMessage>(msg)) return on_progress(rank, nullptr);
    if (const auto* epoch = std::get_if<EpochMessage>(&msg))
      return on_progress(rank, &epoch->metrics);
    if (const auto* result = std::get_if<ResultMessage>(&msg)) return on_result(rank, *result);
    if (const auto* fatal = std::get_if<FatalMessage>(&msg)) return on_fatal(rank, *fatal);
    throw CommError("rank " + std::to_string(rank) +
                    " sent an unknown message: " + std::get<UnknownMessage>(msg).text);
  }

  void on_ready(int rank, const ReadyMessage& msg) {
    workers_[rank] = store::Worker{rank, msg.host, msg.device};
    assign(rank);
  }

  // A heartbeat (`epoch` null) or an epoch's metrics.
  void on_progress(int rank, const store::EpochMetrics* epoch) {
    const auto it = busy_.find(rank);
    if (it == busy_.end()) return;
    it->second.heard = Clock::now();
    if (!writable()) return;
    if (!epoch)
      store_.heartbeat(it->second.trial.trial_id);
    else
      store_.record_epoch(it->second.trial.trial_id, *epoch);
    store_.flush_if_due();
  }

  void on_result(int rank, const ResultMessage& msg) {
    const auto it = busy_.find(rank);
    if (it == busy_.end())
      throw CommError("rank " + std::to_string(rank) + " sent a result without a trial");
    const Busy b = std::move(it->second);
    busy_.erase(it);
    const TrialOutcome& outcome = msg.outcome;
    const double seconds = msg.seconds.value_or(seconds_since(b.since));
    report_.busy_s += seconds;
    // After a stop the trial is WAITING again; a late result is logged by
    // the store and the trial is trained again on resume.
    guarded([&] {
      if (writable() && record_outcome(store_, b.trial.trial_id, outcome)) {
        count(report_, outcome.status);
        log_.finished(b.trial, outcome, rank, seconds);
      }
    });
    if (outcome.status == TrialStatus::kInterrupted && !stopping_)
      begin_stop(where(rank) + " was interrupted");
    assign(rank);  // the rank waits for this answer whatever happened above
    wake_idle();   // with nothing left running, parked ranks can leave
    if (writable()) store_.flush_if_due();
  }

  void on_fatal(int rank, const FatalMessage& msg) {
    const std::string& error = msg.error;
    ++unable_;
    if (first_unable_.empty()) first_unable_ = error;
    report_.unable.push_back(where(rank) + ": " + error);
    log_.message("nds sweep: " + where(rank) + " cannot train: " + error);
    const auto it = busy_.find(rank);
    if (it != busy_.end()) {
      const int64_t trial_id = it->second.trial.trial_id;
      busy_.erase(it);
      guarded([&] {
        if (writable()) store_.release(trial_id);
      });
    }
    --live_;
    wake_idle();
  }

  // A lost rank came back: its result is not recorded (the trial was
  // requeued and may be running elsewhere), and it gets no more trials.
  void on_lost_message(int rank, const WorkerMessage& msg) {
    const bool result = std::holds_alternative<ResultMessage>(msg);
    if (!result && !std::holds_alternative<FatalMessage>(msg)) return;
    log_.message("nds sweep: " + lost_[rank] + " answered again after it was given up; its " +
                 "late result is not recorded and it gets no more trials");
    guarded([&] {
      if (writable())
        store_.log_event("late_result", sweep_id_, std::nullopt,
                         {{"rank", rank}, {"reason", "the rank was lost"}});
    });
    lost_.erase(rank);
    if (result) send(rank, DoneMessage{});
    --live_;
  }

  // Between messages: commits that are due, lost workers, parked workers.
  void idle() {
    if (writable()) store_.flush_if_due();
    if (seconds_since(last_check_) < kCheckEveryS) return;
    last_check_ = Clock::now();
    std::vector<int> late;
    for (const auto& [rank, b] : busy_)
      if (seconds_since(b.heard) > options_.heartbeat_timeout_s) late.push_back(rank);
    for (int rank : late) lose(rank);
  }

  void lose(int rank) {
    Busy b = std::move(busy_.at(rank));
    busy_.erase(rank);
    char age[32];
    std::snprintf(age, sizeof age, "%.0f", seconds_since(b.heard));
    const std::string error = "no heartbeat from " + where(rank) + " for " + age + " s";
    lost_[rank] = where(rank);
    ++report_.lost_trials;
    log_.message("nds sweep: " + error + "; " + trial_name(b.trial) +
                 " goes back to the queue and the rank gets no more trials");
    guarded([&] {
      if (writable()) store_.lose(b.trial.trial_id, error);
    });
    wake_idle();
  }

  void assign(int rank) {
    std::optional<store::ClaimedTrial> trial;
    if (!stopping_)
      guarded([&] { trial = claim_next(store_, sweep_id_, workers_[rank], options_); });
    if (stopping_) return leave(rank);  // also when the claim failed
    if (!trial) {
      // Others still train: one of them may be lost and its trial requeued,
      // so this rank waits instead of leaving.
      if (busy_.empty()) return leave(rank);
      if (idle_.insert(rank).second) send(rank, WaitMessage{});
      return;
    }
    idle_.erase(rank);
    ++report_.dispatched;
    send(rank, TrialMessage{*trial});
    busy_[rank] = Busy{std::move(*trial), Clock::now(), Clock::now()};
  }

  // After a trial went back to the queue or a rank left: parked ranks get
  // work, or leave when nothing can come any more.
  void wake_idle() {
    const std::set<int> parked = idle_;
    for (int rank : parked) assign(rank);
  }

  void leave(int rank) {
    idle_.erase(rank);
    send(rank, DoneMessage{});
    --live_;
  }

  void watch_stop() {
    if (!stopping_ && stop_requested()) begin_stop("signal " + std::to_string(stop_signal()));
    if (stopping_ && seconds_since(stop_since_) > options_.stop_wait_s) {
      log_.message("nds sweep: " + std::to_string(live_) + " worker(s) did not stop within " +
                   fixed1(options_.stop_wait_s) + " s; ending the job");
      guarded([&] { store_.flush(); });
      comm_.abort(3);
    }
  }

  void begin_stop(const std::string& why) {
    if (stopping_) return;
    stopping_ = true;
    stop_since_ = Clock::now();
    report_.interrupted = true;
    log_.message("nds sweep: " + why + ": stopping; " + std::to_string(busy_.size()) +
                 " running trial(s) " +
                 (writable() ? "back to WAITING" : "left for the resume to retry"));
    // At once: SIGKILL may follow SIGTERM within seconds.
    if (writable()) {
      guarded([&] {
        report_.released += store_.release_running(sweep_id_);
        store_.flush();
      });
    }
    for (const auto& [rank, b] : busy_) send(rank, StopMessage{});
    wake_idle();
  }

  bool writable() const { return report_.store_error.empty(); }

  static constexpr double kCheckEveryS = 0.25;  // heartbeat checks

  Comm& comm_;
  store::Store& store_;
  int64_t sweep_id_;
  const FarmOptions& options_;
  ProgressLog log_;
  FarmReport report_;
  std::map<int, Busy> busy_;              // rank -> its trial
  std::map<int, store::Worker> workers_;  // rank -> where it runs
  std::map<int, std::string> lost_;       // rank -> where it ran; it gets no more trials
  std::set<int> idle_;                    // ranks told to wait for work
  int live_;                              // workers that have not left
  int unable_ = 0;                        // workers that could not start
  std::string first_unable_;
  bool stopping_ = false;
  Clock::time_point stop_since_;
  Clock::time_point start_;
  Clock::time_point last_check_;
};

}  // namespace

double heartbeat_interval(const FarmOptions& options) {
  return std::min(options.heartbeat_s, options.heartbeat_timeout_s / 4);
}

bool record_outcome(store::Store& store, int64_t trial_id, const TrialOutcome& o) {
  switch (o.status) {
    case TrialStatus::kComplete:
      return store.complete(trial_id, o.result);
    case TrialStatus::kDiverged:
      return store.diverge(trial_id, o.result, o.error);
    case TrialStatus::kFailed:
      return store.fail(trial_id, o.error, o.result.epochs.empty() ? nullptr : &o.result);
    case TrialStatus::kInterrupted:
      return store.release(trial_id);
  }
  return false;
}

FarmReport run_serial(store::Store& store, int64_t sweep_id, TrialRunner& runner,
                      const json& recipe, const FarmOptions& options) {
  FarmReport report;
  const Clock::time_point start = Clock::now();
  try {
    run_trials_here(store, sweep_id, runner, recipe, options, report);
    if (stop_requested()) {
      report.interrupted = true;
      report.released += store.release_running(sweep_id);
    }
    store.flush();
  } catch (const store::StoreError& e) {
    // Committed results stay; the trial left RUNNING is retried on resume.
    report.store_error = e.what();
    report.interrupted = true;
  }
  report.wall_s = seconds_since(start);
  return report;
}

FarmReport serve(Comm& comm, store::Store& store, int64_t sweep_id, const FarmOptions& options) {
  return Server(comm, store, sweep_id, options).run();
}

int work(Comm& comm, const RunnerFactory& make_runner, const json& recipe,
         const FarmOptions& options) {
  std::unique_ptr<TrialRunner> runner;
  try {
    runner = make_runner();
  } catch (const std::exception& e) {
    // Rank 0 reports it; exiting 0 keeps mpirun from ending the healthy ranks.
    comm.send(0, encode(FatalMessage{e.what()}));
    return 0;
  }
  comm.send(0, encode(ReadyMessage{host_name(), runner->device()}));
  bool parked = false;
  while (true) {
    // Parked (no trial for now) may last minutes: poll slowly then.
    const ServerMessage msg =
        decode_server_message(wait_for(comm, 0, parked ? kIdleMaxSleepUs : kReplyMaxSleepUs));
    if (std::holds_alternative<DoneMessage>(msg)) return 0;
    if (std::holds_alternative<StopMessage>(msg)) continue;  // after our result; `done` follows
    parked = std::holds_alternative<WaitMessage>(msg);
    if (parked) continue;
    if (const auto* unknown = std::get_if<UnknownMessage>(&msg))
      throw CommError("rank 0 sent an unknown message: " + unknown->text);
    const store::ClaimedTrial& trial = std::get<TrialMessage>(msg).trial;
    WorkerEvents events(comm, trial.trial_id, heartbeat_interval(options));
    const Clock::time_point t0 = Clock::now();
    const TrialOutcome outcome = run_trial(*runner, trial, recipe, events);
    comm.send(0, encode(ResultMessage{seconds_since(t0), outcome}));
  }
}

void send_go(Comm& comm, const GoMessage& go) {
  const std::string bytes = encode(go);
  for (int r = 1; r < comm.size(); ++r) comm.send(r, bytes);
}

GoMessage wait_for_go(Comm& comm) {
  return decode_go(wait_for(comm, 0, kIdleMaxSleepUs));
}

}  // namespace nds::cluster
