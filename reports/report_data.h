#pragma once
// The report document (docs/report_json.md): every number behind every plot
// of a design-space report, built from a results database. The renderers
// (html.h, markdown.h) and `nds analyze` read only this document.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/reader.h"

namespace nds::reports {

struct ReportOptions {
  std::vector<std::string> compare;  // sweeps compared with the first (EDFs, KS, paired)
  int bootstrap_resamples = 10000;   // B of the good-range bootstrap
  // K log-spaced flops bins of the normalized EDF over the complexity range
  // all compared sweeps share. 10 (NDS uses a handful of bins); a sweep with
  // fewer models than K in that range gets a note instead.
  int normalized_bins = 10;
  size_t max_points = 2000;  // scatter/parameter/EDF points kept (seeded, extremes kept)
  int top_models = 5;        // best and worst models listed
  uint64_t seed = 0;
  // Width fits (e_fit) of AnyNet models cost ~1 ms each: at most this many,
  // a seeded subsample ("sampled": true in the document).
  size_t max_fit_models = 1000;
  // The generating binary's version for "nds_version" (the CLI passes
  // NDS_VERSION); empty: the version that ran the sweep.
  std::string nds_version;
};

// Throws std::invalid_argument naming the sweep when it does not exist.
// A sweep with zero completed trials still yields a document (counts, notes) — never throws for
// that.
nlohmann::json build_report(const store::Reader& reader, const std::string& sweep,
                            const ReportOptions& options = {});

}  // namespace nds::reports
