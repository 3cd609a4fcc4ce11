// nds report: a sweep's design-space report as one self-contained HTML page
// (inline SVG, no scripts), Markdown tables, or the JSON document behind them.

#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/report_args.h"
#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/report_data.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using json = nlohmann::json;

constexpr const char* kUsage =
    "usage: nds report --db FILE --sweep NAME [--compare NAME2 ...] [-o FILE]\n"
    "                  [--format html|md|json] [--bootstrap B] [--seed S] [--bins K]\n"
    "                  [--max-points N] [--top K]\n"
    "       nds report --from-json DOC.json [-o FILE] [--format html|md|json]\n\n"
    "The design-space report of a sweep: its space and recipe, trials by state, error EDFs\n"
    "of every compared sweep (raw and flops-normalized), error vs flops/params/acts with\n"
    "the fixed points, error vs each design parameter with its bootstrap good range, KS\n"
    "tests, the paired comparison with each compared sweep (rank agreement of the models\n"
    "both trained, with their scatter), the best and worst models' per-block widths with\n"
    "their fitted rule, training curves, the e_fit distribution and random-search\n"
    "efficiency.\n\n"
    "html: one self-contained page (inline SVG, no scripts, no network); md: the same\n"
    "sections as Markdown tables; json: the report document (docs/report_json.md), which\n"
    "--from-json renders again. Without --format, the format follows -o's extension (.md,\n"
    ".json, otherwise html). Without -o the report goes to stdout. Without --compare, a\n"
    "sweep is compared with its parent (nds refine) and its siblings (nds sweep\n"
    "--recipe-of).\n\n";

enum class Format { kHtml, kMarkdown, kJson };

Format parse_format(const std::string& text) {
  if (text == "html") return Format::kHtml;
  if (text == "md" || text == "markdown") return Format::kMarkdown;
  if (text == "json") return Format::kJson;
  throw std::invalid_argument("unknown --format '" + text + "' (expected html, md or json)");
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Format format_of_path(const std::string& path) {
  if (ends_with(path, ".md") || ends_with(path, ".markdown")) return Format::kMarkdown;
  if (ends_with(path, ".json")) return Format::kJson;
  return Format::kHtml;
}

// Fails before any work when the report could not be written: the folder
// must exist and be writable, and the path must not be a folder.
void check_output_path(const std::string& path) {
  if (path.empty()) throw std::invalid_argument("empty output path (-o)");
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw std::invalid_argument("output '" + path + "' is a directory");
  const std::string dir = dir_of(path);
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::invalid_argument("output directory '" + dir + "' does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw std::invalid_argument("output directory '" + dir + "' is not writable");
}

}  // namespace

int run_report(const std::vector<std::string>& args) {
  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "the results database")
      ("sweep", po::value<std::string>(), "the sweep to report on")
      ("compare", po::value<std::vector<std::string>>()->multitoken()->composing(),
       "sweeps to compare with (default: the sweep's parent and siblings)")
      ("from-json", po::value<std::string>(), "render a saved report document instead")
      ("output,o", po::value<std::string>(), "write to FILE (default: stdout)")
      ("format", po::value<std::string>(), "html, md or json (default: from -o, else html)")
      ("bootstrap", po::value<int>()->default_value(10000), "bootstrap resamples B")
      ("seed", po::value<uint64_t>()->default_value(0), "seed of the bootstrap and subsamples")
      ("bins", po::value<int>()->default_value(10), "flops bins K of the normalized EDF")
      ("max-points", po::value<int>()->default_value(2000), "points kept per scatter plot")
      ("top", po::value<int>()->default_value(5), "best and worst models shown");
  // clang-format on
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm)) return kExitOk;
  const bool from_json = vm.count("from-json") > 0;
  if (from_json && (vm.count("db") || vm.count("sweep") || vm.count("compare")))
    throw std::invalid_argument(
        "--from-json renders a saved document: drop --db/--sweep/--compare");
  if (!from_json && !vm.count("db"))
    throw std::invalid_argument("missing --db FILE (see nds report --help)");
  if (!from_json && !vm.count("sweep"))
    throw std::invalid_argument("missing --sweep NAME (see nds report --help)");
  const std::string output = vm.count("output") ? vm["output"].as<std::string>() : "";
  const bool to_stdout = output.empty() || output == "-";
  const Format format = vm.count("format") ? parse_format(vm["format"].as<std::string>())
                        : to_stdout        ? Format::kHtml
                                           : format_of_path(output);
  if (!to_stdout) check_output_path(output);

  reports::ReportOptions o = read_report_options(vm);
  o.max_points = static_cast<size_t>(int_at_least_one(vm, "max-points"));
  o.top_models = vm["top"].as<int>();
  if (o.top_models < 0)
    throw std::invalid_argument("--top must be >= 0, got " + std::to_string(o.top_models));

  json doc;
  if (from_json) {
    const std::string path = vm["from-json"].as<std::string>();
    // A report document of a large sweep can pass the model-spec cap.
    doc = parse_json_capped(read_file_capped(path, std::size_t{1} << 30), path);
  } else {
    doc = build_sweep_report(vm, o);
  }

  std::string text;
  switch (format) {
    case Format::kHtml:
      text = reports::render_html(doc);
      break;
    case Format::kMarkdown:
      text = reports::render_markdown(doc);
      break;
    case Format::kJson:
      text = doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
      break;
  }
  if (to_stdout) {
    std::cout << text;
    std::cout.flush();
    if (!std::cout) throw std::runtime_error("writing the report failed");
  } else {
    write_atomically(output, text);
    std::cerr << "nds report: wrote " << output << " (" << si(static_cast<double>(text.size()))
              << "B)\n";
  }
  return kExitOk;
}

}  // namespace nds::cli
