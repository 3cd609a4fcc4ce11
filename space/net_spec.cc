#include "space/net_spec.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace nds {
namespace {

struct KindName {
  BlockKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {
    {BlockKind::kConv, "conv"},
    {BlockKind::kPool, "pool"},
    {BlockKind::kAdaptivePool, "adaptive_pool"},
    {BlockKind::kLrn, "lrn"},
    {BlockKind::kDropout, "dropout"},
    {BlockKind::kLinear, "linear"},
    {BlockKind::kHead, "head"},
    {BlockKind::kVanilla, "vanilla"},
    {BlockKind::kResBasic, "res_basic"},
    {BlockKind::kResBottleneck, "res_bottleneck"},
    {BlockKind::kDenseLayer, "dense_layer"},
    {BlockKind::kTransition, "transition"},
    {BlockKind::kInception, "inception"},
    {BlockKind::kSeparable, "separable"},
    {BlockKind::kXception, "xception"},
};

constexpr const char* kActivationNames[] = {"none", "relu", "tanh", "sigmoid"};

BlockKind kind_from_string(const std::string& s) {
  for (const auto& kn : kKindNames)
    if (s == kn.name) return kn.kind;
  throw std::invalid_argument("unknown block kind '" + s + "'");
}

Activation activation_from_string(const std::string& s) {
  for (int i = 0; i < 4; ++i)
    if (s == kActivationNames[i]) return static_cast<Activation>(i);
  throw std::invalid_argument("unknown activation '" + s + "'");
}

PoolType pool_from_string(const std::string& s) {
  if (s == "max") return PoolType::kMax;
  if (s == "avg") return PoolType::kAvg;
  throw std::invalid_argument("unknown pool type '" + s + "'");
}

// The fields each kind reads, beyond kind, stage, w_in and w_out. Writing only
// these makes the JSON canonical.
enum Field : unsigned {
  kStride = 1u << 0,
  kKernel = 1u << 1,
  kPadding = 1u << 2,
  kGroups = 1u << 3,
  kWb = 1u << 4,
  kWse = 1u << 5,
  kBn = 1u << 6,
  kBias = 1u << 7,
  kAct = 1u << 8,
  kPoolType = 1u << 9,
  kCeil = 1u << 10,
  kOutSize = 1u << 11,
  kDropoutP = 1u << 12,
  kRepeats = 1u << 13,
  kBranch = 1u << 14,
  kLrnParams = 1u << 15,
};

unsigned fields_of(BlockKind kind) {
  switch (kind) {
    case BlockKind::kConv:
      return kStride | kKernel | kPadding | kGroups | kBn | kBias | kAct;
    case BlockKind::kPool:
      return kPoolType | kKernel | kStride | kPadding | kCeil;
    case BlockKind::kAdaptivePool:
      return kOutSize;
    case BlockKind::kLrn:
      return kLrnParams;
    case BlockKind::kDropout:
      return kDropoutP;
    case BlockKind::kLinear:
      return kBias | kAct;
    case BlockKind::kHead:
      return kBn | kDropoutP;
    case BlockKind::kVanilla:
    case BlockKind::kResBasic:
      return kStride;
    case BlockKind::kResBottleneck:
      return kStride | kWb | kGroups | kWse;
    case BlockKind::kDenseLayer:
      return kWb;
    case BlockKind::kTransition:
      return 0;
    case BlockKind::kInception:
      return kBranch | kBn | kBias;
    case BlockKind::kSeparable:
      return kKernel | kStride | kBn | kAct;
    case BlockKind::kXception:
      return kStride | kRepeats;
  }
  return 0;
}

}  // namespace

const char* to_string(BlockKind kind) {
  for (const auto& kn : kKindNames)
    if (kn.kind == kind) return kn.name;
  return "?";
}

const char* to_string(Activation act) {
  return kActivationNames[static_cast<int>(act)];
}

const char* to_string(PoolType pool) {
  return pool == PoolType::kMax ? "max" : "avg";
}

bool operator==(const Block& a, const Block& b) {
  // A new Block field must be compared here; the size check is a reminder.
  static_assert(sizeof(void*) != 8 || sizeof(Block) == 136, "Block changed: update operator==");
  return a.kind == b.kind && a.stage == b.stage && a.w_in == b.w_in && a.w_out == b.w_out &&
         a.stride == b.stride && a.kernel == b.kernel && a.padding == b.padding &&
         a.groups == b.groups && a.w_b == b.w_b && a.w_se == b.w_se && a.bn == b.bn &&
         a.bias == b.bias && a.act == b.act && a.pool == b.pool && a.ceil_mode == b.ceil_mode &&
         a.out_size == b.out_size && a.dropout == b.dropout && a.repeats == b.repeats &&
         a.relu_first == b.relu_first && a.grow_first == b.grow_first && a.branch == b.branch &&
         a.lrn_size == b.lrn_size && a.lrn_alpha == b.lrn_alpha && a.lrn_beta == b.lrn_beta &&
         a.lrn_k == b.lrn_k;
}

int NetSpec::num_stages() const {
  int n = 0;
  for (const Block& b : blocks) n = std::max(n, b.stage + 1);
  return n;
}

nlohmann::json to_json(const Block& b) {
  nlohmann::json j;
  j["kind"] = to_string(b.kind);
  j["stage"] = b.stage;
  j["w_in"] = b.w_in;
  j["w_out"] = b.w_out;
  const unsigned f = fields_of(b.kind);
  if (f & kStride) j["stride"] = b.stride;
  if (f & kKernel) j["kernel"] = b.kernel;
  if (f & kPadding) j["padding"] = b.pad();
  if (f & kGroups) j["groups"] = b.groups;
  if (f & kWb) j["w_b"] = b.w_b;
  if (f & kWse) j["w_se"] = b.w_se;
  if (f & kBn) j["bn"] = b.bn;
  if (f & kBias) j["bias"] = b.bias;
  if (f & kAct) j["act"] = to_string(b.act);
  if (f & kPoolType) j["pool"] = to_string(b.pool);
  if (f & kCeil) j["ceil_mode"] = b.ceil_mode;
  if (f & kOutSize) j["out_size"] = b.out_size;
  if (f & kDropoutP) j["dropout"] = b.dropout;
  if (f & kRepeats) {
    j["repeats"] = b.repeats;
    j["relu_first"] = b.relu_first;
    j["grow_first"] = b.grow_first;
  }
  if (f & kBranch) j["branch"] = b.branch;
  if (f & kLrnParams) {
    j["lrn_size"] = b.lrn_size;
    j["lrn_alpha"] = b.lrn_alpha;
    j["lrn_beta"] = b.lrn_beta;
    j["lrn_k"] = b.lrn_k;
  }
  return j;
}

nlohmann::json to_json(const NetSpec& spec) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const Block& b : spec.blocks) blocks.push_back(to_json(b));
  return {{"name", spec.name},
          {"family", spec.family},
          {"in_channels", spec.in_channels},
          {"num_classes", spec.num_classes},
          {"resolution", spec.resolution},
          {"blocks", std::move(blocks)}};
}

namespace {

Block block_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("block is not a JSON object: " + j.dump());
  Block b;
  b.kind = kind_from_string(j.at("kind").get<std::string>());
  const unsigned f = fields_of(b.kind);
  for (const auto& [key, value] : j.items()) {
    const auto allowed = [&](unsigned field) {
      if (!(f & field))
        throw std::invalid_argument("key '" + key + "' does not apply to a " + to_string(b.kind) +
                                    " block");
    };
    if (key == "kind") continue;
    if (key == "stage")
      b.stage = value.get<int>();
    else if (key == "w_in")
      b.w_in = value.get<int>();
    else if (key == "w_out")
      b.w_out = value.get<int>();
    else if (key == "stride")
      allowed(kStride), b.stride = value.get<int>();
    else if (key == "kernel")
      allowed(kKernel), b.kernel = value.get<int>();
    else if (key == "padding")
      allowed(kPadding), b.padding = value.get<int>();
    else if (key == "groups")
      allowed(kGroups), b.groups = value.get<int>();
    else if (key == "w_b")
      allowed(kWb), b.w_b = value.get<int>();
    else if (key == "w_se")
      allowed(kWse), b.w_se = value.get<int>();
    else if (key == "bn")
      allowed(kBn), b.bn = value.get<bool>();
    else if (key == "bias")
      allowed(kBias), b.bias = value.get<bool>();
    else if (key == "act")
      allowed(kAct), b.act = activation_from_string(value.get<std::string>());
    else if (key == "pool")
      allowed(kPoolType), b.pool = pool_from_string(value.get<std::string>());
    else if (key == "ceil_mode")
      allowed(kCeil), b.ceil_mode = value.get<bool>();
    else if (key == "out_size")
      allowed(kOutSize), b.out_size = value.get<int>();
    else if (key == "dropout")
      allowed(kDropoutP), b.dropout = value.get<double>();
    else if (key == "repeats")
      allowed(kRepeats), b.repeats = value.get<int>();
    else if (key == "relu_first")
      allowed(kRepeats), b.relu_first = value.get<bool>();
    else if (key == "grow_first")
      allowed(kRepeats), b.grow_first = value.get<bool>();
    else if (key == "branch")
      allowed(kBranch), b.branch = value.get<std::array<int, 6>>();
    else if (key == "lrn_size")
      allowed(kLrnParams), b.lrn_size = value.get<int>();
    else if (key == "lrn_alpha")
      allowed(kLrnParams), b.lrn_alpha = value.get<double>();
    else if (key == "lrn_beta")
      allowed(kLrnParams), b.lrn_beta = value.get<double>();
    else if (key == "lrn_k")
      allowed(kLrnParams), b.lrn_k = value.get<double>();
    else
      throw std::invalid_argument("unknown block key '" + key + "'");
  }
  return b;
}

}  // namespace

NetSpec net_spec_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("spec is not a JSON object");
  NetSpec spec;
  try {
    for (const auto& [key, value] : j.items()) {
      if (key == "name")
        spec.name = value.get<std::string>();
      else if (key == "family")
        spec.family = value.get<std::string>();
      else if (key == "in_channels")
        spec.in_channels = value.get<int>();
      else if (key == "num_classes")
        spec.num_classes = value.get<int>();
      else if (key == "resolution")
        spec.resolution = value.get<int>();
      else if (key == "blocks") {
        for (const auto& b : value) spec.blocks.push_back(block_from_json(b));
      } else {
        throw std::invalid_argument("unknown spec key '" + key + "'");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("malformed spec: ") + e.what());
  }
  return spec;
}

}  // namespace nds
