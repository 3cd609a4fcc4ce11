#pragma once
// Reading family parameters from JSON with one-line errors that name the key.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nds {

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

std::string format_number(double v);                 // shortest round-trip text, "36.44", "8"
std::string format_list(const std::vector<int>& v);  // "[1, 2, 3]", for check_param values

}  // namespace nds
