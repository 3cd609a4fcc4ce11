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

// Tiny: 3 small RegNetX models, 64 synthetic images, one optimizer step each.
std::string sweep_a(const ScratchDir& dir) {
  return "sweep --space regnet_x_cifar --flops :20M -n 3 --db " + dir.file("r.db") +
         " --name a --seed 3 --data synthetic --synthetic-size 64 --epochs 1 --batch-size 32 "
         "--steps 1 --lr 0.2 --no-nesterov --threads 1 --quiet";
}

std::string sibling(const ScratchDir& dir, const std::string& name, const std::string& extra) {
  return "sweep --recipe-of a --db " + dir.file("r.db") + " --name " + name +
         " --threads 1 --quiet " + extra;
}

json recipe_of(const ScratchDir& dir, const std::string& sweep) {
  return json::parse(Reader(dir.file("r.db")).sweep(sweep).recipe_json);
}

TEST(SweepSiblingTorch, ReplacesTheKeysOfTheOptionsGiven) {
  ScratchDir dir("sweep_sibling_torch");
  const CmdResult a = run_nds(sweep_a(dir));
  ASSERT_EQ(a.code, 0) << a.err;
  // --epochs 10 is the default: given, it still replaces a's 1; --lr 0.2
  // and --no-nesterov stay a's without being repeated.
  const CmdResult b = run_nds(sibling(dir, "b", "-n 2 --epochs 10 --wd 1e-4"));
  ASSERT_EQ(b.code, 0) << b.err;
  json expected = recipe_of(dir, "a");
  EXPECT_EQ(expected["train"]["epochs"], 1);
  EXPECT_EQ(expected["train"]["nesterov"], false);
  expected["train"]["epochs"] = 10;
  expected["train"]["weight_decay"] = 1e-4;
  EXPECT_EQ(recipe_of(dir, "b"), expected) << json::diff(recipe_of(dir, "a"), recipe_of(dir, "b"));
  const Reader r(dir.file("r.db"));
  const auto tb = r.trials("b");
  ASSERT_EQ(tb.size(), 2u);
  for (const TrialRecord& t : tb) EXPECT_EQ(t.state, TrialState::kComplete) << t.error;
  // The same command resumes.
  const CmdResult again = run_nds(sibling(dir, "b", "-n 2 --epochs 10 --wd 1e-4"));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("this run: 0 finished"), std::string::npos) << again.out;
}

TEST(SweepSiblingTorch, RefusesTheSameRecipeAndOtherData) {
  ScratchDir dir("sweep_sibling_torch");
  ASSERT_EQ(run_nds(sweep_a(dir)).code, 0);
  const std::string bytes = read_bytes(dir.file("r.db"));
  expect_usage_error(run_nds(sibling(dir, "b", "")), "the recipe of b would equal a's");
  expect_usage_error(run_nds(sibling(dir, "b", "--epochs 1 --lr 0.2")),
                     "the recipe of b would equal a's");
  expect_usage_error(run_nds(sibling(dir, "b", "--data fashion-mnist --epochs 2")),
                     "--data fashion-mnist is not the data of the --recipe-of sweep (synthetic)");
  expect_usage_error(run_nds(sibling(dir, "b", "--lr 0")), "--lr must be > 0");
  EXPECT_EQ(read_bytes(dir.file("r.db")), bytes);
  // The data named again is fine.
  const CmdResult same_data = run_nds(sibling(dir, "b", "-n 1 --data synthetic --epochs 2"));
  ASSERT_EQ(same_data.code, 0) << same_data.err;
}

}  // namespace
}  // namespace nds::store
