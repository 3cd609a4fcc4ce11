#pragma once
// Families by name: family parameters as JSON -> NetSpec. An explicit table
// (no self-registration), in the order `nds describe --list` shows it.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/net_spec.h"

namespace nds {

struct FamilyInfo {
  const char* name;
  const char* summary;
  // Expands parameters (the "family" key already checked); rejects unknown keys.
  NetSpec (*expand)(const nlohmann::json& params, const ExpandOptions& options);
};

const std::vector<FamilyInfo>& families();

// Expands `{"family": NAME, ...parameters}`. The keys "in_channels" and
// "num_classes" are accepted by every family; `options` fields that are
// non-zero override them. Throws std::invalid_argument naming the bad key or value.
NetSpec expand_params(const nlohmann::json& params, const ExpandOptions& options = {});

}  // namespace nds
