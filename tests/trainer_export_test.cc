// TorchScript export: Python's torch.jit.load gives the C++ model's logits.
//
// Every layer kind and merge of space/ is covered by the models below (SE
// gates, residual sums, dense and inception concatenations, LRN, ceil-mode
// and padded pools, separable convs, tanh, dropout, FC stacks). The C++ side
// writes each model, an input and its logits; one Python process loads and
// compares them all.

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "space/transforms.h"
#include "space/zoo.h"
#include "tests/trainer_test_util.h"
#include "trainer/builder.h"
#include "trainer/export.h"

namespace {

constexpr const char* kPython = "/usr/bin/python3";

struct Case {
  std::string name;
  bool cifar_stem;
  int side;
  bool nhwc = false;  // the C++ network runs channels-last, as training on a CPU leaves it
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"regnet_y_200mf", true, 32}, {"resnet18", false, 32, true}, {"densenet121", false, 32},
      {"googlenet", false, 64},     {"xception", false, 71}, {"lenet5", false, 32},
      {"alexnet", false, 64},       {"vgg11_bn", false, 32},
  };
  return c;
}

std::string run_command(const std::string& cmd, int* status) {
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) {
    *status = -1;
    return out;
  }
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  *status = pclose(pipe);
  return out;
}

bool python_has_torch() {
  int status = 0;
  run_command(std::string(kPython) + " -c 'import torch' 2>/dev/null", &status);
  return status == 0;
}

void write_floats(const std::string& path, const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()),
            static_cast<std::streamsize>(c.numel() * sizeof(float)));
}

// A network with BN statistics that are not the identity, in eval mode.
nds::trainer::Net make_net(const Case& c) {
  nds::NetSpec spec = nds::fixed_point(c.name, {3, 10});
  if (c.cifar_stem) spec = nds::with_cifar_stem(spec);
  nds::trainer::Net net = nds::trainer::build_net(spec, 1);
  torch::NoGradGuard no_grad;
  for (auto* bn : net->batch_norms()) {
    bn->running_mean.uniform_(-0.2, 0.2);
    bn->running_var.uniform_(0.5, 2.0);
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.uniform_(-0.2, 0.2);
  }
  net->eval();
  if (c.nhwc) nds::trainer::to_channels_last(*net);
  return net;
}

TEST(TrainerExport, ScriptModuleMatchesInProcess) {
  torch::set_num_threads(1);
  for (const char* name : {"regnet_y_200mf", "googlenet"}) {
    const Case c{name, false, 64};
    nds::trainer::Net net = make_net(c);
    torch::jit::Module m = nds::trainer::to_torchscript(*net);
    torch::NoGradGuard no_grad;
    const torch::Tensor x = torch::randn({2, 3, 64, 64});
    const torch::Tensor want = net->forward(x);
    const torch::Tensor got = m.forward({x}).toTensor();
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-4)) << name;
    // Parameters and BN statistics are there under the builder's names.
    const auto params = m.named_parameters();
    EXPECT_GT(params.size(), 10u);
  }
}

TEST(TrainerExport, PythonLogitsMatchCpp) {
  if (!python_has_torch()) GTEST_SKIP() << kPython << " cannot import torch";
  torch::set_num_threads(1);
  const std::string dir = nds::test::temp_dir("export");
  std::ostringstream manifest;
  for (const Case& c : cases()) {
    nds::trainer::Net net = make_net(c);
    torch::manual_seed(2);
    const torch::Tensor x = torch::randn({3, 3, c.side, c.side});
    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      y = net->forward(c.nhwc ? x.contiguous(at::MemoryFormat::ChannelsLast) : x);
    }
    const std::string base = dir + "/" + c.name;
    nds::trainer::export_torchscript(*net, base + ".pt", {{"model", c.name}});
    write_floats(base + ".x", x);
    write_floats(base + ".y", y);
    manifest << c.name << ' ' << c.side << '\n';
  }
  std::ofstream(dir + "/manifest.txt") << manifest.str();
  const std::string script =
      "import json, sys, torch\n"
      "d = sys.argv[1]\n"
      "for line in open(d + '/manifest.txt'):\n"
      "    name, side = line.split(); side = int(side)\n"
      "    extra = {'nds.json': ''}\n"
      "    m = torch.jit.load(d + '/' + name + '.pt', _extra_files=extra)\n"
      "    assert json.loads(extra['nds.json'])['model'] == name\n"
      "    x = torch.from_file(d + '/' + name + '.x', size=3 * 3 * side * side).view(3, 3, side, side)\n"
      "    want = torch.from_file(d + '/' + name + '.y', size=3 * 10).view(3, 10)\n"
      "    with torch.no_grad():\n"
      "        got = m(x)\n"
      "    diff = (got - want).abs().max().item()\n"
      "    scale = want.abs().max().item()\n"
      "    print(name, diff, scale, tuple(got.shape))\n";
  std::ofstream(dir + "/check.py") << script;
  int status = 0;
  const std::string out =
      run_command(std::string(kPython) + " " + dir + "/check.py " + dir + " 2>&1", &status);
  ASSERT_EQ(status, 0) << out;
  std::istringstream lines(out);
  std::string name, shape;
  double diff = 0, scale = 0;
  size_t seen = 0;
  while (lines >> name >> diff >> scale && std::getline(lines, shape)) {
    SCOPED_TRACE(name);
    EXPECT_LE(diff, 1e-4) << "logits up to " << scale;
    EXPECT_GT(scale, 0);
    EXPECT_NE(shape.find("(3, 10)"), std::string::npos) << shape;
    ++seen;
  }
  EXPECT_EQ(seen, cases().size()) << out;
}

TEST(TrainerExport, SourceIsOneStatementPerLayer) {
  const std::string src = nds::trainer::torchscript_source(nds::fixed_point("resnet18", {0, 10}));
  EXPECT_EQ(src.rfind("def forward(self, x: Tensor) -> Tensor:", 0), 0u);
  EXPECT_NE(src.find("self.blocks_0_0_weight"), std::string::npos);
  EXPECT_NE(src.find("torch.max_pool2d"), std::string::npos);
  EXPECT_NE(src.find("torch.linear"), std::string::npos);
}

TEST(TrainerExport, UnwritablePathIsAnError) {
  nds::trainer::Net net(nds::fixed_point("lenet5"));
  EXPECT_THROW(nds::trainer::export_torchscript(net.operator*(), "/nonexistent/dir/m.pt", {}),
               std::runtime_error);
}

}  // namespace
