#pragma once
// Reading a report document defensively, for the renderers (html.cc,
// markdown.cc): a document may come from an older nds or from a user's
// script (nds report --from-json), so every field is optional and every
// value is checked for its type before use.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nds::reports::render {

using Json = nlohmann::json;

// The trial states of a sweep's "counts", in the order the tables show them.
constexpr const char* kTrialStates[] = {"WAITING", "RUNNING", "COMPLETE", "FAILED", "DIVERGED"};

// j[key] when j is an object holding key, else a null value.
const Json& at(const Json& j, const char* key);
// The value when it is a number (booleans are not), else nullopt.
std::optional<double> number(const Json& v);
inline std::optional<double> number(const Json& j, const char* key) {
  return number(at(j, key));
}
// The numbers of an array (non-numbers skipped).
std::vector<double> numbers(const Json& array);
// A string as is, a number compactly, null as "", anything else as JSON.
std::string text(const Json& v);
inline std::string text(const Json& j, const char* key) {
  return text(at(j, key));
}
// JSON pretty-printed with 2 spaces; invalid UTF-8 replaced (never throws).
std::string pretty(const Json& v);
// JSON on one line; invalid UTF-8 replaced.
std::string one_line(const Json& v);

// An error percentage with 2 decimals, or "n/a".
std::string percent(std::optional<double> v);
// A number with up to 4 significant digits, or "n/a".
std::string num(std::optional<double> v, int significant = 4);
// A paired rank correlation ({"value", "low", "high"}) as "0.91 [0.82, 0.96]"
// (with its 95% interval), "0.91" without an interval, else `missing`.
std::string correlation(const Json& c, const std::string& missing = "n/a");
// A paired top-k overlap ({"k", "shared"}) as "2 of top 3", else `missing`.
std::string top_overlap(const Json& t, const std::string& missing = "n/a");
// Unix seconds as "2026-11-22 14:00:00 UTC", or "n/a".
std::string utc(std::optional<double> unix_seconds);

// How a complexity measure or count is shown: values are divided by `scale`.
struct Unit {
  double scale = 1;
  std::string suffix;  // "MFLOPs", "M", "K", ""
  std::string label;   // axis label, e.g. "flops (MFLOPs, log scale)"
};
// For "flops", "params" and "acts" (by their largest value); other names get
// scale 1 and the name itself as label.
Unit unit_for(const std::string& measure, double largest, bool log_scale);
// A count in engineering form: 199040872 -> "199.0M" (K, M, G, T).
std::string si(std::optional<double> v);

// Throws std::invalid_argument unless doc is an object whose "sweeps" is a
// non-empty array of objects.
void check_document(const Json& doc);

}  // namespace nds::reports::render
