#include "analysis/random.h"

#include <stdexcept>

namespace nds::analysis {
namespace {

// High and low 64-bit halves of a * b.
void multiply_128(std::uint64_t a, std::uint64_t b, std::uint64_t* hi, std::uint64_t* lo) {
#ifdef __SIZEOF_INT128__
  __extension__ using U128 = unsigned __int128;
  const U128 p = static_cast<U128>(a) * b;
  *hi = static_cast<std::uint64_t>(p >> 64);
  *lo = static_cast<std::uint64_t>(p);
#else
  const std::uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
  const std::uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
  const std::uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
  const std::uint64_t mid = (p0 >> 32) + (p1 & 0xffffffffu) + (p2 & 0xffffffffu);
  *lo = (mid << 32) | (p0 & 0xffffffffu);
  *hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
#endif
}

}  // namespace

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

std::uint64_t uniform_index(std::mt19937_64& rng, std::uint64_t n) {
  std::uint64_t hi = 0, lo = 0;
  multiply_128(rng(), n, &hi, &lo);
  if (lo < n) {
    // Words whose low half falls below 2^64 mod n would over-represent some
    // outputs; redraw them.
    const std::uint64_t threshold = (0 - n) % n;
    while (lo < threshold) multiply_128(rng(), n, &hi, &lo);
  }
  return hi;
}

SmallIndexSampler::SmallIndexSampler(std::mt19937_64& rng, std::uint32_t n)
    : rng_(rng), n_(n), threshold_(n == 0 ? 0 : static_cast<std::uint32_t>(0 - n) % n) {
  if (n == 0) throw std::invalid_argument("SmallIndexSampler: n must be >= 1, got 0");
}

std::uint32_t SmallIndexSampler::next_word() {
  if (have_high_) {
    have_high_ = false;
    return static_cast<std::uint32_t>(word_ >> 32);
  }
  word_ = rng_();
  have_high_ = true;
  return static_cast<std::uint32_t>(word_);
}

std::uint32_t SmallIndexSampler::operator()() {
  std::uint64_t m = static_cast<std::uint64_t>(next_word()) * n_;
  while (static_cast<std::uint32_t>(m) < threshold_) {
    m = static_cast<std::uint64_t>(next_word()) * n_;
  }
  return static_cast<std::uint32_t>(m >> 32);
}

}  // namespace nds::analysis
