#include "cli/cli_util.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
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

json window_json(const std::string& text, const std::string& option) {
  const sampler::CountRange r = sampler::parse_count_range(text, option);
  return json::array(
      {r.lo, r.hi == std::numeric_limits<std::int64_t>::max() ? json(nullptr) : json(r.hi)});
}





std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write '" + tmp + "': " + std::strerror(errno));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::runtime_error("writing '" + tmp + "' failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "': " + why);
  }
}

}  // namespace nds::cli
