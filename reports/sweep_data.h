#pragma once
// One sweep's completed models as columns: what the report document and
// `nds refine` analyse. Read from the store in one snapshot; design
// parameters come from the indexed model columns (regnet) or the family
// parameters (other families), chosen by the sweep's stored design space.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampler/design_space.h"
#include "store/reader.h"

namespace nds::reports {

// One numeric design parameter (or complexity measure), one value per model.
struct ParamColumn {
  std::string name;       // "w_0", "d_2" (AnyNet stage 2's depth), "b" (a shared list), "flops"
  std::string space_key;  // the space's params key it comes from ("depths"); "" for a measure
  int stage = -1;         // element of a list parameter (0-based); -1: a scalar or a shared list
  bool shared = false;    // a list drawn once for every stage (constraints.shared)
  bool log_scale = false;
  std::vector<double> values;
  nlohmann::json space_range;  // [low, high] from the space, or null
};

// A fixed point trained in the sweep (nds sweep --include).
struct ReferenceModel {
  std::string name;
  int64_t sample_index = 0;
  int64_t trial_id = 0;
  double error = 0;
  double flops = 0;
  double params = 0;
  double acts = 0;
  std::string hash;  // the model hash, which pairs it with other sweeps' trials
};

// What per-block widths are computed from, without expanding the spec.
struct ModelShape {
  // regnet: the quantized linear rule's parameters.
  double w_0 = 0;
  double w_a = 0;
  double w_m = 0;
  int depth = 0;
  // anynet: blocks per stage and stage widths.
  std::vector<int> stage_depths;
  std::vector<int> stage_widths;
};

struct SweepData {
  store::SweepSummary summary;  // with space_json and recipe_json
  nlohmann::json space;         // the stored space (null when not JSON)
  // The stored space as the sampler reads it; absent when it is not a valid
  // space file (a sweep stored without one).
  std::optional<sampler::DesignSpace> design;
  nlohmann::json recipe;
  // The COMPLETE latest attempts of samples (references excluded), in sample
  // order; `errors` are their final top-1 errors.
  std::vector<double> errors;
  std::vector<double> flops;
  std::vector<double> params;
  std::vector<double> acts;
  std::vector<int64_t> sample_index;
  std::vector<int64_t> trial_id;
  std::vector<std::string> hashes;
  std::vector<std::string> params_json;  // family parameters, as stored
  std::vector<ModelShape> shapes;
  // Design parameters (complexity measures not included: see measure_columns).
  std::vector<ParamColumn> columns;
  std::vector<ReferenceModel> references;  // COMPLETE reference trials

  size_t size() const { return errors.size(); }
};

// Throws std::invalid_argument naming the sweep when it does not exist. A
// sweep with no completed trial gives empty columns.
SweepData load_sweep(const store::Reader& reader, const std::string& sweep);

// flops, params, acts as columns (log scale; space_range from the space's
// complexity windows).
std::vector<ParamColumn> measure_columns(const SweepData& data);

// Per-block output widths of model i, in order: the quantized linear rule
// (q = 8) for regnet, stage widths repeated by stage depths for anynet; empty
// for other families or when the parameters do not give a valid rule.
std::vector<int> block_widths(const SweepData& data, size_t i);

// The short parameter letter AnyNet papers use for a list key ("depths" ->
// "d"), or the key itself.
std::string list_param_name(const std::string& family, const std::string& key);

}  // namespace nds::reports
