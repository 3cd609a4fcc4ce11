#pragma once
// Reproducible random draws for design-space sampling.
//
// Everything here is a fixed formula over the 64-bit words of std::mt19937_64,
// whose output the C++ standard pins down. The standard distributions
// (std::uniform_int_distribution, ...) are implementation-defined, so the same
// seed would give different models with libstdc++ and libc++; they are never
// used. The quantized draws follow pycls's sweep/random.py: values lie on the
// grid of multiples of q inside the closed range [low, high].

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace nds::sampler {

// SplitMix64's finalizer: a bijective 64-bit mix with full avalanche.
std::uint64_t mix64(std::uint64_t x);

// The engine seed of sample `index` in a sweep seeded with `seed`. Depends on
// nothing else, so any process can draw any index.
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t index);

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next() { return engine_(); }
  // Uniform on [0, 1): the top 53 bits of one word.
  double uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform on [0, n), unbiased (Lemire's multiply-shift, redrawing the few
  // words that would over-represent some outputs). n >= 1.
  std::uint64_t uniform_index(std::uint64_t n) {
    __extension__ using U128 = unsigned __int128;
    U128 m = static_cast<U128>(engine_()) * n;
    if (static_cast<std::uint64_t>(m) < n) {
      const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
      while (static_cast<std::uint64_t>(m) < threshold) m = static_cast<U128>(engine_()) * n;
    }
    return static_cast<std::uint64_t>(m >> 64);
  }
  // Uniform on the closed integer range [lo, hi]; lo <= hi.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    if (span == ~std::uint64_t{0}) return static_cast<std::int64_t>(engine_());
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + uniform_index(span + 1));
  }

 private:
  std::mt19937_64 engine_;
};

// How a quantized number is drawn from [low, high] (pycls's rand_types).
enum class RandType {
  kUniform,             // every multiple of q in [low, high] equally likely
  kLogUniform,          // density 1/x on (low - min(q, low/2), high], rounded up to q
  kPower2,              // a power of two in [low, high], exponents equally likely
  kPower2OrLogUniform,  // power2 on [low, high]; results >= q redrawn log-uniform on [max(low,q),
                        // high]
};

const char* to_string(RandType type);
// Throws std::invalid_argument naming `what` for an unknown name.
RandType rand_type_from_string(const std::string& name, const std::string& what);

// Throws std::invalid_argument("<what>: ...") unless (type, low, high, q)
// describes a non-empty grid: q > 0, low <= high, low > 0 for the log and
// power-of-two types, low and high multiples of q (uniform, log_uniform),
// low, high and q powers of two (power2, power2_or_log_uniform) with q <= low
// for power2. `integer` additionally requires whole low, high and q.
void validate_range(RandType type, double low, double high, double q, bool integer,
                    const std::string& what);

// A valid (type, low, high, q) with what its draws need precomputed: a
// sampler draws the same range millions of times.
class QuantizedRange {
 public:
  QuantizedRange() = default;
  // The range must be valid (validate_range).
  QuantizedRange(RandType type, double low, double high, double q);

  double draw(Rng& rng) const;

  // draw() in two steps, for a value that may never be read: draw_deferred
  // takes from rng exactly the words draw would, and returns the value, or,
  // when it sets *pending, the uniform draw that finish(u) turns into the
  // value draw would have returned. A log-uniform draw's exp is its one
  // costly step, and a sampler rejects most candidates before reading some
  // of their values.
  double draw_deferred(Rng& rng, bool* pending) const;
  double finish(double u) const;

 private:
  RandType type_ = RandType::kUniform;
  double low_ = 0, q_ = 1;
  int e_lo_ = 0, e_hi_ = 0;  // kPower2*: exponents of low and high
  // The grid the value lands on: [low, high] step q, or for
  // kPower2OrLogUniform the log-uniform redraw's [max(low, q), high] step min(high, q).
  double grid_q_ = 1;
  std::int64_t k_lo_ = 0, k_hi_ = 0;  // grid indices of the ends
  double log_lo_ = 0, log_hi_ = 0;    // log-uniform: log of the open lower end and of high
  double grid_inverse_ = 0;           // grid_value's divisor for grid_q_
  std::vector<double> powers_;        // kPower2*: the value each exponent gives

  double value(std::int64_t k, double q, double inverse) const;
};

// Grid point k of step q (grid_value, with q's whole inverse precomputed).
inline double QuantizedRange::value(std::int64_t k, double q, double inverse) const {
  return inverse > 0 ? static_cast<double>(k) / inverse : static_cast<double>(k) * q;
}

// Inline: the sampler draws every candidate's values through these.
inline double QuantizedRange::finish(double u) const {
  // pycls's log_uniform: f = exp(-U(-log(high), -log(low - q*))) with
  // q* = min(q, low/2), so f lies in (low - q*, high] with density 1/f; it is
  // then rounded up to the grid. The clamp only catches exp's last-bit error
  // at the ends.
  const double f = std::exp(log_hi_ - (log_hi_ - log_lo_) * u);
  const double x = f / grid_q_;  // > 0 and below 2^53 (validated)
  auto k = static_cast<std::int64_t>(x);
  if (static_cast<double>(k) < x) ++k;  // ceil, without a libm call
  return value(std::clamp(k, k_lo_, k_hi_), grid_q_, grid_inverse_);
}

inline double QuantizedRange::draw_deferred(Rng& rng, bool* pending) const {
  *pending = false;
  switch (type_) {
    case RandType::kUniform:
      // pycls draws f in [low, high + q) and floors it to q: every grid point
      // equally likely, which an index draw gives exactly.
      return value(rng.uniform_int(k_lo_, k_hi_), q_, grid_inverse_);
    case RandType::kLogUniform:
      *pending = true;
      return rng.uniform01();
    case RandType::kPower2:
      return powers_[rng.uniform_index(powers_.size())];
    case RandType::kPower2OrLogUniform: {
      // pycls: a power of two in [low, high] (quantized to low); one >= q is
      // redrawn log-uniform on [max(low, q), high] with step min(high, q).
      const double f = powers_[rng.uniform_index(powers_.size())];
      if (f < q_) return f;
      *pending = true;
      return rng.uniform01();
    }
  }
  return low_;
}

inline double QuantizedRange::draw(Rng& rng) const {
  bool pending = false;
  const double x = draw_deferred(rng, &pending);
  return pending ? finish(x) : x;
}

// One draw of `type` on [low, high] with step q. The range must be valid.
double draw(Rng& rng, RandType type, double low, double high, double q);

// The multiple k * q, computed so that decimal steps give the decimal value
// (k = 3, q = 0.1 gives 0.3, not 0.30000000000000004), as pycls's Decimal
// arithmetic does.
double grid_value(std::int64_t k, double q);

// The index k of the multiple of q nearest to x.
std::int64_t grid_index(double x, double q);

}  // namespace nds::sampler
