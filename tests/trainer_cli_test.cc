// `nds train` as a user runs it: bad input is one line on stderr and exit 2,
// before any training; a short synthetic run prints its JSON record.

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_testing.h"
#include "tests/trainer_test_util.h"

namespace {

using namespace nds::cli_testing;  // tests/cli_testing.h: running nds, scratch folders

TEST(TrainerCli, BadOptionsAndModels) {
  expect_nds_usage_error("train", "--model");
  expect_nds_usage_error("train --model resnet51 --data synthetic", "resnet51");
  expect_nds_usage_error("train --model resnet18 --data imagenet", "imagenet");
  expect_nds_usage_error("train --model resnet18 --data cifar10", "cifar10:DIR");
  expect_nds_usage_error("train --model resnet18 --data synthetic --stem tiny", "tiny");
  expect_nds_usage_error("train --model resnet18 --data synthetic --epochs 0", "--epochs");
  expect_nds_usage_error("train --model resnet18 --data synthetic --lr -1", "--lr");
  expect_nds_usage_error("train --model resnet18 --data synthetic --warmup inf", "--warmup");
  expect_nds_usage_error("train --model resnet18 --data synthetic --warmup nan", "nan");
  expect_nds_usage_error("train --model resnet18 --data synthetic --lr inf", "--lr");
  expect_nds_usage_error("train --model resnet18 --data synthetic --device tpu", "tpu");
  expect_nds_usage_error("train --model resnet18 --data synthetic --frobnicate", "frobnicate");
  expect_nds_usage_error("train --model vgg11 --data synthetic --stem cifar", "no stem");
  expect_nds_usage_error("train --model resnet18 --data synthetic --export /nonexistent/dir/m.pt",
                         "/nonexistent/dir");
}

TEST(TrainerCli, SpecThatDoesNotFitTheInput) {
  expect_nds_usage_error("train --model alexnet --data synthetic --resolution 16",
                         "spatial size below 1");
  expect_nds_usage_error("train --model lenet5 --data synthetic --resolution 64", "does not fit");
}

TEST(TrainerCli, BadDatasetFiles) {
  const ScratchDir dir("trainer_cli");
  expect_nds_usage_error("train --model resnet18 --data fashion-mnist:/nonexistent/fm",
                         "/nonexistent/fm");
  const std::string cifar = dir.folder("cifar");
  expect_nds_usage_error("train --model resnet18 --data cifar10:" + cifar, "data_batch_1.bin");

  // Fashion-MNIST folders with a truncated file and a wrong magic number.
  const std::string cut = dir.folder("cut");
  nds::test::write_fashion(cut, 50, 20);
  nds::test::write_gz(cut + "/t10k-images-idx3-ubyte.gz",
                      nds::test::idx_bytes({20, 28, 28}, std::vector<uint8_t>(10 * 28 * 28)));
  expect_nds_usage_error("train --model resnet18 --data fashion-mnist:" + cut, "truncated");
  const std::string magic = dir.folder("magic");
  nds::test::write_fashion(magic, 50, 20);
  nds::test::write_gz(magic + "/train-labels-idx1-ubyte.gz",
                      nds::test::idx_bytes({50}, std::vector<uint8_t>(50), 0x00000803));
  expect_nds_usage_error("train --model resnet18 --data fashion-mnist:" + magic, "magic number");
  const std::string empty = dir.folder("empty");
  expect_nds_usage_error("train --model resnet18 --data fashion-mnist:" + empty,
                         "train-images-idx3-ubyte.gz");

  // Options the data cannot meet.
  nds::test::write_fashion(empty, 50, 20);
  expect_nds_usage_error("train --model resnet18 --data fashion-mnist:" + empty + " --classes 5",
                         "--classes 5");
  expect_nds_usage_error("train --model resnet18 --data fashion-mnist:" + empty + " --subset 51",
                         "--subset 51");
  expect_nds_usage_error(
      "train --model resnet18 --data fashion-mnist:" + empty + " --batch-size 64",
      "--batch-size 64");
}

TEST(TrainerCli, ShortSyntheticRunPrintsItsRecord) {
  const ScratchDir dir("trainer_cli");
  const CmdResult r = run_nds(
      "train --model resnet18 --data synthetic --resolution 16 --synthetic-size 256 "
      "--batch-size 32 --steps 3 --threads 1 --json --export " +
      dir.file("m.pt"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = stdout_json(r);
  EXPECT_EQ(j["model"], "resnet18");
  EXPECT_EQ(j["steps"], 3);
  EXPECT_EQ(j["params"], 11181642);  // resnet18 with 10 classes
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["diverged"], false);
  EXPECT_TRUE(j.contains("test_top1_err"));
  EXPECT_EQ(j["data"]["train_images"], 256);
  EXPECT_TRUE(std::ifstream(dir.file("m.pt")).good());
  EXPECT_NE(r.err.find("epoch 1/10"), std::string::npos) << r.err;  // progress on stderr

  // The cifar stem on a Fashion-MNIST-shaped folder: 1 channel in, 28x28.
  const std::string fm = dir.folder("fm");
  nds::test::write_fashion(fm, 64, 32);
  const CmdResult s =
      run_nds("train --model regnet_x_200mf --stem cifar --data fashion-mnist:" + fm +
              " --batch-size 32 --epochs 1 --threads 1 --json -q");
  ASSERT_EQ(s.code, 0) << s.err;
  const auto k = stdout_json(s);
  EXPECT_EQ(k["model"], "regnet_x_200mf_cifar");
  EXPECT_EQ(k["resolution"], 28);
  EXPECT_EQ(k["spec"]["in_channels"], 1);
  EXPECT_EQ(k["steps"], 2);
  EXPECT_TRUE(s.err.empty()) << s.err;
}

TEST(TrainerCli, Help) {
  const CmdResult r = run_nds("train --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--stem"), std::string::npos);
  EXPECT_NE(r.out.find("--export"), std::string::npos);
}

}  // namespace
