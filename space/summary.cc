#include "space/summary.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace nds {
namespace {

// Kinds that only reshape or regularize; a stage is named after the others.
bool is_auxiliary(BlockKind k) {
  return k == BlockKind::kPool || k == BlockKind::kAdaptivePool || k == BlockKind::kDropout ||
         k == BlockKind::kLrn;
}

int declared_stride(const Block& b) {
  switch (b.kind) {
    case BlockKind::kConv:
    case BlockKind::kPool:
    case BlockKind::kVanilla:
    case BlockKind::kResBasic:
    case BlockKind::kResBottleneck:
    case BlockKind::kSeparable:
    case BlockKind::kXception:
      return b.stride;
    case BlockKind::kTransition:
      return 2;  // its 2x2 average pool
    default:
      return 1;
  }
}

}  // namespace

NetSummary summarize(const NetSpec& spec, int resolution) {
  NetSummary out;
  std::vector<BlockCost> per_block;
  out.total = complexity(spec, resolution, &per_block);
  const int n_stages = spec.num_stages();
  out.stages.resize(static_cast<size_t>(n_stages));
  for (int s = 0; s < n_stages; ++s) {
    StageSummary& st = out.stages[static_cast<size_t>(s)];
    st.stage = s;
    st.name = s == 0 ? "stem" : (s == n_stages - 1 && n_stages > 1) ? "head" : std::to_string(s);
  }
  std::vector<const Block*> main(static_cast<size_t>(n_stages), nullptr);
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const Block& b = spec.blocks[i];
    StageSummary& st = out.stages[static_cast<size_t>(b.stage)];
    const std::string kind = to_string(b.kind);
    if (("+" + st.kinds + "+").find("+" + kind + "+") == std::string::npos)
      st.kinds += (st.kinds.empty() ? "" : "+") + kind;
    // Saturates: padding can keep the side from shrinking, so a valid spec
    // may declare more total stride than an int holds.
    st.stride = static_cast<int>(std::min<int64_t>(int64_t{st.stride} * declared_stride(b),
                                                   std::numeric_limits<int>::max()));
    st.cost += per_block[i].cost;
    st.out = per_block[i].out;
    const Block*& m = main[static_cast<size_t>(b.stage)];
    if (!m && !is_auxiliary(b.kind)) {
      m = &b;
      if (b.kind == BlockKind::kResBottleneck) {
        st.groups = b.groups;
        st.group_width = b.groups > 0 ? b.w_b / b.groups : 0;
        st.bottleneck_ratio = b.w_b > 0 ? static_cast<double>(b.w_out) / b.w_b : 0;
        st.w_se = b.w_se;
      } else if (b.kind == BlockKind::kConv && b.groups > 1) {
        st.groups = b.groups;
        st.group_width = b.w_in / b.groups;
      }
    }
    if (m && b.kind == m->kind) ++st.depth;
  }
  for (StageSummary& st : out.stages) {
    st.width = static_cast<int>(st.out.c);
    if (st.name != "stem" && st.name != "head") ++out.body_stages;
  }
  return out;
}

nlohmann::json to_json(const StageSummary& s) {
  nlohmann::json j = {{"stage", s.name},
                      {"kinds", s.kinds},
                      {"depth", s.depth},
                      {"width", s.width},
                      {"stride", s.stride},
                      {"out", {s.out.c, s.out.h, s.out.w}},
                      {"params", s.cost.params},
                      {"flops", s.cost.flops},
                      {"acts", s.cost.acts}};
  if (s.groups > 0) {
    j["groups"] = s.groups;
    j["group_width"] = s.group_width;
  }
  if (s.bottleneck_ratio > 0) j["bottleneck_ratio"] = s.bottleneck_ratio;
  if (s.w_se > 0) j["w_se"] = s.w_se;
  return j;
}

}  // namespace nds
