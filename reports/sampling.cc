#include "reports/sampling.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "analysis/random.h"

namespace nds::reports {
namespace {

// Marks `count` more unmarked indices, drawn by a partial Fisher-Yates
// shuffle of the unmarked ones.
void mark_random(std::vector<char>& marked, size_t count, uint64_t seed) {
  std::vector<size_t> pool;
  pool.reserve(marked.size());
  for (size_t i = 0; i < marked.size(); ++i)
    if (!marked[i]) pool.push_back(i);
  count = std::min(count, pool.size());
  std::mt19937_64 rng(seed);
  for (size_t k = 0; k < count; ++k) {
    const size_t j = k + static_cast<size_t>(analysis::uniform_index(rng, pool.size() - k));
    std::swap(pool[k], pool[j]);
    marked[pool[k]] = 1;
  }
}

std::vector<size_t> marked_indices(const std::vector<char>& marked) {
  std::vector<size_t> out;
  for (size_t i = 0; i < marked.size(); ++i)
    if (marked[i]) out.push_back(i);
  return out;
}

}  // namespace

std::vector<size_t> even_subset(size_t n, size_t max_points) {
  std::vector<size_t> out;
  if (n <= max_points) {
    out.resize(n);
    std::iota(out.begin(), out.end(), size_t{0});
    return out;
  }
  if (max_points < 2) return std::vector<size_t>(max_points, 0);
  out.reserve(max_points);
  for (size_t k = 0; k < max_points; ++k) {
    // Rounded position k (n - 1) / (max_points - 1): strictly increasing.
    const double pos =
        static_cast<double>(k) * static_cast<double>(n - 1) / static_cast<double>(max_points - 1);
    out.push_back(static_cast<size_t>(pos + 0.5));
  }
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<size_t> random_subset(size_t n, size_t max_points, uint64_t seed) {
  std::vector<char> marked(n, n <= max_points ? 1 : 0);
  if (n > max_points) mark_random(marked, max_points, seed);
  return marked_indices(marked);
}

std::vector<size_t> subset_keeping_extremes(size_t n, size_t max_points,
                                            const std::vector<const std::vector<double>*>& columns,
                                            uint64_t seed) {
  if (n <= max_points) return random_subset(n, max_points, seed);
  std::vector<char> marked(n, 0);
  size_t kept = 0;
  const auto keep = [&](size_t i) {
    if (kept < max_points && !marked[i]) {
      marked[i] = 1;
      ++kept;
    }
  };
  for (const std::vector<double>* c : columns) {
    if (c->size() != n || n == 0) continue;
    const auto [lo, hi] = std::minmax_element(c->begin(), c->end());
    keep(static_cast<size_t>(lo - c->begin()));
    keep(static_cast<size_t>(hi - c->begin()));
  }
  mark_random(marked, max_points - kept, seed);
  return marked_indices(marked);
}

}  // namespace nds::reports
