#pragma once
// Distributions on raw std::mt19937_64 output. The standard distributions
// (std::uniform_int_distribution, ...) are implementation-defined, so one seed
// would give different resamples with libstdc++ and libc++; these are fixed
// formulas over the engine's 64-bit words, which the standard does pin down.

#include <cstdint>
#include <random>

namespace nds::analysis {

// Uniform on [0, 1): the top 53 bits of one engine word.
double uniform01(std::mt19937_64& rng);

// Uniform integer in [0, n), unbiased (Lemire's multiply-shift with
// rejection). n must be >= 1 (n = 0 gives 0).
std::uint64_t uniform_index(std::mt19937_64& rng, std::uint64_t n);

// Uniform integers in [0, n) for 1 <= n < 2^32, two per engine word
// (Lemire's 32-bit multiply-shift with rejection): half the engine calls of
// uniform_index, for hot loops such as literal bootstrap resampling. Throws
// std::invalid_argument for n = 0.
class SmallIndexSampler {
 public:
  SmallIndexSampler(std::mt19937_64& rng, std::uint32_t n);
  std::uint32_t operator()();

 private:
  std::uint32_t next_word();

  std::mt19937_64& rng_;
  std::uint32_t n_;
  std::uint32_t threshold_;  // 2^32 mod n: low halves below it are redrawn
  std::uint64_t word_ = 0;
  bool have_high_ = false;  // the high half of word_ is still unused
};

}  // namespace nds::analysis
