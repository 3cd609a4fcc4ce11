#pragma once
// The byte-level readers of Fashion-MNIST's IDX files and CIFAR-10's binary
// batches, without LibTorch: trainer/data.cc reads them into tensors, and
// the fuzz targets (fuzz/) exercise them without LibTorch. Every malformed
// file throws DataError naming it.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "trainer/data_error.h"

namespace nds::trainer {

// Where a reader puts an array once the file has declared its sizes: the
// caller allocates (a tensor, a vector) and returns storage for their
// product of bytes, which the reader then fills.
using ByteArrayAlloc = std::function<uint8_t*(const std::vector<int64_t>& sizes)>;

// Reads the IDX file at `path` (gzipped or not) of unsigned bytes with `dims`
// dimensions, checking the magic number, the header and the exact data
// length. Sizes the file cannot hold are refused before anything is
// allocated.
void read_idx_file(const std::string& path, int dims, const ByteArrayAlloc& alloc);

// CIFAR-10's binary record: 1 label byte, then 3 x 32 x 32 pixel bytes.
constexpr int kCifarSide = 32;
constexpr int64_t kCifarRecord = 1 + 3 * kCifarSide * kCifarSide;

// Reads the CIFAR-10 batch at `path` as an N x kCifarRecord array (allocated
// through `alloc`), checking that it holds whole records with labels 0..9.
void read_cifar10_file(const std::string& path, const ByteArrayAlloc& alloc);

}  // namespace nds::trainer
