// nds db: create, check and repair a results database.

#include <boost/program_options.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/version.h"
#include "store/reader.h"
#include "store/schema.h"
#include "store/store.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;

constexpr const char* kUsage =
    "usage: nds db init --db FILE [--journal auto|wal|delete]\n"
    "       nds db check --db FILE\n"
    "       nds db requeue --db FILE --sweep NAME [--stale-after SECONDS]\n"
    "                      [--failed --max-attempts N]\n\n"
    "init     creates the database (or opens it: migrates an older schema, rolls back a\n"
    "         transaction an interrupted writer left) and closes it again.\n"
    "check    read-only: validates the schema and runs PRAGMA integrity_check.\n"
    "requeue  RUNNING trials whose heartbeat is older than --stale-after become FAILED\n"
    "         with a new WAITING attempt; with --failed, FAILED trials that made fewer\n"
    "         than --max-attempts attempts get a new WAITING attempt.\n"
    "Writing commands hold the database's single-writer lock while they run.\n\n";

store::StoreOptions writer_options(const po::variables_map& vm) {
  store::StoreOptions o;
  o.nds_version = NDS_VERSION;
  if (vm.count("journal")) o.journal = store::parse_journal_mode(vm["journal"].as<std::string>());
  return o;
}

int init(const std::string& path, const po::variables_map& vm) {
  store::Store s(path, writer_options(vm));
  const int before = s.schema_version_before();
  std::cout << (before == 0 ? "created '" : "opened '") << path << "': schema "
            << store::kSchemaVersion;
  if (before != 0 && before != store::kSchemaVersion)
    std::cout << " (migrated from " << before << ")";
  std::cout << ", journal " << store::to_string(s.journal_mode()) << " while open ("
            << s.filesystem() << " file system)\n";
  return kExitOk;
}

int check(const std::string& path) {
  const store::Reader reader(path);
  const auto result = reader.db().query_text("PRAGMA integrity_check").value_or("?");
  const auto sweeps = reader.sweeps();
  int64_t trials = 0;
  for (const auto& s : sweeps) trials += s.counts.total();
  if (result != "ok") {
    std::cout << "'" << path << "' failed PRAGMA integrity_check: " << result << '\n';
    return kExitFailure;
  }
  std::cout << "ok: '" << path << "' schema " << reader.schema_version() << ", " << sweeps.size()
            << " sweeps, " << trials << " trials\n";
  return kExitOk;
}

int requeue(const std::string& path, const po::variables_map& vm) {
  if (!vm.count("sweep")) throw std::invalid_argument("missing --sweep NAME");
  const bool stale = vm.count("stale-after") > 0;
  const bool failed = vm.count("failed") > 0;
  if (!stale && !failed) throw std::invalid_argument("give --stale-after SECONDS and/or --failed");
  if (failed && !vm.count("max-attempts"))
    throw std::invalid_argument("--failed needs --max-attempts N");
  const double grace = stale ? vm["stale-after"].as<double>() : 0;
  if (stale && !(grace >= 0))
    throw std::invalid_argument("--stale-after must be >= 0, got " + std::to_string(grace));
  const int64_t max_attempts = vm.count("max-attempts") ? vm["max-attempts"].as<int64_t>() : 0;
  if (failed && max_attempts < 1)
    throw std::invalid_argument("--max-attempts must be >= 1, got " + std::to_string(max_attempts));
  const std::string sweep = vm["sweep"].as<std::string>();

  store::Store s(path, writer_options(vm));
  const auto id = s.find_sweep(sweep);
  if (!id) throw std::invalid_argument("no sweep '" + sweep + "' in '" + path + "'");
  if (stale) {
    const int64_t n = s.requeue_stale(*id, grace, max_attempts);
    std::cout << "requeued " << n << " stale trial" << (n == 1 ? "" : "s") << '\n';
  }
  if (failed) {
    const int64_t n = s.requeue_failed(*id, max_attempts);
    std::cout << "requeued " << n << " failed trial" << (n == 1 ? "" : "s") << '\n';
  }
  s.flush();
  return kExitOk;
}

}  // namespace

int run_db(const std::vector<std::string>& args) {
  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "the results database (required)")
      ("journal", po::value<std::string>(), "init/requeue: auto (default), wal or delete")
      ("sweep", po::value<std::string>(), "requeue: the sweep")
      ("stale-after", po::value<double>(), "requeue: heartbeat grace period in seconds")
      ("failed", "requeue: retry FAILED trials")
      ("max-attempts", po::value<int64_t>(), "requeue: attempts allowed per sample");
  // clang-format on
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm, "action")) return kExitOk;
  if (!vm.count("action")) throw std::invalid_argument("missing action: init, check or requeue");
  const auto actions = vm["action"].as<std::vector<std::string>>();
  if (actions.size() != 1)
    throw std::invalid_argument("expected one action, got '" + actions[1] + "' too");
  if (!vm.count("db")) throw std::invalid_argument("missing --db FILE (see nds db --help)");
  const std::string path = vm["db"].as<std::string>();
  const std::string& action = actions[0];
  if (action == "init") return init(path, vm);
  if (action == "check") return check(path);
  if (action == "requeue") return requeue(path, vm);
  throw std::invalid_argument("unknown action '" + action + "' (expected init, check or requeue)");
}

}  // namespace nds::cli
