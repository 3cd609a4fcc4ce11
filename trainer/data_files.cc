#include "trainer/data_files.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

namespace nds::trainer {
namespace {

// Deflate inflates a byte to at most 1032 (its longest match per shortest
// code), so a gzipped file of B bytes holds at most this many times B.
constexpr int64_t kMaxInflateRatio = 1032;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads exactly n bytes unless the stream ends; returns how many it read.
int64_t gz_read(gzFile f, void* out, int64_t n, const std::string& path) {
  auto* p = static_cast<unsigned char*>(out);
  int64_t done = 0;
  while (done < n) {
    const auto chunk = static_cast<unsigned>(std::min<int64_t>(n - done, INT_MAX / 2));
    const int got = gzread(f, p + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      throw DataError("cannot read '" + path + "': " + (msg ? msg : "zlib error") +
                      " (truncated or corrupt file)");
    }
    if (got == 0) break;
    done += got;
  }
  return done;
}

// Refuses a declared data length that the file cannot hold, before it is
// allocated: a 20-byte header may declare gigabytes.
void check_idx_capacity(gzFile f, const std::string& path, int64_t header_bytes, int64_t total) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;  // a pipe: read and see
  const int64_t file_bytes = st.st_size;
  const std::string promise = "'" + path + "' is truncated: its header promises " +
                              std::to_string(total) + " bytes of data";
  if (gzdirect(f)) {
    const int64_t holds = std::max<int64_t>(file_bytes - header_bytes, 0);
    if (total > holds) throw DataError(promise + " but it holds " + std::to_string(holds));
  } else if ((total + kMaxInflateRatio - 1) / kMaxInflateRatio > file_bytes) {  // > ratio * file
    throw DataError(promise + " but its " + std::to_string(file_bytes) +
                    " gzipped bytes hold at most " + std::to_string(file_bytes * kMaxInflateRatio));
  }
}

}  // namespace

void read_idx_file(const std::string& path, int dims, const ByteArrayAlloc& alloc) {
  errno = 0;
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f)
    throw DataError("cannot open '" + path +
                    "': " + (errno ? std::strerror(errno) : "out of memory"));
  unsigned char magic[4];
  if (gz_read(f.get(), magic, 4, path) != 4)
    throw DataError("'" + path + "' is truncated: it ends inside the IDX header");
  const uint32_t got = (uint32_t{magic[0]} << 24) | (uint32_t{magic[1]} << 16) |
                       (uint32_t{magic[2]} << 8) | magic[3];
  const uint32_t want = 0x800u | static_cast<uint32_t>(dims);
  if (got != want)
    throw DataError("'" + path + "' has the wrong magic number " + hex32(got) + " (expected " +
                    hex32(want) + ": an IDX file of unsigned bytes with " + std::to_string(dims) +
                    " dimensions)");
  std::vector<int64_t> sizes;
  int64_t total = 1;
  for (int d = 0; d < dims; ++d) {
    unsigned char b[4];
    if (gz_read(f.get(), b, 4, path) != 4)
      throw DataError("'" + path + "' is truncated: it ends inside the IDX header");
    const int64_t n = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | b[3];
    if (n < 1 || total > (int64_t{1} << 34) / n)
      throw DataError("'" + path + "' declares an implausible size " + std::to_string(n) +
                      " in dimension " + std::to_string(d));
    sizes.push_back(n);
    total *= n;
  }
  check_idx_capacity(f.get(), path, 4 + 4 * int64_t{dims}, total);
  const int64_t read = gz_read(f.get(), alloc(sizes), total, path);
  if (read != total)
    throw DataError("'" + path + "' is truncated: its header promises " + std::to_string(total) +
                    " bytes of data but it holds " + std::to_string(read));
  unsigned char extra = 0;
  if (gz_read(f.get(), &extra, 1, path) != 0)
    throw DataError("'" + path + "' is longer than its IDX header says");
}

void read_cifar10_file(const std::string& path, const ByteArrayAlloc& alloc) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw DataError("cannot open '" + path + "': " + std::strerror(errno));
  const auto bytes = static_cast<int64_t>(in.tellg());
  if (bytes <= 0 || bytes % kCifarRecord != 0)
    throw DataError("'" + path + "' is not a CIFAR-10 batch: " + std::to_string(bytes) +
                    " bytes is not a whole number of " + std::to_string(kCifarRecord) +
                    "-byte records (truncated?)");
  in.seekg(0);
  uint8_t* raw = alloc({bytes / kCifarRecord, kCifarRecord});
  if (!in.read(reinterpret_cast<char*>(raw), bytes)) throw DataError("cannot read '" + path + "'");
  for (int64_t r = 0; r < bytes; r += kCifarRecord)
    if (raw[r] >= 10) throw DataError("'" + path + "' has a label above 9: not a CIFAR-10 batch");
}

}  // namespace nds::trainer
