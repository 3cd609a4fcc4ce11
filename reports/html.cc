#include "reports/html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reports/render_util.h"
#include "reports/svg.h"

namespace nds::reports {
namespace {

using namespace render;  // the document readers and formatters (render_util.h)
using svg::escape;

// Only constant text goes in here: user text never reaches <style>.
constexpr const char* kStyle = R"(
:root { color-scheme: light; }
body { margin: 0; background: #f7f7f5; color: #222; font: 14px/1.45 system-ui, -apple-system,
  "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1500px; margin: 0 auto; padding: 12px 20px 40px; }
h1 { font-size: 22px; margin: 10px 0 4px; word-break: break-word; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: #555; margin: 2px 0; }
nav { margin: 10px 0; font-size: 13px; }
nav a { margin-right: 12px; color: #3b75af; text-decoration: none; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(520px, 100%), 1fr)); gap: 14px; }
.grid.small { grid-template-columns: repeat(auto-fill, minmax(min(340px, 100%), 1fr)); }
figure { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 4px; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { font-size: 12px; color: #555; padding: 2px 6px 4px; }
.note { background: #fff8e1; border-left: 4px solid #e0a800; padding: 8px 12px; margin: 8px 0;
  border-radius: 3px; }
.empty { background: #fdecea; border-left-color: #c53a32; font-size: 15px; }
table { border-collapse: collapse; background: #fff; margin: 6px 0 10px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #f0f0ee; }
td.l, th.l { text-align: left; }
.scroll { overflow-x: auto; }
details { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px;
  margin: 6px 0; }
summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f6f4; padding: 8px; overflow: auto; max-height: 420px; font-size: 12px;
  white-space: pre-wrap; word-break: break-word; }
code { font-size: 12px; word-break: break-word; }
.name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
footer { color: #777; font-size: 12px; margin-top: 30px; }
)";

std::string h(const std::string& s) {
  return escape(s);
}

svg::Axis axis(std::string label, bool log = false, std::optional<double> lo = std::nullopt,
               std::optional<double> hi = std::nullopt, bool integer = false) {
  svg::Axis a;
  a.label = std::move(label);
  a.log = log;
  a.min = lo;
  a.max = hi;
  a.integer_ticks = integer;
  return a;
}

svg::PlotOptions options(std::string title, svg::Axis x, svg::Axis y, int width = 520,
                         int height = 340) {
  svg::PlotOptions o;
  o.title = std::move(title);
  o.x = std::move(x);
  o.y = std::move(y);
  o.width = width;
  o.height = height;
  return o;
}

void note(std::string& out, const std::string& text, const std::string& what = "") {
  out += "<div class=\"note\">";
  if (!what.empty()) out += "<strong>" + h(what) + ":</strong> ";
  out += h(text) + "</div>\n";
}

// A figure holding one plot, with an optional caption.
void figure(std::string& out, const svg::Plot& plot, const std::string& caption = "") {
  out += "<figure>\n" + plot.str();
  if (!caption.empty()) out += "<figcaption>" + h(caption) + "</figcaption>\n";
  out += "</figure>\n";
}

// 21 -> "21st", 12 -> "12th" (a percentile, rounded).
std::string ordinal(double v) {
  const long n = std::lround(std::clamp(v, 0.0, 100.0));
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

std::string sweep_name(const Json& sweep) {
  return render::text(sweep, "name");
}

// "name | n=12 | min 9.10% | mean 11.40%" (the EDF legend).
std::string sweep_legend(const Json& sweep) {
  const Json& err = at(sweep, "error");
  return sweep_name(sweep) + " | n=" + render::num(number(sweep, "n"), 12) + " | min " +
         percent(number(err, "min")) + "% | mean " + percent(number(err, "mean")) + "%";
}

// Whether the document compares sweeps pair by pair (a "paired" row).
bool has_paired(const Json& doc) {
  const Json& rows = at(doc, "paired");
  return rows.is_array() && !rows.empty();
}

// ---- sections ----

void header(std::string& out, const Json& doc) {
  const Json& s0 = at(doc, "sweeps")[0];
  out += "<header>\n<h1>Design-space report: <span class=\"name\">" + h(sweep_name(s0)) +
         "</span></h1>\n";
  std::string meta = "family <b>" + h(render::text(s0, "family")) + "</b>";
  if (!at(s0, "parent").is_null())
    meta += " &middot; refines <span class=\"name\">" + h(render::text(s0, "parent")) + "</span>";
  if (number(s0, "seed")) meta += " &middot; seed " + h(render::text(s0, "seed"));
  meta += " &middot; created " + h(render::utc(number(s0, "created_at")));
  meta += " &middot; " + (number(s0, "finished_at")
                              ? "finished " + h(render::utc(number(s0, "finished_at")))
                              : std::string("not finished"));
  out += "<p class=\"meta\">" + meta + "</p>\n";
  out += "<p class=\"meta\">Generated " + h(render::text(doc, "generated_at")) + " by nds " +
         h(render::text(doc, "nds_version")) + ". Errors are top-1 test errors in percent.</p>\n";
  out +=
      "<nav><a href=\"#sweeps\">Sweeps</a><a href=\"#edf\">Error distributions</a>"
      "<a href=\"#search\">Random search</a><a href=\"#complexity\">Complexity</a>"
      "<a href=\"#parameters\">Parameters</a><a href=\"#ks\">KS tests</a>" +
      std::string(has_paired(doc) ? "<a href=\"#paired\">Paired</a>" : "") +
      "<a href=\"#models\">Best and worst</a><a href=\"#curves\">Training curves</a>"
      "<a href=\"#efit\">Width fit</a></nav>\n</header>\n";
  const auto n = number(s0, "n");
  if (!n || *n <= 0) {
    const Json& counts = at(s0, "counts");
    std::string states;
    for (const char* st : render::kTrialStates) {
      if (!states.empty()) states += ", ";
      states += render::num(number(counts, st), 12) + " " + st;
    }
    out +=
        "<div class=\"note empty\"><strong>No completed trials.</strong> Sweep <span "
        "class=\"name\">" +
        h(sweep_name(s0)) + "</span> has no completed trials yet (" + h(states) +
        "), so there is nothing to analyse; the sections below show what is known.</div>\n";
  }
}

void sweeps_section(std::string& out, const Json& doc) {
  const Json& sweeps = at(doc, "sweeps");
  out +=
      "<section id=\"sweeps\">\n<h2>Sweeps</h2>\n<div class=\"scroll\"><table>\n<tr><th "
      "class=\"l\">sweep</th><th class=\"l\">family</th><th class=\"l\">data</th><th "
      "class=\"l\">parent</th>";
  for (const char* st : render::kTrialStates) out += std::string("<th>") + st + "</th>";
  out += "<th>analysed (n)</th><th>min err %</th><th>median</th><th>mean</th><th>max</th></tr>\n";
  for (const Json& s : sweeps) {
    const Json& counts = at(s, "counts");
    const Json& err = at(s, "error");
    out += "<tr><td class=\"l name\">" + h(sweep_name(s)) + "</td><td class=\"l\">" +
           h(render::text(s, "family")) + "</td><td class=\"l name\">" +
           h(render::text(s, "data")) + "</td><td class=\"l name\">" +
           h(render::text(s, "parent")) + "</td>";
    for (const char* st : render::kTrialStates)
      out += "<td>" + render::num(number(counts, st), 12) + "</td>";
    out += "<td>" + render::num(number(s, "n"), 12) + "</td>";
    for (const char* k : {"min", "median", "mean", "max"})
      out += "<td>" + percent(number(err, k)) + "</td>";
    out += "</tr>\n";
  }
  out += "</table></div>\n";
  bool first = true;
  for (const Json& s : sweeps) {
    out += std::string("<details") + (first ? " open=\"\"" : "") +
           "><summary>Design space and training recipe of <span class=\"name\">" +
           h(sweep_name(s)) + "</span></summary>\n";
    out += "<div class=\"grid\"><div><h3>Design space</h3><pre>" +
           h(render::pretty(at(s, "space"))) + "</pre></div>\n<div><h3>Training recipe</h3><pre>" +
           h(render::pretty(at(s, "recipe"))) + "</pre></div></div>\n</details>\n";
    first = false;
  }
  out += "</section>\n";
}

void edf_section(std::string& out, const Json& doc) {
  const Json& sweeps = at(doc, "sweeps");
  out += "<section id=\"edf\">\n<h2>Error distributions</h2>\n";
  svg::Plot edf(options("Error EDF", axis("top-1 error (%)"),
                        axis("cumulative fraction of models", false, 0.0, 1.0)));
  svg::Plot norm(options("Normalized error EDF", axis("top-1 error (%)"),
                         axis("cumulative fraction (normalized)", false, 0.0, 1.0)));
  size_t drawn = 0, drawn_norm = 0;
  std::vector<std::pair<std::string, std::string>> notes;  // (sweep, note)
  std::string norm_caption;
  for (size_t i = 0; i < sweeps.size(); ++i) {
    const Json& s = sweeps[i];
    const Json& e = at(s, "edf");
    const std::vector<double> x = numbers(at(e, "errors")), y = numbers(at(e, "cdf"));
    if (!x.empty() && x.size() == y.size()) {
      edf.step(x, y, i, sweep_legend(s));
      ++drawn;
    }
    const Json& ne = at(s, "normalized_edf");
    if (at(ne, "note").is_string()) {
      notes.emplace_back(sweep_name(s), render::text(ne, "note"));
      continue;
    }
    const std::vector<double> nx = numbers(at(ne, "errors")), ny = numbers(at(ne, "cdf"));
    if (nx.empty() || nx.size() != ny.size()) continue;
    std::string legend = sweep_name(s);
    if (const auto dropped = number(ne, "dropped"); dropped && *dropped > 0)
      legend += " | " + render::num(dropped, 12) + " outside the range";
    norm.step(nx, ny, i, legend);
    ++drawn_norm;
    if (norm_caption.empty()) {
      const std::vector<double> range = numbers(at(ne, "range"));
      const std::string measure = render::text(ne, "measure");
      norm_caption = "Each model weighted so that every one of " +
                     render::num(number(ne, "bins"), 6) + " log-" + measure +
                     " bins carries equal mass";
      if (range.size() == 2)
        norm_caption +=
            " over " + render::si(range[0]) + " to " + render::si(range[1]) + " " + measure;
      norm_caption += " (the NDS paper's normalized EDF: compares spaces at equal complexity).";
    }
  }
  if (drawn == 0 && drawn_norm == 0) {
    note(out, "no sweep has completed trials, so there is no error distribution to plot");
  } else {
    out += "<div class=\"grid\">\n";
    edf.subtitle("F(e): fraction of models with error below e");
    figure(out, edf);
    if (drawn_norm > 0) {
      norm.subtitle("weighted to equal mass per complexity bin");
      figure(out, norm, norm_caption);
    }
    out += "</div>\n";
  }
  for (const auto& [name, text] : notes) note(out, text, "Normalized EDF of " + name);
  out += "</section>\n";
}

void search_section(std::string& out, const Json& doc) {
  const Json& sweeps = at(doc, "sweeps");
  out += "<section id=\"search\">\n<h2>Random search efficiency</h2>\n";
  svg::Plot plot(options("Best error among m random models",
                         axis("models sampled, m (log scale)", true),
                         axis("best top-1 error (%)")));
  plot.subtitle("expected minimum over m draws; band: 25th to 75th percentile");
  size_t drawn = 0;
  for (size_t i = 0; i < sweeps.size(); ++i) {
    const Json& rs = at(sweeps[i], "random_search");
    if (at(rs, "note").is_string()) {
      note(out, render::text(rs, "note"), "Random search of " + sweep_name(sweeps[i]));
      continue;
    }
    if (!rs.is_array() || rs.empty()) continue;
    std::vector<double> m, best, lo, hi, bm;
    for (const Json& r : rs) {
      const auto mm = number(r, "m"), e = number(r, "expected_best");
      if (!mm || !e) continue;
      m.push_back(*mm);
      best.push_back(*e);
      const auto a = number(r, "p25"), b = number(r, "p75");
      if (a && b) {
        bm.push_back(*mm);
        lo.push_back(*a);
        hi.push_back(*b);
      }
    }
    if (m.empty()) continue;
    plot.band(bm, lo, hi, i);
    plot.line(m, best, i, sweep_name(sweeps[i]), false, m.size() <= 40);
    ++drawn;
  }
  if (drawn == 0) {
    note(out, "no sweep has completed trials, so there is no random-search curve");
  } else {
    out += "<div class=\"grid\">\n";
    figure(out, plot,
           "How fast random search finds a good model in each space: the expected best error "
           "of m models drawn at random from the completed ones.");
    out += "</div>\n";
  }
  out += "</section>\n";
}

// One error-vs-measure scatter of the main sweep, with the reference
// models as labelled markers.
svg::Plot complexity_plot(const char* measure, const Json& points, const Json& refs,
                          const std::string& name, const std::string& subtitle) {
  double largest = 0;
  std::vector<std::pair<double, double>> pts;
  if (points.is_array()) {
    for (const Json& p : points) {
      const auto v = number(p, measure), e = number(p, "error");
      if (v && e) {
        pts.emplace_back(*v, *e);
        largest = std::max(largest, *v);
      }
    }
  }
  if (refs.is_array())
    for (const Json& r : refs)
      if (const auto v = number(r, measure)) largest = std::max(largest, *v);
  const render::Unit unit = render::unit_for(measure, largest, true);
  for (auto& p : pts) p.first /= unit.scale;
  svg::Plot plot(
      options("Error vs " + std::string(measure), axis(unit.label, true), axis("top-1 error (%)")));
  plot.subtitle(subtitle);
  plot.scatter(pts, 0, name);
  if (refs.is_array()) {
    for (const Json& r : refs) {
      const auto v = number(r, measure), e = number(r, "error");
      if (!v || !e) continue;
      std::string label = render::text(r, "name");
      if (const auto pct = number(r, "percentile")) label += " (" + ordinal(*pct) + " pct)";
      plot.marker(*v / unit.scale, *e, label, 3);
    }
  }
  return plot;
}

void reference_table(std::string& out, const Json& refs) {
  out +=
      "<h3>Reference models (fixed points trained in the sweep)</h3>\n<table>\n<tr><th "
      "class=\"l\">model</th><th>error %</th><th>percentile in the sweep</th><th>flops</th>"
      "<th>params</th><th>acts</th></tr>\n";
  for (const Json& r : refs) {
    out += "<tr><td class=\"l name\">" + h(render::text(r, "name")) + "</td><td>" +
           percent(number(r, "error")) + "</td><td>" + render::num(number(r, "percentile"), 3) +
           "</td><td>" + render::si(number(r, "flops")) + "</td><td>" +
           render::si(number(r, "params")) + "</td><td>" + render::si(number(r, "acts")) +
           "</td></tr>\n";
  }
  out += "</table>\n";
}

void complexity_section(std::string& out, const Json& doc) {
  out += "<section id=\"complexity\">\n<h2>Error vs complexity</h2>\n";
  const Json& scatter = at(doc, "scatter");
  const Json& points = at(scatter, "points");
  const Json& refs = at(doc, "references");
  if (at(scatter, "note").is_string()) {
    note(out, render::text(scatter, "note"));
    out += "</section>\n";
    return;
  }
  if ((!points.is_array() || points.empty()) && (!refs.is_array() || refs.empty())) {
    note(out, "no completed trials to plot");
    out += "</section>\n";
    return;
  }
  const std::string name = sweep_name(at(doc, "sweeps")[0]);
  const auto total = number(scatter, "total");
  const size_t shown = points.is_array() ? points.size() : 0;
  std::string subtitle = render::num(static_cast<double>(shown), 12) + " models";
  if (total && *total > static_cast<double>(shown))
    subtitle = render::num(static_cast<double>(shown), 12) + " of " + render::num(total, 12) +
               " models shown (downsampled)";
  out += "<div class=\"grid\">\n";
  for (const char* measure : {"flops", "params", "acts"})
    figure(out, complexity_plot(measure, points, refs, name, subtitle));
  out += "</div>\n";
  if (refs.is_array() && !refs.empty()) reference_table(out, refs);
  out += "</section>\n";
}

// "good range (bootstrap 2.5-97.5%, best 25%)" when the document says how.
std::string good_range_legend(const Json& doc) {
  const Json& boot = at(doc, "bootstrap");
  std::string good_legend = "good range (bootstrap";
  if (const auto lp = number(boot, "low_percentile"), hp = number(boot, "high_percentile");
      lp && hp)
    good_legend += " " + svg::compact(*lp, 3) + "\xE2\x80\x93" + svg::compact(*hp, 3) + "%";
  if (const auto f = number(boot, "fraction"))
    good_legend += ", best " + svg::compact(100 * *f, 3) + "%";
  return good_legend + ")";
}

// The binned trend: mean error per bin at the bin's centre, +/- 2 std band.
void add_trend(svg::Plot& plot, const Json& trend, bool log, double scale) {
  std::vector<double> tx, tm, tlo, thi;
  if (trend.is_array()) {
    for (const Json& b : trend) {
      const auto blo = number(b, "lo"), bhi = number(b, "hi"), mean = number(b, "mean");
      const auto sd = number(b, "std"), count = number(b, "count");
      if (!blo || !bhi || !mean || (count && *count <= 0)) continue;
      double mid = (*blo + *bhi) / 2;
      if (log && *blo > 0 && *bhi > 0) mid = std::sqrt(*blo * *bhi);
      tx.push_back(mid / scale);
      tm.push_back(*mean);
      tlo.push_back(*mean - 2 * sd.value_or(0));
      thi.push_back(*mean + 2 * sd.value_or(0));
    }
  }
  if (!tx.empty()) {
    plot.band(tx, tlo, thi, 1, "trend: mean \xC2\xB1 2 std per bin", 0.14);
    plot.line(tx, tm, 1, "trend: mean error per bin", false, true);
  }
}

// One parameter's error scatter over its design-space range, its good range
// and median, and the binned trend.
svg::Plot parameter_plot(const Json& p, const std::string& good_legend) {
  const std::string name = render::text(p, "name");
  const bool log = at(p, "log_scale").is_boolean() && at(p, "log_scale").get<bool>();
  std::vector<std::pair<double, double>> pts;
  double largest = 0;
  if (at(p, "points").is_array()) {
    for (const Json& pt : at(p, "points")) {
      const std::vector<double> xy = numbers(pt);
      if (xy.size() != 2 || !pt.is_array() || pt.size() != 2) continue;
      pts.emplace_back(xy[0], xy[1]);
      largest = std::max(largest, std::fabs(xy[0]));
    }
  }
  const render::Unit unit = render::unit_for(name, largest, log);
  const auto u = [&](double v) { return v / unit.scale; };
  for (auto& q : pts) q.first = u(q.first);
  svg::Plot plot(options("Error vs " + name, axis(unit.label, log), axis("top-1 error (%)")));
  const std::vector<double> space = numbers(at(p, "space_range"));
  if (space.size() == 2) plot.x_range(u(space[0]), u(space[1]), 7, "design space range", 0.06);
  const Json& good = at(p, "good_range");
  const auto lo = number(good, "low"), hi = number(good, "high"), med = number(good, "median");
  std::string subtitle;
  if (lo && hi) {
    plot.x_range(u(*lo), u(*hi), 2, good_legend);
    if (med) plot.x_line(u(*med), 2, "good-range median");
    subtitle = "good range " + svg::compact(u(*lo), 4) + " to " + svg::compact(u(*hi), 4);
    if (med) subtitle += ", median " + svg::compact(u(*med), 4);
  } else if (at(p, "note").is_string()) {
    subtitle = "no good range: " + render::text(p, "note");
  } else if (at(good, "note").is_string()) {
    subtitle = "no good range: " + render::text(good, "note");
  }
  plot.subtitle(subtitle);
  plot.scatter(pts, 0, "models", pts.size() > 500 ? 1.8 : 2.6, 0.6);
  add_trend(plot, at(p, "trend"), log, unit.scale);
  return plot;
}

void parameters_section(std::string& out, const Json& doc) {
  out += "<section id=\"parameters\">\n<h2>Error vs design parameters</h2>\n";
  const Json& params = at(doc, "parameters");
  if (!params.is_array()) {
    if (at(params, "note").is_string()) {
      note(out, render::text(params, "note"));
    } else {
      note(out, "no design parameters in the document");
    }
    out += "</section>\n";
    return;
  }
  if (params.empty()) note(out, "the family has no numeric design parameters to plot");
  const std::string good_legend = good_range_legend(doc);
  out += "<div class=\"grid\">\n";
  std::vector<std::pair<std::string, std::string>> notes;
  for (const Json& p : params) {
    if (at(p, "note").is_string() && !at(p, "points").is_array()) {
      notes.emplace_back(render::text(p, "name"), render::text(p, "note"));
      continue;
    }
    figure(out, parameter_plot(p, good_legend));
  }
  out += "</div>\n";
  for (const auto& [name, text] : notes) note(out, text, name);
  out += "</section>\n";
}

// A KS row's notes: on the test itself and on its normalized variant.
std::string ks_note(const Json& r) {
  std::string note_text = render::text(r, "note");
  const std::string normalized = render::text(r, "note_normalized");
  if (!normalized.empty())
    note_text += (note_text.empty() ? "" : "; ") + std::string("normalized: ") + normalized;
  return note_text;
}

void ks_section(std::string& out, const Json& doc) {
  out += "<section id=\"ks\">\n<h2>Kolmogorov&ndash;Smirnov tests</h2>\n";
  const Json& ks = at(doc, "ks");
  if (!ks.is_array() || ks.empty()) {
    note(out,
         "one sweep only: pass --compare NAME to compare its error distribution with "
         "other sweeps");
    out += "</section>\n";
    return;
  }
  out +=
      "<p class=\"meta\">D: the largest gap between the two EDFs; p: the two-sided p-value "
      "(small: the spaces differ).</p>\n<div class=\"scroll\"><table>\n<tr><th "
      "class=\"l\">sweep A</th><th class=\"l\">sweep B</th><th>D</th><th>p</th><th>D "
      "(normalized)</th><th>p (normalized)</th><th class=\"l\">note</th></tr>\n";
  for (const Json& r : ks) {
    out += "<tr><td class=\"l name\">" + h(render::text(r, "a")) + "</td><td class=\"l name\">" +
           h(render::text(r, "b")) + "</td><td>" + render::num(number(r, "d")) + "</td><td>" +
           render::num(number(r, "p")) + "</td><td>" + render::num(number(r, "d_normalized")) +
           "</td><td>" + render::num(number(r, "p_normalized")) + "</td><td class=\"l\">" +
           h(ks_note(r)) + "</td></tr>\n";
  }
  out += "</table></div>\n</section>\n";
}

// The paired comparisons' numbers, one row per compared sweep.
void paired_table(std::string& out, const Json& rows) {
  out +=
      "<div class=\"scroll\"><table>\n<tr><th class=\"l\">sweep A</th><th class=\"l\">sweep B</th>";
  for (const char* head : {"pairs", "Spearman &rho; [95%]", "Kendall &tau; [95%]", "top-k shared",
                           "mean B &minus; A", "sd"})
    out += std::string("<th>") + head + "</th>";
  out += "<th class=\"l\">note</th></tr>\n";
  for (const Json& r : rows) {
    const Json& diff = at(r, "difference");
    const std::string numbers[] = {
        render::num(number(r, "n_pairs"), 12), h(correlation(at(r, "spearman"))),
        h(correlation(at(r, "kendall"))),      h(top_overlap(at(r, "top_k"))),
        render::num(number(diff, "mean")),     render::num(number(diff, "sd"))};
    out += "<tr><td class=\"l name\">" + h(render::text(r, "a")) + "</td><td class=\"l name\">" +
           h(render::text(r, "b")) + "</td>";
    for (const std::string& cell : numbers) out += "<td>" + cell + "</td>";
    out += "<td class=\"l\">" + h(render::text(r, "note")) + "</td></tr>\n";
  }
  out += "</table></div>\n";
}

// The pairs' points with how many models sit on each: equal errors in
// both sweeps put several models on one spot.
std::map<std::pair<double, double>, size_t> paired_points(const Json& row) {
  std::map<std::pair<double, double>, size_t> out;
  const Json& points = at(at(row, "pairs"), "points");
  if (!points.is_array()) return out;
  for (const Json& p : points) {
    if (!p.is_array() || p.size() < 3) continue;
    const auto a = number(p[1]), b = number(p[2]);
    if (a && b) ++out[{*a, *b}];
  }
  return out;
}

// The scatter's caption: the statistics, and how many dots stand for tied
// models.
std::string paired_caption(const Json& row, size_t tied_spots, size_t most) {
  std::string caption =
      "Each dot is a model both sweeps trained; below the diagonal it has a "
      "lower error in " +
      render::text(row, "b") + ". Spearman \u03c1 " + correlation(at(row, "spearman")) +
      ", Kendall \u03c4 " + correlation(at(row, "kendall")) + ".";
  if (tied_spots > 0)
    caption += " " + std::to_string(tied_spots) +
               (tied_spots == 1 ? " dot stands" : " dots stand") +
               " for several models with the same errors in both; a dot's area grows "
               "with its count (at most " +
               std::to_string(most) + " models here).";
  const Json& pairs = at(row, "pairs");
  if (at(pairs, "downsampled").is_boolean() && at(pairs, "downsampled").get<bool>())
    caption +=
        " Shown: a seeded subset of the " + render::num(number(pairs, "total"), 12) + " pairs.";
  if (!render::text(row, "note").empty()) caption += " " + render::text(row, "note") + ".";
  return caption;
}

// Error in A against error in B on equal axes, with the diagonal y = x
// (the same error under both recipes). A spot holding m models is one dot
// of m times the area, so tied models stay visible.
void paired_plot(std::string& out, const Json& row) {
  const auto points = paired_points(row);
  if (points.empty()) return;
  double lo = points.begin()->first.first, hi = lo;
  std::map<size_t, std::vector<std::pair<double, double>>> by_count;
  for (const auto& [p, m] : points) {
    lo = std::min({lo, p.first, p.second});
    hi = std::max({hi, p.first, p.second});
    by_count[m].push_back(p);
  }
  const double pad = hi > lo ? (hi - lo) * 0.05 : 1.0;
  const std::string a = render::text(row, "a"), b = render::text(row, "b");
  svg::Plot plot(options("Paired errors: " + a + " vs " + b,
                         axis("top-1 error in " + a + " (%)", false, lo - pad, hi + pad),
                         axis("top-1 error in " + b + " (%)", false, lo - pad, hi + pad), 460,
                         474));
  plot.line({lo - pad, hi + pad}, {lo - pad, hi + pad}, 7, "y = x: the same error in both", true);
  size_t tied_spots = 0;
  for (const auto& [m, spots] : by_count) {
    std::string legend;
    if (m == 1) legend = "one model";
    if (m > 1 && tied_spots == 0) legend = "several models (area ~ count)";
    const double area = static_cast<double>(std::min<size_t>(m, 50));
    plot.scatter(spots, 0, legend, 2.6 * std::sqrt(area));
    if (m > 1) tied_spots += spots.size();
  }
  figure(out, plot, paired_caption(row, tied_spots, by_count.rbegin()->first));
}

void paired_section(std::string& out, const Json& doc) {
  if (!has_paired(doc)) return;
  const Json& rows = at(doc, "paired");
  out +=
      "<section id=\"paired\">\n<h2>Paired comparison: do the sweeps rank models alike?</h2>\n"
      "<p class=\"meta\">The models both sweeps trained (the same model hash, fixed points "
      "included), paired: Spearman's &rho; and Kendall's &tau; between their errors with "
      "bootstrap 95% intervals, how many of the best 10% (top k) the two sweeps share, and the "
      "error difference B &minus; A. Close to 1: sweep A's recipe ranks models as sweep B's "
      "does.</p>\n";
  paired_table(out, rows);
  out += "<div class=\"grid\">\n";
  for (const Json& r : rows) paired_plot(out, r);
  out += "</div>\n</section>\n";
}

void model_table(std::string& out, const Json& list, const char* which) {
  out += std::string("<h3>") + which +
         " models</h3>\n<div class=\"scroll\"><table>\n<tr><th>#</th><th>sample</th><th "
         "class=\"l\">hash</th><th>error %</th><th>flops</th><th>params</th><th>e_fit</th>"
         "<th class=\"l\">fitted rule</th><th class=\"l\">family parameters</th></tr>\n";
  size_t rank = 1;
  for (const Json& m : list) {
    const Json& fit = at(m, "fit");
    std::string rule = "n/a";
    if (fit.is_object())
      rule = "w_0=" + render::num(number(fit, "w_0")) + " w_a=" + render::num(number(fit, "w_a")) +
             " w_m=" + render::num(number(fit, "w_m"));
    out += "<tr><td>" + std::to_string(rank++) + "</td><td>" +
           render::num(number(m, "sample_index"), 12) + "</td><td class=\"l name\">" +
           h(render::text(m, "hash")) + "</td><td>" + percent(number(m, "error")) + "</td><td>" +
           render::si(number(m, "flops")) + "</td><td>" + render::si(number(m, "params")) +
           "</td><td>" + render::num(number(fit, "e_fit"), 3) + "</td><td class=\"l\">" + h(rule) +
           "</td><td class=\"l\"><code>" + h(render::one_line(at(m, "family_params"))) +
           "</code></td></tr>\n";
  }
  out += "</table></div>\n";
}

void width_plots(std::string& out, const Json& list, const char* which) {
  size_t rank = 1;
  for (const Json& m : list) {
    const std::vector<double> w = numbers(at(m, "widths"));
    const std::string title = std::string(which) + " #" + std::to_string(rank++) + ": sample " +
                              render::num(number(m, "sample_index"), 12) + ", " +
                              percent(number(m, "error")) + "%";
    if (w.empty()) continue;
    const Json& fit = at(m, "fit");
    const std::vector<double> fw = numbers(at(fit, "widths"));
    // Block j (from 1) spans [j - 0.5, j + 0.5): widths as steps.
    const double blocks = static_cast<double>(std::max(w.size(), fw.size()));
    svg::Plot plot(options(title, axis("block index", false, 0.5, blocks + 0.5, true),
                           axis("width (channels, log scale)", true), 380, 270));
    const auto edges = [](size_t n) {
      std::vector<double> x(n);
      for (size_t j = 0; j < n; ++j) x[j] = static_cast<double>(j) + 0.5;
      return x;
    };
    plot.step(edges(w.size()), w, 0, "block widths", false, false);
    if (!fw.empty()) {
      plot.step(edges(fw.size()), fw, 3, "quantized linear fit", true, false);
      plot.subtitle("fit w_0=" + render::num(number(fit, "w_0")) + " w_a=" +
                    render::num(number(fit, "w_a")) + " w_m=" + render::num(number(fit, "w_m")) +
                    ", e_fit=" + render::num(number(fit, "e_fit"), 3));
    } else {
      plot.subtitle("no width fit");
    }
    figure(out, plot);
  }
}

void models_section(std::string& out, const Json& doc) {
  out += "<section id=\"models\">\n<h2>Best and worst models</h2>\n";
  const Json& models = at(doc, "models");
  const Json& best = at(models, "best");
  const Json& worst = at(models, "worst");
  if (at(models, "note").is_string()) note(out, render::text(models, "note"));
  const bool has_best = best.is_array() && !best.empty();
  const bool has_worst = worst.is_array() && !worst.empty();
  if (!has_best && !has_worst) {
    if (!at(models, "note").is_string()) note(out, "no completed models");
    out += "</section>\n";
    return;
  }
  if (has_best) model_table(out, best, "Best");
  if (has_worst) model_table(out, worst, "Worst");
  out +=
      "<h3>Per-block widths</h3>\n<p class=\"meta\">Output width of every block, in order, "
      "with the quantized linear rule fitted to them (RegNet: w_j = w_0 "
      "&middot; w_m<sup>s_j</sup>, quantized).</p>\n<div class=\"grid small\">\n";
  if (has_best) width_plots(out, best, "best");
  if (has_worst) width_plots(out, worst, "worst");
  out += "</div>\n</section>\n";
}

void curves_section(std::string& out, const Json& doc) {
  out += "<section id=\"curves\">\n<h2>Training curves</h2>\n";
  const Json& best = at(at(doc, "models"), "best");
  svg::Plot plot(options("Test error per epoch of the best models",
                         axis("epoch", false, std::nullopt, std::nullopt, true),
                         axis("test top-1 error (%)")));
  size_t drawn = 0;
  if (best.is_array()) {
    size_t rank = 0;
    for (const Json& m : best) {
      ++rank;
      std::vector<double> x, y;
      if (at(m, "epochs").is_array()) {
        for (const Json& e : at(m, "epochs")) {
          const auto ep = number(e, "epoch"), err = number(e, "test_top1_err");
          if (ep && err) {
            x.push_back(*ep);
            y.push_back(*err);
          }
        }
      }
      if (x.empty()) continue;
      plot.line(x, y, drawn,
                "#" + std::to_string(rank) + " sample " +
                    render::num(number(m, "sample_index"), 12) + " (final " +
                    percent(number(m, "error")) + "%)",
                false, x.size() <= 60);
      ++drawn;
    }
  }
  if (drawn == 0) {
    note(out, "no per-epoch metrics stored for the best models");
  } else {
    out += "<div class=\"grid\">\n";
    figure(out, plot);
    out += "</div>\n";
  }
  out += "</section>\n";
}

void efit_section(std::string& out, const Json& doc) {
  out += "<section id=\"efit\">\n<h2>Width-fit quality (e_fit)</h2>\n";
  const Json& ef = at(doc, "e_fit");
  const std::vector<double> values = numbers(at(ef, "values"));
  if (at(ef, "note").is_string() || values.empty()) {
    note(out, at(ef, "note").is_string() ? render::text(ef, "note") : "no width fits");
    out += "</section>\n";
    return;
  }
  const double mx = *std::max_element(values.begin(), values.end());
  const int bins = 24;
  const double width = mx > 0 ? mx / bins : 0.01;
  std::vector<double> edges, counts(bins, 0);
  for (int i = 0; i <= bins; ++i) edges.push_back(width * i);
  for (double v : values) {
    const int b = std::clamp(static_cast<int>(std::floor(std::max(v, 0.0) / width)), 0, bins - 1);
    counts[static_cast<size_t>(b)] += 1;
  }
  svg::Plot plot(options("Distribution of e_fit", axis("e_fit: mean |log(fitted / actual width)|"),
                         axis("models")));
  plot.subtitle("min " + render::num(number(ef, "min"), 3) + ", median " +
                render::num(number(ef, "median"), 3) + ", max " +
                render::num(number(ef, "max"), 3) + "; exact fits (e_fit = 0): " +
                (number(ef, "zero_fraction") ? svg::fixed(100 * *number(ef, "zero_fraction"), 1)
                                             : std::string("n/a")) +
                "%");
  plot.bars(edges, counts, 0, render::num(static_cast<double>(values.size()), 12) + " models");
  out += "<div class=\"grid\">\n";
  std::string caption =
      "How closely each model's per-block widths follow a quantized linear rule (the RegNet "
      "paper's e_fit; 0: exactly).";
  if (at(ef, "by_construction").is_boolean() && at(ef, "by_construction").get<bool>())
    caption += " The family generates its widths by this rule, so every fit is exact.";
  if (at(ef, "sampled").is_boolean() && at(ef, "sampled").get<bool>())
    caption += " Fitted on a random subsample of " + render::num(number(ef, "count"), 12) +
               " of the " + render::num(number(ef, "total"), 12) + " models.";
  figure(out, plot, caption);
  out += "</div>\n</section>\n";
}

}  // namespace

std::string render_html(const nlohmann::json& doc) {
  render::check_document(doc);
  const std::string name = sweep_name(at(doc, "sweeps")[0]);
  std::string out;
  out.reserve(1 << 20);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      // No scripts and no fetches, even if something slipped through.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">\n<title>nds report: " +
      h(name) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  header(out, doc);
  sweeps_section(out, doc);
  edf_section(out, doc);
  search_section(out, doc);
  complexity_section(out, doc);
  parameters_section(out, doc);
  ks_section(out, doc);
  paired_section(out, doc);
  models_section(out, doc);
  curves_section(out, doc);
  efit_section(out, doc);
  out += "<footer>nds " + h(render::text(doc, "nds_version")) +
         " &middot; a self-contained page: inline SVG, no scripts, no network. The numbers "
         "behind every plot: <code>nds report --format json</code>.</footer>\n</main>\n</body>\n"
         "</html>\n";
  return out;
}

}  // namespace nds::reports
