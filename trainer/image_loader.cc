#include "trainer/image_loader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>

#include "space/seed.h"
#include "trainer/image_codec.h"
#include "trainer/image_transforms.h"
#include "trainer/jpeg_region.h"
#include "trainer/resample.h"

namespace nds::trainer {
namespace {

constexpr uint64_t kReplaceSalt = 0x5b1b5b1b5b1b5b1bULL;
constexpr int kReplaceTries = 16;  // replacements tried before a pass gives up

size_t align8(size_t n) {
  return (n + 7) & ~size_t{7};
}

// The reduced size of a decoded image whose short side becomes `side`
// (never enlarged).
void cache_size(int w, int h, int side, int& cw, int& ch) {
  const int short_side = std::min(w, h);
  if (short_side <= side) {
    cw = w;
    ch = h;
  } else if (w <= h) {
    cw = side;
    ch = static_cast<int>(std::lround(static_cast<double>(h) * side / w));
  } else {
    ch = side;
    cw = static_cast<int>(std::lround(static_cast<double>(w) * side / h));
  }
}

}  // namespace

SlotLayout SlotLayout::of(int batch, int resolution) {
  SlotLayout l;
  const auto b = static_cast<size_t>(batch);
  l.labels = align8(b * static_cast<size_t>(resolution) * static_cast<size_t>(resolution) * 3);
  l.lighting = l.labels + b * sizeof(int64_t);
  l.bytes = align8(l.lighting + b * 3 * sizeof(float));
  return l;
}

// ---- the cache ----

ImageCache::ImageCache(int64_t ids, int side, int64_t capacity_bytes)
    : side_(side),
      capacity_(capacity_bytes),
      entries_(new std::atomic<Entry*>[static_cast<size_t>(std::max<int64_t>(ids, 1))]),
      ids_(ids) {
  for (int64_t i = 0; i < ids_; ++i) entries_[static_cast<size_t>(i)].store(nullptr);
}

ImageCache::~ImageCache() {
  for (int64_t i = 0; i < ids_; ++i) delete entries_[static_cast<size_t>(i)].load();
}

const ImageCache::Entry* ImageCache::find(int64_t id) const {
  if (id < 0 || id >= ids_) return nullptr;
  return entries_[static_cast<size_t>(id)].load(std::memory_order_acquire);
}

bool ImageCache::insert(int64_t id, int width, int height, const uint8_t* pixels, int cache_width,
                        int cache_height) {
  if (id < 0 || id >= ids_ || find(id)) return false;
  const int64_t bytes = int64_t{cache_width} * cache_height * 3;
  if (used_.fetch_add(bytes) + bytes > capacity_) {
    used_.fetch_sub(bytes);
    return false;
  }
  auto* e = new Entry{width, height, cache_width, cache_height,
                      std::unique_ptr<uint8_t[]>(new uint8_t[static_cast<size_t>(bytes)])};
  std::memcpy(e->pixels.get(), pixels, static_cast<size_t>(bytes));
  Entry* expected = nullptr;
  if (!entries_[static_cast<size_t>(id)].compare_exchange_strong(expected, e,
                                                                 std::memory_order_acq_rel)) {
    used_.fetch_sub(bytes);  // another thread stored it first
    delete e;
    return false;
  }
  return true;
}

std::shared_ptr<ImageCache> shared_image_cache(const std::string& key, int64_t ids, int side,
                                               int64_t capacity_bytes) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<ImageCache>> caches;
  const std::lock_guard<std::mutex> lock(mu);
  std::shared_ptr<ImageCache>& c = caches[key];
  if (!c || c->side() != side || c->capacity() != capacity_bytes)
    c = std::make_shared<ImageCache>(ids, side, capacity_bytes);
  return c;
}

// ---- the loader ----

struct ImageLoader::Worker {
  ImageDecoder decoder;
  JpegRegionDecoder region;      // baseline JPEGs: only the rows and columns a crop needs
  std::vector<uint8_t> file;     // the image's bytes
  std::vector<uint8_t> decoded;  // RGB at the chosen DCT scale
  std::vector<uint8_t> reduced;  // the cache's form of the image
  ResampleScratch scratch;
};

ImageLoader::ImageLoader(const LoaderOptions& options, std::vector<uint8_t*> slots,
                         std::shared_ptr<ImageCache> cache)
    : options_(options),
      layout_(SlotLayout::of(options.max_batch, options.resolution)),
      cache_(std::move(cache)),
      slots_(slots.size()) {
  if (slots.size() < 2) throw std::invalid_argument("the image loader needs at least 2 slots");
  if (options.threads < 1 || options.resolution < 1 || options.max_batch < 1)
    throw std::invalid_argument("the image loader needs threads, resolution and batch >= 1");
  for (size_t s = 0; s < slots.size(); ++s) slots_[s].batch.memory = slots[s];
  for (int t = 0; t < options.threads; ++t) workers_.push_back(std::make_unique<Worker>());
  for (int t = 0; t < options.threads; ++t)
    threads_.emplace_back([this, t] { run(*workers_[static_cast<size_t>(t)]); });
}

ImageLoader::~ImageLoader() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  ready_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ImageLoader::reset_slots() {
  const auto depth = static_cast<int64_t>(slots_.size());
  for (int64_t s = 0; s < depth; ++s) {
    Slot& slot = slots_[static_cast<size_t>(s)];
    slot.owner = s;
    slot.remaining = s < batches_ ? std::min(batch_, images_ - s * batch_) : 0;
    slot.ready = false;
    slot.error_position = -1;
    slot.error.clear();
  }
}

void ImageLoader::start(const ImageList& list, std::vector<int64_t> order, int64_t epoch,
                        bool augment, int batch, bool drop_last) {
  if (batch < 1 || batch > options_.max_batch)
    throw std::invalid_argument("batch " + std::to_string(batch) + " is not in [1, " +
                                std::to_string(options_.max_batch) + "]");
  std::unique_lock<std::mutex> lock(mu_);
  ++generation_;
  images_ = 0;  // no more claims of the old pass
  ready_cv_.wait(lock, [this] { return busy_ == 0; });
  list_ = &list;
  order_ = std::move(order);
  epoch_ = epoch;
  augment_ = augment;
  batch_ = batch;
  const auto n = static_cast<int64_t>(order_.size());
  batches_ = drop_last ? n / batch_ : (n + batch_ - 1) / batch_;
  images_ = drop_last ? batches_ * batch_ : n;
  next_position_ = 0;
  next_batch_ = 0;
  reset_slots();
  lock.unlock();
  work_cv_.notify_all();
}

bool ImageLoader::claim(int64_t& position, int64_t& generation) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto depth = static_cast<int64_t>(slots_.size());
  work_cv_.wait(lock, [&] {
    if (stopping_) return true;
    if (next_position_ >= images_) return false;
    const int64_t b = next_position_ / batch_;
    return slots_[static_cast<size_t>(b % depth)].owner == b;
  });
  if (stopping_) return false;
  position = next_position_++;
  generation = generation_;
  ++busy_;
  return true;
}

void ImageLoader::finish(int64_t position, int64_t generation, const std::string& error) {
  const std::lock_guard<std::mutex> lock(mu_);
  --busy_;
  if (generation == generation_) {
    Slot& slot =
        slots_[static_cast<size_t>((position / batch_) % static_cast<int64_t>(slots_.size()))];
    if (!error.empty() && (slot.error_position < 0 || position < slot.error_position)) {
      slot.error_position = position;
      slot.error = error;
    }
    if (--slot.remaining == 0) slot.ready = true;
  }
  ready_cv_.notify_all();
}

void ImageLoader::run(Worker& worker) {
  int64_t position = 0, generation = 0;
  while (claim(position, generation)) {
    std::string error;
    try {
      process(worker, position);
    } catch (const std::exception& e) {
      error = e.what();
    }
    finish(position, generation, error);
  }
}

void ImageLoader::process(Worker& worker, int64_t position) {
  const int64_t b = position / batch_;
  const int64_t j = position - b * batch_;
  uint8_t* memory =
      slots_[static_cast<size_t>(b % static_cast<int64_t>(slots_.size()))].batch.memory;
  const size_t image_bytes =
      static_cast<size_t>(options_.resolution) * static_cast<size_t>(options_.resolution) * 3;
  uint8_t* pixels = memory + static_cast<size_t>(j) * image_bytes;
  auto* label = reinterpret_cast<int64_t*>(memory + layout_.labels) + j;
  float* lighting = reinterpret_cast<float*>(memory + layout_.lighting) + 3 * j;

  int64_t index = order_[static_cast<size_t>(position)];
  for (int attempt = 0;; ++attempt) {
    try {
      transform_one(worker, index, pixels, lighting);
      *label = list_->labels[static_cast<size_t>(index)];
      return;
    } catch (const std::exception& e) {
      const std::string why = "'" + list_->files[static_cast<size_t>(index)] + "': " + e.what();
      if (!options_.skip_bad_images || attempt + 1 >= kReplaceTries) throw DataError(why);
      const uint64_t id = static_cast<uint64_t>(list_->ids[static_cast<size_t>(index)]);
      index = static_cast<int64_t>(
          derive_seed(options_.seed, kReplaceSalt,
                      static_cast<uint64_t>(epoch_) * 64 + static_cast<uint64_t>(attempt), id) %
          static_cast<uint64_t>(list_->size()));
      skipped_.fetch_add(1);
    }
  }
}

// Where the pixels of one image's crop come from: `pixels` (width x height
// RGB) is the part of the image scaled by (sx, sy) whose top-left corner is
// at (ox, oy) of the scaled image.
struct ImageLoader::Source {
  const uint8_t* pixels = nullptr;
  int width = 0, height = 0;
  double sx = 1, sy = 1, ox = 0, oy = 0;
  Box map(const Box& b) const {
    return {b.x * sx - ox, b.y * sy - oy, b.width * sx, b.height * sy};
  }
};

namespace {

// The scaled pixels a crop's resampling reads: its box plus the filter's
// support (the reduction factor, at least 1) and a guard pixel each side.
PixelRect crop_window(const Box& scaled, int resolution) {
  const int margin = static_cast<int>(std::ceil(
                         std::max({1.0, scaled.width / resolution, scaled.height / resolution}))) +
                     2;
  const int x0 = static_cast<int>(std::floor(scaled.x)) - margin;
  const int y0 = static_cast<int>(std::floor(scaled.y)) - margin;
  const int x1 = static_cast<int>(std::ceil(scaled.x + scaled.width)) + margin;
  const int y1 = static_cast<int>(std::ceil(scaled.y + scaled.height)) + margin;
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace

// Straight from the file at the smallest DCT scale that covers the crop:
// only the crop's part of a baseline JPEG, the whole of anything else.
ImageLoader::Source ImageLoader::decode_for_crop(Worker& w, const ImageInfo& info, const Box& box) {
  const int r = options_.resolution, d = decode_denominator(box, r);
  Source src;
  src.sx = static_cast<double>(scaled_side(info.width, d)) / info.width;
  src.sy = static_cast<double>(scaled_side(info.height, d)) / info.height;
  PixelRect got;
  const Box scaled{box.x * src.sx, box.y * src.sy, box.width * src.sx, box.height * src.sy};
  if (info.format == ImageFormat::kJpeg &&
      w.region.decode(w.file.data(), w.file.size(), d, crop_window(scaled, r), w.decoded, got)) {
    src = {w.decoded.data(), got.width, got.height, src.sx, src.sy, double(got.x), double(got.y)};
    return src;
  }
  const ImageDecoder::Decoded whole = w.decoder.decode(w.file.data(), w.file.size(), d, w.decoded);
  return {w.decoded.data(),
          whole.width,
          whole.height,
          static_cast<double>(whole.width) / info.width,
          static_cast<double>(whole.height) / info.height,
          0,
          0};
}

// The cache's form of an image (stored when it fits): decoded at the
// smallest DCT scale that keeps the cache side, then resized to it.
ImageLoader::Source ImageLoader::reduce_for_cache(Worker& w, const ImageInfo& info, int64_t id) {
  const ImageDecoder::Decoded d =
      w.decoder.decode(w.file.data(), w.file.size(),
                       cache_denominator(info.width, info.height, cache_->side()), w.decoded);
  Source src;
  cache_size(d.width, d.height, cache_->side(), src.width, src.height);
  w.reduced.resize(static_cast<size_t>(src.width) * static_cast<size_t>(src.height) * 3);
  resample_rgb(w.decoded.data(), d.width, d.height, Box{0, 0, double(d.width), double(d.height)},
               w.reduced.data(), src.width, src.height, false, w.scratch);
  cache_->insert(id, info.width, info.height, w.reduced.data(), src.width, src.height);
  src.pixels = w.reduced.data();
  src.sx = static_cast<double>(src.width) / info.width;
  src.sy = static_cast<double>(src.height) / info.height;
  return src;
}

void ImageLoader::transform_one(Worker& w, int64_t index, uint8_t* pixels, float* lighting) {
  const int r = options_.resolution;
  const int64_t id = list_->ids[static_cast<size_t>(index)];
  const ImageCache::Entry* hit = cache_ ? cache_->find(id) : nullptr;
  ImageInfo info;
  if (hit) {
    info.width = hit->width;
    info.height = hit->height;
  } else {
    read_file_bytes(list_->files[static_cast<size_t>(index)], w.file);
    decoded_.fetch_add(1);
    info = w.decoder.info(w.file.data(), w.file.size());
  }
  const ImageTransform t =
      draw_transform(info.width, info.height, r, augment_, options_.seed, epoch_, id);
  Source src;
  if (hit) {
    src = {hit->pixels.get(),
           hit->cache_width,
           hit->cache_height,
           static_cast<double>(hit->cache_width) / hit->width,
           static_cast<double>(hit->cache_height) / hit->height,
           0,
           0};
  } else {
    src = cache_ ? reduce_for_cache(w, info, id) : decode_for_crop(w, info, t.box);
  }
  resample_rgb(src.pixels, src.width, src.height, src.map(t.box), pixels, r, r, t.flip, w.scratch);
  std::copy(t.lighting.begin(), t.lighting.end(), lighting);
}

const LoadedBatch* ImageLoader::next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (next_batch_ >= batches_) return nullptr;
  const int64_t b = next_batch_;
  Slot& slot = slots_[static_cast<size_t>(b % static_cast<int64_t>(slots_.size()))];
  ready_cv_.wait(lock, [&] { return stopping_ || (slot.owner == b && slot.ready); });
  if (stopping_) return nullptr;
  if (slot.error_position >= 0) throw DataError(slot.error);
  ++next_batch_;
  slot.batch.index = b;
  slot.batch.count = std::min(batch_, images_ - b * batch_);
  slot.batch.slot = static_cast<int>(b % static_cast<int64_t>(slots_.size()));
  return &slot.batch;
}

void ImageLoader::release(const LoadedBatch* batch) {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    Slot& slot = slots_[static_cast<size_t>(batch->slot)];
    if (slot.owner != batch->index) return;  // a batch of an abandoned pass
    const int64_t b = batch->index + static_cast<int64_t>(slots_.size());
    slot.owner = b;
    slot.remaining = b < batches_ ? std::min(batch_, images_ - b * batch_) : 0;
    slot.ready = false;
    slot.error_position = -1;
    slot.error.clear();
  }
  work_cv_.notify_all();
}

}  // namespace nds::trainer
