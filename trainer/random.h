#pragma once
// Host-side randomness with results that do not depend on the standard
// library: std::uniform_int_distribution differs between implementations,
// so shuffles use their own draw.

#include <cstdint>
#include <random>
#include <vector>

namespace nds::trainer {

using Rng = std::mt19937_64;

// Uniform in [0, n), n >= 1, without modulo bias (rejection of the short tail).
inline uint64_t uniform_below(Rng& rng, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  uint64_t x = rng();
  while (x < threshold) x = rng();
  return x % n;
}

// A uniformly random permutation of 0..n-1 (Fisher-Yates).
inline std::vector<int64_t> permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(i) + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

}  // namespace nds::trainer
