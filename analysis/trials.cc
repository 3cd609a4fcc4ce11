#include "analysis/trials.h"

#include "analysis/check.h"

namespace nds::analysis {

std::vector<size_t> finished_trials(const std::vector<bool>& failed, const std::string& sweep) {
  const std::string where = "sweep '" + sweep + "'";
  if (failed.empty()) fail(where, "has no trials; nothing to analyze");
  std::vector<size_t> finished;
  for (size_t i = 0; i < failed.size(); ++i) {
    if (!failed[i]) finished.push_back(i);
  }
  if (finished.empty()) {
    fail(where, "all " + std::to_string(failed.size()) +
                    " trials FAILED; no model has an error to analyze");
  }
  return finished;
}

std::vector<double> gather(const std::vector<double>& values, const std::vector<size_t>& indices) {
  std::vector<double> out;
  out.reserve(indices.size());
  for (size_t i : indices) {
    if (i >= values.size()) {
      fail("gather", "index " + std::to_string(i) + " out of range for " +
                         std::to_string(values.size()) + " values");
    }
    out.push_back(values[i]);
  }
  return out;
}

}  // namespace nds::analysis
