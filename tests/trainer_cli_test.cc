// `nds train` as a user runs it: bad input is one line on stderr and exit 2,
// before any training; a short synthetic run prints its JSON record.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/trainer_test_util.h"

namespace {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result nds(const std::string& args) {
  const std::string err_file =
      ::testing::TempDir() + "nds_trainer_cli_" + std::to_string(getpid()) + "_stderr.txt";
  const std::string cmd = std::string(NDS_BINARY) + " " + args + " 2>" + err_file;
  Result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

void expect_usage_error(const std::string& args, const std::string& needle) {
  SCOPED_TRACE(args);
  const Result r = nds(args);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(TrainerCli, BadOptionsAndModels) {
  expect_usage_error("train", "--model");
  expect_usage_error("train --model resnet51 --data synthetic", "resnet51");
  expect_usage_error("train --model resnet18 --data imagenet", "imagenet");
  expect_usage_error("train --model resnet18 --data cifar10", "cifar10:DIR");
  expect_usage_error("train --model resnet18 --data synthetic --stem tiny", "tiny");
  expect_usage_error("train --model resnet18 --data synthetic --epochs 0", "--epochs");
  expect_usage_error("train --model resnet18 --data synthetic --lr -1", "--lr");
  expect_usage_error("train --model resnet18 --data synthetic --warmup inf", "--warmup");
  expect_usage_error("train --model resnet18 --data synthetic --warmup nan", "nan");
  expect_usage_error("train --model resnet18 --data synthetic --lr inf", "--lr");
  expect_usage_error("train --model resnet18 --data synthetic --device tpu", "tpu");
  expect_usage_error("train --model resnet18 --data synthetic --frobnicate", "frobnicate");
  expect_usage_error("train --model vgg11 --data synthetic --stem cifar", "no stem");
  expect_usage_error("train --model resnet18 --data synthetic --export /nonexistent/dir/m.pt",
                     "/nonexistent/dir");
}

TEST(TrainerCli, SpecThatDoesNotFitTheInput) {
  expect_usage_error("train --model alexnet --data synthetic --resolution 16",
                     "spatial size below 1");
  expect_usage_error("train --model lenet5 --data synthetic --resolution 64", "does not fit");
}

TEST(TrainerCli, BadDatasetFiles) {
  expect_usage_error("train --model resnet18 --data fashion-mnist:/nonexistent/fm",
                     "/nonexistent/fm");
  const std::string cifar = nds::test::temp_dir("cli_cifar");
  expect_usage_error("train --model resnet18 --data cifar10:" + cifar, "data_batch_1.bin");

  // Fashion-MNIST folders with a truncated file and a wrong magic number.
  const std::string cut = nds::test::temp_dir("cli_cut");
  nds::test::write_fashion(cut, 50, 20);
  nds::test::write_gz(cut + "/t10k-images-idx3-ubyte.gz",
                      nds::test::idx_bytes({20, 28, 28}, std::vector<uint8_t>(10 * 28 * 28)));
  expect_usage_error("train --model resnet18 --data fashion-mnist:" + cut, "truncated");
  const std::string magic = nds::test::temp_dir("cli_magic");
  nds::test::write_fashion(magic, 50, 20);
  nds::test::write_gz(magic + "/train-labels-idx1-ubyte.gz",
                      nds::test::idx_bytes({50}, std::vector<uint8_t>(50), 0x00000803));
  expect_usage_error("train --model resnet18 --data fashion-mnist:" + magic, "magic number");
  const std::string empty = nds::test::temp_dir("cli_empty");
  expect_usage_error("train --model resnet18 --data fashion-mnist:" + empty,
                     "train-images-idx3-ubyte.gz");

  // Options the data cannot meet.
  nds::test::write_fashion(empty, 50, 20);
  expect_usage_error("train --model resnet18 --data fashion-mnist:" + empty + " --classes 5",
                     "--classes 5");
  expect_usage_error("train --model resnet18 --data fashion-mnist:" + empty + " --subset 51",
                     "--subset 51");
  expect_usage_error("train --model resnet18 --data fashion-mnist:" + empty + " --batch-size 64",
                     "--batch-size 64");
}

TEST(TrainerCli, ShortSyntheticRunPrintsItsRecord) {
  const std::string dir = nds::test::temp_dir("cli_run");
  const Result r = nds("train --model resnet18 --data synthetic --resolution 16 --synthetic-size 256 "
                       "--batch-size 32 --steps 3 --threads 1 --json --export " +
                       dir + "/m.pt");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"], "resnet18");
  EXPECT_EQ(j["steps"], 3);
  EXPECT_EQ(j["params"], 11181642);  // resnet18 with 10 classes
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["diverged"], false);
  EXPECT_TRUE(j.contains("test_top1_err"));
  EXPECT_EQ(j["data"]["train_images"], 256);
  EXPECT_TRUE(std::ifstream(dir + "/m.pt").good());
  EXPECT_NE(r.err.find("epoch 1/10"), std::string::npos) << r.err;  // progress on stderr

  // The cifar stem on a Fashion-MNIST-shaped folder: 1 channel in, 28x28.
  const std::string fm = nds::test::temp_dir("cli_fm");
  nds::test::write_fashion(fm, 64, 32);
  const Result s = nds("train --model regnet_x_200mf --stem cifar --data fashion-mnist:" + fm +
                       " --batch-size 32 --epochs 1 --threads 1 --json -q");
  ASSERT_EQ(s.code, 0) << s.err;
  const auto k = nlohmann::json::parse(s.out);
  EXPECT_EQ(k["model"], "regnet_x_200mf_cifar");
  EXPECT_EQ(k["resolution"], 28);
  EXPECT_EQ(k["spec"]["in_channels"], 1);
  EXPECT_EQ(k["steps"], 2);
  EXPECT_TRUE(s.err.empty()) << s.err;
}

TEST(TrainerCli, Help) {
  const Result r = nds("train --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--stem"), std::string::npos);
  EXPECT_NE(r.out.find("--export"), std::string::npos);
}

}  // namespace
