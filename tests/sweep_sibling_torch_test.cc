// nds sweep --recipe-of with real training (label torch): the new sweep's
// recipe is the stored one with exactly the keys of the training options
// given replaced (an option given at its default value too), its data is the
// other sweep's, and a recipe that would not change is refused.

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "store/reader.h"
#include "tests/cli_testing.h"

namespace nds::store {
namespace {

using namespace cli_testing;  // tests/cli_testing.h: running nds, scratch folders
using nlohmann::json;

// Sweep a in a scratch database: 3 small RegNetX models, 64 synthetic
// images, one optimizer step each; then its siblings.
class SweepSiblingTorch : public ::testing::Test {
 protected:
  void SetUp() override {
    const CmdResult a = run_nds(
        "sweep --space regnet_x_cifar --flops :20M -n 3 --db " + db_ +
        " --name a --seed 3 --data synthetic --synthetic-size 64 --epochs 1 --batch-size 32 "
        "--steps 1 --lr 0.2 --no-nesterov --threads 1 --quiet");
    ASSERT_EQ(a.code, 0) << a.err;
  }
  CmdResult sibling(const std::string& name, const std::string& extra) const {
    return run_nds("sweep --recipe-of a --db " + db_ + " --name " + name + " --threads 1 --quiet " +
                   extra);
  }
  json recipe_of(const std::string& sweep) const {
    return json::parse(Reader(db_).sweep(sweep).recipe_json);
  }

  ScratchDir dir_{"sweep_sibling_torch"};
  const std::string db_ = dir_.file("r.db");
};

TEST_F(SweepSiblingTorch, ReplacesTheKeysOfTheOptionsGiven) {
  // --epochs 10 is the default: given, it still replaces a's 1; --lr 0.2
  // and --no-nesterov stay a's without being repeated.
  const CmdResult b = sibling("b", "-n 2 --epochs 10 --wd 1e-4");
  ASSERT_EQ(b.code, 0) << b.err;
  json expected = recipe_of("a");
  EXPECT_EQ(expected["train"]["epochs"], 1);
  EXPECT_EQ(expected["train"]["nesterov"], false);
  expected["train"]["epochs"] = 10;
  expected["train"]["weight_decay"] = 1e-4;
  EXPECT_EQ(recipe_of("b"), expected) << json::diff(recipe_of("a"), recipe_of("b"));
  const auto tb = Reader(db_).trials("b");
  ASSERT_EQ(tb.size(), 2u);
  for (const TrialRecord& t : tb) EXPECT_EQ(t.state, TrialState::kComplete) << t.error;
  // The same command resumes.
  const CmdResult again = sibling("b", "-n 2 --epochs 10 --wd 1e-4");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("this run: 0 finished"), std::string::npos) << again.out;
}

TEST_F(SweepSiblingTorch, RefusesTheSameRecipeAndOtherData) {
  const std::string bytes = read_bytes(db_);
  expect_usage_error(sibling("b", ""), "the recipe of b would equal a's");
  expect_usage_error(sibling("b", "--epochs 1 --lr 0.2"), "the recipe of b would equal a's");
  expect_usage_error(sibling("b", "--data fashion-mnist --epochs 2"),
                     "--data fashion-mnist is not the data of the --recipe-of sweep (synthetic)");
  expect_usage_error(sibling("b", "--lr 0"), "--lr must be > 0");
  EXPECT_EQ(read_bytes(db_), bytes);
  // The data named again is fine.
  const CmdResult same_data = sibling("b", "-n 1 --data synthetic --epochs 2");
  ASSERT_EQ(same_data.code, 0) << same_data.err;
}

}  // namespace
}  // namespace nds::store
