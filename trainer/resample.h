#pragma once
// Resampling a rectangle of an RGB image to an output grid, the way PIL's
// Image.resize(size, BILINEAR, box=...) does it (torchvision's resize of PIL
// images): a separable triangle filter whose support grows with the
// reduction factor, so shrinking is antialiased and enlarging is plain
// bilinear. Output pixel j samples the source at x0 + (j + 0.5) * w / out_w;
// the window is clipped to the image and its weights renormalized.

#include <cstdint>
#include <vector>

#include "trainer/rect.h"

namespace nds::trainer {

// Scratch space one thread reuses from call to call: no allocation once it
// has seen the largest image.
struct ResampleScratch {
  std::vector<int> x_start, y_start;        // first source pixel of each output column/row
  std::vector<int> x_taps, y_taps;          // taps of each output column/row
  std::vector<float> x_weights, y_weights;  // taps per column/row, padded to the widest
  std::vector<float> rows;                  // one vertically filtered row, 4 floats a pixel
  std::vector<float> line;                  // the same row, packed RGB
};

// Resamples `box` of `src` (packed RGB, src_w x src_h) to out_w x out_h
// packed RGB in `dst`; `flip` mirrors the output left-right. Values are
// rounded to the nearest integer and clamped to [0, 255].
void resample_rgb(const uint8_t* src, int src_w, int src_h, const Box& box, uint8_t* dst, int out_w,
                  int out_h, bool flip, ResampleScratch& scratch);

}  // namespace nds::trainer
