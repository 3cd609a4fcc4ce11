#include "sweep/trials.h"

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "sampler/hash.h"
#include "sampler/random.h"
#include "sampler/sampler.h"
#include "space/complexity.h"
#include "space/net_spec.h"
#include "space/transforms.h"
#include "space/zoo.h"

namespace nds::sweep {

int64_t trial_seed(std::uint64_t seed, std::uint64_t index) {
  constexpr std::uint64_t kTrainStream = 0x747261696e696e67ULL;  // "training"
  return static_cast<int64_t>(sampler::mix64(sampler::stream_seed(seed, index) ^ kTrainStream) &
                              0x7fffffffffffffffULL);
}

std::vector<store::NewTrial> make_samples(const Plan& p) {
  std::vector<store::NewTrial> trials;
  sampler::Sampler sampler(p.space, p.seed);
  for (int64_t i = 0; i < p.n; ++i) {
    const sampler::Sample s = sampler.at(static_cast<std::uint64_t>(i));
    store::NewTrial t;
    t.model = {sampler::hash_text(s.hash), p.space.family, s.family_params, to_json(s.spec),
               s.cost};
    t.seed = trial_seed(p.seed, static_cast<std::uint64_t>(i));
    trials.push_back(std::move(t));
  }
  return trials;
}

void add_references(const Plan& p, std::vector<store::NewTrial>& trials) {
  ExpandOptions expand;
  expand.in_channels = p.space.in_channels;
  expand.num_classes = p.space.num_classes;
  const bool cifar_stem = p.recipe.value("stem", std::string()) == "cifar";
  for (const std::string& name : p.space.include) {
    NetSpec spec = fixed_point(name, expand);
    if (cifar_stem) spec = with_cifar_stem(spec);
    store::NewTrial t;
    const Complexity cost = complexity(spec, p.space.resolution);
    t.model = {sampler::hash_text(sampler::spec_hash(spec)), spec.family,
               nlohmann::json{{"family", spec.family}, {"fixed_point", name}}, to_json(spec), cost};
    t.seed = trial_seed(p.seed, trials.size());
    t.reference = name;
    trials.push_back(std::move(t));
  }
}

}  // namespace nds::sweep
