#include "cli/rows.h"

#include <cmath>
#include <ctime>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "cli/format.h"

namespace nds::cli {
namespace {

using store::Row;
using store::Value;

std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out = "X'";
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out + "'";
}

// Text of a value for tables and CSV; `null` for NULL.
std::string text_of(const Value& v, const char* null) {
  if (std::holds_alternative<std::monostate>(v)) return null;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return format_real(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return hex(std::get<store::Blob>(v).bytes);
}

nlohmann::ordered_json json_of(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return nullptr;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) {
    if (!std::isfinite(*d)) return nullptr;
    return *d;
  }
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return hex(std::get<store::Blob>(v).bytes);
}

Value real(double v) {
  return std::isnan(v) ? Value{} : Value{v};
}
Value text(const std::string& s) {
  return s.empty() ? Value{} : Value{s};
}
Value opt(const std::optional<int64_t>& v) {
  return v ? Value{*v} : Value{};
}

}  // namespace

const char* to_string(OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return "table";
    case OutputFormat::kCsv:
      return "csv";
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kJsonl:
      return "jsonl";
  }
  return "?";
}

OutputFormat parse_output_format(const std::string& text,
                                 const std::vector<OutputFormat>& allowed) {
  std::string names;
  for (OutputFormat f : allowed) {
    if (text == to_string(f)) return f;
    names += (names.empty() ? "" : ", ") + std::string(to_string(f));
  }
  throw std::invalid_argument("unknown --format '" + text + "' (expected " + names + ")");
}

std::string csv_field(const std::string& s) {
  const bool quote = s.find_first_of(",\"\r\n") != std::string::npos ||
                     (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!quote) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string format_real(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return nlohmann::json(v).dump();  // shortest round-trip form
}

std::string format_time(double t) {
  if (std::isnan(t)) return "-";
  const std::time_t secs = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

RowWriter::RowWriter(std::ostream& out, OutputFormat format, std::vector<std::string> columns,
                     size_t left_columns)
    : out_(out), format_(format), columns_(std::move(columns)), table_(columns_, left_columns) {
  if (format_ == OutputFormat::kCsv) {
    for (size_t i = 0; i < columns_.size(); ++i) out_ << (i ? "," : "") << csv_field(columns_[i]);
    out_ << '\n';
  } else if (format_ == OutputFormat::kJson) {
    out_ << '[';
  }
}

void RowWriter::add(const Row& row) {
  switch (format_) {
    case OutputFormat::kTable: {
      std::vector<std::string> cells;
      for (const Value& v : row) cells.push_back(text_of(v, "NULL"));
      table_.add(std::move(cells));
      break;
    }
    case OutputFormat::kCsv:
      for (size_t i = 0; i < row.size(); ++i)
        out_ << (i ? "," : "") << csv_field(text_of(row[i], ""));
      out_ << '\n';
      break;
    case OutputFormat::kJson:
    case OutputFormat::kJsonl: {
      nlohmann::ordered_json o = nlohmann::ordered_json::object();
      for (size_t i = 0; i < row.size() && i < columns_.size(); ++i)
        o[columns_[i]] = json_of(row[i]);
      if (format_ == OutputFormat::kJson) out_ << (rows_ ? ",\n" : "\n");
      out_ << json_dump(o);
      if (format_ == OutputFormat::kJsonl) out_ << '\n';
      break;
    }
  }
  ++rows_;
}

void RowWriter::finish() {
  if (format_ == OutputFormat::kTable) out_ << table_.str();
  if (format_ == OutputFormat::kJson) out_ << (rows_ ? "\n]\n" : "]\n");
  out_.flush();
}

const std::vector<std::string>& trial_columns() {
  static const std::vector<std::string> columns = {"sweep",
                                                   "trial_id",
                                                   "sample_index",
                                                   "attempt",
                                                   "latest",
                                                   "state",
                                                   "seed",
                                                   "rank",
                                                   "host",
                                                   "device",
                                                   "started_at",
                                                   "finished_at",
                                                   "heartbeat_at",
                                                   "top1_err",
                                                   "top5_err",
                                                   "best_top1_err",
                                                   "best_top5_err",
                                                   "train_loss",
                                                   "epochs_done",
                                                   "train_seconds",
                                                   "images_per_sec",
                                                   "data_seconds",
                                                   "skipped_images",
                                                   "decoded_images",
                                                   "lost",
                                                   "error",
                                                   "reference",
                                                   "model_hash",
                                                   "family",
                                                   "params",
                                                   "flops",
                                                   "acts",
                                                   "depth",
                                                   "w_0",
                                                   "w_a",
                                                   "w_m",
                                                   "group_width",
                                                   "bottleneck_ratio",
                                                   "params_json"};
  return columns;
}

Row trial_row(const std::string& sweep, const store::TrialRecord& t) {
  return {sweep,
          t.id,
          t.sample_index,
          t.attempt,
          static_cast<int64_t>(t.latest ? 1 : 0),
          std::string(store::to_string(t.state)),
          t.seed,
          opt(t.rank),
          text(t.host),
          text(t.device),
          real(t.started_at),
          real(t.finished_at),
          real(t.heartbeat_at),
          real(t.top1_err),
          real(t.top5_err),
          real(t.best_top1_err),
          real(t.best_top5_err),
          real(t.train_loss),
          t.epochs_done,
          real(t.train_seconds),
          real(t.images_per_sec),
          real(t.data_seconds),
          t.skipped_images,
          t.decoded_images,
          static_cast<int64_t>(t.lost ? 1 : 0),
          text(t.error),
          text(t.reference),
          t.model_hash,
          t.family,
          t.params,
          t.flops,
          t.acts,
          opt(t.depth),
          real(t.w_0),
          real(t.w_a),
          real(t.w_m),
          opt(t.group_width),
          real(t.bottleneck_ratio),
          t.params_json};
}

const std::vector<std::string>& epoch_columns() {
  static const std::vector<std::string> columns = {
      "sweep",          "trial_id",       "sample_index",  "attempt",       "epoch", "train_loss",
      "train_top1_err", "train_top5_err", "test_top1_err", "test_top5_err", "lr",    "seconds"};
  return columns;
}

Row epoch_row(const std::string& sweep, const store::TrialRecord& t, const store::EpochMetrics& e) {
  return {sweep,
          t.id,
          t.sample_index,
          t.attempt,
          e.epoch,
          real(e.train_loss),
          real(e.train_top1_err),
          real(e.train_top5_err),
          real(e.test_top1_err),
          real(e.test_top5_err),
          real(e.lr),
          real(e.seconds)};
}

}  // namespace nds::cli
