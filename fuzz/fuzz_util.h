#pragma once
// What the fuzz targets share: the rejections they accept, a failed check,
// and a scratch file for readers that take only a path.

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace nds::fuzz {

// Runs `f`. Bad input is rejected with std::invalid_argument (bad specs,
// SQL, options) or a std::runtime_error subclass (files that cannot be read
// or decoded): those are the expected outcomes. Any other exception escapes
// and libFuzzer reports it as a crash.
template <typename F>
void run_rejecting(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
  }
}

// A property that must hold for every input: abort() (a finding) otherwise.
inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

inline std::string as_text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A fresh directory under $TMPDIR (or /tmp) for this process, removed with
// its files when the process ends normally (a crash leaves it for a look).
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/nds_fuzz_XXXXXX";
    check(mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
    path_ = tmpl;
  }
  ~ScratchDir() {
    for (const std::string& name : list()) std::remove((path_ + "/" + name).c_str());
    rmdir(path_.c_str());
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // The names of the files inside, sorted.
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    if (DIR* d = opendir(path_.c_str())) {
      while (const dirent* e = readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

// One file per process that each input overwrites, for readers that only
// take a path.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name) : path_(dir_.file(name)) {}
  const std::string& write(const uint8_t* data, size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    check(static_cast<bool>(out.flush()), "writing the scratch file");
    return path_;
  }

 private:
  ScratchDir dir_;
  std::string path_;
};

}  // namespace nds::fuzz
