#pragma once
// Option parsing and output-file helpers that several nds commands share.

#include <boost/program_options.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/format.h"   // the JSON input caps, read_file_capped, json_dump
#include "cli/options.h"  // parse_options

namespace nds::cli {

// The int option `key`, which must be >= 1 ("--KEY must be >= 1, got V").
int int_at_least_one(const boost::program_options::variables_map& vm, const char* key);

// A non-negative integer option, read as text so that "-1" is not wrapped.
std::uint64_t parse_unsigned(const std::string& text, const std::string& option);

// A number of seconds in [lo, hi] (finite; "inf", "nan" and junk are errors
// naming the option and the text).
double parse_seconds(const std::string& text, const std::string& option, double lo, double hi);

// "a,b,,c" -> {"a", "b", "c"}: a comma-separated option value, empty items dropped.
std::vector<std::string> split_list(const std::string& text);

// The folder part of a file path: "." for a bare name, "/" at the root.
std::string dir_of(const std::string& path);

// Writes through a temporary file in the same folder, renamed over `path`
// at the end, so a reader sees the old file or the whole new one.
void write_atomically(const std::string& path, const std::string& text);

}  // namespace nds::cli
