#pragma once
// A small plotting layer for the HTML report: one Plot is one self-contained
// <svg> with a fixed viewBox (it scales with the page), axes with ticks and
// labels on linear or log scales, and the marks the report needs: step and
// polyline series, scatter clouds, shaded x ranges, bands between two
// curves, labelled markers, histogram bars and a legend below the axes.
//
// Output is deterministic: numbers are printed with fixed precision in the
// "C" locale, and marks are drawn in the order they were added. Every piece
// of text passes through escape(), so user text cannot close an element or
// open a new one.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nds::reports::svg {

// Text for HTML/SVG content and attribute values: & < > " ' become entities,
// control characters other than tab and newline become U+FFFD, and so does
// every byte that is not part of valid UTF-8 (the page is UTF-8).
std::string escape(std::string_view text);
void append_escaped(std::string& out, std::string_view text);

// `v` with `digits` digits after the point ("%.*f"); "-0.0" prints as "0.0".
std::string fixed(double v, int digits);
// `v` in at most `significant` significant digits without trailing zeros
// ("%.*g"-like but never in exponent form for |v| in [1e-4, 1e15)).
std::string compact(double v, int significant = 4);

// A series palette: light background, distinguishable hues (colour-blind
// safe for the first few). color(i) cycles.
const char* color(size_t i);

struct Axis {
  std::string label;          // e.g. "top-1 error (%)"
  bool log = false;           // log10 scale (values <= 0 are not drawn)
  std::optional<double> min;  // fixed ends; otherwise fitted to the marks
  std::optional<double> max;
  bool integer_ticks = false;  // ticks at integers only (epochs, block index)
};

struct PlotOptions {
  std::string title;
  Axis x;
  Axis y;
  int width = 520;   // viewBox size of the axes area plus margins
  int height = 340;  // without the legend, which adds rows below
};

class Plot {
 public:
  explicit Plot(PlotOptions options);

  // y(x) as a right-continuous step function: y[i] on [x[i], x[i+1]), the
  // last level extended to the right edge. `from_axis` starts it with a rise
  // from the bottom of the axis at x[0] (an EDF); otherwise at y[0].
  void step(const std::vector<double>& x, const std::vector<double>& y, size_t color_index,
            std::string legend = "", bool dashed = false, bool from_axis = true);
  // A polyline through the points; `markers` draws a dot at each.
  void line(const std::vector<double>& x, const std::vector<double>& y, size_t color_index,
            std::string legend = "", bool dashed = false, bool markers = false);
  // Dots of radius `r` (one <path>, however many points).
  void scatter(const std::vector<std::pair<double, double>>& points, size_t color_index,
               std::string legend = "", double r = 2.2, double opacity = 0.55);
  // A shaded vertical strip x in [lo, hi] over the whole y range.
  void x_range(double lo, double hi, size_t color_index, std::string legend = "",
               double opacity = 0.16);
  // A vertical line at x (dashed), e.g. a median.
  void x_line(double x, size_t color_index, std::string legend = "");
  // The region between lo(x) and hi(x).
  void band(const std::vector<double>& x, const std::vector<double>& lo,
            const std::vector<double>& hi, size_t color_index, std::string legend = "",
            double opacity = 0.18);
  // A diamond at (x, y) with a text label beside it.
  void marker(double x, double y, std::string label, size_t color_index);
  // Histogram bars [edges[i], edges[i+1]) of height counts[i].
  void bars(const std::vector<double>& edges, const std::vector<double>& counts, size_t color_index,
            std::string legend = "");
  // A line of text under the title (counts, notes).
  void subtitle(std::string text) { subtitle_ = std::move(text); }

  // The <svg> element (with a <title> for accessibility).
  std::string str() const;

 private:
  enum class Kind { kStep, kLine, kScatter, kXRange, kXLine, kBand, kMarker, kBars };
  struct Mark {
    Mark(Kind k, size_t c) : kind(k), color(c) {}
    Kind kind;
    size_t color;
    std::vector<double> x, y, y2;  // y2: band's upper curve
    std::string text;              // marker label
    bool dashed = false;
    bool markers = false;
    bool from_axis = false;  // step: rises from the axis bottom at x[0]
    double size = 0;         // scatter radius
    double opacity = 1;      // fills
  };
  struct LegendEntry {
    std::string text;
    size_t color;
    Kind kind;
    bool dashed;
  };
  // Adds the mark, and its legend entry unless `legend` is empty.
  void add(Mark m, const std::string& legend);
  // A step or line mark: x and y cut to the shorter of the two.
  static Mark curve(Kind kind, const std::vector<double>& x, const std::vector<double>& y,
                    size_t color, bool dashed, bool from_axis, bool markers);

  // str()'s steps. Frame: the geometry, scales and placed labels (svg.cc).
  struct Frame;
  Frame frame() const;
  void draw_heading(std::string& out, const Frame& f) const;
  void draw_axes(std::string& out, const Frame& f) const;
  static void draw_mark(std::string& out, Frame& f, const Mark& m);
  static std::string dash(const Mark& m);
  static void draw_step(std::string& out, const Frame& f, const Mark& m);
  static void draw_line(std::string& out, const Frame& f, const Mark& m);
  static void draw_scatter(std::string& out, const Frame& f, const Mark& m);
  static void draw_x_range(std::string& out, const Frame& f, const Mark& m);
  static void draw_x_line(std::string& out, const Frame& f, const Mark& m);
  static void draw_band(std::string& out, const Frame& f, const Mark& m);
  static void draw_marker(std::string& out, Frame& f, const Mark& m);  // places its label
  static void draw_bars(std::string& out, const Frame& f, const Mark& m);
  void draw_legend(std::string& out, const Frame& f) const;

  PlotOptions options_;
  std::string subtitle_;
  std::vector<Mark> marks_;
  std::vector<LegendEntry> legend_;
};

}  // namespace nds::reports::svg
