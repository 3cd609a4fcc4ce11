// nds sweep's LibTorch side, in libnds_torch.so: the recipe from the
// training options, and the runner that trains one claimed trial after
// another on data loaded once.

#include <boost/program_options.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <torch/version.h>
#include <nlohmann/json.hpp>

#include "cli/torch_plugin.h"
#include "cli/train_options.h"
#include "space/net_spec.h"
#include "trainer/builder.h"
#include "trainer/data.h"
#include "trainer/train.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

po::options_description training_options() {
  po::options_description opts("training options (as nds train; they make the sweep's recipe)");
  // clang-format off
  opts.add_options()
      ("data", po::value<std::string>()->default_value("fashion-mnist"),
       "fashion-mnist[:DIR], cifar10:DIR, imagefolder:DIR, synthetic");
  add_training_options(opts);
  opts.add_options()
      ("stem", po::value<std::string>(),
       "'cifar': fixed points (--include) get a 3x3 stride-1 stem")
      ("steps", po::value<int64_t>(), "stop each trial after N optimizer steps");
  // clang-format on
  return opts;
}

json data_to_json(const trainer::DataSource& source, const trainer::DataOptions& o) {
  json j = {{"source", source.name()},
            {"resolution", o.resolution},
            {"classes", o.classes},
            {"synthetic_train", o.synthetic_train},
            {"synthetic_test", o.synthetic_test},
            {"subset", o.subset},
            {"val", o.val},
            {"test_subset", o.test_subset},
            {"crop_padding", o.crop_padding}};
  // Image folders only, so that the recipes of other sweeps stay as stored.
  if (source.kind == trainer::DataSource::Kind::kImageFolder) {
    j["dataset"] = source.dataset();
    j["cache_bytes"] = o.cache_bytes;  // the cache's reduced images change results slightly
    j["skip_bad_images"] = o.skip_bad_images;
  }
  return j;
}

trainer::DataOptions data_from_json(const json& j) {
  trainer::DataOptions o;
  o.resolution = j.at("resolution").get<int>();
  o.classes = j.at("classes").get<int>();
  o.synthetic_train = j.at("synthetic_train").get<int64_t>();
  o.synthetic_test = j.at("synthetic_test").get<int64_t>();
  o.subset = j.at("subset").get<int64_t>();
  o.val = j.at("val").get<int64_t>();
  o.test_subset = j.at("test_subset").get<int64_t>();
  o.crop_padding = j.at("crop_padding").get<int>();
  o.cache_bytes = j.value("cache_bytes", int64_t{0});
  o.skip_bad_images = j.value("skip_bad_images", false);
  return o;
}

json config_to_json(const trainer::TrainConfig& c) {
  json j = trainer::to_json(c);
  j.erase("seed");  // each trial's own, from the store
  return j;
}

// --data, or without it a base recipe's data (which --data must then be).
std::string data_text(const po::variables_map& vm, const json& base) {
  if (base.is_null() || !vm["data"].defaulted()) return vm["data"].as<std::string>();
  return base.at("data").at("source").get<std::string>();  // a folder: --data must say where
}

// Under a base recipe, the data must be the base's (the same source, the
// same image folder by name); only where it lives may differ.
void check_base_data(const json& d, const json& base, const std::string& text) {
  if (base.is_null()) return;
  const json& b = base.at("data");
  const auto name = [](const json& j) {
    return j.value("dataset", j.at("source").get<std::string>());
  };
  if (d.at("source") != b.at("source") || name(d) != name(b))
    throw std::invalid_argument("--data " + text + " is not the data of the --recipe-of sweep (" +
                                name(b) + ")");
}

SweepRecipe make_recipe(const std::vector<std::string>& args, int resolution, int num_classes,
                        const json& base) {
  po::options_description opts = training_options();
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  const std::string text = data_text(vm, base);
  const trainer::DataSource source = trainer::parse_data_source(text);
  trainer::DataOptions data =
      base.is_null() ? trainer::DataOptions{} : data_from_json(base.at("data"));
  read_data_options(vm, source, data);
  const bool synthetic = source.kind == trainer::DataSource::Kind::kSynthetic;
  // Synthetic data takes the space's classes; real data has its own.
  if (synthetic) data.classes = num_classes;
  const trainer::DataShape shape = trainer::data_shape(source, data);
  data.resolution = resolution == shape.side ? 0 : resolution;

  trainer::TrainConfig cfg =
      base.is_null() ? trainer::TrainConfig{} : trainer::train_config_from_json(base.at("train"));
  read_train_config(vm, cfg);
  cfg.validate();
  const int64_t train_images =
      synthetic ? (data.subset > 0 ? data.subset : data.synthetic_train) : data.subset;
  if (train_images > 0 && cfg.batch_size > train_images)
    throw std::invalid_argument("--batch-size " + std::to_string(cfg.batch_size) +
                                " is more than the " + std::to_string(train_images) +
                                " training images");
  std::string stem = base.is_null() ? "" : base.value("stem", "");
  if (vm.count("stem")) {
    stem = vm["stem"].as<std::string>();
    if (stem != "cifar") throw std::invalid_argument("unknown --stem '" + stem + "' (cifar)");
  }

  json d = data_to_json(source, data);
  d["channels"] = shape.channels;
  d["classes_of_data"] = shape.num_classes;
  d["side"] = resolution;
  check_base_data(d, base, text);
  SweepRecipe r;
  r.recipe = {{"train", config_to_json(cfg)}, {"data", std::move(d)}, {"stem", stem}};
  r.data = text;
  r.torch_version = TORCH_VERSION;
  r.device = torch::cuda::is_available() ? "cuda" : "cpu";
  return r;
}

double or_nan(double v) {
  return v >= 0 ? v : kNaN;
}

store::EpochMetrics to_store(const trainer::EpochMetrics& m) {
  store::EpochMetrics e;
  e.epoch = m.epoch;
  e.train_loss = m.train_loss;
  e.train_top1_err = m.train_top1_err;
  e.train_top5_err = m.train_top5_err;
  e.test_top1_err = or_nan(m.test_top1_err);
  e.test_top5_err = or_nan(m.test_top5_err);
  e.lr = m.lr;
  e.seconds = m.train_seconds + m.eval_seconds;
  return e;
}

store::TrialResult to_store(const trainer::TrainResult& r) {
  store::TrialResult out;
  out.top1_err = out.top5_err = out.best_top1_err = out.best_top5_err = out.train_loss = kNaN;
  for (const trainer::EpochMetrics& m : r.epochs) {
    const store::EpochMetrics e = to_store(m);
    out.epochs.push_back(e);
    out.top1_err = e.test_top1_err;
    out.top5_err = e.test_top5_err;
    out.train_loss = e.train_loss;
    if (std::isfinite(e.test_top1_err) &&
        !(std::isfinite(out.best_top1_err) && out.best_top1_err <= e.test_top1_err)) {
      out.best_top1_err = e.test_top1_err;
      out.best_top5_err = e.test_top5_err;
    }
  }
  out.epochs_done = static_cast<int64_t>(r.epochs.size());
  out.train_seconds = r.total_seconds;
  out.images_per_sec = r.images_per_s;
  out.data_seconds = r.data_wait_seconds;
  out.skipped_images = r.skipped_images;
  out.decoded_images = r.decoded_images;
  return out;
}

class TorchRunner : public cluster::TrialRunner {
 public:
  TorchRunner(const json& recipe, const std::string& data_text,
              const cluster::RunnerOptions& options, const std::string& device)
      : config_(trainer::train_config_from_json(recipe.at("train"))) {
    const json& d = recipe.at("data");
    const trainer::DataSource source = trainer::parse_data_source(data_text);
    if (source.name() != d.at("source").get<std::string>())
      throw std::invalid_argument("--data " + data_text + " is not the recipe's " +
                                  d.at("source").get<std::string>());
    trainer::DataOptions data = data_from_json(d);
    data.seed = d.value("seed", uint64_t{0});  // the sweep's seed: same data on every rank
    data.loader_threads = options.threads;     // a GPU worker's cores decode its images
    config_.threads = options.threads;
    config_.device = device;
    config_.device_slot = options.device_slot;
    config_.validate();
    device_ = trainer::resolve_device(device, options.device_slot);
    data_ = trainer::load_dataset(source, data);
    data_.to_device(device_);  // once for every trial this worker trains
  }

  cluster::TrialOutcome run(const store::ClaimedTrial& trial, const json&,
                            cluster::TrialEvents& events) override {
    const NetSpec spec = net_spec_from_json(json::parse(trial.spec_json));
    if (spec.in_channels != data_.channels || spec.num_classes != data_.num_classes)
      throw std::invalid_argument("the model takes " + std::to_string(spec.in_channels) +
                                  " channels and " + std::to_string(spec.num_classes) +
                                  " classes, the data has " + std::to_string(data_.channels) +
                                  " and " + std::to_string(data_.num_classes));
    trainer::TrainConfig cfg = config_;
    cfg.seed = static_cast<uint64_t>(trial.seed);
    // The farm rate-limits heartbeats and makes stop_requested() cheap
    // enough for every step; each finished epoch goes out as it ends.
    trainer::TrainHooks hooks;
    hooks.on_step = [&events](int64_t) {
      events.heartbeat();
      return events.stop_requested();
    };
    hooks.on_epoch = [&events](const trainer::EpochMetrics& m) { events.epoch(to_store(m)); };
    trainer::Net net = trainer::build_net(spec, cfg.seed, cfg.init());
    const trainer::TrainResult r = trainer::train(net, data_, cfg, nullptr, hooks);
    cluster::TrialOutcome outcome;
    if (r.stopped) {
      outcome.status = cluster::TrialStatus::kInterrupted;
      return outcome;
    }
    outcome.result = to_store(r);
    if (r.diverged) {
      outcome.status = cluster::TrialStatus::kDiverged;
      outcome.error = r.divergence;
    } else if (!std::isfinite(outcome.result.top1_err)) {
      outcome.status = cluster::TrialStatus::kFailed;
      outcome.error = "no test error after training";
    }
    return outcome;
  }

  std::string device() const override { return device_.str(); }

 private:
  trainer::TrainConfig config_;
  torch::Device device_{torch::kCPU};
  trainer::Dataset data_;
};

std::unique_ptr<cluster::TrialRunner> make_runner(const json& recipe, const std::string& data,
                                                  const cluster::RunnerOptions& options,
                                                  const std::string& device) {
  return std::make_unique<TorchRunner>(recipe, data, options, device);
}

const char* options_help() {
  static const std::string text = [] {
    std::ostringstream s;
    s << training_options();
    return s.str();
  }();
  return text.c_str();
}

const TorchSweepApi kApi = {make_recipe, make_runner, options_help};

}  // namespace
}  // namespace nds::cli

extern "C" __attribute__((visibility("default"))) const nds::cli::TorchSweepApi*
nds_torch_sweep_api() {
  return &nds::cli::kApi;
}
