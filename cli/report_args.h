#pragma once
// The report options that nds analyze and nds report share.

#include <boost/program_options.hpp>

#include <nlohmann/json.hpp>

#include "reports/report_data.h"

namespace nds::cli {

// --bootstrap and --bins (each >= 1) and --seed, with this binary's version.
reports::ReportOptions read_report_options(const boost::program_options::variables_map& vm);

// The report document of --sweep in --db, compared with the --compare sweeps
// or else, in this order and once each, with the sweep's parent (nds
// refine), the sweep it reruns under another recipe and the sweeps that
// rerun it (nds sweep --recipe-of: its siblings, whose models pair with its
// own). For the commands' help: "Without --compare, a sweep is compared with
// its parent (nds refine) and its siblings (nds sweep --recipe-of: the same
// samples under another recipe)". An unknown sweep throws
// std::invalid_argument naming it.
nlohmann::json build_sweep_report(const boost::program_options::variables_map& vm,
                                  reports::ReportOptions options);

}  // namespace nds::cli
