#pragma once
// Helpers shared by the analysis tests.

#include <cmath>
#include <random>

#include "analysis/random.h"

namespace nds::analysis_testing {

// Standard normal noise for synthetic sweeps: Box-Muller on two uniform01
// draws, so a seed gives the same sample with every standard library.
inline double standard_normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - analysis::uniform01(rng);  // (0, 1], so the log is finite
  const double u2 = analysis::uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925286766559 * u2);
}

}  // namespace nds::analysis_testing
