#pragma once
// Reading family parameters (and single JSON values of expanded specs) with
// one-line errors that name the key and the value.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nds {

// Names a JSON value in errors, "<prefix>: '<key>'" or "<prefix>: '<key>[i]'"
// ("regnet: 'depth'", "block 3 (conv): 'stride'"). The text is built
// only when an error is thrown: families are expanded in the sampler's loop.
struct JsonName {
  const std::string& prefix;
  const char* key;
  int index = -1;
  std::string str() const;
};

// Typed reads of one JSON value, the one place that decides what counts as an
// integer or a number. An integer is a JSON integer, or a float without
// fraction, of magnitude at most limits::kMaxInt: 3.7 and 1e20 are errors,
// never truncated. A number must be finite. Errors are std::invalid_argument.
int json_int(const nlohmann::json& v, const JsonName& name);
double json_number(const nlohmann::json& v, const JsonName& name);
bool json_bool(const nlohmann::json& v, const JsonName& name);
std::string json_string(const nlohmann::json& v, const JsonName& name);

// `v` as compact JSON for an error message: invalid UTF-8 replaced (dump()
// would throw), cut to about 80 bytes at a character boundary.
std::string json_text(const nlohmann::json& v);

// Reads typed values from a JSON object and remembers which keys were read,
// so finish() can reject the ones nobody asked for (a typo must not silently
// fall back to a default). Every error is std::invalid_argument prefixed with
// the family name.
class ParamReader {
 public:
  ParamReader(const nlohmann::json& params, std::string family);
  // The reader keeps a reference to `params`, so a temporary would dangle.
  ParamReader(nlohmann::json&&, std::string) = delete;

  bool has(const char* key) const;
  int get_int(const char* key, int fallback);
  double get_double(const char* key, double fallback);
  bool get_bool(const char* key, bool fallback);
  std::string get_string(const char* key, const std::string& fallback);
  std::vector<int> get_ints(const char* key, const std::vector<int>& fallback);
  std::vector<double> get_doubles(const char* key, const std::vector<double>& fallback);
  // Reads `key` into `field`, which keeps its value when the key is absent;
  // the field's type picks the typed read.
  void read(const char* key, int& field) { field = get_int(key, field); }
  void read(const char* key, double& field) { field = get_double(key, field); }
  void read(const char* key, bool& field) { field = get_bool(key, field); }
  void read(const char* key, std::string& field) { field = get_string(key, field); }
  void read(const char* key, std::vector<int>& field) { field = get_ints(key, field); }
  void read(const char* key, std::vector<double>& field) { field = get_doubles(key, field); }
  int require_int(const char* key);
  double require_double(const char* key);
  std::vector<int> require_ints(const char* key);

  // Throws naming the first key that was never read ("family" is allowed).
  void finish() const;

  [[noreturn]] void fail(const std::string& message) const;
  const std::string& family() const { return family_; }

 private:
  const nlohmann::json* find(const char* key);

  const nlohmann::json& params_;
  std::string family_;
  std::vector<std::string> used_;
};

// Throws std::invalid_argument("<family>: <what> must be <rule>, got <value>").
[[noreturn]] void param_error(const std::string& family, const std::string& what,
                              const std::string& rule, const std::string& value);

// param_error unless ok. Its arguments are built even when ok, so hot paths
// (expanding sampled RegNets) write `if (!ok) param_error(...)` instead.
inline void check_param(bool ok, const std::string& family, const std::string& what,
                        const std::string& rule, const std::string& value) {
  if (!ok) param_error(family, what, rule, value);
}

// The rule `value` breaks when outside [lo, hi]: ">= LO" below, "at most HI" above.
std::string range_rule(std::int64_t value, std::int64_t lo, std::int64_t hi);

// param_error unless lo <= value <= hi; `key` gains "[index]" when index >= 0.
// Builds no string unless it throws, so hot paths may call it.
[[noreturn]] void range_error(const std::string& family, const char* key, int index,
                              std::int64_t value, std::int64_t lo, std::int64_t hi);
inline void check_range(const std::string& family, const char* key, std::int64_t value,
                        std::int64_t lo, std::int64_t hi, int index = -1) {
  if (value < lo || value > hi) range_error(family, key, index, value, lo, hi);
}

std::string format_number(double v);                 // shortest round-trip text, "36.44", "8"
std::string format_list(const std::vector<int>& v);  // "[1, 2, 3]", for check_param values

}  // namespace nds
