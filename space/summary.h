#pragma once
// Per-stage summary of a NetSpec: what `nds describe` prints, what a sample
// record carries, and what reports tabulate.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/complexity.h"
#include "space/net_spec.h"

namespace nds {

struct StageSummary {
  int stage = 0;
  std::string name;            // "stem", "1", "2", ..., "head"
  std::string kinds;           // block kinds in order of appearance, "conv+pool"
  int depth = 0;               // blocks of the stage's main (first weighted) kind
  int width = 0;               // output channels
  int stride = 1;              // product of the declared strides
  int groups = 0;              // groups of the main block's grouped conv; 0 = not applicable
  int group_width = 0;         // channels per group; 0 = not applicable
  double bottleneck_ratio = 0; // w_out / w_b of bottleneck blocks; 0 = not applicable
  int w_se = 0;                // SE width of the first block; 0 = none
  Shape out;                   // output shape at the summarized resolution
  Complexity cost;             // the stage's share
};

struct NetSummary {
  Complexity total;
  std::vector<StageSummary> stages;
  int body_stages = 0;  // stages other than stem and head
};

// Throws like complexity() when the input does not fit the network.
NetSummary summarize(const NetSpec& spec, int resolution);

nlohmann::json to_json(const StageSummary& s);

}  // namespace nds
