#include "cli/train_options.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace nds::cli {

namespace po = boost::program_options;

void add_training_options(po::options_description& opts) {
  // clang-format off
  opts.add_options()
      ("epochs", po::value<int64_t>(), "epochs (default 10)")
      ("subset", po::value<int64_t>(), "train on N images drawn from the training set")
      ("val", po::value<int64_t>(), "hold out N training images as a validation split")
      ("test-subset", po::value<int64_t>(), "evaluate on the first N test images")
      ("batch-size", po::value<int64_t>(), "batch size (default 128)")
      ("lr", po::value<double>(), "peak learning rate (default 0.1 * batch size / 128)")
      ("wd", po::value<double>(), "weight decay (default 5e-4)")
      ("momentum", po::value<double>(), "momentum (default 0.9)")
      ("no-nesterov", "plain momentum instead of Nesterov's")
      ("no-wd-bn-bias", "no weight decay on BN's gamma/beta and on biases")
      ("warmup", po::value<double>(), "linear warmup, in epochs (default 0.2)")
      ("label-smoothing", po::value<double>(), "label smoothing (default 0)")
      ("precise-bn", po::value<int64_t>(),
       "recompute BN statistics on N training images before each evaluation")
      ("no-augment", "no random crop or flip (imagefolder: train on the test transform)")
      ("crop-padding", po::value<int64_t>(),
       "random-crop padding in pixels (default: cifar10 4, others 0)")
      ("no-zero-init", "residual branches' final BN gamma starts at 1, not 0")
      ("layout", po::value<std::string>(),
       "activations: auto (nhwc on CPUs, nchw on GPUs), nchw, nhwc")
      ("synthetic-size", po::value<int64_t>(),
       "training images of the synthetic set (default 10000)")
      ("cache", po::value<std::string>(),
       "imagefolder: keep decoded images in memory, up to SIZE (512M, 8G; K/M/G/T are "
       "powers of 1024), for every epoch and later trial")
      ("skip-bad-images",
       "imagefolder: replace an unreadable image by another (seeded) one and count it, "
       "instead of stopping");
  // clang-format on
}

int64_t positive_option(const po::variables_map& vm, const char* key, int64_t max) {
  if (!vm.count(key)) return 0;
  const int64_t n = vm[key].as<int64_t>();
  if (n < 1 || n > max)
    throw std::invalid_argument(std::string("--") + key + " must be in [1, " +
                                std::to_string(max) + "], got " + std::to_string(n));
  return n;
}

int64_t parse_size(const std::string& text, const char* option) {
  const std::string bad = std::string(option) + " '" + text + "' is not a size (e.g. 512M, 8G)";
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument(bad);
  }
  const std::string unit = text.substr(used);
  double scale = 1;
  if (unit == "K" || unit == "k") scale = 1024.0;
  else if (unit == "M" || unit == "m") scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty()) throw std::invalid_argument(bad);
  const double bytes = v * scale;
  if (!std::isfinite(bytes) || bytes < 1 || bytes > 9.0e18) throw std::invalid_argument(bad);
  return static_cast<int64_t>(bytes);
}

int loader_threads_option(const po::variables_map& vm) {
  return static_cast<int>(positive_option(vm, "loader-threads", 1024));
}

void read_data_options(const po::variables_map& vm, const trainer::DataSource& source,
                       trainer::DataOptions& data) {
  if (vm.count("subset")) data.subset = positive_option(vm, "subset");
  if (vm.count("val")) {
    data.val = vm["val"].as<int64_t>();
    if (data.val < 0)
      throw std::invalid_argument("--val must be >= 0, got " + std::to_string(data.val));
  }
  if (vm.count("test-subset")) data.test_subset = positive_option(vm, "test-subset");
  if (vm.count("crop-padding")) {
    const int64_t p = vm["crop-padding"].as<int64_t>();
    if (p < 0 || p > 64)
      throw std::invalid_argument("--crop-padding must be in [0, 64], got " + std::to_string(p));
    data.crop_padding = static_cast<int>(p);
  }
  const bool folder = source.kind == trainer::DataSource::Kind::kImageFolder;
  if (vm.count("cache")) {
    if (!folder) throw std::invalid_argument("--cache applies to --data imagefolder:DIR only");
    data.cache_bytes = parse_size(vm["cache"].as<std::string>(), "--cache");
  }
  if (vm.count("skip-bad-images")) {
    if (!folder)
      throw std::invalid_argument("--skip-bad-images applies to --data imagefolder:DIR only");
    data.skip_bad_images = true;
  }
  if (vm.count("synthetic-size")) {
    if (source.kind != trainer::DataSource::Kind::kSynthetic)
      throw std::invalid_argument("--synthetic-size applies to --data synthetic only");
    data.synthetic_train = positive_option(vm, "synthetic-size");
    data.synthetic_test = std::max<int64_t>(1, data.synthetic_train / 5);
  }
}

void read_train_config(const po::variables_map& vm, trainer::TrainConfig& cfg) {
  // The parser accepts "inf" and "nan"; no training option means either, and
  // naming the flag here beats the trainer's message in its own terms.
  const auto real = [&](const char* key, double fallback) {
    if (!vm.count(key)) return fallback;
    const double v = vm[key].as<double>();
    if (!std::isfinite(v))
      throw std::invalid_argument(std::string("--") + key + " must be a finite number, got " +
                                  (std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"));
    return v;
  };
  if (vm.count("epochs")) cfg.epochs = static_cast<int>(positive_option(vm, "epochs"));
  if (vm.count("batch-size")) cfg.batch_size = static_cast<int>(positive_option(vm, "batch-size"));
  cfg.lr = real("lr", cfg.lr);
  if (vm.count("lr") && !(cfg.lr > 0))
    throw std::invalid_argument("--lr must be > 0, got " + std::to_string(cfg.lr));
  cfg.weight_decay = real("wd", cfg.weight_decay);
  cfg.momentum = real("momentum", cfg.momentum);
  if (vm.count("no-nesterov")) cfg.nesterov = false;
  if (vm.count("no-wd-bn-bias")) cfg.wd_bn_bias = false;
  cfg.warmup_epochs = real("warmup", cfg.warmup_epochs);
  cfg.label_smoothing = real("label-smoothing", cfg.label_smoothing);
  if (vm.count("precise-bn")) cfg.precise_bn = positive_option(vm, "precise-bn");
  if (vm.count("no-augment")) cfg.augment = false;
  if (vm.count("no-zero-init")) cfg.zero_init_final_gamma = false;
  if (vm.count("steps")) cfg.max_steps = positive_option(vm, "steps");
  if (vm.count("layout")) cfg.layout = vm["layout"].as<std::string>();
}

}  // namespace nds::cli
