#pragma once
// Sanity limits on every model description, family parameters and expanded
// specs alike (README, "nds describe", lists them). They are far above any
// published network, and low enough that no int field overflows and no
// expansion allocates or loops without bound. Counts themselves are int64 and
// checked as they are summed (space/complexity.cc), since even a spec within
// these limits can describe more than 2^63 multiply-adds.

#include <cstdint>

namespace nds::limits {

// Input side in pixels; also the largest kernel, stride, padding and adaptive
// pool output, since a window wider than any input means nothing.
constexpr int kMaxResolution = 16384;

// Any channel width: input channels, stage and block widths, bottleneck and SE
// widths, group counts, inception branches, hidden FC widths.
constexpr int kMaxChannels = 1 << 24;

// Input features of a fully connected layer (a flattened C x H x W tensor).
constexpr int kMaxFeatures = 1 << 30;

// Classifier outputs.
constexpr int kMaxClasses = 1 << 20;

// Blocks of an expanded spec, and so the total depth a family may ask for
// (RegNet depth, the sum of AnyNet/VGG depths or DenseNet layers); also the
// largest stage index and Xception repeat count.
constexpr int kMaxBlocks = 10000;

// Magnitude of any integer read from JSON, before the rules above apply; it
// leaves headroom so that sums of two such values still fit an int.
constexpr std::int64_t kMaxInt = std::int64_t{1} << 30;

}  // namespace nds::limits
