#include "store/records.h"

#include <cctype>
#include <numeric>
#include <stdexcept>

namespace nds::store {
namespace {

// Each state's name as the database stores it, in TrialState's order.
constexpr const char* kStateNames[kTrialStates] = {"WAITING", "RUNNING", "COMPLETE", "FAILED",
                                                   "DIVERGED"};

}  // namespace

const char* to_string(TrialState state) {
  const auto i = static_cast<size_t>(state);
  return i < kTrialStates ? kStateNames[i] : "?";
}

TrialState parse_trial_state(const std::string& text) {
  std::string upper = text;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < kTrialStates; ++i) {
    if (upper == kStateNames[i]) return static_cast<TrialState>(i);
  }
  std::string expected;  // "WAITING, RUNNING, ... or DIVERGED"
  for (size_t i = 0; i < kTrialStates; ++i)
    expected += std::string(i == 0 ? "" : i + 1 == kTrialStates ? " or " : ", ") + kStateNames[i];
  throw std::invalid_argument("unknown trial state '" + text + "' (expected " + expected + ")");
}

int64_t StateCounts::total() const {
  return std::accumulate(n_.begin(), n_.end(), int64_t{0});
}

}  // namespace nds::store
