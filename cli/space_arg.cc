#include "cli/space_arg.h"

#include <stdexcept>

#include "cli/cli_util.h"
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
    text = read_file_capped(arg);
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
  return parse_json_capped(text, arg);
}

void apply_space_options(const boost::program_options::variables_map& vm,
                         const std::string& origin, json& j) {
  if (vm.count("resolution")) j["resolution"] = int_at_least_one(vm, "resolution");
  if (vm.count("classes")) j["num_classes"] = int_at_least_one(vm, "classes");
  if (vm.count("in-channels")) j["in_channels"] = int_at_least_one(vm, "in-channels");
  for (const char* key : {"flops", "params", "acts"}) {
    if (!vm.count(key)) continue;
    if (j.contains("constraints") && !j["constraints"].is_object())
      throw std::invalid_argument(origin + ": constraints must be a JSON object");
    j["constraints"][key] = window_json(vm[key].as<std::string>(), std::string("--") + key);
  }
}

}  // namespace nds::cli
