#pragma once
// Deterministic subsets of a sweep's models: the document keeps at most a few
// thousand points per plot, and the width fits run on a subsample.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nds::reports {

// At most max_points of 0..n-1 evenly spaced, first and last included;
// all of them when n <= max_points. Ascending.
std::vector<size_t> even_subset(size_t n, size_t max_points);

// At most max_points of 0..n-1 drawn without replacement from a
// std::mt19937_64 seeded with `seed` (analysis/random.h draws); all when
// n <= max_points. Ascending.
std::vector<size_t> random_subset(size_t n, size_t max_points, uint64_t seed);

// random_subset that first keeps the index of the minimum and the maximum of
// each column (one value per model), so every plot's axis range survives.
std::vector<size_t> subset_keeping_extremes(size_t n, size_t max_points,
                                            const std::vector<const std::vector<double>*>& columns,
                                            uint64_t seed);

}  // namespace nds::reports
