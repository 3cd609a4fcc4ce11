// Image folders as a user meets them (label torch): Fashion-MNIST written as
// PNG and JPEG files trains like its IDX files; nds data check names broken
// files; training stops on one with exit 2, or counts it under
// --skip-bad-images; bad input is one line and exit 2.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli_testing.h"
#include "tests/image_testing.h"
#include "tests/trainer_test_util.h"
#include "trainer/data.h"
#include "trainer/feed.h"

namespace nds::trainer {
namespace {

using namespace cli_testing;  // tests/cli_testing.h: running nds, scratch folders
using nlohmann::json;

// The first n images of a Fashion-MNIST split (Debian's files) as raw
// 28x28 bytes and labels.
struct Images {
  std::vector<std::vector<uint8_t>> pixels;
  std::vector<int> labels;
};

Images fashion(const std::string& prefix, int n) {
  const std::string dir = kFashionMnistDir;
  const torch::Tensor x = read_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz", 3);
  const torch::Tensor y = read_idx(dir + "/" + prefix + "-labels-idx1-ubyte.gz", 1);
  Images out;
  for (int i = 0; i < n; ++i) {
    const uint8_t* p = x[i].contiguous().data_ptr<uint8_t>();
    out.pixels.emplace_back(p, p + 28 * 28);
    out.labels.push_back(y[i].item<int>());
  }
  return out;
}

// The same images twice: IDX files in idx/ and an image folder in folder/
// (lossless PNG, every 4th a quality-98 JPEG).
void write_both(const std::string& root, const Images& train, const Images& test) {
  for (int k = 0; k < 10; ++k)
    for (const char* split : {"train", "val"})
      image_testing::make_dirs(root + "/folder/" + split + "/class" + std::to_string(k));
  image_testing::make_dirs(root + "/idx");
  for (const auto& [split, prefix, set] :
       {std::tuple<std::string, std::string, const Images*>{"train", "train", &train},
        {"val", "t10k", &test}}) {
    std::vector<uint8_t> all, labels;
    for (size_t i = 0; i < set->pixels.size(); ++i) {
      const std::string base = root + "/folder/" + split + "/class" +
                               std::to_string(set->labels[i]) + "/" + std::to_string(i);
      if (i % 4 == 3)
        image_testing::write_jpeg(base + ".JPEG", set->pixels[i], 28, 28, 1, 98);
      else
        image_testing::write_png(base + ".png", set->pixels[i], 28, 28, 1);
      all.insert(all.end(), set->pixels[i].begin(), set->pixels[i].end());
      labels.push_back(static_cast<uint8_t>(set->labels[i]));
    }
    const auto n = static_cast<uint32_t>(set->pixels.size());
    test::write_gz(root + "/idx/" + prefix + "-images-idx3-ubyte.gz",
                   test::idx_bytes({n, 28, 28}, all));
    test::write_gz(root + "/idx/" + prefix + "-labels-idx1-ubyte.gz", test::idx_bytes({n}, labels));
  }
}

// A small residual network: a few seconds an epoch on 2,000 images.
std::string small_model(const std::string& dir) {
  const std::string path = dir + "/small.json";
  image_testing::write_bytes(path, [] {
    const std::string s =
        R"({"family":"anynet","block_type":"res_basic_block","stem_type":"res_stem_cifar",)"
        R"("stem_w":16,"depths":[1,1,1],"widths":[16,32,64],"strides":[1,2,2],"head_w":0})";
    return std::vector<uint8_t>(s.begin(), s.end());
  }());
  return path;
}

double test_error(const std::string& args) {
  const CmdResult r = run_nds("train " + args + " --json -q");
  EXPECT_EQ(r.code, 0) << r.err;
  return stdout_json(r).at("test_top1_err").get<double>();
}

TEST(ImageFolderFeed, NormalizationAddsLightingThenStandardizes) {
  const torch::Tensor u8 = torch::randint(0, 256, {3, 5, 4, 3}, torch::kUInt8);
  const torch::Tensor light = torch::randn({3, 3}) * 0.05;
  const Normalization norm{{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};
  const torch::Tensor got = normalize_nhwc(u8, light, norm);
  EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast));
  const torch::Tensor mean = torch::tensor(norm.mean, torch::kDouble).view({1, 3, 1, 1});
  const torch::Tensor std = torch::tensor(norm.std, torch::kDouble).view({1, 3, 1, 1});
  const torch::Tensor want = (u8.permute({0, 3, 1, 2}).to(torch::kDouble) / 255 +
                              light.to(torch::kDouble).view({3, 3, 1, 1}) - mean) /
                             std;
  EXPECT_LT((got.to(torch::kDouble) - want).abs().max().item<double>(), 1e-5);
}

TEST(ImageFolderFeed, BatchesArriveNormalizedWithTheirLabels) {
  ScratchDir dir("imf_feed");
  image_testing::write_photo_folder(dir.path(), {"a", "b", "c"}, 5, 2);
  DataSource source;
  source.kind = DataSource::Kind::kImageFolder;
  source.dir = dir.path();
  DataOptions options;
  options.resolution = 24;
  options.loader_threads = 2;
  const Dataset data = load_dataset(source, options);
  EXPECT_EQ(data.name, "imagefolder:" + dir.path().substr(dir.path().find_last_of('/') + 1));
  EXPECT_EQ(data.train_size(), 15);
  EXPECT_EQ(data.test_size(), 6);
  FeedOptions o;
  o.channels_last = true;
  o.max_batch = 4;
  Feeds feeds = make_feeds(data, o);
  feeds.test->start({}, 0, false, 4, false);
  torch::Tensor x, y;
  std::vector<int64_t> labels;
  while (feeds.test->next(x, y)) {
    EXPECT_EQ(x.size(1), 3);
    EXPECT_EQ(x.size(2), 24);
    EXPECT_TRUE(x.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_EQ(y.scalar_type(), torch::kInt64);
    for (int64_t i = 0; i < y.size(0); ++i) labels.push_back(y[i].item<int64_t>());
  }
  EXPECT_EQ(labels, (std::vector<int64_t>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(feeds.test->decoded(), 6);
}

TEST(ImageFolderTraining, NoAugmentFolderTrainsLikeTheIdxFiles) {
  ScratchDir dir("imf_fashion");
  write_both(dir.path(), fashion("train", 2000), fashion("t10k", 500));
  const std::string common = " --model " + small_model(dir.path()) +
                             " --epochs 4 --batch-size 32 --lr 0.1 --no-zero-init --threads 2 "
                             "--no-augment --seed 1";
  const double idx = test_error("--data fashion-mnist:" + dir.path() + "/idx" + common);
  const double folder = test_error("--data imagefolder:" + dir.path() + "/folder --resolution 28" +
                                   common + " --loader-threads 2");
  std::printf("test top-1 error: IDX files %.2f%%, image folder %.2f%%\n", idx, folder);
  EXPECT_LT(idx, 30.0);
  // The folder's images go through the test transform (short side to 32,
  // center crop 28) as RGB: a few points apart at most.
  EXPECT_NEAR(folder, idx, 5.0);
}

class BrokenFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    image_testing::write_photo_folder(dir_.path(), {"a", "b"}, 12, 4);
    const std::vector<uint8_t> jpeg =
        image_testing::encode_jpeg(image_testing::test_photo(90, 70, 9), 90, 70, 3, 90);
    truncated_ = dir_.path() + "/train/a/truncated.JPEG";
    text_ = dir_.path() + "/train/b/readme.JPEG";
    image_testing::write_bytes(truncated_, {jpeg.begin(), jpeg.begin() + jpeg.size() * 2 / 3});
    image_testing::write_bytes(text_, {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  }
  std::string train(const std::string& extra) {
    return "train --model " + small_model(dir_.path()) + " --data imagefolder:" + dir_.path() +
           " --resolution 32 --epochs 2 --batch-size 13 --threads 1 " +
           "--loader-threads 2 --json -q" + extra;
  }
  ScratchDir dir_{"imf_broken"};
  std::string truncated_, text_;
};

TEST_F(BrokenFolder, DataCheckNamesEveryBrokenFile) {
  const CmdResult r = run_nds("data check --data imagefolder:" + dir_.path() + " --json");
  EXPECT_EQ(r.code, 2) << r.err;
  const json j = stdout_json(r);
  EXPECT_FALSE(j.at("ok").get<bool>());
  const json& bad = j.at("train").at("unreadable");
  ASSERT_EQ(bad.size(), 2u) << r.out;
  EXPECT_EQ(bad[0].at("file"), truncated_);
  EXPECT_EQ(bad[1].at("file"), text_);
  EXPECT_EQ(j.at("train").at("images"), 26);
  EXPECT_EQ(j.at("train").at("min_per_class"), 13);
  EXPECT_EQ(j.at("val").at("unreadable").size(), 0u);
  const CmdResult text = run_nds("data check --data imagefolder:" + dir_.path());
  EXPECT_EQ(text.code, 2);
  EXPECT_NE(text.out.find("unreadable: " + truncated_), std::string::npos) << text.out;
}

TEST_F(BrokenFolder, TrainingStopsOnABrokenFileOrCountsItWhenSkipping) {
  const CmdResult stop = run_nds(train(""));
  expect_usage_error(stop, "");
  EXPECT_TRUE(stop.err.find(truncated_) != std::string::npos ||
              stop.err.find(text_) != std::string::npos)
      << stop.err;

  const CmdResult skip = run_nds(train(" --skip-bad-images"));
  ASSERT_EQ(skip.code, 0) << skip.err;
  const json j = stdout_json(skip);
  EXPECT_EQ(j.at("skipped_images"), 4);  // two files, two epochs
  EXPECT_TRUE(j.at("data").at("skip_bad_images").get<bool>());
  EXPECT_TRUE(std::isfinite(j.at("test_top1_err").get<double>()));
}

TEST_F(BrokenFolder, DataBenchReportsImagesPerSecond) {
  const CmdResult r = run_nds("data bench --data imagefolder:" + dir_.path() +
                              " --resolution 32 --batch-size 4 --threads 2 --epochs 2 --cache 16M "
                              "--no-augment --json");
  ASSERT_EQ(r.code, 2) << "a broken file is bad input here too: " << r.err;
  std::remove(truncated_.c_str());
  std::remove(text_.c_str());
  const CmdResult ok = run_nds("data bench --data imagefolder:" + dir_.path() +
                               " --resolution 32 --batch-size 4 --threads 2 --epochs 2 "
                               "--cache 16M --json");
  ASSERT_EQ(ok.code, 0) << ok.err;
  const json j = stdout_json(ok);
  EXPECT_EQ(j.at("images"), 48);  // 2 epochs of 6 batches of 4
  EXPECT_EQ(j.at("epochs").size(), 2u);
  EXPECT_GT(j.at("images_per_s").get<double>(), 0);
  const CmdResult decode =
      run_nds("data bench --data imagefolder:" + dir_.path() + " --decode-only --threads 2 --json");
  ASSERT_EQ(decode.code, 0) << decode.err;
  EXPECT_EQ(stdout_json(decode).at("mode"), "decode-only");
}

TEST(ImageFolderCli, BadInputIsOneLineAndExit2) {
  ScratchDir dir("imf_badinput");
  const std::string root = dir.path();
  const std::string model = " --model " + small_model(root);
  expect_nds_usage_error("train" + model + " --data imagefolder:" + root + "/missing",
                         root + "/missing");
  expect_nds_usage_error("train" + model + " --data imagefolder:", "imagefolder:DIR");
  expect_nds_usage_error("train" + model + " --data imagefolder:" + root, "no train/");
  // Class b has no image in train/.
  dir.folder("train/b");
  for (const char* class_dir : {"train/a", "val/a", "val/b"})
    image_testing::write_bytes(
        dir.folder(class_dir) + "/x.png",
        image_testing::encode_png(image_testing::test_photo(8, 8, 1), 8, 8, 3));
  expect_nds_usage_error("train" + model + " --data imagefolder:" + root,
                         root + "/train/b' has no image");
  expect_nds_usage_error("data check --data imagefolder:" + root, root + "/train/b' has no image");
  expect_nds_usage_error("train" + model + " --data imagefolder:" + root + " --cache lots",
                         "--cache 'lots'");
  expect_nds_usage_error("train" + model + " --data imagefolder:" + root + " --cache 0",
                         "--cache '0'");
  expect_nds_usage_error("data bench --data imagefolder:" + root + " --cache 5Q", "--cache '5Q'");
  expect_nds_usage_error("train" + model + " --data synthetic --cache 1G", "imagefolder");
  expect_nds_usage_error("train" + model + " --data imagefolder:" + root + " --classes 3",
                         "--classes 3");
  expect_nds_usage_error("data check --data fashion-mnist", "imagefolder:DIR");
  expect_nds_usage_error("data frobnicate", "frobnicate");
}

}  // namespace
}  // namespace nds::trainer
