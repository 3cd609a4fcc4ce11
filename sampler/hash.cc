#include "sampler/hash.h"

#include <charconv>

namespace nds::sampler {
namespace {

// Appends `"key":value` pairs; the caller emits them in sorted key order,
// as nlohmann's std::map does.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void open() {
    out_ += '{';
    first_ = true;
  }
  void close() { out_ += '}'; }
  void key(const char* k) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += k;
    out_ += "\":";
  }
  void integer(const char* k, long long v) {
    key(k);
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    out_.append(buf, end);
  }
  void boolean(const char* k, bool v) {
    key(k);
    out_ += v ? "true" : "false";
  }
  void string(const char* k, const std::string& v) {
    key(k);
    // Escaping as nlohmann does; bytes that are not UTF-8 become U+FFFD
    // (valid text gives the same bytes, so hashes do not change).
    out_ += nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  // A name from space/'s tables (block kinds, activations, pools): a plain
  // identifier that needs no escaping.
  void name(const char* k, const char* v) {
    key(k);
    out_ += '"';
    out_ += v;
    out_ += '"';
  }
  void number(const char* k, double v) {
    key(k);
    out_ += nlohmann::json(v).dump();  // nlohmann's shortest round-trip form
  }
  void raw(const char* k, const std::string& text) {
    key(k);
    out_ += text;
  }

 private:
  std::string& out_;
  bool first_ = true;
};

// The fields to_json(const Block&) writes for each kind (space/net_spec.cc).
struct Fields {
  bool stride = false, kernel = false, padding = false, groups = false, w_b = false,
       w_se = false, bn = false, bias = false, act = false, pool = false, ceil = false,
       out_size = false, dropout = false, repeats = false, branch = false, lrn = false;
};

Fields fields_of(BlockKind kind) {
  Fields f;
  switch (kind) {
    case BlockKind::kConv:
      f.stride = f.kernel = f.padding = f.groups = f.bn = f.bias = f.act = true;
      break;
    case BlockKind::kPool: f.pool = f.kernel = f.stride = f.padding = f.ceil = true; break;
    case BlockKind::kAdaptivePool: f.out_size = true; break;
    case BlockKind::kLrn: f.lrn = true; break;
    case BlockKind::kDropout: f.dropout = true; break;
    case BlockKind::kLinear: f.bias = f.act = true; break;
    case BlockKind::kHead: f.bn = f.dropout = true; break;
    case BlockKind::kVanilla:
    case BlockKind::kResBasic: f.stride = true; break;
    case BlockKind::kResBottleneck: f.stride = f.w_b = f.groups = f.w_se = true; break;
    case BlockKind::kDenseLayer: f.w_b = true; break;
    case BlockKind::kTransition: break;
    case BlockKind::kInception: f.branch = f.bn = f.bias = true; break;
    case BlockKind::kSeparable: f.kernel = f.stride = f.bn = f.act = true; break;
    case BlockKind::kXception: f.stride = f.repeats = true; break;
  }
  return f;
}

void write_block(Writer& w, const Block& b) {
  const Fields f = fields_of(b.kind);
  w.open();
  // Sorted key order.
  if (f.act) w.name("act", to_string(b.act));
  if (f.bias) w.boolean("bias", b.bias);
  if (f.bn) w.boolean("bn", b.bn);
  if (f.branch) {
    std::string text = "[";
    for (size_t i = 0; i < b.branch.size(); ++i)
      text += (i ? "," : "") + std::to_string(b.branch[i]);
    w.raw("branch", text + "]");
  }
  if (f.ceil) w.boolean("ceil_mode", b.ceil_mode);
  if (f.dropout) w.number("dropout", b.dropout);
  if (f.groups) w.integer("groups", b.groups);
  if (f.repeats) w.boolean("grow_first", b.grow_first);
  if (f.kernel) w.integer("kernel", b.kernel);
  w.name("kind", to_string(b.kind));
  if (f.lrn) {
    w.number("lrn_alpha", b.lrn_alpha);
    w.number("lrn_beta", b.lrn_beta);
    w.number("lrn_k", b.lrn_k);
    w.integer("lrn_size", b.lrn_size);
  }
  if (f.out_size) w.integer("out_size", b.out_size);
  if (f.padding) w.integer("padding", b.pad());
  if (f.pool) w.name("pool", to_string(b.pool));
  if (f.repeats) {
    w.boolean("relu_first", b.relu_first);
    w.integer("repeats", b.repeats);
  }
  w.integer("stage", b.stage);
  if (f.stride) w.integer("stride", b.stride);
  if (f.w_b) w.integer("w_b", b.w_b);
  w.integer("w_in", b.w_in);
  w.integer("w_out", b.w_out);
  if (f.w_se) w.integer("w_se", b.w_se);
  w.close();
}

}  // namespace

std::uint64_t fnv1a64(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV offset basis
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;  // FNV prime
  }
  return h;
}

std::string canonical_spec_text(const NetSpec& spec) {
  std::string out;
  out.reserve(96 * spec.blocks.size() + 96);
  Writer top(out);
  top.open();
  top.key("blocks");
  out += '[';
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    if (i) out += ',';
    Writer w(out);
    write_block(w, spec.blocks[i]);
  }
  out += ']';
  top.string("family", spec.family);
  top.integer("in_channels", spec.in_channels);
  top.integer("num_classes", spec.num_classes);
  top.integer("resolution", spec.resolution);
  top.close();
  return out;
}

std::uint64_t spec_hash(const NetSpec& spec) { return fnv1a64(canonical_spec_text(spec)); }

std::string hash_text(std::uint64_t hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) s[static_cast<size_t>(i)] = kDigits[hash & 15];
  return s;
}

}  // namespace nds::sampler
