#pragma once
// --space FILE|NAME, shared by nds sample and nds sweep.

#include <string>

#include <nlohmann/json.hpp>

namespace nds::cli {

// A space file needs a '/' or a .json suffix; anything else is a built-in name.
bool looks_like_file(const std::string& arg);

// The space's JSON (a file's or a built-in's) and, in `origin`, the name
// errors should carry. Throws std::invalid_argument for an unknown name, an
// unreadable file or malformed JSON.
nlohmann::json load_space_json(const std::string& arg, std::string* origin);

}  // namespace nds::cli
