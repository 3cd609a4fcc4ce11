#include "sampler/random.h"

#include "space/seed.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "space/params.h"

namespace nds::sampler {
namespace {

constexpr double kGridLimit = 9007199254740992.0;  // 2^53: grid indices stay exact

bool is_whole(double x) {
  return std::isfinite(x) && x == std::floor(x);
}

bool is_power_of_two(double x) {
  if (!(x > 0) || !std::isfinite(x)) return false;
  int e = 0;
  return std::frexp(x, &e) == 0.5;
}

// x is a multiple of q up to the rounding of decimal steps (0.3 of 0.1).
bool is_multiple(double x, double q) {
  const double r = x / q;
  return std::fabs(r - std::nearbyint(r)) <= 1e-9 * std::max(1.0, std::fabs(r));
}

[[noreturn]] void fail(const std::string& what, RandType type, double low, double high, double q,
                       const std::string& why) {
  throw std::invalid_argument(what + ": " + to_string(type) + " range [" + format_number(low) +
                              ", " + format_number(high) + "] with step " + format_number(q) +
                              " is invalid: " + why);
}

}  // namespace

std::uint64_t mix64(std::uint64_t x) {
  return nds::mix64(x);
}

std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t index) {
  // Two rounds, so that (seed, index) and (seed + 1, index - 1) do not collide.
  return mix64(mix64(seed) ^ (index * 0xd1b54a32d192ed03ULL + 0x8cb92ba72f3d8dd7ULL));
}

const char* to_string(RandType type) {
  switch (type) {
    case RandType::kUniform:
      return "uniform";
    case RandType::kLogUniform:
      return "log_uniform";
    case RandType::kPower2:
      return "power2";
    case RandType::kPower2OrLogUniform:
      return "power2_or_log_uniform";
  }
  return "?";
}

RandType rand_type_from_string(const std::string& name, const std::string& what) {
  for (RandType t : {RandType::kUniform, RandType::kLogUniform, RandType::kPower2,
                     RandType::kPower2OrLogUniform})
    if (name == to_string(t)) return t;
  throw std::invalid_argument(what + ": unknown rand '" + name +
                              "' (uniform, log_uniform, power2, power2_or_log_uniform)");
}

void validate_range(RandType type, double low, double high, double q, bool integer,
                    const std::string& what) {
  if (!std::isfinite(low) || !std::isfinite(high) || !std::isfinite(q))
    fail(what, type, low, high, q, "values must be finite");
  if (!(q > 0)) fail(what, type, low, high, q, "step q must be > 0");
  if (low > high) fail(what, type, low, high, q, "low > high");
  if (integer && !(is_whole(low) && is_whole(high) && is_whole(q)))
    fail(what, type, low, high, q, "an int range needs whole low, high and q");
  if (std::fabs(low / q) >= kGridLimit || std::fabs(high / q) >= kGridLimit)
    fail(what, type, low, high, q, "too many steps");
  switch (type) {
    case RandType::kUniform:
    case RandType::kLogUniform:
      if (type == RandType::kLogUniform && !(low > 0))
        fail(what, type, low, high, q, "low must be > 0");
      if (!is_multiple(low, q) || !is_multiple(high, q))
        fail(what, type, low, high, q, "low and high must be multiples of q");
      return;
    case RandType::kPower2:
    case RandType::kPower2OrLogUniform:
      if (!is_power_of_two(low) || !is_power_of_two(high) || !is_power_of_two(q))
        fail(what, type, low, high, q, "low, high and q must be powers of two");
      if (type == RandType::kPower2 && q > low) fail(what, type, low, high, q, "q must be <= low");
      return;
  }
}

namespace {

// The whole number 1/q when q is a decimal or binary fraction (0.1, 0.001,
// 1/128), else 0.
double whole_inverse(double q) {
  if (q >= 1) return 0;
  const double inverse = std::nearbyint(1 / q);
  return inverse >= 1 && std::fabs(1 / q - inverse) <= 1e-9 * inverse ? inverse : 0;
}

}  // namespace

double grid_value(std::int64_t k, double q) {
  const double inverse = whole_inverse(q);
  // Dividing by the whole inverse is correctly rounded by IEEE: 3 / 10 is the
  // double nearest 0.3, where 3 * 0.1 is not.
  return inverse > 0 ? static_cast<double>(k) / inverse : static_cast<double>(k) * q;
}

std::int64_t grid_index(double x, double q) {
  return std::llround(x / q);
}

QuantizedRange::QuantizedRange(RandType type, double low, double high, double q)
    : type_(type), low_(low), q_(q) {
  double grid_low = low;
  grid_q_ = q;
  if (type == RandType::kPower2 || type == RandType::kPower2OrLogUniform) {
    e_lo_ = std::ilogb(low);
    e_hi_ = std::ilogb(high);
  }
  if (type == RandType::kPower2OrLogUniform) {
    grid_low = std::max(low, q);
    grid_q_ = std::min(high, q);
  }
  grid_inverse_ = whole_inverse(grid_q_);
  if (type == RandType::kPower2 || type == RandType::kPower2OrLogUniform) {
    // pycls quantizes the power of two to q (kPower2) or to low
    // (kPower2OrLogUniform's first draw); exponents are few, so tabulate.
    const double step = type == RandType::kPower2 ? q : low;
    for (int e = e_lo_; e <= e_hi_; ++e)
      powers_.push_back(
          grid_value(static_cast<std::int64_t>(std::floor(std::ldexp(1.0, e) / step)), step));
  }
  k_lo_ = grid_index(grid_low, grid_q_);
  k_hi_ = grid_index(high, grid_q_);
  if (type == RandType::kLogUniform || type == RandType::kPower2OrLogUniform) {
    log_lo_ = std::log(grid_low - std::min(grid_q_, grid_low / 2));
    log_hi_ = std::log(high);
  }
}

double draw(Rng& rng, RandType type, double low, double high, double q) {
  return QuantizedRange(type, low, high, q).draw(rng);
}

}  // namespace nds::sampler
