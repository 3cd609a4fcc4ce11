#include "space/transforms.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "space/blocks.h"

namespace nds {

NetSpec with_cifar_stem(const NetSpec& spec) {
  std::vector<Block> stem;
  std::vector<Block> rest;
  for (const Block& b : spec.blocks) (b.stage == 0 ? stem : rest).push_back(b);
  const std::string name = spec.name.empty() ? "the " + spec.family + " network" : spec.name;
  if (stem.empty())
    throw std::invalid_argument(name + " has no stem (stage-0 blocks) to replace with the cifar stem");
  if (stem.front().w_in != spec.in_channels)
    throw std::invalid_argument(name + ": its stem takes " + std::to_string(stem.front().w_in) +
                                " channels, not the spec's " + std::to_string(spec.in_channels));

  NetSpec out = spec;
  out.blocks.clear();
  out.blocks.reserve(rest.size() + 1);
  // Same width into the body, so every later block is unchanged.
  out.blocks.push_back(conv_block(0, spec.in_channels, stem.back().w_out, 3, 1));
  out.blocks.insert(out.blocks.end(), rest.begin(), rest.end());
  out.resolution = 32;
  const std::string suffix = "_cifar";
  const bool named = !spec.name.empty();
  const bool already = named && spec.name.size() > suffix.size() &&
                       spec.name.compare(spec.name.size() - suffix.size(), suffix.size(), suffix) == 0;
  if (named && !already) out.name = spec.name + suffix;
  return out;
}

}  // namespace nds
