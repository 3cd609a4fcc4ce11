// The HTML and Markdown renderers on hand-made report documents: every
// section drawn, well-formed SVG, user text escaped everywhere (a hostile
// sweep name never becomes markup), notes instead of plots, a sweep with no
// completed trial, byte-for-byte determinism, and 2,000-point plots.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/svg.h"
#include "tests/reports_testing.h"

namespace nds::reports {
namespace {

using testing::count;
using testing::FixtureOptions;
using testing::lower;
using testing::make_document;
using testing::markup_problem;
using testing::svg_elements;

constexpr const char* kHostile = "<script>alert(1)</script>";
constexpr const char* kHostileEscaped = "&lt;script&gt;alert(1)&lt;/script&gt;";

// Runs /usr/bin/python3's XML parser over each SVG (a second, independent
// opinion on well-formedness). Returns its output; "" when it has nothing to say.
std::string python_xml_check(const std::vector<std::string>& svgs) {
  if (access("/usr/bin/python3", X_OK) != 0) return "";
  const std::string dir = ::testing::TempDir();
  const std::string data = dir + "nds_svgs_" + std::to_string(getpid()) + ".json";
  const std::string out = data + ".out";
  std::ofstream(data) << nlohmann::json(svgs).dump();
  const std::string cmd =
      "/usr/bin/python3 -c \"import json,sys,xml.etree.ElementTree as E\n"
      "for i,s in enumerate(json.load(open(sys.argv[1]))):\n"
      "  try: E.fromstring(s)\n"
      "  except Exception as e: print('svg', i, e)\n\" " +
      data + " > " + out + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(data.c_str());
  std::remove(out.c_str());
  if (rc != 0 && text.empty()) text = "python3 exited with " + std::to_string(rc);
  return text;
}

TEST(ReportsSvg, EscapesMarkupControlCharactersAndInvalidUtf8) {
  EXPECT_EQ(svg::escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(svg::escape("tab\tnl\n"), "tab\tnl\n");
  EXPECT_EQ(svg::escape(std::string("x\x01y", 3)), "x\xEF\xBF\xBDy");
  EXPECT_EQ(svg::escape("caf\xC3\xA9"), "caf\xC3\xA9");    // valid UTF-8 kept
  EXPECT_EQ(svg::escape("bad\xC3("), "bad\xEF\xBF\xBD(");  // truncated sequence
  EXPECT_EQ(svg::escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(svg::escape("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");                  // emoji kept
}

TEST(ReportsSvg, NumbersPrintDeterministically) {
  EXPECT_EQ(svg::fixed(9.105, 1), "9.1");
  EXPECT_EQ(svg::fixed(-0.0001, 2), "0.00");
  EXPECT_EQ(svg::compact(1234567, 4), "1234567");
  EXPECT_EQ(svg::compact(0.012345, 3), "0.0123");
  EXPECT_EQ(svg::compact(2.5, 4), "2.5");
  EXPECT_EQ(svg::compact(0, 4), "0");
  EXPECT_EQ(svg::compact(1e-7, 3), "1e-07");
}

TEST(ReportsSvg, PlotHasAxesTicksLegendAndSurvivesBadValues) {
  svg::PlotOptions o;
  o.title = "t <&> title";
  o.x.label = "flops (MFLOPs, log scale)";
  o.x.log = true;
  o.y.label = "top-1 error (%)";
  svg::Plot p(o);
  p.scatter({{10, 5}, {100, 6}, {0, 7}, {-1, 8}, {1e3, std::nan("")}}, 0, "models <b>");
  p.step({1, 2, 3}, {0.2, 0.5, 1.0}, 1, "edf");
  p.x_range(20, 50, 2, "good");
  p.marker(300, 5.5, "ref <i>", 3);
  p.band({10, 100}, {4, 5}, {6, 7}, 4);
  p.bars({1, 2, 3}, {3, 4}, 5);
  p.line({}, {}, 6, "empty");
  const std::string s = p.str();
  EXPECT_EQ(markup_problem(s), "");
  EXPECT_NE(s.find("t &lt;&amp;&gt; title"), std::string::npos);
  EXPECT_NE(s.find("models &lt;b&gt;"), std::string::npos);
  EXPECT_EQ(s.find("<b>"), std::string::npos);
  EXPECT_EQ(s.find("<i>"), std::string::npos);
  EXPECT_NE(s.find(">100</text>"), std::string::npos) << "a decade tick on the log axis";
  EXPECT_NE(s.find("flops (MFLOPs, log scale)"), std::string::npos);
  EXPECT_EQ(s.find("nan"), std::string::npos);
  EXPECT_EQ(s.find("inf"), std::string::npos);
  // An empty plot still draws its frame.
  svg::Plot empty({});
  EXPECT_EQ(markup_problem(empty.str()), "");
}

TEST(ReportsHtml, FullDocumentDrawsEverySectionAsWellFormedSvg) {
  const nlohmann::json doc = make_document();
  const std::string page = render_html(doc);
  EXPECT_EQ(markup_problem(page), "");
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"sweeps", "edf", "search", "complexity", "parameters", "ks", "paired",
                         "models", "curves", "efit"})
    EXPECT_NE(page.find(std::string("<section id=\"") + id + "\">"), std::string::npos) << id;
  const std::vector<std::string> svgs = svg_elements(page);
  // EDF + normalized, random search, 3 complexity, 4 parameters, paired
  // scatter, 10 width plots, training curves, e_fit.
  EXPECT_EQ(svgs.size(), 2u + 1 + 3 + 4 + 1 + 10 + 1 + 1);
  for (size_t i = 0; i < svgs.size(); ++i) EXPECT_EQ(markup_problem(svgs[i]), "") << "svg " << i;
  EXPECT_EQ(python_xml_check(svgs), "");
  // No script, no fetch: the only URL is the SVG namespace, links are anchors.
  EXPECT_EQ(lower(page).find("<script"), std::string::npos);
  EXPECT_EQ(count(page, "http://") + count(page, "https://"), svgs.size()) << "only xmlns";
  EXPECT_EQ(count(page, "http://www.w3.org/2000/svg"), svgs.size());
  EXPECT_EQ(page.find("src="), std::string::npos);
  EXPECT_EQ(count(page, "href=\""), count(page, "href=\"#"));
  EXPECT_NE(page.find("Content-Security-Policy"), std::string::npos);
  // The EDF legend: name | n | min | mean; reference points labelled; axis units.
  EXPECT_NE(page.find("regnet_x-demo | n=60 | min "), std::string::npos);
  EXPECT_NE(page.find("anynet_x_e-demo | n=67 | min "), std::string::npos);
  EXPECT_NE(page.find("resnet18_cifar (25th pct)"), std::string::npos);
  EXPECT_NE(page.find("flops (MFLOPs, log scale)"), std::string::npos);
  EXPECT_NE(page.find("params (M, log scale)"), std::string::npos);
  EXPECT_NE(page.find("top-1 error (%)"), std::string::npos);
  EXPECT_NE(page.find("good range (bootstrap 2.5\xE2\x80\x93"
                      "97.5%, best 25%)"),
            std::string::npos);
  EXPECT_NE(page.find("quantized linear fit"), std::string::npos);
  // The parameter without a good range shows its note.
  EXPECT_NE(page.find("no good range: the good range needs at least 20 models"), std::string::npos);
  // KS table row.
  EXPECT_NE(page.find("<td>0.31</td><td>0.02</td><td>0.05</td><td>0.9</td>"), std::string::npos);
  // Paired comparison: the statistics and the scatter with its diagonal and
  // the three tied models drawn as one larger dot.
  EXPECT_NE(page.find("<td>33</td><td>0.87 [0.71, 0.95]</td><td>0.69 [0.52, 0.81]</td><td>2 of "
                      "top 3</td><td>1.75</td><td>0.72</td>"),
            std::string::npos);
  EXPECT_NE(page.find("<title>Paired errors: regnet_x-demo vs anynet_x_e-demo</title>"),
            std::string::npos);
  EXPECT_NE(page.find("y = x: the same error in both"), std::string::npos);
  EXPECT_NE(page.find("1 dot stands for several models with the same errors in both"),
            std::string::npos);
  EXPECT_NE(page.find("href=\"#paired\""), std::string::npos);
  // Design space pretty-printed.
  EXPECT_NE(page.find("&quot;description&quot;: &quot;RegNetX, CIFAR-sized&quot;"),
            std::string::npos);
}

TEST(ReportsHtml, HostileNamesAppearOnlyAsText) {
  FixtureOptions o;
  o.name = kHostile;
  o.compare = {std::string("</style><script>alert(2)</script>"), "a\"b'c&d"};
  o.hostile = "</title></svg><script>alert(3)</script><img src=x onerror=alert(4)>";
  const std::string page = render_html(make_document(o));
  EXPECT_EQ(markup_problem(page), "");
  EXPECT_EQ(lower(page).find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=x onerror=alert(4)&gt;"), std::string::npos);
  EXPECT_EQ(count(page, "</style>"), 1u);
  EXPECT_EQ(count(page, "</title>"), svg_elements(page).size() + 1);
  EXPECT_NE(page.find(kHostileEscaped), std::string::npos);
  EXPECT_NE(page.find("<title>nds report: &lt;script&gt;alert(1)&lt;/script&gt;</title>"),
            std::string::npos);
  EXPECT_NE(page.find("&lt;/style&gt;&lt;script&gt;alert(2)"), std::string::npos);
  EXPECT_NE(page.find("a&quot;b&#39;c&amp;d"), std::string::npos);
  for (const std::string& s : svg_elements(page)) EXPECT_EQ(markup_problem(s), "");
  EXPECT_EQ(python_xml_check(svg_elements(page)), "");
}

TEST(ReportsHtml, ZeroCompletedTrialsSaysSo) {
  FixtureOptions o;
  o.n = 0;
  o.compare = {};
  const nlohmann::json doc = make_document(o);
  const std::string page = render_html(doc);
  EXPECT_EQ(markup_problem(page), "");
  EXPECT_NE(page.find("No completed trials."), std::string::npos);
  EXPECT_NE(page.find("8 WAITING, 2 RUNNING, 0 COMPLETE, 1 FAILED, 0 DIVERGED"), std::string::npos);
  EXPECT_NE(page.find("fewer than 2 completed trials"), std::string::npos);
  EXPECT_NE(page.find("no completed trials"), std::string::npos);
  EXPECT_TRUE(svg_elements(page).empty());
  EXPECT_EQ(page.find("href=\"#paired\""), std::string::npos) << "no comparison, no section";
  const std::string md = render_markdown(doc);
  EXPECT_NE(md.find("No completed trials."), std::string::npos);

  // Compared with a sweep that has results: its curves are still drawn.
  o.compare = {"other"};
  const std::string both = render_html(make_document(o));
  EXPECT_EQ(markup_problem(both), "");
  EXPECT_NE(both.find("No completed trials."), std::string::npos);
  EXPECT_NE(both.find("other | n=7 |"), std::string::npos);
  // No pairs: the note, and no scatter.
  EXPECT_NE(both.find("no models in common: no model hash was trained in both"), std::string::npos);
  EXPECT_EQ(both.find("Paired errors"), std::string::npos);
}

TEST(ReportsHtml, SameDocumentSameBytes) {
  const nlohmann::json doc = make_document();
  const std::string a = render_html(doc);
  const std::string b = render_html(nlohmann::json::parse(doc.dump()));
  EXPECT_EQ(a, b);
  EXPECT_EQ(render_markdown(doc), render_markdown(nlohmann::json::parse(doc.dump())));
  FixtureOptions o;
  o.seed = 2;
  EXPECT_NE(render_html(make_document(o)), a);
}

TEST(ReportsHtml, TwoThousandPointsPerPlot) {
  FixtureOptions o;
  o.n = 3000;
  o.points = 2000;
  const std::string page = render_html(make_document(o));
  EXPECT_EQ(markup_problem(page), "");
  // Each scatter is one path of 2000 dots, not 2000 elements.
  EXPECT_EQ(count(page, "<circle"), count(page, "<g class=\"legend\"><circle"));
  EXPECT_GE(count(page, "<path class=\"dots\""), 7u);
  EXPECT_LT(page.size(), 2'000'000u) << "size " << page.size();
  // The 3000-step EDF merges steps within a pixel column.
  const std::vector<std::string> svgs = svg_elements(page);
  EXPECT_LT(svgs[0].size(), 60'000u);
}

TEST(ReportsHtml, MissingSectionsAndBadDocuments) {
  // A minimal document: one sweep, nothing else.
  const nlohmann::json minimal = {{"sweeps", {{{"name", "only"}, {"n", 0}}}}};
  const std::string page = render_html(minimal);
  EXPECT_EQ(markup_problem(page), "");
  EXPECT_NE(page.find("only"), std::string::npos);
  EXPECT_FALSE(render_markdown(minimal).empty());
  // Wrong types where numbers belong are skipped, not fatal.
  nlohmann::json odd = make_document();
  odd["sweeps"][0]["edf"]["errors"][0] = "x";
  odd["scatter"]["points"][0]["flops"] = nullptr;
  odd["parameters"][0]["points"][0] = {1};
  odd["models"]["best"][0]["fit"] = nullptr;
  odd["sweeps"][0]["space"]["bad"] = std::string("\xFF\xFE", 2);  // invalid UTF-8
  EXPECT_EQ(markup_problem(render_html(odd)), "");
  render_markdown(odd);
  for (const nlohmann::json& bad :
       {nlohmann::json(), nlohmann::json::array(), nlohmann::json{{"sweeps", nullptr}},
        nlohmann::json{{"sweeps", nlohmann::json::array()}}, nlohmann::json{{"sweeps", {1}}}}) {
    EXPECT_THROW(render_html(bad), std::invalid_argument) << bad.dump();
    EXPECT_THROW(render_markdown(bad), std::invalid_argument) << bad.dump();
  }
}

// Table rows of a Markdown text: lines starting with '|'.
std::vector<std::string> table_rows(const std::string& md) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < md.size()) {
    size_t e = md.find('\n', i);
    if (e == std::string::npos) e = md.size();
    if (md[i] == '|') out.push_back(md.substr(i, e - i));
    i = e + 1;
  }
  return out;
}

// The text outside fenced code blocks (which Markdown shows literally).
std::string outside_code(const std::string& md) {
  std::string out, fence;
  size_t i = 0;
  while (i < md.size()) {
    size_t e = md.find('\n', i);
    if (e == std::string::npos) e = md.size();
    const std::string line = md.substr(i, e - i);
    const size_t ticks = line.find_first_not_of('`');
    if (fence.empty() && line.rfind("```", 0) == 0) {
      fence = line.substr(0, ticks);
    } else if (!fence.empty() && line == fence) {
      fence.clear();
    } else if (fence.empty()) {
      out += line + "\n";
    }
    i = e + 1;
  }
  return out;
}

// Whether `needle` occurs without a backslash before its first character.
bool unescaped(const std::string& text, const std::string& needle) {
  for (size_t i = text.find(needle); i != std::string::npos; i = text.find(needle, i + 1))
    if (i == 0 || text[i - 1] != '\\') return true;
  return false;
}

// Cell separators: '|' not preceded by a backslash.
size_t separators(const std::string& row) {
  size_t n = 0;
  for (size_t i = 0; i < row.size(); ++i)
    if (row[i] == '|' && (i == 0 || row[i - 1] != '\\')) ++n;
  return n;
}

TEST(ReportsMarkdown, EscapesUserTextAndKeepsTablesIntact) {
  EXPECT_EQ(markdown_escape("a|b*c_d"), "a\\|b\\*c\\_d");
  EXPECT_EQ(markdown_escape("<script>x</script>"), "\\<script\\>x\\</script\\>");
  EXPECT_EQ(markdown_escape("[x](http://e)"), "\\[x\\]\\(http://e\\)");
  EXPECT_EQ(markdown_escape("two\nlines"), "two lines");
  EXPECT_EQ(markdown_escape("`code` #1 ~x~ !y &amp;"), "\\`code\\` \\#1 \\~x\\~ \\!y \\&amp;");

  FixtureOptions o;
  o.name = "pipe|name*with_stars";
  o.compare = {kHostile};
  o.hostile = "x | y ``` `` [link](javascript:alert(1))";
  const std::string md = render_markdown(make_document(o));
  EXPECT_NE(md.find("# Design-space report: pipe\\|name\\*with\\_stars"), std::string::npos);
  const std::string prose = outside_code(md);
  EXPECT_FALSE(unescaped(prose, "<script"));
  EXPECT_FALSE(unescaped(prose, "](javascript"));
  EXPECT_NE(prose.find("\\<script\\>alert\\(1\\)\\</script\\>"), std::string::npos);
  // Every table row has as many cell separators as its header.
  const std::vector<std::string> rows = table_rows(md);
  ASSERT_GT(rows.size(), 20u);
  size_t expected = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool header = i + 1 < rows.size() && (rows[i + 1].rfind("| :---", 0) == 0 ||
                                                rows[i + 1].rfind("| ---:", 0) == 0);
    if (header) expected = separators(rows[i]);
    if (rows[i].rfind("| :---", 0) == 0 || rows[i].rfind("| ---:", 0) == 0) continue;
    EXPECT_EQ(separators(rows[i]), expected) << rows[i];
  }
  // The space (with ``` inside) sits in a longer fence.
  EXPECT_NE(md.find("````json\n"), std::string::npos);
  // Every section is there.
  for (const char* h : {"## Sweeps", "## Error distributions", "## Random search efficiency",
                        "## Error vs complexity", "## Error vs design parameters", "## Kolmogorov",
                        "## Paired comparison", "## Best and worst models", "## Training curves",
                        "## Width-fit quality"})
    EXPECT_NE(md.find(h), std::string::npos) << h;
}

TEST(ReportsMarkdown, PairedComparisonIsATable) {
  const std::string md = render_markdown(make_document());
  EXPECT_NE(md.find("| regnet\\_x-demo | anynet\\_x\\_e-demo | 33 | 0.87 \\[0.71, 0.95\\] | "
                    "0.69 \\[0.52, 0.81\\] | 2 of top 3 | 1.75 | 0.72 |"),
            std::string::npos)
      << md;
  FixtureOptions o;
  o.n = 0;
  o.compare = {"other"};
  const std::string none = render_markdown(make_document(o));
  EXPECT_NE(none.find("| 0 | n/a | n/a | n/a | n/a | n/a | no models in common"), std::string::npos)
      << none;
}

}  // namespace
}  // namespace nds::reports
