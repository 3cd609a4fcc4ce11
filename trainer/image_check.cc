#include "trainer/image_check.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "trainer/image_codec.h"

namespace nds::trainer {
namespace {

using Clock = std::chrono::steady_clock;

// Runs body(decoder, file, bytes, i) for i in [0, n) on `threads` threads.
template <typename Body>
double parallel_over(int64_t n, int threads, const Body& body) {
  const Clock::time_point start = Clock::now();
  std::atomic<int64_t> next{0};
  auto run = [&] {
    ImageDecoder decoder;
    std::vector<uint8_t> bytes, pixels;
    for (int64_t i = next++; i < n; i = next++) body(decoder, bytes, pixels, i);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (std::thread& t : pool) t.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

SideStats SideStats::of(std::vector<int> sides) {
  if (sides.empty()) return {};
  std::sort(sides.begin(), sides.end());
  return {sides.front(), sides[sides.size() / 2], sides.back()};
}

SplitCheck check_images(const ImageList& list, int num_classes, int threads) {
  const int64_t n = list.size();
  std::vector<int> widths(static_cast<size_t>(n), 0), heights(static_cast<size_t>(n), 0);
  std::vector<std::string> errors(static_cast<size_t>(n));
  SplitCheck c;
  c.seconds = parallel_over(n, threads, [&](ImageDecoder& d, std::vector<uint8_t>& bytes,
                                            std::vector<uint8_t>& pixels, int64_t i) {
    const auto k = static_cast<size_t>(i);
    try {
      read_file_bytes(list.files[k], bytes);
      const ImageDecoder::Decoded out = d.decode(bytes.data(), bytes.size(), 1, pixels);
      widths[k] = out.width;
      heights[k] = out.height;
    } catch (const std::exception& e) {
      errors[k] = e.what();
    }
  });
  std::vector<int64_t> per_class(static_cast<size_t>(num_classes), 0);
  std::vector<int> good_w, good_h;
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(i);
    ++per_class[static_cast<size_t>(list.labels[k])];
    if (!errors[k].empty()) {
      c.unreadable.push_back({list.files[k], errors[k]});
    } else {
      good_w.push_back(widths[k]);
      good_h.push_back(heights[k]);
    }
  }
  c.images = n;
  c.classes = num_classes;
  if (!per_class.empty()) {
    c.min_per_class = *std::min_element(per_class.begin(), per_class.end());
    c.max_per_class = *std::max_element(per_class.begin(), per_class.end());
  }
  c.width = SideStats::of(std::move(good_w));
  c.height = SideStats::of(std::move(good_h));
  return c;
}

double decode_only(const ImageList& list, int64_t limit, int threads) {
  const int64_t n = limit > 0 ? limit : list.size();
  std::mutex mu;
  std::string first_error;
  const double seconds = parallel_over(n, threads, [&](ImageDecoder& d, std::vector<uint8_t>& bytes,
                                                       std::vector<uint8_t>& pixels, int64_t i) {
    const std::string& file = list.files[static_cast<size_t>(i % list.size())];
    try {
      read_file_bytes(file, bytes);
      d.decode(bytes.data(), bytes.size(), 1, pixels);
    } catch (const std::exception& e) {
      const std::lock_guard<std::mutex> lock(mu);
      if (first_error.empty()) first_error = "'" + file + "': " + e.what();
    }
  });
  if (!first_error.empty()) throw DataError(first_error);
  return seconds;
}

}  // namespace nds::trainer
