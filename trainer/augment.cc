#include "trainer/augment.h"

#include <stdexcept>
#include <utility>

namespace nds::trainer {

BatchMaker::BatchMaker(torch::Tensor images, const Normalization& norm, bool channels_last)
    : images_(std::move(images)), channels_last_(channels_last) {
  const int64_t c = images_.size(1);
  if (static_cast<int64_t>(norm.mean.size()) != c || static_cast<int64_t>(norm.std.size()) != c)
    throw std::invalid_argument("normalization has " + std::to_string(norm.mean.size()) +
                                " channels, the images " + std::to_string(c));
  std::vector<float> scale, shift;
  for (int64_t k = 0; k < c; ++k) {
    const auto i = static_cast<size_t>(k);
    scale.push_back(static_cast<float>(1.0 / (255.0 * norm.std[i])));
    shift.push_back(static_cast<float>(-norm.mean[i] / norm.std[i]));
  }
  const auto on_device = torch::TensorOptions().device(images_.device());
  scale_ = torch::tensor(scale).view({1, c, 1, 1}).to(on_device);
  shift_ = torch::tensor(shift).view({1, c, 1, 1}).to(on_device);
}

torch::Tensor BatchMaker::normalize(const torch::Tensor& u8) const {
  torch::Tensor x = channels_last_ ? u8.contiguous(at::MemoryFormat::ChannelsLast) : u8;
  // to() keeps the memory format; the two in-place ops keep the one buffer.
  return x.to(torch::kFloat).mul_(scale_).add_(shift_);
}

torch::Tensor BatchMaker::plain(const torch::Tensor& index) const {
  return normalize(images_.index_select(0, index));
}

torch::Tensor BatchMaker::range(int64_t start, int64_t count) const {
  return normalize(images_.narrow(0, start, count));
}

torch::Tensor BatchMaker::augmented(const torch::Tensor& index, const AugmentOptions& aug,
                                    at::Generator& gen) {
  torch::Tensor u8 = images_.index_select(0, index);
  if (aug.crop_padding > 0 || aug.flip) u8 = crop_flip(u8, aug, gen);
  return normalize(u8);
}

// Crop and flip as one gather: output pixel (b, c, i, j) reads the padded
// image b at row oy_b + i and column ox_b + (flip_b ? W-1-j : j).
torch::Tensor BatchMaker::crop_flip(const torch::Tensor& u8, const AugmentOptions& aug,
                                    at::Generator& gen) {
  const int64_t b = u8.size(0), c = u8.size(1), h = u8.size(2), w = u8.size(3);
  const int p = aug.crop_padding;
  const int64_t hp = h + 2 * p, wp = w + 2 * p;
  const auto dev = torch::TensorOptions().device(u8.device()).dtype(torch::kInt64);
  if (grid_batch_ != b || grid_padding_ != p) {
    base_ = (torch::arange(b, dev).view({b, 1, 1, 1}) * (c * hp * wp) +
             torch::arange(c, dev).view({1, c, 1, 1}) * (hp * wp));
    rows_ = torch::arange(h, dev).view({1, 1, h, 1});
    cols_ = torch::arange(w, dev).view({1, 1, 1, w});
    cols_rev_ = cols_.flip(3);
    grid_batch_ = b;
    grid_padding_ = p;
  }
  // One draw per image encodes both offsets and the flip bit: uniform over
  // all (oy, ox, flip), and a single small copy to the device.
  const int64_t offsets = 2 * p + 1;
  const int64_t choices = offsets * offsets * (aug.flip ? 2 : 1);
  const torch::Tensor r = torch::randint(choices, {b}, gen, torch::kInt64).to(u8.device());
  const torch::Tensor oy = r.remainder(offsets).view({b, 1, 1, 1});
  const torch::Tensor ox = r.div(offsets, "floor").remainder_(offsets).view({b, 1, 1, 1});
  const torch::Tensor flip = r.div(offsets * offsets, "floor").view({b, 1, 1, 1}).to(torch::kBool);
  const torch::Tensor cols = torch::where(flip, cols_rev_, cols_) + ox;
  const torch::Tensor index = base_ + (rows_ + oy) * wp + cols;
  const torch::Tensor padded = torch::constant_pad_nd(u8, {p, p, p, p}, 0);
  return padded.reshape({-1}).take(index);
}

}  // namespace nds::trainer
