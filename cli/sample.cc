// nds sample: reproducible samples of a design space under its constraints.

#include <boost/program_options.hpp>
#include <cstdint>
#include <limits>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/space_arg.h"
#include "sampler/builtin_spaces.h"
#include "sampler/design_space.h"
#include "sampler/hash.h"
#include "sampler/sampler.h"
#include "sampler/units.h"
#include "space/params.h"
#include "space/summary.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

constexpr const char* kUsage =
    "usage: nds sample --space FILE|NAME [-n N] [--seed S] [--start I]\n"
    "                  [--flops LO:HI] [--params LO:HI] [--acts LO:HI]\n"
    "                  [--resolution R] [--classes K] [--in-channels C]\n"
    "                  [--stratify BINS [--stratify-by flops|params|acts]]\n"
    "                  [--max-attempts M] [--format jsonl|table]\n"
    "       nds sample --space FILE|NAME --show\n"
    "       nds sample --list\n\n"
    "Draws samples START..START+N-1 of a design space: a built-in NAME (see --list) or\n"
    "a space FILE in JSON (README: \"nds sample\"). Sample i is a pure function of\n"
    "(space, seed, i): the same command prints the same bytes on any machine, and\n"
    "'--start I -n 1' prints line I of a longer run. Every sample meets every constraint\n"
    "(complexity counted analytically at the space's resolution) and no two samples of a\n"
    "run expand to the same network (hash of the expanded spec).\n\n"
    "Options given here replace the space's own settings. Counts take suffixes K, M, G, T\n"
    "(200M, 1.6G); a window LO: has no upper bound, :HI starts at 0. --stratify B makes\n"
    "sample i fall in bin i mod B of B equal log-width bins of the window, so every bin\n"
    "gets the same count (within one).\n\n"
    "jsonl prints one object per sample: index, hash, family, family_params (what\n"
    "'nds describe' takes), resolution, in_channels, num_classes, params, flops, acts,\n"
    "num_stages, stages (per-stage summary), attempts (candidates drawn), and bin when\n"
    "stratified.\n\n";

std::string record(const sampler::Sample& s, const sampler::DesignSpace& space) {
  const NetSummary sum = summarize(s.spec, space.resolution);
  json stages = json::array();
  for (const StageSummary& st : sum.stages) stages.push_back(to_json(st));
  // Written key by key so that every line starts with index and hash.
  std::string line = "{\"index\":" + std::to_string(s.index) + ",\"hash\":\"" +
                     sampler::hash_text(s.hash) + "\"";
  const auto add = [&](const char* key, const json& value) {
    line += ",\"" + std::string(key) + "\":" + json_dump(value);
  };
  add("family", s.spec.family);
  add("family_params", s.family_params);
  add("resolution", space.resolution);
  add("in_channels", s.spec.in_channels);
  add("num_classes", s.spec.num_classes);
  add("params", s.cost.params);
  add("flops", s.cost.flops);
  add("acts", s.cost.acts);
  add("num_stages", sum.body_stages);
  add("stages", stages);
  add("attempts", s.attempts);
  if (s.bin >= 0) add("bin", s.bin);
  return line + "}";
}

// "1,2,4,7" from the body stages' `field`.
template <typename Get>
std::string stage_list(const NetSummary& sum, Get get) {
  std::string out;
  for (const StageSummary& st : sum.stages) {
    if (st.name == "stem" || st.name == "head") continue;
    out += (out.empty() ? "" : ",") + get(st);
  }
  return out;
}

void print_list() {
  TextTable t({"name", "family", "input", "classes", "constraints", "description"}, 6);
  for (const sampler::BuiltinSpace& b : sampler::builtin_spaces()) {
    const sampler::DesignSpace s = sampler::builtin_space(b.name);
    std::string c;
    const auto add = [&](const std::string& part) { c += (c.empty() ? "" : " ") + part; };
    for (sampler::Measure m : {sampler::Measure::kFlops, sampler::Measure::kParams,
                               sampler::Measure::kActs}) {
      const sampler::Window& w = s.window(m);
      if (!w.on) continue;
      add(std::string(sampler::to_string(m)) + " " + sampler::format_count(w.lo) + ":" +
          (w.hi == std::numeric_limits<std::int64_t>::max() ? "" : sampler::format_count(w.hi)));
    }
    if (!s.shared.empty()) add("shared");
    if (!s.non_decreasing.empty()) add("non-decreasing");
    if (s.max_stages > 0)
      add("stages " + std::to_string(s.min_stages) +
          (s.max_stages != s.min_stages ? "-" + std::to_string(s.max_stages) : ""));
    t.add({b.name, s.family, std::to_string(s.resolution), std::to_string(s.num_classes),
           c.empty() ? "-" : c, s.description});
  }
  std::cout << t.str();
}

}  // namespace

int run_sample(const std::vector<std::string>& args) {
  po::options_description opts("options");
  opts.add_options()
      ("help,h", "show this help")
      ("list", "list the built-in spaces")
      ("space", po::value<std::string>(), "built-in space NAME or space FILE (JSON)")
      ("count,n", po::value<std::string>()->default_value("10"), "number of samples N")
      ("seed", po::value<std::string>()->default_value("0"), "seed of the sweep")
      ("start", po::value<std::string>()->default_value("0"), "index of the first sample")
      ("flops", po::value<std::string>(), "flops window LO:HI (e.g. 360M:400M)")
      ("params", po::value<std::string>(), "parameter window LO:HI (e.g. :5M)")
      ("acts", po::value<std::string>(), "activation window LO:HI")
      ("resolution", po::value<int>(), "input side at which complexity is counted")
      ("classes", po::value<int>(), "number of classes of every model")
      ("in-channels", po::value<int>(), "input channels of every model")
      ("stratify", po::value<int>(), "equal counts in BINS log-bins of the window")
      ("stratify-by", po::value<std::string>(), "measure to stratify: flops (default), params, acts")
      ("max-attempts", po::value<std::string>(),
       "candidates per sample before giving up (default 1000000 for anynet and regnet "
       "spaces, 100000 for others)")
      ("format", po::value<std::string>()->default_value("jsonl"), "jsonl or table")
      ("show", "print the space (after the options above) as a space file");
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm)) return kExitOk;
  if (vm.count("list")) {
    print_list();
    return kExitOk;
  }
  if (!vm.count("space"))
    throw std::invalid_argument("missing --space FILE|NAME (see nds sample --list)");
  const std::string format = vm["format"].as<std::string>();
  if (format != "jsonl" && format != "table")
    throw std::invalid_argument("--format must be jsonl or table, got '" + format + "'");
  const std::uint64_t n = parse_unsigned(vm["count"].as<std::string>(), "-n");
  const std::uint64_t seed = parse_unsigned(vm["seed"].as<std::string>(), "--seed");
  const std::uint64_t start = parse_unsigned(vm["start"].as<std::string>(), "--start");

  std::string origin;
  // Options replace the space's settings before it is validated, so the
  // space that is sampled (and --show prints) is one consistent value.
  const json j = space_with_options(vm, &origin);
  const sampler::DesignSpace space = sampler::parse_design_space(j, origin);

  if (vm.count("show")) {
    std::cout << json_dump(sampler::to_json(space), 2) << '\n';
    return kExitOk;
  }

  sampler::Sampler sampler(space, seed);
  if (format == "jsonl") {
    for (std::uint64_t i = start; i < start + n; ++i)
      std::cout << record(sampler.at(i), space) << '\n';
    return kExitOk;
  }
  TextTable t({"index", "hash", "stages", "depths", "widths", "groups", "params", "flops", "acts",
               "attempts"},
              2);
  for (std::uint64_t i = start; i < start + n; ++i) {
    const sampler::Sample s = sampler.at(i);
    const NetSummary sum = summarize(s.spec, space.resolution);
    t.add({std::to_string(s.index), sampler::hash_text(s.hash), std::to_string(sum.body_stages),
           stage_list(sum, [](const StageSummary& st) { return std::to_string(st.depth); }),
           stage_list(sum, [](const StageSummary& st) { return std::to_string(st.width); }),
           stage_list(sum,
                      [](const StageSummary& st) {
                        return st.groups > 0 ? std::to_string(st.groups) : std::string("-");
                      }),
           si(static_cast<double>(s.cost.params)), si(static_cast<double>(s.cost.flops)),
           si(static_cast<double>(s.cost.acts)), std::to_string(s.attempts)});
  }
  std::cout << t.str();
  return kExitOk;
}

}  // namespace nds::cli
