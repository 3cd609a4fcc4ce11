#pragma once
// The one way nds derives a random stream's seed from another: SplitMix64's
// finalizer over salted inputs. Sampling (sampler/) and training data
// (trainer/) both derive their streams here, so a stream never depends on how
// many numbers another one drew.

#include <cstdint>

namespace nds {

// SplitMix64's finalizer: a bijective 64-bit mix with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The seed of stream (salt, a, b) under `seed`: one mix round per input, so
// that no two distinct tuples are related by a shift of one of them.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t salt, std::uint64_t a = 0,
                                    std::uint64_t b = 0) {
  return mix64(mix64(mix64(seed ^ salt) + a) + b);
}

}  // namespace nds
