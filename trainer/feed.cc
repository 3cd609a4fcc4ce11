#include "trainer/feed.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/Event.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <stdexcept>

#include "space/seed.h"
#include "trainer/image_loader.h"
#include "trainer/image_transforms.h"
#include "trainer/train.h"

namespace nds::trainer {
namespace {

// Augmentation draws of in-memory data: their own stream of the run's seed.
constexpr uint64_t kAugmentSalt = 0xa06a06a06a06a06aULL;
constexpr int kRingSlots = 4;  // batches in flight between the loader and the step
constexpr size_t kMaxCopiesInFlight = 2;  // device copies not yet known to be done

using Clock = std::chrono::steady_clock;

int64_t pass_end(int64_t n, int64_t batch, bool drop_last) {
  return drop_last ? n / batch * batch : n;
}

// ---- data held in memory ----

class MemoryFeed : public Feed {
 public:
  MemoryFeed(const Split& split, const Normalization& norm, const FeedOptions& o,
             const AugmentOptions& aug)
      : maker_(split.images.to(o.device), norm, o.channels_last),
        labels_(split.labels.to(o.device)),
        aug_(aug),
        gen_(at::detail::createCPUGenerator(derive_seed(o.seed, kAugmentSalt))),
        device_(o.device) {}

  int64_t size() const override { return labels_.size(0); }

  void start(const std::vector<int64_t>& order, int64_t, bool augment, int64_t batch,
             bool drop_last) override {
    order_ = order.empty() ? torch::Tensor() : torch::tensor(order, torch::kInt64).to(device_);
    augment_ = augment && (aug_.crop_padding > 0 || aug_.flip);
    batch_ = batch;
    pos_ = 0;
    end_ = pass_end(order.empty() ? size() : static_cast<int64_t>(order.size()), batch, drop_last);
  }

  bool next(torch::Tensor& images, torch::Tensor& labels) override {
    if (pos_ >= end_) return false;
    const int64_t m = std::min(batch_, end_ - pos_);
    if (order_.defined()) {
      const torch::Tensor index = order_.narrow(0, pos_, m);
      images = augment_ ? maker_.augmented(index, aug_, gen_) : maker_.plain(index);
      labels = labels_.index_select(0, index);
    } else {  // storage order: no gather
      images = maker_.range(pos_, m);
      labels = labels_.narrow(0, pos_, m);
    }
    pos_ += m;
    return true;
  }

 private:
  BatchMaker maker_;
  torch::Tensor labels_;
  AugmentOptions aug_;
  at::Generator gen_;
  torch::Device device_;
  torch::Tensor order_;
  bool augment_ = false;
  int64_t batch_ = 1, pos_ = 0, end_ = 0;
};

// ---- image folders ----

// The loader and its ring of host buffers, shared by a dataset's feeds (one
// pass at a time). Under CUDA a slot goes back to the loader only once its
// copy to the device is known to be done.
class Ring {
 public:
  Ring(const FolderSplits& f, int resolution, const FeedOptions& o)
      : device_(o.device),
        slots_(make_slots(static_cast<int>(o.max_batch), resolution, o.device)),
        loader_(loader_options(f, resolution, o), pointers(slots_), cache_for(f, resolution)) {}

  ~Ring() { drain(); }

  ImageLoader& loader() { return loader_; }
  const torch::Tensor& slot(int s) const { return slots_[static_cast<size_t>(s)]; }

  // After a batch's slot was copied to the device: release once done.
  void copied(const LoadedBatch* b) {
    c10::Event done(device_.type());
    done.record(c10::impl::getDeviceGuardImpl(device_.type())->getStream(device_));
    pending_.push_back({b, std::move(done)});
    while (!pending_.empty() && (pending_.size() > kMaxCopiesInFlight || pending_.front().done.query())) {
      while (!pending_.front().done.query()) std::this_thread::yield();
      loader_.release(pending_.front().batch);
      pending_.pop_front();
    }
  }

  // Before another pass: every slot back.
  void drain() {
    for (Pending& p : pending_) {
      while (!p.done.query()) std::this_thread::yield();
      loader_.release(p.batch);
    }
    pending_.clear();
  }

 private:
  struct Pending {
    const LoadedBatch* batch;
    c10::Event done;
  };

  static std::vector<torch::Tensor> make_slots(int batch, int resolution, torch::Device device) {
    const SlotLayout layout = SlotLayout::of(batch, resolution);
    std::vector<torch::Tensor> slots;
    const auto options = torch::TensorOptions(torch::kUInt8).pinned_memory(device.is_cuda());
    for (int s = 0; s < kRingSlots; ++s)
      slots.push_back(torch::empty({static_cast<int64_t>(layout.bytes)}, options));
    return slots;
  }
  static std::vector<uint8_t*> pointers(const std::vector<torch::Tensor>& slots) {
    std::vector<uint8_t*> p;
    for (const torch::Tensor& t : slots) p.push_back(t.data_ptr<uint8_t>());
    return p;
  }
  static LoaderOptions loader_options(const FolderSplits& f, int resolution, const FeedOptions& o) {
    LoaderOptions l;
    l.resolution = resolution;
    l.threads = f.loader_threads > 0 ? f.loader_threads : available_cores();
    l.max_batch = static_cast<int>(o.max_batch);
    l.skip_bad_images = f.skip_bad_images;
    l.seed = o.seed;
    return l;
  }
  static std::shared_ptr<ImageCache> cache_for(const FolderSplits& f, int resolution) {
    if (f.cache_bytes <= 0) return nullptr;
    return shared_image_cache(f.root + "@" + std::to_string(resolution), f.ids,
                              test_resize_side(resolution), f.cache_bytes);
  }

  torch::Device device_;
  std::vector<torch::Tensor> slots_;
  ImageLoader loader_;
  std::deque<Pending> pending_;
};

class ImageFeed : public Feed {
 public:
  ImageFeed(std::shared_ptr<Ring> ring, const ImageList& list, const Normalization& norm,
            const FeedOptions& o, int resolution)
      : ring_(std::move(ring)), list_(list), norm_(norm), options_(o), resolution_(resolution) {
    // The device path's normalization: u8 * scale + (lighting - mean) / std.
    std::vector<float> scale, inv_std, mean_over_std;
    for (size_t c = 0; c < 3; ++c) {
      scale.push_back(static_cast<float>(1.0 / (255.0 * norm.std[c])));
      inv_std.push_back(static_cast<float>(1.0 / norm.std[c]));
      mean_over_std.push_back(static_cast<float>(norm.mean[c] / norm.std[c]));
    }
    scale_ = torch::tensor(scale).view({1, 3, 1, 1}).to(o.device);
    inv_std_ = torch::tensor(inv_std).view({1, 3}).to(o.device);
    mean_over_std_ = torch::tensor(mean_over_std).view({1, 3}).to(o.device);
  }

  int64_t size() const override { return list_.size(); }
  double wait_seconds() const override { return wait_; }
  int64_t skipped() const override { return ring_->loader().skipped(); }
  int64_t decoded() const override { return ring_->loader().decoded(); }

  void start(const std::vector<int64_t>& order, int64_t epoch, bool augment, int64_t batch,
             bool drop_last) override {
    ring_->drain();
    std::vector<int64_t> o = order;
    if (o.empty())
      for (int64_t i = 0; i < size(); ++i) o.push_back(i);
    ring_->loader().start(list_, std::move(o), epoch, augment, static_cast<int>(batch), drop_last);
  }

  bool next(torch::Tensor& images, torch::Tensor& labels) override {
    const Clock::time_point t0 = Clock::now();
    const LoadedBatch* b = ring_->loader().next();
    wait_ += std::chrono::duration<double>(Clock::now() - t0).count();
    if (!b) return false;
    const SlotLayout& layout = ring_->loader().layout();
    torch::Tensor bytes = ring_->slot(b->slot);
    if (options_.device.is_cuda()) bytes = bytes.to(options_.device, /*non_blocking=*/true);
    const int64_t n = b->count, r = resolution_;
    const torch::Tensor u8 = bytes.narrow(0, 0, n * r * r * 3).view({n, r, r, 3});
    labels = bytes.narrow(0, static_cast<int64_t>(layout.labels), n * 8).view(torch::kInt64);
    const torch::Tensor lighting =
        bytes.narrow(0, static_cast<int64_t>(layout.lighting), n * 12).view(torch::kFloat).view({n, 3});
    if (options_.device.is_cuda()) {
      images = u8.permute({0, 3, 1, 2}).to(torch::kFloat).mul_(scale_).add_(
          (lighting * inv_std_ - mean_over_std_).view({n, 3, 1, 1}));
      ring_->copied(b);
    } else {
      images = normalize_nhwc(u8, lighting, norm_, std::move(images));
      labels = labels.clone();  // the slot is refilled after release
      ring_->loader().release(b);
    }
    if (!options_.channels_last) images = images.contiguous();
    return true;
  }

 private:
  std::shared_ptr<Ring> ring_;
  const ImageList& list_;
  Normalization norm_;
  FeedOptions options_;
  int resolution_;
  torch::Tensor scale_, inv_std_, mean_over_std_;
  double wait_ = 0;
};

}  // namespace

torch::Tensor normalize_nhwc(const torch::Tensor& u8, const torch::Tensor& lighting,
                             const Normalization& norm, torch::Tensor reuse) {
  const int64_t n = u8.size(0), h = u8.size(1), w = u8.size(2);
  const bool free_to_reuse = reuse.defined() && reuse.use_count() == 1 &&
                             reuse.storage().use_count() == 1 && reuse.is_cpu() &&
                             reuse.scalar_type() == torch::kFloat &&
                             reuse.sizes() == torch::IntArrayRef({n, 3, h, w}) &&
                             reuse.is_contiguous(at::MemoryFormat::ChannelsLast);
  torch::Tensor out = free_to_reuse
                          ? std::move(reuse)
                          : torch::empty({n, 3, h, w},
                                         torch::TensorOptions(torch::kFloat)
                                             .memory_format(at::MemoryFormat::ChannelsLast));
  const uint8_t* in = u8.contiguous().data_ptr<uint8_t>();
  const torch::Tensor light = lighting.to(torch::kFloat).contiguous();
  const float* add = light.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, n * h, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t b = row / h;
      float scale[3], shift[3];
      for (size_t c = 0; c < 3; ++c) {
        scale[c] = static_cast<float>(1.0 / (255.0 * norm.std[c]));
        shift[c] = static_cast<float>((add[b * 3 + static_cast<int64_t>(c)] - norm.mean[c]) / norm.std[c]);
      }
      const int64_t first = row * w * 3;
      for (int64_t k = 0; k < w * 3; k += 3) {
        o[first + k] = in[first + k] * scale[0] + shift[0];
        o[first + k + 1] = in[first + k + 1] * scale[1] + shift[1];
        o[first + k + 2] = in[first + k + 2] * scale[2] + shift[2];
      }
    }
  });
  return out;
}

Feeds make_feeds(const Dataset& data, const FeedOptions& o) {
  const Normalization norm{data.mean, data.std};
  Feeds f;
  if (data.folder) {
    auto ring = std::make_shared<Ring>(*data.folder, data.side, o);
    f.train = std::make_unique<ImageFeed>(ring, data.folder->train, norm, o, data.side);
    if (data.folder->val.size() > 0)
      f.val = std::make_unique<ImageFeed>(ring, data.folder->val, norm, o, data.side);
    if (data.folder->test.size() > 0)
      f.test = std::make_unique<ImageFeed>(ring, data.folder->test, norm, o, data.side);
    return f;
  }
  const AugmentOptions aug{data.crop_padding, data.flip};
  f.train = std::make_unique<MemoryFeed>(data.train, norm, o, aug);
  if (data.val.size() > 0) f.val = std::make_unique<MemoryFeed>(data.val, norm, o, AugmentOptions{});
  if (data.test.size() > 0)
    f.test = std::make_unique<MemoryFeed>(data.test, norm, o, AugmentOptions{});
  return f;
}

}  // namespace nds::trainer
