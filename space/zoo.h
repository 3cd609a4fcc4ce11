#pragma once
// The classic networks as fixed points of the families: name -> NetSpec.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/net_spec.h"

namespace nds {

struct FixedPoint {
  const char* name;        // e.g. "resnet50", "regnet_x_200mf"
  const char* family;      // the family it belongs to
  const char* reference;   // where its published numbers come from
  int resolution;          // its native input side
  NetSpec (*build)(const ExpandOptions& options);
  nlohmann::json (*params)();  // its family parameters, or null for a one-off network
};

const std::vector<FixedPoint>& fixed_points();

// Null when there is no such fixed point.
const FixedPoint* find_fixed_point(const std::string& name);

// Builds a fixed point by name; throws std::invalid_argument naming an unknown
// name (with the closest known names).
NetSpec fixed_point(const std::string& name, const ExpandOptions& options = {});

}  // namespace nds
