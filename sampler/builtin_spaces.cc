#include "sampler/builtin_spaces.h"

#include <cstddef>
#include <stdexcept>

namespace nds::sampler {

// Defined in the generated builtin_spaces_data.cc.
namespace embedded {
extern const BuiltinSpace kSpaces[];
extern const std::size_t kNumSpaces;
}  // namespace embedded

const std::vector<BuiltinSpace>& builtin_spaces() {
  static const std::vector<BuiltinSpace> table(embedded::kSpaces,
                                               embedded::kSpaces + embedded::kNumSpaces);
  return table;
}

const BuiltinSpace* find_builtin_space(const std::string& name) {
  for (const BuiltinSpace& s : builtin_spaces())
    if (name == s.name) return &s;
  return nullptr;
}

DesignSpace builtin_space(const std::string& name) {
  const BuiltinSpace* s = find_builtin_space(name);
  if (!s) {
    std::string known;
    for (const BuiltinSpace& b : builtin_spaces()) known += (known.empty() ? "" : ", ") + std::string(b.name);
    throw std::invalid_argument("unknown space '" + name + "' (built-in: " + known + ")");
  }
  // A parse error here is a bug in a shipped file; tests parse every one.
  return parse_design_space(nlohmann::json::parse(s->json_text), s->name);
}

}  // namespace nds::sampler
