#pragma once
// Training data, held whole in memory as uint8 tensors.
//
// Sources: Fashion-MNIST read directly from the gzipped IDX files of Debian's
// dataset-fashion-mnist package (no download, no conversion step), CIFAR-10
// from its standard binary batches in a folder the user names, and a
// synthetic, learnable set for tests and benchmarks.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace nds::trainer {

// A dataset file is missing, unreadable, truncated or malformed; what()
// names the file and what is wrong with it.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Images as uint8 N x C x H x W, labels as int64 N.
struct Split {
  torch::Tensor images;
  torch::Tensor labels;
  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

struct Dataset {
  std::string name;  // "fashion-mnist", "cifar10", "synthetic"
  Split train;
  Split val;         // held out of the training images; empty unless asked for
  Split test;
  int channels = 0;
  int side = 0;          // images are side x side
  int num_classes = 0;
  std::vector<double> mean;  // per channel, of the training images scaled to [0, 1]
  std::vector<double> std;
  bool flip = false;     // horizontal flips keep an image's class
  int crop_padding = 0;  // random-crop padding that suits the images (CIFAR-10: side / 8)
};

// "fashion-mnist[:DIR]", "cifar10:DIR" or "synthetic".
struct DataSource {
  enum class Kind { kFashionMnist, kCifar10, kSynthetic };
  Kind kind = Kind::kFashionMnist;
  std::string dir;  // empty for synthetic

  std::string name() const;  // "fashion-mnist", "cifar10", "synthetic"
};

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Throws std::invalid_argument naming the text when it is none of the above.
DataSource parse_data_source(const std::string& text);

struct DataOptions {
  int resolution = 0;      // image side; 0 = the data's own (28, 32; synthetic 32).
                           // Other sides resize every image once, bilinearly.
  int classes = 0;         // synthetic: number of classes (0 = 10); real data: must match
  int64_t synthetic_train = 10000;
  int64_t synthetic_test = 2000;
  int64_t subset = 0;      // train on N images drawn (seeded) from the training set; 0 = all
  int64_t val = 0;         // hold out N training images as a validation split
  int64_t test_subset = 0; // evaluate on the first N test images; 0 = all
  int crop_padding = -1;   // random-crop padding; -1 = what suits the data
  uint64_t seed = 0;       // drives subset, validation split and synthetic images
};

// What a source gives before any file is read: channels, native side, classes.
struct DataShape {
  int channels = 0;
  int side = 0;
  int num_classes = 0;
};
DataShape data_shape(const DataSource& source, const DataOptions& options);

// Loads, checks, splits and computes the normalization statistics. Throws
// DataError for file problems, std::invalid_argument for impossible options
// (a subset larger than the data, --classes that the data does not have).
Dataset load_dataset(const DataSource& source, const DataOptions& options);

// The readers, exposed for tests. read_idx returns the array of an IDX file
// (gzipped or not) of unsigned bytes with `dims` dimensions, checking the
// magic number, the header and the exact data length.
torch::Tensor read_idx(const std::string& path, int dims);
// CIFAR-10 binary batch files (records of 1 label byte + 3072 pixel bytes).
Split read_cifar10(const std::vector<std::string>& files);
// Class templates plus noise: learnable in a few steps, deterministic in `seed`.
Split synthetic_split(int64_t n, int classes, int channels, int side, uint64_t seed,
                      uint64_t sample_seed);

}  // namespace nds::trainer
