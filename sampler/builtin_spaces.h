#pragma once
// The design spaces shipped with nds. Their JSON lives in sampler/spaces/ and
// is compiled into the library (CMake generates builtin_spaces_data.cc), so
// an installed binary needs no source tree.

#include <string>
#include <vector>

#include "sampler/design_space.h"

namespace nds::sampler {

struct BuiltinSpace {
  const char* name;       // e.g. "regnet_x", "regnet_x_cifar"
  const char* json_text;  // the file sampler/spaces/<name>.json
};

// In the order `nds sample --list` prints them: each space, then its
// small-image (_cifar) variant.
const std::vector<BuiltinSpace>& builtin_spaces();

// Null when there is no such built-in.
const BuiltinSpace* find_builtin_space(const std::string& name);

// Parses a built-in; throws std::invalid_argument naming an unknown name.
DesignSpace builtin_space(const std::string& name);

}  // namespace nds::sampler
