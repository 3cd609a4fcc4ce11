// nds sweep: sample a design space, train every sample under one recipe and
// store the results; with mpirun, rank 0 owns the database and the other
// ranks train (cluster/farm.h). Running the same command again resumes.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/space_arg.h"
#include "cli/torch_plugin.h"
#include "cli/version.h"
#include "cluster/comm.h"
#include "cluster/farm.h"
#include "cluster/messages.h"
#include "cluster/noop_runner.h"
#include "cluster/resources.h"
#include "cluster/signals.h"
#include "cluster/trial_runner.h"
#include "sampler/design_space.h"
#include "sampler/hash.h"
#include "sampler/random.h"
#include "sampler/sampler.h"
#include "sampler/units.h"
#include "space/complexity.h"
#include "space/net_spec.h"
#include "space/transforms.h"
#include "space/zoo.h"
#include "store/reader.h"
#include "store/store.h"

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
    "--include trains the named fixed points (nds describe --list) alongside the\n"
    "samples under the same recipe, as reference trials; they are numbered after the\n"
    "samples (and move up when the sweep grows). Threads default to the\n"
    "node's cores split between the ranks that train on it (rank 0 does not train\n"
    "when there are workers; under a binding, its cores split between the ranks that\n"
    "share it). Each training rank takes the CUDA device of its place among the\n"
    "node's training ranks (devices are shared when there are more ranks).\n\n";

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

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

bool file_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

// Training seed of sample (or reference) i: independent of the stream that
// drew its model.
int64_t trial_seed(std::uint64_t seed, std::uint64_t index) {
  constexpr std::uint64_t kTrainStream = 0x747261696e696e67ULL;  // "training"
  return static_cast<int64_t>(sampler::mix64(sampler::stream_seed(seed, index) ^ kTrainStream) &
                              0x7fffffffffffffffULL);
}

// What rank 0 decided before any training.
struct Plan {
  bool help = false;
  std::string db;
  std::string name;
  std::uint64_t seed = 0;
  int64_t n = 0;
  sampler::DesignSpace space;
  json recipe;
  std::string data;  // --data with its folder (not part of the recipe)
  std::string torch_version;
  std::string device_kind;       // "cpu"/"cuda" (what auto gives) or "noop"
  std::string runner = "torch";  // or "noop[:MS]" (test-only)
  std::string device = "auto";
  int threads = 0;  // 0: default_threads()
  int64_t max_retries = 0;
  double heartbeat_timeout_s = cluster::kDefaultHeartbeatTimeoutS;
  store::JournalMode journal = store::JournalMode::kAuto;
  int busy_timeout_ms = store::kDefaultBusyTimeoutMs;
  bool quiet = false;
  std::vector<std::string> train_args;
};

std::string first_difference(const json& a, const json& b) {
  const json patch = json::diff(a, b);
  if (patch.empty()) return "";
  std::string path = patch[0].value("path", std::string());
  return path.empty() ? "the whole value" : path;
}

Plan parse(const std::vector<std::string>& args) {
  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("space", po::value<std::string>(), "built-in space NAME or space FILE (JSON)")
      ("count,n", po::value<std::string>(), "number of samples N (>= 1)")
      ("db", po::value<std::string>(), "results database FILE (created when missing)")
      ("name", po::value<std::string>(), "sweep NAME in the database")
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

  Plan p;
  if (vm.count("help")) {
    p.help = true;
    std::cout << kUsage << opts << '\n';
    try {
      std::cout << torch_sweep_api().options_help();
    } catch (const std::exception&) {
      std::cout << "training options: see nds train --help (the LibTorch module is missing)\n";
    }
    return p;
  }
  p.train_args = po::collect_unrecognized(parsed.options, po::include_positional);
  for (const char* key : {"space", "db", "name", "count"})
    if (!vm.count(key))
      throw std::invalid_argument(std::string("missing ") +
                                  (std::string(key) == "count" ? "-n N" : std::string("--") + key) +
                                  " (see nds sweep --help)");
  p.n = static_cast<int64_t>(parse_unsigned(vm["count"].as<std::string>(), "-n"));
  if (p.n < 1) throw std::invalid_argument("-n must be >= 1, got " + std::to_string(p.n));
  p.seed = parse_unsigned(vm["seed"].as<std::string>(), "--seed");
  p.db = vm["db"].as<std::string>();
  p.name = vm["name"].as<std::string>();
  store::check_sweep_name(p.name);
  check_db_folder(p.db);
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

  // The space, with the options that replace its settings.
  std::string origin;
  json j = load_space_json(vm["space"].as<std::string>(), &origin);
  if (!j.is_object()) throw std::invalid_argument(origin + ": a space must be a JSON object");
  apply_space_options(vm, origin, j);
  if (vm.count("include")) {
    json inc = j.contains("include") ? j["include"] : json::array();
    if (!inc.is_array()) throw std::invalid_argument(origin + ": include must be a list");
    for (const std::string& name : split_list(vm["include"].as<std::string>()))
      if (std::find(inc.begin(), inc.end(), json(name)) == inc.end()) inc.push_back(name);
    j["include"] = inc;
  }
  p.space = sampler::parse_design_space(j, origin);

  // The recipe; the models take the data's channels and classes unless the
  // options named them.
  if (p.runner != "torch") {
    if (!p.train_args.empty())
      throw std::invalid_argument("unknown option '" + p.train_args.front() + "'");
    p.recipe = {{"test_runner", p.runner}};
    p.device_kind = "noop";
    return p;
  }
  const SweepRecipe r =
      torch_sweep_api().make_recipe(p.train_args, p.space.resolution, p.space.num_classes);
  const json& data = r.recipe.at("data");
  const int channels = data.at("channels").get<int>();
  const int classes = data.at("classes_of_data").get<int>();
  const bool synthetic = data.at("source").get<std::string>() == "synthetic";
  bool reparse = false;
  if (p.space.in_channels != channels) {
    if (vm.count("in-channels"))
      throw std::invalid_argument("--in-channels " + std::to_string(p.space.in_channels) +
                                  ", but the data has " + std::to_string(channels) + " channel(s)");
    j["in_channels"] = channels;
    reparse = true;
  }
  if (!synthetic && p.space.num_classes != classes) {
    if (vm.count("classes"))
      throw std::invalid_argument("--classes " + std::to_string(p.space.num_classes) +
                                  ", but the data has " + std::to_string(classes) + " classes");
    j["num_classes"] = classes;
    reparse = true;
  }
  if (reparse) p.space = sampler::parse_design_space(j, origin);
  p.recipe = r.recipe;
  p.recipe["data"]["seed"] = p.seed;
  p.data = r.data;
  p.torch_version = r.torch_version;
  p.device_kind = r.device;
  return p;
}

// Samples 0..n-1 (sample i is a pure function of space, seed and i).
std::vector<store::NewTrial> make_samples(const Plan& p) {
  std::vector<store::NewTrial> trials;
  sampler::Sampler sampler(p.space, p.seed);
  for (int64_t i = 0; i < p.n; ++i) {
    const sampler::Sample s = sampler.at(static_cast<std::uint64_t>(i));
    store::NewTrial t;
    t.model = {sampler::hash_text(s.hash), p.space.family, s.family_params, to_json(s.spec),
               s.cost};
    t.seed = trial_seed(p.seed, static_cast<std::uint64_t>(i));
    trials.push_back(std::move(t));
  }
  return trials;
}

// The --include fixed points, after the samples: reference j of a new sweep
// of n samples is trial n + j, with that index's training seed.
void add_references(const Plan& p, std::vector<store::NewTrial>& trials) {
  ExpandOptions expand;
  expand.in_channels = p.space.in_channels;
  expand.num_classes = p.space.num_classes;
  const bool cifar_stem = p.recipe.value("stem", std::string()) == "cifar";
  for (const std::string& name : p.space.include) {
    NetSpec spec = fixed_point(name, expand);
    if (cifar_stem) spec = with_cifar_stem(spec);
    store::NewTrial t;
    const Complexity cost = complexity(spec, p.space.resolution);
    t.model = {sampler::hash_text(sampler::spec_hash(spec)), spec.family,
               json{{"family", spec.family}, {"fixed_point", name}}, to_json(spec), cost};
    t.seed = trial_seed(p.seed, trials.size());
    t.reference = name;
    trials.push_back(std::move(t));
  }
}

std::string where_is(const Plan& p) {
  return "sweep '" + p.name + "' in " + p.db;
}

// The existing sweep must be the same experiment; otherwise one line says
// what differs. Returns its number of samples (references not counted), or
// nullopt when there is no such sweep.
std::optional<int64_t> check_same_sweep(const store::Db& db, const Plan& p) {
  store::Statement st = db.prepare(
      "SELECT space_json, recipe_json, seed, (SELECT count(*) FROM trials t WHERE t.sweep_id = "
      "s.id AND t.latest = 1 AND t.reference IS NULL) FROM sweeps s WHERE s.name = ?1");
  st.bind(1, p.name);
  if (!st.step()) return std::nullopt;
  const std::string where = where_is(p);
  const std::string hint = "; run it with its own options, or use a new --name";
  json stored_space;
  try {
    stored_space = sampler::canonical_json(
        sampler::parse_design_space(json::parse(st.text(0)), "the stored space"));
  } catch (const std::exception& e) {
    throw std::invalid_argument(where + " has a space this nds cannot read (" + e.what() + ")");
  }
  const json space = sampler::canonical_json(p.space);
  if (stored_space != space)
    throw std::invalid_argument(where + " was made with a different space (" +
                                first_difference(stored_space, space) + " differs)" + hint);
  const json stored_recipe = json::parse(st.text(1));
  if (stored_recipe != p.recipe)
    throw std::invalid_argument(where + " was made with a different recipe (" +
                                first_difference(stored_recipe, p.recipe) + " differs)" + hint);
  if (static_cast<std::uint64_t>(st.int64(2)) != p.seed)
    throw std::invalid_argument(where + " was made with --seed " + std::to_string(st.int64(2)) +
                                ", not " + std::to_string(p.seed) + hint);
  const int64_t stored = st.int64(3);
  // Growing is safe (sample i does not depend on N); shrinking would drop
  // trained samples from the sweep.
  if (p.n < stored)
    throw std::invalid_argument(where + " has " + std::to_string(stored) +
                                " samples and cannot shrink to " + std::to_string(p.n) +
                                " (a sweep keeps all its samples: -n " + std::to_string(stored) +
                                " resumes it, a larger -n grows it, a new --name starts a "
                                "smaller one)");
  return stored;
}

// check_same_sweep() with a read-only connection, before the writer opens
// the file (it logs events and commits even when it then refuses), so a
// refused command leaves the database byte for byte as it was. A file that
// cannot be read this way is left to the writer, which says why or migrates it.
std::optional<int64_t> precheck(const Plan& p) {
  std::unique_ptr<store::Reader> reader;
  try {
    reader = std::make_unique<store::Reader>(p.db);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  try {
    return check_same_sweep(reader->db(), p);
  } catch (const store::StoreError&) {
    return std::nullopt;  // busy or unreadable: the writer decides
  }
}

// Adds samples stored..p.n-1 to the sweep. The stored samples must be what
// this nds draws for their indices, or the grown sweep would mix samplers.
void grow(store::Store& store, const Plan& p, int64_t sweep_id, int64_t stored,
          std::vector<store::NewTrial> samples) {
  {
    store::Statement st = store.db().prepare(
        "SELECT t.sample_index, m.hash FROM trials t JOIN models m ON m.id = t.model_id "
        "WHERE t.sweep_id = ?1 AND t.latest = 1 AND t.reference IS NULL ORDER BY t.sample_index");
    st.bind(1, sweep_id);
    for (int64_t i = 0; i < stored && st.step(); ++i) {
      const std::string& drawn = samples[static_cast<size_t>(i)].model.hash;
      if (st.int64(0) != i || st.text(1) != drawn)
        throw std::invalid_argument(where_is(p) + ": its sample " + std::to_string(i) + " (model " +
                                    st.text(1) + ") is not what this nds draws (" + drawn +
                                    "), so it cannot grow; use a new --name");
    }
  }
  samples.erase(samples.begin(), samples.begin() + stored);
  store.grow_sweep(sweep_id, stored, samples);
}

struct Opened {
  std::unique_ptr<store::Store> store;
  int64_t sweep_id = 0;
  int64_t total = 0;
  bool resumed = false;
  int64_t grown_from = 0;  // the samples before this run grew the sweep; 0: not grown
  int64_t requeued = 0;
};

Opened open_sweep_in(const Plan& p, int world_size, bool created) {
  Opened o;
  o.total = p.n + static_cast<int64_t>(p.space.include.size());
  // Check and sample before the writer opens the file, so refused input or
  // bad constraints leave nothing behind and an existing file as it was.
  std::optional<std::vector<store::NewTrial>> samples;
  if (created) {
    if (!p.space.parent.empty())
      throw std::invalid_argument("parent sweep '" + p.space.parent + "' of '" + p.name +
                                  "' is not in '" + p.db + "' (the database does not exist yet)");
    samples = make_samples(p);
  } else if (const std::optional<int64_t> stored = precheck(p); stored && *stored < p.n) {
    samples = make_samples(p);
  }
  store::StoreOptions so;
  so.nds_version = NDS_VERSION;
  so.journal = p.journal;
  so.busy_timeout_ms = p.busy_timeout_ms;
  o.store = std::make_unique<store::Store>(p.db, so);
  store::Store& store = *o.store;
  if (const std::optional<int64_t> id = store.find_sweep(p.name)) {
    // Again under the writer lock: another run may have grown it meanwhile.
    const int64_t stored = check_same_sweep(store.db(), p).value();
    o.sweep_id = *id;
    o.resumed = true;
    if (stored < p.n) {
      grow(store, p, *id, stored, samples ? std::move(*samples) : make_samples(p));
      o.grown_from = stored;
    }
  } else {
    if (!samples) samples = make_samples(p);
    add_references(p, *samples);
    store::SweepDef def;
    def.name = p.name;
    def.family = p.space.family;
    def.space = sampler::to_json(p.space);
    def.recipe = p.recipe;
    def.seed = static_cast<int64_t>(p.seed);
    def.parent = p.space.parent;
    def.build = {NDS_VERSION, p.torch_version, p.device_kind, world_size};
    o.sweep_id = store.create_sweep(def, *samples);
  }
  // This process holds the writer lock, so a RUNNING trial belongs to a run
  // that died: retry it.
  o.requeued = store.requeue_stale(o.sweep_id, 0.0);
  if (p.max_retries > 0) o.requeued += store.requeue_failed(o.sweep_id, p.max_retries + 1);
  store.flush();
  return o;
}

// A database this command created is removed again when the sweep could not
// be set up in it, so bad input leaves no empty file behind.
Opened open_sweep(const Plan& p, int world_size) {
  const bool created = !file_exists(p.db);
  try {
    return open_sweep_in(p, world_size, created);
  } catch (...) {
    if (created)
      for (const char* suffix : {"", "-wal", "-shm", "-journal", ".lock"})
        std::remove((p.db + suffix).c_str());
    throw;
  }
}

// `with_root`: rank 0 runs on this node without training, so it takes no
// device slot.
std::unique_ptr<cluster::TrialRunner> make_runner(const std::string& runner, const json& recipe,
                                                  const std::string& data, int threads,
                                                  const std::string& device, bool with_root) {
  if (runner != "torch") return cluster::make_noop_runner(cluster::parse_noop_spec(runner));
  cluster::RunnerOptions ro;
  ro.threads = threads;
  ro.device_slot = cluster::device_slot(with_root);
  return torch_sweep_api().make_runner(recipe, data, ro, device);
}

cluster::FarmOptions farm_options(const cluster::GoMessage& go) {
  cluster::FarmOptions f = go.farm_options();
  f.log = &std::cerr;
  return f;
}

int run_worker(cluster::Comm& comm) {
  const cluster::GoMessage go = cluster::wait_for_go(comm);
  // No-go: rank 0 prints why and exits with the status. A worker exits 0, for
  // mpirun stops the whole job at the first non-zero exit, which could kill
  // rank 0 before its message is out.
  if (!go.go) return kExitOk;
  const bool with_root = go.host == cluster::host_name();
  const int threads = go.threads > 0
                          ? go.threads
                          : cluster::default_threads(cluster::local_size() - (with_root ? 1 : 0));
  try {
    return cluster::work(
        comm,
        [&] { return make_runner(go.runner, go.recipe, go.data, threads, go.device, with_root); },
        go.recipe, farm_options(go));
  } catch (const std::exception& e) {
    // Rank 0 would wait for this rank forever (and MPI_Finalize with it).
    std::cerr << "nds sweep: rank " << comm.rank() << ": " << e.what() << '\n';
    comm.abort(kExitFailure);
  }
  return kExitFailure;  // not reached: abort() ends the job
}

// After the farm: the summary, and the exit status that says how it ended.
int finish_run(cluster::Comm& comm, const Plan& plan, const Opened& opened,
               const cluster::FarmReport& report) {
  store::Store& store = *opened.store;
  if (!report.store_error.empty()) {
    std::cerr << "nds sweep: stopped: " << report.store_error << "\n"
              << "nds sweep: results committed before are kept; once " << plan.db
              << " can be written again, run the same command to resume\n";
    return kExitStoreFailed;
  }
  const store::StateCounts after = store.counts(opened.sweep_id);
  if (!report.interrupted && after.waiting == 0 && after.running == 0)
    store.finish_sweep(opened.sweep_id);
  store.flush();
  std::cout << "sweep " << plan.name << ": " << after.complete << " COMPLETE, " << after.failed
            << " FAILED, " << after.diverged << " DIVERGED, " << after.waiting + after.running
            << " to do, of " << after.total()
            << " (this run: " << report.complete + report.failed + report.diverged
            << " finished in " << static_cast<int64_t>(report.wall_s + 0.5) << " s)\n"
            << std::flush;
  const int trainers = std::max(1, comm.size() - 1);
  if (!plan.quiet && report.wall_s > 0 && report.dispatched > 0) {
    char line[160];
    std::snprintf(line, sizeof line, "nds sweep: %d training rank(s) busy %.1f%% of %.1f s\n",
                  trainers, 100.0 * report.busy_s / (report.wall_s * trainers), report.wall_s);
    std::cerr << line;
  }
  for (const std::string& why : report.unable)
    std::cerr << "nds sweep: warning: " << why << " (it trained nothing)\n";
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
    // MPI_Finalize would wait for the lost rank forever; the store commits
    // first, as this process ends here too.
    opened.store->flush();
    comm.abort(kExitLostWorker);
  }
  return kExitOk;
}

cluster::GoMessage no_go(int code) {
  cluster::GoMessage m;
  m.code = code;
  return m;
}

void send_all(cluster::Comm& comm, const cluster::GoMessage& msg) {
  cluster::send_go(comm, msg);
}

}  // namespace

int run_sweep(const std::vector<std::string>& args) {
  cluster::install_stop_signals();
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG and the
  // sweep stops cleanly, instead of dying of SIGXFSZ in the middle of a commit.
  std::signal(SIGXFSZ, SIG_IGN);
  cluster::Session session;
  cluster::Comm& comm = session.world();
  if (comm.rank() != 0) return run_worker(comm);

  // Rank 0 checks everything and tells the workers go or no-go, so a bad
  // command prints one message and every rank exits.
  Plan plan;
  Opened opened;
  std::unique_ptr<cluster::TrialRunner> runner;
  try {
    plan = parse(args);
    if (plan.help) {
      send_all(comm, no_go(kExitOk));
      return kExitOk;
    }
    const int threads = plan.threads > 0 ? plan.threads : cluster::default_threads(1);
    // Serial: load the data before touching the database.
    if (comm.size() == 1)
      runner = make_runner(plan.runner, plan.recipe, plan.data, threads, plan.device, false);
    opened = open_sweep(plan, comm.size());
  } catch (const std::invalid_argument&) {
    send_all(comm, no_go(kExitUsage));
    throw;
  } catch (const po::error&) {
    send_all(comm, no_go(kExitUsage));
    throw;
  } catch (...) {
    send_all(comm, no_go(kExitFailure));
    throw;
  }

  cluster::GoMessage go;
  go.go = true;
  go.recipe = plan.recipe;
  go.runner = plan.runner;
  go.threads = plan.threads;
  go.device = plan.device;
  go.data = plan.data;
  go.host = cluster::host_name();
  go.quiet = plan.quiet;
  go.total = opened.total;
  go.max_attempts = plan.max_retries > 0 ? plan.max_retries + 1 : 0;
  go.heartbeat_timeout_s = plan.heartbeat_timeout_s;
  send_all(comm, go);
  store::Store& store = *opened.store;
  const store::StateCounts before = store.counts(opened.sweep_id);
  if (!plan.quiet)
    std::cerr << "nds sweep: '" << plan.name << "' in " << plan.db << ": "
              << (opened.grown_from > 0 ? "grown from " + std::to_string(opened.grown_from) +
                                              " to " + std::to_string(plan.n) + " samples, "
                  : opened.resumed ? "resuming, "
                                   : "new, ")
              << before.complete << " of " << opened.total << " complete"
              << (opened.requeued ? ", " + std::to_string(opened.requeued) + " requeued" : "")
              << "; "
              << (comm.size() > 1 ? std::to_string(comm.size() - 1) + " worker rank(s)"
                                  : std::string("1 process"))
              << '\n';

  cluster::FarmOptions farm = farm_options(go);
  farm.total = opened.total;
  cluster::FarmReport report;
  if (comm.size() == 1) {
    report = cluster::run_serial(store, opened.sweep_id, *runner, plan.recipe, farm);
  } else {
    try {
      report = cluster::serve(comm, store, opened.sweep_id, farm);
    } catch (const std::exception& e) {
      // The workers wait for rank 0: end the whole job, after committing
      // what was recorded.
      std::cerr << "nds sweep: " << e.what() << '\n';
      try {
        store.flush();
      } catch (const std::exception&) {
        // already reported the first error
      }
      comm.abort(kExitFailure);
    }
  }

  return finish_run(comm, plan, opened, report);
}

}  // namespace nds::cli
