// Every fixed point built in LibTorch has exactly the analytic parameter
// count of space/complexity.h. Slow (tens of seconds): the zoo holds
// networks of over 100M parameters, each allocated and initialized.

#include <gtest/gtest.h>

#include "space/complexity.h"
#include "space/zoo.h"
#include "trainer/builder.h"

namespace {

TEST(TrainerFixedPoints, EveryFixedPointHasTheAnalyticParamCount) {
  torch::set_num_threads(1);
  for (const nds::FixedPoint& f : nds::fixed_points()) {
    SCOPED_TRACE(f.name);
    // 10 classes keeps the giant classifiers (VGG, AlexNet) smaller; the
    // count must match either way (the builder test checks 1000 classes).
    const nds::NetSpec spec = nds::fixed_point(f.name, {0, 10});
    const nds::trainer::Net net(spec);
    EXPECT_EQ(nds::trainer::count_parameters(*net), nds::complexity(spec, spec.resolution).params);
  }
}

}  // namespace
