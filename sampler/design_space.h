#pragma once
// A design space as a value: a model family, a distribution per family
// parameter, and the constraints a sampled model must meet. Written as JSON
// (README "nds sample" documents the format); parsing rejects unknown keys
// and impossible ranges with a message naming the key. This is the one home
// of that format: the reports and nds refine read stored spaces and write
// refined ones through these types and functions, never by their keys.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampler/random.h"

namespace nds::sampler {

// Candidates drawn per sample index before giving up, unless the space says
// otherwise. AnyNet and RegNet candidates are judged by the per-block
// estimate (sampler/estimate.h) in well under a microsecond; other families
// expand every candidate (tens of microseconds), so they get fewer attempts
// and an impossible constraint still fails within seconds.
constexpr std::int64_t kDefaultMaxAttemptsEstimated = 1000000;  // anynet, regnet
constexpr std::int64_t kDefaultMaxAttempts = 100000;            // other families
std::int64_t default_max_attempts(const std::string& family);

// How one family parameter is drawn.
enum class DistKind {
  kFixed,   // always `value`
  kChoice,  // one of `values`, each equally likely
  kInt,     // an integer from `rand` on [low, high] with step q
  kFloat,   // a number from `rand` on [low, high] with step q
  kList,    // a list: `items[i]` draws element i
};

struct ParamDist {
  DistKind kind = DistKind::kFixed;
  nlohmann::json value;                // kFixed
  std::vector<nlohmann::json> values;  // kChoice
  RandType rand = RandType::kUniform;  // kInt, kFloat
  double low = 0;                      // kInt, kFloat: closed range
  double high = 0;
  double q = 1;                        // kInt, kFloat: quantization step
  QuantizedRange range;                // kInt, kFloat: (rand, low, high, q), ready to draw
  int length = 0;                      // kChoice, kInt, kFloat: > 0 draws a list of this many
  std::vector<ParamDist> items;        // kList

  bool is_list() const { return kind == DistKind::kList || length > 0; }
};

// An inclusive window on a complexity measure; absent when !on.
struct Window {
  bool on = false;
  std::int64_t lo = 0;
  std::int64_t hi = std::numeric_limits<std::int64_t>::max();  // max = no upper bound

  bool contains(std::int64_t v) const { return !on || (lo <= v && v <= hi); }
};

enum class Measure { kFlops, kParams, kActs };
const char* to_string(Measure m);

struct DesignSpace {
  std::string name;         // built-in name or the file it came from
  std::string description;  // one line for --list
  std::string family;       // a family of space/family.h
  int resolution = 224;     // input side at which complexity is measured
  int num_classes = 1000;   // classifier outputs of every model
  int in_channels = 3;      // input image channels of every model
  // Family parameters by key; drawn in key order (std::map), which fixes the
  // stream a seed gives.
  std::map<std::string, ParamDist> params;

  // Constraints.
  Window flops;                             // multiply-adds at `resolution`
  Window params_count;                      // parameters ("params" in JSON)
  Window acts;                              // activations at `resolution`
  std::vector<std::string> shared;          // list params drawn once and repeated
  std::vector<std::string> non_decreasing;  // list params whose values never decrease
  int min_stages = 0;                       // regnet: stages produced in [min, max] and
  int max_stages = 0;                       //   equal to the stages the rule spans; 0 = off

  // Stratified sampling: index i must fall in log-bin (i mod bins) of the
  // `stratify_by` window. 0 = off.
  int stratify_bins = 0;
  Measure stratify_by = Measure::kFlops;

  std::int64_t max_attempts = kDefaultMaxAttempts;  // candidates per index before failing

  // Fixed points (space/zoo.h names) a sweep of this space trains alongside
  // its samples under the same recipe, as reference points.
  std::vector<std::string> include;
  // The sweep whose results this space was refined from (nds refine); not
  // part of what determines the samples.
  std::string parent;

  const Window& window(Measure m) const;
};

// Settings that replace a space file's own (the options of nds sample and
// nds sweep), written into its JSON before it is parsed, so that the space
// sampled, stored and shown is one consistent value. Unset ones keep the
// file's.
struct SpaceOverrides {
  std::optional<int> resolution;
  std::optional<int> num_classes;
  std::optional<int> in_channels;
  std::optional<Window> flops;  // complexity windows
  std::optional<Window> params;
  std::optional<Window> acts;
  std::vector<std::string> include;        // fixed points added to the space's own, once each
  int stratify_bins = 0;                   // > 0: stratify, replacing the space's setting
  std::optional<std::string> stratify_by;  // with stratify_bins: the measure's name
  std::optional<std::int64_t> max_attempts;
};

// Writes the set overrides into the space file's JSON `j`. Throws
// std::invalid_argument naming `origin` when `j` is not an object or holds a
// constraints or include entry of the wrong type.
void apply_overrides(nlohmann::json& j, const SpaceOverrides& o, const std::string& origin);

// Parses and validates a space. `origin` prefixes error messages (a file
// name or a built-in name). Throws std::invalid_argument naming the key.
DesignSpace parse_design_space(const nlohmann::json& j, const std::string& origin);

// Lossless JSON form (parse_design_space(to_json(s)) == s); every default is
// written out.
nlohmann::json to_json(const DesignSpace& space);

// One distribution's JSON form, as to_json(DesignSpace) writes it under
// "params" (a plain value for a fixed one, a list for kList).
nlohmann::json to_json(const ParamDist& dist);

// `dist` (kInt or kFloat) moved to the closed range [low, high], keeping its
// rand type and step; an int's ends are rounded to whole numbers. Throws
// std::invalid_argument("<what>: ...") when the range is not a valid grid
// (validate_range) or `dist` draws no number range.
ParamDist with_range(const ParamDist& dist, double low, double high, const std::string& what);

// The values a distribution spans, for messages: "[low, high]" for kInt and
// kFloat, the list of values for kChoice, the JSON form otherwise.
std::string range_text(const ParamDist& dist);

// What determines the samples: to_json without name, description and
// max_attempts. Equal canonical forms (and seeds) give equal samples, so a
// results store can recognise "the same space".
nlohmann::json canonical_json(const DesignSpace& space);
std::uint64_t space_hash(const DesignSpace& space);  // FNV-1a of canonical_json(...).dump()

}  // namespace nds::sampler
