#pragma once
// Exact analytic cost of a NetSpec, counted the way pycls counts:
//   params: conv and FC weights and biases, BN gamma and beta (2 * C; running
//           statistics are buffers, not parameters);
//   flops:  multiply-adds of conv and FC layers, their biases included;
//   acts:   output elements of convs, windowed (max/avg) pools and FC layers.
// BN, activations, LRN, dropout, global/adaptive pools, additions,
// concatenations and the SE gate's product cost nothing.

#include <cstdint>
#include <vector>

#include "space/net_spec.h"

namespace nds {

struct Complexity {
  int64_t params = 0;
  int64_t flops = 0;
  int64_t acts = 0;

  // Adds `o`'s counts to these (unchecked: complexity() checks its sums).
  Complexity& operator+=(const Complexity& o) {
    params += o.params;
    flops += o.flops;
    acts += o.acts;
    return *this;
  }
};

// Output tensor shape after a block (per image).
struct Shape {
  int64_t c = 0;
  int64_t h = 0;
  int64_t w = 0;
};

struct BlockCost {
  Complexity cost;  // this block's own share
  Shape out;        // its output shape
};

// One block's cost and output shape on an input of shape `in`: its layer
// stream (space/lowering.h) run through the counter that complexity() uses,
// so a block kind's cost is defined once, by its layers. The sampler's
// pre-filter (sampler/estimate.h) sums these without building a NetSpec.
// The block must pass validate() (its strides, kernels and widths in range).
// Throws std::invalid_argument, without naming the block, when the input does
// not fit it (channels, a spatial size below 1, a count above 2^63 - 1).
BlockCost block_cost(const Block& block, const Shape& in);

// Cost of `spec` on a `resolution` x `resolution` input. Throws
// std::invalid_argument naming the block when the input is too small for the
// network (a spatial size below 1), or when the spec is inconsistent (a layer's
// input channels differ from what reaches it).
Complexity complexity(const NetSpec& spec, int resolution);

// The same, with each block's share and output shape in `per_block`.
Complexity complexity(const NetSpec& spec, int resolution, std::vector<BlockCost>* per_block);

}  // namespace nds
