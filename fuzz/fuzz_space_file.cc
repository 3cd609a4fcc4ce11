// Space files, as `nds sample --space FILE` reads them: capped parse, the
// design space's validation and lossless JSON form, one sample drawn under
// its constraints, and its family parameters expanding to its network.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "cli/format.h"
#include "fuzz/fuzz_util.h"
#include "sampler/design_space.h"
#include "sampler/sampler.h"
#include "space/family.h"
#include "space/summary.h"

namespace {

// Spaces may allow a million candidates per sample; the fuzzer needs fast
// inputs, and failing after many attempts is the same code path.
constexpr std::int64_t kMaxAttempts = 200;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nds::fuzz::run_rejecting([&] {
    const nlohmann::json j = nds::cli::parse_json_capped(nds::fuzz::as_text(data, size), "fuzz");
    if (!j.is_object()) return;  // nds sample refuses these before parsing
    nds::sampler::DesignSpace space = nds::sampler::parse_design_space(j, "fuzz");
    const nlohmann::json written = nds::sampler::to_json(space);
    nds::fuzz::check(
        nds::sampler::to_json(nds::sampler::parse_design_space(written, "fuzz")) == written,
        "space JSON round trip");
    space.max_attempts = std::min(space.max_attempts, kMaxAttempts);
    const nds::sampler::Sample s = nds::sampler::sample(space, 0, 0);
    nds::summarize(s.spec, space.resolution);
    nds::fuzz::check(nds::to_json(nds::expand_params(s.family_params)) == nds::to_json(s.spec),
                     "a sample's family parameters expand to its network");
  });
  return 0;
}
