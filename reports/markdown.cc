#include "reports/markdown.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "reports/render_util.h"
#include "reports/svg.h"

namespace nds::reports {
namespace {

using namespace render;  // the document readers and formatters (render_util.h)

std::string md(const std::string& s) {
  return markdown_escape(s);
}

std::string row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const std::string& c : cells) out += " " + (c.empty() ? std::string(" ") : c) + " |";
  return out + "\n";
}

// A header row and its separator; `left` columns are left-aligned, the rest right.
std::string table_head(const std::vector<std::string>& cells, size_t left = 1) {
  std::string sep = "|";
  for (size_t i = 0; i < cells.size(); ++i) sep += i < left ? " :--- |" : " ---: |";
  return row(cells) + sep + "\n";
}

std::string note(const std::string& text) {
  return "> **Note:** " + md(text) + "\n\n";
}

// A fenced code block whose fence is longer than any backtick run inside.
std::string code_block(const std::string& body, const char* info) {
  size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<size_t>(3, longest + 1), '`');
  return fence + info + "\n" + body + "\n" + fence + "\n\n";
}

std::string name_of(const Json& s) {
  return render::text(s, "name");
}

// The error at which an EDF reaches `q` (the smallest e with F(e) >= q).
std::string quantile(const std::vector<double>& x, const std::vector<double>& cdf, double q) {
  for (size_t i = 0; i < x.size() && i < cdf.size(); ++i)
    if (cdf[i] >= q - 1e-12) return percent(x[i]);
  return "n/a";
}

void header(std::string& out, const Json& doc) {
  const Json& s0 = at(doc, "sweeps")[0];
  out += "# Design-space report: " + md(name_of(s0)) + "\n\n";
  out += "Family **" + md(render::text(s0, "family")) + "**";
  if (!at(s0, "parent").is_null()) out += ", refines " + md(render::text(s0, "parent"));
  if (number(s0, "seed")) out += ", seed " + render::text(s0, "seed");
  out += ", created " + render::utc(number(s0, "created_at")) + ", ";
  out += number(s0, "finished_at") ? "finished " + render::utc(number(s0, "finished_at"))
                                   : std::string("not finished");
  out += ". Generated " + md(render::text(doc, "generated_at")) + " by nds " +
         md(render::text(doc, "nds_version")) + ". Errors are top-1 test errors in percent.\n\n";
  const auto n = number(s0, "n");
  if (!n || *n <= 0)
    out += "> **No completed trials.** Sweep " + md(name_of(s0)) +
           " has no completed trials yet, so there is nothing to analyse.\n\n";
}

void sweeps(std::string& out, const Json& doc) {
  out += "## Sweeps\n\n";
  std::vector<std::string> head = {"sweep", "family", "data", "parent"};
  for (const char* st : render::kTrialStates) head.push_back(st);
  for (const char* c : {"n", "min err %", "median", "mean", "max"}) head.push_back(c);
  out += table_head(head, 4);
  for (const Json& s : at(doc, "sweeps")) {
    const Json& counts = at(s, "counts");
    const Json& err = at(s, "error");
    std::vector<std::string> r = {md(name_of(s)), md(render::text(s, "family")),
                                  md(render::text(s, "data")), md(render::text(s, "parent"))};
    for (const char* st : render::kTrialStates) r.push_back(render::num(number(counts, st), 12));
    r.push_back(render::num(number(s, "n"), 12));
    for (const char* k : {"min", "median", "mean", "max"}) r.push_back(percent(number(err, k)));
    out += row(r);
  }
  out += "\n";
  for (const Json& s : at(doc, "sweeps")) {
    out += "### Design space of " + md(name_of(s)) + "\n\n" +
           code_block(render::pretty(at(s, "space")), "json");
    out += "### Training recipe of " + md(name_of(s)) + "\n\n" +
           code_block(render::pretty(at(s, "recipe")), "json");
  }
}

void distributions(std::string& out, const Json& doc) {
  out +=
      "## Error distributions\n\nQuantiles of each sweep's error EDF (and of its normalized "
      "EDF, which weights models to equal mass per complexity bin).\n\n";
  out += table_head({"sweep", "EDF", "n", "10%", "25%", "50%", "75%", "90%"}, 2);
  std::string notes;
  for (const Json& s : at(doc, "sweeps")) {
    const std::vector<std::pair<const char*, const Json*>> kinds = {
        {"raw", &at(s, "edf")}, {"normalized", &at(s, "normalized_edf")}};
    for (const auto& [kind, e] : kinds) {
      if (at(*e, "note").is_string()) {
        notes +=
            note(std::string(kind) + " EDF of " + name_of(s) + ": " + render::text(*e, "note"));
        continue;
      }
      const std::vector<double> x = numbers(at(*e, "errors")), y = numbers(at(*e, "cdf"));
      if (x.empty() || x.size() != y.size()) continue;
      std::vector<std::string> r = {md(name_of(s)), kind,
                                    render::num(static_cast<double>(x.size()), 12)};
      for (double q : {0.1, 0.25, 0.5, 0.75, 0.9}) r.push_back(quantile(x, y, q));
      out += row(r);
    }
  }
  out += "\n" + notes;
}

void search(std::string& out, const Json& doc) {
  out +=
      "## Random search efficiency\n\nExpected best error (%) among m models drawn at random "
      "(25th to 75th percentile in brackets).\n\n";
  const Json& all = at(doc, "sweeps");
  // The m values any sweep has, in order.
  std::vector<double> ms;
  for (const Json& s : all)
    if (at(s, "random_search").is_array())
      for (const Json& r : at(s, "random_search"))
        if (const auto m = number(r, "m")) ms.push_back(*m);
  std::sort(ms.begin(), ms.end());
  ms.erase(std::unique(ms.begin(), ms.end()), ms.end());
  if (ms.empty()) {
    out += note("no sweep has completed trials");
    return;
  }
  std::vector<std::string> head = {"m"};
  for (const Json& s : all) head.push_back(md(name_of(s)));
  out += table_head(head, 0);
  for (double m : ms) {
    std::vector<std::string> r = {svg::compact(m, 12)};
    for (const Json& s : all) {
      std::string cell = "n/a";
      if (at(s, "random_search").is_array())
        for (const Json& e : at(s, "random_search"))
          if (number(e, "m") == m) {
            cell = percent(number(e, "expected_best"));
            if (number(e, "p25") && number(e, "p75"))
              cell += " (" + percent(number(e, "p25")) + "–" + percent(number(e, "p75")) + ")";
          }
      r.push_back(cell);
    }
    out += row(r);
  }
  out += "\n";
}

void complexity(std::string& out, const Json& doc) {
  out += "## Error vs complexity\n\n";
  const Json& scatter = at(doc, "scatter");
  if (at(scatter, "note").is_string()) {
    out += note(render::text(scatter, "note"));
  } else {
    const Json& pts = at(scatter, "points");
    if (!pts.is_array() || pts.empty()) {
      out += note("no completed trials to summarize");
    } else {
      out += table_head(
          {"measure", "min", "max", "error % of the smallest", "error % of the largest"}, 1);
      for (const char* measure : {"flops", "params", "acts"}) {
        const Json* lo = nullptr;
        const Json* hi = nullptr;
        for (const Json& p : pts) {
          const auto v = number(p, measure);
          if (!v) continue;
          if (!lo || *v < *number(*lo, measure)) lo = &p;
          if (!hi || *v > *number(*hi, measure)) hi = &p;
        }
        if (!lo) continue;
        out += row({measure, render::si(number(*lo, measure)), render::si(number(*hi, measure)),
                    percent(number(*lo, "error")), percent(number(*hi, "error"))});
      }
      out += "\n";
      const auto total = number(scatter, "total");
      out += "Models: " + render::num(total ? total : static_cast<double>(pts.size()), 12) +
             " (the HTML report plots them).\n\n";
    }
  }
  const Json& refs = at(doc, "references");
  if (refs.is_array() && !refs.empty()) {
    out += "### Reference models\n\n";
    out += table_head({"model", "error %", "percentile", "flops", "params", "acts"}, 1);
    for (const Json& r : refs)
      out += row({md(render::text(r, "name")), percent(number(r, "error")),
                  render::num(number(r, "percentile"), 3), render::si(number(r, "flops")),
                  render::si(number(r, "params")), render::si(number(r, "acts"))});
    out += "\n";
  }
}

void parameters(std::string& out, const Json& doc) {
  out += "## Error vs design parameters\n\n";
  const Json& params = at(doc, "parameters");
  if (!params.is_array() || params.empty()) {
    out += note(at(params, "note").is_string() ? render::text(params, "note")
                                               : "no numeric design parameters");
    return;
  }
  out += "Good range: the bootstrap interval of the parameter among the best models.\n\n";
  out += table_head(
      {"parameter", "scale", "good low", "median", "good high", "space range", "note"}, 2);
  for (const Json& p : params) {
    const Json& g = at(p, "good_range");
    const std::vector<double> space = numbers(at(p, "space_range"));
    std::string note_text = render::text(p, "note");
    if (note_text.empty()) note_text = render::text(g, "note");
    const bool log = at(p, "log_scale").is_boolean() && at(p, "log_scale").get<bool>();
    out +=
        row({md(render::text(p, "name")), log ? "log" : "linear", render::num(number(g, "low"), 6),
             render::num(number(g, "median"), 6), render::num(number(g, "high"), 6),
             space.size() == 2 ? render::num(space[0], 6) + " to " + render::num(space[1], 6)
                               : std::string("n/a"),
             md(note_text)});
  }
  out += "\n";
  for (const Json& p : params) {
    const Json& trend = at(p, "trend");
    if (!trend.is_array() || trend.empty()) continue;
    out += "### Trend of " + md(render::text(p, "name")) + "\n\n";
    out += table_head({"bin", "models", "mean error %", "std"}, 1);
    for (const Json& b : trend)
      out += row({render::num(number(b, "lo"), 5) + " to " + render::num(number(b, "hi"), 5),
                  render::num(number(b, "count"), 12), percent(number(b, "mean")),
                  percent(number(b, "std"))});
    out += "\n";
  }
}

void ks(std::string& out, const Json& doc) {
  out += "## Kolmogorov–Smirnov tests\n\n";
  const Json& rows = at(doc, "ks");
  if (!rows.is_array() || rows.empty()) {
    out += note("one sweep only: pass --compare NAME to compare sweeps");
    return;
  }
  out += table_head({"sweep A", "sweep B", "D", "p", "D normalized", "p normalized", "note"}, 2);
  for (const Json& r : rows)
    out += row({md(render::text(r, "a")), md(render::text(r, "b")), render::num(number(r, "d")),
                render::num(number(r, "p")), render::num(number(r, "d_normalized")),
                render::num(number(r, "p_normalized")),
                md(render::text(r, "note") +
                   (render::text(r, "note_normalized").empty()
                        ? ""
                        : " normalized: " + render::text(r, "note_normalized")))});
  out += "\n";
}

// How alike sweeps[0] and each compared sweep rank the models both trained.
void paired(std::string& out, const Json& doc) {
  const Json& rows = at(doc, "paired");
  if (!rows.is_array() || rows.empty()) return;
  out +=
      "## Paired comparison\n\nThe models both sweeps trained (same model hash, fixed points "
      "included): Spearman's rho and Kendall's tau between their errors with bootstrap 95% "
      "intervals, the overlap of the two top-k sets (k = 10% of the pairs) and the error "
      "difference B - A.\n\n";
  out += table_head({"sweep A", "sweep B", "pairs", "Spearman rho [95%]", "Kendall tau [95%]",
                     "top-k shared", "mean B - A", "sd", "note"},
                    2);
  for (const Json& r : rows) {
    const Json& diff = at(r, "difference");
    out += row({md(render::text(r, "a")), md(render::text(r, "b")),
                render::num(number(r, "n_pairs"), 12), md(correlation(at(r, "spearman"))),
                md(correlation(at(r, "kendall"))), md(top_overlap(at(r, "top_k"))),
                render::num(number(diff, "mean")), render::num(number(diff, "sd")),
                md(render::text(r, "note"))});
  }
  out += "\n";
}

std::string list_text(const Json& v) {
  std::string s;
  for (double w : numbers(v)) s += (s.empty() ? "" : " ") + svg::compact(w, 6);
  return s.empty() ? "n/a" : s;
}

void models(std::string& out, const Json& doc) {
  out += "## Best and worst models\n\n";
  const Json& m = at(doc, "models");
  if (at(m, "note").is_string()) out += note(render::text(m, "note"));
  bool any = false;
  for (const char* which : {"best", "worst"}) {
    const Json& list = at(m, which);
    if (!list.is_array() || list.empty()) continue;
    any = true;
    out += std::string("### ") + (which[0] == 'b' ? "Best" : "Worst") + " models\n\n";
    out += table_head({"#", "sample", "hash", "error %", "flops", "params", "widths",
                       "fitted widths", "fit (w_0, w_a, w_m)", "e_fit", "family parameters"},
                      0);
    size_t rank = 1;
    for (const Json& e : list) {
      const Json& fit = at(e, "fit");
      out +=
          row({std::to_string(rank++), render::num(number(e, "sample_index"), 12),
               md(render::text(e, "hash")), percent(number(e, "error")),
               render::si(number(e, "flops")), render::si(number(e, "params")),
               list_text(at(e, "widths")), list_text(at(fit, "widths")),
               fit.is_object()
                   ? render::num(number(fit, "w_0")) + ", " + render::num(number(fit, "w_a")) +
                         ", " + render::num(number(fit, "w_m"))
                   : std::string("n/a"),
               render::num(number(fit, "e_fit"), 3), md(render::one_line(at(e, "family_params")))});
    }
    out += "\n";
  }
  if (!any && !at(m, "note").is_string()) out += note("no completed models");
}

void curves(std::string& out, const Json& doc) {
  out += "## Training curves\n\nTest top-1 error (%) per epoch of the best models.\n\n";
  const Json& best = at(at(doc, "models"), "best");
  std::vector<const Json*> with;
  std::vector<double> epochs;
  if (best.is_array()) {
    for (const Json& m : best) {
      if (!at(m, "epochs").is_array() || at(m, "epochs").empty()) continue;
      with.push_back(&m);
      for (const Json& e : at(m, "epochs"))
        if (const auto ep = number(e, "epoch")) epochs.push_back(*ep);
    }
  }
  std::sort(epochs.begin(), epochs.end());
  epochs.erase(std::unique(epochs.begin(), epochs.end()), epochs.end());
  if (with.empty()) {
    out += note("no per-epoch metrics stored for the best models");
    return;
  }
  std::vector<std::string> head = {"epoch"};
  for (const Json* m : with)
    head.push_back("sample " + render::num(number(*m, "sample_index"), 12));
  out += table_head(head, 0);
  for (double ep : epochs) {
    std::vector<std::string> r = {svg::compact(ep, 12)};
    for (const Json* m : with) {
      std::string cell = "n/a";
      for (const Json& e : at(*m, "epochs"))
        if (number(e, "epoch") == ep) cell = percent(number(e, "test_top1_err"));
      r.push_back(cell);
    }
    out += row(r);
  }
  out += "\n";
}

void efit(std::string& out, const Json& doc) {
  out += "## Width-fit quality (e_fit)\n\n";
  const Json& e = at(doc, "e_fit");
  if (at(e, "note").is_string()) {
    out += note(render::text(e, "note"));
    return;
  }
  const std::vector<double> values = numbers(at(e, "values"));
  if (values.empty()) {
    out += note("no width fits");
    return;
  }
  out += table_head({"models", "min", "median", "max", "exact fits (e_fit = 0)"}, 0);
  const auto zero = number(e, "zero_fraction");
  out += row({render::num(static_cast<double>(values.size()), 12), render::num(number(e, "min"), 3),
              render::num(number(e, "median"), 3), render::num(number(e, "max"), 3),
              zero ? svg::fixed(100 * *zero, 1) + "%" : std::string("n/a")});
  out += "\n";
  if (at(e, "by_construction").is_boolean() && at(e, "by_construction").get<bool>())
    out +=
        "The family generates its widths by the quantized linear rule, so every fit is "
        "exact.\n\n";
}

}  // namespace

std::string markdown_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '|':
      case '#':
      case '~':
      case '!':
      case '&':
      case '(':
      case ')':
        out += '\\';
        out += c;
        break;
      case '\n':
      case '\r':
      case '\t':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  // Control characters and invalid UTF-8 as in HTML (escape() leaves the
  // backslash-escaped punctuation alone except & < > " ', which are already
  // escaped by a backslash here, so only those bytes are sanitized).
  std::string clean;
  clean.reserve(out.size());
  for (size_t i = 0; i < out.size();) {
    const unsigned char c = static_cast<unsigned char>(out[i]);
    if (c >= 0x80 || c < 0x20 || c == 0x7F) {
      size_t j = i;
      while (j < out.size() && (static_cast<unsigned char>(out[j]) >= 0x80 ||
                                static_cast<unsigned char>(out[j]) < 0x20 ||
                                static_cast<unsigned char>(out[j]) == 0x7F))
        ++j;
      clean += svg::escape(std::string_view(out).substr(i, j - i));
      i = j;
    } else {
      clean += static_cast<char>(c);
      ++i;
    }
  }
  return clean;
}

std::string render_markdown(const nlohmann::json& doc) {
  render::check_document(doc);
  std::string out;
  header(out, doc);
  sweeps(out, doc);
  distributions(out, doc);
  search(out, doc);
  complexity(out, doc);
  parameters(out, doc);
  ks(out, doc);
  paired(out, doc);
  models(out, doc);
  curves(out, doc);
  efit(out, doc);
  out += "---\n\nnds " + md(render::text(doc, "nds_version")) +
         "; the numbers behind every table: `nds report --format json`.\n";
  return out;
}

}  // namespace nds::reports
