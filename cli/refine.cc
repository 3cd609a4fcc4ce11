// nds refine: a sweep's design space narrowed to its bootstrap good ranges
// (and, for AnyNet, the next constraint of the X_A -> X_E chain when the data
// supports it), written as a new space file whose parent is the sweep.

#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "reports/refine.h"
#include "sampler/design_space.h"
#include "sampler/sampler.h"
#include "store/reader.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using json = nlohmann::json;

constexpr const char* kUsage =
    "usage: nds refine --db FILE --sweep NAME --out NEW.json [--bootstrap B] [--seed S]\n"
    "                  [--name NEW_NAME] [--force]\n\n"
    "Writes a design-space file (nds sample --space NEW.json; nds sweep) whose numeric\n"
    "parameter ranges are the sweep's bootstrap good ranges, rounded outward to each\n"
    "parameter's grid (per stage for AnyNet lists), with \"parent\": NAME. For an AnyNet space\n"
    "it also adds the next constraint of the AnyNetX_A -> X_E chain (shared b, shared g,\n"
    "non-decreasing widths, non-decreasing depths) unless the models closer to meeting it\n"
    "are significantly worse (higher median error and KS p < 0.05); the evidence is printed.\n\n";

}  // namespace

int run_refine(const std::vector<std::string>& args) {
  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "the results database (required)")
      ("sweep", po::value<std::string>(), "the sweep whose space is refined (required)")
      ("out", po::value<std::string>(), "the new space file (required)")
      ("bootstrap", po::value<int>()->default_value(10000), "bootstrap resamples B")
      ("seed", po::value<uint64_t>()->default_value(0), "bootstrap seed")
      ("name", po::value<std::string>(), "the new space's name (default NAME_refined)")
      ("force", "overwrite --out if it exists");
  // clang-format on
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm)) return kExitOk;
  for (const char* required : {"db", "sweep", "out"}) {
    if (!vm.count(required))
      throw std::invalid_argument(std::string("missing --") + required +
                                  " (see nds refine --help)");
  }
  reports::RefineOptions o;
  o.bootstrap_resamples = int_at_least_one(vm, "bootstrap");
  o.seed = vm["seed"].as<uint64_t>();
  if (vm.count("name")) o.name = vm["name"].as<std::string>();
  const std::string sweep = vm["sweep"].as<std::string>();
  const std::string out = vm["out"].as<std::string>();

  // Where it goes is checked before any work.
  struct stat st {};
  const std::string dir = dir_of(out);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::invalid_argument("--out '" + out + "': directory '" + dir + "' does not exist");
  if (::stat(out.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw std::invalid_argument("--out '" + out + "' is a directory");
    if (!vm.count("force"))
      throw std::invalid_argument("--out '" + out + "' exists (use --force to overwrite it)");
  }

  const store::Reader reader(vm["db"].as<std::string>());
  const reports::RefineResult r = reports::refine_space(reader, sweep, o);

  // The file must be a space nds sample accepts, and one it can draw from.
  const sampler::DesignSpace space = sampler::parse_design_space(r.space, out);
  try {
    sampler::sample(space, 0, 0);
  } catch (const sampler::SampleError& e) {
    throw std::runtime_error("the refined space draws no model, not written: " +
                             std::string(e.what()));
  }

  std::cout << "refined " << sweep << " (" << r.models
            << " completed models, bootstrap B=" << o.bootstrap_resamples << ", seed " << o.seed
            << "):\n";
  for (const auto& c : r.ranges) {
    std::cout << "  " << c.param << ": " << sampler::range_text(c.old_dist) << " -> "
              << sampler::range_text(c.new_dist);
    if (!c.note.empty()) {
      std::cout << "  (kept: " << c.note << ")";
    } else {
      char buf[96];
      std::snprintf(buf, sizeof buf, "  (good range %.4g / %.4g / %.4g)", c.good.low, c.good.median,
                    c.good.high);
      std::cout << buf;
    }
    std::cout << '\n';
  }
  if (r.constraint) {
    const auto& ev = *r.constraint;
    std::cout << "next AnyNet constraint: " << ev.kind << ' ' << ev.key << " (" << ev.space_name
              << "): " << (ev.supported ? "added" : "not added") << " - " << ev.reason << '\n';
  }
  for (const std::string& note : r.notes) std::cout << "note: " << note << '\n';

  write_atomically(out, json_dump(r.space, 2) + "\n");
  std::cout << "wrote " << out << " (parent " << sweep << ")\n";
  return kExitOk;
}

}  // namespace nds::cli
