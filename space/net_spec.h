#pragma once
// A model as a value: the block-level description every consumer shares.
//
// Family parameters are expanded into a NetSpec in which every width, group
// count and stride is resolved. Two consumers read the same spec: analytic
// complexity (space/complexity.h) and the LibTorch builder (trainer/). Both see
// a block's internal layers only through lower_block() in space/layers.h, so a
// block's structure is written down exactly once.

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nds {

enum class BlockKind {
  kConv,          // conv [+ BN] [+ activation]; stems, VGG/AlexNet/LeNet layers
  kPool,          // max or average pooling window
  kAdaptivePool,  // adaptive average pool to out_size x out_size
  kLrn,           // local response normalization (across channels)
  kDropout,       // dropout with probability `dropout`
  kLinear,        // flatten, fully connected [+ activation]
  kHead,          // [BN-ReLU] global average pool [dropout] FC (pycls AnyHead)
  kVanilla,       // pycls vanilla block: 3x3 conv BN ReLU, 3x3 conv BN ReLU
  kResBasic,      // pycls/torchvision basic residual block
  kResBottleneck, // X block (bottleneck, grouped 3x3); Y block when w_se > 0
  kDenseLayer,    // DenseNet-BC layer: BN-ReLU-1x1, BN-ReLU-3x3, concatenated
  kTransition,    // DenseNet transition: BN-ReLU-1x1 conv, 2x2 average pool
  kInception,     // GoogLeNet inception module: four concatenated branches
  kSeparable,     // depthwise-separable conv [+ BN] [+ activation]
  kXception,      // Xception residual block of separable convs
};

enum class Activation { kNone, kRelu, kTanh, kSigmoid };
enum class PoolType { kMax, kAvg };

// One block of a network, with every size resolved. Fields a kind does not use
// keep their defaults; the comment on each field names the kinds that read it.
// A new field also goes into operator==, to_json and net_spec_from_json.
struct Block {
  BlockKind kind = BlockKind::kConv;
  int stage = 0;          // stage index: 0 = stem, 1.. = body stages, then head
  int w_in = 0;           // input channels (kLinear: input features)
  int w_out = 0;          // output channels (kLinear/kHead: output features)
  int stride = 1;         // stride of the block's strided conv or pool
  int kernel = 3;         // kernel size (kConv, kPool, kSeparable)
  int padding = -1;       // padding; -1 means kernel / 2
  int groups = 1;         // groups of the conv (kConv) or 3x3 conv (kResBottleneck)
  int w_b = 0;            // bottleneck width (kResBottleneck, kDenseLayer)
  int w_se = 0;           // squeeze-excitation width, 0 = no SE (kResBottleneck)
  bool bn = true;         // BN after convs (kConv, kSeparable, kInception); kHead: BN-ReLU first
  bool bias = false;      // conv/FC bias (kConv, kLinear, kInception)
  Activation act = Activation::kRelu;  // activation after the layer (kConv, kLinear, kSeparable)
  PoolType pool = PoolType::kMax;      // kPool
  bool ceil_mode = false; // output size rounds up (kPool; Caffe-era networks)
  int out_size = 1;       // output side (kAdaptivePool)
  double dropout = 0;     // probability (kDropout; kHead: before the FC)
  int repeats = 0;        // separable convs in the body (kXception)
  bool relu_first = true; // body starts with ReLU (kXception)
  bool grow_first = true; // first separable conv changes the width (kXception)
  std::array<int, 6> branch{};  // kInception: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj
  int lrn_size = 5;       // kLrn: neighbouring channels
  double lrn_alpha = 1e-4;
  double lrn_beta = 0.75;
  double lrn_k = 1.0;

  int pad() const { return padding >= 0 ? padding : kernel / 2; }
};

// Field-by-field equality (complexity() reuses the cost of a repeated block).
bool operator==(const Block& a, const Block& b);
inline bool operator!=(const Block& a, const Block& b) { return !(a == b); }

// A whole network. Input channels and class count are part of the value; the
// input resolution is not (complexity takes it as an argument).
struct NetSpec {
  std::string name;        // fixed-point name, or empty for a sampled model
  std::string family;      // the generator that produced it
  int in_channels = 3;     // input image channels
  int num_classes = 1000;  // output features of the classifier
  int resolution = 224;    // input side the network was designed for
  std::vector<Block> blocks;

  int num_stages() const;  // highest stage index + 1
};

// Options every family's expand() takes. Zero means the family's default
// (3 channels and 1000 classes for ImageNet networks, 1 and 10 for LeNet-5).
struct ExpandOptions {
  int in_channels = 0;  // input image channels
  int num_classes = 0;  // classifier outputs
};

inline int or_default(int value, int fallback) { return value > 0 ? value : fallback; }

const char* to_string(BlockKind kind);
const char* to_string(Activation act);
const char* to_string(PoolType pool);

// Lossless JSON form of a spec (the expanded spec a results database stores).
// Only the fields that matter for the block's kind are written, so the form is
// also canonical: equal networks give equal JSON.
nlohmann::json to_json(const NetSpec& spec);
nlohmann::json to_json(const Block& block);
// Reads and validate()s a spec; every error is std::invalid_argument naming
// the block, the key and the value. The JSON form spells padding out, so a
// negative padding is an error there (-1 is only Block's in-memory default).
NetSpec net_spec_from_json(const nlohmann::json& j);

// The one check of a spec's values against space/limits.h, run before it is
// counted or built (net_spec_from_json, expand_params and complexity call it):
// channels, classes and resolution in range, and in each block the fields its
// kind reads: strides, kernels, groups and widths >= 1, paddings >= 0 (or -1),
// SE widths >= 0, dropout in [0, 1], a dense layer that grows. Throws
// std::invalid_argument naming the block, the key and the value.
void validate(const NetSpec& spec);

// An input side for complexity(): in [1, limits::kMaxResolution].
void validate_resolution(int resolution);

}  // namespace nds
