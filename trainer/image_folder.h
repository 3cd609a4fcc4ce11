#pragma once
// ImageNet-style folders (torchvision's ImageFolder and pycls's ImageNet
// layout), indexed without decoding a single image:
//
//   DIR/train/<class>/**/<image>     DIR/val/<class>/**/<image>
//
// Class k is the k-th class folder name in sorted (byte) order, as
// torchvision's class_to_idx; files are found recursively under each class
// folder (symbolic links followed, hidden entries skipped) and taken in
// torchvision's order: sorted by folder, then by name. Every file counts: the
// format comes from its bytes when it is decoded (nds data check names files
// that are no image). No LibTorch.

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/data_error.h"

namespace nds::trainer {

// A list of labelled image files.
struct ImageList {
  std::vector<std::string> files;  // paths
  std::vector<int32_t> labels;     // class index of each file
  std::vector<int64_t> ids;        // stable id of each file in its folder (cache key)
  int64_t size() const { return static_cast<int64_t>(files.size()); }
};

struct ImageFolder {
  std::string root;
  std::vector<std::string> classes;  // sorted folder names
  ImageList train;                   // DIR/train, ids 0..n_train-1
  ImageList val;                     // DIR/val, ids n_train..
};

// The sorted class folder names of DIR/<split>. Throws DataError when DIR or
// the split is missing or has no class folder.
std::vector<std::string> image_folder_classes(const std::string& root, const std::string& split);

// Indexes DIR/train and DIR/val. Throws DataError naming the folder when DIR,
// train/ or val/ is missing, a split has no class, a class folder has no
// file, or train and val have different classes.
ImageFolder index_image_folder(const std::string& root);

// The first `classes` classes only (0 = all); labels keep their values.
void keep_first_classes(ImageFolder& folder, int classes);

// `n` images drawn class-balanced from `list` under `seed`: classes take
// turns (each through its own seeded permutation) until n are taken, so every
// class gets floor(n / K) or one more while it has images. `exclude` (sorted
// positions in `list`) are never drawn. Result positions are sorted.
std::vector<int64_t> balanced_draw(const ImageList& list, int64_t n, uint64_t seed,
                                   const std::vector<int64_t>& exclude = {});

// The entries of `list` at `positions`.
ImageList take(const ImageList& list, const std::vector<int64_t>& positions);

}  // namespace nds::trainer
