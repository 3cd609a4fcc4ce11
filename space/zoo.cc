#include "space/zoo.h"

#include <algorithm>
#include <stdexcept>

#include "space/family.h"

namespace nds {
namespace {

using nlohmann::json;

constexpr const char* kPyclsZoo = "pycls model zoo (dds_baselines), complexity per pycls";
constexpr const char* kTorchvision = "torchvision.models";

json regnet(int depth, int w_0, double w_a, double w_m, int group_width, bool se) {
  json j = {{"family", "regnet"}, {"depth", depth}, {"w_0", w_0},
            {"w_a", w_a},         {"w_m", w_m},     {"group_width", group_width}};
  if (se) j["se_ratio"] = 0.25;
  return j;
}

json resnet(int depth, int cardinality = 1, int width_per_group = 64) {
  return {{"family", "resnet"},
          {"depth", depth},
          {"cardinality", cardinality},
          {"width_per_group", width_per_group}};
}

json densenet(int growth_rate, std::vector<int> blocks, int init_features) {
  return {{"family", "densenet"},
          {"growth_rate", growth_rate},
          {"block_config", std::move(blocks)},
          {"init_features", init_features}};
}

json vgg(int depth, bool batch_norm) {
  return {{"family", "vgg"}, {"depth", depth}, {"batch_norm", batch_norm}};
}

std::vector<FixedPoint> build_table() {
  std::vector<FixedPoint> t;
  const auto add = [&](const char* name, const char* reference, json params) {
    t.push_back({name, reference, std::move(params)});
  };
  add("lenet5", "LeCun et al. 1998, Gradient-based learning applied to document recognition",
      {{"family", "lenet5"}});
  add("alexnet", kTorchvision, {{"family", "alexnet"}});
  for (int depth : {11, 13, 16, 19}) {
    add(("vgg" + std::to_string(depth)).c_str(), kTorchvision, vgg(depth, false));
    add(("vgg" + std::to_string(depth) + "_bn").c_str(), kTorchvision, vgg(depth, true));
  }
  add("googlenet", "Szegedy et al. 2014, Going deeper with convolutions (Table 1)",
      {{"family", "googlenet"}});
  for (int depth : {18, 34, 50, 101, 152})
    add(("resnet" + std::to_string(depth)).c_str(), kTorchvision, resnet(depth));
  add("resnext50_32x4d", kTorchvision, resnet(50, 32, 4));
  add("resnext101_32x4d", kPyclsZoo, resnet(101, 32, 4));
  add("resnext101_32x8d", kTorchvision, resnet(101, 32, 8));
  add("resnext152_32x4d", kPyclsZoo, resnet(152, 32, 4));
  add("densenet121", kTorchvision, densenet(32, {6, 12, 24, 16}, 64));
  add("densenet161", kTorchvision, densenet(48, {6, 12, 36, 24}, 96));
  add("densenet169", kTorchvision, densenet(32, {6, 12, 32, 32}, 64));
  add("densenet201", kTorchvision, densenet(32, {6, 12, 48, 32}, 64));
  add("densenet264", "Huang et al. 2017, Densely connected convolutional networks (Table 1)",
      densenet(32, {6, 12, 64, 48}, 64));
  add("xception", "Chollet 2017; Keras applications", {{"family", "xception"}});

  // pycls's RegNet zoo, a row per size: its name suffix, then RegNetX's and
  // RegNetY's rule (depth, w_0, w_a, w_m, group width).
  struct Rule {
    int depth, w_0;
    double w_a, w_m;
    int group_width;
  };
  struct Size {
    const char* suffix;
    Rule x, y;
  };
  static constexpr Size kRegNet[] = {
      {"200mf", {13, 24, 36.44, 2.49, 8}, {13, 24, 36.44, 2.49, 8}},
      {"400mf", {22, 24, 24.48, 2.54, 16}, {16, 48, 27.89, 2.09, 8}},
      {"600mf", {16, 48, 36.97, 2.24, 24}, {15, 48, 32.54, 2.32, 16}},
      {"800mf", {16, 56, 35.73, 2.28, 16}, {14, 56, 38.84, 2.4, 16}},
      {"1_6gf", {18, 80, 34.01, 2.25, 24}, {27, 48, 20.71, 2.65, 24}},
      {"3_2gf", {25, 88, 26.31, 2.25, 48}, {21, 80, 42.63, 2.66, 24}},
      {"4gf", {23, 96, 38.65, 2.43, 40}, {22, 96, 31.41, 2.24, 64}},
      {"6_4gf", {17, 184, 60.83, 2.07, 56}, {25, 112, 33.22, 2.27, 72}},
      {"8gf", {23, 80, 49.56, 2.88, 120}, {17, 192, 76.82, 2.19, 56}},
      {"12gf", {19, 168, 73.36, 2.37, 112}, {19, 168, 73.36, 2.37, 112}},
      {"16gf", {22, 216, 55.59, 2.1, 128}, {18, 200, 106.23, 2.48, 112}},
      {"32gf", {23, 320, 69.86, 2.0, 168}, {20, 232, 115.89, 2.53, 232}},
  };
  const auto add_regnet = [&](const char* variant, const char* suffix, const Rule& r, bool se) {
    add((std::string("regnet_") + variant + "_" + suffix).c_str(), kPyclsZoo,
        regnet(r.depth, r.w_0, r.w_a, r.w_m, r.group_width, se));
  };
  for (const Size& z : kRegNet) add_regnet("x", z.suffix, z.x, false);
  for (const Size& z : kRegNet) add_regnet("y", z.suffix, z.y, true);
  return t;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

const std::vector<FixedPoint>& fixed_points() {
  static const std::vector<FixedPoint> table = build_table();
  return table;
}

const FixedPoint* find_fixed_point(const std::string& name) {
  for (const FixedPoint& f : fixed_points())
    if (f.name == name) return &f;
  return nullptr;
}

NetSpec fixed_point(const std::string& name, const ExpandOptions& options) {
  if (const FixedPoint* f = find_fixed_point(name)) {
    NetSpec spec = expand_params(f->params, options);
    spec.name = f->name;
    return spec;
  }
  // Suggest the nearest names, so a typo is a one-step fix.
  std::vector<std::pair<size_t, std::string>> near;
  for (const FixedPoint& f : fixed_points()) near.emplace_back(edit_distance(name, f.name), f.name);
  std::sort(near.begin(), near.end());
  std::string hint;
  for (size_t i = 0; i < near.size() && i < 3; ++i) hint += (i ? ", " : "") + near[i].second;
  throw std::invalid_argument("unknown model '" + name + "' (closest: " + hint +
                              "; see nds describe --list)");
}

}  // namespace nds
