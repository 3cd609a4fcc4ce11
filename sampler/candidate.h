#pragma once
// One candidate's family parameters, drawn from a design space.
//
// Most candidates are rejected, so drawing must not build JSON: values go
// into one flat array, laid out once per space and reused for every attempt;
// JSON is made only for the few that survive the cheap checks.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampler/design_space.h"
#include "sampler/random.h"

namespace nds::sampler {

// A drawn scalar: a number, or a JSON value of the space (a fixed value or a
// choice), referenced, not copied.
struct Value {
  double raw = 0;                       // the number (when ref is null), or its pending draw
  bool integer = false;                 // the number came from an int distribution
  const nlohmann::json* ref = nullptr;  // the value itself, when not a number
  // Set while the number is a log-uniform draw not finished yet (see
  // QuantizedRange::draw_deferred): raw is then its uniform draw, and the
  // number, pending->finish(raw), is computed only when read.
  const QuantizedRange* pending = nullptr;

  // The number, when ref is null.
  double number() const { return pending ? pending->finish(raw) : raw; }
  std::optional<double> as_number() const {
    if (!ref) return number();
    if (ref->is_number()) return ref->get<double>();
    return std::nullopt;
  }
  nlohmann::json to_json() const;
};

class Candidate {
 public:
  // Where one parameter's values lie in the flat array.
  struct Param {
    std::string key;
    const ParamDist* dist = nullptr;
    size_t offset = 0;    // first value
    size_t length = 1;    // values (1 for a scalar)
    bool list = false;    // drawn as a list (JSON array)
    bool shared = false;  // a list drawn once and repeated
  };

  // `space` must outlive the candidate.
  explicit Candidate(const DesignSpace& space);

  // Draws every parameter, in key order, from `rng`. A log-uniform value is
  // left pending (its exp taken when read): most candidates are rejected
  // before some of their values are read.
  void draw(Rng& rng);

  const std::vector<Param>& params() const { return params_; }
  // The parameter named `key`, or null.
  const Param* find(const std::string& key) const;
  const Value& at(const Param& p, size_t i = 0) const { return values_[p.offset + i]; }
  Value& at(const Param& p, size_t i = 0) { return values_[p.offset + i]; }

  // {"family": ..., key: value, ...}
  nlohmann::json to_json() const;

 private:
  // One drawn (not fixed) parameter, in draw order.
  struct Draw {
    Value* first;           // its values
    const ParamDist* dist;  // scalar distribution, or a list of them (kList)
    size_t length;
    size_t drawn;  // values drawn: 1 when shared, else length
  };

  const DesignSpace& space_;
  std::vector<Param> params_;
  std::vector<Value> values_;
  std::vector<Draw> draws_;
};

}  // namespace nds::sampler
