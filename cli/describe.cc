// nds describe: a model's stages and exact complexity.

#include <boost/program_options.hpp>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/options.h"
#include "space/family.h"
#include "space/params.h"
#include "space/summary.h"
#include "space/zoo.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;

constexpr const char* kUsage =
    "usage: nds describe NAME|SPEC.json [--resolution R] [--classes K] [--in-channels C]\n"
    "                    [--json | --spec]\n"
    "       nds describe --list\n\n"
    "NAME is a fixed point (see --list). SPEC.json holds family parameters, e.g.\n"
    "  {\"family\":\"regnet\",\"depth\":13,\"w_0\":24,\"w_a\":36.44,\"w_m\":2.49,\"group_width\":8}\n"
    "or an expanded spec as printed by --spec.\n\n"
    "Counts follow pycls: params include BN's 2*C, flops are multiply-adds of conv and FC\n"
    "layers (biases included), acts are conv, pool and FC output elements.\n\n";

bool looks_like_file(const std::string& arg) {
  return arg.find('/') != std::string::npos ||
         (arg.size() > 5 && arg.compare(arg.size() - 5, 5, ".json") == 0);
}

NetSpec load_model(const std::string& arg, const ExpandOptions& options) {
  if (!looks_like_file(arg)) return fixed_point(arg, options);
  const nlohmann::json j = read_json_file(arg);
  try {
    if (j.is_object() && j.contains("blocks")) {
      NetSpec spec = net_spec_from_json(j);
      if (options.in_channels > 0 || options.num_classes > 0)
        throw std::invalid_argument("--classes and --in-channels apply to names and family "
                                    "parameters, not to an expanded spec");
      return spec;
    }
    return expand_params(j, options);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument("bad spec in '" + arg + "': " + e.what());
  }
}

std::string or_dash(int64_t v) { return v > 0 ? std::to_string(v) : "-"; }

void print_table(const NetSpec& spec, int resolution, const NetSummary& sum) {
  std::cout << (spec.name.empty() ? "(unnamed)" : spec.name) << "  family " << spec.family
            << ", input " << spec.in_channels << "x" << resolution << "x" << resolution << ", "
            << spec.num_classes << " classes\n\n";
  TextTable t({"stage", "kind", "depth", "width", "stride", "groups", "bottleneck", "se", "out",
               "params", "flops", "acts"},
              2);
  for (const StageSummary& s : sum.stages) {
    t.add({s.name, s.kinds, std::to_string(s.depth), std::to_string(s.width),
           s.name == "head" ? "-" : std::to_string(s.stride), or_dash(s.groups),
           s.bottleneck_ratio > 0 ? format_number(s.bottleneck_ratio) : "-", or_dash(s.w_se),
           std::to_string(s.out.h) + "x" + std::to_string(s.out.w), with_commas(s.cost.params),
           with_commas(s.cost.flops), with_commas(s.cost.acts)});
  }
  t.rule();
  t.add({"total", std::to_string(sum.body_stages) + " stages", "", "", "", "", "", "", "",
         with_commas(sum.total.params), with_commas(sum.total.flops),
         with_commas(sum.total.acts)});
  std::cout << t.str() << "\nparams " << si(static_cast<double>(sum.total.params)) << "  flops "
            << si(static_cast<double>(sum.total.flops)) << "  acts "
            << si(static_cast<double>(sum.total.acts)) << '\n';
}

void print_list() {
  TextTable t({"name", "family", "input", "params", "flops", "reference"}, 2);
  t.rule();
  for (const FixedPoint& f : fixed_points()) {
    const NetSpec spec = fixed_point(f.name);
    const Complexity c = complexity(spec, spec.resolution);
    t.add({f.name, spec.family, std::to_string(spec.resolution), si(static_cast<double>(c.params)),
           si(static_cast<double>(c.flops)), f.reference});
  }
  // The reference column is text: keep it left-aligned by printing it last.
  std::cout << t.str();
}

}  // namespace

int run_describe(const std::vector<std::string>& args) {
  po::options_description opts("options");
  opts.add_options()
      ("help,h", "show this help")
      ("list", "list every fixed point")
      ("resolution", po::value<int>(), "input side in pixels (default: the model's own)")
      ("classes", po::value<int>(), "number of classes (default: the model's own)")
      ("in-channels", po::value<int>(), "input channels (default: the model's own)")
      ("json", "print one JSON object instead of a table")
      ("spec", "print the expanded spec (every block) as JSON");
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm, "model")) return kExitOk;
  if (vm.count("list")) {
    print_list();
    return kExitOk;
  }
  if (!vm.count("model"))
    throw std::invalid_argument("missing NAME or SPEC.json (see nds describe --help)");
  const auto models = vm["model"].as<std::vector<std::string>>();
  if (models.size() != 1)
    throw std::invalid_argument("expected one model, got " + std::to_string(models.size()) +
                                " ('" + models[1] + "' is extra)");
  const auto positive = [&](const char* key) {
    if (!vm.count(key)) return 0;
    const int v = vm[key].as<int>();
    if (v < 1) throw std::invalid_argument(std::string("--") + key + " must be >= 1, got " +
                                           std::to_string(v));
    return v;
  };
  ExpandOptions options;
  options.num_classes = positive("classes");
  options.in_channels = positive("in-channels");
  const int requested_resolution = positive("resolution");

  const NetSpec spec = load_model(models[0], options);
  const int resolution = requested_resolution > 0 ? requested_resolution : spec.resolution;
  const NetSummary sum = summarize(spec, resolution);

  if (vm.count("spec")) {
    std::cout << json_dump(to_json(spec), 2) << '\n';
    return kExitOk;
  }
  if (vm.count("json")) {
    nlohmann::json stages = nlohmann::json::array();
    for (const StageSummary& s : sum.stages) stages.push_back(to_json(s));
    nlohmann::json out = {{"name", spec.name},
                          {"family", spec.family},
                          {"resolution", resolution},
                          {"in_channels", spec.in_channels},
                          {"num_classes", spec.num_classes},
                          {"params", sum.total.params},
                          {"flops", sum.total.flops},
                          {"acts", sum.total.acts},
                          {"num_stages", sum.body_stages},
                          {"stages", std::move(stages)}};
    if (const FixedPoint* f = find_fixed_point(spec.name)) out["family_params"] = f->params;
    std::cout << json_dump(out) << '\n';
    return kExitOk;
  }
  print_table(spec, resolution, sum);
  return kExitOk;
}

}  // namespace nds::cli
