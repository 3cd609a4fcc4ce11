// nds data: an image folder checked file by file (nds data check), and its
// training pipeline measured alone, without a model (nds data bench).

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/options.h"
#include "cli/torch_plugin.h"
#include "cli/train_options.h"
#include "trainer/data.h"
#include "trainer/feed.h"
#include "trainer/image_check.h"
#include "trainer/random.h"
#include "trainer/train.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: nds data check --data imagefolder:DIR [--threads T] [--json]\n"
    "       nds data bench --data imagefolder:DIR [--resolution R] [--batch-size B]\n"
    "                      [--threads T] [--batches N] [--epochs E] [--cache SIZE]\n"
    "                      [--no-augment] [--decode-only] [--json]\n\n"
    "check: indexes DIR/train and DIR/val (one folder per class), decodes every image\n"
    "with T threads and prints per split the images, classes, images per class,\n"
    "image sides (min/median/max) and every unreadable file with its reason. Exits 0\n"
    "when every file is readable, 2 otherwise.\n\n"
    "bench: the training pipeline alone, no model: decoding, pycls's ImageNet train\n"
    "transform into uint8 batches and their normalization, with T loader threads, for\n"
    "E epochs of the training images (or N batches each); prints images/s, to size\n"
    "loader threads per GPU. --decode-only: full-size decodes and nothing else (the\n"
    "ceiling). --cache: decoded images kept in memory, so later epochs skip decoding.\n\n";

trainer::DataSource folder_source(const po::variables_map& vm) {
  if (!vm.count("data")) throw std::invalid_argument("missing --data imagefolder:DIR");
  const trainer::DataSource s = trainer::parse_data_source(vm["data"].as<std::string>());
  if (s.kind != trainer::DataSource::Kind::kImageFolder)
    throw std::invalid_argument("nds data works on --data imagefolder:DIR, not '" +
                                vm["data"].as<std::string>() + "'");
  return s;
}

int threads_of(const po::variables_map& vm) {
  const int t = static_cast<int>(positive_option(vm, "threads", 1024));
  return t > 0 ? t : trainer::available_cores();
}

json check_json(const trainer::SplitCheck& c) {
  json bad = json::array();
  for (const auto& b : c.unreadable) bad.push_back({{"file", b.file}, {"reason", b.reason}});
  const auto sides = [](const trainer::SideStats& s) {
    return json{{"min", s.min}, {"median", s.median}, {"max", s.max}};
  };
  return {{"images", c.images},
          {"classes", c.classes},
          {"min_per_class", c.min_per_class},
          {"max_per_class", c.max_per_class},
          {"width", sides(c.width)},
          {"height", sides(c.height)},
          {"unreadable", bad},
          {"seconds", c.seconds}};
}

void print_check(const std::string& split, const trainer::SplitCheck& c) {
  std::printf(
      "%s: %lld images, %d classes (%lld-%lld per class), width %d/%d/%d, height "
      "%d/%d/%d (min/median/max), %zu unreadable, %.1f s\n",
      split.c_str(), static_cast<long long>(c.images), c.classes,
      static_cast<long long>(c.min_per_class), static_cast<long long>(c.max_per_class), c.width.min,
      c.width.median, c.width.max, c.height.min, c.height.median, c.height.max, c.unreadable.size(),
      c.seconds);
  for (const auto& b : c.unreadable)
    std::printf("  unreadable: %s: %s\n", b.file.c_str(), b.reason.c_str());
}

int check(const std::vector<std::string>& args) {
  po::options_description opts("nds data check options");
  opts.add_options()("help,h", "show this help")("data", po::value<std::string>(),
                                                 "imagefolder:DIR")(
      "threads", po::value<int64_t>(), "decoding threads (default: the cores available)")(
      "json", "print one JSON object");
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm)) return kExitOk;
  const trainer::DataSource source = folder_source(vm);
  trainer::ImageFolder folder;
  try {
    folder = trainer::index_image_folder(source.dir);
  } catch (const trainer::DataError& e) {
    throw std::invalid_argument(e.what());
  }
  const int threads = threads_of(vm);
  const auto k = static_cast<int>(folder.classes.size());
  const trainer::SplitCheck train = trainer::check_images(folder.train, k, threads);
  const trainer::SplitCheck val = trainer::check_images(folder.val, k, threads);
  const bool ok = train.unreadable.empty() && val.unreadable.empty();
  if (vm.count("json")) {
    std::cout << json_dump(json{{"root", source.dir},
                                {"classes", k},
                                {"ok", ok},
                                {"train", check_json(train)},
                                {"val", check_json(val)}})
              << '\n';
  } else {
    std::printf("%s: %d classes\n", source.dir.c_str(), k);
    print_check("train", train);
    print_check("val", val);
  }
  return ok ? kExitOk : kExitUsage;
}

struct BenchPlan {
  trainer::DataSource source;
  trainer::DataOptions data;
  int64_t batch = 128;
  int64_t batches = 0;  // per epoch; 0 = all
  int epochs = 1;
  bool augment = true;
  bool decode_only = false;
};

BenchPlan bench_plan(const po::variables_map& vm) {
  BenchPlan p;
  p.source = folder_source(vm);
  p.data.resolution = static_cast<int>(positive_option(vm, "resolution", 4096));
  p.data.loader_threads = threads_of(vm);
  if (vm.count("cache")) p.data.cache_bytes = parse_size(vm["cache"].as<std::string>(), "--cache");
  if (vm.count("batch-size")) p.batch = positive_option(vm, "batch-size", 65536);
  p.batches = positive_option(vm, "batches");
  if (vm.count("epochs")) p.epochs = static_cast<int>(positive_option(vm, "epochs", 1000));
  p.augment = !vm.count("no-augment");
  p.decode_only = vm.count("decode-only") > 0;
  return p;
}

json epoch_json(int epoch, int64_t images, double seconds) {
  return {{"epoch", epoch},
          {"images", images},
          {"seconds", seconds},
          {"images_per_s", seconds > 0 ? static_cast<double>(images) / seconds : 0.0}};
}

// Epochs of the training pipeline as a trainer's step loop sees it.
json run_pipeline(const BenchPlan& p, const trainer::Dataset& data) {
  trainer::FeedOptions o;
  o.channels_last = true;
  o.max_batch = p.batch;
  trainer::Feeds feeds = trainer::make_feeds(data, o);
  trainer::Rng order_rng(0);
  json epochs = json::array();
  for (int e = 1; e <= p.epochs; ++e) {
    const Clock::time_point start = Clock::now();
    feeds.train->start(trainer::permutation(feeds.train->size(), order_rng), e, p.augment, p.batch,
                       true);
    int64_t images = 0;
    torch::Tensor x, y;
    for (int64_t b = 0; (p.batches == 0 || b < p.batches) && feeds.train->next(x, y); ++b)
      images += x.size(0);
    epochs.push_back(
        epoch_json(e, images, std::chrono::duration<double>(Clock::now() - start).count()));
  }
  return epochs;
}

json run_decode_only(const BenchPlan& p, const trainer::Dataset& data) {
  json epochs = json::array();
  const int64_t limit = p.batches > 0 ? p.batches * p.batch : 0;
  for (int e = 1; e <= p.epochs; ++e) {
    const double seconds = trainer::decode_only(data.folder->train, limit, p.data.loader_threads);
    epochs.push_back(epoch_json(e, limit > 0 ? limit : data.folder->train.size(), seconds));
  }
  return epochs;
}

// The totals over the epochs, with the plan, as --json prints them.
json bench_summary(const BenchPlan& p, const trainer::Dataset& data, const json& epochs) {
  int64_t images = 0;
  double seconds = 0;
  for (const json& e : epochs) {
    images += e.at("images").get<int64_t>();
    seconds += e.at("seconds").get<double>();
  }
  return {{"data", data.name},
          {"mode", p.decode_only ? "decode-only" : "pipeline"},
          {"resolution", data.side},
          {"batch_size", p.batch},
          {"threads", p.data.loader_threads},
          {"cache_bytes", p.data.cache_bytes},
          {"images", images},
          {"seconds", seconds},
          {"images_per_s", seconds > 0 ? static_cast<double>(images) / seconds : 0.0},
          {"epochs", epochs}};
}

void print_bench(const BenchPlan& p, const trainer::Dataset& data, const json& epochs) {
  std::printf("nds data bench: %s, %s, R=%d, batch %lld, %d loader threads\n", data.name.c_str(),
              p.decode_only ? "decode only" : "pipeline", data.side,
              static_cast<long long>(p.batch), p.data.loader_threads);
  for (const json& e : epochs)
    std::printf("  epoch %d: %lld images in %.2f s, %.0f images/s\n", e.at("epoch").get<int>(),
                static_cast<long long>(e.at("images").get<int64_t>()),
                e.at("seconds").get<double>(), e.at("images_per_s").get<double>());
}

int bench(const std::vector<std::string>& args) {
  po::options_description opts("nds data bench options");
  opts.add_options()("help,h", "show this help")(
      "data", po::value<std::string>(), "imagefolder:DIR")("resolution", po::value<int64_t>(),
                                                           "output side R (default 224)")(
      "batch-size", po::value<int64_t>(), "images per batch (default 128)")(
      "threads", po::value<int64_t>(), "loader threads (default: the cores available)")(
      "batches", po::value<int64_t>(), "batches per epoch (default: all)")(
      "epochs", po::value<int64_t>(), "epochs (default 1)")("cache", po::value<std::string>(),
                                                            "decode-once cache SIZE (512M, 8G)")(
      "no-augment", "the test transform instead of the train transform")(
      "decode-only", "full-size decodes only: the ceiling")("json", "print one JSON object");
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm)) return kExitOk;
  const BenchPlan p = bench_plan(vm);
  torch::set_num_threads(1);  // normalization on this thread; decoding on the loader's
  trainer::Dataset data;
  try {
    data = trainer::load_dataset(p.source, p.data);
  } catch (const trainer::DataError& e) {
    throw std::invalid_argument(e.what());
  }
  if (!p.decode_only && p.batch > data.train_size())
    throw std::invalid_argument("--batch-size " + std::to_string(p.batch) + " is more than the " +
                                std::to_string(data.train_size()) + " training images");
  json epochs;
  try {
    epochs = p.decode_only ? run_decode_only(p, data) : run_pipeline(p, data);
  } catch (const trainer::DataError& e) {
    throw std::invalid_argument(e.what());
  }
  if (vm.count("json"))
    std::cout << json_dump(bench_summary(p, data, epochs)) << '\n';
  else
    print_bench(p, data, epochs);
  return kExitOk;
}

}  // namespace

int data_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "check") return check(rest);
  if (args[0] == "bench") return bench(rest);
  throw std::invalid_argument("unknown nds data command '" + args[0] + "' (check, bench)");
}

}  // namespace nds::cli
