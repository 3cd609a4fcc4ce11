// Every fixed point against its published reference numbers.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "space/complexity.h"
#include "space/family.h"
#include "space/zoo.h"

namespace nds {
namespace {

constexpr int64_t kUnpublished = -1;

struct Reference {
  const char* name;
  int64_t params, flops, acts;  // at the native resolution, 1000 classes (LeNet-5: 10)
};

// params: torchvision.models (ImageNet, 1000 classes), Keras for Xception, the
// papers for LeNet-5, GoogLeNet and DenseNet-264. params/flops/acts of the
// RegNets, ResNets and ResNeXts: pycls dev/model_complexity.json.
constexpr Reference kReferences[] = {
    {"lenet5", 61706, kUnpublished, kUnpublished},
    {"alexnet", 61100840, kUnpublished, kUnpublished},
    {"vgg11", 132863336, kUnpublished, kUnpublished},
    {"vgg11_bn", 132868840, kUnpublished, kUnpublished},
    {"vgg13", 133047848, kUnpublished, kUnpublished},
    {"vgg13_bn", 133053736, kUnpublished, kUnpublished},
    {"vgg16", 138357544, kUnpublished, kUnpublished},
    {"vgg16_bn", 138365992, kUnpublished, kUnpublished},
    {"vgg19", 143667240, kUnpublished, kUnpublished},
    {"vgg19_bn", 143678248, kUnpublished, kUnpublished},
    {"googlenet", 6998552, kUnpublished, kUnpublished},
    {"resnet18", 11689512, kUnpublished, kUnpublished},
    {"resnet34", 21797672, kUnpublished, kUnpublished},
    {"resnet50", 25557032, 4089185256, 11315688},
    {"resnet101", 44549160, 7801406440, 16433640},
    {"resnet152", 60192808, 11513627624, 22755816},
    {"resnext50_32x4d", 25028904, 4230480872, 14602216},
    {"resnext101_32x4d", 44177704, 7969997800, 21426152},
    {"resnext101_32x8d", 88791336, kUnpublished, kUnpublished},
    {"resnext152_32x4d", 59951400, 11709514728, 29855720},
    {"densenet121", 7978856, kUnpublished, kUnpublished},
    {"densenet161", 28681000, kUnpublished, kUnpublished},
    {"densenet169", 14149480, kUnpublished, kUnpublished},
    {"densenet201", 20013928, kUnpublished, kUnpublished},
    {"densenet264", 33337704, kUnpublished, kUnpublished},
    {"xception", 22855952, kUnpublished, kUnpublished},
    {"regnet_x_200mf", 2684792, 199040872, 2164056},
    {"regnet_x_400mf", 5157512, 397678568, 3143272},
    {"regnet_x_600mf", 6196040, 600891112, 3975096},
    {"regnet_x_800mf", 7259656, 799700712, 5148744},
    {"regnet_x_1_6gf", 9190136, 1602850792, 7933512},
    {"regnet_x_3_2gf", 15296552, 3176622952, 11367432},
    {"regnet_x_4gf", 22118248, 3964499816, 12201608},
    {"regnet_x_6_4gf", 26209256, 6460292264, 16369744},
    {"regnet_x_8gf", 39572648, 7995133416, 14059688},
    {"regnet_x_12gf", 46106056, 12086679016, 21366568},
    {"regnet_x_16gf", 54278536, 15940756456, 25515496},
    {"regnet_x_32gf", 107811560, 31735930792, 36302160},
    {"regnet_y_200mf", 3162996, 199519076, 2168052},
    {"regnet_y_400mf", 4344144, 401849056, 3892496},
    {"regnet_y_600mf", 6055160, 601227608, 4334296},
    {"regnet_y_800mf", 6263168, 797183328, 5249888},
    {"regnet_y_1_6gf", 11202430, 1612087326, 8044814},
    {"regnet_y_3_2gf", 19436338, 3176496162, 11263418},
    {"regnet_y_4gf", 20646656, 3973301344, 12287200},
    {"regnet_y_6_4gf", 30583252, 6355221876, 16407188},
    {"regnet_y_8gf", 39180068, 7963074196, 17968916},
    {"regnet_y_12gf", 51822544, 12092395504, 21384496},
    {"regnet_y_16gf", 83590140, 15911534044, 23041228},
    {"regnet_y_32gf", 145046770, 32279583362, 30261570},
};

TEST(Zoo, EveryFixedPointMatchesItsReference) {
  std::map<std::string, const Reference*> refs;
  for (const Reference& r : kReferences) refs[r.name] = &r;
  for (const FixedPoint& f : fixed_points()) {
    SCOPED_TRACE(f.name);
    ASSERT_TRUE(refs.count(f.name)) << "fixed point without a reference in this test";
    const Reference& r = *refs[f.name];
    const NetSpec spec = fixed_point(f.name);
    EXPECT_EQ(spec.name, f.name);
    const Complexity c = complexity(spec, spec.resolution);
    EXPECT_EQ(c.params, r.params);
    if (r.flops != kUnpublished) {
      EXPECT_EQ(c.flops, r.flops);
    }
    if (r.acts != kUnpublished) {
      EXPECT_EQ(c.acts, r.acts);
    }
  }
  EXPECT_EQ(refs.size(), fixed_points().size()) << "a reference names no fixed point";
}

TEST(Zoo, NamesAreUniqueAndComplete) {
  std::set<std::string> names;
  for (const FixedPoint& f : fixed_points()) EXPECT_TRUE(names.insert(f.name).second) << f.name;
  for (const char* required :
       {"lenet5", "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg19_bn",
        "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
        "resnext50_32x4d", "resnext101_32x8d", "densenet121", "densenet161", "densenet169",
        "densenet201", "densenet264", "xception", "regnet_x_200mf", "regnet_y_32gf"})
    EXPECT_TRUE(names.count(required)) << required;
  EXPECT_EQ(names.size(), 50u);
}

TEST(Zoo, NativeResolutions) {
  EXPECT_EQ(fixed_point("lenet5").resolution, 32);
  EXPECT_EQ(fixed_point("lenet5").in_channels, 1);
  EXPECT_EQ(fixed_point("lenet5").num_classes, 10);
  EXPECT_EQ(fixed_point("xception").resolution, 299);
  EXPECT_EQ(fixed_point("resnet50").resolution, 224);
}

TEST(Zoo, ClassesAndChannelsOverride) {
  ExpandOptions o;
  o.num_classes = 10;
  o.in_channels = 1;
  const Complexity base = complexity(fixed_point("resnet18"), 224);
  const Complexity small = complexity(fixed_point("resnet18", o), 224);
  // FC 512x1000+1000 -> 512x10+10; stem conv 7x7x3x64 -> 7x7x1x64.
  EXPECT_EQ(base.params - small.params, (512 * 990 + 990) + 7 * 7 * 2 * 64);
}

TEST(Zoo, UnknownNameSuggestsTheClosest) {
  try {
    fixed_point("resnet51");
    FAIL();
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("resnet51"), std::string::npos);
    EXPECT_NE(msg.find("resnet50"), std::string::npos);
  }
  EXPECT_EQ(find_fixed_point("nope"), nullptr);
}

TEST(Families, DispatchErrorsAreNamed) {
  EXPECT_THROW(expand_params(nlohmann::json::array()), std::invalid_argument);
  EXPECT_THROW(expand_params({{"depth", 50}}), std::invalid_argument);
  try {
    expand_params({{"family", "transformer"}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("transformer"), std::string::npos);
  }
  EXPECT_THROW(expand_params({{"family", "alexnet"}, {"dropout", 0.1}}), std::invalid_argument);
  EXPECT_THROW(expand_params({{"family", "alexnet"}, {"num_classes", 0}}), std::invalid_argument);
  const NetSpec ten = expand_params({{"family", "alexnet"}, {"num_classes", 10}});
  EXPECT_EQ(ten.num_classes, 10);
}

}  // namespace
}  // namespace nds
