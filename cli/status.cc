// nds status: where the sweeps of a results database stand (read-only).

#include <boost/program_options.hpp>
#include <cmath>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cluster/farm.h"
#include "cluster/status.h"
#include "store/reader.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

constexpr const char* kUsage =
    "usage: nds status --db FILE [--sweep NAME] [--stale-after SECONDS] [--json]\n\n"
    "Shows each sweep's trials by state (latest attempts), the attempts made, the\n"
    "throughput (COMPLETE trials per hour over the last 50 completions) and an ETA for\n"
    "the WAITING and RUNNING ones at that rate. RUNNING trials without a heartbeat for\n"
    "--stale-after seconds (default 600, nds sweep's --heartbeat-timeout) are shown as\n"
    "stale: their worker is probably gone. Reads the database without writing it, so it\n"
    "can watch a running sweep.\n\n";

std::string duration(double s) {
  if (!std::isfinite(s)) return "-";
  const auto t = static_cast<long>(s + 0.5);
  char buf[48];
  if (t >= 86400)
    std::snprintf(buf, sizeof buf, "%ldd %ldh", t / 86400, t / 3600 % 24);
  else if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh %02ldm", t / 3600, t / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm %02lds", t / 60, t % 60);
  return buf;
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

json nullable(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

}  // namespace

int run_status(const std::vector<std::string>& args) {
  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "results database FILE")
      ("sweep", po::value<std::string>(), "only this sweep")
      ("stale-after", po::value<std::string>(), "heartbeat age in seconds that makes a RUNNING trial stale")
      ("json", "one JSON object per sweep");
  // clang-format on
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm)) return kExitOk;
  if (!vm.count("db")) throw std::invalid_argument("missing --db FILE (see nds status --help)");
  const double stale_after =
      vm.count("stale-after")
          ? parse_seconds(vm["stale-after"].as<std::string>(), "--stale-after", 0, 1e9)
          : cluster::kDefaultHeartbeatTimeoutS;
  const store::Reader reader(vm["db"].as<std::string>());
  const std::vector<cluster::SweepStatus> all =
      cluster::sweep_status(reader, vm.count("sweep") ? vm["sweep"].as<std::string>() : "",
                            stale_after, store::unix_now());

  if (vm.count("json")) {
    for (const cluster::SweepStatus& s : all) {
      const store::StateCounts& c = s.summary.counts;
      std::cout << json_dump(json{{"sweep", s.summary.name},
                                  {"trials", c.total()},
                                  {"waiting", c[store::TrialState::kWaiting]},
                                  {"running", c[store::TrialState::kRunning]},
                                  {"stale", s.stale},
                                  {"complete", c[store::TrialState::kComplete]},
                                  {"failed", c[store::TrialState::kFailed]},
                                  {"diverged", c[store::TrialState::kDiverged]},
                                  {"attempts", s.attempts},
                                  {"references", s.references},
                                  {"finished", std::isfinite(s.summary.finished_at)},
                                  {"per_hour", nullable(s.per_hour)},
                                  {"eta_s", nullable(s.eta_s)},
                                  {"best_top1_err", nullable(s.summary.best_top1_err)}})
                << '\n';
    }
    return kExitOk;
  }
  if (all.empty()) {
    std::cout << "no sweeps in " << vm["db"].as<std::string>() << '\n';
    return kExitOk;
  }
  TextTable t({"sweep", "trials", "complete", "running", "waiting", "failed", "diverged",
               "attempts", "per hour", "eta", "best top-1"},
              1);
  for (const cluster::SweepStatus& s : all) {
    const store::StateCounts& c = s.summary.counts;
    const bool finished = std::isfinite(s.summary.finished_at);
    t.add({s.summary.name, std::to_string(c.total()),
           std::to_string(c[store::TrialState::kComplete]),
           std::to_string(c[store::TrialState::kRunning]) +
               (s.stale ? " (" + std::to_string(s.stale) + " stale)" : ""),
           std::to_string(c[store::TrialState::kWaiting]),
           std::to_string(c[store::TrialState::kFailed]),
           std::to_string(c[store::TrialState::kDiverged]), std::to_string(s.attempts),
           fixed(s.per_hour, 1), finished ? "done" : duration(s.eta_s),
           std::isfinite(s.summary.best_top1_err) ? fixed(s.summary.best_top1_err, 2) + "%" : "-"});
  }
  std::cout << t.str();
  return kExitOk;
}

}  // namespace nds::cli
