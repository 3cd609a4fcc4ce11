#include "reports/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace nds::reports::svg {
namespace {

constexpr double kMarginLeft = 64;
constexpr double kMarginRight = 18;
constexpr double kMarginTop = 46;
constexpr double kMarginBottom = 50;
constexpr double kLegendRow = 17;
constexpr double kCharWidth = 6.2;                    // average width of an 11px sans-serif glyph
constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Pixel coordinates in tenths, printed without snprintf: a plot with a few
// thousand points prints tens of thousands of them.
void append_px(std::string& out, double v) {
  if (!std::isfinite(v)) v = 0;
  long long t = std::llround(v * 10);
  if (t < 0) {
    out += '-';
    t = -t;
  }
  out += std::to_string(t / 10);
  out += '.';
  out += static_cast<char>('0' + t % 10);
}

std::string px(double v) {
  std::string s;
  append_px(s, v);
  return s;
}

// Length of a valid UTF-8 sequence starting at text[i], or 0.
size_t utf8_length(std::string_view text, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char c = b(0);
  const size_t left = text.size() - i;
  const auto cont = [&](size_t k) { return k < left && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
    // U+FFFE and U+FFFF are not characters (XML rejects them).
    if (c == 0xEF && b(1) == 0xBF && (b(2) == 0xBE || b(2) == 0xBF)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

// The text cut to at most `max_chars` characters (UTF-8 aware), with an
// ellipsis when cut.
std::string truncate(const std::string& text, size_t max_chars) {
  size_t chars = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (chars == max_chars) return text.substr(0, i) + "\xE2\x80\xA6";
    const size_t n = utf8_length(text, i);
    i += n == 0 ? 1 : n;
    ++chars;
  }
  return text;
}

size_t char_count(const std::string& text) {
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++n) {
    const size_t k = utf8_length(text, i);
    i += k == 0 ? 1 : k;
  }
  return n;
}

struct Box {
  double x0, y0, x1, y1;
};

struct Domain {
  double lo = 0;
  double hi = 1;
};

// Maps a value to pixels along one axis.
struct Scale {
  Domain d;
  bool log = false;
  double p0 = 0;  // pixel of d.lo
  double p1 = 1;  // pixel of d.hi
  double operator()(double v) const {
    double t;
    if (log) {
      t = (std::log10(v) - std::log10(d.lo)) / (std::log10(d.hi) - std::log10(d.lo));
    } else {
      t = (v - d.lo) / (d.hi - d.lo);
    }
    return p0 + t * (p1 - p0);
  }
  bool drawable(double v) const { return std::isfinite(v) && (!log || v > 0); }
};

double nice_step(double span, int target, bool integer) {
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  if (integer) step = std::max(1.0, std::round(step));
  return step;
}

// The axis range: the fixed ends, else the marks' extent plus a margin.
Domain fit_domain(const Axis& axis, std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(),
                              [&](double v) { return !std::isfinite(v) || (axis.log && v <= 0); }),
               values.end());
  double lo, hi;
  if (values.empty()) {
    lo = axis.log ? 1 : 0;
    hi = axis.log ? 10 : 1;
  } else {
    const auto [mn, mx] = std::minmax_element(values.begin(), values.end());
    lo = *mn;
    hi = *mx;
  }
  if (axis.log) {
    if (axis.min && *axis.min > 0) lo = *axis.min;
    if (axis.max && *axis.max > 0) hi = *axis.max;
    if (hi <= lo) {
      hi = lo * 2;
      lo = lo / 2;
    } else {
      const double pad = std::pow(hi / lo, 0.04);
      if (!axis.min) lo /= pad;
      if (!axis.max) hi *= pad;
    }
  } else {
    if (axis.min) lo = *axis.min;
    if (axis.max) hi = *axis.max;
    if (hi <= lo) {
      const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
      lo -= pad;
      hi += pad;
    } else {
      const double pad = (hi - lo) * 0.04;
      if (!axis.min) lo -= pad;
      if (!axis.max) hi += pad;
    }
  }
  return {lo, hi};
}

std::vector<double> ticks(const Axis& axis, const Domain& d) {
  std::vector<double> out;
  const double eps = (d.hi - d.lo) * 1e-9;
  if (!axis.log) {
    const double step = nice_step(d.hi - d.lo, 5, axis.integer_ticks);
    for (double k = std::ceil((d.lo - eps) / step); k * step <= d.hi + eps; k += 1) {
      out.push_back(k * step == 0 ? 0 : k * step);
      if (out.size() > 50) break;
    }
    return out;
  }
  const int e0 = static_cast<int>(std::floor(std::log10(d.lo)));
  const int e1 = static_cast<int>(std::ceil(std::log10(d.hi)));
  // Decades; 1-2-5 within them when the range holds few decades; every
  // integer multiple when it holds less than one.
  for (const std::vector<double>& mult : {std::vector<double>{1}, std::vector<double>{1, 2, 5},
                                          std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    out.clear();
    for (int e = e0; e <= e1; ++e) {
      for (double m : mult) {
        const double v = m * std::pow(10.0, e);
        if (v >= d.lo * (1 - 1e-9) && v <= d.hi * (1 + 1e-9)) out.push_back(v);
      }
    }
    if (out.size() >= 3) break;
  }
  if (out.size() > 12) {  // many decades: every other one
    std::vector<double> thin;
    for (size_t i = 0; i < out.size(); i += 2) thin.push_back(out[i]);
    out = thin;
  }
  return out;
}

void text(std::string& out, double x, double y, const std::string& s, const char* anchor,
          const char* cls, const std::string& extra = "") {
  out += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"";
  if (cls && *cls) out += std::string(" class=\"") + cls + "\"";
  if (!extra.empty()) out += " " + extra;
  out += ">";
  append_escaped(out, s);
  out += "</text>\n";
}

// A dot: a zero-length subpath, drawn by a round line cap.
void append_dot(std::string& d, double x, double y) {
  d += "M";
  append_px(d, x);
  d += " ";
  append_px(d, y);
  d += "h0";
}

// Where a marker's label goes: beside it (left or right, dy below its
// centre), inside `bounds` and over no earlier label where it can be.
struct LabelSpot {
  bool left;
  double dy;
};

LabelSpot place_label(double X, double Y, double tw, const Box& bounds, double right,
                      std::vector<Box>& placed) {
  static const LabelSpot spots[] = {{false, -5},  {false, 13}, {true, -5},  {true, 13},
                                    {false, -17}, {true, -17}, {false, 25}, {true, 25}};
  const auto box_at = [&](const LabelSpot& sp) {
    const double x0 = sp.left ? X - 9 - tw : X + 9;
    return Box{x0, Y + sp.dy - 10, x0 + tw, Y + sp.dy + 2};
  };
  const LabelSpot* chosen = nullptr;
  Box box{};
  for (const LabelSpot& sp : spots) {
    const Box b = box_at(sp);
    if (b.x0 < bounds.x0 || b.x1 > bounds.x1 || b.y0 < bounds.y0 - 8 || b.y1 > bounds.y1 + 8)
      continue;
    const bool clash = std::any_of(placed.begin(), placed.end(), [&](const Box& o) {
      return b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1;
    });
    if (!chosen || !clash) {
      chosen = &sp;
      box = b;
    }
    if (!clash) break;
  }
  if (!chosen) {
    chosen = &spots[X > right - tw ? 2 : 0];
    box = box_at(*chosen);
  }
  placed.push_back(box);
  return *chosen;
}

}  // namespace

void append_escaped(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        case '\t':
        case '\n':
          out += static_cast<char>(c);
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += kReplacement;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const size_t n = utf8_length(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  append_escaped(out, text);
  return out;
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  std::string s = buf;
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string compact(double v, int significant) {
  if (!std::isfinite(v)) return fixed(v, 0);
  if (v == 0) return "0";
  const double a = std::fabs(v);
  char buf[64];
  if (a < 1e-4 || a >= 1e15) {
    std::snprintf(buf, sizeof buf, "%.*g", significant, v);
    return buf;
  }
  const int mag = static_cast<int>(std::floor(std::log10(a)));
  const int digits = std::clamp(significant - 1 - mag, 0, 12);
  std::string s = fixed(v, digits);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

const char* color(size_t i) {
  static const char* const kPalette[] = {"#3b75af", "#ef8636", "#519e3e", "#c53a32", "#8d69b8",
                                         "#84584e", "#d57dbf", "#7f7f7f", "#bcbc35", "#42b4c4"};
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}

Plot::Plot(PlotOptions options) : options_(std::move(options)) {}

void Plot::add(Mark m, const std::string& legend) {
  if (!legend.empty()) legend_.push_back({legend, m.color, m.kind, m.dashed});
  marks_.push_back(std::move(m));
}

Plot::Mark Plot::curve(Kind kind, const std::vector<double>& x, const std::vector<double>& y,
                       size_t c, bool dashed, bool from_axis, bool markers) {
  Mark m(kind, c);
  m.x = x;
  m.y = y;
  m.x.resize(std::min(x.size(), y.size()));
  m.y.resize(m.x.size());
  m.dashed = dashed;
  m.from_axis = from_axis;
  m.markers = markers;
  return m;
}

void Plot::step(const std::vector<double>& x, const std::vector<double>& y, size_t c,
                std::string legend, bool dashed, bool from_axis) {
  add(curve(Kind::kStep, x, y, c, dashed, from_axis, false), legend);
}

void Plot::line(const std::vector<double>& x, const std::vector<double>& y, size_t c,
                std::string legend, bool dashed, bool markers) {
  add(curve(Kind::kLine, x, y, c, dashed, false, markers), legend);
}

void Plot::scatter(const std::vector<std::pair<double, double>>& points, size_t c,
                   std::string legend, double r, double opacity) {
  Mark m(Kind::kScatter, c);
  m.x.reserve(points.size());
  m.y.reserve(points.size());
  for (const auto& [px_, py_] : points) {
    m.x.push_back(px_);
    m.y.push_back(py_);
  }
  m.size = r;
  m.opacity = opacity;
  add(std::move(m), legend);
}

void Plot::x_range(double lo, double hi, size_t c, std::string legend, double opacity) {
  Mark m(Kind::kXRange, c);
  m.x = {lo, hi};
  m.opacity = opacity;
  add(std::move(m), legend);
}

void Plot::x_line(double x, size_t c, std::string legend) {
  Mark m(Kind::kXLine, c);
  m.x = {x};
  m.dashed = true;
  add(std::move(m), legend);
}

void Plot::band(const std::vector<double>& x, const std::vector<double>& lo,
                const std::vector<double>& hi, size_t c, std::string legend, double opacity) {
  const size_t n = std::min({x.size(), lo.size(), hi.size()});
  Mark m(Kind::kBand, c);
  m.x = x;
  m.y = lo;
  m.y2 = hi;
  m.x.resize(n);
  m.y.resize(n);
  m.y2.resize(n);
  m.opacity = opacity;
  add(std::move(m), legend);
}

void Plot::marker(double x, double y, std::string label, size_t c) {
  Mark m(Kind::kMarker, c);
  m.x = {x};
  m.y = {y};
  m.text = std::move(label);
  add(std::move(m), "");
}

void Plot::bars(const std::vector<double>& edges, const std::vector<double>& counts, size_t c,
                std::string legend) {
  Mark m(Kind::kBars, c);
  m.x = edges;
  m.y = counts;
  if (m.x.size() > m.y.size() + 1) m.x.resize(m.y.size() + 1);
  if (m.x.size() < 2) m.x.clear();
  m.y.resize(m.x.empty() ? 0 : m.x.size() - 1);
  add(std::move(m), legend);
}

// The plot's geometry: the axes area inside the margins, the legend's
// layout below it, the scales, and the marker labels placed so far.
struct Plot::Frame {
  double w = 0;  // viewBox width
  double h = 0;  // viewBox height above the legend
  double total_h = 0;
  double left = 0, right = 0, top = 0, bottom = 0;  // the axes area
  double half = 0;                                  // a legend column's width when two
  size_t columns = 1;                               // legend columns and rows
  size_t rows = 0;
  Scale sx, sy;
  std::vector<Box> labels;  // marker labels drawn so far, which later ones avoid

  double cx(double v) const { return std::clamp(sx(v), left, right); }
  double cy(double v) const { return std::clamp(sy(v), top, bottom); }
};

Plot::Frame Plot::frame() const {
  Frame f;
  f.w = options_.width;
  f.h = options_.height;
  // The legend takes two columns when every entry fits in half the width.
  size_t longest = 0;
  for (const LegendEntry& e : legend_) longest = std::max(longest, char_count(e.text));
  f.half = (f.w - kMarginLeft - kMarginRight) / 2;
  f.columns = legend_.size() > 1 && 28 + kCharWidth * longest <= f.half ? 2 : 1;
  f.rows = (legend_.size() + f.columns - 1) / f.columns;
  const double legend_h = legend_.empty() ? 0 : kLegendRow * static_cast<double>(f.rows) + 6;
  f.total_h = f.h + legend_h;
  f.left = kMarginLeft;
  f.right = f.w - kMarginRight;
  f.top = kMarginTop;
  f.bottom = f.h - kMarginBottom;

  // Domains from the marks (x ranges and lines span x only; bars start at 0).
  std::vector<double> xs, ys;
  for (const Mark& m : marks_) {
    xs.insert(xs.end(), m.x.begin(), m.x.end());
    if (m.kind == Kind::kXRange || m.kind == Kind::kXLine) continue;
    ys.insert(ys.end(), m.y.begin(), m.y.end());
    ys.insert(ys.end(), m.y2.begin(), m.y2.end());
    if (m.kind == Kind::kBars && !options_.y.log) ys.push_back(0);
  }
  f.sx = Scale{fit_domain(options_.x, xs), options_.x.log, f.left, f.right};
  f.sy = Scale{fit_domain(options_.y, ys), options_.y.log, f.bottom, f.top};
  return f;
}

std::string Plot::str() const {
  Frame f = frame();
  std::string out;
  out.reserve(4096);
  draw_heading(out, f);
  draw_axes(out, f);
  for (const Mark& m : marks_) draw_mark(out, f, m);  // in the order added
  draw_legend(out, f);
  out += "</svg>\n";
  return out;
}

// The <svg> element's opening, its <title>, background, title and subtitle.
void Plot::draw_heading(std::string& out, const Frame& f) const {
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 " + px(f.w) + " " +
         px(f.total_h) + "\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">\n<title>";
  append_escaped(out, options_.title);
  out += "</title>\n";
  out += "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"" + px(f.w) + "\" height=\"" + px(f.total_h) +
         "\" fill=\"#ffffff\"/>\n";
  text(out, f.left, 18, truncate(options_.title, static_cast<size_t>((f.w - f.left) / 7.2)),
       "start", "t", "font-size=\"13\" font-weight=\"600\"");
  if (!subtitle_.empty())
    text(out, f.left, 34, truncate(subtitle_, static_cast<size_t>((f.w - f.left) / kCharWidth)),
         "start", "s", "fill=\"#666666\"");
}

// Grid lines, tick labels, the frame and the axis labels.
void Plot::draw_axes(std::string& out, const Frame& f) const {
  out += "<g class=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n";
  const std::vector<double> tx = ticks(options_.x, f.sx.d);
  const std::vector<double> ty = ticks(options_.y, f.sy.d);
  for (double v : tx)
    out += "<line x1=\"" + px(f.sx(v)) + "\" y1=\"" + px(f.top) + "\" x2=\"" + px(f.sx(v)) +
           "\" y2=\"" + px(f.bottom) + "\"/>\n";
  for (double v : ty)
    out += "<line x1=\"" + px(f.left) + "\" y1=\"" + px(f.sy(v)) + "\" x2=\"" + px(f.right) +
           "\" y2=\"" + px(f.sy(v)) + "\"/>\n";
  out += "</g>\n<g class=\"ticks\" fill=\"#444444\">\n";
  for (double v : tx) text(out, f.sx(v), f.bottom + 15, compact(v, 3), "middle", "");
  for (double v : ty) text(out, f.left - 6, f.sy(v) + 4, compact(v, 3), "end", "");
  out += "</g>\n";
  out += "<rect class=\"frame\" x=\"" + px(f.left) + "\" y=\"" + px(f.top) + "\" width=\"" +
         px(f.right - f.left) + "\" height=\"" + px(f.bottom - f.top) +
         "\" fill=\"none\" stroke=\"#999999\"/>\n";
  text(out, (f.left + f.right) / 2, f.bottom + 36, options_.x.label, "middle", "xl");
  out += "<text class=\"yl\" text-anchor=\"middle\" transform=\"translate(" + px(16) + "," +
         px((f.top + f.bottom) / 2) + ") rotate(-90)\">";
  append_escaped(out, options_.y.label);
  out += "</text>\n";
}

void Plot::draw_mark(std::string& out, Frame& f, const Mark& m) {
  // clang-format off
  switch (m.kind) {
    case Kind::kStep: return draw_step(out, f, m);
    case Kind::kLine: return draw_line(out, f, m);
    case Kind::kScatter: return draw_scatter(out, f, m);
    case Kind::kXRange: return draw_x_range(out, f, m);
    case Kind::kXLine: return draw_x_line(out, f, m);
    case Kind::kBand: return draw_band(out, f, m);
    case Kind::kMarker: return draw_marker(out, f, m);
    case Kind::kBars: return draw_bars(out, f, m);
  }
  // clang-format on
}

std::string Plot::dash(const Mark& m) {
  return m.dashed ? " stroke-dasharray=\"5,3\"" : "";
}

void Plot::draw_step(std::string& out, const Frame& f, const Mark& m) {
  // Right-continuous: y[i] on [x[i], x[i+1]), the last level to the right
  // edge. Points within a pixel column merge (the vertical segment covers
  // them), so the path stays small.
  std::string d;
  double last_x = std::numeric_limits<double>::quiet_NaN();
  double last_y = f.bottom;
  for (size_t i = 0; i < m.x.size(); ++i) {
    if (!f.sx.drawable(m.x[i]) || !f.sy.drawable(m.y[i])) continue;
    const double X = f.cx(m.x[i]);
    const double Y = f.cy(m.y[i]);
    if (std::isnan(last_x)) {
      d += "M";
      append_px(d, X);
      d += " ";
      append_px(d, m.from_axis ? f.bottom : Y);
    } else if (std::fabs(X - last_x) >= 0.5) {
      d += "V";
      append_px(d, last_y);
      d += "H";
      append_px(d, X);
    } else {
      last_y = Y;
      continue;
    }
    last_x = X;
    last_y = Y;
  }
  if (d.empty()) return;
  d += "V";
  append_px(d, last_y);
  d += "H";
  append_px(d, f.right);
  out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color(m.color) +
         "\" stroke-width=\"1.8\"" + dash(m) + "/>\n";
}

void Plot::draw_line(std::string& out, const Frame& f, const Mark& m) {
  std::string d, dots;
  double lx = -1e9, ly = -1e9;
  for (size_t i = 0; i < m.x.size(); ++i) {
    if (!f.sx.drawable(m.x[i]) || !f.sy.drawable(m.y[i])) continue;
    const double X = f.cx(m.x[i]), Y = f.cy(m.y[i]);
    if (m.markers) append_dot(dots, X, Y);
    if (std::fabs(X - lx) < 0.5 && std::fabs(Y - ly) < 0.5) continue;
    d += d.empty() ? "M" : "L";
    append_px(d, X);
    d += " ";
    append_px(d, Y);
    lx = X;
    ly = Y;
  }
  const char* col = color(m.color);
  if (!d.empty())
    out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + col +
           "\" stroke-width=\"1.8\" stroke-linejoin=\"round\"" + dash(m) + "/>\n";
  if (!dots.empty())
    out += "<path d=\"" + dots + "\" stroke=\"" + col +
           "\" stroke-width=\"5\" stroke-linecap=\"round\"/>\n";
}

void Plot::draw_scatter(std::string& out, const Frame& f, const Mark& m) {
  // Zero-length subpaths with round caps: one dot each, one element in all.
  std::string d;
  d.reserve(m.x.size() * 14);
  for (size_t i = 0; i < m.x.size(); ++i) {
    if (!f.sx.drawable(m.x[i]) || !f.sy.drawable(m.y[i])) continue;
    append_dot(d, f.cx(m.x[i]), f.cy(m.y[i]));
  }
  if (!d.empty())
    out += "<path class=\"dots\" d=\"" + d + "\" stroke=\"" + color(m.color) +
           "\" stroke-width=\"" + px(2 * m.size) + "\" stroke-linecap=\"round\" stroke-opacity=\"" +
           fixed(m.opacity, 2) + "\"/>\n";
}

void Plot::draw_x_range(std::string& out, const Frame& f, const Mark& m) {
  // An end off a log axis (a range from 0) is drawn from the axis edge.
  if (!std::isfinite(m.x[0]) || !std::isfinite(m.x[1])) return;
  const double lo = std::min(m.x[0], m.x[1]), hi = std::max(m.x[0], m.x[1]);
  if (!f.sx.drawable(hi)) return;
  const double a = f.sx.drawable(lo) ? f.cx(lo) : f.left, b = f.cx(hi);
  out += "<rect x=\"" + px(a) + "\" y=\"" + px(f.top) + "\" width=\"" + px(std::max(b - a, 1.0)) +
         "\" height=\"" + px(f.bottom - f.top) + "\" fill=\"" + color(m.color) +
         "\" fill-opacity=\"" + fixed(m.opacity, 2) + "\"/>\n";
}

void Plot::draw_x_line(std::string& out, const Frame& f, const Mark& m) {
  if (!f.sx.drawable(m.x[0])) return;
  const double X = f.cx(m.x[0]);
  out += "<line x1=\"" + px(X) + "\" y1=\"" + px(f.top) + "\" x2=\"" + px(X) + "\" y2=\"" +
         px(f.bottom) + "\" stroke=\"" + color(m.color) + "\" stroke-width=\"1.4\"" + dash(m) +
         "/>\n";
}

void Plot::draw_band(std::string& out, const Frame& f, const Mark& m) {
  // Along the upper curve, then back along the lower one.
  std::string upper, lower;
  size_t n = 0;
  for (size_t i = 0; i < m.x.size(); ++i) {
    if (!f.sx.drawable(m.x[i]) || !f.sy.drawable(m.y[i]) || !f.sy.drawable(m.y2[i])) continue;
    upper += n == 0 ? "M" : "L";
    append_px(upper, f.cx(m.x[i]));
    upper += " ";
    append_px(upper, f.cy(m.y2[i]));
    std::string pt = "L";
    append_px(pt, f.cx(m.x[i]));
    pt += " ";
    append_px(pt, f.cy(m.y[i]));
    lower.insert(0, pt);
    ++n;
  }
  if (n >= 2)
    out += "<path d=\"" + upper + lower + "Z\" fill=\"" + color(m.color) + "\" fill-opacity=\"" +
           fixed(m.opacity, 2) + "\" stroke=\"none\"/>\n";
}

void Plot::draw_marker(std::string& out, Frame& f, const Mark& m) {
  if (!f.sx.drawable(m.x[0]) || !f.sy.drawable(m.y[0])) return;
  const double X = f.cx(m.x[0]), Y = f.cy(m.y[0]);
  out += "<path d=\"M" + px(X) + " " + px(Y - 6) + "L" + px(X + 6) + " " + px(Y) + "L" + px(X) +
         " " + px(Y + 6) + "L" + px(X - 6) + " " + px(Y) + "Z\" fill=\"" + color(m.color) +
         "\" stroke=\"#222222\" stroke-width=\"0.8\"/>\n";
  const std::string label = truncate(m.text, 32);
  const LabelSpot spot = place_label(X, Y, 5.6 * static_cast<double>(char_count(label)),
                                     {f.left, f.top, f.w - 4, f.bottom}, f.right, f.labels);
  text(out, spot.left ? X - 9 : X + 9, Y + spot.dy, label, spot.left ? "end" : "start", "ml",
       "fill=\"#222222\" font-size=\"10\"");
}

void Plot::draw_bars(std::string& out, const Frame& f, const Mark& m) {
  for (size_t i = 0; i + 1 < m.x.size(); ++i) {
    if (!f.sx.drawable(m.x[i]) || !f.sx.drawable(m.x[i + 1]) || !f.sy.drawable(m.y[i])) continue;
    const double a = f.cx(m.x[i]), b = f.cx(m.x[i + 1]);
    const double Y = f.cy(m.y[i]);
    const double base = f.sy.log ? f.bottom : f.cy(0);
    out += "<rect x=\"" + px(a + 0.5) + "\" y=\"" + px(std::min(Y, base)) + "\" width=\"" +
           px(std::max(b - a - 1, 0.5)) + "\" height=\"" + px(std::fabs(base - Y)) + "\" fill=\"" +
           color(m.color) + "\" fill-opacity=\"0.75\"/>\n";
  }
}

// Legend rows under the x label: a swatch of each entry's mark and its text.
void Plot::draw_legend(std::string& out, const Frame& f) const {
  const size_t max_chars =
      static_cast<size_t>((f.columns == 2 ? f.half - 28 : f.w - f.left - 28) / kCharWidth);
  for (size_t k = 0; k < legend_.size(); ++k) {
    const LegendEntry& e = legend_[k];
    const char* col = color(e.color);
    const double mid = f.h + 6 + kLegendRow * static_cast<double>(k % f.rows) + kLegendRow / 2;
    const double lx = kMarginLeft + (k < f.rows ? 0 : f.half);
    out += "<g class=\"legend\">";
    switch (e.kind) {
      case Kind::kScatter:
        out += "<circle cx=\"" + px(lx + 10) + "\" cy=\"" + px(mid) + "\" r=\"3.5\" fill=\"" + col +
               "\"/>";
        break;
      case Kind::kXRange:
      case Kind::kBand:
      case Kind::kBars:
        out += "<rect x=\"" + px(lx + 2) + "\" y=\"" + px(mid - 5) +
               "\" width=\"16\" height=\"10\" fill=\"" + col + "\" fill-opacity=\"0.4\"/>";
        break;
      default:
        out += "<line x1=\"" + px(lx) + "\" y1=\"" + px(mid) + "\" x2=\"" + px(lx + 20) +
               "\" y2=\"" + px(mid) + "\" stroke=\"" + col + "\" stroke-width=\"2.2\"" +
               (e.dashed ? " stroke-dasharray=\"5,3\"" : "") + "/>";
    }
    out += "<text x=\"" + px(lx + 28) + "\" y=\"" + px(mid + 4) + "\">";
    append_escaped(out, truncate(e.text, max_chars));
    out += "</text></g>\n";
  }
}

}  // namespace nds::reports::svg
