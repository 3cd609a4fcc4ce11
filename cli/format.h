#pragma once
// Text helpers for command output.

#include <cstdint>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nds::cli {

std::string with_commas(int64_t v);  // 2684792 -> "2,684,792"
std::string si(double v);            // 199040872 -> "199.0M"

// A plain text table: columns right-aligned except the first `left` ones.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, size_t left = 1);
  void add(std::vector<std::string> row);
  void rule();  // a separator line before the next row
  std::string str() const;

 private:
  std::vector<std::vector<std::string>> rows_;  // an empty row is a rule
  size_t left_;
};

// Caps on JSON a user hands nds (model specs, family parameters, space files).
// A file is read up to kMaxJsonBytes + 1 bytes, so one past the cap (or an
// endless one such as /dev/zero) fails at once; nesting deeper than
// kMaxJsonDepth fails while parsing, before any recursive consumer (copying,
// dump(), the readers) could overflow the stack. Real inputs are far below
// both: an expanded spec of limits::kMaxBlocks blocks is about 2 MiB, 4 deep.
constexpr std::size_t kMaxJsonBytes = std::size_t{16} << 20;
constexpr int kMaxJsonDepth = 64;

// The file's bytes; std::invalid_argument when it cannot be read or holds
// more than `cap` bytes.
std::string read_file_capped(const std::string& path, std::size_t cap = kMaxJsonBytes);

// Parses `text` within the caps above; errors (std::invalid_argument) name `origin`.
nlohmann::json parse_json_capped(const std::string& text, const std::string& origin);

// read_file_capped, then parse_json_capped.
nlohmann::json read_json_file(const std::string& path);

// j.dump(indent), with text that is not valid UTF-8 replaced (U+FFFD) rather
// than thrown on: what nds writes as JSON must not fail on a bad byte.
std::string json_dump(const nlohmann::json& j, int indent = -1);


}  // namespace nds::cli
