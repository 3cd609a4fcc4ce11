#pragma once
// Spec-to-spec rewrites: a network with one part swapped, every other block
// left exactly as it was.

#include "space/net_spec.h"

namespace nds {

// The small-image variant of a network: its stem (the stage-0 blocks) becomes
// one 3x3 stride-1 conv + BN + ReLU of the same output width, which is pycls's
// res_stem_cifar (so no stem max pool). A 32x32 input then reaches the body
// at full resolution, as in the CIFAR variants of ResNet and RegNet. The
// name gains "_cifar" and the design resolution becomes 32. Idempotent.
// Throws std::invalid_argument naming the network when it has no stem.
NetSpec with_cifar_stem(const NetSpec& spec);

}  // namespace nds
