#include "trainer/resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace nds::trainer {
namespace {

// PIL's bilinear filter: a triangle of support 1.
double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

struct Axis {
  std::vector<int>& start;
  std::vector<int>& taps;
  std::vector<float>& weights;
  int stride = 0;  // weights per output sample
};

// The taps of each output sample along one axis, as PIL's
// precompute_coeffs computes them: output j is centered at
// in0 + (j + 0.5) * scale; the triangle widens by the reduction factor.
void coefficients(double in0, double in_len, int in_size, int out_size, Axis& axis) {
  const double scale = in_len / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = filterscale;
  axis.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  axis.start.resize(static_cast<size_t>(out_size));
  axis.taps.resize(static_cast<size_t>(out_size));
  axis.weights.assign(static_cast<size_t>(out_size) * static_cast<size_t>(axis.stride), 0.0f);
  for (int j = 0; j < out_size; ++j) {
    const double center = in0 + (j + 0.5) * scale;
    int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    int n = std::min(static_cast<int>(center + support + 0.5), in_size) - lo;
    n = std::min(n, axis.stride);
    float* w = &axis.weights[static_cast<size_t>(j) * static_cast<size_t>(axis.stride)];
    double total = 0;
    for (int t = 0; t < n; ++t) {
      const double v = triangle((t + lo - center + 0.5) / filterscale);
      w[t] = static_cast<float>(v);
      total += v;
    }
    if (n <= 0 || total <= 0) {  // a box at or past the edge: nearest pixel
      lo = std::clamp(static_cast<int>(center), 0, in_size - 1);
      n = 1;
      w[0] = 1.0f;
      total = 1.0;
    }
    for (int t = 0; t < n; ++t) w[t] = static_cast<float>(w[t] / total);
    axis.start[static_cast<size_t>(j)] = lo;
    axis.taps[static_cast<size_t>(j)] = n;
  }
}

// Four floats in one SSE/NEON register (GCC and Clang vector extension).
typedef float Float4 __attribute__((vector_size(16)));

// Rounds and clamps three floats into `o`: branch-free on x86-64 (SSE2's
// max, min and round-to-nearest conversion).
void store_rgb(Float4 v, uint8_t* o) {
#if defined(__SSE2__)
  __m128 x;
  std::memcpy(&x, &v, sizeof x);
  x = _mm_min_ps(_mm_max_ps(x, _mm_setzero_ps()), _mm_set1_ps(255.0f));
  alignas(16) int32_t q[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(q), _mm_cvtps_epi32(x));
  o[0] = static_cast<uint8_t>(q[0]);
  o[1] = static_cast<uint8_t>(q[1]);
  o[2] = static_cast<uint8_t>(q[2]);
#else
  for (int c = 0; c < 3; ++c) {
    const float x = v[c] > 0.0f ? (v[c] < 255.0f ? v[c] : 255.0f) : 0.0f;
    o[c] = static_cast<uint8_t>(std::nearbyint(x));
  }
#endif
}

// Output row i of the vertical pass over source columns [x0, x0 + width):
// packed RGB floats in `line` (contiguous, so the loop vectorizes), then
// spread to 4 floats a pixel in `rgbx` for the horizontal pass.
void vertical(const uint8_t* src, int src_w, const Axis& y, int i, int x0, int width,
              std::vector<float>& line, std::vector<float>& rgbx) {
  const size_t n3 = static_cast<size_t>(width) * 3;
  line.assign(n3, 0.0f);
  const float* w = &y.weights[static_cast<size_t>(i) * static_cast<size_t>(y.stride)];
  const int first = y.start[static_cast<size_t>(i)];
  for (int t = 0; t < y.taps[static_cast<size_t>(i)]; ++t) {
    const uint8_t* row =
        src +
        (static_cast<size_t>(first + t) * static_cast<size_t>(src_w) + static_cast<size_t>(x0)) * 3;
    const float wt = w[t];
    float* out = line.data();
    for (size_t k = 0; k < n3; ++k) out[k] += wt * static_cast<float>(row[k]);
  }
  rgbx.resize(static_cast<size_t>(width) * 4);
  for (size_t p = 0; p < static_cast<size_t>(width); ++p) {
    rgbx[4 * p] = line[3 * p];
    rgbx[4 * p + 1] = line[3 * p + 1];
    rgbx[4 * p + 2] = line[3 * p + 2];
    rgbx[4 * p + 3] = 0.0f;
  }
}

// The horizontal pass of one row: each tap is one 4-float multiply-add.
void horizontal(const std::vector<float>& rgbx, const Axis& x, int x0, int out_w, bool flip,
                uint8_t* out) {
  for (int j = 0; j < out_w; ++j) {
    const float* p = &rgbx[static_cast<size_t>(x.start[static_cast<size_t>(j)] - x0) * 4];
    const float* w = &x.weights[static_cast<size_t>(j) * static_cast<size_t>(x.stride)];
    Float4 acc = {0, 0, 0, 0};
    for (int t = 0; t < x.taps[static_cast<size_t>(j)]; ++t) {
      Float4 v;
      std::memcpy(&v, p + 4 * t, sizeof v);
      acc += w[t] * v;
    }
    store_rgb(acc, out + static_cast<size_t>(flip ? out_w - 1 - j : j) * 3);
  }
}

}  // namespace

void resample_rgb(const uint8_t* src, int src_w, int src_h, const Box& box, uint8_t* dst, int out_w,
                  int out_h, bool flip, ResampleScratch& s) {
  Axis x{s.x_start, s.x_taps, s.x_weights};
  Axis y{s.y_start, s.y_taps, s.y_weights};
  coefficients(box.x, box.width, src_w, out_w, x);
  coefficients(box.y, box.height, src_h, out_h, y);
  // Only the source columns some output column reads are filtered.
  int first = x.start.front(), last = 0;
  for (int j = 0; j < out_w; ++j) {
    first = std::min(first, x.start[static_cast<size_t>(j)]);
    last = std::max(last, x.start[static_cast<size_t>(j)] + x.taps[static_cast<size_t>(j)]);
  }
  const size_t row_bytes = static_cast<size_t>(out_w) * 3;
  for (int i = 0; i < out_h; ++i) {
    vertical(src, src_w, y, i, first, last - first, s.line, s.rows);
    horizontal(s.rows, x, first, out_w, flip, dst + static_cast<size_t>(i) * row_bytes);
  }
}

}  // namespace nds::trainer
