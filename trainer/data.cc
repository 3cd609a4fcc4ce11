#include "trainer/data.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sys/stat.h>
#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "space/seed.h"
#include "trainer/data_files.h"
#include "trainer/image_transforms.h"
#include "trainer/random.h"

namespace nds::trainer {
namespace {

constexpr int kFashionSide = 28;
constexpr int kSyntheticSide = 32;
constexpr int kTenClasses = 10;

// The seeds of the data's random streams, each its own derive_seed of the
// run's seed: one seed's stream never equals another seed's (as seed + 1 did
// for the synthetic noise), and no two streams of one seed coincide.
constexpr uint64_t kTemplateSalt = 0x7e3b1a7e7e3b1a7eULL;    // synthetic class templates
constexpr uint64_t kTrainNoiseSalt = 0x7a1a7a1a7a1a7a1aULL;  // synthetic training images
constexpr uint64_t kTestNoiseSalt = 0x7e577e577e577e57ULL;   // synthetic test images
constexpr uint64_t kHoldoutSalt = 0x5eed5eed5eed5eedULL;     // validation split (and subset)
constexpr uint64_t kSubsetSalt = 0x5ab5e75ab5e75ab5ULL;      // training subset of a folder
constexpr uint64_t kTestSubsetSalt = 0x7e5757ab7e5757abULL;  // test subset of a folder

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool dir_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The two file names of a Fashion-MNIST array: gzipped as Debian ships it, or plain.
std::string idx_file(const std::string& dir, const std::string& base) {
  const std::string gz = dir + "/" + base + ".gz";
  if (file_exists(gz)) return gz;
  if (file_exists(dir + "/" + base)) return dir + "/" + base;
  throw DataError("fashion-mnist: missing file '" + gz +
                  "' (install the Debian package dataset-fashion-mnist, or give "
                  "fashion-mnist:DIR with the four IDX files)");
}

Split read_fashion_split(const std::string& dir, const std::string& prefix) {
  const std::string images_path = idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = idx_file(dir, prefix + "-labels-idx1-ubyte");
  Split s;
  s.images = read_idx(images_path, 3);
  s.labels = read_idx(labels_path, 1);
  if (s.images.size(0) != s.labels.size(0))
    throw DataError("fashion-mnist: '" + images_path + "' holds " +
                    std::to_string(s.images.size(0)) + " images but '" + labels_path + "' " +
                    std::to_string(s.labels.size(0)) + " labels");
  if (s.images.size(1) != kFashionSide || s.images.size(2) != kFashionSide)
    throw DataError("fashion-mnist: '" + images_path + "' holds " +
                    std::to_string(s.images.size(1)) + "x" + std::to_string(s.images.size(2)) +
                    " images, not 28x28");
  if (s.labels.max().item<int>() >= kTenClasses)
    throw DataError("fashion-mnist: '" + labels_path + "' has a label above 9");
  s.images = s.images.unsqueeze(1);  // one channel
  s.labels = s.labels.to(torch::kInt64);
  return s;
}

// CIFAR-10's binary version unpacks to cifar-10-batches-bin/; accept that
// folder or its parent.
std::string cifar_dir(const std::string& dir) {
  if (!dir_exists(dir)) throw DataError("cifar10: no such folder '" + dir + "'");
  const std::string nested = dir + "/cifar-10-batches-bin";
  if (!file_exists(dir + "/test_batch.bin") && dir_exists(nested)) return nested;
  return dir;
}

std::string cifar_file(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  if (!file_exists(path))
    throw DataError("cifar10: missing file '" + path +
                    "' (expected data_batch_1.bin .. data_batch_5.bin and test_batch.bin, the "
                    "binary version of CIFAR-10)");
  return path;
}

Split take(const Split& s, const torch::Tensor& index) {
  return {s.images.index_select(0, index), s.labels.index_select(0, index)};
}

torch::Tensor resize(const torch::Tensor& images, int side) {
  if (images.size(2) == side && images.size(3) == side) return images;
  namespace F = torch::nn::functional;
  torch::Tensor out = torch::empty({images.size(0), images.size(1), side, side}, torch::kUInt8);
  // In chunks, to keep the float copy small.
  constexpr int64_t kChunk = 4096;
  for (int64_t i = 0; i < images.size(0); i += kChunk) {
    const int64_t n = std::min(kChunk, images.size(0) - i);
    const torch::Tensor x = images.narrow(0, i, n).to(torch::kFloat);
    const torch::Tensor y = F::interpolate(x, F::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{side, side})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false));
    out.narrow(0, i, n).copy_(y.round_().clamp_(0, 255));
  }
  return out;
}

// Per-channel mean and standard deviation of uint8 images scaled to [0, 1],
// accumulated in double over chunks.
void channel_stats(const torch::Tensor& images, std::vector<double>& mean,
                   std::vector<double>& std) {
  const int64_t c = images.size(1);
  torch::Tensor sum = torch::zeros({c}, torch::kDouble);
  torch::Tensor sq = torch::zeros({c}, torch::kDouble);
  constexpr int64_t kChunk = 4096;
  for (int64_t i = 0; i < images.size(0); i += kChunk) {
    const int64_t n = std::min(kChunk, images.size(0) - i);
    const torch::Tensor x = images.narrow(0, i, n).to(torch::kDouble).div_(255.0);
    sum += x.sum({0, 2, 3});
    sq += x.square().sum({0, 2, 3});
  }
  const double count = static_cast<double>(images.size(0) * images.size(2) * images.size(3));
  mean.assign(static_cast<size_t>(c), 0);
  std.assign(static_cast<size_t>(c), 0);
  for (int64_t k = 0; k < c; ++k) {
    const double m = sum[k].item<double>() / count;
    const double var = std::max(0.0, sq[k].item<double>() / count - m * m);
    mean[static_cast<size_t>(k)] = m;
    // A constant channel would divide by zero; leave it unscaled instead.
    std[static_cast<size_t>(k)] = var > 1e-12 ? std::sqrt(var) : 1.0;
  }
}

void check_counts(const DataOptions& o, int64_t n, const std::string& name) {
  if (o.subset < 0 || o.val < 0 || o.test_subset < 0)
    throw std::invalid_argument("--subset, --val and --test-subset must be >= 0");
  if (o.val >= n)
    throw std::invalid_argument("--val " + std::to_string(o.val) + " leaves no training images (" +
                                name + " has " + std::to_string(n) + ")");
  if (o.subset > n - o.val)
    throw std::invalid_argument("--subset " + std::to_string(o.subset) + " is more than the " +
                                std::to_string(n - o.val) + " training images " + name + " has" +
                                (o.val > 0 ? " besides the validation split" : ""));
}

// An image folder's file lists: the first K classes, a class-balanced
// validation split and subset of train/, a class-balanced test subset of
// val/. Images stay in their files; ImageNet's statistics normalize them.
Dataset load_image_folder(const DataSource& source, const DataOptions& options) {
  const DataShape shape = data_shape(source, options);
  ImageFolder folder = index_image_folder(source.dir);
  keep_first_classes(folder, shape.num_classes);
  auto splits = std::make_shared<FolderSplits>();
  splits->root = source.dir;
  splits->ids = folder.train.size() + folder.val.size();
  Dataset d;
  d.name = source.dataset();
  check_counts(options, folder.train.size(), d.name);
  std::vector<int64_t> held;
  if (options.val > 0)
    held = balanced_draw(folder.train, options.val, derive_seed(options.seed, kHoldoutSalt));
  splits->val = take(folder.train, held);
  if (options.subset > 0) {
    splits->train = take(folder.train, balanced_draw(folder.train, options.subset,
                                                     derive_seed(options.seed, kSubsetSalt), held));
  } else {
    std::vector<int64_t> rest;
    for (int64_t i = 0; i < folder.train.size(); ++i)
      if (!std::binary_search(held.begin(), held.end(), i)) rest.push_back(i);
    splits->train = take(folder.train, rest);
  }
  splits->test = options.test_subset > 0 && options.test_subset < folder.val.size()
                     ? take(folder.val, balanced_draw(folder.val, options.test_subset,
                                                      derive_seed(options.seed, kTestSubsetSalt)))
                     : folder.val;
  splits->loader_threads = options.loader_threads;
  splits->cache_bytes = options.cache_bytes;
  splits->skip_bad_images = options.skip_bad_images;
  d.folder = std::move(splits);
  d.channels = 3;
  d.num_classes = shape.num_classes;
  d.side = options.resolution > 0 ? options.resolution : shape.side;
  d.mean.assign(kImageNetMean.begin(), kImageNetMean.end());
  d.std.assign(kImageNetStd.begin(), kImageNetStd.end());
  d.flip = true;
  return d;
}

}  // namespace

void Dataset::to_device(torch::Device device) {
  for (Split* s : {&train, &val, &test}) {
    if (s->size() == 0) continue;
    s->images = s->images.to(device);
    s->labels = s->labels.to(device);
  }
}

std::string DataSource::name() const {
  switch (kind) {
    case Kind::kFashionMnist:
      return "fashion-mnist";
    case Kind::kCifar10:
      return "cifar10";
    case Kind::kSynthetic:
      return "synthetic";
    case Kind::kImageFolder:
      return "imagefolder";
  }
  return "?";
}

std::string DataSource::dataset() const {
  if (kind != Kind::kImageFolder) return name();
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  const size_t slash = d.find_last_of('/');
  return name() + ":" + (slash == std::string::npos ? d : d.substr(slash + 1));
}

DataSource parse_data_source(const std::string& text) {
  const size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const std::string dir = colon == std::string::npos ? "" : text.substr(colon + 1);
  DataSource s;
  if (kind == "fashion-mnist") {
    s.kind = DataSource::Kind::kFashionMnist;
    s.dir = dir.empty() ? kFashionMnistDir : dir;
  } else if (kind == "cifar10") {
    if (dir.empty())
      throw std::invalid_argument(
          "--data cifar10 needs its folder: cifar10:DIR, with "
          "data_batch_1.bin .. data_batch_5.bin and test_batch.bin");
    s.kind = DataSource::Kind::kCifar10;
    s.dir = dir;
  } else if (kind == "imagefolder") {
    if (dir.empty())
      throw std::invalid_argument(
          "--data imagefolder needs its folder: imagefolder:DIR, with "
          "DIR/train/<class>/... and DIR/val/<class>/...");
    s.kind = DataSource::Kind::kImageFolder;
    s.dir = dir;
  } else if (kind == "synthetic" && colon == std::string::npos) {
    s.kind = DataSource::Kind::kSynthetic;
  } else {
    throw std::invalid_argument(
        "unknown data '" + text +
        "' (fashion-mnist, fashion-mnist:DIR, cifar10:DIR, imagefolder:DIR, synthetic)");
  }
  return s;
}

DataShape data_shape(const DataSource& source, const DataOptions& options) {
  switch (source.kind) {
    case DataSource::Kind::kFashionMnist:
      return {1, kFashionSide, kTenClasses};
    case DataSource::Kind::kCifar10:
      return {3, kCifarSide, kTenClasses};
    case DataSource::Kind::kSynthetic:
      return {3, kSyntheticSide, options.classes > 0 ? options.classes : kTenClasses};
    case DataSource::Kind::kImageFolder: {
      std::vector<std::string> classes;
      try {
        classes = image_folder_classes(source.dir, "train");
      } catch (const DataError& e) {
        throw std::invalid_argument(e.what());  // a folder that is not there is bad input
      }
      const auto n = static_cast<int>(classes.size());
      if (options.classes > n)
        throw std::invalid_argument("--classes " + std::to_string(options.classes) + ": '" +
                                    source.dir + "/train' has " + std::to_string(n) + " classes");
      return {3, kImageFolderSide, options.classes > 0 ? options.classes : n};
    }
  }
  return {};
}

// The byte readers are LibTorch-free (trainer/data_files.h); these read
// straight into a tensor's storage.
torch::Tensor read_idx(const std::string& path, int dims) {
  torch::Tensor out;
  read_idx_file(path, dims, [&](const std::vector<int64_t>& sizes) {
    out = torch::empty(sizes, torch::kUInt8);
    return out.data_ptr<uint8_t>();
  });
  return out;
}

namespace {

// CIFAR-10 binary batch files (records of 1 label byte + 3072 pixel bytes).
Split read_cifar10(const std::vector<std::string>& files) {
  std::vector<torch::Tensor> images, labels;
  for (const std::string& path : files) {
    torch::Tensor raw;
    read_cifar10_file(path, [&](const std::vector<int64_t>& sizes) {
      raw = torch::empty(sizes, torch::kUInt8);
      return raw.data_ptr<uint8_t>();
    });
    images.push_back(
        raw.narrow(1, 1, kCifarRecord - 1).reshape({-1, 3, kCifarSide, kCifarSide}).contiguous());
    labels.push_back(raw.select(1, 0).to(torch::kInt64));
  }
  return {torch::cat(images), torch::cat(labels)};
}

// Class templates plus noise: learnable in a few steps, deterministic in `seed`.
Split synthetic_split(int64_t n, int classes, int channels, int side, uint64_t seed,
                      uint64_t sample_seed) {
  namespace F = torch::nn::functional;
  // Smooth class templates (shared by every split of one seed) ...
  at::Generator tg = at::detail::createCPUGenerator(seed);
  const torch::Tensor coarse = torch::randn({classes, channels, 4, 4}, tg);
  const torch::Tensor templates = F::interpolate(coarse, F::InterpolateFuncOptions()
                                                             .size(std::vector<int64_t>{side, side})
                                                             .mode(torch::kBilinear)
                                                             .align_corners(false));
  // ... plus per-image noise.
  at::Generator g = at::detail::createCPUGenerator(sample_seed);
  Split s;
  s.labels = torch::randint(classes, {n}, g, torch::kInt64);
  const torch::Tensor noise = torch::randn({n, channels, side, side}, g);
  s.images = (templates.index_select(0, s.labels) * 40 + noise * 30 + 128)
                 .round_()
                 .clamp_(0, 255)
                 .to(torch::kUInt8);
  return s;
}

// The training and test splits of an in-memory source, read or generated,
// and whether its images may be flipped left-right.
void read_splits(const DataSource& source, const DataOptions& options, Dataset& d) {
  switch (source.kind) {
    case DataSource::Kind::kFashionMnist: {
      if (!dir_exists(source.dir))
        throw DataError("fashion-mnist: no such folder '" + source.dir +
                        "' (install the Debian package dataset-fashion-mnist)");
      d.train = read_fashion_split(source.dir, "train");
      d.test = read_fashion_split(source.dir, "t10k");
      d.flip = true;  // clothing is left-right symmetric
      break;
    }
    case DataSource::Kind::kCifar10: {
      const std::string dir = cifar_dir(source.dir);
      std::vector<std::string> train_files;
      for (int i = 1; i <= 5; ++i)
        train_files.push_back(cifar_file(dir, "data_batch_" + std::to_string(i) + ".bin"));
      const std::string test_file = cifar_file(dir, "test_batch.bin");
      d.train = read_cifar10(train_files);
      d.test = read_cifar10({test_file});
      d.flip = true;
      break;
    }
    case DataSource::Kind::kImageFolder:
      break;  // streamed: load_image_folder
    case DataSource::Kind::kSynthetic: {
      if (options.synthetic_train < 1 || options.synthetic_test < 1)
        throw std::invalid_argument(
            "synthetic data needs at least one training and one test image");
      d.train = synthetic_split(options.synthetic_train, d.num_classes, d.channels, d.side,
                                derive_seed(options.seed, kTemplateSalt),
                                derive_seed(options.seed, kTrainNoiseSalt));
      d.test = synthetic_split(options.synthetic_test, d.num_classes, d.channels, d.side,
                               derive_seed(options.seed, kTemplateSalt),
                               derive_seed(options.seed, kTestNoiseSalt));
      d.flip = false;
      break;
    }
  }
}

// Validation and training subsets: disjoint draws from one seeded
// permutation. The test subset is the test split's first images.
void draw_subsets(const DataOptions& options, Dataset& d) {
  const int64_t n = d.train.size();
  check_counts(options, n, d.name);
  if (options.val > 0 || options.subset > 0) {
    Rng rng(derive_seed(options.seed, kHoldoutSalt));
    const std::vector<int64_t> perm = permutation(n, rng);
    const int64_t n_train = options.subset > 0 ? options.subset : n - options.val;
    const torch::Tensor all = torch::tensor(perm, torch::kInt64);
    if (options.val > 0) d.val = take(d.train, all.narrow(0, 0, options.val));
    d.train = take(d.train, all.narrow(0, options.val, n_train));
  }
  if (options.test_subset > 0 && options.test_subset < d.test.size())
    d.test = {d.test.images.narrow(0, 0, options.test_subset).contiguous(),
              d.test.labels.narrow(0, 0, options.test_subset).contiguous()};
}

// The images at the run's side, the training split's normalization
// statistics, and the random crop's padding.
void prepare_images(const DataSource& source, const DataOptions& options, Dataset& d) {
  d.train.images = resize(d.train.images, d.side);
  d.test.images = resize(d.test.images, d.side);
  if (d.val.size() > 0) d.val.images = resize(d.val.images, d.side);
  channel_stats(d.train.images, d.mean, d.std);
  // Random crops suit natural images (CIFAR-10: 4 pixels at 32). Fashion-MNIST
  // items are centered and size-normalized, and synthetic classes are fixed
  // templates that a shift turns into other images, so neither is cropped.
  if (source.kind == DataSource::Kind::kCifar10)
    d.crop_padding = std::max(1, static_cast<int>(std::lround(d.side / 8.0)));
  if (options.crop_padding >= 0) d.crop_padding = options.crop_padding;
  if (d.crop_padding >= d.side)
    throw std::invalid_argument("--crop-padding " + std::to_string(d.crop_padding) +
                                " is not smaller than the image side " + std::to_string(d.side));
}

}  // namespace

Dataset load_dataset(const DataSource& source, const DataOptions& options) {
  if (source.kind == DataSource::Kind::kImageFolder) return load_image_folder(source, options);
  const DataShape shape = data_shape(source, options);
  if (options.classes > 0 && options.classes != shape.num_classes)
    throw std::invalid_argument(source.name() + " has " + std::to_string(shape.num_classes) +
                                " classes, not --classes " + std::to_string(options.classes));
  Dataset d;
  d.name = source.name();
  d.channels = shape.channels;
  d.num_classes = shape.num_classes;
  d.side = options.resolution > 0 ? options.resolution : shape.side;
  read_splits(source, options, d);
  draw_subsets(options, d);
  prepare_images(source, options, d);
  return d;
}

}  // namespace nds::trainer
