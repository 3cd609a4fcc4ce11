#include "store/records.h"

#include <cctype>
#include <stdexcept>

namespace nds::store {

const char* to_string(TrialState state) {
  switch (state) {
    case TrialState::kWaiting:
      return "WAITING";
    case TrialState::kRunning:
      return "RUNNING";
    case TrialState::kComplete:
      return "COMPLETE";
    case TrialState::kFailed:
      return "FAILED";
    case TrialState::kDiverged:
      return "DIVERGED";
  }
  return "?";
}

TrialState parse_trial_state(const std::string& text) {
  std::string upper = text;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (TrialState s : {TrialState::kWaiting, TrialState::kRunning, TrialState::kComplete,
                       TrialState::kFailed, TrialState::kDiverged}) {
    if (upper == to_string(s)) return s;
  }
  throw std::invalid_argument("unknown trial state '" + text +
                              "' (expected WAITING, RUNNING, COMPLETE, FAILED or DIVERGED)");
}

int64_t& StateCounts::at(TrialState s) {
  switch (s) {
    case TrialState::kWaiting:
      return waiting;
    case TrialState::kRunning:
      return running;
    case TrialState::kComplete:
      return complete;
    case TrialState::kFailed:
      return failed;
    case TrialState::kDiverged:
      return diverged;
  }
  return waiting;
}

}  // namespace nds::store
