// Training on synthetic data: the loss falls, runs are reproducible for a
// fixed thread count, a diverging run is reported rather than thrown, and
// the fused SGD step equals torch::optim::SGD.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "space/family.h"
#include "trainer/builder.h"
#include "trainer/data.h"
#include "trainer/sgd.h"
#include "trainer/train.h"

namespace {

using nds::trainer::Dataset;
using nds::trainer::Net;
using nds::trainer::TrainConfig;
using nds::trainer::TrainResult;

// A small residual network on 4-class 16x16 images: a few seconds per run.
nds::NetSpec small_net(int classes = 4) {
  return nds::expand_params({{"family", "anynet"},
                             {"stem_type", "res_stem_cifar"},
                             {"stem_w", 16},
                             {"block_type", "res_bottleneck_block"},
                             {"depths", {1, 1}},
                             {"widths", {16, 32}},
                             {"strides", {1, 2}},
                             {"group_widths", {8, 8}},
                             {"se_ratio", 0.25}},
                            {3, classes});
}

Dataset small_data(int64_t val = 0) {
  nds::trainer::DataOptions opt;
  opt.classes = 4;
  opt.resolution = 16;
  opt.synthetic_train = 512;
  opt.synthetic_test = 256;
  opt.val = val;
  opt.seed = 3;
  return nds::trainer::load_dataset(nds::trainer::parse_data_source("synthetic"), opt);
}

TrainConfig small_config() {
  TrainConfig c;
  c.epochs = 3;
  c.batch_size = 32;
  c.threads = 1;
  c.seed = 11;
  return c;
}

TrainResult run(const Dataset& data, const TrainConfig& c, Net* out = nullptr) {
  Net net = nds::trainer::build_net(small_net(data.num_classes), c.seed, c.init());
  TrainResult r = nds::trainer::train(net, data, c);
  if (out) *out = net;
  return r;
}

// Every recipe field survives the trip through JSON (the sweep stores the
// recipe and its workers read it back): a field added to one side only fails here.
TEST(TrainerTrain, RecipeJsonRoundTrips) {
  nds::trainer::TrainConfig c;
  c.epochs = 3;
  c.batch_size = 48;
  c.lr = 0.05;
  c.momentum = 0.8;
  c.nesterov = false;
  c.weight_decay = 1e-4;
  c.wd_bn_bias = false;
  c.warmup_epochs = 0.5;
  c.warmup_factor = 0.2;
  c.label_smoothing = 0.1;
  c.augment = false;
  c.zero_init_final_gamma = false;
  c.precise_bn = 512;
  c.max_steps = 77;
  c.eval_batch_size = 64;
  c.layout = "nchw";
  c.seed = 9;
  const nlohmann::json j = nds::trainer::to_json(c);
  EXPECT_EQ(nds::trainer::to_json(nds::trainer::train_config_from_json(j)), j);
  nlohmann::json no_seed = j;
  no_seed.erase("seed");
  EXPECT_EQ(nds::trainer::train_config_from_json(no_seed).seed, 0u);
}

TEST(TrainerTrain, LossFallsAndTheModelLearns) {
  const Dataset data = small_data();
  const TrainResult r = run(data, small_config());
  ASSERT_EQ(r.epochs.size(), 3u);
  EXPECT_FALSE(r.diverged);
  EXPECT_EQ(r.steps, 3 * (512 / 32));
  EXPECT_LT(r.epochs[2].train_loss, r.epochs[0].train_loss);
  EXPECT_LT(r.epochs[2].test_top1_err, 30.0);
  EXPECT_GT(r.images_per_s, 0);
  EXPECT_EQ(r.threads, 1);
  EXPECT_EQ(r.device, "cpu");
  // The cosine schedule ends near zero.
  EXPECT_LT(r.epochs[2].lr, 0.01 * small_config().peak_lr());
}

TEST(TrainerTrain, DeterministicForAFixedThreadCount) {
  const Dataset data = small_data();
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    TrainConfig c = small_config();
    c.epochs = 2;
    c.threads = threads;
    c.precise_bn = 64;
    // Two threads on a loaded two-core machine wait on each other at every
    // op: a shorter run shows the same.
    if (threads > 1) c.max_steps = 6;
    Net a = nullptr, b = nullptr;
    const TrainResult ra = run(data, c, &a);
    const TrainResult rb = run(data, c, &b);
    ASSERT_EQ(ra.epochs.size(), rb.epochs.size());
    for (size_t e = 0; e < ra.epochs.size(); ++e) {
      EXPECT_EQ(ra.epochs[e].train_loss, rb.epochs[e].train_loss);
      EXPECT_EQ(ra.epochs[e].test_top1_err, rb.epochs[e].test_top1_err);
    }
    const auto pa = a->parameters(), pb = b->parameters();
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
    if (threads == 1) {
      // Another seed takes another path.
      c.seed = 12;
      EXPECT_NE(run(data, c).epochs[0].train_loss, ra.epochs[0].train_loss);
    }
  }
}

TEST(TrainerTrain, DivergenceIsReportedNotThrown) {
  const Dataset data = small_data();
  TrainConfig c = small_config();
  c.lr = 1e30;
  c.warmup_epochs = 0;
  TrainResult r;
  ASSERT_NO_THROW(r = run(data, c));
  EXPECT_TRUE(r.diverged);
  EXPECT_NE(r.divergence.find("loss"), std::string::npos) << r.divergence;
  EXPECT_NE(r.divergence.find("epoch 1"), std::string::npos) << r.divergence;
  EXPECT_LT(r.steps, 3 * 16);
  const nlohmann::json j = nds::trainer::run_record(small_net(), 16, data, c, r);
  EXPECT_TRUE(j["diverged"].get<bool>());
  EXPECT_TRUE(j.contains("divergence"));
}

TEST(TrainerTrain, StepsLimitValidationSplitAndRecord) {
  const Dataset data = small_data(/*val=*/64);
  TrainConfig c = small_config();
  c.max_steps = 5;
  c.label_smoothing = 0.1;
  c.wd_bn_bias = false;
  c.augment = false;
  const TrainResult r = run(data, c);
  EXPECT_EQ(r.steps, 5);
  ASSERT_EQ(r.epochs.size(), 1u);
  EXPECT_EQ(r.epochs[0].steps, 5);
  EXPECT_GE(r.epochs[0].val_top1_err, 0);
  EXPECT_GE(r.epochs[0].test_top1_err, 0);
  const nlohmann::json j = nds::trainer::run_record(small_net(), 16, data, c, r);
  for (const char* key :
       {"model", "spec", "params", "flops", "data", "config", "epochs", "steps", "images_per_s",
        "test_top1_err", "test_top5_err", "val_top1_err", "train_loss", "diverged"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["data"]["train_images"], 512 - 64);
  EXPECT_EQ(j["config"]["label_smoothing"], 0.1);
  EXPECT_EQ(j["epochs"].size(), 1u);
}

TEST(TrainerTrain, StepsLimitAnnealsOverItsSteps) {
  // 20 steps of a 3-epoch (48-step) run: the cosine ends at step 20, not 48.
  const Dataset data = small_data();
  TrainConfig c = small_config();
  c.max_steps = 20;
  const TrainResult r = run(data, c);
  EXPECT_EQ(r.steps, 20);
  ASSERT_EQ(r.epochs.size(), 2u);
  const double peak = c.peak_lr();
  // Step 15 of 20: 0.5 * (1 + cos(0.75 pi)) ~ 0.15 of the peak.
  EXPECT_NEAR(r.epochs[0].lr, 0.5 * peak * (1 + std::cos(M_PI * 15 / 20)), 1e-9 * peak);
  // Step 19 of 20: ~ 0.006 of the peak, where the 48-step schedule is at ~ 0.7.
  EXPECT_LT(r.epochs[1].lr, 0.01 * peak);
  EXPECT_GT(r.epochs[1].lr, 0);
}

TEST(TrainerTrain, BadConfigurations) {
  const Dataset data = small_data();
  TrainConfig c = small_config();
  c.batch_size = 1000;  // more than the 512 images
  EXPECT_THROW(run(data, c), std::invalid_argument);
  c = small_config();
  c.momentum = 1.5;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  for (double bad : {INFINITY, -INFINITY, NAN}) {
    c = small_config();
    c.warmup_epochs = bad;
    EXPECT_THROW(c.validate(), std::invalid_argument) << bad;
    c = small_config();
    c.warmup_factor = bad;
    EXPECT_THROW(c.validate(), std::invalid_argument) << bad;
    c = small_config();
    c.label_smoothing = bad;
    EXPECT_THROW(c.validate(), std::invalid_argument) << bad;
    c = small_config();
    c.momentum = bad;
    EXPECT_THROW(c.validate(), std::invalid_argument) << bad;
  }
  c = small_config();
  c.device = "tpu";
  EXPECT_THROW(c.validate(), std::invalid_argument);
  EXPECT_THROW(nds::trainer::resolve_device("tpu"), std::invalid_argument);
  EXPECT_EQ(nds::trainer::resolve_device("cpu"), torch::Device(torch::kCPU));
  c = small_config();
  c.device_slot = -1;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  EXPECT_THROW(nds::trainer::resolve_device("cpu", -1), std::invalid_argument);
  // A slot picks among the GPUs (slot % count); without one it is the CPU.
  if (!torch::cuda::is_available())
    EXPECT_EQ(nds::trainer::resolve_device("auto", 5), torch::Device(torch::kCPU));
  else
    EXPECT_EQ(nds::trainer::resolve_device("auto", 5).index(),
              5 % static_cast<int>(torch::cuda::device_count()));
  EXPECT_GE(nds::trainer::available_cores(), 1);
}

TEST(TrainerTrain, FusedSgdEqualsTorchSgd) {
  // float32 takes the fused loop, float64 the multi-tensor (_foreach) path
  // that CUDA uses.
  for (const auto& [nesterov, dtype] :
       std::vector<std::pair<bool, torch::Dtype>>{{true, torch::kFloat},
                                                  {false, torch::kFloat},
                                                  {true, torch::kDouble},
                                                  {false, torch::kDouble}}) {
    SCOPED_TRACE(std::to_string(nesterov) + " " + c10::toString(dtype));
    torch::manual_seed(0);
    const std::vector<torch::Tensor> init = {torch::randn({64, 3, 3, 3}, dtype),
                                             torch::randn({64}, dtype),
                                             torch::randn({10, 64}, dtype)};
    std::vector<torch::Tensor> mine, ref;
    for (const auto& t : init) {
      mine.push_back(t.clone().requires_grad_());
      ref.push_back(t.clone().requires_grad_());
    }
    // Weight decay on the first and last tensors only, as with wd_bn_bias off.
    nds::trainer::Sgd sgd({{{mine[0], mine[2]}, 5e-4}, {{mine[1]}, 0.0}}, 0.9, nesterov);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(
        std::vector<torch::Tensor>{ref[0], ref[2]},
        std::make_unique<torch::optim::SGDOptions>(
            torch::optim::SGDOptions(0.1).momentum(0.9).nesterov(nesterov).weight_decay(5e-4)));
    groups.emplace_back(std::vector<torch::Tensor>{ref[1]},
                        std::make_unique<torch::optim::SGDOptions>(
                            torch::optim::SGDOptions(0.1).momentum(0.9).nesterov(nesterov)));
    torch::optim::SGD torch_sgd(std::move(groups), torch::optim::SGDOptions(0.1));
    for (int step = 0; step < 4; ++step) {
      const double lr = 0.1 / (step + 1);
      for (auto& g : torch_sgd.param_groups())
        static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
      const auto loss = [](const std::vector<torch::Tensor>& p) {
        return (p[0].sin().sum() + p[1].square().sum() + p[2].tanh().sum()) * 0.5;
      };
      sgd.zero_grad();
      loss(mine).backward();
      sgd.step(lr);
      torch_sgd.zero_grad();
      loss(ref).backward();
      torch_sgd.step();
    }
    for (size_t i = 0; i < init.size(); ++i) {
      EXPECT_TRUE(torch::allclose(mine[i], ref[i], 1e-6, 1e-6)) << i;
      EXPECT_FALSE(torch::equal(mine[i], init[i])) << i;
    }
  }
}

}  // namespace
