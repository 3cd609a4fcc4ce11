// nds train: build a model in LibTorch, train it briefly on real data, report
// (and optionally export) the result.

#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/options.h"
#include "cli/torch_plugin.h"
#include "cli/train_options.h"
#include "space/complexity.h"
#include "space/family.h"
#include "space/transforms.h"
#include "space/zoo.h"
#include "trainer/builder.h"
#include "trainer/data.h"
#include "trainer/export.h"
#include "trainer/progress.h"
#include "trainer/train.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

constexpr const char* kUsage =
    "usage: nds train --model NAME|SPEC.json\n"
    "                 [--data fashion-mnist[:DIR]|cifar10:DIR|imagefolder:DIR|synthetic]\n"
    "                 [--epochs E] [--subset N] [--val N] [--batch-size B] [--lr LR] [--wd WD]\n"
    "                 [--threads T] [--seed S] [--resolution R] [--classes K] [--stem cifar]\n"
    "                 [--steps N] [--json] [--export FILE] [more options below]\n\n"
    "Builds the model in LibTorch from the same layer description that counts its\n"
    "params and flops, trains it with SGD (Nesterov momentum, weight decay, half-period\n"
    "cosine with linear warmup, random crop and flip) and evaluates top-1/top-5 error on\n"
    "the test set after every epoch. Input channels and classes follow the data\n"
    "(Fashion-MNIST: 1 channel, 28x28, read from Debian's dataset-fashion-mnist; an\n"
    "ImageNet-style folder DIR/train/<class>/*, DIR/val/<class>/*: RGB at --resolution,\n"
    "default 224, with pycls's ImageNet transforms, decoded by --loader-threads). A fixed\n"
    "point keeps its published architecture at any resolution; --stem cifar swaps its\n"
    "stem for a 3x3 stride-1 conv (no max pool), the usual small-image variant.\n\n"
    "Progress goes to stderr; --json prints one result object (what a sweep stores) on\n"
    "stdout. --export writes TorchScript: torch.jit.load(FILE) in Python gives the same\n"
    "logits for the same normalized input. A run whose loss turns NaN/inf stops, reports\n"
    "\"diverged\" and exits 1. Bad input exits 2 before training starts.\n\n";

bool looks_like_file(const std::string& arg) {
  return arg.find('/') != std::string::npos ||
         (arg.size() > 5 && arg.compare(arg.size() - 5, 5, ".json") == 0);
}

NetSpec load_model(const std::string& arg, const ExpandOptions& options) {
  if (!looks_like_file(arg)) return fixed_point(arg, options);
  const json j = read_json_file(arg);  // capped in size and depth
  try {
    if (j.is_object() && j.contains("blocks")) {
      NetSpec spec = net_spec_from_json(j);
      if (spec.in_channels != options.in_channels || spec.num_classes != options.num_classes)
        throw std::invalid_argument(
            "the expanded spec in '" + arg + "' takes " + std::to_string(spec.in_channels) +
            " channels and " + std::to_string(spec.num_classes) + " classes, the data has " +
            std::to_string(options.in_channels) + " and " + std::to_string(options.num_classes));
      return spec;
    }
    return expand_params(j, options);
  } catch (const json::exception& e) {
    throw std::invalid_argument("bad spec in '" + arg + "': " + e.what());
  }
}

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", v);
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string threads_text(int n) {
  return std::to_string(n) + (n == 1 ? " thread" : " threads");
}

// The folder of `path` must exist and be writable, so that a long run does
// not end in a failed export.
void check_writable(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (path.empty() || path.back() == '/')
    throw std::invalid_argument("--export needs a file name, got '" + path + "'");
  if (access(dir.c_str(), W_OK) != 0)
    throw std::invalid_argument("--export '" + path + "': folder '" + dir +
                                "' does not exist or is not writable");
}

void add_train_options(po::options_description& opts) {
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("model", po::value<std::string>(), "fixed point NAME or SPEC.json (family parameters or expanded spec)")
      ("data", po::value<std::string>()->default_value("fashion-mnist"),
       "fashion-mnist[:DIR] (default DIR /usr/share/datasets/fashion-mnist), cifar10:DIR, "
       "imagefolder:DIR, synthetic");
  add_training_options(opts);
  opts.add_options()
      ("threads", po::value<int64_t>(), "CPU threads (default: the cores available to this process)")
      ("loader-threads", po::value<int64_t>(),
       "imagefolder: decoding threads (default: the cores available to this process)")
      ("seed", po::value<uint64_t>(), "seed of weights, data order and augmentation (default 0)")
      ("resolution", po::value<int64_t>(), "input side; other than the data's own resizes the images")
      ("classes", po::value<int64_t>(), "classes (synthetic data; real data must match)")
      ("stem", po::value<std::string>(), "'cifar': 3x3 stride-1 conv stem, no max pool")
      ("steps", po::value<int64_t>(), "stop after N optimizer steps (benchmarks)")
      ("device", po::value<std::string>(), "auto (CUDA when available), cpu, cuda")
      ("json", "print one JSON result object on stdout")
      ("export", po::value<std::string>(), "write the trained network as TorchScript to FILE")
      ("quiet,q", "no progress on stderr");
  // clang-format on
}

// The one model argument, given as --model or positionally.
std::string model_argument(const po::variables_map& vm) {
  std::vector<std::string> models;
  if (vm.count("positional")) models = vm["positional"].as<std::vector<std::string>>();
  if (vm.count("model")) models.insert(models.begin(), vm["model"].as<std::string>());
  if (models.empty())
    throw std::invalid_argument("missing --model NAME|SPEC.json (see nds train --help)");
  if (models.size() != 1)
    throw std::invalid_argument("expected one model, got " + std::to_string(models.size()) + " ('" +
                                models[1] + "' is extra)");
  return models[0];
}

// The data as the options name it, before any file is read: its channels
// and classes shape the model.
struct DataPlan {
  trainer::DataSource source;
  trainer::DataOptions options;
  trainer::DataShape shape;
};

DataPlan data_plan(const po::variables_map& vm) {
  DataPlan p;
  p.source = trainer::parse_data_source(vm["data"].as<std::string>());
  p.options.resolution = static_cast<int>(positive_option(vm, "resolution"));
  p.options.classes = static_cast<int>(positive_option(vm, "classes"));
  read_data_options(vm, p.source, p.options);
  if (vm.count("seed")) p.options.seed = vm["seed"].as<uint64_t>();
  p.options.loader_threads = loader_threads_option(vm);
  p.shape = trainer::data_shape(p.source, p.options);
  if (p.options.classes > 0 && p.options.classes != p.shape.num_classes &&
      p.source.kind != trainer::DataSource::Kind::kImageFolder)
    throw std::invalid_argument(p.source.name() + " has " + std::to_string(p.shape.num_classes) +
                                " classes, not --classes " + std::to_string(p.options.classes));
  return p;
}

// The model at the data's shape, with the CIFAR stem when --stem asks.
NetSpec model_for(const po::variables_map& vm, const std::string& model,
                  const trainer::DataShape& shape) {
  ExpandOptions expand;
  expand.in_channels = shape.channels;
  expand.num_classes = shape.num_classes;
  NetSpec spec = load_model(model, expand);
  if (!vm.count("stem")) return spec;
  const std::string stem = vm["stem"].as<std::string>();
  if (stem != "cifar") throw std::invalid_argument("unknown --stem '" + stem + "' (cifar)");
  return with_cifar_stem(spec);
}

// The recipe and the machine's part of it (threads, device), validated.
trainer::TrainConfig train_config(const po::variables_map& vm, uint64_t seed) {
  trainer::TrainConfig cfg;
  read_train_config(vm, cfg);  // --layout included
  cfg.threads = static_cast<int>(positive_option(vm, "threads"));
  cfg.seed = seed;
  if (vm.count("device")) cfg.device = vm["device"].as<std::string>();
  cfg.validate();
  return cfg;
}

// --export's path, checked before training; empty without --export.
std::string export_path(const po::variables_map& vm) {
  if (!vm.count("export")) return {};
  const std::string path = vm["export"].as<std::string>();
  check_writable(path);
  return path;
}

// The dataset's files: a missing or malformed file is bad input too, as is
// a batch larger than the training split.
trainer::Dataset load_data(const DataPlan& plan, int batch_size) {
  trainer::Dataset data;
  try {
    data = trainer::load_dataset(plan.source, plan.options);
  } catch (const trainer::DataError& e) {
    throw std::invalid_argument(e.what());
  }
  if (batch_size > data.train_size())
    throw std::invalid_argument("--batch-size " + std::to_string(batch_size) +
                                " is more than the " + std::to_string(data.train_size()) +
                                " training images");
  return data;
}

// What trains on what, before the first step.
std::string run_banner(const std::string& model, const Complexity& cost, int resolution,
                       const trainer::Dataset& data, torch::Device device, int threads) {
  return "nds train: " + model + " (" + si(static_cast<double>(cost.params)) + " params, " +
         si(static_cast<double>(cost.flops)) + " flops at " + std::to_string(resolution) + "x" +
         std::to_string(resolution) + ") on " + data.name + " (" +
         std::to_string(data.train_size()) + " train, " + std::to_string(data.test_size()) +
         " test), " + device.str() + (device.is_cpu() ? ", " + threads_text(threads) : "");
}

void export_net(trainer::Net& net, const NetSpec& spec, int resolution,
                const trainer::Dataset& data, const std::string& path) {
  const json metadata = {{"model", spec.name},
                         {"spec", to_json(spec)},
                         {"resolution", resolution},
                         {"data", data.name},
                         {"mean", data.mean},
                         {"std", data.std},
                         {"input", "(x / 255 - mean) / std per channel, N x C x H x W float"}};
  trainer::export_torchscript(*net, path, metadata);
}

// The last epoch's errors (or the divergence) on one line.
void print_errors(const trainer::TrainResult& result) {
  const trainer::EpochMetrics* last = result.epochs.empty() ? nullptr : &result.epochs.back();
  if (result.diverged) {
    std::cout << "diverged (" << result.divergence << ")\n";
  } else if (last && last->test_top1_err >= 0) {
    std::cout << "test top-1 error " << percent(last->test_top1_err) << ", top-5 "
              << percent(last->test_top5_err);
    if (last->val_top1_err >= 0) std::cout << "; val top-1 " << percent(last->val_top1_err);
    std::cout << "; train loss " << fixed(last->train_loss, 4) << '\n';
  } else {
    std::cout << "no evaluation\n";
  }
}

// The human-readable result: errors, speed, the image pipeline's counts.
void print_summary(const std::string& model, const trainer::Dataset& data, torch::Device device,
                   const trainer::TrainResult& result) {
  std::cout << model << " on " << data.name << ": ";
  print_errors(result);
  std::cout << result.steps << " steps in " << fixed(result.train_seconds, 1) << " s ("
            << fixed(result.images_per_s, 0) << " img/s), " << fixed(result.total_seconds, 1)
            << " s in all, on " << result.device
            << (device.is_cpu() ? " with " + threads_text(result.threads) : "") << '\n';
  if (data.folder)
    std::cout << "data: " << result.decoded_images << " images decoded, waited "
              << fixed(result.data_wait_seconds, 1) << " s for batches"
              << (result.skipped_images > 0
                      ? ", " + std::to_string(result.skipped_images) + " unreadable images replaced"
                      : std::string())
              << '\n';
}

}  // namespace

int train_command(const std::vector<std::string>& args) {
  po::options_description opts("options");
  add_train_options(opts);
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm, "positional")) return kExitOk;
  const std::string model = model_argument(vm);
  const DataPlan plan = data_plan(vm);  // first: its channels and classes shape the model
  const NetSpec spec = model_for(vm, model, plan.shape);
  const int resolution = plan.options.resolution > 0 ? plan.options.resolution : plan.shape.side;
  const Complexity cost = complexity(spec, resolution);  // throws when the input does not fit
  const trainer::TrainConfig cfg = train_config(vm, plan.options.seed);
  const torch::Device device = trainer::resolve_device(cfg.device);
  const std::string export_to = export_path(vm);
  const trainer::Dataset data = load_data(plan, cfg.batch_size);

  const bool quiet = vm.count("quiet") > 0;
  trainer::Progress progress(std::cerr, trainer::Progress::stderr_is_terminal());
  const std::string model_name = spec.name.empty() ? spec.family : spec.name;
  if (!quiet)
    progress.message(run_banner(model_name, cost, resolution, data, device,
                                cfg.threads > 0 ? cfg.threads : trainer::available_cores()));
  trainer::Net net = trainer::build_net(spec, cfg.seed, cfg.init());
  trainer::TrainResult result;
  try {
    result = trainer::train(net, data, cfg, quiet ? nullptr : &progress);
  } catch (const trainer::DataError& e) {
    throw std::invalid_argument(e.what());  // an unreadable image is bad input
  }
  const bool exported = !export_to.empty() && !result.diverged;
  if (exported) export_net(net, spec, resolution, data, export_to);
  if (vm.count("json")) {
    std::cout << json_dump(trainer::run_record(spec, resolution, data, cfg, result)) << '\n';
  } else {
    print_summary(model_name, data, device, result);
    if (exported) std::cout << "exported to " << export_to << '\n';
  }
  return result.diverged ? kExitFailure : kExitOk;
}

}  // namespace nds::cli
