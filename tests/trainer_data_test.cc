// Datasets: the IDX and CIFAR-10 readers on real and broken files, splits,
// normalization statistics, and the batch pipeline's crop, flip and scaling.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <string>
#include <vector>

#include "tests/trainer_test_util.h"
#include "trainer/augment.h"
#include "trainer/data.h"
#include "trainer/random.h"

namespace {

using nds::test::idx_bytes;
using nds::test::temp_dir;
using nds::test::write_gz;
using nds::trainer::DataError;
using nds::trainer::DataOptions;
using nds::trainer::DataSource;

bool have_fashion_mnist() {
  struct stat st {};
  return ::stat((std::string(nds::trainer::kFashionMnistDir) + "/train-images-idx3-ubyte.gz").c_str(),
                &st) == 0;
}

// The message of the DataError `f` throws (empty, and a failure, if none).
template <typename F>
std::string data_error(F f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no DataError";
  return "";
}

TEST(TrainerData, RealFashionMnistFiles) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string dir = nds::trainer::kFashionMnistDir;
  const torch::Tensor images = nds::trainer::read_idx(dir + "/train-images-idx3-ubyte.gz", 3);
  EXPECT_EQ(images.sizes(), (std::vector<int64_t>{60000, 28, 28}));
  const torch::Tensor labels = nds::trainer::read_idx(dir + "/t10k-labels-idx1-ubyte.gz", 1);
  EXPECT_EQ(labels.sizes(), (std::vector<int64_t>{10000}));
  EXPECT_EQ(labels.min().item<int>(), 0);
  EXPECT_EQ(labels.max().item<int>(), 9);
  // Ten balanced classes.
  EXPECT_EQ(torch::bincount(labels.to(torch::kInt64)).min().item<int64_t>(), 1000);

  DataOptions opt;
  opt.subset = 5000;
  opt.val = 1000;
  const auto d = nds::trainer::load_dataset(nds::trainer::parse_data_source("fashion-mnist"), opt);
  EXPECT_EQ(d.channels, 1);
  EXPECT_EQ(d.side, 28);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{5000, 1, 28, 28}));
  EXPECT_EQ(d.val.size(), 1000);
  EXPECT_EQ(d.test.size(), 10000);
  EXPECT_EQ(d.train.labels.scalar_type(), torch::kInt64);
  // Fashion-MNIST's well-known statistics (0.2860, 0.3530), on a subset.
  EXPECT_NEAR(d.mean[0], 0.286, 0.01);
  EXPECT_NEAR(d.std[0], 0.353, 0.01);
  EXPECT_TRUE(d.flip);
}

TEST(TrainerData, ResizedOnLoad) {
  const std::string dir = temp_dir("resize");
  nds::test::write_fashion(dir, 40, 20);
  DataOptions opt;
  opt.resolution = 32;
  const auto d = nds::trainer::load_dataset(nds::trainer::parse_data_source("fashion-mnist:" + dir), opt);
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{40, 1, 32, 32}));
  EXPECT_EQ(d.test.images.sizes(), (std::vector<int64_t>{20, 1, 32, 32}));
  EXPECT_EQ(d.side, 32);
}

TEST(TrainerData, TruncatedIdxFile) {
  const std::string dir = temp_dir("truncated");
  const std::string path = dir + "/a.gz";
  write_gz(path, idx_bytes({10, 28, 28}, std::vector<uint8_t>(5 * 28 * 28, 1)));
  const std::string msg = data_error([&] { nds::trainer::read_idx(path, 3); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;

  // A gzip stream cut short.
  write_gz(path, idx_bytes({100, 28, 28}, std::vector<uint8_t>(100 * 28 * 28, 3)));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  ASSERT_EQ(::truncate(path.c_str(), st.st_size / 2), 0);
  const std::string cut = data_error([&] { nds::trainer::read_idx(path, 3); });
  EXPECT_NE(cut.find(path), std::string::npos) << cut;

  // A header cut short, and an empty file.
  write_gz(path, {0, 0, 8, 3, 0, 0});
  EXPECT_NE(data_error([&] { nds::trainer::read_idx(path, 3); }).find("header"), std::string::npos);
  write_gz(path, {});
  EXPECT_NE(data_error([&] { nds::trainer::read_idx(path, 1); }).find("truncated"), std::string::npos);

  // Data beyond what the header declares.
  write_gz(path, idx_bytes({4}, {1, 2, 3, 4, 5}));
  EXPECT_NE(data_error([&] { nds::trainer::read_idx(path, 1); }).find("longer"), std::string::npos);
}

TEST(TrainerData, WrongMagicNumber) {
  const std::string dir = temp_dir("magic");
  const std::string path = dir + "/labels.gz";
  write_gz(path, idx_bytes({4}, {1, 2, 3, 4}, /*magic=*/0x00000803));
  const std::string msg = data_error([&] { nds::trainer::read_idx(path, 1); });
  EXPECT_NE(msg.find("magic number 0x00000803"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0x00000801"), std::string::npos) << msg;
  // A float IDX array (type 0x0d) is not bytes.
  write_gz(path, idx_bytes({4}, {1, 2, 3, 4}, /*magic=*/0x00000d01));
  EXPECT_NE(data_error([&] { nds::trainer::read_idx(path, 1); }).find("magic"), std::string::npos);
}

TEST(TrainerData, MissingFiles) {
  const std::string dir = temp_dir("missing");
  EXPECT_NE(data_error([&] { nds::trainer::read_idx(dir + "/nope.gz", 1); }).find("nope.gz"),
            std::string::npos);
  // Only the training images: the labels are named as missing.
  write_gz(dir + "/train-images-idx3-ubyte.gz", idx_bytes({1, 28, 28}, std::vector<uint8_t>(784)));
  const std::string msg = data_error([&] {
    nds::trainer::load_dataset(nds::trainer::parse_data_source("fashion-mnist:" + dir), {});
  });
  EXPECT_NE(msg.find("train-labels-idx1-ubyte.gz"), std::string::npos) << msg;
  const std::string none = data_error([&] {
    nds::trainer::load_dataset(nds::trainer::parse_data_source("fashion-mnist:" + dir + "/x"), {});
  });
  EXPECT_NE(none.find(dir + "/x"), std::string::npos) << none;
}

TEST(TrainerData, MismatchedImageAndLabelCounts) {
  const std::string dir = temp_dir("mismatch");
  nds::test::write_fashion(dir, 20, 10);
  write_gz(dir + "/t10k-labels-idx1-ubyte.gz", idx_bytes({9}, std::vector<uint8_t>(9, 1)));
  const std::string msg = data_error([&] {
    nds::trainer::load_dataset(nds::trainer::parse_data_source("fashion-mnist:" + dir), {});
  });
  EXPECT_NE(msg.find("10 images"), std::string::npos) << msg;
}

TEST(TrainerData, Cifar10Folder) {
  const std::string dir = temp_dir("cifar");
  const auto source = nds::trainer::parse_data_source("cifar10:" + dir);
  // A folder without its files.
  const std::string msg = data_error([&] { nds::trainer::load_dataset(source, {}); });
  EXPECT_NE(msg.find("data_batch_1.bin"), std::string::npos) << msg;
  EXPECT_NE(data_error([&] {
              nds::trainer::load_dataset(nds::trainer::parse_data_source("cifar10:" + dir + "/no"), {});
            }).find("no such folder"),
            std::string::npos);

  // Small batches in the standard format load.
  for (int i = 1; i <= 5; ++i)
    nds::test::write_cifar_batch(dir + "/data_batch_" + std::to_string(i) + ".bin", 12);
  nds::test::write_cifar_batch(dir + "/test_batch.bin", 7);
  const auto d = nds::trainer::load_dataset(source, {});
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{60, 3, 32, 32}));
  EXPECT_EQ(d.test.size(), 7);
  EXPECT_EQ(d.channels, 3);
  EXPECT_EQ(d.train.labels[3].item<int64_t>(), 3);
  // Record 2 of a batch: label 2, then channel-major pixels (2 + p) % 256.
  EXPECT_EQ(d.train.images[2][0][0][5].item<int>(), 7);
  EXPECT_EQ(d.train.images[2][1][0][0].item<int>(), (2 + 1024) % 256);

  // A truncated batch.
  nds::test::write_cifar_batch(dir + "/test_batch.bin", 7, /*extra_bytes=*/100);
  const std::string cut = data_error([&] { nds::trainer::load_dataset(source, {}); });
  EXPECT_NE(cut.find("test_batch.bin"), std::string::npos) << cut;
  EXPECT_NE(cut.find("truncated"), std::string::npos) << cut;
}

TEST(TrainerData, SourcesAndOptions) {
  EXPECT_EQ(nds::trainer::parse_data_source("fashion-mnist").dir, nds::trainer::kFashionMnistDir);
  EXPECT_EQ(nds::trainer::parse_data_source("fashion-mnist:/d").dir, "/d");
  EXPECT_EQ(nds::trainer::parse_data_source("synthetic").kind, DataSource::Kind::kSynthetic);
  EXPECT_THROW(nds::trainer::parse_data_source("cifar10"), std::invalid_argument);
  EXPECT_THROW(nds::trainer::parse_data_source("imagenet"), std::invalid_argument);
  EXPECT_THROW(nds::trainer::parse_data_source("synthetic:3"), std::invalid_argument);

  DataOptions opt;
  opt.synthetic_train = 100;
  opt.synthetic_test = 10;
  opt.subset = 101;
  const auto synthetic = nds::trainer::parse_data_source("synthetic");
  EXPECT_THROW(nds::trainer::load_dataset(synthetic, opt), std::invalid_argument);
  opt.subset = 0;
  opt.val = 100;
  EXPECT_THROW(nds::trainer::load_dataset(synthetic, opt), std::invalid_argument);
  opt.val = 0;
  opt.classes = 3;
  EXPECT_EQ(nds::trainer::load_dataset(synthetic, opt).num_classes, 3);
  const std::string dir = temp_dir("classes");
  nds::test::write_fashion(dir, 10, 10);
  EXPECT_THROW(nds::trainer::load_dataset(nds::trainer::parse_data_source("fashion-mnist:" + dir), opt),
               std::invalid_argument);
}

TEST(TrainerData, SyntheticIsDeterministicAndSplitsAreDisjoint) {
  DataOptions opt;
  opt.synthetic_train = 200;
  opt.synthetic_test = 50;
  opt.val = 40;
  opt.subset = 100;
  opt.seed = 5;
  const auto source = nds::trainer::parse_data_source("synthetic");
  const auto a = nds::trainer::load_dataset(source, opt);
  const auto b = nds::trainer::load_dataset(source, opt);
  EXPECT_TRUE(torch::equal(a.train.images, b.train.images));
  EXPECT_TRUE(torch::equal(a.val.labels, b.val.labels));
  EXPECT_EQ(a.train.size(), 100);
  EXPECT_EQ(a.val.size(), 40);
  EXPECT_EQ(a.train.images.sizes(), (std::vector<int64_t>{100, 3, 32, 32}));
  // No validation image is also a training image (the noise makes them unique).
  const torch::Tensor tr = a.train.images.flatten(1).to(torch::kFloat);
  const torch::Tensor va = a.val.images.flatten(1).to(torch::kFloat);
  EXPECT_GT(torch::cdist(va, tr).min().item<double>(), 0);
  opt.seed = 6;
  EXPECT_FALSE(torch::equal(nds::trainer::load_dataset(source, opt).train.images, a.train.images));
}

TEST(TrainerData, SyntheticStreamsOfNeighbouringSeedsAreUnrelated) {
  // Seeds once came from seed + 1 and seed + 2, so seed 1's training noise
  // (and labels) were seed 0's test noise. Every split of seeds 0..3, with
  // equal sizes, must now draw its own labels, and so its own noise.
  DataOptions opt;
  opt.synthetic_train = 64;
  opt.synthetic_test = 64;
  const auto source = nds::trainer::parse_data_source("synthetic");
  std::vector<torch::Tensor> labels;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    opt.seed = seed;
    const auto d = nds::trainer::load_dataset(source, opt);
    labels.push_back(d.train.labels);
    labels.push_back(d.test.labels);
  }
  for (size_t i = 0; i < labels.size(); ++i)
    for (size_t j = 0; j < i; ++j) EXPECT_FALSE(torch::equal(labels[i], labels[j])) << i << " " << j;

  // The held-out draw moves with the seed too.
  opt.synthetic_train = 200;
  opt.val = 40;
  opt.seed = 0;
  const auto a = nds::trainer::load_dataset(source, opt);
  opt.seed = 1;
  const auto b = nds::trainer::load_dataset(source, opt);
  EXPECT_FALSE(torch::equal(a.val.labels, b.val.labels));
}

TEST(TrainerData, PermutationIsUniformAndReproducible) {
  nds::trainer::Rng r1(3), r2(3);
  const auto p = nds::trainer::permutation(1000, r1);
  EXPECT_EQ(p, nds::trainer::permutation(1000, r2));
  EXPECT_EQ(std::set<int64_t>(p.begin(), p.end()).size(), 1000u);
  // Position of element 0 over many shuffles of 4: each of 4 places ~1/4.
  nds::trainer::Rng r(11);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 40000; ++i) {
    const auto q = nds::trainer::permutation(4, r);
    for (int k = 0; k < 4; ++k)
      if (q[static_cast<size_t>(k)] == 0) ++counts[static_cast<size_t>(k)];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

TEST(TrainerAugment, NormalizationCropAndFlip) {
  const int64_t n = 6, c = 2, h = 5, w = 7;
  const torch::Tensor images =
      torch::arange(n * c * h * w, torch::kInt64).remainder(251).to(torch::kUInt8).view({n, c, h, w});
  const nds::trainer::Normalization norm{{0.5, 0.25}, {0.2, 0.4}};
  nds::trainer::BatchMaker maker(images, norm, /*channels_last=*/false);
  const torch::Tensor index = torch::tensor(std::vector<int64_t>{4, 1, 3});
  const torch::Tensor x = maker.plain(index);
  const torch::Tensor want =
      (images.index_select(0, index).to(torch::kFloat) / 255 - torch::tensor({0.5f, 0.25f}).view({1, 2, 1, 1})) /
      torch::tensor({0.2f, 0.4f}).view({1, 2, 1, 1});
  EXPECT_TRUE(torch::allclose(x, want, 1e-5, 1e-5));

  // Every augmented image is a shifted (padded with zeros) and possibly
  // flipped copy of its source, and over many draws every shift and both
  // flips occur.
  at::Generator gen = at::detail::createCPUGenerator(1);
  const int p = 2;
  const torch::Tensor padded = torch::constant_pad_nd(images, {p, p, p, p}, 0);
  std::set<std::tuple<int, int, bool>> seen;
  for (int round = 0; round < 60; ++round) {
    const torch::Tensor all = torch::arange(n, torch::kInt64);
    const torch::Tensor u8 = maker.augmented(all, {p, true}, gen);
    const torch::Tensor back = (u8 * torch::tensor({0.2f, 0.4f}).view({1, 2, 1, 1}) +
                                torch::tensor({0.5f, 0.25f}).view({1, 2, 1, 1})) * 255;
    for (int64_t i = 0; i < n; ++i) {
      bool found = false;
      for (int oy = 0; oy <= 2 * p && !found; ++oy)
        for (int ox = 0; ox <= 2 * p && !found; ++ox)
          for (bool flip : {false, true}) {
            torch::Tensor crop = padded[i].narrow(1, oy, h).narrow(2, ox, w).to(torch::kFloat);
            if (flip) crop = crop.flip(2);
            if (torch::allclose(back[i], crop, 0, 1e-2)) {
              found = true;
              seen.insert({oy, ox, flip});
              break;
            }
          }
      EXPECT_TRUE(found) << "image " << i << " round " << round;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>((2 * p + 1) * (2 * p + 1) * 2));
}

TEST(TrainerAugment, ChannelsLastBatches) {
  const torch::Tensor images = torch::randint(256, {8, 3, 6, 6}, torch::kInt64).to(torch::kUInt8);
  const nds::trainer::Normalization norm{{0.4, 0.5, 0.6}, {0.2, 0.2, 0.2}};
  nds::trainer::BatchMaker a(images, norm, false), b(images, norm, true);
  const torch::Tensor index = torch::arange(8, torch::kInt64);
  const torch::Tensor y = b.plain(index);
  EXPECT_TRUE(y.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(a.plain(index), y));
}

}  // namespace
