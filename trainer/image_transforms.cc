#include "trainer/image_transforms.h"

#include <algorithm>
#include <cmath>

#include "space/seed.h"
#include "trainer/random.h"

namespace nds::trainer {
namespace {

constexpr uint64_t kAugmentSalt = 0x1a6e1a6e1a6e1a6eULL;
constexpr double kPi = 3.14159265358979323846;

std::array<float, 3> draw_lighting(std::mt19937_64& rng) {
  std::array<double, 3> alpha{};
  for (double& a : alpha) a = standard_normal(rng) * kLightingStd;
  std::array<float, 3> rgb{};
  for (int c = 0; c < 3; ++c) {
    double v = 0;
    for (int j = 0; j < 3; ++j)
      v += kLightingEigenvectors[static_cast<size_t>(c)][static_cast<size_t>(j)] *
           alpha[static_cast<size_t>(j)] * kLightingEigenvalues[static_cast<size_t>(j)];
    rgb[static_cast<size_t>(c)] = static_cast<float>(v);
  }
  return rgb;
}

}  // namespace

int test_resize_side(int resolution) {
  return static_cast<int>(std::lround(resolution * 256.0 / 224.0));
}

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

double standard_normal(std::mt19937_64& rng) {
  // Box-Muller; 1 - u keeps the logarithm finite.
  const double u1 = 1.0 - uniform01(rng);
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

std::mt19937_64 image_engine(uint64_t seed, int64_t epoch, int64_t index) {
  return std::mt19937_64(
      derive_seed(seed, kAugmentSalt, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index)));
}

Box center_crop_box(int width, int height, int side, int resolution) {
  // pycls's scale(): the short side becomes `side`, the long one is floored.
  double new_w = side, new_h = side;
  if ((width <= height && width == side) || (height <= width && height == side)) {
    new_w = width;
    new_h = height;
  } else if (width < height) {
    new_h = std::floor(static_cast<double>(height) / width * side);
  } else {
    new_w = std::floor(static_cast<double>(width) / height * side);
  }
  const double x = std::ceil((new_w - resolution) / 2.0);
  const double y = std::ceil((new_h - resolution) / 2.0);
  const double sx = width / new_w, sy = height / new_h;
  return {x * sx, y * sy, resolution * sx, resolution * sy};
}

Box random_sized_crop_box(int width, int height, int resolution, std::mt19937_64& rng) {
  const double area = static_cast<double>(width) * height;
  for (int i = 0; i < kCropTries; ++i) {
    const double target = (kMinCropArea + (1.0 - kMinCropArea) * uniform01(rng)) * area;
    const double aspect = kMinCropAspect + (kMaxCropAspect - kMinCropAspect) * uniform01(rng);
    auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target * aspect)));
    auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target / aspect)));
    if (uniform01(rng) < 0.5) std::swap(w, h);
    if (h <= height && w <= width) {
      // numpy's randint(0, n) excludes n, as in pycls.
      const auto y = h == height ? 0 : uniform_below(rng, static_cast<uint64_t>(height - h));
      const auto x = w == width ? 0 : uniform_below(rng, static_cast<uint64_t>(width - w));
      return {static_cast<double>(x), static_cast<double>(y), static_cast<double>(w),
              static_cast<double>(h)};
    }
  }
  return center_crop_box(width, height, resolution, resolution);
}

ImageTransform draw_transform(int width, int height, int resolution, bool augment, uint64_t seed,
                              int64_t epoch, int64_t index) {
  ImageTransform t;
  if (!augment) {
    t.box = center_crop_box(width, height, test_resize_side(resolution), resolution);
    return t;
  }
  std::mt19937_64 rng = image_engine(seed, epoch, index);
  t.box = random_sized_crop_box(width, height, resolution, rng);
  t.flip = uniform01(rng) < 0.5;
  t.lighting = draw_lighting(rng);
  return t;
}

int decode_denominator(const Box& box, int resolution) {
  for (int d : {8, 4, 2})
    if (box.width / d >= resolution && box.height / d >= resolution) return d;
  return 1;
}

int cache_denominator(int width, int height, int side) {
  const int short_side = std::min(width, height);
  for (int d : {8, 4, 2})
    if (short_side / d >= side) return d;
  return 1;
}

}  // namespace nds::trainer
