#pragma once
// Batches for the network: uint8 images gathered by index, augmented and
// normalized with a fixed handful of tensor ops per batch, on the device the
// data lives on. No per-image or per-pixel host loops.

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace nds::trainer {

struct Normalization {
  std::vector<double> mean;  // per channel, of images scaled to [0, 1]
  std::vector<double> std;
};

struct AugmentOptions {
  int crop_padding = 0;  // random crop of the image padded by this many zero pixels; 0 = none
  bool flip = false;     // random horizontal flip with probability 1/2
};

class BatchMaker {
 public:
  // `images` is the whole uint8 N x C x H x W split, already on its device.
  BatchMaker(torch::Tensor images, const Normalization& norm, bool channels_last);

  // Normalized float images images[index]; `index` is int64 on the images' device.
  torch::Tensor plain(const torch::Tensor& index) const;
  // Normalized float images start .. start + count - 1 (no gather).
  torch::Tensor range(int64_t start, int64_t count) const;

  // The same with a random crop and flip per image, drawn from `gen` (a CPU
  // generator, so that the draws do not depend on the device).
  torch::Tensor augmented(const torch::Tensor& index, const AugmentOptions& aug,
                          at::Generator& gen);

 private:
  torch::Tensor normalize(const torch::Tensor& u8) const;
  torch::Tensor crop_flip(const torch::Tensor& u8, const AugmentOptions& aug, at::Generator& gen);

  torch::Tensor images_;
  torch::Tensor scale_;  // 1 x C x 1 x 1: 1 / (255 std)
  torch::Tensor shift_;  // 1 x C x 1 x 1: -mean / std
  bool channels_last_;
  // Index grids of crop_flip for the last batch size and padding seen.
  int64_t grid_batch_ = -1;
  int grid_padding_ = -1;
  torch::Tensor base_;      // B x C x 1 x 1: offset of each (image, channel) plane
  torch::Tensor rows_;      // 1 x 1 x H x 1: 0..H-1
  torch::Tensor cols_;      // 1 x 1 x 1 x W: 0..W-1
  torch::Tensor cols_rev_;  // 1 x 1 x 1 x W: W-1..0
};

}  // namespace nds::trainer
