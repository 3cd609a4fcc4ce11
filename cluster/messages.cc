#include "cluster/messages.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace nds::cluster {
namespace {

using nlohmann::json;

json number(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

double number_from(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::numeric_limits<double>::quiet_NaN();
  return it->get<double>();
}

// An epoch's real-valued metrics and their keys in the messages (NaN is sent
// as null), one list for both directions.
using store::EpochMetrics;
constexpr std::pair<const char*, double EpochMetrics::*> kEpochNumbers[] = {
    {"train_loss", &EpochMetrics::train_loss},
    {"train_top1_err", &EpochMetrics::train_top1_err},
    {"train_top5_err", &EpochMetrics::train_top5_err},
    {"test_top1_err", &EpochMetrics::test_top1_err},
    {"test_top5_err", &EpochMetrics::test_top5_err},
    {"lr", &EpochMetrics::lr},
    {"seconds", &EpochMetrics::seconds},
};

TrialStatus status_from(const std::string& s) {
  for (TrialStatus t : {TrialStatus::kComplete, TrialStatus::kDiverged, TrialStatus::kFailed,
                        TrialStatus::kInterrupted})
    if (s == to_string(t)) return t;
  throw std::invalid_argument("unknown trial status '" + s + "' in a farm message");
}

// j.dump(), with text that is not valid UTF-8 replaced (U+FFFD) instead of
// thrown on: a bad byte in a name or message must not fail the write.
std::string json_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string type_of(const json& j) {
  return j.value("type", "");
}

// The JSON of each message, with its "type".
json message_json(const ReadyMessage& m) {
  return {{"type", "ready"}, {"host", m.host}, {"device", m.device}};
}
json message_json(const HeartbeatMessage& m) {
  return {{"type", "heartbeat"}, {"trial", m.trial_id}};
}
json message_json(const EpochMessage& m) {
  return {{"type", "epoch"}, {"trial", m.trial_id}, {"metrics", to_json(m.metrics)}};
}
json message_json(const ResultMessage& m) {
  json j = {{"type", "result"}, {"outcome", to_json(m.outcome)}};
  if (m.seconds) j["seconds"] = *m.seconds;
  return j;
}
json message_json(const FatalMessage& m) {
  return {{"type", "fatal"}, {"error", m.error}};
}
json message_json(const TrialMessage& m) {
  return {{"type", "trial"}, {"trial", to_json(m.trial)}};
}
json message_json(const WaitMessage&) {
  return {{"type", "wait"}};
}
json message_json(const DoneMessage&) {
  return {{"type", "done"}};
}
json message_json(const StopMessage&) {
  return {{"type", "stop"}};
}
json message_json(const UnknownMessage& m) {
  return json::parse(m.text);
}

template <typename Variant>
std::string encode_variant(const Variant& m) {
  return json_text(std::visit([](const auto& v) { return message_json(v); }, m));
}

WorkerMessage worker_message_from(const json& j) {
  const std::string type = type_of(j);
  if (type == "ready") return ReadyMessage{j.value("host", ""), j.value("device", "")};
  if (type == "heartbeat") return HeartbeatMessage{j.value("trial", int64_t{0})};
  if (type == "epoch")
    return EpochMessage{j.value("trial", int64_t{0}), epoch_from_json(j.at("metrics"))};
  if (type == "result") {
    ResultMessage m;
    if (j.contains("seconds")) m.seconds = j.at("seconds").get<double>();
    m.outcome = outcome_from_json(j.at("outcome"));
    return m;
  }
  if (type == "fatal") return FatalMessage{j.value("error", std::string("unknown error"))};
  return UnknownMessage{json_text(j)};
}

ServerMessage server_message_from(const json& j) {
  const std::string type = type_of(j);
  if (type == "trial") return TrialMessage{claimed_from_json(j.at("trial"))};
  if (type == "wait") return WaitMessage{};
  if (type == "done") return DoneMessage{};
  if (type == "stop") return StopMessage{};
  return UnknownMessage{json_text(j)};
}

}  // namespace

FarmOptions GoMessage::farm_options() const {
  FarmOptions f;
  f.quiet = quiet;
  f.total = total;
  f.max_attempts = max_attempts;
  f.heartbeat_timeout_s = heartbeat_timeout_s;
  return f;
}

json to_json(const GoMessage& m) {
  if (!m.go) return {{"go", false}, {"code", m.code}};
  return {{"go", true},
          {"recipe", m.recipe},
          {"runner", m.runner},
          {"threads", m.threads},
          {"device", m.device},
          {"data", m.data},
          {"host", m.host},
          {"quiet", m.quiet},
          {"total", m.total},
          {"max_attempts", m.max_attempts},
          {"heartbeat_timeout_s", m.heartbeat_timeout_s}};
}

GoMessage go_from_json(const json& j) {
  GoMessage m;
  m.go = j.at("go").get<bool>();
  if (!m.go) {
    m.code = j.at("code").get<int>();
    return m;
  }
  m.recipe = j.at("recipe");
  m.runner = j.at("runner").get<std::string>();
  m.threads = j.at("threads").get<int>();
  m.device = j.at("device").get<std::string>();
  m.data = j.at("data").get<std::string>();
  m.host = j.at("host").get<std::string>();
  m.quiet = j.at("quiet").get<bool>();
  m.total = j.at("total").get<int64_t>();
  m.max_attempts = j.at("max_attempts").get<int64_t>();
  m.heartbeat_timeout_s = j.at("heartbeat_timeout_s").get<double>();
  return m;
}

json to_json(const store::ClaimedTrial& t) {
  return {{"trial_id", t.trial_id},
          {"sweep_id", t.sweep_id},
          {"sample_index", t.sample_index},
          {"attempt", t.attempt},
          {"seed", t.seed},
          {"model_id", t.model_id},
          {"model_hash", t.model_hash},
          {"family_params", t.family_params_json},
          {"spec", t.spec_json},
          {"reference", t.reference}};
}

store::ClaimedTrial claimed_from_json(const json& j) {
  store::ClaimedTrial t;
  t.trial_id = j.at("trial_id").get<int64_t>();
  t.sweep_id = j.at("sweep_id").get<int64_t>();
  t.sample_index = j.at("sample_index").get<int64_t>();
  t.attempt = j.at("attempt").get<int64_t>();
  t.seed = j.at("seed").get<int64_t>();
  t.model_id = j.at("model_id").get<int64_t>();
  t.model_hash = j.at("model_hash").get<std::string>();
  t.family_params_json = j.at("family_params").get<std::string>();
  t.spec_json = j.at("spec").get<std::string>();
  t.reference = j.value("reference", std::string());
  return t;
}

json to_json(const store::EpochMetrics& m) {
  json j = {{"epoch", m.epoch}};
  for (const auto& [key, field] : kEpochNumbers) j[key] = number(m.*field);
  return j;
}

store::EpochMetrics epoch_from_json(const json& j) {
  store::EpochMetrics m;
  m.epoch = j.at("epoch").get<int64_t>();
  for (const auto& [key, field] : kEpochNumbers) m.*field = number_from(j, key);
  return m;
}

json to_json(const TrialOutcome& o) {
  const store::TrialResult& r = o.result;
  json epochs = json::array();
  for (const store::EpochMetrics& m : r.epochs) epochs.push_back(to_json(m));
  return {{"status", to_string(o.status)},
          {"error", o.error},
          {"top1_err", number(r.top1_err)},
          {"top5_err", number(r.top5_err)},
          {"best_top1_err", number(r.best_top1_err)},
          {"best_top5_err", number(r.best_top5_err)},
          {"train_loss", number(r.train_loss)},
          {"epochs_done", r.epochs_done},
          {"train_seconds", number(r.train_seconds)},
          {"images_per_sec", number(r.images_per_sec)},
          {"data_seconds", number(r.data_seconds)},
          {"skipped_images", r.skipped_images},
          {"decoded_images", r.decoded_images},
          {"epochs", std::move(epochs)}};
}

TrialOutcome outcome_from_json(const json& j) {
  TrialOutcome o;
  o.status = status_from(j.at("status").get<std::string>());
  o.error = j.value("error", std::string());
  store::TrialResult& r = o.result;
  r.top1_err = number_from(j, "top1_err");
  r.top5_err = number_from(j, "top5_err");
  r.best_top1_err = number_from(j, "best_top1_err");
  r.best_top5_err = number_from(j, "best_top5_err");
  r.train_loss = number_from(j, "train_loss");
  r.epochs_done = j.value("epochs_done", int64_t{0});
  r.train_seconds = number_from(j, "train_seconds");
  r.images_per_sec = number_from(j, "images_per_sec");
  // Absent from older peers' messages: NaN (not measured) and 0.
  r.data_seconds = number_from(j, "data_seconds");
  r.skipped_images = j.value("skipped_images", int64_t{0});
  r.decoded_images = j.value("decoded_images", int64_t{0});
  for (const json& e : j.at("epochs")) r.epochs.push_back(epoch_from_json(e));
  return o;
}

std::string encode(const GoMessage& m) {
  return json_text(to_json(m));
}

std::string encode(const WorkerMessage& m) {
  return encode_variant(m);
}

std::string encode(const ServerMessage& m) {
  return encode_variant(m);
}

GoMessage decode_go(const std::string& bytes) {
  return go_from_json(json::parse(bytes));
}

WorkerMessage decode_worker_message(const std::string& bytes) {
  return worker_message_from(json::parse(bytes));
}

ServerMessage decode_server_message(const std::string& bytes) {
  return server_message_from(json::parse(bytes));
}

}  // namespace nds::cluster
