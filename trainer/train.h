#pragma once
// Brief training of one network: the recipe of pycls's design-space runs
// (SGD with Nesterov momentum, half-period cosine with linear warmup, random
// crop and flip) as one native loop on the CPU or a CUDA device.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "trainer/augment.h"
#include "trainer/builder.h"
#include "trainer/data.h"

namespace nds::trainer {

class Progress;

// The recipe. Defaults are pycls's CIFAR settings, with the warmup that lets
// a one-epoch run start at the full learning rate.
struct TrainConfig {
  int epochs = 10;
  int batch_size = 128;
  double lr = 0;  // peak learning rate; 0 = 0.1 * batch_size / 128
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;
  bool wd_bn_bias = true;      // false: no weight decay on BN's gamma/beta and biases
  double warmup_epochs = 0.2;  // linear warmup from warmup_factor * lr, in (fractional) epochs
  double warmup_factor = 0.1;
  double label_smoothing = 0;
  bool augment = true;                // random crop (and flip where the data allows)
  bool zero_init_final_gamma = true;  // each residual block starts as its shortcut (InitOptions)
  int64_t precise_bn = 0;  // images for precise BN statistics before each evaluation; 0 = off
  int64_t max_steps = 0;   // stop after this many optimizer steps; 0 = all epochs
  int eval_batch_size = 256;
  int threads = 0;              // CPU threads; 0 = the cores this process may run on
  std::string device = "auto";  // auto (CUDA when available), cpu, cuda
  int device_slot = 0;          // which CUDA device: slot % count (the caller's placement)
  std::string layout = "auto";  // activations: auto (nhwc on CPUs, nchw on GPUs), nchw, nhwc
  uint64_t seed = 0;            // weights, data order, augmentation

  double peak_lr() const { return lr > 0 ? lr : 0.1 * batch_size / 128.0; }
  InitOptions init() const { return {zero_init_final_gamma}; }
  // NHWC (channels-last) is oneDNN's native layout: on CPUs it convolves
  // without reordering every activation (1.4-2x the images/s of NCHW).
  bool channels_last(torch::Device on) const {
    return layout == "nhwc" || (layout == "auto" && on.is_cpu());
  }
  // Throws std::invalid_argument naming the bad field.
  void validate() const;
};

// The recipe's JSON (what a sweep stores and sends to its workers), written
// and read here only, so an option added to TrainConfig is added to both.
// The seed is optional on reading (a sweep gives each trial its own);
// threads, device and device slot are the machine's, not the recipe's.
nlohmann::json to_json(const TrainConfig& c);
TrainConfig train_config_from_json(const nlohmann::json& j);

struct EpochMetrics {
  int epoch = 0;              // 1-based
  int64_t steps = 0;          // optimizer steps in this epoch
  double lr = 0;              // at the epoch's last step
  double train_loss = 0;      // mean over the epoch's batches
  double train_top1_err = 0;  // percent, on the augmented training batches
  double train_top5_err = 0;
  double val_top1_err = -1;  // percent; -1 without a validation split
  double val_top5_err = -1;
  double test_top1_err = -1;
  double test_top5_err = -1;
  double train_seconds = 0;
  double eval_seconds = 0;
  double images_per_s = 0;  // training images per second
};

nlohmann::json to_json(const EpochMetrics& m);

struct TrainResult {
  std::vector<EpochMetrics> epochs;
  int64_t steps = 0;
  double train_seconds = 0;  // optimizer steps only
  double total_seconds = 0;  // with evaluation and precise BN
  double images_per_s = 0;   // over all training steps
  bool diverged = false;     // the loss became NaN or infinite: training stopped there
  std::string divergence;    // where, e.g. "loss nan at epoch 1, step 37"
  bool stopped = false;      // TrainHooks::on_step asked to stop: epochs holds those finished
  int threads = 0;
  std::string device;
  std::string layout;            // "nhwc" or "nchw", as run
  double data_wait_seconds = 0;  // the steps and evaluations waited for image batches
  int64_t skipped_images = 0;    // unreadable images replaced (--skip-bad-images)
  int64_t decoded_images = 0;    // images read from their files (the rest came from the cache)
};

// Calls out of train(), on the calling thread, for whoever runs it (a sweep
// worker sends heartbeats and per-epoch metrics, and notices a stop). Either
// may be empty. Neither touches the model or the random streams, so a run with
// hooks trains exactly as one without.
struct TrainHooks {
  // After every optimizer step, with the steps done so far in the run; keep
  // it cheap (it runs every step; rate-limit there). Returning true stops
  // training at once: the unfinished epoch is neither evaluated nor kept,
  // and the result says `stopped`.
  std::function<bool(int64_t step)> on_step;
  // After each epoch that goes into TrainResult::epochs (the last one of a
  // diverged run included), with the same metrics.
  std::function<void(const EpochMetrics&)> on_epoch;
};

// Which device "auto", "cpu" or "cuda" means here: CUDA device
// slot % count when CUDA is available. The slot is the process's place among
// the node's trainers, which its launcher knows (a sweep: cluster::
// device_slot()); several slots share a device when there are more. Throws
// std::invalid_argument for other names, a negative slot, or "cuda" without
// CUDA.
torch::Device resolve_device(const std::string& name, int slot = 0);

// The CPUs this process may run on (sched_getaffinity), at least 1.
int available_cores();

// Trains `net` in place on data.train; evaluates on data.val (when present)
// and data.test after every epoch. A loss that turns NaN or infinite stops
// training and is reported in the result, not thrown. `progress` may be null.
// Sets the process's torch threads and makes glibc's malloc keep freed
// memory for reuse, process-wide (the steps reuse the same buffers).
TrainResult train(Net& net, const Dataset& data, const TrainConfig& config,
                  Progress* progress = nullptr, const TrainHooks& hooks = TrainHooks());

// The record of one run, as `nds train --json` prints it and a sweep stores
// it: model, complexity, data, recipe, per-epoch metrics and final errors.
nlohmann::json run_record(const NetSpec& spec, int resolution, const Dataset& data,
                          const TrainConfig& config, const TrainResult& result);

}  // namespace nds::trainer
