#pragma once
// Training data. Sources: Fashion-MNIST read directly from the gzipped IDX
// files of Debian's dataset-fashion-mnist package (no download, no conversion
// step), CIFAR-10 from its standard binary batches in a folder the user
// names, and a synthetic, learnable set for tests and benchmarks, all held
// whole in memory as uint8 tensors; and ImageNet-style image folders, indexed
// here and streamed from their files by the image loader (trainer/feed.h).

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "trainer/data_error.h"
#include "trainer/image_folder.h"

namespace nds::trainer {

// Images as uint8 N x C x H x W, labels as int64 N.
struct Split {
  torch::Tensor images;
  torch::Tensor labels;
  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

// An image folder's splits as file lists (the Splits of its Dataset stay
// empty) and how the loader reads them.
struct FolderSplits {
  std::string root;
  int64_t ids = 0;  // files indexed in train/ and val/ (the cache's key space)
  ImageList train;
  ImageList val;            // held out of train/
  ImageList test;           // val/, as in pycls
  int loader_threads = 0;   // 0 = the cores available
  int64_t cache_bytes = 0;  // decode-once cache; 0 = none
  bool skip_bad_images = false;
};

struct Dataset {
  std::string name;  // "fashion-mnist", "cifar10", "synthetic", "imagefolder:<folder name>"
  Split train;
  Split val;  // held out of the training images; empty unless asked for
  Split test;
  std::shared_ptr<const FolderSplits> folder;  // image folders only
  int channels = 0;
  int side = 0;  // images are side x side
  int num_classes = 0;
  std::vector<double> mean;  // per channel, of the training images scaled to [0, 1]
  std::vector<double> std;
  bool flip = false;     // horizontal flips keep an image's class
  int crop_padding = 0;  // random-crop padding that suits the images (CIFAR-10: side / 8)

  // Images per split, whichever way they are held.
  int64_t train_size() const { return folder ? folder->train.size() : train.size(); }
  int64_t val_size() const { return folder ? folder->val.size() : val.size(); }
  int64_t test_size() const { return folder ? folder->test.size() : test.size(); }
  // Moves the in-memory splits to `device` once, so that a worker training
  // trial after trial does not copy them again for each.
  void to_device(torch::Device device);
};

// "fashion-mnist[:DIR]", "cifar10:DIR", "imagefolder:DIR" or "synthetic".
struct DataSource {
  enum class Kind { kFashionMnist, kCifar10, kSynthetic, kImageFolder };
  Kind kind = Kind::kFashionMnist;
  std::string dir;  // empty for synthetic

  std::string name() const;  // "fashion-mnist", "cifar10", "synthetic", "imagefolder"
  // What reports call the data: name(), or "imagefolder:<DIR's last name>".
  std::string dataset() const;
};

// The default side of image folders (ImageNet's 224).
constexpr int kImageFolderSide = 224;

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Throws std::invalid_argument naming the text when it is none of the above.
DataSource parse_data_source(const std::string& text);

struct DataOptions {
  int resolution = 0;  // image side; 0 = the data's own (28, 32; synthetic 32; folders 224).
                       // Other sides resize every image once, bilinearly.
  int classes = 0;     // synthetic: number of classes (0 = 10); image folders: the
                       // first K classes (0 = all); other real data: must match
  int64_t synthetic_train = 10000;
  int64_t synthetic_test = 2000;
  int64_t subset = 0;       // train on N images drawn (seeded) from the training set; 0 = all
  int64_t val = 0;          // hold out N training images as a validation split
  int64_t test_subset = 0;  // evaluate on the first N test images; 0 = all
  int crop_padding = -1;    // random-crop padding; -1 = what suits the data
  uint64_t seed = 0;        // drives subset, validation split and synthetic images
  // Image folders only.
  int loader_threads = 0;        // decoding threads; 0 = the cores available
  int64_t cache_bytes = 0;       // decode-once cache (part of the recipe); 0 = none
  bool skip_bad_images = false;  // replace unreadable images (counted) instead of stopping
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

// The array of an IDX file (gzipped or not) of unsigned bytes with `dims`
// dimensions, as a tensor, checking the magic number, the header and the
// exact data length (the byte-level checks are trainer/data_files.h's).
torch::Tensor read_idx(const std::string& path, int dims);

}  // namespace nds::trainer
