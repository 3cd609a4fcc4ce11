#pragma once
// The classic networks as fixed points of the families: each is a name plus
// family parameters, built by the same expand path as any sampled model.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/net_spec.h"

namespace nds {

struct FixedPoint {
  std::string name;        // e.g. "resnet50", "regnet_x_200mf"
  std::string reference;   // the publication or code its numbers come from
  nlohmann::json params;   // family parameters, {"family": ..., ...}
};

// In the order `nds describe --list` prints them.
const std::vector<FixedPoint>& fixed_points();

// Null when there is no such fixed point.
const FixedPoint* find_fixed_point(const std::string& name);

// Builds a fixed point by name (spec.name set); throws std::invalid_argument
// naming an unknown name and suggesting the closest known ones.
NetSpec fixed_point(const std::string& name, const ExpandOptions& options = {});

}  // namespace nds
