#include "cli/format.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nds::cli {

using nlohmann::json;

std::string with_commas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string si(double v) {
  static constexpr const char* kUnits[] = {"", "K", "M", "G", "T"};
  int u = 0;
  while (std::abs(v) >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.2f%s", v, kUnits[u]);
  return buf;
}

TextTable::TextTable(std::vector<std::string> header, size_t left) : left_(left) {
  rows_.push_back(std::move(header));
  rows_.emplace_back();
}

void TextTable::add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

void TextTable::rule() { rows_.emplace_back(); }

std::string TextTable::str() const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (row.size() > width.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  size_t total = 0;
  for (size_t w : width) total += w + 2;
  std::ostringstream out;
  for (const auto& row : rows_) {
    if (row.empty()) {
      out << std::string(total > 2 ? total - 2 : 0, '-') << '\n';
      continue;
    }
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - row[i].size(), ' ');
      line += (i ? "  " : "") + (i < left_ ? row[i] + pad : pad + row[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
  return out.str();
}

std::string read_file_capped(const std::string& path, std::size_t cap) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read '" + path + "': " + std::strerror(errno));
  // Reads at most cap + 1 bytes: enough to tell that a file is too large,
  // and an endless one (/dev/zero, a pipe that never closes) stops there.
  std::string text;
  char buf[1 << 16];
  while (text.size() <= cap) {
    const std::size_t want = std::min(sizeof buf, cap + 1 - text.size());
    in.read(buf, static_cast<std::streamsize>(want));
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (in.bad())
      throw std::invalid_argument("cannot read '" + path + "': " + std::strerror(errno));
    if (!in) break;  // end of file
  }
  if (text.size() > cap)
    throw std::invalid_argument("'" + path + "' is larger than " + std::to_string(cap) +
                                " bytes, the cap on JSON input");
  return text;
}

json parse_json_capped(const std::string& text, const std::string& origin) {
  // nlohmann's parser itself is iterative; the callback sees the depth of each
  // opening bracket and stops the parse at the first one past the cap.
  const json::parser_callback_t depth_cap = [&](int depth, json::parse_event_t event, json&) {
    const bool opens =
        event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonDepth)
      throw std::invalid_argument("JSON in '" + origin + "' nests deeper than " +
                                  std::to_string(kMaxJsonDepth) + " levels");
    return true;
  };
  try {
    return json::parse(text, depth_cap);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw std::invalid_argument("malformed JSON in '" + origin + "': " + e.what());
  }
}

json read_json_file(const std::string& path) {
  return parse_json_capped(read_file_capped(path), path);
}

std::string json_dump(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace nds::cli
