#pragma once
// Canonical identity of a model: a 64-bit hash of its expanded NetSpec.
//
// Two parameter sets that expand to the same network (a group width clamped
// to the stage width, a RegNet whose rounding lands on the same widths) get
// the same hash, so de-duplication works on networks, not on parameters. The
// hash is 64-bit FNV-1a over the canonical JSON text of the spec without its
// name (space/net_spec.h: only the fields a block kind uses, keys sorted,
// numbers printed by nlohmann's locale-free shortest round-trip); it depends
// on no platform detail.

#include <cstdint>
#include <string>

#include "space/net_spec.h"

namespace nds::sampler {

std::uint64_t fnv1a64(const std::string& bytes);

std::uint64_t spec_hash(const NetSpec& spec);

// The text spec_hash hashes, written directly: building the nlohmann object
// costs more than the rest of accepting a sample. Byte for byte the same as
// dumping to_json(spec) without "name" (tests hold them equal on every fixed
// point and on samples of every built-in space).
std::string canonical_spec_text(const NetSpec& spec);

// 16 lowercase hex digits.
std::string hash_text(std::uint64_t hash);

}  // namespace nds::sampler
