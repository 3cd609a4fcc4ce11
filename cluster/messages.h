#pragma once
// The farm's messages as JSON: claimed trials, epoch metrics and outcomes.
// Doubles that were not measured (NaN) travel as null.

#include <nlohmann/json.hpp>

#include "cluster/trial_runner.h"
#include "store/records.h"
#include "store/store.h"

namespace nds::cluster {

nlohmann::json to_json(const store::ClaimedTrial& t);
store::ClaimedTrial claimed_from_json(const nlohmann::json& j);

nlohmann::json to_json(const store::EpochMetrics& m);
store::EpochMetrics epoch_from_json(const nlohmann::json& j);

nlohmann::json to_json(const TrialOutcome& o);
TrialOutcome outcome_from_json(const nlohmann::json& j);

}  // namespace nds::cluster
