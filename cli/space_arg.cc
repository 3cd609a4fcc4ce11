#include "cli/space_arg.h"

#include <cstdint>
#include <optional>
#include <stdexcept>

#include "cli/cli_util.h"
#include "sampler/builtin_spaces.h"
#include "sampler/design_space.h"
#include "sampler/units.h"

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

namespace {

std::optional<int> positive_int(const boost::program_options::variables_map& vm, const char* key) {
  if (!vm.count(key)) return std::nullopt;
  return int_at_least_one(vm, key);
}

std::optional<sampler::Window> window(const boost::program_options::variables_map& vm,
                                      const char* key) {
  if (!vm.count(key)) return std::nullopt;
  const sampler::CountRange r =
      sampler::parse_count_range(vm[key].as<std::string>(), std::string("--") + key);
  return sampler::Window{true, r.lo, r.hi};
}

// What the options say; a command without an option never has it set.
sampler::SpaceOverrides overrides(const boost::program_options::variables_map& vm) {
  sampler::SpaceOverrides o;
  o.resolution = positive_int(vm, "resolution");
  o.num_classes = positive_int(vm, "classes");
  o.in_channels = positive_int(vm, "in-channels");
  o.flops = window(vm, "flops");
  o.params = window(vm, "params");
  o.acts = window(vm, "acts");
  if (vm.count("include")) o.include = split_list(vm["include"].as<std::string>());
  if (vm.count("stratify")) {
    o.stratify_bins = int_at_least_one(vm, "stratify");
    if (vm.count("stratify-by")) o.stratify_by = vm["stratify-by"].as<std::string>();
  } else if (vm.count("stratify-by")) {
    throw std::invalid_argument("--stratify-by needs --stratify BINS");
  }
  if (vm.count("max-attempts")) {
    const std::uint64_t m = parse_unsigned(vm["max-attempts"].as<std::string>(), "--max-attempts");
    if (m < 1) throw std::invalid_argument("--max-attempts must be >= 1, got 0");
    o.max_attempts = static_cast<std::int64_t>(m);
  }
  return o;
}

}  // namespace

json space_with_options(const boost::program_options::variables_map& vm, std::string* origin) {
  json j = load_space_json(vm["space"].as<std::string>(), origin);
  sampler::apply_overrides(j, overrides(vm), *origin);
  return j;
}

}  // namespace nds::cli
