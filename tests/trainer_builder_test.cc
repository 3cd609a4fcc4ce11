// The LibTorch builder against the analytic counts: a built module's
// parameters equal complexity().params exactly, for every fixed point and for
// samples of every built-in design space, and a forward pass gives
// batch x classes logits.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "sampler/builtin_spaces.h"
#include "sampler/sampler.h"
#include "space/complexity.h"
#include "space/transforms.h"
#include "space/zoo.h"
#include "trainer/builder.h"

namespace {

using nds::complexity;
using nds::NetSpec;
using nds::trainer::count_parameters;
using nds::trainer::Net;

constexpr int kSamplesPerSpace = 11;  // 20 built-in spaces -> 220 sampled models
constexpr int kDrawsPerSpace = 40;
constexpr int64_t kMaxSampledParams = 30'000'000;
constexpr int64_t kMaxForwardFlops = 600'000'000;

// The smallest of a few sides the network accepts: forward passes stay cheap.
int smallest_fitting_side(const NetSpec& spec) {
  for (int side : {32, 64, 96, 128, 160, 224, 299}) {
    try {
      complexity(spec, side);
      return side;
    } catch (const std::invalid_argument&) {
    }
  }
  return spec.resolution;
}

void expect_forward_shape(Net& net, int side) {
  torch::NoGradGuard no_grad;
  net->eval();
  const NetSpec& spec = net->spec();
  const torch::Tensor y = net->forward(torch::randn({2, spec.in_channels, side, side}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, spec.num_classes}))
      << spec.name << " at " << side << "x" << side;
}

// On a loaded machine every multi-threaded op waits for a descheduled
// thread; these small forward passes gain nothing from a second one.
void one_thread() {
  torch::set_num_threads(1);
}

TEST(TrainerBuilder, FixedPointsAt1000ClassesMatchTheirPublishedCounts) {
  // The numbers torchvision / pycls print for these models.
  const std::vector<std::pair<std::string, int64_t>> published = {
      {"resnet18", 11689512},      {"resnet50", 25557032},      {"densenet121", 7978856},
      {"regnet_x_200mf", 2684792}, {"regnet_y_200mf", 3162996}, {"alexnet", 61100840},
  };
  for (const auto& [name, params] : published) {
    SCOPED_TRACE(name);
    const NetSpec spec = nds::fixed_point(name);
    Net net(spec);
    EXPECT_EQ(count_parameters(*net), params);
  }
}

TEST(TrainerBuilder, ForwardShapesOfFixedPoints) {
  one_thread();
  for (const char* name :
       {"lenet5", "alexnet", "vgg11_bn", "googlenet", "resnet18", "resnet50", "resnext50_32x4d",
        "densenet121", "xception", "regnet_x_200mf", "regnet_y_200mf", "regnet_y_400mf"}) {
    SCOPED_TRACE(name);
    const NetSpec spec = nds::fixed_point(name, {0, 10});
    Net net(spec);
    expect_forward_shape(net, smallest_fitting_side(spec));
  }
}

TEST(TrainerBuilder, CifarStemVariantsBuildAndRunAt32) {
  one_thread();
  for (const char* name : {"regnet_x_200mf", "resnet18", "densenet121", "googlenet"}) {
    SCOPED_TRACE(name);
    const NetSpec spec = nds::with_cifar_stem(nds::fixed_point(name, {0, 10}));
    Net net(spec);
    EXPECT_EQ(count_parameters(*net), complexity(spec, 32).params);
    expect_forward_shape(net, 32);
  }
}

TEST(TrainerBuilder, SampledModelsOfEveryBuiltInSpace) {
  one_thread();
  int checked = 0;
  int forwards = 0;
  for (const nds::sampler::BuiltinSpace& b : nds::sampler::builtin_spaces()) {
    const nds::sampler::DesignSpace space = nds::sampler::builtin_space(b.name);
    const std::vector<nds::sampler::Sample> samples =
        nds::sampler::sample_n(space, /*seed=*/20240501, kDrawsPerSpace);
    int taken = 0;
    for (const nds::sampler::Sample& s : samples) {
      // Unconstrained spaces reach a billion parameters (gigabytes to
      // allocate); the builder treats every size alike, so keep it cheap.
      if (s.cost.params > kMaxSampledParams) continue;
      if (taken++ == kSamplesPerSpace) break;
      SCOPED_TRACE(std::string(b.name) + " sample " + std::to_string(s.index));
      Net net(s.spec);
      EXPECT_EQ(count_parameters(*net), s.cost.params);
      const int side = smallest_fitting_side(s.spec);
      if (complexity(s.spec, side).flops <= kMaxForwardFlops) {
        expect_forward_shape(net, side);
        ++forwards;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 200);
  EXPECT_GE(forwards, 150);
}

TEST(TrainerBuilder, ModuleNamesFollowTheLayerStream) {
  // regnet_y: block 1 is the first Y block. Its group (item 0) has the
  // residual branch 0 (conv, BN, ReLU, conv, BN, ReLU, SE group at item 6,
  // ...) and the shortcut branch 1 (conv, BN). The SE group's branch 0 is the
  // identity; branch 1 is pool, conv, ReLU, conv, sigmoid.
  const NetSpec spec = nds::fixed_point("regnet_y_200mf", {0, 10});
  Net net(spec);
  const auto params = net->named_parameters();
  for (const char* name : {"blocks.0.0.weight", "blocks.0.1.weight", "blocks.1.0.0.0.weight",
                           "blocks.1.0.0.6.1.1.weight", "blocks.1.0.0.6.1.3.bias",
                           "blocks.1.0.1.0.weight", "blocks.1.0.1.1.running_mean"}) {
    EXPECT_TRUE(params.contains(name) || net->named_buffers().contains(name)) << name;
  }
}

TEST(TrainerBuilder, InitFollowsPycls) {
  torch::manual_seed(0);
  const NetSpec spec = nds::fixed_point("resnet50", {0, 10});
  Net net(spec);
  const auto params = net->named_parameters();
  // The 3x3 conv of the first bottleneck: fan_out = 9 * 64.
  const torch::Tensor w = params["blocks.2.0.0.3.weight"];
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{64, 64, 3, 3}));
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / (9 * 64)), 0.003);
  EXPECT_NEAR(w.mean().item<double>(), 0, 0.002);
  const torch::Tensor gamma = params["blocks.0.1.weight"];
  EXPECT_TRUE(torch::equal(gamma, torch::ones_like(gamma)));
  // Head (block 18): pool, flatten, FC.
  const torch::Tensor fc = params["blocks.18.2.weight"];
  EXPECT_NEAR(fc.std().item<double>(), 0.01, 0.001);
  EXPECT_EQ(params["blocks.18.2.bias"].abs().sum().item<double>(), 0);
}

TEST(TrainerBuilder, ZeroInitFinalGammaTakesTheResidualBranchOnly) {
  for (const auto& [name, blocks] : std::vector<std::pair<std::string, size_t>>{
           {"resnet50", 16}, {"regnet_y_200mf", 13}, {"xception", 8}, {"densenet121", 0}}) {
    SCOPED_TRACE(name);
    const NetSpec spec = nds::fixed_point(name, {0, 10});
    const Net plain(spec);
    const Net zero(spec, nds::trainer::InitOptions{/*zero_init_final_gamma=*/true});
    int64_t zeros = 0;
    for (auto* bn : zero->batch_norms()) zeros += bn->weight.eq(0).all().item<bool>() ? 1 : 0;
    EXPECT_EQ(zeros, static_cast<int64_t>(blocks));
    for (auto* bn : plain->batch_norms()) EXPECT_TRUE(bn->weight.eq(1).all().item<bool>());
  }
  // A zero-initialized identity block passes its input through the final ReLU.
  torch::manual_seed(0);
  const NetSpec spec = nds::fixed_point("resnet18", {0, 10});
  Net net(spec, nds::trainer::InitOptions{true});
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 64, 8, 8});
  EXPECT_TRUE(torch::equal(net->named_modules()["blocks.2"]->as<nds::trainer::Seq>()->forward(x),
                           torch::relu(x)));
}

TEST(TrainerBuilder, SameSeedSameWeights) {
  const NetSpec spec = nds::fixed_point("regnet_x_200mf", {1, 10});
  const Net a = nds::trainer::build_net(spec, 7);
  const Net b = nds::trainer::build_net(spec, 7);
  const Net c = nds::trainer::build_net(spec, 8);
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  bool all_equal = true, any_differs = false;
  for (size_t i = 0; i < pa.size(); ++i) {
    all_equal = all_equal && torch::equal(pa[i], pb[i]);
    any_differs = any_differs || !torch::equal(pa[i], pc[i]);
  }
  EXPECT_TRUE(all_equal);
  EXPECT_TRUE(any_differs);
}

TEST(TrainerBuilder, ChannelsLastGivesTheSameLogits) {
  torch::manual_seed(0);
  const NetSpec spec = nds::with_cifar_stem(nds::fixed_point("regnet_y_200mf", {0, 10}));
  Net net(spec);
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({4, 3, 32, 32});
  const torch::Tensor y = net->forward(x);
  nds::trainer::to_channels_last(*net);
  const torch::Tensor z = net->forward(x.contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(y, z, 1e-4, 1e-4));
}

}  // namespace
