// Spec JSON, as `nds describe SPEC.json` reads it: capped parse, expansion
// of family parameters or an expanded spec's validation, exact complexity,
// and a lossless round trip of the expanded spec.

#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "cli/format.h"
#include "fuzz/fuzz_util.h"
#include "space/family.h"
#include "space/net_spec.h"
#include "space/summary.h"

namespace {

nds::NetSpec load(const nlohmann::json& j) {
  try {
    if (j.is_object() && j.contains("blocks")) return nds::net_spec_from_json(j);
    return nds::expand_params(j);
  } catch (const nlohmann::json::exception& e) {  // nds describe reports these as bad input
    throw std::invalid_argument(e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nds::fuzz::run_rejecting([&] {
    const nlohmann::json j = nds::cli::parse_json_capped(nds::fuzz::as_text(data, size), "fuzz");
    const nds::NetSpec spec = load(j);
    nds::summarize(spec, spec.resolution);
    // What --spec prints reads back as the same network.
    const nlohmann::json out = nds::to_json(spec);
    nds::fuzz::check(nds::to_json(nds::net_spec_from_json(out)) == out, "spec JSON round trip");
  });
  return 0;
}
