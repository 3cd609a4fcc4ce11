#pragma once
// Counts with unit suffixes, as users write complexity bounds: "200M",
// "1.6G", "5K", "360000000", "3.6e8".

#include <cstdint>
#include <string>

namespace nds::sampler {

// Parses a non-negative count: a decimal number with an optional suffix K/k
// (1e3), M (1e6), G (1e9) or T (1e12), rounded to the nearest integer. Throws
// std::invalid_argument naming `what` and the text.
std::int64_t parse_count(const std::string& text, const std::string& what);

// An inclusive window [lo, hi] written "LO:HI"; "LO:" has no upper bound
// (hi = INT64_MAX) and ":HI" starts at 0. Throws naming `what` for bad text
// or lo > hi.
struct CountRange {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
};
CountRange parse_count_range(const std::string& text, const std::string& what);

// The shortest suffixed text that parses back to v: 400000000 -> "400M",
// 1600000000 -> "1.6G", 1234 -> "1234".
std::string format_count(std::int64_t v);

}  // namespace nds::sampler
