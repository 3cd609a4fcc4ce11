#include "analysis/width_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "analysis/check.h"

namespace nds::analysis {
namespace {

constexpr const char* kWhere = "fit_widths";
constexpr double kInf = std::numeric_limits<double>::infinity();
// Widths are ints; the rule's continuous widths must stay well inside.
constexpr double kMaxWidth = 1e9;
// The exact search looks for w_m in [kExactMinWm, inf): below it the levels
// w_0 w_m^s crowd together and the run/level choices multiply.
constexpr double kExactMinWm = 1.05;
// Bounds the exact search's nodes, so that it stays within the time budget on
// any input.
constexpr int kMaxExactNodes = 2000;
// Approximate search: at most this many w_0 on the coarse grid, and this many
// best coarse cells refined.
constexpr size_t kCoarseW0 = 16;
constexpr size_t kRefinedCells = 3;
constexpr int kRefineWmPoints = 11;
constexpr size_t kPolishedCells = 2;
constexpr size_t kMaxPolishPoints = 48;
constexpr size_t kExactlyEvaluated = 4;

int quantize(double w, int q) {
  return static_cast<int>(std::nearbyint(w / q)) * q;
}

// ---------------------------------------------------------------------------
// Exact search.

struct Run {
  int width;
  int first;  // first and last block index of the run
  int last;
};

// The exponents s a run's blocks take: every s in [lo, hi] quantizes to the
// run's width.
struct Span {
  int lo;
  int hi;
};

struct Interval {
  double lo;
  double hi;
  bool empty() const { return !(lo < hi); }
};

Interval intersect(const Interval& a, const Interval& b) {
  return {std::max(a.lo, b.lo), std::min(a.hi, b.hi)};
}

// The w_m for which quantize(w_0 w_m^k) == width: w_0 w_m^k within q/2 of it.
Interval level_window(int width, int w_0, int k, int q) {
  const double lo = std::max(0.0, (width - 0.5 * q) / w_0);
  const double hi = (width + 0.5 * q) / w_0;
  return {std::pow(lo, 1.0 / k), std::pow(hi, 1.0 / k)};
}

// Feasible w_m for "t >= (g^alpha - 1) / a and t < (g^beta - 1) / b" to have
// a solution t: f(g) = (g^beta - 1) / b - (g^alpha - 1) / a > 0. f(1) = 0 and
// f' has at most one zero on (1, inf), so f changes sign at most once there:
// the feasible set is a ray, and within w_m it is found by bisection.
Interval constrain_pair(const Interval& w_m, double alpha, double a, double beta, double b) {
  const auto f = [&](double g) {
    return (std::pow(g, beta) - 1) / b - (std::pow(g, alpha) - 1) / a;
  };
  const bool lo_ok = f(w_m.lo) > 0, hi_ok = f(w_m.hi) > 0;
  if (lo_ok && hi_ok) return w_m;
  if (!lo_ok && !hi_ok) return {w_m.lo, w_m.lo};
  double x = w_m.lo, y = w_m.hi;  // f(x) has lo_ok's sign, f(y) the other
  for (int i = 0; i < 200 && x != y; ++i) {
    const double mid = 0.5 * (x + y);
    if (mid == x || mid == y) break;
    if ((f(mid) > 0) == lo_ok) {
      x = mid;
    } else {
      y = mid;
    }
  }
  return lo_ok ? Interval{w_m.lo, x} : Interval{y, w_m.hi};
}

// Depth-first over the level spans of the runs. A node narrows the w_m
// interval by the quantization windows of its run and by every pairwise bound
// on t between its run and the earlier ones, so only feasible prefixes are
// expanded, and the first complete assignment is a fit.
class ExactSearch {
 public:
  ExactSearch(const std::vector<int>& widths, int q, std::vector<Run> runs)
      : widths_(widths), q_(q), w_0_(widths[0]), runs_(std::move(runs)) {}

  bool find(WidthFit* fit) {
    fit_ = fit;
    std::vector<Span> spans(runs_.size());
    // Run 0 starts at s = 0 (u_0 = w_0); it may also cover s = 1, 2, ... when
    // those levels still quantize to w_0.
    const Interval all{kExactMinWm, kInf};
    for (int hi = 0; !found_ && nodes_ < kMaxExactNodes; ++hi) {
      Interval w = all;
      if (hi > 0) {
        w = intersect(all, level_window(w_0_, w_0_, hi, q_));
        if (w.empty()) break;
      }
      spans[0] = {0, hi};
      descend(1, w, spans);
    }
    return found_;
  }

 private:
  void descend(size_t r, const Interval& w_m, std::vector<Span>& spans) {
    if (found_ || ++nodes_ > kMaxExactNodes) return;
    if (r == runs_.size()) {
      found_ = attempt(0.5 * (w_m.lo + w_m.hi), spans);
      return;
    }
    const int width = runs_[r].width;
    // Windows move towards 1 as k grows, so stop once one falls below w_m.lo.
    for (int lo = spans[r - 1].hi + 1;; ++lo) {
      const Interval lo_window = level_window(width, w_0_, lo, q_);
      if (lo_window.hi <= w_m.lo) break;
      const Interval with_lo = intersect(w_m, lo_window);
      if (with_lo.empty()) continue;
      for (int hi = lo;; ++hi) {
        const Interval hi_window = level_window(width, w_0_, hi, q_);
        if (hi_window.hi <= with_lo.lo) break;
        Interval next = intersect(with_lo, hi_window);
        if (next.empty()) continue;
        spans[r] = {lo, hi};
        next = constrain(r, next, spans);
        if (!next.empty()) descend(r + 1, next, spans);
        if (found_ || nodes_ > kMaxExactNodes) return;
      }
    }
  }

  // Bounds on t = w_a / w_0 from run i's blocks: its first block needs
  // s >= lo_i (1 + t first_i >= g^(lo_i - 1/2), for i > 0) and its last block
  // s <= hi_i (1 + t last_i < g^(hi_i + 1/2), for last_i > 0). Every lower
  // bound must stay below every upper bound; add the pairs that involve run r.
  Interval constrain(size_t r, Interval w_m, const std::vector<Span>& spans) const {
    const auto lower = [&](size_t i) {
      return std::pair<double, double>(spans[i].lo - 0.5, runs_[i].first);
    };
    const auto upper = [&](size_t i) {
      return std::pair<double, double>(spans[i].hi + 0.5, runs_[i].last);
    };
    for (size_t i = 0; i <= r && !w_m.empty(); ++i) {
      if (runs_[i].last > 0) {  // lower bound of run r vs upper bound of run i
        const auto [alpha, a] = lower(r);
        const auto [beta, b] = upper(i);
        w_m = constrain_pair(w_m, alpha, a, beta, b);
      }
      if (i >= 1 && i < r && !w_m.empty()) {  // lower bound of run i vs upper bound of run r
        const auto [alpha, a] = lower(i);
        const auto [beta, b] = upper(r);
        w_m = constrain_pair(w_m, alpha, a, beta, b);
      }
    }
    return w_m;
  }

  bool attempt(double g, const std::vector<Span>& spans) {
    double l = 0, u = kInf;
    for (size_t i = 0; i < runs_.size(); ++i) {
      if (i > 0) l = std::max(l, (std::pow(g, spans[i].lo - 0.5) - 1) / runs_[i].first);
      if (runs_[i].last > 0) u = std::min(u, (std::pow(g, spans[i].hi + 0.5) - 1) / runs_[i].last);
    }
    if (!(l < u)) return false;
    const double w_a = std::sqrt(l * u) * w_0_;  // geometric middle of [l, u)
    std::vector<int> fitted =
        quantized_linear_widths(w_a, w_0_, g, static_cast<int>(widths_.size()), q_);
    if (fitted != widths_) return false;
    fit_->w_0 = w_0_;
    fit_->w_a = w_a;
    fit_->w_m = g;
    fit_->e_fit = 0;
    fit_->fitted = std::move(fitted);
    return true;
  }

  const std::vector<int>& widths_;
  const int q_;
  const int w_0_;
  const std::vector<Run> runs_;
  WidthFit* fit_ = nullptr;
  bool found_ = false;
  int nodes_ = 0;
};

// Widths some rule reproduces exactly, or false. Needs non-decreasing widths
// starting at a multiple of q (the rule's w^_0 is w_0 itself).
bool fit_exactly(const std::vector<int>& widths, int q, WidthFit* fit) {
  if (widths[0] % q != 0) return false;
  std::vector<Run> runs;
  for (size_t j = 0; j < widths.size(); ++j) {
    const int i = static_cast<int>(j);
    if (j > 0 && widths[j] < widths[j - 1]) return false;
    if (runs.empty() || runs.back().width != widths[j]) {
      runs.push_back({widths[j], i, i});
    } else {
      runs.back().last = i;
    }
  }
  if (runs.size() == 1) {  // w_a = 0 keeps every block at w_0, for any w_m
    fit->w_0 = widths[0];
    fit->w_a = 0;
    fit->w_m = 2;
    fit->fitted = widths;
    fit->e_fit = 0;
    return true;
  }
  return ExactSearch(widths, q, std::move(runs)).find(fit);
}

// ---------------------------------------------------------------------------
// Approximate search.

struct Candidate {
  double cost = kInf;  // sum_j |log(w^_j / w_j)|
  int w_0 = 0;
  double w_m = 0;
  double t = 0;  // w_a / w_0
};

// For one w_m, the points t = w_a / w_0 where block j moves up to s = k:
// log(1 + t j) / log(w_m) crosses k - 1/2, i.e. t = (w_m^(k - 1/2) - 1) / j.
// They do not depend on w_0, so one sorted list serves every w_0.
class LevelSweep {
 public:
  LevelSweep(const std::vector<double>& log_w, int max_w, double w_m, int min_w_0, int q)
      : log_w_(log_w), w_m_(w_m), q_(q) {
    // Levels up to one past the first that reaches the widest block: higher
    // levels only move blocks further from every width.
    levels_ = 1;
    while (levels_ < 400 && quantize(min_w_0 * std::pow(w_m, levels_ - 1), q) < max_w) ++levels_;
    const int d = static_cast<int>(log_w.size());
    events_.reserve(static_cast<size_t>(std::max(0, d - 1)) * static_cast<size_t>(levels_));
    for (int k = 1; k <= levels_; ++k) {
      const double tau = std::pow(w_m, k - 0.5) - 1;
      for (int j = 1; j < d; ++j) events_.push_back({tau / j, j, k});
    }
    std::sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
      return a.t < b.t || (a.t == b.t && (a.k < b.k || (a.k == b.k && a.j < b.j)));
    });
  }

  // The best t for w_0: sweeps t upward from 0, updating the cost as blocks
  // move up a level, and keeps the middle of the best interval between two
  // consecutive move points. (Past the last point every block sits on the top
  // level, which is never better.)
  Candidate best(int w_0) const {
    std::vector<double> level_log(static_cast<size_t>(levels_) + 1);
    for (size_t k = 0; k < level_log.size(); ++k) {
      level_log[k] = std::log(quantize(w_0 * std::pow(w_m_, static_cast<double>(k)), q_));
    }
    double cost = 0;
    for (double lw : log_w_) cost += std::fabs(level_log[0] - lw);
    Candidate c{cost, w_0, w_m_, 0.0};
    for (size_t i = 0; i < events_.size(); ++i) {
      const Event& e = events_[i];
      const double lw = log_w_[static_cast<size_t>(e.j)];
      cost += std::fabs(level_log[static_cast<size_t>(e.k)] - lw) -
              std::fabs(level_log[static_cast<size_t>(e.k) - 1] - lw);
      if (i + 1 == events_.size() || events_[i + 1].t == e.t) continue;
      if (cost < c.cost - 1e-12) {
        c.cost = cost;
        c.t = 0.5 * (e.t + events_[i + 1].t);
      }
    }
    return c;
  }

 private:
  struct Event {
    double t;
    int j;
    int k;
  };
  const std::vector<double>& log_w_;
  double w_m_;
  int q_;
  int levels_ = 1;
  std::vector<Event> events_;
};

void sweep(const std::vector<double>& log_w, int max_w, int q, const std::vector<double>& w_ms,
           const std::vector<int>& w_0s, std::vector<Candidate>* out) {
  const int min_w_0 = *std::min_element(w_0s.begin(), w_0s.end());
  for (double w_m : w_ms) {
    const LevelSweep s(log_w, max_w, w_m, min_w_0, q);
    for (int w_0 : w_0s) out->push_back(s.best(w_0));
  }
}

// The w_m in (lo, hi) where some level's quantized width changes, w_0 g^k =
// (i + 1/2) q for a level k <= levels, sorted; between two of them every level
// quantizes the same way.
std::vector<double> level_breakpoints(int w_0, int q, double lo, double hi, int levels) {
  std::vector<double> out;
  for (int k = 1; k <= levels; ++k) {
    const double first = std::ceil(w_0 * std::pow(lo, k) / q - 0.5);
    const double last = std::floor(w_0 * std::pow(hi, k) / q - 0.5);
    for (double i = first; i <= last && out.size() < 4096; ++i) {
      const double g = std::pow((i + 0.5) * q / w_0, 1.0 / k);
      if (g > lo && g < hi) out.push_back(g);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void check_options(const WidthFitOptions& o) {
  if (o.quantum < 1) fail(kWhere, "quantum must be >= 1, got " + std::to_string(o.quantum));
  if (!(std::isfinite(o.w_m_min) && std::isfinite(o.w_m_max) && o.w_m_min > 1 &&
        o.w_m_min <= o.w_m_max)) {
    fail(kWhere, "w_m range [" + format_value(o.w_m_min) + ", " + format_value(o.w_m_max) +
                     "] must satisfy 1 < w_m_min <= w_m_max");
  }
  if (o.w_m_steps < 1) fail(kWhere, "w_m_steps must be >= 1, got " + std::to_string(o.w_m_steps));
  if (!(std::isfinite(o.w_0_span) && o.w_0_span >= 1)) {
    fail(kWhere, "w_0_span must be >= 1, got " + format_value(o.w_0_span));
  }
}

void check_widths(const char* where, const char* what, const std::vector<int>& widths) {
  check_not_empty(where, what, widths.size());
  for (size_t j = 0; j < widths.size(); ++j) {
    if (widths[j] <= 0) {
      fail(where, std::string(what) + "[" + std::to_string(j) + "] is " +
                      std::to_string(widths[j]) + " (widths must be > 0)");
    }
  }
}

}  // namespace

std::vector<int> quantized_linear_widths(double w_a, int w_0, double w_m, int depth, int quantum) {
  const char* where = "quantized_linear_widths";
  if (depth < 1) fail(where, "depth must be >= 1, got " + std::to_string(depth));
  if (quantum < 1) fail(where, "quantum must be >= 1, got " + std::to_string(quantum));
  if (w_0 <= 0 || w_0 % quantum != 0) {
    fail(where, "w_0 must be a positive multiple of " + std::to_string(quantum) + ", got " +
                    std::to_string(w_0));
  }
  if (!(std::isfinite(w_a) && w_a >= 0)) fail(where, "w_a must be >= 0, got " + format_value(w_a));
  if (!(std::isfinite(w_m) && w_m > 1)) fail(where, "w_m must be > 1, got " + format_value(w_m));
  std::vector<int> widths(static_cast<size_t>(depth));
  const double log_w_m = std::log(w_m);
  for (int j = 0; j < depth; ++j) {
    // pycls's float64 operations in its order; nearbyint rounds half to even
    // like np.round.
    const double u = j * w_a + w_0;
    const double s = std::nearbyint(std::log(u / w_0) / log_w_m);
    const double w = w_0 * std::pow(w_m, s);
    if (!(w < kMaxWidth)) {
      fail(where, "block " + std::to_string(j) + "'s width " + format_value(w) +
                      " is too large (w_a = " + format_value(w_a) + ")");
    }
    widths[static_cast<size_t>(j)] = quantize(w, quantum);
  }
  return widths;
}

double width_fit_error(const std::vector<int>& widths, const std::vector<int>& fitted) {
  const char* where = "width_fit_error";
  check_widths(where, "widths", widths);
  check_same_size(where, "widths", widths.size(), "fitted", fitted.size());
  check_widths(where, "fitted", fitted);
  double sum = 0;
  for (size_t j = 0; j < widths.size(); ++j) {
    sum += std::fabs(std::log(static_cast<double>(fitted[j]) / widths[j]));
  }
  return sum / static_cast<double>(widths.size());
}

WidthFit fit_widths(const std::vector<int>& widths, const WidthFitOptions& options) {
  check_widths(kWhere, "widths", widths);
  check_options(options);
  const int q = options.quantum;
  WidthFit fit;
  if (fit_exactly(widths, q, &fit)) return fit;

  const int depth = static_cast<int>(widths.size());
  const int max_w = *std::max_element(widths.begin(), widths.end());
  std::vector<double> log_w(widths.size());
  for (size_t j = 0; j < widths.size(); ++j) log_w[j] = std::log(static_cast<double>(widths[j]));

  // w_0: multiples of q around the first width; a coarse subset first.
  const double first = widths[0];
  const int lo_0 = std::max(q, static_cast<int>(std::floor(first / options.w_0_span / q)) * q);
  const int hi_0 = std::max(lo_0, static_cast<int>(std::ceil(first * options.w_0_span / q)) * q);
  const int num_0 = (hi_0 - lo_0) / q + 1;
  const int stride = (num_0 + static_cast<int>(kCoarseW0) - 1) / static_cast<int>(kCoarseW0);
  std::vector<int> coarse_0;
  for (int w = lo_0; w <= hi_0; w += stride * q) coarse_0.push_back(w);
  const int nearest_first = std::min(hi_0, std::max(lo_0, quantize(first, q)));
  if (std::find(coarse_0.begin(), coarse_0.end(), nearest_first) == coarse_0.end()) {
    coarse_0.push_back(nearest_first);
  }

  std::vector<double> coarse_m;
  const double m_step =
      options.w_m_steps > 1 ? (options.w_m_max - options.w_m_min) / (options.w_m_steps - 1) : 0.0;
  for (int i = 0; i < options.w_m_steps; ++i) coarse_m.push_back(options.w_m_min + i * m_step);

  std::vector<Candidate> candidates;
  sweep(log_w, max_w, q, coarse_m, coarse_0, &candidates);
  const auto by_cost = [](const Candidate& a, const Candidate& b) { return a.cost < b.cost; };
  std::sort(candidates.begin(), candidates.end(), by_cost);

  // Refine the best coarse cells: every multiple of q within a coarse w_0
  // step, and a finer w_m grid within a coarse w_m step.
  const std::vector<Candidate> coarse_best(
      candidates.begin(),
      candidates.begin() + static_cast<long>(std::min(kRefinedCells, candidates.size())));
  for (const Candidate& c : coarse_best) {
    std::vector<int> fine_0;
    for (int w = c.w_0 - stride * q; w <= c.w_0 + stride * q; w += q) {
      if (w >= lo_0 && w <= hi_0) fine_0.push_back(w);
    }
    std::vector<double> fine_m;
    for (int i = 0; i < kRefineWmPoints; ++i) {
      const double w_m = c.w_m + m_step * (2.0 * i / (kRefineWmPoints - 1) - 1);
      if (w_m >= options.w_m_min && w_m <= options.w_m_max) fine_m.push_back(w_m);
    }
    sweep(log_w, max_w, q, fine_m, fine_0, &candidates);
  }
  std::sort(candidates.begin(), candidates.end(), by_cost);

  // Polish w_m around the best cells: a grid step can straddle the narrow
  // w_m window in which the high levels quantize to the observed widths, so
  // try every such window (the middle of each interval between breakpoints).
  const double fine_step = m_step / ((kRefineWmPoints - 1) / 2.0);
  std::vector<Candidate> refined_best(
      candidates.begin(),
      candidates.begin() + static_cast<long>(std::min(kPolishedCells, candidates.size())));
  // Also the best cell with w_0 at the first width, where a near-rule model's
  // fit starts.
  const auto at_first = [&](const Candidate& c) { return c.w_0 == nearest_first; };
  if (std::none_of(refined_best.begin(), refined_best.end(), at_first)) {
    const auto it = std::find_if(candidates.begin(), candidates.end(), at_first);
    if (it != candidates.end()) refined_best.push_back(*it);
  }
  for (const Candidate& c : refined_best) {
    const double lo = std::max(options.w_m_min, c.w_m - fine_step);
    const double hi = std::min(options.w_m_max, c.w_m + fine_step);
    int levels = 1;
    while (levels < 400 && quantize(c.w_0 * std::pow(lo, levels - 1), q) < max_w) ++levels;
    std::vector<double> points = level_breakpoints(c.w_0, q, lo, hi, levels);
    points.insert(points.begin(), lo);
    points.push_back(hi);
    const size_t stride_m = (points.size() + kMaxPolishPoints - 1) / kMaxPolishPoints;
    std::vector<double> mids;
    for (size_t i = 0; i + 1 < points.size(); i += stride_m) {
      mids.push_back(0.5 * (points[i] + points[std::min(i + stride_m, points.size() - 1)]));
    }
    sweep(log_w, max_w, q, mids, {c.w_0}, &candidates);
  }
  std::sort(candidates.begin(), candidates.end(), by_cost);

  // The sweep's costs are exact up to rounding at level boundaries; the
  // reported fit is the rule evaluated as generate_regnet does.
  fit.e_fit = kInf;
  for (size_t i = 0; i < std::min(kExactlyEvaluated, candidates.size()); ++i) {
    const Candidate& c = candidates[i];
    std::vector<int> fitted = quantized_linear_widths(c.t * c.w_0, c.w_0, c.w_m, depth, q);
    const double e = width_fit_error(widths, fitted);
    if (e < fit.e_fit) {
      fit.w_0 = c.w_0;
      fit.w_a = c.t * c.w_0;
      fit.w_m = c.w_m;
      fit.e_fit = e;
      fit.fitted = std::move(fitted);
    }
  }
  return fit;
}

}  // namespace nds::analysis
