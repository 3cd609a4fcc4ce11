#pragma once
// Fixed classic networks that are not members of a parameterized family here:
// each file of space/ named after the network builds its one NetSpec.

#include "space/net_spec.h"

namespace nds {

// LeNet-5 (LeCun et al. 1998): 32x32x1 input, tanh, average pools, C5 as a
// 5x5 conv, F6 84 units, 10 outputs.
NetSpec lenet5(const ExpandOptions& options = {});

// AlexNet, torchvision's single-tower 64-192-384-256-256 variant.
NetSpec alexnet(const ExpandOptions& options = {});

// GoogLeNet as in the 2014 paper: conv biases, no BN, LRN after the stem,
// 5x5 branch kernels, no auxiliary heads, dropout 0.4 before the classifier.
NetSpec googlenet(const ExpandOptions& options = {});

// Xception (Chollet 2017) for 299x299 inputs: entry, middle (8 blocks) and
// exit flows of depthwise-separable convs.
NetSpec xception(const ExpandOptions& options = {});

}  // namespace nds
