#pragma once
// Width-fit quality e_fit (RegNet, Radosavovic et al. 2020): how
// closely a model's per-block widths follow the quantized linear rule
//   u_j = w_0 + w_a j,  s_j = round(log(u_j / w_0) / log(w_m)),
//   w_j = quantize(w_0 w_m^s_j, q)           (j = 0 .. d-1),
// measured as the best, over (w_0, w_a, w_m), of mean_j |log(w^_j / w_j)|.

#include <vector>

namespace nds::analysis {

// The rule's widths, in the same float64 operations as pycls's
// generate_regnet (and space/regnet.h, which analysis may not include).
// Throws std::invalid_argument unless depth >= 1, quantum >= 1, w_0 is a
// positive multiple of quantum, w_a >= 0 and w_m > 1, and for a width beyond
// 1e9 (ints hold the widths).
std::vector<int> quantized_linear_widths(double w_a, int w_0, double w_m, int depth,
                                         int quantum = 8);

// mean_j |log(fitted_j / widths_j)|. Throws for empty, mismatched or
// non-positive widths.
double width_fit_error(const std::vector<int>& widths, const std::vector<int>& fitted);

struct WidthFitOptions {
  int quantum = 8;       // q of the rule
  double w_m_min = 1.5;  // w_m range of the approximate search (RegNet's)
  double w_m_max = 3.0;
  int w_m_steps = 31;     // coarse grid points over [w_m_min, w_m_max]
  double w_0_span = 2.0;  // w_0 searched within [first width / span, first width * span]
};

struct WidthFit {
  int w_0 = 0;
  double w_a = 0;
  double w_m = 0;
  double e_fit = 0;         // width_fit_error(widths, fitted)
  std::vector<int> fitted;  // the rule's widths for (w_0, w_a, w_m)
};

// The best rule found for per-block widths (d = widths.size()). Two searches:
//  - exact: widths that some rule with w_m >= 1.05 reproduces (every RegNet
//    model) are fitted with e_fit = 0. w_0 must be the first width; each run
//    of equal widths takes a range of exponents s, which bounds w_m to an
//    interval, and the blocks where runs change bound w_a / w_0 from both
//    sides. A depth-first search over the runs' exponents keeps only choices
//    whose bounds still intersect (each pairwise bound holds on a single ray
//    of w_m, found by bisection), so a complete choice is a fit. The search
//    is capped at 2000 choices; RegNet samples need far fewer (in tests, all
//    of 15,000 with w_m in [1.1, 3] fit).
//  - approximate: for w_0 on a grid of multiples of q and w_m on a grid over
//    [w_m_min, w_m_max] (refined around the best cells, then tried at every
//    point where a level's quantized width changes), the best w_a is found
//    exactly: the error is piecewise constant in w_a / w_0, changing only
//    where some block moves to the next s, so one sorted sweep over those
//    points visits every distinct fit.
// About 1 ms per AnyNet model, a few ms at most. Throws
// std::invalid_argument for empty or non-positive widths and bad options.
WidthFit fit_widths(const std::vector<int>& widths, const WidthFitOptions& options = {});

}  // namespace nds::analysis
