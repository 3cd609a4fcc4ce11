#include "space/net_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>

#include "space/limits.h"
#include "space/params.h"

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

using Json = nlohmann::json;

// How each block key is read; `field` is the Field bit of the kinds that read
// it (0: every kind). One row per key, so the reader and its errors agree.
struct BlockKey {
  const char* key;
  unsigned field;
  void (*set)(Block& b, const Json& v, const JsonName& n);
};

void read_branch(Block& b, const Json& v, const JsonName& n) {
  if (!v.is_array() || v.size() != b.branch.size())
    throw std::invalid_argument(n.str() + " must be a list of 6 integers, got " + json_text(v));
  for (size_t i = 0; i < b.branch.size(); ++i)
    b.branch[i] = json_int(v[i], JsonName{n.prefix, n.key, static_cast<int>(i)});
}

void read_padding(Block& b, const Json& v, const JsonName& n) {
  b.padding = json_int(v, n);
  // Block keeps -1 for "kernel / 2"; the JSON form always spells it out.
  if (b.padding < 0)
    throw std::invalid_argument(n.str() + " must be >= 0, got " + std::to_string(b.padding));
}

const BlockKey kBlockKeys[] = {
    {"stage", 0, [](Block& b, const Json& v, const JsonName& n) { b.stage = json_int(v, n); }},
    {"w_in", 0, [](Block& b, const Json& v, const JsonName& n) { b.w_in = json_int(v, n); }},
    {"w_out", 0, [](Block& b, const Json& v, const JsonName& n) { b.w_out = json_int(v, n); }},
    {"stride", kStride,
     [](Block& b, const Json& v, const JsonName& n) { b.stride = json_int(v, n); }},
    {"kernel", kKernel,
     [](Block& b, const Json& v, const JsonName& n) { b.kernel = json_int(v, n); }},
    {"padding", kPadding, read_padding},
    {"groups", kGroups,
     [](Block& b, const Json& v, const JsonName& n) { b.groups = json_int(v, n); }},
    {"w_b", kWb, [](Block& b, const Json& v, const JsonName& n) { b.w_b = json_int(v, n); }},
    {"w_se", kWse, [](Block& b, const Json& v, const JsonName& n) { b.w_se = json_int(v, n); }},
    {"bn", kBn, [](Block& b, const Json& v, const JsonName& n) { b.bn = json_bool(v, n); }},
    {"bias", kBias, [](Block& b, const Json& v, const JsonName& n) { b.bias = json_bool(v, n); }},
    {"act", kAct,
     [](Block& b, const Json& v, const JsonName& n) {
       b.act = activation_from_string(json_string(v, n));
     }},
    {"pool", kPoolType,
     [](Block& b, const Json& v, const JsonName& n) {
       b.pool = pool_from_string(json_string(v, n));
     }},
    {"ceil_mode", kCeil,
     [](Block& b, const Json& v, const JsonName& n) { b.ceil_mode = json_bool(v, n); }},
    {"out_size", kOutSize,
     [](Block& b, const Json& v, const JsonName& n) { b.out_size = json_int(v, n); }},
    {"dropout", kDropoutP,
     [](Block& b, const Json& v, const JsonName& n) { b.dropout = json_number(v, n); }},
    {"repeats", kRepeats,
     [](Block& b, const Json& v, const JsonName& n) { b.repeats = json_int(v, n); }},
    {"relu_first", kRepeats,
     [](Block& b, const Json& v, const JsonName& n) { b.relu_first = json_bool(v, n); }},
    {"grow_first", kRepeats,
     [](Block& b, const Json& v, const JsonName& n) { b.grow_first = json_bool(v, n); }},
    {"branch", kBranch, read_branch},
    {"lrn_size", kLrnParams,
     [](Block& b, const Json& v, const JsonName& n) { b.lrn_size = json_int(v, n); }},
    {"lrn_alpha", kLrnParams,
     [](Block& b, const Json& v, const JsonName& n) { b.lrn_alpha = json_number(v, n); }},
    {"lrn_beta", kLrnParams,
     [](Block& b, const Json& v, const JsonName& n) { b.lrn_beta = json_number(v, n); }},
    {"lrn_k", kLrnParams,
     [](Block& b, const Json& v, const JsonName& n) { b.lrn_k = json_number(v, n); }},
};

Block block_from_json(const Json& j, size_t index) {
  std::string where = "block " + std::to_string(index);
  if (!j.is_object()) throw std::invalid_argument(where + " is not a JSON object: " + json_text(j));
  const auto kind = j.find("kind");
  if (kind == j.end()) throw std::invalid_argument(where + ": missing key 'kind'");
  Block b;
  b.kind = kind_from_string(json_string(*kind, JsonName{where, "kind"}));
  where += std::string(" (") + to_string(b.kind) + ")";
  const unsigned f = fields_of(b.kind);
  for (const auto& item : j.items()) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const std::string& key = item.key();
    const Json& value = item.value();
    if (key == "kind") continue;
    const BlockKey* k = std::find_if(std::begin(kBlockKeys), std::end(kBlockKeys),
                                     [&](const BlockKey& bk) { return key == bk.key; });
    if (k == std::end(kBlockKeys))
      throw std::invalid_argument(where + ": unknown block key '" + key + "'");
    if (k->field != 0 && !(f & k->field))
      throw std::invalid_argument(where + ": key '" + key + "' does not apply to a " +
                                  to_string(b.kind) + " block");
    k->set(b, value, JsonName{where, k->key});
  }
  return b;
}

std::vector<Block> blocks_from_json(const Json& j) {
  if (!j.is_array())
    throw std::invalid_argument("spec: 'blocks' must be a list, got " + json_text(j));
  std::vector<Block> blocks;
  blocks.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) blocks.push_back(block_from_json(j[i], i));
  return blocks;
}

}  // namespace

NetSpec net_spec_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("spec is not a JSON object: " + json_text(j));
  NetSpec spec;
  const std::string where = "spec";
  try {
    for (const auto& [key, value] : j.items()) {
      const JsonName name{where, key.c_str()};
      if (key == "name")
        spec.name = json_string(value, name);
      else if (key == "family")
        spec.family = json_string(value, name);
      else if (key == "in_channels")
        spec.in_channels = json_int(value, name);
      else if (key == "num_classes")
        spec.num_classes = json_int(value, name);
      else if (key == "resolution")
        spec.resolution = json_int(value, name);
      else if (key == "blocks")
        spec.blocks = blocks_from_json(value);
      else
        throw std::invalid_argument("unknown spec key '" + key + "'");
    }
  } catch (const nlohmann::json::exception& e) {
    // The readers above throw std::invalid_argument; this keeps any other
    // JSON error a bad-input error too.
    throw std::invalid_argument(std::string("malformed spec: ") + e.what());
  }
  validate(spec);
  return spec;
}

namespace {

// The spec's name in errors: its fixed-point name, else its family.
std::string spec_label(const NetSpec& spec) {
  if (!spec.name.empty()) return spec.name;
  return spec.family.empty() ? "spec" : spec.family;
}

// "'key'" or "'key[i]'".
std::string quoted_key(const char* key, int i) {
  return std::string("'") + key + (i >= 0 ? "[" + std::to_string(i) + "]'" : "'");
}

// Range checks of one block; the message is built only when one fails, since
// the sampler validates every candidate it expands.
class BlockCheck {
 public:
  BlockCheck(const NetSpec& spec, size_t index) : spec_(spec), index_(index) {}

  void range(const char* key, int64_t v, int64_t lo, int64_t hi, int i = -1) const {
    if (v < lo || v > hi) fail(key, i, range_rule(v, lo, hi), std::to_string(v));
  }
  void finite(const char* key, double v) const {
    if (!std::isfinite(v)) fail(key, -1, "finite", format_number(v));
  }
  [[noreturn]] void fail(const char* key, int i, const std::string& rule,
                         const std::string& value) const {
    const Block& b = spec_.blocks[index_];
    throw std::invalid_argument(spec_label(spec_) + ": block " + std::to_string(index_) + " (" +
                                to_string(b.kind) + ", stage " + std::to_string(b.stage) +
                                "): " + quoted_key(key, i) + " must be " + rule + ", got " + value);
  }

 private:
  const NetSpec& spec_;
  size_t index_;
};

void validate_block(const NetSpec& spec, size_t index) {
  using namespace limits;
  const Block& b = spec.blocks[index];
  const BlockCheck c(spec, index);
  const unsigned f = fields_of(b.kind);
  c.range("stage", b.stage, 0, kMaxBlocks);
  c.range("w_in", b.w_in, 1, b.kind == BlockKind::kLinear ? kMaxFeatures : kMaxChannels);
  c.range("w_out", b.w_out, 1, kMaxChannels);
  if (f & kStride) c.range("stride", b.stride, 1, kMaxResolution);
  if (f & kKernel) c.range("kernel", b.kernel, 1, kMaxResolution);
  if ((f & kPadding) && b.padding != -1) c.range("padding", b.padding, 0, kMaxResolution);
  if (f & kGroups) c.range("groups", b.groups, 1, kMaxChannels);
  if (f & kWb) c.range("w_b", b.w_b, 1, kMaxChannels);
  if (f & kWse) c.range("w_se", b.w_se, 0, kMaxChannels);
  if (f & kOutSize) c.range("out_size", b.out_size, 1, kMaxResolution);
  if ((f & kDropoutP) && !(b.dropout >= 0 && b.dropout <= 1))
    c.fail("dropout", -1, "in [0, 1]", format_number(b.dropout));
  if (f & kRepeats) c.range("repeats", b.repeats, 1, kMaxBlocks);
  if (f & kBranch)
    for (size_t i = 0; i < b.branch.size(); ++i)
      c.range("branch", b.branch[i], 1, kMaxChannels, static_cast<int>(i));
  if (f & kLrnParams) {
    c.range("lrn_size", b.lrn_size, 1, kMaxChannels);
    c.finite("lrn_alpha", b.lrn_alpha);
    c.finite("lrn_beta", b.lrn_beta);
    c.finite("lrn_k", b.lrn_k);
  }
  // The layer's 3x3 conv makes the w_out - w_in new channels.
  if (b.kind == BlockKind::kDenseLayer && b.w_out <= b.w_in)
    c.fail("w_out", -1, "more than w_in " + std::to_string(b.w_in), std::to_string(b.w_out));
}

void spec_range(const NetSpec& spec, const char* key, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi)
    throw std::invalid_argument(spec_label(spec) + ": '" + key + "' must be " +
                                range_rule(v, lo, hi) + ", got " + std::to_string(v));
}

}  // namespace

void validate(const NetSpec& spec) {
  using namespace limits;
  spec_range(spec, "in_channels", spec.in_channels, 1, kMaxChannels);
  spec_range(spec, "num_classes", spec.num_classes, 1, kMaxClasses);
  spec_range(spec, "resolution", spec.resolution, 1, kMaxResolution);
  spec_range(spec, "blocks", static_cast<int64_t>(spec.blocks.size()), 0, kMaxBlocks);
  for (size_t i = 0; i < spec.blocks.size(); ++i) validate_block(spec, i);
}

void validate_resolution(int resolution) {
  if (resolution < 1 || resolution > limits::kMaxResolution)
    throw std::invalid_argument("resolution must be " +
                                range_rule(resolution, 1, limits::kMaxResolution) + ", got " +
                                std::to_string(resolution));
}

}  // namespace nds
