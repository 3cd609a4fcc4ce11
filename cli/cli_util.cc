#include "cli/cli_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <stdexcept>

#include "sampler/units.h"

namespace nds::cli {

namespace po = boost::program_options;
using nlohmann::json;

int int_at_least_one(const po::variables_map& vm, const char* key) {
  const int v = vm[key].as<int>();
  if (v < 1)
    throw std::invalid_argument(std::string("--") + key + " must be >= 1, got " +
                                std::to_string(v));
  return v;
}

std::uint64_t parse_unsigned(const std::string& text, const std::string& option) {
  const bool digits = !text.empty() && text.size() <= 19 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits)
    throw std::invalid_argument(option + " must be a non-negative integer, got '" + text + "'");
  return std::stoull(text);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

double parse_seconds(const std::string& text, const std::string& option, double lo, double hi) {
  char* end = nullptr;
  const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v < lo || v > hi) {
    char range[64];
    std::snprintf(range, sizeof range, "[%g, %g]", lo, hi);
    throw std::invalid_argument(option + " must be a number of seconds in " + range + ", got '" +
                                text + "'");
  }
  return v;
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

namespace {

// Writes `text` to a new file at `tmp` and flushes it to the disk, so that
// the rename cannot publish a name whose data a crash would lose.
void write_synced(const std::string& tmp, const std::string& text) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw std::runtime_error("cannot write '" + tmp + "': " + std::strerror(errno));
  int err = 0;  // the first failure's errno
  for (size_t done = 0; done < text.size() && !err;) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n > 0)
      done += static_cast<size_t>(n);
    else if (n == 0)
      err = EIO;
    else if (errno != EINTR)
      err = errno;
  }
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (err) {
    std::remove(tmp.c_str());
    throw std::runtime_error("writing '" + tmp + "' failed: " + std::strerror(err));
  }
}

// Flushes the folder's entry for the renamed file: without it a crash can
// leave the old name (or none) although the call returned.
void sync_folder(const std::string& path) {
  const std::string dir = dir_of(path);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot open the folder '" + dir + "' of '" + path +
                             "': " + std::strerror(errno));
  const int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  if (err)
    throw std::runtime_error("cannot sync the folder '" + dir + "' of '" + path +
                             "': " + std::strerror(err));
}

}  // namespace

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  write_synced(tmp, text);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "': " + why);
  }
  sync_folder(path);
}

}  // namespace nds::cli
