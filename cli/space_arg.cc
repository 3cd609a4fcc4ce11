#include "cli/space_arg.h"

#include <stdexcept>

#include "cli/format.h"
#include "sampler/builtin_spaces.h"

namespace nds::cli {

using nlohmann::json;

bool looks_like_file(const std::string& arg) {
  return arg.find('/') != std::string::npos ||
         (arg.size() > 5 && arg.compare(arg.size() - 5, 5, ".json") == 0);
}

json load_space_json(const std::string& arg, std::string* origin) {
  std::string text;
  if (looks_like_file(arg)) {
    text = read_file(arg);
    *origin = arg;
  } else {
    const sampler::BuiltinSpace* b = sampler::find_builtin_space(arg);
    if (!b) {
      std::string known;
      for (const sampler::BuiltinSpace& s : sampler::builtin_spaces())
        known += (known.empty() ? "" : ", ") + std::string(s.name);
      throw std::invalid_argument("unknown space '" + arg + "' (built-in: " + known +
                                  "; a file needs a '/' or a .json suffix)");
    }
    text = b->json_text;
    *origin = arg;
  }
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument("malformed JSON in '" + arg + "': " + e.what());
  }
}

}  // namespace nds::cli
