// Report speed: the design-space report of a sweep of 100,000 COMPLETE
// trials (RegNetX-like models with synthetic errors and 5 epochs each, in a
// database written through the store), built (reports::build_report) and
// rendered as HTML and Markdown. Target from the issue: the HTML report in
// under 5 s. Prints the times, the output sizes and a PASS/FAIL line; always
// exits 0 (speed is reported, not enforced).
//
//   bench_report [TRIALS [PAGE.html]]   (default 100000; PAGE keeps the HTML)

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/report_data.h"
#include "store/reader.h"
#include "store/store.h"

namespace {

using nds::store::NewTrial;
using nds::store::TrialResult;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A 64-bit LCG step mapped to [0, 1).
double uniform(uint64_t& s) {
  s = s * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
}

// A RegNetX-like sample: parameters in pycls's CIFAR ranges, cost from a
// rough closed form (the report only reads the numbers), a short spec.
NewTrial make_trial(int64_t i, uint64_t& rng) {
  NewTrial t;
  const int depth = 6 + static_cast<int>(uniform(rng) * 11);
  const int w_0 = 8 * (1 + static_cast<int>(uniform(rng) * 32));
  const double w_a = std::round((8 + uniform(rng) * 248) * 100) / 100;
  const double w_m = std::round((2 + uniform(rng)) * 1000) / 1000;
  const int group_width = 1 << static_cast<int>(uniform(rng) * 6);
  char hash[24];
  std::snprintf(
      hash, sizeof hash, "%016llx",
      static_cast<unsigned long long>((static_cast<uint64_t>(i) + 1) * 0x9E3779B97F4A7C15ull));
  t.model.hash = hash;
  t.model.family = "regnet";
  t.model.family_params = {{"family", "regnet"},
                           {"depth", depth},
                           {"w_0", w_0},
                           {"w_a", w_a},
                           {"w_m", w_m},
                           {"group_width", group_width},
                           {"bottleneck_ratio", 1},
                           {"stem_type", "res_stem_cifar"},
                           {"stem_w", 16},
                           {"num_classes", 10}};
  t.model.spec = {{"family", "regnet"}, {"n", i}};
  const double width = w_0 + w_a * depth / 2;
  const auto params =
      static_cast<int64_t>(width * width * depth * 9 / std::max(1, group_width / 4));
  t.model.cost = {params, params * 64, static_cast<int64_t>(width * depth * 256)};
  t.seed = i;
  return t;
}

TrialResult make_result(const NewTrial& t, uint64_t& rng) {
  TrialResult r;
  const double gflops = static_cast<double>(t.model.cost.flops) / 1e9;
  r.top1_err = 6 + 4 / (1 + gflops) + 3 * uniform(rng) * uniform(rng);
  r.top5_err = r.top1_err / 5;
  r.best_top1_err = r.top1_err - 0.1;
  r.best_top5_err = r.top5_err;
  r.train_loss = 0.2;
  r.epochs_done = 5;
  r.train_seconds = 60;
  r.images_per_sec = 3000;
  for (int e = 1; e <= 5; ++e) {
    nds::store::EpochMetrics m;
    m.epoch = e;
    m.train_loss = 2.0 / e;
    m.train_top1_err = r.top1_err + 30.0 / e;
    m.train_top5_err = m.train_top1_err / 5;
    m.test_top1_err = r.top1_err + 25.0 * (5 - e) / (4.0 * e);
    m.test_top5_err = m.test_top1_err / 5;
    m.lr = 0.1 * (1 - e / 6.0);
    m.seconds = 12;
    r.epochs.push_back(m);
  }
  return r;
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

std::string megabytes(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 100000;
  if (n < 1) return 2;
  char tmpl[] = "/tmp/nds_report_bench_XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::string dir = tmpl;
  const std::string db = dir + "/sweeps.db";
  std::printf("report bench: a sweep of %lld COMPLETE trials (in %s)\n", static_cast<long long>(n),
              dir.c_str());

  // The database, through the writer's state machine (not timed).
  auto t0 = std::chrono::steady_clock::now();
  {
    nds::store::StoreOptions o;
    o.batch_ops = 20000;
    nds::store::Store s(db, o);
    uint64_t rng = 42;
    std::vector<NewTrial> trials;
    trials.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) trials.push_back(make_trial(i, rng));
    nds::store::SweepDef def;
    def.name = "regnet_x_100k";
    def.family = "regnet";
    def.space = {
        {"name", "regnet_x_cifar"},
        {"family", "regnet"},
        {"params",
         {{"depth", {{"dist", "int"}, {"rand", "uniform"}, {"low", 6}, {"high", 16}}},
          {"w_0", {{"dist", "int"}, {"rand", "log_uniform"}, {"low", 8}, {"high", 256}, {"q", 8}}},
          {"w_a",
           {{"dist", "float"}, {"rand", "log_uniform"}, {"low", 8}, {"high", 256}, {"q", 0.01}}},
          {"w_m", {{"dist", "float"}, {"rand", "uniform"}, {"low", 2}, {"high", 3}, {"q", 0.001}}},
          {"group_width", {{"dist", "int"}, {"rand", "power2"}, {"low", 1}, {"high", 32}}}}}};
    def.recipe = {{"epochs", 5}, {"data", "fashion-mnist"}};
    def.build = {"bench", "", "cpu", 1};
    const int64_t id = s.create_sweep(def, trials);
    for (int64_t i = 0; i < n; ++i) {
      const auto claimed = s.claim(id, {0, "bench", "cpu"});
      s.complete(claimed->trial_id, make_result(trials[static_cast<size_t>(i)], rng));
    }
    s.finish_sweep(id);
  }
  std::printf("  database written in %.1f s (not timed below)\n", seconds_since(t0));

  // What nds report does: open, build the document, render.
  t0 = std::chrono::steady_clock::now();
  const nds::store::Reader reader(db);
  const nlohmann::json doc = nds::reports::build_report(reader, "regnet_x_100k");
  const double build_s = seconds_since(t0);
  auto t1 = std::chrono::steady_clock::now();
  const std::string html = nds::reports::render_html(doc);
  const double html_s = seconds_since(t1);
  t1 = std::chrono::steady_clock::now();
  const std::string md = nds::reports::render_markdown(doc);
  const double md_s = seconds_since(t1);
  t1 = std::chrono::steady_clock::now();
  const std::string json = doc.dump(2);
  const double json_s = seconds_since(t1);

  const auto points = doc["scatter"]["points"].size();
  std::printf("  build_report:      %6.3f s  (scatter: %zu of %lld points kept)\n", build_s, points,
              static_cast<long long>(n));
  std::printf("  render_html:       %6.3f s  -> %s\n", html_s, megabytes(html.size()).c_str());
  std::printf("  render_markdown:   %6.3f s  -> %s\n", md_s, megabytes(md.size()).c_str());
  std::printf("  json dump:         %6.3f s  -> %s\n", json_s, megabytes(json.size()).c_str());
  size_t svgs = 0;
  for (size_t i = html.find("<svg "); i != std::string::npos; i = html.find("<svg ", i + 1)) ++svgs;
  std::printf("  the page: %zu plots, %zu design parameters, %zu best + %zu worst models\n", svgs,
              doc["parameters"].size(), doc["models"]["best"].size(),
              doc["models"]["worst"].size());
  if (argc > 2) {  // keep the page to look at
    if (FILE* f = std::fopen(argv[2], "wb")) {
      std::fwrite(html.data(), 1, html.size(), f);
      std::fclose(f);
    }
  }
  const double total = build_s + html_s;
  std::printf("%s  HTML report of %lld trials in %.2f s (target < 5 s, %.1fx headroom)\n",
              total < 5 ? "PASS" : "FAIL", static_cast<long long>(n), total, 5 / total);
  remove_dir(dir);
  return 0;
}
