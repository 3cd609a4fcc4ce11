#pragma once
// An axis-aligned rectangle of an image: its top-left corner and its size.
// A decoder reads whole pixels (PixelRect); a crop and its resampling place
// the rectangle anywhere between them (Box). No LibTorch.

namespace nds::trainer {

template <typename T>
struct Rect {
  T x = 0;
  T y = 0;
  T width = 0;
  T height = 0;
};

using PixelRect = Rect<int>;  // in whole pixels, e.g. of the 1/denom-scaled image
using Box = Rect<double>;     // in pixel coordinates, not necessarily whole

}  // namespace nds::trainer
