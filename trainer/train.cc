#include "trainer/train.h"

#include <ATen/CPUGeneratorImpl.h>
#include <malloc.h>
#include <sched.h>
#include <torch/cuda.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "space/complexity.h"
#include "trainer/progress.h"
#include "trainer/random.h"
#include "trainer/sgd.h"

namespace nds::trainer {
namespace {

// Distinct streams from one seed: data order and augmentation draws do not
// shift when the model (and so the number of weights drawn) changes.
constexpr uint64_t kOrderSalt = 0x0dde0dde0dde0ddeULL;
constexpr uint64_t kAugmentSalt = 0xa06a06a06a06a06aULL;
constexpr double kPi = 3.14159265358979323846;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Half-period cosine from the peak over all steps, times a linear warmup
// from warmup_factor to 1 over the first warmup_steps (pycls's schedule,
// evaluated per step rather than per epoch).
double lr_at(int64_t step, int64_t total, int64_t warmup, const TrainConfig& c) {
  const double t = static_cast<double>(step) / static_cast<double>(std::max<int64_t>(total, 1));
  double lr = c.peak_lr() * 0.5 * (1.0 + std::cos(kPi * t));
  if (step < warmup) {
    const double alpha = static_cast<double>(step) / static_cast<double>(warmup);
    lr *= c.warmup_factor * (1.0 - alpha) + alpha;
  }
  return lr;
}

// Per-rank hit counts of a batch: element r counts the labels found at rank r
// of the top-k, so hits[0] is top-1 correct and the sum is top-k correct.
torch::Tensor rank_hits(const torch::Tensor& logits, const torch::Tensor& labels, int64_t k) {
  const torch::Tensor top = std::get<1>(logits.topk(k, 1));
  return top.eq(labels.unsqueeze(1)).sum(0);
}

struct Errors {
  double top1 = 0;
  double top5 = 0;
};

// Errors in percent from summed rank hits over n images.
Errors errors_from_hits(const torch::Tensor& hits, int64_t n) {
  const torch::Tensor h = hits.to(torch::kCPU, torch::kDouble);
  const double top1 = h[0].item<double>();
  const double topk = h.sum().item<double>();
  const double denom = static_cast<double>(std::max<int64_t>(n, 1));
  return {100.0 * (1.0 - top1 / denom), 100.0 * (1.0 - topk / denom)};
}

Errors evaluate_on_device(Net& net, const BatchMaker& maker, const torch::Tensor& labels,
                          int batch_size, int64_t k) {
  torch::NoGradGuard no_grad;
  net->eval();
  const int64_t n = labels.size(0);
  torch::Tensor hits = torch::zeros({k}, labels.options());
  for (int64_t i = 0; i < n; i += batch_size) {
    const int64_t m = std::min<int64_t>(batch_size, n - i);
    hits += rank_hits(net->forward(maker.range(i, m)), labels.narrow(0, i, m), k);
  }
  return errors_from_hits(hits, n);
}

// pycls's precise BN: running statistics replaced by the average of the
// batch statistics over `images` training images (in train mode, no grad).
void precise_bn(Net& net, const BatchMaker& maker, const torch::Tensor& order, int64_t images,
                int batch_size) {
  std::vector<torch::nn::BatchNorm2dImpl*> bns = net->batch_norms();
  if (bns.empty() || images <= 0) return;
  torch::NoGradGuard no_grad;
  const int64_t n = order.size(0);
  const int64_t b = std::min<int64_t>(batch_size, n);
  const int64_t iters = std::max<int64_t>(1, (images + b - 1) / b);
  std::vector<torch::Tensor> means, vars;
  std::vector<c10::optional<double>> momenta;
  for (auto* bn : bns) {
    means.push_back(torch::zeros_like(bn->running_mean));
    vars.push_back(torch::zeros_like(bn->running_var));
    momenta.push_back(bn->options.momentum());
    bn->options.momentum(1.0);  // running stats = this batch's stats
  }
  net->train();
  for (int64_t it = 0; it < iters; ++it) {
    const int64_t start = (it * b) % std::max<int64_t>(n - b + 1, 1);
    net->forward(maker.plain(order.narrow(0, start, b)));
    for (size_t k = 0; k < bns.size(); ++k) {
      means[k] += bns[k]->running_mean / static_cast<double>(iters);
      vars[k] += bns[k]->running_var / static_cast<double>(iters);
    }
  }
  for (size_t k = 0; k < bns.size(); ++k) {
    bns[k]->running_mean.copy_(means[k]);
    bns[k]->running_var.copy_(vars[k]);
    bns[k]->options.momentum(momenta[k]);
  }
}

// Weight decay groups: everything decays unless wd_bn_bias is off, in which
// case BN's gamma/beta and all biases do not.
std::vector<Sgd::Group> parameter_groups(Net& net, const TrainConfig& c) {
  std::unordered_set<const void*> exempt;
  if (!c.wd_bn_bias)
    for (const torch::Tensor& t : net->bn_and_bias_parameters())
      exempt.insert(t.unsafeGetTensorImpl());
  Sgd::Group decay{{}, c.weight_decay};
  Sgd::Group no_decay{{}, 0.0};
  for (const torch::Tensor& p : net->parameters())
    (exempt.count(p.unsafeGetTensorImpl()) ? no_decay : decay).params.push_back(p);
  return {decay, no_decay};
}

int local_rank() {
  for (const char* var : {"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_RANK",
                          "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    if (const char* v = std::getenv(var)) {
      char* end = nullptr;
      const long r = std::strtol(v, &end, 10);
      if (end != v && r >= 0) return static_cast<int>(r);
    }
  }
  return 0;
}

}  // namespace

void TrainConfig::validate() const {
  require(epochs >= 1, "epochs must be >= 1, got " + std::to_string(epochs));
  require(batch_size >= 1, "batch size must be >= 1, got " + std::to_string(batch_size));
  require(std::isfinite(lr) && lr >= 0, "learning rate must be >= 0 (0 = default), got " + num(lr));
  require(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got " + num(momentum));
  require(!nesterov || momentum > 0, "Nesterov momentum needs a momentum > 0");
  require(std::isfinite(weight_decay) && weight_decay >= 0,
          "weight decay must be >= 0, got " + num(weight_decay));
  require(warmup_epochs >= 0, "warmup epochs must be >= 0, got " + num(warmup_epochs));
  require(warmup_factor > 0 && warmup_factor <= 1,
          "warmup factor must be in (0, 1], got " + num(warmup_factor));
  require(label_smoothing >= 0 && label_smoothing < 1,
          "label smoothing must be in [0, 1), got " + num(label_smoothing));
  require(precise_bn >= 0, "precise BN images must be >= 0, got " + std::to_string(precise_bn));
  require(max_steps >= 0, "steps must be >= 0, got " + std::to_string(max_steps));
  require(eval_batch_size >= 1,
          "evaluation batch size must be >= 1, got " + std::to_string(eval_batch_size));
  require(threads >= 0, "threads must be >= 1 (0 = all cores), got " + std::to_string(threads));
  require(device == "auto" || device == "cpu" || device == "cuda",
          "unknown device '" + device + "' (auto, cpu, cuda)");
  require(layout == "auto" || layout == "nchw" || layout == "nhwc",
          "unknown layout '" + layout + "' (auto, nchw, nhwc)");
}

nlohmann::json to_json(const TrainConfig& c) {
  return {{"epochs", c.epochs},
          {"batch_size", c.batch_size},
          {"lr", c.peak_lr()},
          {"momentum", c.momentum},
          {"nesterov", c.nesterov},
          {"weight_decay", c.weight_decay},
          {"wd_bn_bias", c.wd_bn_bias},
          {"warmup_epochs", c.warmup_epochs},
          {"warmup_factor", c.warmup_factor},
          {"label_smoothing", c.label_smoothing},
          {"augment", c.augment},
          {"zero_init_final_gamma", c.zero_init_final_gamma},
          {"precise_bn", c.precise_bn},
          {"max_steps", c.max_steps},
          {"eval_batch_size", c.eval_batch_size},
          {"layout", c.layout},
          {"seed", c.seed}};
}

nlohmann::json to_json(const EpochMetrics& m) {
  nlohmann::json j = {{"epoch", m.epoch},
                      {"steps", m.steps},
                      {"lr", m.lr},
                      {"train_loss", m.train_loss},
                      {"train_top1_err", m.train_top1_err},
                      {"train_top5_err", m.train_top5_err},
                      {"train_seconds", m.train_seconds},
                      {"eval_seconds", m.eval_seconds},
                      {"images_per_s", m.images_per_s}};
  if (m.val_top1_err >= 0) {
    j["val_top1_err"] = m.val_top1_err;
    j["val_top5_err"] = m.val_top5_err;
  }
  if (m.test_top1_err >= 0) {
    j["test_top1_err"] = m.test_top1_err;
    j["test_top5_err"] = m.test_top5_err;
  }
  return j;
}

void reuse_freed_memory() {
#ifdef __GLIBC__
  static const bool done = [] {
    mallopt(M_ARENA_MAX, 2);                // threads share freed blocks
    mallopt(M_MMAP_THRESHOLD, 32 << 20);    // glibc's maximum; fixes the threshold
    mallopt(M_TRIM_THRESHOLD, 1 << 30);     // keep the heap top
    return true;
  }();
  (void)done;
#endif
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name != "auto" && name != "cuda")
    throw std::invalid_argument("unknown device '" + name + "' (auto, cpu, cuda)");
  if (torch::cuda::is_available()) {
    const auto count = static_cast<int>(torch::cuda::device_count());
    return {torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank() % count)};
  }
  if (name == "cuda")
    throw std::invalid_argument("--device cuda, but this LibTorch has no CUDA or sees no GPU");
  return torch::kCPU;
}

std::pair<double, double> evaluate(Net& net, const Split& split, const Normalization& norm,
                                   torch::Device device, int batch_size, bool channels_last) {
  const BatchMaker maker(split.images.to(device), norm, channels_last);
  const int64_t k = std::min<int64_t>(5, net->spec().num_classes);
  const Errors e = evaluate_on_device(net, maker, split.labels.to(device), batch_size, k);
  return {e.top1, e.top5};
}

TrainResult train(Net& net, const Dataset& data, const TrainConfig& config, Progress* progress,
                  const TrainHooks& hooks) {
  config.validate();
  reuse_freed_memory();
  const Clock::time_point run_start = Clock::now();
  TrainResult result;
  result.threads = config.threads > 0 ? config.threads : available_cores();
  torch::set_num_threads(result.threads);
  const torch::Device device = resolve_device(config.device);
  result.device = device.str();

  const int64_t n = data.train.size();
  const int64_t batch = config.batch_size;
  if (batch > n)
    throw std::invalid_argument("batch size " + std::to_string(batch) + " is more than the " +
                                std::to_string(n) + " training images");
  const int64_t steps_per_epoch = n / batch;  // the last partial batch is dropped, as pycls does
  const int64_t total_steps = steps_per_epoch * config.epochs;
  const int64_t warmup = std::min<int64_t>(
      total_steps, std::llround(config.warmup_epochs * static_cast<double>(steps_per_epoch)));
  const int64_t k = std::min<int64_t>(5, data.num_classes);

  torch::manual_seed(config.seed + 1);  // dropout masks
  net->to(device);
  const bool channels_last = config.channels_last(device);
  result.layout = channels_last ? "nhwc" : "nchw";
  if (channels_last) to_channels_last(*net);
  Sgd sgd(parameter_groups(net, config), config.momentum, config.nesterov);

  // The whole dataset goes to the device once; batches are gathered there.
  const Normalization norm{data.mean, data.std};
  BatchMaker train_maker(data.train.images.to(device), norm, channels_last);
  const torch::Tensor train_labels = data.train.labels.to(device);
  std::unique_ptr<BatchMaker> val_maker, test_maker;
  torch::Tensor val_labels, test_labels;
  if (data.val.size() > 0) {
    val_maker = std::make_unique<BatchMaker>(data.val.images.to(device), norm, channels_last);
    val_labels = data.val.labels.to(device);
  }
  if (data.test.size() > 0) {
    test_maker =
        std::make_unique<BatchMaker>(data.test.images.to(device), norm, channels_last);
    test_labels = data.test.labels.to(device);
  }
  const AugmentOptions aug{config.augment ? data.crop_padding : 0, config.augment && data.flip};
  at::Generator aug_gen = at::detail::createCPUGenerator(config.seed ^ kAugmentSalt);
  Rng order_rng(config.seed ^ kOrderSalt);
  torch::nn::functional::CrossEntropyFuncOptions loss_options;
  loss_options.label_smoothing(config.label_smoothing);

  int64_t step = 0;  // optimizer steps so far
  for (int epoch = 1; epoch <= config.epochs && !result.diverged; ++epoch) {
    const std::vector<int64_t> perm_host = permutation(n, order_rng);
    const torch::Tensor order = torch::tensor(perm_host, torch::kInt64).to(device);
    // Sum of losses, then rank hits: read back only when shown or at the end.
    torch::Tensor stats = torch::zeros({1 + k}, torch::TensorOptions(device).dtype(torch::kDouble));
    EpochMetrics m;
    m.epoch = epoch;
    net->train();
    if (progress) progress->begin_epoch(epoch, config.epochs, steps_per_epoch);
    const Clock::time_point epoch_start = Clock::now();
    int64_t s = 0;
    for (; s < steps_per_epoch; ++s) {
      if (config.max_steps > 0 && step >= config.max_steps) break;
      const torch::Tensor index = order.narrow(0, s * batch, batch);
      const torch::Tensor x = aug.crop_padding > 0 || aug.flip
                                  ? train_maker.augmented(index, aug, aug_gen)
                                  : train_maker.plain(index);
      const torch::Tensor y = train_labels.index_select(0, index);
      m.lr = lr_at(step, total_steps, warmup, config);

      sgd.zero_grad();
      const torch::Tensor logits = net->forward(x);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, loss_options);
      loss.backward();
      {
        torch::NoGradGuard no_grad;
        stats.narrow(0, 0, 1).add_(loss.detach());
        stats.narrow(0, 1, k).add_(rank_hits(logits.detach(), y, k));
      }
      // On the CPU reading the loss costs nothing; on a GPU it waits for the
      // step, so there it is read only when the progress line is drawn.
      const bool show = progress && progress->due(s + 1);
      if (device.is_cpu() || show) {
        const double value = loss.item<double>();
        if (!std::isfinite(value)) {
          result.diverged = true;
          result.divergence = "loss " + num(value) + " at epoch " + std::to_string(epoch) +
                              ", step " + std::to_string(s + 1);
          break;
        }
      }
      sgd.step(m.lr);
      ++step;
      if (show) {
        const torch::Tensor h = stats.to(torch::kCPU);
        const double done = static_cast<double>(s + 1);
        progress->update(s + 1, h[0].item<double>() / done,
                         100.0 * (1.0 - h[1].item<double>() / (done * static_cast<double>(batch))),
                         m.lr, done * static_cast<double>(batch) / seconds_since(epoch_start));
      }
      if (hooks.on_step && hooks.on_step(step)) {
        result.stopped = true;
        break;
      }
    }
    m.steps = s;
    const torch::Tensor h = stats.to(torch::kCPU);  // also waits for the device
    m.train_seconds = seconds_since(epoch_start);
    result.train_seconds += m.train_seconds;
    result.steps = step;
    if (result.stopped) break;  // an unfinished epoch is no result
    if (s > 0) {
      m.train_loss = h[0].item<double>() / static_cast<double>(s);
      const Errors e = errors_from_hits(h.narrow(0, 1, k), s * batch);
      m.train_top1_err = e.top1;
      m.train_top5_err = e.top5;
      m.images_per_s = static_cast<double>(s * batch) / m.train_seconds;
      if (!result.diverged && !std::isfinite(m.train_loss)) {
        result.diverged = true;
        result.divergence = "loss " + num(m.train_loss) + " in epoch " + std::to_string(epoch);
      }
    }
    if (result.diverged) {
      result.epochs.push_back(m);
      if (hooks.on_epoch) hooks.on_epoch(m);
      if (progress) progress->message("diverged: " + result.divergence + "; training stopped");
      break;
    }

    const Clock::time_point eval_start = Clock::now();
    if (config.precise_bn > 0) precise_bn(net, train_maker, order, config.precise_bn, config.batch_size);
    if (val_maker) {
      const Errors e = evaluate_on_device(net, *val_maker, val_labels, config.eval_batch_size, k);
      m.val_top1_err = e.top1;
      m.val_top5_err = e.top5;
    }
    if (test_maker) {
      const Errors e = evaluate_on_device(net, *test_maker, test_labels, config.eval_batch_size, k);
      m.test_top1_err = e.top1;
      m.test_top5_err = e.top5;
    }
    m.eval_seconds = seconds_since(eval_start);
    result.epochs.push_back(m);
    if (hooks.on_epoch) hooks.on_epoch(m);
    if (progress) progress->end_epoch(m, config.epochs);
    if (config.max_steps > 0 && step >= config.max_steps) break;
  }
  net->eval();
  result.total_seconds = seconds_since(run_start);
  if (result.train_seconds > 0)
    result.images_per_s = static_cast<double>(result.steps * batch) / result.train_seconds;
  return result;
}

nlohmann::json run_record(const NetSpec& spec, int resolution, const Dataset& data,
                          const TrainConfig& config, const TrainResult& result) {
  const Complexity cost = complexity(spec, resolution);
  nlohmann::json epochs = nlohmann::json::array();
  for (const EpochMetrics& m : result.epochs) epochs.push_back(to_json(m));
  nlohmann::json j = {
      {"model", spec.name},
      {"family", spec.family},
      {"spec", to_json(spec)},
      {"resolution", resolution},
      {"params", cost.params},
      {"flops", cost.flops},
      {"acts", cost.acts},
      {"data",
       {{"name", data.name},
        {"channels", data.channels},
        {"classes", data.num_classes},
        {"train_images", data.train.size()},
        {"val_images", data.val.size()},
        {"test_images", data.test.size()},
        {"mean", data.mean},
        {"std", data.std}}},
      {"config", to_json(config)},
      {"device", result.device},
      {"threads", result.threads},
      {"layout", result.layout},
      {"epochs", std::move(epochs)},
      {"steps", result.steps},
      {"train_seconds", result.train_seconds},
      {"total_seconds", result.total_seconds},
      {"images_per_s", result.images_per_s},
      {"diverged", result.diverged},
  };
  if (result.diverged) j["divergence"] = result.divergence;
  if (result.stopped) j["stopped"] = true;
  // The final errors, flat, for sweeps and their analyses.
  if (!result.epochs.empty()) {
    const EpochMetrics& last = result.epochs.back();
    j["train_loss"] = last.train_loss;
    if (last.test_top1_err >= 0) {
      j["test_top1_err"] = last.test_top1_err;
      j["test_top5_err"] = last.test_top5_err;
    }
    if (last.val_top1_err >= 0) {
      j["val_top1_err"] = last.val_top1_err;
      j["val_top5_err"] = last.val_top5_err;
    }
  }
  return j;
}

}  // namespace nds::trainer
