#include "trainer/resample.h"

#include <algorithm>
#include <cmath>

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

// Filters source rows first..first+count-1 horizontally into `rows`.
void horizontal(const uint8_t* src, int src_w, int first, int count, const Axis& x, int out_w,
                bool flip, std::vector<float>& rows) {
  rows.resize(static_cast<size_t>(count) * static_cast<size_t>(out_w) * 3);
  for (int r = 0; r < count; ++r) {
    const uint8_t* line = src + static_cast<size_t>(first + r) * static_cast<size_t>(src_w) * 3;
    float* out = &rows[static_cast<size_t>(r) * static_cast<size_t>(out_w) * 3];
    for (int j = 0; j < out_w; ++j) {
      const uint8_t* p = line + static_cast<size_t>(x.start[static_cast<size_t>(j)]) * 3;
      const float* w = &x.weights[static_cast<size_t>(j) * static_cast<size_t>(x.stride)];
      const int n = x.taps[static_cast<size_t>(j)];
      float a = 0, b = 0, c = 0;
      for (int t = 0; t < n; ++t) {
        a += w[t] * p[3 * t];
        b += w[t] * p[3 * t + 1];
        c += w[t] * p[3 * t + 2];
      }
      float* o = out + static_cast<size_t>(flip ? out_w - 1 - j : j) * 3;
      o[0] = a;
      o[1] = b;
      o[2] = c;
    }
  }
}

uint8_t to_byte(float v) {
  return static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f) + 0.5f);
}

}  // namespace

void resample_rgb(const uint8_t* src, int src_w, int src_h, const Box& box, uint8_t* dst,
                  int out_w, int out_h, bool flip, ResampleScratch& s) {
  Axis x{s.x_start, s.x_taps, s.x_weights};
  Axis y{s.y_start, s.y_taps, s.y_weights};
  coefficients(box.x, box.w, src_w, out_w, x);
  coefficients(box.y, box.h, src_h, out_h, y);
  // Only the source rows some output row reads are filtered.
  int first = y.start.front(), last = 0;
  for (int i = 0; i < out_h; ++i) {
    first = std::min(first, y.start[static_cast<size_t>(i)]);
    last = std::max(last, y.start[static_cast<size_t>(i)] + y.taps[static_cast<size_t>(i)]);
  }
  horizontal(src, src_w, first, last - first, x, out_w, flip, s.rows);

  const size_t width = static_cast<size_t>(out_w) * 3;
  s.line.resize(width);
  for (int i = 0; i < out_h; ++i) {
    const float* w = &y.weights[static_cast<size_t>(i) * static_cast<size_t>(y.stride)];
    const int n = y.taps[static_cast<size_t>(i)];
    const float* rows = &s.rows[static_cast<size_t>(y.start[static_cast<size_t>(i)] - first) * width];
    std::fill(s.line.begin(), s.line.end(), 0.0f);
    for (int t = 0; t < n; ++t) {
      const float wt = w[t];
      const float* r = rows + static_cast<size_t>(t) * width;
      for (size_t k = 0; k < width; ++k) s.line[k] += wt * r[k];
    }
    uint8_t* out = dst + static_cast<size_t>(i) * width;
    for (size_t k = 0; k < width; ++k) out[k] = to_byte(s.line[k]);
  }
}

}  // namespace nds::trainer
