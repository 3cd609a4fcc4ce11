#include "trainer/image_folder.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <utility>

#include "space/seed.h"
#include "trainer/random.h"

namespace nds::trainer {
namespace {

constexpr uint64_t kBalancedSalt = 0xba1a0ced0ba1a0ceULL;
// Folders nested deeper than this under a class are not followed (a
// symbolic link to a parent would otherwise loop forever).
constexpr int kMaxDepth = 32;

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

enum class Kind { kFile, kDir, kOther };

Kind kind_of(const std::string& path, const dirent* e) {
  if (e->d_type == DT_REG) return Kind::kFile;
  if (e->d_type == DT_DIR) return Kind::kDir;
  if (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN) return Kind::kOther;
  struct stat st {};  // links are followed, as torchvision's os.walk(followlinks=True)
  if (::stat(path.c_str(), &st) != 0) return Kind::kOther;
  if (S_ISREG(st.st_mode)) return Kind::kFile;
  return S_ISDIR(st.st_mode) ? Kind::kDir : Kind::kOther;
}

// The non-hidden entries of `dir` that are files (or folders), by name.
std::vector<std::string> entries(const std::string& dir, Kind want) {
  std::unique_ptr<DIR, DirCloser> d(opendir(dir.c_str()));
  if (!d) throw DataError("cannot list '" + dir + "': " + std::strerror(errno));
  std::vector<std::string> names;
  while (const dirent* e = readdir(d.get())) {
    if (e->d_name[0] == '.') continue;  // hidden, . and ..
    if (kind_of(dir + "/" + e->d_name, e) == want) names.emplace_back(e->d_name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Files under `dir` in torchvision's order: this folder's files sorted by
// name, then each subfolder's (sorted by path).
void walk(const std::string& dir, int depth, std::vector<std::string>& out) {
  for (const std::string& name : entries(dir, Kind::kFile)) out.push_back(dir + "/" + name);
  if (depth >= kMaxDepth) return;
  for (const std::string& name : entries(dir, Kind::kDir)) walk(dir + "/" + name, depth + 1, out);
}

ImageList list_split(const std::string& split_dir, const std::vector<std::string>& classes,
                     int64_t first_id) {
  ImageList list;
  for (size_t k = 0; k < classes.size(); ++k) {
    const std::string dir = split_dir + "/" + classes[k];
    const size_t before = list.files.size();
    walk(dir, 0, list.files);
    if (list.files.size() == before) throw DataError("class folder '" + dir + "' has no image");
    list.labels.resize(list.files.size(), static_cast<int32_t>(k));
  }
  list.ids.resize(list.files.size());
  for (size_t i = 0; i < list.ids.size(); ++i) list.ids[i] = first_id + static_cast<int64_t>(i);
  return list;
}

}  // namespace

std::vector<std::string> image_folder_classes(const std::string& root, const std::string& split) {
  if (!is_dir(root)) throw DataError("imagefolder: no such folder '" + root + "'");
  const std::string dir = root + "/" + split;
  if (!is_dir(dir))
    throw DataError("imagefolder: '" + root + "' has no " + split +
                    "/ folder (expected DIR/train/<class>/... and DIR/val/<class>/...)");
  std::vector<std::string> classes = entries(dir, Kind::kDir);
  if (classes.empty()) throw DataError("imagefolder: '" + dir + "' has no class folder");
  return classes;
}

ImageFolder index_image_folder(const std::string& root) {
  ImageFolder f;
  f.root = root;
  f.classes = image_folder_classes(root, "train");
  const std::vector<std::string> val_classes = image_folder_classes(root, "val");
  if (val_classes != f.classes) {
    std::string differ;
    for (const std::string& c : f.classes)
      if (!std::binary_search(val_classes.begin(), val_classes.end(), c)) differ = c + " (train only)";
    for (const std::string& c : val_classes)
      if (!std::binary_search(f.classes.begin(), f.classes.end(), c)) differ = c + " (val only)";
    throw DataError("imagefolder: '" + root + "': train/ has " + std::to_string(f.classes.size()) +
                    " classes and val/ " + std::to_string(val_classes.size()) +
                    ", not the same set: " + differ);
  }
  f.train = list_split(root + "/train", f.classes, 0);
  f.val = list_split(root + "/val", f.classes, f.train.size());
  return f;
}

ImageList take(const ImageList& list, const std::vector<int64_t>& positions) {
  ImageList out;
  out.files.reserve(positions.size());
  for (int64_t p : positions) {
    const auto i = static_cast<size_t>(p);
    out.files.push_back(list.files[i]);
    out.labels.push_back(list.labels[i]);
    out.ids.push_back(list.ids[i]);
  }
  return out;
}

void keep_first_classes(ImageFolder& folder, int classes) {
  if (classes <= 0 || classes >= static_cast<int>(folder.classes.size())) return;
  folder.classes.resize(static_cast<size_t>(classes));
  for (ImageList* list : {&folder.train, &folder.val}) {
    std::vector<int64_t> keep;
    for (int64_t i = 0; i < list->size(); ++i)
      if (list->labels[static_cast<size_t>(i)] < classes) keep.push_back(i);
    *list = take(*list, keep);
  }
}

std::vector<int64_t> balanced_draw(const ImageList& list, int64_t n, uint64_t seed,
                                   const std::vector<int64_t>& exclude) {
  int32_t num_classes = 0;
  for (int32_t l : list.labels) num_classes = std::max(num_classes, l + 1);
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (int64_t i = 0; i < list.size(); ++i)
    if (!std::binary_search(exclude.begin(), exclude.end(), i))
      by_class[static_cast<size_t>(list.labels[static_cast<size_t>(i)])].push_back(i);
  for (size_t k = 0; k < by_class.size(); ++k) {  // each class's own seeded shuffle
    std::mt19937_64 rng(derive_seed(seed, kBalancedSalt, k));
    std::vector<int64_t>& v = by_class[k];
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_below(rng, i)]);
  }
  std::vector<int64_t> out;
  for (size_t round = 0; static_cast<int64_t>(out.size()) < n; ++round) {
    bool any = false;
    for (const std::vector<int64_t>& v : by_class) {
      if (round >= v.size() || static_cast<int64_t>(out.size()) >= n) continue;
      out.push_back(v[round]);
      any = true;
    }
    if (!any) break;  // fewer than n images: the caller checks
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace nds::trainer
