#pragma once
// The report options that nds analyze and nds report share.

#include <boost/program_options.hpp>

#include <nlohmann/json.hpp>

#include "reports/report_data.h"

namespace nds::cli {

// --bootstrap and --bins (each >= 1) and --seed, with this binary's version.
reports::ReportOptions read_report_options(const boost::program_options::variables_map& vm);

// The report document of --sweep in --db, compared with the --compare sweeps
// or else the sweep's parent (when it has one). An unknown sweep throws
// std::invalid_argument naming it.
nlohmann::json build_sweep_report(const boost::program_options::variables_map& vm,
                                  reports::ReportOptions options);

}  // namespace nds::cli
