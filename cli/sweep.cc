// nds sweep: sample a design space, train every sample under one recipe and
// store the results; with mpirun, rank 0 owns the database and the other
// ranks train. The options become a sweep::Plan; the sweep's lifecycle
// (open, resume, grow, the farm) is sweep::Sweep (sweep/sweep.h). Running
// the same command again resumes.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/space_arg.h"
#include "cli/torch_plugin.h"
#include "cli/version.h"
#include "cluster/noop_runner.h"
#include "sampler/design_space.h"
#include "store/reader.h"
#include "store/store.h"
#include "sweep/plan.h"
#include "sweep/sweep.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

constexpr int kExitInterrupted = 3;  // stopped by a signal; the same command resumes
// Every trial was dealt with, but a lost worker never came back: rank 0
// ended the job without it (MPI_Abort, since MPI_Finalize would wait for it).
constexpr int kExitLostWorker = 4;
// The database could not be written (full disk, I/O error, a reader that
// kept its lock): the sweep stopped; what was committed is kept.
constexpr int kExitStoreFailed = 5;

constexpr const char* kUsage =
    "usage: nds sweep --space FILE|NAME -n N --db FILE --name NAME [--seed S]\n"
    "                 [--flops LO:HI] [--params LO:HI] [--acts LO:HI] [--resolution R]\n"
    "                 [--classes K] [--in-channels C] [--include NAME,...] [--max-retries K]\n"
    "                 [--threads T] [--device auto|cpu|cuda] [--heartbeat-timeout S]\n"
    "                 [--journal auto|wal|delete] [--busy-timeout S] [--quiet] [training options]\n"
    "       nds sweep --recipe-of NAME --db FILE --name NEW [-n K] [training options] ...\n"
    "       mpirun -np P nds sweep ...\n\n"
    "Samples N models of a design space (as nds sample: sample i is a pure function of\n"
    "space, seed and i), trains each under one recipe (the training options of nds\n"
    "train) and records every trial in the results database FILE as sweep NAME. Under\n"
    "mpirun, rank 0 owns the database and hands trials to the other ranks as they\n"
    "become free; without mpirun (or with -np 1) the trials run in this process.\n\n"
    "Running the same command again resumes: COMPLETE trials are kept, trials left\n"
    "RUNNING by a dead run are retried. A larger N grows the sweep: samples N..N'-1\n"
    "are added and the stored ones are kept as they are; a smaller N, or a different\n"
    "space, recipe or seed for an existing NAME is refused. A trial that throws is\n"
    "FAILED (--max-retries K gives it K more attempts), one whose loss turns NaN is\n"
    "DIVERGED; the others go on. SIGTERM, SIGINT or SIGUSR1 stops the sweep: running\n"
    "trials go back to WAITING and nds exits with status 3 (run the same command to\n"
    "resume). A second SIGINT or SIGTERM ends the process at once (it dies of the\n"
    "signal; its running trials are retried on resume); SIGUSR1 never does.\n\n"
    "A worker that sends no heartbeat for --heartbeat-timeout seconds (default 600;\n"
    "heartbeats come every 10 s or more often) is lost: its trial is FAILED (not\n"
    "counted against --max-retries) and queued again, the rank gets no more trials\n"
    "and anything it sends later is not recorded. When the rest is done and a lost\n"
    "rank never came back, rank 0 ends the job without it, naming it (status 4). A\n"
    "reader holding the database's lock (rollback journal) delays commits, not the\n"
    "sweep: results wait in memory. If the database cannot be written (full disk,\n"
    "I/O error), the sweep stops with status 5; committed results are kept and the\n"
    "same command resumes.\n\n"
    "Exit status: 0 done, 1 failed, 2 bad input, 3 interrupted, 4 done but a lost\n"
    "worker was left behind, 5 the database could not be written.\n\n"
    "--recipe-of NAME trains the first K samples of sweep NAME (default all of them)\n"
    "again as the new sweep NEW: the same space, seed and data, so sample i is the\n"
    "same model with the same training seed, under NAME's recipe with the training\n"
    "options given here in place of its own (at least one must change it). NEW is\n"
    "recorded as NAME's sibling: nds analyze and nds report compare the two without\n"
    "--compare, pairing the models both trained. --space, --seed and the options\n"
    "that change the space come from NAME and are refused.\n\n"
    "--include trains the named fixed points (nds describe --list) alongside the\n"
    "samples under the same recipe, as reference trials; they are numbered after the\n"
    "samples (and move up when the sweep grows). Threads default to the\n"
    "node's cores split between the ranks that train on it (rank 0 does not train\n"
    "when there are workers; under a binding, its cores split between the ranks that\n"
    "share it). Each training rank takes the CUDA device of its place among the\n"
    "node's training ranks (devices are shared when there are more ranks).\n\n";

// The folder of the database must exist: a typo should not become a new
// directory tree or a late SQLite error.
void check_db_folder(const std::string& path) {
  if (path.empty() || path.back() == '/')
    throw std::invalid_argument("--db needs a file name, got '" + path + "'");
  const size_t slash = path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::invalid_argument("--db '" + path + "': folder '" + dir + "' does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw std::invalid_argument("--db '" + path + "': folder '" + dir + "' is not writable");
}

po::options_description visible_options() {
  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("space", po::value<std::string>(), "built-in space NAME or space FILE (JSON)")
      ("count,n", po::value<std::string>(), "number of samples N (>= 1)")
      ("db", po::value<std::string>(), "results database FILE (created when missing)")
      ("name", po::value<std::string>(), "sweep NAME in the database")
      ("recipe-of", po::value<std::string>(), "rerun sweep NAME's first -n samples as its sibling")
      ("seed", po::value<std::string>()->default_value("0"), "seed of the sweep")
      ("flops", po::value<std::string>(), "flops window LO:HI (e.g. 360M:400M)")
      ("params", po::value<std::string>(), "parameter window LO:HI")
      ("acts", po::value<std::string>(), "activation window LO:HI")
      ("resolution", po::value<int>(), "input side (complexity and training images)")
      ("classes", po::value<int>(), "classes of every model")
      ("in-channels", po::value<int>(), "input channels of every model")
      ("include", po::value<std::string>(), "fixed points trained as references, NAME,NAME")
      ("max-retries", po::value<std::string>(), "more attempts for a FAILED trial (default 0)")
      ("threads", po::value<std::string>(), "CPU threads per training rank")
      ("device", po::value<std::string>(), "auto (CUDA when available), cpu, cuda")
      ("heartbeat-timeout", po::value<std::string>(),
       "seconds of silence after which a busy worker is lost (default 600)")
      ("journal", po::value<std::string>(), "auto (default: WAL, rollback on network file systems), wal, delete")
      ("busy-timeout", po::value<std::string>(), "seconds one database access waits for a lock (default 10)")
      ("quiet,q", "no progress lines");
  // clang-format on
  return opts;
}

void print_help(const po::options_description& opts) {
  std::cout << kUsage << opts << '\n';
  try {
    std::cout << torch_sweep_api().options_help();
  } catch (const std::exception&) {
    std::cout << "training options: see nds train --help (the LibTorch module is missing)\n";
  }
}

// The first of `keys` the command lacks is named in one line.
void require(const po::variables_map& vm, std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    if (!vm.count(key))
      throw std::invalid_argument(std::string("missing ") +
                                  (std::string(key) == "count" ? "-n N" : std::string("--") + key) +
                                  " (see nds sweep --help)");
}

// --db and --name: where the sweep is.
void read_sweep_place(const po::variables_map& vm, sweep::Plan& p) {
  p.db = vm["db"].as<std::string>();
  p.name = vm["name"].as<std::string>();
  store::check_sweep_name(p.name);
  check_db_folder(p.db);
}

// -n, --seed, --db and --name: which sweep, in which database.
void read_sweep_identity(const po::variables_map& vm, sweep::Plan& p) {
  require(vm, {"space", "db", "name", "count"});
  p.n = static_cast<int64_t>(parse_unsigned(vm["count"].as<std::string>(), "-n"));
  if (p.n < 1) throw std::invalid_argument("-n must be >= 1, got " + std::to_string(p.n));
  p.seed = parse_unsigned(vm["seed"].as<std::string>(), "--seed");
  read_sweep_place(vm, p);
}

// How the sweep runs: retries, threads, device, timeouts, the journal, the
// test runner.
void read_run_options(const po::variables_map& vm, sweep::Plan& p) {
  if (vm.count("max-retries"))
    p.max_retries =
        static_cast<int64_t>(parse_unsigned(vm["max-retries"].as<std::string>(), "--max-retries"));
  if (vm.count("threads")) {
    const std::uint64_t t = parse_unsigned(vm["threads"].as<std::string>(), "--threads");
    if (t < 1 || t > 4096)
      throw std::invalid_argument("--threads must be in [1, 4096], got " + std::to_string(t));
    p.threads = static_cast<int>(t);
  }
  if (vm.count("device")) {
    p.device = vm["device"].as<std::string>();
    if (p.device != "auto" && p.device != "cpu" && p.device != "cuda")
      throw std::invalid_argument("unknown --device '" + p.device + "' (auto, cpu, cuda)");
  }
  if (vm.count("heartbeat-timeout"))
    p.heartbeat_timeout_s =
        parse_seconds(vm["heartbeat-timeout"].as<std::string>(), "--heartbeat-timeout", 1, 86400);
  if (vm.count("journal")) p.journal = store::parse_journal_mode(vm["journal"].as<std::string>());
  if (vm.count("busy-timeout"))
    p.busy_timeout_ms = static_cast<int>(
        1000 * parse_seconds(vm["busy-timeout"].as<std::string>(), "--busy-timeout", 0, 3600));
  p.quiet = vm.count("quiet") > 0;
  if (vm.count("test-runner")) {
    p.runner = vm["test-runner"].as<std::string>();
    cluster::parse_noop_spec(p.runner);
  }
}

// The models take the data's channels and classes unless the options named
// them (then they must agree). Parses the space again when it changed.
void fit_space_to_data(const po::variables_map& vm, const json& data, json& j,
                       const std::string& origin, sweep::Plan& p) {
  const int channels = data.at("channels").get<int>();
  const int classes = data.at("classes_of_data").get<int>();
  const bool synthetic = data.at("source").get<std::string>() == "synthetic";
  sampler::SpaceOverrides fit;
  if (p.space.in_channels != channels) {
    if (vm.count("in-channels"))
      throw std::invalid_argument("--in-channels " + std::to_string(p.space.in_channels) +
                                  ", but the data has " + std::to_string(channels) + " channel(s)");
    fit.in_channels = channels;
  }
  if (!synthetic && p.space.num_classes != classes) {
    if (vm.count("classes"))
      throw std::invalid_argument("--classes " + std::to_string(p.space.num_classes) +
                                  ", but the data has " + std::to_string(classes) + " classes");
    fit.num_classes = classes;
  }
  if (!fit.in_channels && !fit.num_classes) return;
  sampler::apply_overrides(j, fit, origin);
  p.space = sampler::parse_design_space(j, origin);
}

// A test runner's recipe, which takes no training options; false when the
// plan trains with LibTorch.
bool read_test_recipe(const std::vector<std::string>& train_args, sweep::Plan& p) {
  if (p.runner == "torch") return false;
  if (!train_args.empty())
    throw std::invalid_argument("unknown option '" + train_args.front() + "'");
  p.recipe = {{"test_runner", p.runner}};
  p.device_kind = "noop";
  return true;
}

// The module's recipe, its data drawn with the sweep's seed.
void take_recipe(const SweepRecipe& r, sweep::Plan& p) {
  p.recipe = r.recipe;
  p.recipe["data"]["seed"] = p.seed;
  p.data = r.data;
  p.torch_version = r.torch_version;
  p.device_kind = r.device;
}

// The recipe from the training options (the LibTorch module checks them),
// or the test runner's.
void read_recipe(const po::variables_map& vm, const std::vector<std::string>& train_args, json& j,
                 const std::string& origin, sweep::Plan& p) {
  if (read_test_recipe(train_args, p)) return;
  const SweepRecipe r =
      torch_sweep_api().make_recipe(train_args, p.space.resolution, p.space.num_classes, json());
  fit_space_to_data(vm, r.recipe.at("data"), j, origin, p);
  take_recipe(r, p);
}

// What --recipe-of takes from its sweep, so the command may not say it.
void refuse_space_options(const po::variables_map& vm) {
  for (const char* key : {"space", "seed", "flops", "params", "acts", "resolution", "classes",
                          "in-channels", "include"})
    if (vm.count(key) && !vm[key].defaulted())
      throw std::invalid_argument(std::string("--") + key +
                                  " comes from the sweep --recipe-of names; leave it out");
}

// -n with --recipe-of: the first K of the sweep's `samples`, all by default.
int64_t sibling_count(const po::variables_map& vm, const std::string& of, int64_t samples) {
  if (!vm.count("count")) return samples;
  const std::uint64_t n = parse_unsigned(vm["count"].as<std::string>(), "-n");
  if (n < 1 || n > static_cast<std::uint64_t>(samples))
    throw std::invalid_argument("-n " + std::to_string(n) + " is not in 1.." +
                                std::to_string(samples) + ": sweep '" + of + "' has " +
                                std::to_string(samples) + " samples");
  return static_cast<int64_t>(n);
}

// The recipe of --recipe-of's sweep with the training options given in
// place of its own (the module knows which option is which key); refused
// when nothing changes.
void read_sibling_recipe(const std::vector<std::string>& train_args, const json& stored,
                         sweep::Plan& p) {
  if (!read_test_recipe(train_args, p)) {
    if (!stored.contains("train"))
      throw std::invalid_argument("sweep '" + p.sibling_of +
                                  "' was run by a test runner: it has no recipe to change");
    take_recipe(
        torch_sweep_api().make_recipe(train_args, p.space.resolution, p.space.num_classes, stored),
        p);
  }
  if (p.recipe == stored)
    throw std::invalid_argument("the recipe of " + p.name + " would equal " + p.sibling_of +
                                "'s; give a training option to change");
}

// --recipe-of NAME: the new sweep takes NAME's space (its references too),
// seed and data, so its trial i is NAME's trial i under another recipe.
void read_sibling(const po::variables_map& vm, const std::vector<std::string>& train_args,
                  sweep::Plan& p) {
  refuse_space_options(vm);
  require(vm, {"db", "name"});
  read_sweep_place(vm, p);
  p.sibling_of = vm["recipe-of"].as<std::string>();
  if (p.sibling_of == p.name)
    throw std::invalid_argument("--name " + p.name +
                                " is the sweep --recipe-of names; give the new sweep its own name");
  read_run_options(vm, p);
  const store::SweepSummary of = store::Reader(p.db).sweep(p.sibling_of);
  p.seed = static_cast<std::uint64_t>(of.seed);
  p.space = sampler::parse_design_space(json::parse(of.space_json), "sweep '" + of.name + "'");
  p.n = sibling_count(vm, of.name, of.sample_size - static_cast<int64_t>(p.space.include.size()));
  read_sibling_recipe(train_args, json::parse(of.recipe_json), p);
}

// The plan, or nothing after printing --help.
std::optional<sweep::Plan> parse(const std::vector<std::string>& args) {
  const po::options_description opts = visible_options();
  po::options_description hidden;
  // Test-only: trials that train nothing (cluster/noop_runner.h).
  hidden.add_options()("test-runner", po::value<std::string>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  const po::parsed_options parsed =
      po::command_line_parser(args).options(all).allow_unregistered().run();
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    print_help(opts);
    return std::nullopt;
  }
  const std::vector<std::string> train_args =
      po::collect_unrecognized(parsed.options, po::include_positional);
  sweep::Plan p;
  p.nds_version = NDS_VERSION;
  if (vm.count("recipe-of")) {
    read_sibling(vm, train_args, p);
    return p;
  }
  read_sweep_identity(vm, p);
  read_run_options(vm, p);
  std::string origin;
  json j = space_with_options(vm, &origin);
  p.space = sampler::parse_design_space(j, origin);
  read_recipe(vm, train_args, j, origin, p);
  return p;
}

std::unique_ptr<cluster::TrialRunner> torch_trainer(const json& recipe, const std::string& data,
                                                    const cluster::RunnerOptions& options,
                                                    const std::string& device) {
  return torch_sweep_api().make_runner(recipe, data, options, device);
}

// The plan, and the sweep opened for it; nothing after --help. Rank 0 checks
// everything and tells the workers go or no-go, so a bad command prints one
// message and every rank exits.
std::optional<std::pair<sweep::Plan, sweep::Start>> plan_and_open(
    sweep::Sweep& sweep, const std::vector<std::string>& args) {
  try {
    std::optional<sweep::Plan> plan = parse(args);
    if (!plan) {
      sweep.refuse(kExitOk);
      return std::nullopt;
    }
    const sweep::Start start = sweep.open(*plan);
    return std::make_pair(std::move(*plan), start);
  } catch (const std::invalid_argument&) {
    sweep.refuse(kExitUsage);
    throw;
  } catch (const po::error&) {
    sweep.refuse(kExitUsage);
    throw;
  } catch (...) {
    sweep.refuse(kExitFailure);
    throw;
  }
}

void print_start(const sweep::Plan& plan, const sweep::Start& s) {
  std::cerr << "nds sweep: '" << plan.name << "' in " << plan.db << ": "
            << (s.grown_from > 0 ? "grown from " + std::to_string(s.grown_from) + " to " +
                                       std::to_string(plan.n) + " samples, "
                : s.resumed ? "resuming, "
                            : "new, ")
            << s.complete << " of " << s.total << " complete"
            << (s.requeued ? ", " + std::to_string(s.requeued) + " requeued" : "") << "; "
            << (s.ranks > 1 ? std::to_string(s.ranks - 1) + " worker rank(s)"
                            : std::string("1 process"))
            << '\n';
}

// The counts line on stdout; how busy the trainers were and who could not
// train on stderr.
void print_summary(const sweep::Plan& plan, const sweep::Summary& s) {
  const store::StateCounts& after = s.counts;
  const cluster::FarmReport& report = s.farm;
  std::cout << "sweep " << plan.name << ": " << after[store::TrialState::kComplete] << " COMPLETE, "
            << after[store::TrialState::kFailed] << " FAILED, "
            << after[store::TrialState::kDiverged] << " DIVERGED, "
            << after[store::TrialState::kWaiting] + after[store::TrialState::kRunning]
            << " to do, of " << after.total()
            << " (this run: " << report.complete + report.failed + report.diverged
            << " finished in " << static_cast<int64_t>(report.wall_s + 0.5) << " s)\n"
            << std::flush;
  if (!plan.quiet && report.wall_s > 0 && report.dispatched > 0) {
    char line[160];
    std::snprintf(line, sizeof line, "nds sweep: %d training rank(s) busy %.1f%% of %.1f s\n",
                  s.trainers, 100.0 * report.busy_s / (report.wall_s * s.trainers), report.wall_s);
    std::cerr << line;
  }
  for (const std::string& why : report.unable)
    std::cerr << "nds sweep: warning: " << why << " (it trained nothing)\n";
}

// What the summary says, and the exit status that says how the run ended.
int finish(sweep::Sweep& sweep, const sweep::Plan& plan, const sweep::Summary& s) {
  const cluster::FarmReport& report = s.farm;
  if (!report.store_error.empty()) {
    std::cerr << "nds sweep: stopped: " << report.store_error << "\n"
              << "nds sweep: results committed before are kept; once " << plan.db
              << " can be written again, run the same command to resume\n";
    return kExitStoreFailed;
  }
  print_summary(plan, s);
  if (report.interrupted) {
    std::cerr << "nds sweep: interrupted; run the same command to resume\n";
    return kExitInterrupted;
  }
  if (!report.lost.empty()) {
    std::string ranks;
    for (const std::string& r : report.lost) ranks += (ranks.empty() ? "" : ", ") + r;
    std::cerr << "nds sweep: everything else is done; ending the job without the lost " << ranks
              << " (status " << kExitLostWorker << ")\n"
              << std::flush;
    sweep.end_job(kExitLostWorker);
  }
  return kExitOk;
}

}  // namespace

int run_sweep(const std::vector<std::string>& args) {
  sweep::Sweep sweep(torch_trainer, std::cerr);
  if (!sweep.is_root()) return sweep.work();
  const auto opened = plan_and_open(sweep, args);
  if (!opened) return kExitOk;  // --help
  const auto& [plan, start] = *opened;
  if (!plan.quiet) print_start(plan, start);
  return finish(sweep, plan, sweep.run());
}

}  // namespace nds::cli
