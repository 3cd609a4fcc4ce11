#include "sampler/candidate.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace nds::sampler {
namespace {

Value draw_scalar(const ParamDist& d, Rng& rng) {
  Value v;
  switch (d.kind) {
    case DistKind::kFixed:
      v.ref = &d.value;
      break;
    case DistKind::kChoice:
      v.ref = &d.values[rng.uniform_index(d.values.size())];
      break;
    case DistKind::kInt:
    case DistKind::kFloat: {
      // An int range's grid values are whole numbers, exactly.
      bool pending = false;
      v.raw = d.range.draw_deferred(rng, &pending);
      if (pending) v.pending = &d.range;
      v.integer = d.kind == DistKind::kInt;
      break;
    }
    case DistKind::kList:
      break;  // lists are laid out element by element
  }
  return v;
}

}  // namespace

nlohmann::json Value::to_json() const {
  if (ref) return *ref;
  if (integer) return static_cast<std::int64_t>(number());
  return number();
}

Candidate::Candidate(const DesignSpace& space) : space_(space) {
  size_t offset = 0;
  for (const auto& [key, d] : space.params) {
    Param p;
    p.key = key;
    p.dist = &d;
    p.offset = offset;
    p.list = d.is_list();
    p.length = d.kind == DistKind::kList ? d.items.size()
               : d.length > 0            ? static_cast<size_t>(d.length)
                                         : 1;
    p.shared = std::find(space.shared.begin(), space.shared.end(), key) != space.shared.end();
    offset += p.length;
    params_.push_back(std::move(p));
  }
  values_.resize(offset);
  for (const Param& p : params_) {
    if (p.dist->kind == DistKind::kFixed) {
      values_[p.offset].ref = &p.dist->value;  // set once, never redrawn
      continue;
    }
    draws_.push_back({&values_[p.offset], p.dist, p.length, p.shared ? 1 : p.length});
  }
}

void Candidate::draw(Rng& rng) {
  for (const Draw& d : draws_) {
    for (size_t i = 0; i < d.drawn; ++i)
      d.first[i] = draw_scalar(d.dist->kind == DistKind::kList ? d.dist->items[i] : *d.dist, rng);
    // A shared list draws its first element once and repeats it (AnyNetX_B's
    // one bottleneck ratio): not the same as rejecting lists whose elements
    // differ, which would favour the likelier values.
    for (size_t i = d.drawn; i < d.length; ++i) d.first[i] = d.first[0];
  }
}

const Candidate::Param* Candidate::find(const std::string& key) const {
  for (const Param& p : params_)
    if (p.key == key) return &p;
  return nullptr;
}

nlohmann::json Candidate::to_json() const {
  nlohmann::json j = {{"family", space_.family}};
  for (const Param& p : params_) {
    if (!p.list) {
      j[p.key] = at(p).to_json();
      continue;
    }
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < p.length; ++i) list.push_back(at(p, i).to_json());
    j[p.key] = std::move(list);
  }
  return j;
}

}  // namespace nds::sampler
