#pragma once
// pycls's ImageNet transforms as geometry and numbers, without pixels:
//   train: random-sized crop (area 8-100% of the image, aspect 3/4-4/3, 10
//          tries, then the test crop at R), resized to R x R, horizontal flip
//          with p = 1/2, AlexNet PCA lighting noise (std 0.1);
//   test:  short side resized to round(R * 256 / 224), center crop R x R.
// Boxes are in full-size pixel coordinates, so a transform does not depend
// on the scale an image was decoded or cached at. Image i of epoch e draws
// from its own engine seeded by (seed, e, i): the same tensor whatever the
// thread count or order.

#include <array>
#include <cstdint>
#include <random>

#include "trainer/rect.h"

namespace nds::trainer {

// ImageNet's per-channel statistics (RGB, of images scaled to [0, 1]) and
// the eigen-decomposition of its pixel covariance used by PCA lighting
// (pycls's _MEAN, _STD, _EIG_VALS, _EIG_VECS, reordered from BGR to RGB).
constexpr std::array<double, 3> kImageNetMean = {0.485, 0.456, 0.406};
constexpr std::array<double, 3> kImageNetStd = {0.229, 0.224, 0.225};
constexpr std::array<double, 3> kLightingEigenvalues = {0.2175, 0.0188, 0.0045};
constexpr std::array<std::array<double, 3>, 3> kLightingEigenvectors = {{
    {-0.5675, 0.7192, 0.4009},
    {-0.5808, -0.0045, -0.8140},
    {-0.5836, -0.6948, 0.4203},
}};
constexpr double kLightingStd = 0.1;   // pycls's TRAIN.PCA_STD
constexpr double kMinCropArea = 0.08;  // of the image's area
constexpr double kMinCropAspect = 3.0 / 4.0;
constexpr double kMaxCropAspect = 4.0 / 3.0;
constexpr int kCropTries = 10;

// The test transform's resize side: round(R * 256 / 224).
int test_resize_side(int resolution);

// Where an output image comes from and what is added to it.
struct ImageTransform {
  Box box;                          // source rectangle, full-size pixels
  bool flip = false;                // mirror left-right
  std::array<float, 3> lighting{};  // added to each RGB channel in [0, 1] units
};

// The test transform of a width x height image at R: short side to `side`
// (as pycls's scale(): the long side floor(long / short * side)), then the
// centered R x R window (offset ceil((len - R) / 2)). Needs side >= R.
Box center_crop_box(int width, int height, int side, int resolution);

// The random-sized crop of pycls, drawn from `rng`; falls back to the center
// crop of the image resized to R (scale_and_center_crop(im, R, R)).
Box random_sized_crop_box(int width, int height, int resolution, std::mt19937_64& rng);

// The engine of image `index` in `epoch` under `seed`.
std::mt19937_64 image_engine(uint64_t seed, int64_t epoch, int64_t index);

// The whole train transform of one image (crop, flip, lighting), or the
// test transform (no flip, no lighting) when `augment` is false.
ImageTransform draw_transform(int width, int height, int resolution, bool augment, uint64_t seed,
                              int64_t epoch, int64_t index);

// Draws in [0, 1) and N(0, 1) from an engine's raw words (the standard
// distributions differ between libraries).
double uniform01(std::mt19937_64& rng);
double standard_normal(std::mt19937_64& rng);

// Which of libjpeg-turbo's DCT scales 1/denom (denom 8, 4, 2 or 1) is the
// smallest whose image still covers `box` at R x R output, for an image of
// width x height.
int decode_denominator(const Box& box, int resolution);
// The denominator for a cache image whose short side must stay >= side.
int cache_denominator(int width, int height, int side);

}  // namespace nds::trainer
