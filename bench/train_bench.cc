// bench_train: training images/s of nds against the same network in PyTorch
// (bench/train_reference.py, Debian's python3-torch: the same ATen version
// as the LibTorch nds links), measured in the same run.
//
// Setting (project issue): CPU, 2 threads, batch 128, 32x32 input, 10
// classes; regnet_x_200mf with the cifar stem, resnet18 and densenet121 as
// torchvision runs them. nds runs its real training loop (trainer::train:
// data gathered and augmented from an in-memory uint8 set, fused SGD); the
// PyTorch peer runs the ordinary loop on pre-made tensors. Each side first
// runs warm-up steps, then a timed run; the two sides alternate for a few
// rounds and each keeps its best round, so that a burst of load from other
// processes does not decide the ratio. Prints the ratios and the achieved
// GFLOP/s (3 x multiply-adds per image x images/s). Timing never fails the
// run; a parameter-count disagreement between the two networks does.

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/complexity.h"
#include "space/transforms.h"
#include "space/zoo.h"
#include "trainer/builder.h"
#include "trainer/data.h"
#include "trainer/train.h"

#ifndef NDS_SOURCE_DIR
#define NDS_SOURCE_DIR "."
#endif

namespace {

struct Options {
  std::vector<std::string> models = {"regnet_x_200mf", "resnet18", "densenet121"};
  int threads = 2;
  int batch = 128;
  int side = 32;
  int classes = 10;
  int warmup = 2;
  int steps = 8;
  int rounds = 3;
  std::string layout = "auto";  // nds's default: NHWC on the CPU
  std::string python = "/usr/bin/python3";
  std::string script = std::string(NDS_SOURCE_DIR) + "/bench/train_reference.py";
};

[[noreturn]] void usage(const char* argv0, int code) {
  std::cerr << "usage: " << argv0
            << " [--models a,b,c] [--threads T] [--batch B] [--warmup W] [--steps N]\n"
               "       [--rounds R] [--layout auto|nchw|nhwc] [--python PATH] [--python-script PATH]\n";
  std::exit(code);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0], 2);
      return argv[++i];
    };
    if (a == "--models") {
      o.models.clear();
      std::stringstream s(next());
      for (std::string m; std::getline(s, m, ',');) o.models.push_back(m);
    } else if (a == "--threads") {
      o.threads = std::stoi(next());
    } else if (a == "--batch") {
      o.batch = std::stoi(next());
    } else if (a == "--warmup") {
      o.warmup = std::stoi(next());
    } else if (a == "--steps") {
      o.steps = std::stoi(next());
    } else if (a == "--rounds") {
      o.rounds = std::stoi(next());
    } else if (a == "--layout") {
      o.layout = next();
    } else if (a == "--python") {
      o.python = next();
    } else if (a == "--python-script") {
      o.script = next();
    } else if (a == "--help" || a == "-h") {
      usage(argv[0], 0);
    } else {
      usage(argv[0], 2);
    }
  }
  return o;
}

// The networks of the issue: RegNetX-200MF with the small-image stem, the
// others as torchvision builds them (their ImageNet stems at 32x32).
nds::NetSpec bench_spec(const std::string& name, int classes) {
  nds::NetSpec spec = nds::fixed_point(name, {3, classes});
  if (name.rfind("regnet", 0) == 0) spec = nds::with_cifar_stem(spec);
  return spec;
}

struct Side {
  double images_per_s = 0;
  int64_t params = 0;
};

Side run_nds(const nds::trainer::Dataset& data, const Options& o, nds::trainer::Net& net) {
  nds::trainer::TrainConfig c;
  c.batch_size = o.batch;
  c.threads = o.threads;
  c.device = "cpu";
  c.layout = o.layout;
  c.epochs = 1;
  c.max_steps = o.warmup;
  nds::trainer::train(net, data, c);  // warm-up: oneDNN primitives, allocator, caches
  c.max_steps = o.steps;
  const nds::trainer::TrainResult r = nds::trainer::train(net, data, c);
  return {r.images_per_s, nds::trainer::count_parameters(*net)};
}

Side run_python(const std::string& model, const Options& o) {
  const std::string cmd = o.python + " " + o.script + " --model " + model + " --threads " +
                          std::to_string(o.threads) + " --batch-size " + std::to_string(o.batch) +
                          " --resolution " + std::to_string(o.side) + " --classes " +
                          std::to_string(o.classes) + " --warmup " + std::to_string(o.warmup) +
                          " --steps " + std::to_string(o.steps);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("the PyTorch peer failed: " + cmd + "\n" + out);
  const auto j = nlohmann::json::parse(out);
  return {j["images_per_s"].get<double>(), j["params"].get<int64_t>()};
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::printf("bench_train: CPU, %d threads, batch %d, %dx%d input, %d classes; %d warm-up + %d "
              "timed steps, best of %d rounds per side\n",
              o.threads, o.batch, o.side, o.side, o.classes, o.warmup, o.steps, o.rounds);
  std::printf("%-16s %10s %8s %10s %10s %7s %11s %11s\n", "model", "params", "MFLOPs", "nds img/s",
              "torch img/s", "ratio", "nds GFLOP/s", "torch GFLOP/s");
  int failures = 0;
  try {
    for (const std::string& name : o.models) {
      const nds::NetSpec spec = bench_spec(name, o.classes);
      const nds::Complexity cost = nds::complexity(spec, o.side);
      nds::trainer::DataOptions d;
      d.resolution = o.side;
      d.classes = o.classes;
      d.synthetic_train = int64_t{o.batch} * std::max(o.steps, o.warmup);
      d.synthetic_test = 1;  // evaluation is not what is timed
      nds::trainer::Dataset data =
          nds::trainer::load_dataset(nds::trainer::parse_data_source("synthetic"), d);
      // CIFAR-10's augmentation, so the timed loop does everything a real run does.
      data.crop_padding = 4;
      data.flip = true;
      nds::trainer::Net net = nds::trainer::build_net(spec, 0, nds::trainer::TrainConfig().init());
      Side mine, peer;
      for (int r = 0; r < o.rounds; ++r) {
        const Side a = run_nds(data, o, net);
        const Side b = run_python(name, o);
        mine.images_per_s = std::max(mine.images_per_s, a.images_per_s);
        mine.params = a.params;
        peer.images_per_s = std::max(peer.images_per_s, b.images_per_s);
        peer.params = b.params;
      }
      if (mine.params != peer.params) {
        std::printf("%-16s parameter counts differ: nds %lld, PyTorch %lld\n", name.c_str(),
                    static_cast<long long>(mine.params), static_cast<long long>(peer.params));
        ++failures;
        continue;
      }
      const double gflop = 3.0 * static_cast<double>(cost.flops) * 1e-9;
      std::printf("%-16s %10lld %8.1f %10.1f %10.1f %6.2fx %11.2f %11.2f\n", name.c_str(),
                  static_cast<long long>(mine.params), static_cast<double>(cost.flops) * 1e-6,
                  mine.images_per_s, peer.images_per_s, mine.images_per_s / peer.images_per_s,
                  gflop * mine.images_per_s, gflop * peer.images_per_s);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
