// CIFAR-10 binary batches through the reader `nds train --data cifar10:DIR`
// uses: whole 3073-byte records, labels 0..9.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "trainer/data_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nds::fuzz::ScratchFile file("test_batch.bin");
  const std::string& path = file.write(data, size);
  nds::fuzz::run_rejecting([&] {
    std::vector<uint8_t> records;
    nds::trainer::read_cifar10_file(path, [&](const std::vector<int64_t>& sizes) {
      nds::fuzz::check(sizes.size() == 2 && sizes[1] == nds::trainer::kCifarRecord &&
                           sizes[0] * sizes[1] == static_cast<int64_t>(size),
                       "a batch is the file's whole records");
      records.resize(size);
      return records.data();
    });
  });
  return 0;
}
