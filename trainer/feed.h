#pragma once
// Where a split's batches come from, as the network takes them: normalized
// float images (N x C x H x W, channels-last memory when asked) and int64
// labels on the training device. Data held in memory is gathered, cropped and
// flipped on the device (BatchMaker); image folders stream through the
// threaded ImageLoader into a ring of (pinned, under CUDA) host buffers, and
// each batch moves to the device in one non-blocking copy.

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "trainer/augment.h"
#include "trainer/data.h"

namespace nds::trainer {

class Feed {
 public:
  virtual ~Feed() = default;
  virtual int64_t size() const = 0;
  // Starts a pass over the split: in `order` (positions in the split), or in
  // storage order when `order` is empty; with the training augmentation of
  // `epoch` or without. drop_last drops a short last batch.
  virtual void start(const std::vector<int64_t>& order, int64_t epoch, bool augment,
                     int64_t batch, bool drop_last) = 0;
  // The pass's next batch; false after its last.
  virtual bool next(torch::Tensor& images, torch::Tensor& labels) = 0;
  // Seconds the consumer waited for data so far (streaming feeds).
  virtual double wait_seconds() const { return 0; }
  // Unreadable images replaced so far (--skip-bad-images), and images read
  // from their files so far, by this feed's loader (shared by a dataset's
  // feeds).
  virtual int64_t skipped() const { return 0; }
  virtual int64_t decoded() const { return 0; }
};

struct FeedOptions {
  torch::Device device{torch::kCPU};
  bool channels_last = false;
  uint64_t seed = 0;         // augmentation draws
  int64_t max_batch = 128;   // the largest batch a pass will ask for
};

// The feeds of a dataset's splits (val is null without a validation split,
// test without a test split).
struct Feeds {
  std::unique_ptr<Feed> train, val, test;
};
Feeds make_feeds(const Dataset& data, const FeedOptions& options);

// Normalizes uint8 NHWC images with per-image lighting offsets in one pass:
// out[b, c, y, x] = (u8 / 255 + lighting[b, c] - mean[c]) / std[c], as a
// float N x C x H x W tensor in channels-last memory. `reuse`, when it is a
// tensor of that shape that nothing else holds, is written in place (a new
// 77 MB batch each step would be mapped and faulted in each time).
torch::Tensor normalize_nhwc(const torch::Tensor& u8, const torch::Tensor& lighting,
                             const Normalization& norm, torch::Tensor reuse = {});

}  // namespace nds::trainer
