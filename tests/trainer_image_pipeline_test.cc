// The image-folder pipeline without LibTorch: indexing, pycls's transforms,
// the threaded loader and its cache, on real JPEG and PNG files written here.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/image_testing.h"
#include "trainer/image_check.h"
#include "trainer/image_codec.h"
#include "trainer/image_folder.h"
#include "trainer/image_loader.h"
#include "trainer/image_transforms.h"
#include "trainer/jpeg_region.h"

namespace nds::trainer {
namespace {

using image_testing::make_dirs;
using image_testing::ScratchFolder;
using image_testing::test_photo;
using image_testing::write_bytes;
using image_testing::write_jpeg;

// ---- a reference resampler: PIL's bilinear resize of a box, in double ----

std::vector<double> taps(double center, double scale, int size, int& lo) {
  const double fs = std::max(scale, 1.0);
  lo = std::max(static_cast<int>(center - fs + 0.5), 0);
  const int hi = std::min(static_cast<int>(center + fs + 0.5), size);
  std::vector<double> w;
  double total = 0;
  for (int k = lo; k < hi; ++k) {
    const double v = std::max(0.0, 1.0 - std::fabs((k - center + 0.5) / fs));
    w.push_back(v);
    total += v;
  }
  for (double& v : w) v /= total;
  return w;
}

std::vector<uint8_t> reference_resample(const std::vector<uint8_t>& src, int sw, int sh,
                                        const Box& b, int r, bool flip) {
  std::vector<uint8_t> out(static_cast<size_t>(r) * r * 3);
  for (int i = 0; i < r; ++i) {
    int ylo = 0;
    const std::vector<double> wy = taps(b.y + (i + 0.5) * b.height / r, b.height / r, sh, ylo);
    for (int j = 0; j < r; ++j) {
      int xlo = 0;
      const std::vector<double> wx = taps(b.x + (j + 0.5) * b.width / r, b.width / r, sw, xlo);
      for (int c = 0; c < 3; ++c) {
        double v = 0;
        for (size_t a = 0; a < wy.size(); ++a)
          for (size_t k = 0; k < wx.size(); ++k)
            v += wy[a] * wx[k] *
                 src[((static_cast<size_t>(ylo) + a) * static_cast<size_t>(sw) +
                      static_cast<size_t>(xlo) + k) *
                         3 +
                     static_cast<size_t>(c)];
        const int jo = flip ? r - 1 - j : j;
        out[(static_cast<size_t>(i) * r + static_cast<size_t>(jo)) * 3 + static_cast<size_t>(c)] =
            static_cast<uint8_t>(std::clamp(std::floor(v + 0.5), 0.0, 255.0));
      }
    }
  }
  return out;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- a loader with its own ring ----

struct Loaded {
  std::vector<std::vector<uint8_t>> pixels;  // per image, R x R x 3
  std::vector<int64_t> labels;
  std::vector<std::array<float, 3>> lighting;
};

class Harness {
 public:
  Harness(int resolution, int threads, int batch, std::shared_ptr<ImageCache> cache = nullptr,
          bool skip = false, uint64_t seed = 7)
      : layout_(SlotLayout::of(batch, resolution)), r_(resolution) {
    for (auto& s : memory_) s.assign(layout_.bytes, 0);
    LoaderOptions o;
    o.resolution = resolution;
    o.threads = threads;
    o.max_batch = batch;
    o.skip_bad_images = skip;
    o.seed = seed;
    loader_ = std::make_unique<ImageLoader>(
        o, std::vector<uint8_t*>{memory_[0].data(), memory_[1].data(), memory_[2].data()},
        std::move(cache));
  }
  Loaded pass(const ImageList& list, std::vector<int64_t> order, int64_t epoch, bool augment,
              int batch) {
    loader_->start(list, std::move(order), epoch, augment, batch, false);
    Loaded out;
    const size_t image = static_cast<size_t>(r_) * r_ * 3;
    while (const LoadedBatch* b = loader_->next()) {
      for (int64_t j = 0; j < b->count; ++j) {
        const uint8_t* p = b->memory + static_cast<size_t>(j) * image;
        out.pixels.emplace_back(p, p + image);
        out.labels.push_back(reinterpret_cast<const int64_t*>(b->memory + layout_.labels)[j]);
        const float* l = reinterpret_cast<const float*>(b->memory + layout_.lighting) + 3 * j;
        out.lighting.push_back({l[0], l[1], l[2]});
      }
      loader_->release(b);
    }
    return out;
  }
  ImageLoader& loader() { return *loader_; }

 private:
  SlotLayout layout_;
  int r_;
  std::vector<uint8_t> memory_[3];
  std::unique_ptr<ImageLoader> loader_;
};

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

double mean_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::abs(int{a[i]} - int{b[i]});
  return s / static_cast<double>(a.size());
}

int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(int{a[i]} - int{b[i]}));
  return m;
}

// ---- indexing ----

TEST(ImageFolderIndex, ClassesAreSortedFolderNamesAndFilesFollowTorchvisionOrder) {
  ScratchFolder dir("imf_index");
  const std::string root = dir.path();
  const std::vector<std::string> classes = {"zebra", "Apple", "cat", "b"};
  for (const char* split : {"train", "val"})
    for (const std::string& c : classes) {
      make_dirs(root + "/" + split + "/" + c + "/sub");
      make_dirs(root + "/" + split + "/" + c + "/.hidden_dir");
      write_bytes(root + "/" + split + "/" + c + "/b.JPEG", {1});
      write_bytes(root + "/" + split + "/" + c + "/a.png", {1});
      write_bytes(root + "/" + split + "/" + c + "/sub/0.jpg", {1});
      write_bytes(root + "/" + split + "/" + c + "/.DS_Store", {1});
      write_bytes(root + "/" + split + "/" + c + "/.hidden_dir/x.jpg", {1});
    }
  const ImageFolder f = index_image_folder(root);
  EXPECT_EQ(f.classes, (std::vector<std::string>{"Apple", "b", "cat", "zebra"}));
  ASSERT_EQ(f.train.size(), 12);
  ASSERT_EQ(f.val.size(), 12);
  EXPECT_EQ(f.train.files[0], root + "/train/Apple/a.png");
  EXPECT_EQ(f.train.files[1], root + "/train/Apple/b.JPEG");
  EXPECT_EQ(f.train.files[2], root + "/train/Apple/sub/0.jpg");
  EXPECT_EQ(f.train.files[11], root + "/train/zebra/sub/0.jpg");
  for (int64_t i = 0; i < 12; ++i) {
    EXPECT_EQ(f.train.labels[static_cast<size_t>(i)], i / 3);
    EXPECT_EQ(f.train.ids[static_cast<size_t>(i)], i);
    EXPECT_EQ(f.val.ids[static_cast<size_t>(i)], 12 + i);  // one id space for the cache
  }
  ImageFolder first = f;
  keep_first_classes(first, 2);
  EXPECT_EQ(first.classes.size(), 2u);
  EXPECT_EQ(first.train.size(), 6);
  EXPECT_EQ(first.val.size(), 6);
}

TEST(ImageFolderIndex, BadLayoutsAreClearErrors) {
  ScratchFolder dir("imf_bad");
  const std::string root = dir.path();
  const auto message = [&](const std::string& r) {
    try {
      index_image_folder(r);
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(root + "/missing").find("no such folder"), std::string::npos);
  EXPECT_NE(message(root).find("no train/"), std::string::npos);
  make_dirs(root + "/train");
  make_dirs(root + "/val/a");
  EXPECT_NE(message(root).find("has no class folder"), std::string::npos);
  make_dirs(root + "/train/a");
  make_dirs(root + "/train/b");
  write_bytes(root + "/train/a/x.jpg", {1});
  EXPECT_NE(message(root).find("not the same set: b (train only)"), std::string::npos);
  make_dirs(root + "/val/b");
  write_bytes(root + "/val/a/x.jpg", {1});
  write_bytes(root + "/val/b/x.jpg", {1});
  EXPECT_NE(message(root).find("class folder '" + root + "/train/b' has no image"),
            std::string::npos);
}

TEST(ImageFolderIndex, BalancedDrawsAreSeededAndBalanced) {
  ImageList list;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 10; ++i) {
      list.files.push_back(std::to_string(k) + "/" + std::to_string(i));
      list.labels.push_back(k);
      list.ids.push_back(k * 10 + i);
    }
  const std::vector<int64_t> a = balanced_draw(list, 7, 1);
  EXPECT_EQ(a, balanced_draw(list, 7, 1));
  EXPECT_NE(a, balanced_draw(list, 7, 2));
  std::map<int, int> per_class;
  for (int64_t i : a) ++per_class[list.labels[static_cast<size_t>(i)]];
  EXPECT_EQ(per_class[0], 3);
  EXPECT_EQ(per_class[1], 2);
  EXPECT_EQ(per_class[2], 2);
  const std::vector<int64_t> rest = balanced_draw(list, 23, 3, a);
  EXPECT_EQ(rest.size(), 23u);
  for (int64_t i : rest) EXPECT_FALSE(std::binary_search(a.begin(), a.end(), i));
}

// ---- transforms ----

TEST(ImageTransforms, TestTransformIsPyclsScaleThenCenterCrop) {
  // 500 x 375 at R = 224: short side to 256, long floor(500 / 375 * 256) = 341,
  // window at ceil((341 - 224) / 2) = 59, ceil((256 - 224) / 2) = 16.
  EXPECT_EQ(test_resize_side(224), 256);
  EXPECT_EQ(test_resize_side(64), 73);
  const Box b = center_crop_box(500, 375, 256, 224);
  EXPECT_DOUBLE_EQ(b.x, 59 * 500.0 / 341);
  EXPECT_DOUBLE_EQ(b.y, 16 * 375.0 / 256);
  EXPECT_DOUBLE_EQ(b.width, 224 * 500.0 / 341);
  EXPECT_DOUBLE_EQ(b.height, 224 * 375.0 / 256);
  const ImageTransform t = draw_transform(500, 375, 224, false, 3, 1, 9);
  EXPECT_DOUBLE_EQ(t.box.x, b.x);
  EXPECT_FALSE(t.flip);
  EXPECT_EQ(t.lighting, (std::array<float, 3>{0, 0, 0}));
}

TEST(ImageTransforms, RandomSizedCropFollowsPycls) {
  // The same draws as pycls's random_sized_crop, spelled out here.
  for (int64_t i = 0; i < 500; ++i) {
    const int w = 120 + static_cast<int>(i % 97), h = 90 + static_cast<int>(i % 61);
    std::mt19937_64 rng = image_engine(5, 2, i);
    const Box got = random_sized_crop_box(w, h, 64, rng);
    std::mt19937_64 ref = image_engine(5, 2, i);
    const auto u = [&] { return static_cast<double>(ref() >> 11) * 0x1.0p-53; };
    Box want = center_crop_box(w, h, 64, 64);
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double area = (0.08 + 0.92 * u()) * w * h;
      const double aspect = 0.75 + (4.0 / 3.0 - 0.75) * u();
      double cw = std::nearbyint(std::sqrt(area * aspect)),
             ch = std::nearbyint(std::sqrt(area / aspect));
      if (u() < 0.5) std::swap(cw, ch);
      if (ch <= h && cw <= w) {
        const auto below = [&](uint64_t n) {
          const uint64_t t = (0 - n) % n;
          uint64_t x = ref();
          while (x < t) x = ref();
          return static_cast<double>(x % n);
        };
        const double y = ch == h ? 0 : below(static_cast<uint64_t>(h - ch));
        const double x = cw == w ? 0 : below(static_cast<uint64_t>(w - cw));
        want = {x, y, cw, ch};
        break;
      }
    }
    ASSERT_EQ(got.x, want.x) << i;
    ASSERT_EQ(got.y, want.y) << i;
    ASSERT_EQ(got.width, want.width) << i;
    ASSERT_EQ(got.height, want.height) << i;
    ASSERT_LE(got.x + got.width, w);
    ASSERT_LE(got.y + got.height, h);
  }
}

TEST(ImageTransforms, FlipAndLightingHaveTheirDistributions) {
  // Lighting is V (alpha * eigenvalues) with alpha ~ N(0, 0.1): recover alpha
  // by solving with V and check its moments; flips are fair coins.
  int flips = 0;
  double sum[3] = {0, 0, 0}, sq[3] = {0, 0, 0};
  const int n = 4000;
  const auto& v = kLightingEigenvectors;
  for (int i = 0; i < n; ++i) {
    const ImageTransform t = draw_transform(300, 200, 64, true, 11, 1, i);
    flips += t.flip;
    // V is orthogonal up to rounding: alpha_j * eig_j = sum_c V[c][j] * l[c].
    for (size_t j = 0; j < 3; ++j) {
      double a = 0;
      for (size_t c = 0; c < 3; ++c) a += v[c][j] * t.lighting[c];
      a /= kLightingEigenvalues[j];
      sum[j] += a;
      sq[j] += a * a;
    }
  }
  EXPECT_NEAR(flips / double(n), 0.5, 0.03);
  for (int j = 0; j < 3; ++j) {
    EXPECT_NEAR(sum[j] / n, 0.0, 0.01);
    EXPECT_NEAR(std::sqrt(sq[j] / n), 0.1, 0.01);
  }
}

// ---- decoding a crop's part ----

TEST(JpegRegion, EqualsTheSamePixelsOfTheFullDecode) {
  // Baseline 4:2:0, 4:2:2, 4:4:4 and gray, windows that start mid-image, touch
  // an edge or cover everything, at every DCT scale: the pixels equal
  // libjpeg-turbo's whole-image decode at that scale, byte for byte.
  const int w = 333, h = 251;
  const std::vector<uint8_t> rgb = test_photo(w, h, 7);
  std::vector<uint8_t> gray(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = rgb[3 * i + 1];
  const std::vector<std::vector<uint8_t>> files = {
      image_testing::encode_jpeg(rgb, w, h, 3, 90, false, TJSAMP_420),
      image_testing::encode_jpeg(rgb, w, h, 3, 90, false, TJSAMP_422),
      image_testing::encode_jpeg(rgb, w, h, 3, 90, false, TJSAMP_444),
      image_testing::encode_jpeg(gray, w, h, 1, 90)};
  const std::vector<PixelRect> windows = {
      {37, 41, 101, 77}, {0, 0, 50, 60}, {200, 150, 500, 500}, {-5, 90, 20, 11}, {0, 0, 333, 251}};
  JpegRegionDecoder region;
  ImageDecoder whole;
  std::vector<uint8_t> part, full;
  for (size_t f = 0; f < files.size(); ++f)
    for (int denom : {1, 2, 4, 8})
      for (const PixelRect& want : windows) {
        SCOPED_TRACE("file " + std::to_string(f) + ", 1/" + std::to_string(denom) + ", window at " +
                     std::to_string(want.x) + "," + std::to_string(want.y));
        PixelRect got;
        ASSERT_TRUE(region.decode(files[f].data(), files[f].size(), denom, want, part, got));
        const ImageDecoder::Decoded d = whole.decode(files[f].data(), files[f].size(), denom, full);
        ASSERT_LE(got.x, std::max(want.x, 0));
        ASSERT_LE(got.x + got.width, d.width);
        ASSERT_LE(got.y + got.height, d.height);
        // libjpeg-turbo upsamples chroma (4:2:0, 4:2:2) at a cut edge from
        // the cut part alone, so the outermost pixels of a window may differ;
        // the loader asks for 2 pixels more than resampling reads each side.
        const int left = got.x > 0 ? 2 : 0, top = got.y > 0 ? 2 : 0;
        const int right = got.x + got.width < d.width ? 2 : 0;
        const int bottom = got.y + got.height < d.height ? 2 : 0;
        int worst = 0;
        for (int y = top; y < got.height - bottom; ++y)
          for (int x = 3 * left; x < (got.width - right) * 3; ++x)
            worst = std::max(
                worst,
                std::abs(int{part[(static_cast<size_t>(y) * got.width) * 3 + x]} -
                         int{full[(static_cast<size_t>(got.y + y) * d.width + got.x) * 3 + x]}));
        EXPECT_EQ(worst, 0);
      }
  // Progressive files are left to the whole-image decoder; truncated data is an error.
  const std::vector<uint8_t> progressive = image_testing::encode_jpeg(rgb, w, h, 3, 90, true);
  PixelRect got;
  EXPECT_FALSE(region.decode(progressive.data(), progressive.size(), 1, {0, 0, 10, 10}, part, got));
  const std::vector<uint8_t> cut(files[0].begin(), files[0].begin() + files[0].size() / 2);
  EXPECT_THROW(region.decode(cut.data(), cut.size(), 1, {0, 200, 50, 50}, part, got), ImageError);
  EXPECT_THROW(region.decode(cut.data(), 10, 1, {0, 0, 5, 5}, part, got), ImageError);
}

// ---- the loader ----

class ImageLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image_testing::write_photo_folder(dir_.path(), {"a", "b", "c"}, 7, 3);
    folder_ = index_image_folder(dir_.path());
  }
  ScratchFolder dir_{"imf_loader"};
  ImageFolder folder_;
};

TEST_F(ImageLoaderTest, TestTransformMatchesAReferenceResampleOfTheFullDecode) {
  // At R = 64 these 50-130 pixel images decode at full size: the loader's
  // pixels are the reference resample of libjpeg-turbo's own decode, to 1.
  Harness h(64, 2, 4);
  const Loaded got = h.pass(folder_.val, iota(folder_.val.size()), 0, false, 4);
  ASSERT_EQ(got.pixels.size(), 9u);
  for (size_t i = 0; i < 9; ++i) {
    int w = 0, hh = 0;
    const std::vector<uint8_t> full =
        image_testing::reference_decode_jpeg(read_bytes(folder_.val.files[i]), &w, &hh);
    const Box b = center_crop_box(w, hh, test_resize_side(64), 64);
    ASSERT_EQ(decode_denominator(b, 64), 1);
    EXPECT_LE(max_abs_diff(got.pixels[i], reference_resample(full, w, hh, b, 64, false)), 1) << i;
    EXPECT_EQ(got.labels[i], folder_.val.labels[i]);
  }
}

TEST_F(ImageLoaderTest, TrainTransformIsCropFlipAndLightingOfTheDecode) {
  Harness h(24, 3, 5);
  const Loaded got = h.pass(folder_.train, iota(folder_.train.size()), 3, true, 5);
  for (size_t i = 0; i < got.pixels.size(); ++i) {
    int w = 0, hh = 0;
    const std::vector<uint8_t> full =
        image_testing::reference_decode_jpeg(read_bytes(folder_.train.files[i]), &w, &hh);
    const ImageTransform t = draw_transform(w, hh, 24, true, 7, 3, folder_.train.ids[i]);
    EXPECT_EQ(got.lighting[i], t.lighting);
    const std::vector<uint8_t> want = reference_resample(full, w, hh, t.box, 24, t.flip);
    if (decode_denominator(t.box, 24) == 1) {
      EXPECT_LE(max_abs_diff(got.pixels[i], want), 1) << i;
    } else {
      // Decoded at 1/2 .. 1/8 in the DCT domain: within 4 gray levels on
      // average of decode-then-resize (measured: under 2).
      EXPECT_LE(mean_abs_diff(got.pixels[i], want), 4.0) << i;
    }
  }
}

TEST_F(ImageLoaderTest, ScaledDecodesStayCloseToFullDecodes) {
  ScratchFolder big("imf_big");
  const std::string dir = big.path() + "/train/x";
  make_dirs(dir);
  make_dirs(big.path() + "/val/x");
  write_jpeg(dir + "/0.JPEG", test_photo(480, 360, 3), 480, 360, 3, 90);
  write_jpeg(big.path() + "/val/x/0.JPEG", test_photo(400, 420, 4), 400, 420, 3, 90);
  const ImageFolder f = index_image_folder(big.path());
  for (int r : {32, 64, 112}) {
    Harness h(r, 1, 1);
    const Loaded got = h.pass(f.train, {0}, 0, false, 1);
    int w = 0, hh = 0;
    const std::vector<uint8_t> full =
        image_testing::reference_decode_jpeg(read_bytes(f.train.files[0]), &w, &hh);
    const Box b = center_crop_box(w, hh, test_resize_side(r), r);
    EXPECT_GT(decode_denominator(b, r), 1);
    EXPECT_LE(mean_abs_diff(got.pixels[0], reference_resample(full, w, hh, b, r, false)), 3.0) << r;
  }
}

TEST_F(ImageLoaderTest, SameImagesWhateverTheThreadsOrOrder) {
  std::vector<int64_t> order = iota(folder_.train.size());
  Harness one(32, 1, 4), four(32, 4, 4);
  const Loaded a = one.pass(folder_.train, order, 2, true, 4);
  const Loaded b = four.pass(folder_.train, order, 2, true, 4);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.lighting, b.lighting);
  std::reverse(order.begin(), order.end());
  const Loaded c = four.pass(folder_.train, order, 2, true, 3);
  for (size_t i = 0; i < order.size(); ++i)
    EXPECT_EQ(c.pixels[i], a.pixels[static_cast<size_t>(order[i])]);
  const Loaded d = four.pass(folder_.train, iota(folder_.train.size()), 3, true, 4);
  EXPECT_NE(d.pixels, a.pixels);  // another epoch, other crops
}

TEST_F(ImageLoaderTest, CacheKeepsImagesAndResultsDoNotDependOnItsSize) {
  const auto big = std::make_shared<ImageCache>(64, test_resize_side(32), int64_t{1} << 30);
  const auto tiny = std::make_shared<ImageCache>(64, test_resize_side(32), 1);
  Harness with_big(32, 2, 4, big), with_tiny(32, 2, 4, tiny);
  const std::vector<int64_t> order = iota(folder_.train.size());
  const Loaded a1 = with_big.pass(folder_.train, order, 1, true, 4);
  const auto stored = [&](const ImageCache& cache) {
    int64_t n = 0;
    for (const int64_t id : folder_.train.ids) n += cache.find(id) ? 1 : 0;
    return n;
  };
  EXPECT_EQ(stored(*big), folder_.train.size());
  EXPECT_EQ(stored(*tiny), 0);
  const Loaded a2 = with_big.pass(folder_.train, order, 2, true, 4);
  const Loaded b2 = with_tiny.pass(folder_.train, order, 2, true, 4);
  EXPECT_EQ(a2.pixels, b2.pixels);
  const ImageCache::Entry* e = big->find(folder_.train.ids[0]);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(std::min(e->cache_width, e->cache_height), test_resize_side(32));
}

TEST_F(ImageLoaderTest, RealWorldFilesLoad) {
  const std::string a = dir_.path() + "/train/a/";
  // PNG bytes in a .JPEG file, a grayscale JPEG, a CMYK JPEG.
  write_bytes(a + "png_inside.JPEG", image_testing::encode_png(test_photo(70, 60, 5), 70, 60, 3));
  std::vector<uint8_t> gray(80 * 64);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i * 7 % 251);
  write_jpeg(a + "gray.JPEG", gray, 80, 64, 1);
  std::vector<uint8_t> cmyk(72 * 66 * 4);
  for (size_t i = 0; i < cmyk.size(); ++i) cmyk[i] = static_cast<uint8_t>(i * 3 % 200);
  image_testing::write_cmyk_jpeg(a + "cmyk.JPEG", cmyk, 72, 66);
  const ImageFolder f = index_image_folder(dir_.path());
  const SplitCheck check = check_images(f.train, 3, 2);
  EXPECT_TRUE(check.unreadable.empty());
  EXPECT_EQ(check.images, 24);
  Harness h(32, 2, 8);
  const Loaded got = h.pass(f.train, iota(f.train.size()), 0, false, 8);
  ASSERT_EQ(got.pixels.size(), 24u);
  for (size_t i = 0; i < f.train.files.size(); ++i)
    if (f.train.files[i] == a + "gray.JPEG")
      for (size_t p = 0; p < got.pixels[i].size(); p += 3) {
        ASSERT_EQ(got.pixels[i][p], got.pixels[i][p + 1]);
        ASSERT_EQ(got.pixels[i][p], got.pixels[i][p + 2]);
      }
}

TEST_F(ImageLoaderTest, BadFilesStopAPassOrAreReplacedAndCounted) {
  const std::string a = dir_.path() + "/train/a/";
  const std::vector<uint8_t> jpeg = read_bytes(folder_.train.files[0]);
  write_bytes(a + "truncated.JPEG",
              std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + jpeg.size() / 2));
  write_bytes(a + "notes.txt", {'h', 'e', 'l', 'l', 'o'});
  const ImageFolder f = index_image_folder(dir_.path());
  const SplitCheck check = check_images(f.train, 3, 2);
  ASSERT_EQ(check.unreadable.size(), 2u);
  EXPECT_EQ(check.unreadable[0].file, a + "notes.txt");
  EXPECT_EQ(check.unreadable[1].file, a + "truncated.JPEG");

  Harness strict(32, 2, 4);
  try {
    strict.pass(f.train, iota(f.train.size()), 0, true, 4);
    FAIL() << "a bad file must stop the pass";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(a + "notes.txt"), std::string::npos) << e.what();
  }
  Harness lenient(32, 2, 4, nullptr, true);
  const Loaded got = lenient.pass(f.train, iota(f.train.size()), 0, true, 4);
  EXPECT_EQ(got.pixels.size(), 23u);
  EXPECT_EQ(lenient.loader().skipped(), 2);
}

}  // namespace
}  // namespace nds::trainer
