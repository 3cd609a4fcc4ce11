#pragma once
// The image-folder pipeline: a pool of threads that reads, decodes (at the
// smallest DCT scale that still covers the crop) and transforms images into
// uint8 NHWC batches, in a bounded ring of caller-owned buffers, ahead of the
// consumer. Each batch arrives in order and is a pure function of (seed,
// epoch, the images' ids): the same bytes with 1 or 16 threads. Nothing is
// allocated per image in steady state. An optional decode-once cache keeps
// every image, reduced to a documented side, for every later epoch and every
// later trial of the process. No LibTorch: the trainer wraps the buffers.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "trainer/image_codec.h"
#include "trainer/image_folder.h"
#include "trainer/resample.h"

namespace nds::trainer {

// One ring slot, one contiguous buffer (one copy moves a batch to a GPU):
// pixels (batch x R x R x 3 uint8), labels (batch int64), lighting (batch x 3
// float, added to each image's RGB in [0, 1] units before normalization).
struct SlotLayout {
  size_t labels = 0;  // byte offsets
  size_t lighting = 0;
  size_t bytes = 0;  // the whole slot
  static SlotLayout of(int batch, int resolution);
};

// Decoded images kept for the life of the process, shared by every loader
// that reads the same folder at the same resolution. Each image is stored as
// RGB with its short side reduced to the test transform's resize side
// round(R * 256 / 224) (never enlarged), decoded at the smallest DCT scale
// that keeps that side, then resized (antialiased). With a cache on, every
// image goes through that reduced form, stored or not, so results depend on
// whether a cache is used, never on its size or on what it happened to hold.
class ImageCache {
 public:
  struct Entry {
    int width = 0, height = 0;  // of the original image
    int cache_width = 0, cache_height = 0;
    std::unique_ptr<uint8_t[]> pixels;  // cache_width x cache_height x 3
  };
  ImageCache(int64_t ids, int side, int64_t capacity_bytes);
  ~ImageCache();
  ImageCache(const ImageCache&) = delete;
  ImageCache& operator=(const ImageCache&) = delete;

  int side() const { return side_; }
  int64_t capacity() const { return capacity_; }
  // Null when image `id` is not stored.
  const Entry* find(int64_t id) const;
  // Stores a copy when it fits in the capacity; false otherwise.
  bool insert(int64_t id, int width, int height, const uint8_t* pixels, int cache_width,
              int cache_height);

 private:
  int side_;
  int64_t capacity_;
  std::atomic<int64_t> used_{0};
  std::unique_ptr<std::atomic<Entry*>[]> entries_;
  int64_t ids_;
};

// The process's cache for `key` (a folder and resolution), made on first use
// with room for `ids` images and `capacity_bytes`; later calls with the same
// key share it.
std::shared_ptr<ImageCache> shared_image_cache(const std::string& key, int64_t ids, int side,
                                               int64_t capacity_bytes);

struct LoaderOptions {
  int resolution = 224;          // output side R
  int threads = 1;               // decoding threads
  int max_batch = 128;           // the largest batch a pass asks for
  bool skip_bad_images = false;  // replace an unreadable image by a seeded other one
  uint64_t seed = 0;             // crops, flips, lighting, replacements
};

struct LoadedBatch {
  int64_t index = 0;  // batch number in the pass
  int64_t count = 0;  // images in it
  int slot = 0;
  uint8_t* memory = nullptr;  // the slot
};

class ImageLoader {
 public:
  // `slots` (at least 2) are buffers of SlotLayout::of(max_batch, R).bytes
  // owned by the caller (pinned host memory under CUDA). `cache` may be null.
  ImageLoader(const LoaderOptions& options, std::vector<uint8_t*> slots,
              std::shared_ptr<ImageCache> cache);
  ~ImageLoader();
  ImageLoader(const ImageLoader&) = delete;
  ImageLoader& operator=(const ImageLoader&) = delete;

  // Starts a pass over list[order[0]], list[order[1]], ... in batches of
  // `batch` (a short last batch unless drop_last), with the train transform
  // (augment) or the test transform. Abandons any pass under way; batches of
  // an earlier pass must not be used after. `list` must outlive the pass.
  void start(const ImageList& list, std::vector<int64_t> order, int64_t epoch, bool augment,
             int batch, bool drop_last);
  // The pass's next batch, waiting for it; null after the last. Throws
  // DataError naming the file when an image of this batch cannot be decoded
  // (and skip_bad_images is off).
  const LoadedBatch* next();
  // Hands a batch's slot back for refilling.
  void release(const LoadedBatch* batch);

  const LoaderOptions& options() const { return options_; }
  const SlotLayout& layout() const { return layout_; }
  int64_t skipped() const { return skipped_.load(); }  // images replaced so far
  int64_t decoded() const { return decoded_.load(); }  // images read from their files so far

 private:
  struct Worker;
  struct Source;
  struct Slot {
    int64_t owner = 0;      // the batch allowed to fill it next
    int64_t remaining = 0;  // images still to come for that batch
    bool ready = false;
    int64_t error_position = -1;  // first image that failed, and why
    std::string error;
    LoadedBatch batch;
  };
  void run(Worker& worker);
  bool claim(int64_t& position, int64_t& generation);
  void finish(int64_t position, int64_t generation, const std::string& error);
  void process(Worker& worker, int64_t position);
  void transform_one(Worker& worker, int64_t list_index, uint8_t* pixels, float* lighting);
  Source decode_for_crop(Worker& worker, const ImageInfo& info, const Box& box);
  Source reduce_for_cache(Worker& worker, const ImageInfo& info, int64_t id);
  void reset_slots();

  LoaderOptions options_;
  SlotLayout layout_;
  std::shared_ptr<ImageCache> cache_;
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> skipped_{0};
  std::atomic<int64_t> decoded_{0};

  std::mutex mu_;
  std::condition_variable work_cv_;   // workers: a position or a slot became available
  std::condition_variable ready_cv_;  // consumer: a batch is ready; start(): workers idle
  bool stopping_ = false;
  int64_t generation_ = 0;
  int64_t busy_ = 0;  // images being processed
  // The pass.
  const ImageList* list_ = nullptr;
  std::vector<int64_t> order_;
  int64_t epoch_ = 0;
  bool augment_ = false;
  int64_t batch_ = 1;
  int64_t images_ = 0;  // in the pass
  int64_t batches_ = 0;
  int64_t next_position_ = 0;
  int64_t next_batch_ = 0;  // the consumer's
};

}  // namespace nds::trainer
