#pragma once
// Whole-folder passes over an image list with a pool of threads: nds data
// check (decode every image, collect sizes and failures) and the decode-only
// ceiling of nds data bench. No LibTorch.

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/image_folder.h"

namespace nds::trainer {

// The smallest, median and largest of one side (width or height) of a
// split's readable images.
struct SideStats {
  // Of `sides` (all 0 when there are none).
  static SideStats of(std::vector<int> sides);

  int min = 0;
  int median = 0;
  int max = 0;
};

struct SplitCheck {
  int64_t images = 0;
  int classes = 0;
  int64_t min_per_class = 0;  // files per class
  int64_t max_per_class = 0;
  SideStats width, height;  // of the readable images
  struct Bad {
    std::string file;
    std::string reason;
  };
  std::vector<Bad> unreadable;  // in list order
  double seconds = 0;
};

// Reads and fully decodes every image of `list` with `threads` threads.
SplitCheck check_images(const ImageList& list, int num_classes, int threads);

// Reads and decodes (full size, nothing else) the first `limit` images of
// `list` (all when limit <= 0, cycling when limit exceeds the list) with
// `threads` threads; returns the seconds taken. Throws DataError naming the
// first file that fails.
double decode_only(const ImageList& list, int64_t limit, int threads);

}  // namespace nds::trainer
