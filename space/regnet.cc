#include "space/regnet.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "space/limits.h"

namespace nds {
namespace {

constexpr const char* kFamily = "regnet";

}  // namespace

RegNetWidths generate_regnet(double w_a, int w_0, double w_m, int depth, int quantum) {
  const std::string f = kFamily;
  // The depth is bounded before the per-block vectors are allocated.
  check_range(f, "depth", depth, 1, limits::kMaxBlocks);
  check_range(f, "quantum", quantum, 1, limits::kMaxChannels);
  if (!(w_0 > 0 && w_0 % quantum == 0))
    param_error(f, "w_0", "a positive multiple of " + std::to_string(quantum), std::to_string(w_0));
  check_range(f, "w_0", w_0, 1, limits::kMaxChannels);
  if (!(std::isfinite(w_a) && w_a >= 0)) param_error(f, "w_a", ">= 0", format_number(w_a));
  if (!(std::isfinite(w_m) && w_m > 1)) param_error(f, "w_m", "> 1", format_number(w_m));

  RegNetWidths out;
  out.block_widths.resize(static_cast<size_t>(depth));
  out.block_widths_cont.resize(static_cast<size_t>(depth));
  const double log_w_m = std::log(w_m);
  int max_k = 0;
  double prev_k = -1;  // equal k gives an equal power: pow only where a stage starts
  double prev_w = 0;
  for (int j = 0; j < depth; ++j) {
    // The float64 operations of numpy's version, in the same order; nearbyint
    // rounds half to even like np.round.
    const double u = j * w_a + w_0;
    const double k = std::nearbyint(std::log(u / w_0) / log_w_m);
    if (k != prev_k) {
      prev_k = k;
      prev_w = w_0 * std::pow(w_m, k);
      // Checked before the int casts below.
      if (!(prev_w <= limits::kMaxChannels))
        param_error(f, "w_a, w_m",
                    "such that widths are at most " + std::to_string(limits::kMaxChannels),
                    format_number(prev_w) + " at block " + std::to_string(j));
      // A w_m barely above 1 makes k huge while the width stays small.
      if (!(k <= limits::kMaxInt))
        param_error(f, "w_m", "far enough above 1 for at most 2^30 stages", format_number(w_m));
    }
    const double w = prev_w;
    out.block_widths_cont[static_cast<size_t>(j)] = u;
    out.block_widths[static_cast<size_t>(j)] =
        static_cast<int>(std::nearbyint(w / quantum)) * quantum;
    max_k = std::max(max_k, static_cast<int>(k));
  }
  // np.unique on the (non-decreasing) widths: runs of equal width are stages.
  for (int w : out.block_widths) {
    if (!out.widths.empty() && out.widths.back() == w) {
      ++out.depths.back();
    } else {
      out.widths.push_back(w);
      out.depths.push_back(1);
    }
  }
  out.num_stages = static_cast<int>(out.widths.size());
  out.total_stages = max_k + 1;
  return out;
}

AnyNetParams regnet_to_anynet(const RegNetParams& p) {
  const std::string f = kFamily;
  if (!(p.group_width >= 1)) param_error(f, "group_width", ">= 1", std::to_string(p.group_width));
  if (!(p.bottleneck_ratio > 0))
    param_error(f, "bottleneck_ratio", "> 0", format_number(p.bottleneck_ratio));
  check_range(f, "stride", p.stride, 1, limits::kMaxResolution);
  const RegNetWidths g = generate_regnet(p.w_a, p.w_0, p.w_m, p.depth, p.quantum);
  const int widest = *std::max_element(g.widths.begin(), g.widths.end());
  // Narrower stages clamp g to their width (pycls); a g wider than every stage is an error.
  if (!(p.group_width <= widest))
    param_error(f, "group_width", "at most the widest stage's width " + std::to_string(widest),
                std::to_string(p.group_width));
  AnyNetParams a;
  a.stem_type = p.stem_type;
  a.stem_w = p.stem_w;
  a.block_type = "res_bottleneck_block";
  a.depths = g.depths;
  a.widths = g.widths;
  const size_t n = g.widths.size();
  a.strides.assign(n, p.stride);
  a.bottleneck_ratios.assign(n, p.bottleneck_ratio);
  std::vector<double> bot_muls(n, 1.0 / p.bottleneck_ratio);
  check_bottleneck_widths(a.widths, bot_muls, f, "bottleneck_ratio");
  a.group_widths.assign(n, p.group_width);
  for (size_t i = 0; i < n; ++i) a.group_widths[i] = std::min(a.group_widths[i], a.widths[i]);
  adjust_block_compatibility(a.widths, bot_muls, a.group_widths);
  a.se_ratio = p.se_ratio;
  a.head_w = p.head_w;
  return a;
}

NetSpec expand_regnet(const RegNetParams& p, const ExpandOptions& options) {
  NetSpec spec = expand_anynet(regnet_to_anynet(p), options);
  spec.family = kFamily;
  return spec;
}

RegNetParams regnet_params_from_json(ParamReader& r) {
  RegNetParams p;
  p.depth = r.require_int("depth");
  p.w_0 = r.require_int("w_0");
  p.w_a = r.require_double("w_a");
  p.w_m = r.require_double("w_m");
  p.group_width = r.require_int("group_width");
  p.bottleneck_ratio = r.get_double("bottleneck_ratio", p.bottleneck_ratio);
  p.se_ratio = r.get_double("se_ratio", p.se_ratio);
  p.stride = r.get_int("stride", p.stride);
  p.stem_type = r.get_string("stem_type", p.stem_type);
  p.stem_w = r.get_int("stem_w", p.stem_w);
  p.head_w = r.get_int("head_w", p.head_w);
  p.quantum = r.get_int("quantum", p.quantum);
  return p;
}

nlohmann::json to_json(const RegNetParams& p) {
  return {{"family", kFamily},
          {"depth", p.depth},
          {"w_0", p.w_0},
          {"w_a", p.w_a},
          {"w_m", p.w_m},
          {"group_width", p.group_width},
          {"bottleneck_ratio", p.bottleneck_ratio},
          {"se_ratio", p.se_ratio},
          {"stride", p.stride},
          {"stem_type", p.stem_type},
          {"stem_w", p.stem_w},
          {"head_w", p.head_w},
          {"quantum", p.quantum}};
}

}  // namespace nds
