#pragma once
// Small dataset files for the trainer tests: IDX arrays (gzipped like
// Debian's Fashion-MNIST) and CIFAR-10 binary batches, good or broken.

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace nds::test {

// A fresh folder under the test temp dir, distinct per process and name.
inline std::string temp_dir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "nds_trainer_" + std::to_string(getpid()) + "_" + name;
  std::string cmd = "rm -rf '" + dir + "' && mkdir -p '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return dir;
}

inline void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  gzclose(f);
}

inline void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

// An IDX file of unsigned bytes: magic 0x0800|dims, the sizes, then `data`
// (which may be shorter or longer than the sizes promise, for broken files).
inline std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& sizes,
                                      const std::vector<uint8_t>& data, uint32_t magic = 0) {
  std::vector<uint8_t> out;
  put_u32(out, magic ? magic : 0x800u | static_cast<uint32_t>(sizes.size()));
  for (uint32_t s : sizes) put_u32(out, s);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// The four Fashion-MNIST files with n_train / n_test images of pattern bytes.
inline void write_fashion(const std::string& dir, uint32_t n_train, uint32_t n_test) {
  for (const auto& [prefix, n] : {std::pair<std::string, uint32_t>{"train", n_train},
                                  std::pair<std::string, uint32_t>{"t10k", n_test}}) {
    std::vector<uint8_t> pixels(static_cast<size_t>(n) * 28 * 28);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7 % 251);
    std::vector<uint8_t> labels(n);
    for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
    write_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz", idx_bytes({n, 28, 28}, pixels));
    write_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz", idx_bytes({n}, labels));
  }
}

// A CIFAR-10 binary batch of n records (label i % 10, pixels from i).
inline void write_cifar_batch(const std::string& path, int n, int extra_bytes = 0) {
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < n; ++i) {
    out.put(static_cast<char>(i % 10));
    for (int p = 0; p < 3072; ++p) out.put(static_cast<char>((i + p) % 256));
  }
  for (int i = 0; i < extra_bytes; ++i) out.put(0);
}

}  // namespace nds::test
