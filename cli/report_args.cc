#include "cli/report_args.h"

#include <algorithm>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/version.h"
#include "store/reader.h"

namespace nds::cli {

namespace po = boost::program_options;

reports::ReportOptions read_report_options(const po::variables_map& vm) {
  reports::ReportOptions o;
  o.bootstrap_resamples = int_at_least_one(vm, "bootstrap");
  o.normalized_bins = int_at_least_one(vm, "bins");
  o.seed = vm["seed"].as<uint64_t>();
  o.nds_version = NDS_VERSION;
  return o;
}

namespace {

// The sweeps a sweep is compared with by default: its parent, the sweep it
// is a sibling of, then its own siblings, each once.
std::vector<std::string> related_sweeps(const store::Reader& reader,
                                        const store::SweepSummary& summary) {
  std::vector<std::string> out;
  const auto add = [&](const std::string& name) {
    if (!name.empty() && name != summary.name &&
        std::find(out.begin(), out.end(), name) == out.end())
      out.push_back(name);
  };
  add(summary.parent);
  add(summary.sibling_of);
  for (const std::string& s : reader.siblings_of(summary.name)) add(s);
  return out;
}

}  // namespace

nlohmann::json build_sweep_report(const po::variables_map& vm, reports::ReportOptions options) {
  const std::string sweep = vm["sweep"].as<std::string>();
  const store::Reader reader(vm["db"].as<std::string>());
  const store::SweepSummary summary = reader.sweep(sweep);  // unknown: one line, exit 2
  options.compare = vm.count("compare") ? vm["compare"].as<std::vector<std::string>>()
                                        : related_sweeps(reader, summary);
  return reports::build_report(reader, sweep, options);
}

}  // namespace nds::cli
