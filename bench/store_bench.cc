// Results database speed: trial results written with their per-epoch
// metrics through the writer's state machine, and `--best` over a
// 1,000,000-trial database. Targets from the issue: >= 50,000 trial rows/s
// and < 100 ms. Prints PASS/FAIL lines; always exits 0 (speed is reported,
// not enforced).
//
//   bench_store [TRIALS] [BIG_TRIALS]   (defaults 200000 and 1000000)

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/reader.h"
#include "store/store.h"

namespace {

using nds::store::EpochMetrics;
using nds::store::NewTrial;
using nds::store::Reader;
using nds::store::Store;
using nds::store::StoreOptions;
using nds::store::SweepDef;
using nds::store::TrialResult;

constexpr int kEpochs = 10;  // pycls's design-space sweeps train 10 epochs

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string hex16(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// A RegNet sample as the sampler would hand it over; the expanded spec is
// abbreviated (a real one is a few KB, which measures the disk, not the store).
std::vector<NewTrial> make_trials(int64_t n, uint64_t salt) {
  std::vector<NewTrial> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    NewTrial t;
    const uint64_t h = (static_cast<uint64_t>(i) + salt) * 0x9E3779B97F4A7C15ull;
    t.model.hash = hex16(h);
    t.model.family = "regnet";
    t.model.family_params = {
        {"family", "regnet"},  {"depth", 10 + i % 15}, {"w_0", 8 * (1 + i % 12)},
        {"w_a", 20.5 + i % 7}, {"w_m", 2.25},          {"group_width", 8}};
    t.model.spec = {{"family", "regnet"}, {"in_channels", 3}, {"num_classes", 10}, {"n", i}};
    t.model.cost = {1000000 + i, 200000000 + i, 3000000 + i};
    t.seed = i;
    out.push_back(std::move(t));
  }
  return out;
}

TrialResult make_result(int64_t i) {
  TrialResult r;
  const double x = static_cast<double>((i * 7919) % 10007) / 10007.0;
  r.top1_err = 20 + 30 * x;
  r.top5_err = 5 + 10 * x;
  r.best_top1_err = r.top1_err - 0.5;
  r.best_top5_err = r.top5_err - 0.2;
  r.train_loss = 1 + x;
  r.epochs_done = kEpochs;
  r.train_seconds = 300 + x;
  r.images_per_sec = 2000 + x;
  for (int e = 1; e <= kEpochs; ++e) {
    EpochMetrics m;
    m.epoch = e;
    m.train_loss = 2.5 - 0.1 * e + x;
    m.train_top1_err = 60 - e + x;
    m.train_top5_err = 30 - e + x;
    m.test_top1_err = 55 - e + x;
    m.test_top5_err = 25 - e + x;
    m.lr = 0.1 / e;
    m.seconds = 30 + x;
    r.epochs.push_back(m);
  }
  return r;
}

SweepDef make_sweep(const std::string& name) {
  SweepDef d;
  d.name = name;
  d.family = "regnet";
  d.space = {{"family", "regnet"}};
  d.recipe = {{"epochs", kEpochs}};
  d.build = {"bench", "", "cpu", 1};
  return d;
}

void verdict(bool pass, const std::string& what) {
  std::printf("%s  %s\n", pass ? "PASS" : "FAIL", what.c_str());
}

void remove_dir(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") std::remove((dir + "/" + n).c_str());
    }
    closedir(d);
  }
  rmdir(dir.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t trials = argc > 1 ? std::atoll(argv[1]) : 200000;
  const int64_t big = argc > 2 ? std::atoll(argv[2]) : 1000000;
  char tmpl[] = "/tmp/nds_store_bench_XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::string dir = tmpl;
  std::printf("store bench: %lld trials x %d epochs, then --best over %lld trials (in %s)\n",
              static_cast<long long>(trials), kEpochs, static_cast<long long>(big), dir.c_str());

  // 1. The sweep's trials as the cluster layer writes them.
  {
    StoreOptions o;
    o.batch_ops = 10000;
    Store s(dir + "/write.db", o);
    const auto sampled = make_trials(trials, 1);
    auto t0 = std::chrono::steady_clock::now();
    const int64_t id = s.create_sweep(make_sweep("bench"), sampled);
    const double create_s = seconds_since(t0);
    std::vector<TrialResult> results;
    results.reserve(static_cast<size_t>(trials));
    for (int64_t i = 0; i < trials; ++i) results.push_back(make_result(i));
    // Claims first (many workers hold trials at once), then the results: the
    // second phase is the "trial rows inserted with their metrics".
    std::vector<int64_t> ids;
    ids.reserve(static_cast<size_t>(trials));
    t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < trials; ++i)
      ids.push_back(s.claim(id, {i % 8, "bench", "cpu"})->trial_id);
    s.flush();
    const double claim_s = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const std::clock_t cpu0 = std::clock();
    for (int64_t i = 0; i < trials; ++i)
      s.complete(ids[static_cast<size_t>(i)], results[static_cast<size_t>(i)]);
    s.flush();
    const double results_s = seconds_since(t0);
    const double results_cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    const double rate = static_cast<double>(trials) / results_s;
    const auto per_s = [&](double secs) { return static_cast<double>(trials) / secs; };
    std::printf("  create_sweep (models + WAITING trials):  %6.2f s, %8.0f trials/s\n", create_s,
                per_s(create_s));
    std::printf("  claim:                                   %6.2f s, %8.0f trials/s\n", claim_s,
                per_s(claim_s));
    std::printf(
        "  complete with %d epochs each:            %6.2f s, %8.0f trials/s "
        "(%.0f metric rows/s)\n",
        kEpochs, results_s, rate, rate * kEpochs);
    std::printf("    (CPU time of that phase %.2f s: %.0f trials/s per busy core)\n", results_cpu_s,
                per_s(results_cpu_s));
    std::printf("  claim + complete:                                  %8.0f trials/s\n",
                per_s(claim_s + results_s));
    std::printf("  whole life (create + claim + complete):            %8.0f trials/s\n",
                per_s(create_s + claim_s + results_s));
    verdict(rate >= 50000,
            "trial results with metrics: " + std::to_string(static_cast<int64_t>(rate)) +
                " rows/s (target >= 50,000)");
  }

  // 2. --best over a large sweep, built in bulk (results set in one UPDATE).
  {
    const std::string path = dir + "/big.db";
    auto t0 = std::chrono::steady_clock::now();
    {
      StoreOptions o;
      o.batch_ops = 1 << 30;
      Store s(path, o);
      const int64_t id = s.create_sweep(make_sweep("big"), make_trials(big, 1ull << 40));
      s.db().exec("BEGIN");
      s.db()
          .prepare(
              "UPDATE trials SET state = 'COMPLETE', top1_err = 20 + ((id * 7919) % 100003) "
              "/ 3000.0, top5_err = 5.0, epochs_done = 10 WHERE sweep_id = ?1")
          .bind(1, id)
          .run();
      s.db().exec("COMMIT");
    }
    std::printf("  built a %lld-trial database in %.1f s\n", static_cast<long long>(big),
                seconds_since(t0));
    std::vector<double> times;
    for (int rep = 0; rep < 7; ++rep) {
      t0 = std::chrono::steady_clock::now();
      Reader r(path);
      const auto best = r.best("big", 10);
      times.push_back(seconds_since(t0));
      if (best.size() != 10) std::printf("  unexpected: %zu rows\n", best.size());
    }
    std::sort(times.begin(), times.end());
    const double median_ms = times[times.size() / 2] * 1e3;
    std::printf("  open + --best -k 10: median %.2f ms (min %.2f ms) over %zu runs\n", median_ms,
                times.front() * 1e3, times.size());
    verdict(median_ms < 100, "--best over " + std::to_string(big) +
                                 " trials: " + std::to_string(median_ms) + " ms (target < 100 ms)");
#ifdef NDS_BINARY
    // The same through the nds binary, process start included.
    times.clear();
    const std::string cmd = std::string(NDS_BINARY) + " query --db " + path +
                            " --best big -k 10 --format csv > /dev/null";
    for (int rep = 0; rep < 5; ++rep) {
      t0 = std::chrono::steady_clock::now();
      if (std::system(cmd.c_str()) != 0) std::printf("  nds query failed\n");
      times.push_back(seconds_since(t0));
    }
    std::sort(times.begin(), times.end());
    const double cli_ms = times[times.size() / 2] * 1e3;
    std::printf("  nds query --best (whole process): median %.2f ms\n", cli_ms);
    verdict(cli_ms < 100, "nds query --best over " + std::to_string(big) +
                              " trials: " + std::to_string(cli_ms) + " ms (target < 100 ms)");
#endif
  }
  remove_dir(dir);
  return 0;
}
