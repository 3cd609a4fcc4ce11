#pragma once
// Text helpers for command output.

#include <cstdint>
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

// Reads a whole file; throws std::invalid_argument naming it if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace nds::cli
