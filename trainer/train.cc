#include "trainer/train.h"

#include <malloc.h>
#include <sched.h>
#include <torch/cuda.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "space/complexity.h"
#include "space/seed.h"
#include "trainer/feed.h"
#include "trainer/progress.h"
#include "trainer/random.h"
#include "trainer/sgd.h"

namespace nds::trainer {
namespace {

// Each random stream of a run is its own derive_seed of the run's seed, so
// that one seed's stream never equals another seed's (as seed + 1 did) and
// the data order does not shift when the model, and so the number of weights
// drawn, changes.
constexpr uint64_t kOrderSalt = 0x0dde0dde0dde0ddeULL;
constexpr uint64_t kDropoutSalt = 0xd0d0d0d0d0d0d0d0ULL;
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

// top-1/top-5 error of `net` over one pass of `feed` in storage order.
Errors evaluate_feed(Net& net, Feed& feed, int batch_size, int64_t k, torch::Device device) {
  torch::NoGradGuard no_grad;
  net->eval();
  torch::Tensor hits = torch::zeros({k}, torch::TensorOptions(device).dtype(torch::kInt64));
  feed.start({}, 0, false, batch_size, false);
  torch::Tensor x, y;
  while (feed.next(x, y)) hits += rank_hits(net->forward(x), y, k);
  return errors_from_hits(hits, feed.size());
}

// pycls's precise BN: running statistics replaced by the average of the
// batch statistics over `images` training images (in train mode, no grad).
void precise_bn(Net& net, Feed& train, const std::vector<int64_t>& order, int64_t images,
                int batch_size) {
  std::vector<torch::nn::BatchNorm2dImpl*> bns = net->batch_norms();
  if (bns.empty() || images <= 0) return;
  torch::NoGradGuard no_grad;
  const int64_t b = std::min<int64_t>(batch_size, static_cast<int64_t>(order.size()));
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
  torch::Tensor x, y;
  train.start(order, 0, false, b, true);
  for (int64_t it = 0; it < iters; ++it) {
    if (!train.next(x, y)) {  // more images than the split: around again
      train.start(order, 0, false, b, true);
      train.next(x, y);
    }
    net->forward(x);
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

// The validation and test errors of `m`, where it has them.
void put_eval_errors(const EpochMetrics& m, nlohmann::json& j) {
  if (m.val_top1_err >= 0) {
    j["val_top1_err"] = m.val_top1_err;
    j["val_top5_err"] = m.val_top5_err;
  }
  if (m.test_top1_err >= 0) {
    j["test_top1_err"] = m.test_top1_err;
    j["test_top5_err"] = m.test_top5_err;
  }
}

// Makes glibc's malloc keep freed memory for reuse (for the whole process).
// Every training step allocates and frees the same activation buffers; by
// default glibc hands many of them back to the kernel and faults them in
// again the next step (some 35,000 page faults a step for RegNetX-200MF at
// batch 128, a quarter of the step time). Buffers above 32 MB, glibc's
// largest mmap threshold, are still mapped per use.
void reuse_freed_memory() {
#ifdef __GLIBC__
  static const bool done = [] {
    mallopt(M_ARENA_MAX, 2);              // threads share freed blocks
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum; fixes the threshold
    mallopt(M_TRIM_THRESHOLD, 1 << 30);   // keep the heap top
    return true;
  }();
  (void)done;
#endif
}

}  // namespace

void TrainConfig::validate() const {
  require(epochs >= 1, "epochs must be >= 1, got " + std::to_string(epochs));
  require(batch_size >= 1, "batch size must be >= 1, got " + std::to_string(batch_size));
  require(std::isfinite(lr) && lr >= 0, "learning rate must be >= 0 (0 = default), got " + num(lr));
  // Negated comparisons would let NaN through and inf breaks the schedule's
  // arithmetic, so every double must be finite as well as in range.
  require(std::isfinite(momentum) && momentum >= 0 && momentum < 1,
          "momentum must be in [0, 1), got " + num(momentum));
  require(!nesterov || momentum > 0, "Nesterov momentum needs a momentum > 0");
  require(std::isfinite(weight_decay) && weight_decay >= 0,
          "weight decay must be >= 0, got " + num(weight_decay));
  require(std::isfinite(warmup_epochs) && warmup_epochs >= 0,
          "warmup epochs must be finite and >= 0, got " + num(warmup_epochs));
  require(std::isfinite(warmup_factor) && warmup_factor > 0 && warmup_factor <= 1,
          "warmup factor must be in (0, 1], got " + num(warmup_factor));
  require(std::isfinite(label_smoothing) && label_smoothing >= 0 && label_smoothing < 1,
          "label smoothing must be in [0, 1), got " + num(label_smoothing));
  require(precise_bn >= 0, "precise BN images must be >= 0, got " + std::to_string(precise_bn));
  require(max_steps >= 0, "steps must be >= 0, got " + std::to_string(max_steps));
  require(eval_batch_size >= 1,
          "evaluation batch size must be >= 1, got " + std::to_string(eval_batch_size));
  require(threads >= 0, "threads must be >= 1 (0 = all cores), got " + std::to_string(threads));
  require(device == "auto" || device == "cpu" || device == "cuda",
          "unknown device '" + device + "' (auto, cpu, cuda)");
  require(device_slot >= 0, "device slot must be >= 0, got " + std::to_string(device_slot));
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

TrainConfig train_config_from_json(const nlohmann::json& j) {
  TrainConfig c;
  c.epochs = j.at("epochs").get<int>();
  c.batch_size = j.at("batch_size").get<int>();
  c.lr = j.at("lr").get<double>();
  c.momentum = j.at("momentum").get<double>();
  c.nesterov = j.at("nesterov").get<bool>();
  c.weight_decay = j.at("weight_decay").get<double>();
  c.wd_bn_bias = j.at("wd_bn_bias").get<bool>();
  c.warmup_epochs = j.at("warmup_epochs").get<double>();
  c.warmup_factor = j.at("warmup_factor").get<double>();
  c.label_smoothing = j.at("label_smoothing").get<double>();
  c.augment = j.at("augment").get<bool>();
  c.zero_init_final_gamma = j.at("zero_init_final_gamma").get<bool>();
  c.precise_bn = j.at("precise_bn").get<int64_t>();
  c.max_steps = j.at("max_steps").get<int64_t>();
  c.eval_batch_size = j.at("eval_batch_size").get<int>();
  c.layout = j.at("layout").get<std::string>();
  if (j.contains("seed")) c.seed = j.at("seed").get<uint64_t>();
  return c;
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
  put_eval_errors(m, j);
  return j;
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

torch::Device resolve_device(const std::string& name, int slot) {
  if (slot < 0)
    throw std::invalid_argument("device slot must be >= 0, got " + std::to_string(slot));
  if (name == "cpu") return torch::kCPU;
  if (name != "auto" && name != "cuda")
    throw std::invalid_argument("unknown device '" + name + "' (auto, cpu, cuda)");
  if (torch::cuda::is_available()) {
    const auto count = static_cast<int>(torch::cuda::device_count());
    return {torch::kCUDA, static_cast<c10::DeviceIndex>(slot % count)};
  }
  if (name == "cuda")
    throw std::invalid_argument("--device cuda, but this LibTorch has no CUDA or sees no GPU");
  return torch::kCPU;
}

namespace {

// On a GPU the loss is read (a host synchronization) only this often, and
// when the progress line is drawn: a diverged run stops within these steps.
constexpr int64_t kDivergenceCheckSteps = 32;

// One run's state: the network, its optimizer, the data and the schedule.
struct Run {
  Net& net;
  const TrainConfig& config;
  Progress* progress;
  const TrainHooks& hooks;
  torch::Device device;
  Feeds feeds;
  Sgd sgd;
  int64_t batch = 0;
  int64_t steps_per_epoch = 0;
  int64_t total_steps = 0;
  int64_t warmup = 0;
  int64_t k = 1;     // top-k of the error
  int64_t step = 0;  // optimizer steps so far
  Rng order_rng{};
  torch::nn::functional::CrossEntropyFuncOptions loss_options{};
  TrainResult result{};
};

// Reads the loss where that costs no synchronization worth having; true
// (and the result marked diverged) when it is NaN or infinite.
bool diverged_at(Run& r, const torch::Tensor& loss, const torch::Tensor& stats, int epoch,
                 int64_t s, bool shown) {
  const bool cpu = r.device.is_cpu();
  if (!cpu && !shown && (s + 1) % kDivergenceCheckSteps != 0) return false;
  const double value = cpu ? loss.item<double>() : stats[0].item<double>();
  if (std::isfinite(value)) return false;
  r.result.diverged = true;
  r.result.divergence = std::string(cpu ? "loss " : "loss sum ") + num(value) + " at epoch " +
                        std::to_string(epoch) + ", step " + std::to_string(s + 1);
  return true;
}

void show_progress(Run& r, const torch::Tensor& stats, int64_t s, double lr,
                   Clock::time_point epoch_start) {
  const torch::Tensor h = stats.to(torch::kCPU);
  const double done = static_cast<double>(s + 1);
  r.progress->update(s + 1, h[0].item<double>() / done,
                     100.0 * (1.0 - h[1].item<double>() / (done * static_cast<double>(r.batch))),
                     lr, done * static_cast<double>(r.batch) / seconds_since(epoch_start));
}

// One optimizer step's forward and backward pass; the loss and the batch's
// rank hits are added to `stats` on the device.
torch::Tensor forward_backward(Run& r, const torch::Tensor& x, const torch::Tensor& y,
                               torch::Tensor& stats) {
  r.sgd.zero_grad();
  const torch::Tensor logits = r.net->forward(x);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, r.loss_options);
  loss.backward();
  torch::NoGradGuard no_grad;
  stats.narrow(0, 0, 1).add_(loss.detach());
  stats.narrow(0, 1, r.k).add_(rank_hits(logits.detach(), y, r.k));
  return loss;
}

// Asks TrainHooks::on_step whether to stop; true (and the result marked
// stopped) when it does.
bool stop_requested(Run& r) {
  if (!r.hooks.on_step || !r.hooks.on_step(r.step)) return false;
  r.result.stopped = true;
  return true;
}

// The optimizer steps of one epoch; sums of losses and rank hits go to
// `stats` on the device.
int64_t train_steps(Run& r, int epoch, EpochMetrics& m, torch::Tensor& stats) {
  const Clock::time_point epoch_start = Clock::now();
  r.feeds.train->start(permutation(r.feeds.train->size(), r.order_rng), epoch, r.config.augment,
                       r.batch, true);
  r.net->train();
  int64_t s = 0;
  torch::Tensor x, y;
  for (; s < r.steps_per_epoch; ++s) {
    if (r.config.max_steps > 0 && r.step >= r.config.max_steps) break;
    if (!r.feeds.train->next(x, y)) break;
    m.lr = lr_at(r.step, r.total_steps, r.warmup, r.config);
    const torch::Tensor loss = forward_backward(r, x, y, stats);
    const bool show = r.progress && r.progress->due(s + 1);
    if (diverged_at(r, loss, stats, epoch, s, show)) break;
    r.sgd.step(m.lr);
    ++r.step;
    if (show) show_progress(r, stats, s, m.lr, epoch_start);
    if (stop_requested(r)) break;
  }
  return s;
}

// The epoch's training metrics from the device's sums; a mean loss that is
// not finite marks the run diverged (on a GPU the steps read it only now
// and then).
void measure_training(Run& r, int epoch, int64_t s, const torch::Tensor& h, EpochMetrics& m) {
  m.steps = s;
  if (s == 0) return;
  m.train_loss = h[0].item<double>() / static_cast<double>(s);
  const Errors e = errors_from_hits(h.narrow(0, 1, r.k), s * r.batch);
  m.train_top1_err = e.top1;
  m.train_top5_err = e.top5;
  m.images_per_s = static_cast<double>(s * r.batch) / m.train_seconds;
  if (!r.result.diverged && !std::isfinite(m.train_loss)) {
    r.result.diverged = true;
    r.result.divergence = "loss " + num(m.train_loss) + " in epoch " + std::to_string(epoch);
  }
}

// Precise BN (when asked), then the validation and test errors.
void evaluate_epoch(Run& r, EpochMetrics& m) {
  const Clock::time_point eval_start = Clock::now();
  if (r.config.precise_bn > 0) {
    std::vector<int64_t> order(static_cast<size_t>(r.feeds.train->size()));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    precise_bn(r.net, *r.feeds.train, order, r.config.precise_bn, r.config.batch_size);
  }
  if (r.feeds.val) {
    const Errors e = evaluate_feed(r.net, *r.feeds.val, r.config.eval_batch_size, r.k, r.device);
    m.val_top1_err = e.top1;
    m.val_top5_err = e.top5;
  }
  if (r.feeds.test) {
    const Errors e = evaluate_feed(r.net, *r.feeds.test, r.config.eval_batch_size, r.k, r.device);
    m.test_top1_err = e.top1;
    m.test_top5_err = e.top5;
  }
  m.eval_seconds = seconds_since(eval_start);
}

// An epoch that goes into the result: kept, handed to on_epoch, and shown.
void report_epoch(Run& r, const EpochMetrics& m) {
  r.result.epochs.push_back(m);
  if (r.hooks.on_epoch) r.hooks.on_epoch(m);
  if (!r.progress) return;
  if (r.result.diverged)
    r.progress->message("diverged: " + r.result.divergence + "; training stopped");
  else
    r.progress->end_epoch(m, r.config.epochs);
}

// One epoch: steps, metrics, evaluation, report. False when training stops
// (a stop asked for, a divergence, or the step limit reached).
bool run_epoch(Run& r, int epoch) {
  torch::Tensor stats =
      torch::zeros({1 + r.k}, torch::TensorOptions(r.device).dtype(torch::kDouble));
  EpochMetrics m;
  m.epoch = epoch;
  if (r.progress) r.progress->begin_epoch(epoch, r.config.epochs, r.steps_per_epoch);
  const Clock::time_point epoch_start = Clock::now();
  const int64_t s = train_steps(r, epoch, m, stats);
  const torch::Tensor h = stats.to(torch::kCPU);  // also waits for the device
  m.train_seconds = seconds_since(epoch_start);
  r.result.train_seconds += m.train_seconds;
  r.result.steps = r.step;
  if (r.result.stopped) return false;  // an unfinished epoch is no result
  measure_training(r, epoch, s, h, m);
  if (!r.result.diverged) evaluate_epoch(r, m);  // a diverged epoch is not evaluated
  report_epoch(r, m);
  return !r.result.diverged && !(r.config.max_steps > 0 && r.step >= r.config.max_steps);
}

// Where the run happens: the threads, the device, and the network moved
// there in its layout.
struct Placement {
  int threads = 1;
  torch::Device device = torch::kCPU;
  bool channels_last = false;
};

// Sets the threads, resolves the device, checks the batch against the
// training split, seeds dropout and moves the network to the device.
Placement place_run(Net& net, const Dataset& data, const TrainConfig& config) {
  Placement p;
  p.threads = config.threads > 0 ? config.threads : available_cores();
  torch::set_num_threads(p.threads);
  p.device = resolve_device(config.device, config.device_slot);
  const int64_t n = data.train_size();
  if (config.batch_size > n)
    throw std::invalid_argument("batch size " + std::to_string(config.batch_size) +
                                " is more than the " + std::to_string(n) + " training images");
  torch::manual_seed(derive_seed(config.seed, kDropoutSalt));  // dropout masks
  net->to(p.device);
  p.channels_last = config.channels_last(p.device);
  if (p.channels_last) to_channels_last(*net);
  return p;
}

Feeds feeds_for(const Dataset& data, const TrainConfig& config, torch::Device device) {
  FeedOptions o;
  o.device = device;
  o.channels_last = config.channels_last(device);
  o.seed = config.seed;
  o.max_batch = std::max(config.batch_size, config.eval_batch_size);
  return make_feeds(data, o);
}

// The schedule (steps per epoch, in all, of warmup), the top-k, the data
// order's stream and the loss.
void plan_run(Run& r, const Dataset& data) {
  const TrainConfig& config = r.config;
  r.batch = config.batch_size;
  r.steps_per_epoch =
      data.train_size() / r.batch;  // the last partial batch is dropped, as pycls does
  r.total_steps = r.steps_per_epoch * config.epochs;
  // A run cut short by --steps still anneals to the end of its cosine, so
  // that it is a short run and not the start of a long one.
  if (config.max_steps > 0) r.total_steps = std::min(r.total_steps, config.max_steps);
  r.warmup = std::min<int64_t>(
      r.total_steps, std::llround(config.warmup_epochs * static_cast<double>(r.steps_per_epoch)));
  r.k = std::min<int64_t>(5, data.num_classes);
  r.order_rng.seed(derive_seed(config.seed, kOrderSalt));
  r.loss_options.label_smoothing(config.label_smoothing);
}

// The run's totals: time, throughput and what the data feeds counted.
TrainResult finish_run(Run& r, Clock::time_point run_start) {
  TrainResult result = std::move(r.result);
  result.total_seconds = seconds_since(run_start);
  if (result.train_seconds > 0)
    result.images_per_s = static_cast<double>(result.steps * r.batch) / result.train_seconds;
  for (const Feed* f : {r.feeds.train.get(), r.feeds.val.get(), r.feeds.test.get()})
    if (f) result.data_wait_seconds += f->wait_seconds();
  result.skipped_images = r.feeds.train->skipped();
  result.decoded_images = r.feeds.train->decoded();
  return result;
}

}  // namespace

TrainResult train(Net& net, const Dataset& data, const TrainConfig& config, Progress* progress,
                  const TrainHooks& hooks) {
  config.validate();
  reuse_freed_memory();
  const Clock::time_point run_start = Clock::now();
  const Placement where = place_run(net, data, config);
  Run r{net,
        config,
        progress,
        hooks,
        where.device,
        feeds_for(data, config, where.device),
        Sgd(parameter_groups(net, config), config.momentum, config.nesterov)};
  plan_run(r, data);
  r.result.threads = where.threads;
  r.result.device = where.device.str();
  r.result.layout = where.channels_last ? "nhwc" : "nchw";
  for (int epoch = 1; epoch <= config.epochs && run_epoch(r, epoch);) ++epoch;
  net->eval();
  return finish_run(r, run_start);
}

namespace {

// What the run trained and evaluated on; an image folder adds its cache
// and bad-image settings.
nlohmann::json data_json(const Dataset& data) {
  nlohmann::json j = {{"name", data.name},
                      {"channels", data.channels},
                      {"classes", data.num_classes},
                      {"train_images", data.train_size()},
                      {"val_images", data.val_size()},
                      {"test_images", data.test_size()},
                      {"mean", data.mean},
                      {"std", data.std}};
  if (data.folder) {
    j["cache_bytes"] = data.folder->cache_bytes;
    j["skip_bad_images"] = data.folder->skip_bad_images;
  }
  return j;
}

// How the run ended: its totals, divergence or stop, the image pipeline's
// counts, and the last epoch's errors flat, for sweeps and their analyses.
void put_outcome(const Dataset& data, const TrainResult& result, nlohmann::json& j) {
  if (result.diverged) j["divergence"] = result.divergence;
  if (result.stopped) j["stopped"] = true;
  if (data.folder) {
    j["data_wait_seconds"] = result.data_wait_seconds;
    j["skipped_images"] = result.skipped_images;
    j["decoded_images"] = result.decoded_images;
  }
  if (result.epochs.empty()) return;
  const EpochMetrics& last = result.epochs.back();
  j["train_loss"] = last.train_loss;
  put_eval_errors(last, j);
}

}  // namespace

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
      {"data", data_json(data)},
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
  put_outcome(data, result, j);
  return j;
}

}  // namespace nds::trainer
