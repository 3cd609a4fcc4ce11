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

// The space named by --space with the options that replace its settings
// (--resolution, --classes, --in-channels, the --flops/--params/--acts
// windows, and where the command has them --include, --stratify,
// --stratify-by and --max-attempts) written in by the sampler
// (sampler::apply_overrides); `origin` as load_space_json's.
nlohmann::json space_with_options(const boost::program_options::variables_map& vm,
                                  std::string* origin);

}  // namespace nds::cli
