#include "sweep/sweep.h"

#include <algorithm>
#include <csignal>
#include <exception>
#include <utility>

#include "cluster/noop_runner.h"
#include "cluster/resources.h"
#include "cluster/signals.h"
#include "sweep/open.h"

namespace nds::sweep {
namespace {

// nds's status for a run that failed (cli/commands.h): how a rank ends the
// whole job when it cannot go on and the others would wait for it.
constexpr int kExitFailure = 1;

cluster::FarmOptions farm_options(const cluster::GoMessage& go, std::ostream& log) {
  cluster::FarmOptions f = go.farm_options();
  f.log = &log;
  return f;
}

cluster::GoMessage no_go(int code) {
  cluster::GoMessage m;
  m.code = code;
  return m;
}

}  // namespace

Sweep::Sweep(TrainerFactory make_trainer, std::ostream& log)
    : make_trainer_(std::move(make_trainer)), log_(log) {
  cluster::install_stop_signals();
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG and the
  // sweep stops cleanly, instead of dying of SIGXFSZ in the middle of a commit.
  std::signal(SIGXFSZ, SIG_IGN);
  session_ = std::make_unique<cluster::Session>();
}

Sweep::~Sweep() = default;

bool Sweep::is_root() const {
  return session_->world().rank() == 0;
}

int Sweep::work() {
  const cluster::GoMessage go = cluster::wait_for_go(comm());
  // No-go: rank 0 prints why and exits with the status. A worker exits 0, for
  // mpirun stops the whole job at the first non-zero exit, which could kill
  // rank 0 before its message is out.
  if (!go.go) return 0;
  // Rank 0 runs on this node without training, so it takes no device slot.
  const bool with_root = go.host == cluster::host_name();
  const int threads = go.threads > 0
                          ? go.threads
                          : cluster::default_threads(cluster::local_size() - (with_root ? 1 : 0));
  try {
    return cluster::work(
        comm(), [&] { return make_runner(go, threads, with_root); }, go.recipe,
        farm_options(go, log_));
  } catch (const std::exception& e) {
    // Rank 0 would wait for this rank forever (and MPI_Finalize with it).
    log_ << "nds sweep: rank " << comm().rank() << ": " << e.what() << '\n';
    comm().abort(kExitFailure);
  }
  return kExitFailure;  // not reached: abort() ends the job
}

void Sweep::refuse(int status) {
  cluster::send_go(comm(), no_go(status));
}

Start Sweep::open(const Plan& plan) {
  plan_ = plan;
  // Serial: load the data before touching the database.
  if (comm().size() == 1) {
    const int threads = plan_.threads > 0 ? plan_.threads : cluster::default_threads(1);
    runner_ = make_runner(go_message(0), threads, false);
  }
  opened_ = std::make_unique<Opened>(open_sweep(plan_, comm().size()));
  cluster::send_go(comm(), go_message(opened_->total));
  Start start;
  start.total = opened_->total;
  start.complete = opened_->store->counts(opened_->sweep_id)[store::TrialState::kComplete];
  start.resumed = opened_->resumed;
  start.grown_from = opened_->grown_from;
  start.requeued = opened_->requeued;
  start.ranks = comm().size();
  return start;
}

Summary Sweep::run() {
  const cluster::FarmReport report = run_farm(farm_options(go_message(opened_->total), log_));
  return summarize(report);
}

void Sweep::end_job(int status) {
  opened_->store->flush();
  comm().abort(status);
}

cluster::GoMessage Sweep::go_message(int64_t total) const {
  cluster::GoMessage go;
  go.go = true;
  go.recipe = plan_.recipe;
  go.runner = plan_.runner;
  go.threads = plan_.threads;
  go.device = plan_.device;
  go.data = plan_.data;
  go.host = cluster::host_name();
  go.quiet = plan_.quiet;
  go.total = total;
  go.max_attempts = plan_.max_retries > 0 ? plan_.max_retries + 1 : 0;
  go.heartbeat_timeout_s = plan_.heartbeat_timeout_s;
  return go;
}

// `with_root`: rank 0 runs on this node without training, so it takes no
// device slot.
std::unique_ptr<cluster::TrialRunner> Sweep::make_runner(const cluster::GoMessage& go, int threads,
                                                         bool with_root) const {
  if (go.runner != "torch") return cluster::make_noop_runner(cluster::parse_noop_spec(go.runner));
  cluster::RunnerOptions ro;
  ro.threads = threads;
  ro.device_slot = cluster::device_slot(with_root);
  return make_trainer_(go.recipe, go.data, ro, go.device);
}

cluster::FarmReport Sweep::run_farm(const cluster::FarmOptions& options) {
  store::Store& store = *opened_->store;
  if (comm().size() == 1)
    return cluster::run_serial(store, opened_->sweep_id, *runner_, plan_.recipe, options);
  try {
    return cluster::serve(comm(), store, opened_->sweep_id, options);
  } catch (const std::exception& e) {
    // The workers wait for rank 0: end the whole job, after committing
    // what was recorded.
    log_ << "nds sweep: " << e.what() << '\n';
    try {
      store.flush();
    } catch (const std::exception&) {
      // already reported the first error
    }
    comm().abort(kExitFailure);
  }
  return {};  // not reached: abort() ends the job
}

// After the farm: the sweep's counts, and the sweep marked finished when
// nothing is left to do.
Summary Sweep::summarize(const cluster::FarmReport& report) {
  Summary s;
  s.farm = report;
  s.trainers = std::max(1, comm().size() - 1);
  if (!report.store_error.empty()) return s;
  store::Store& store = *opened_->store;
  s.counts = store.counts(opened_->sweep_id);
  if (!report.interrupted && s.counts[store::TrialState::kWaiting] == 0 &&
      s.counts[store::TrialState::kRunning] == 0)
    store.finish_sweep(opened_->sweep_id);
  store.flush();
  return s;
}

}  // namespace nds::sweep
