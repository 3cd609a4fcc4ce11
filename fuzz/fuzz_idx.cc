// IDX files (Fashion-MNIST's format), gzipped or not, through the reader
// `nds train --data fashion-mnist:DIR` uses, as images (3 dims) and labels
// (1); it must never allocate more than the file can hold.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "trainer/data_files.h"

namespace {

// Deflate's largest expansion: a file of B bytes holds at most 1032 B.
constexpr int64_t kMaxInflateRatio = 1032;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nds::fuzz::ScratchFile file("data-idx-ubyte.gz");
  const std::string& path = file.write(data, size);
  for (const int dims : {1, 3}) {
    nds::fuzz::run_rejecting([&] {
      std::vector<uint8_t> array;
      nds::trainer::read_idx_file(path, dims, [&](const std::vector<int64_t>& sizes) {
        int64_t total = 1;
        for (const int64_t n : sizes) total *= n;
        nds::fuzz::check(total <= kMaxInflateRatio * static_cast<int64_t>(size),
                         "no allocation beyond what the file can hold");
        array.resize(static_cast<size_t>(total));
        return array.data();
      });
    });
  }
  return 0;
}
