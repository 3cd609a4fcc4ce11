#include "cli/report_args.h"

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

nlohmann::json build_sweep_report(const po::variables_map& vm, reports::ReportOptions options) {
  const std::string sweep = vm["sweep"].as<std::string>();
  const store::Reader reader(vm["db"].as<std::string>());
  const store::SweepSummary summary = reader.sweep(sweep);  // unknown: one line, exit 2
  if (vm.count("compare")) {
    options.compare = vm["compare"].as<std::vector<std::string>>();
  } else if (!summary.parent.empty()) {
    options.compare = {summary.parent};
  }
  return reports::build_report(reader, sweep, options);
}

}  // namespace nds::cli
