#pragma once
// Command-line parsing shared by every nds command, in nds and in the LibTorch
// plugin alike.

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace nds::cli {

// Parses `args` against `opts`. With `positional`, arguments without an
// option name are collected, as a std::vector<std::string>, under that key
// (kept out of --help). With --help it prints `usage` and the options on
// stdout and returns true: the command should then exit 0.
bool parse_options(const std::vector<std::string>& args,
                   const boost::program_options::options_description& opts, const char* usage,
                   boost::program_options::variables_map& vm, const char* positional = nullptr);

}  // namespace nds::cli
