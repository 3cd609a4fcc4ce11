#pragma once
// --space FILE|NAME and the options that replace its settings, shared by nds
// sample and nds sweep.

#include <boost/program_options.hpp>
#include <string>

#include <nlohmann/json.hpp>

namespace nds::cli {

// A space file needs a '/' or a .json suffix; anything else is a built-in name.
bool looks_like_file(const std::string& arg);

// The space's JSON (a file's or a built-in's) and, in `origin`, the name
// errors should carry. Throws std::invalid_argument for an unknown name, an
// unreadable file or malformed JSON.
nlohmann::json load_space_json(const std::string& arg, std::string* origin);

// Writes --resolution, --classes, --in-channels and the --flops/--params/--acts
// windows, where given, into the space's JSON `j` (errors name `origin`).
void apply_space_options(const boost::program_options::variables_map& vm,
                         const std::string& origin, nlohmann::json& j);

}  // namespace nds::cli
