#pragma once
// Helpers shared by the store tests: synthetic models, sweeps and results,
// file hashes.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"
#include "tests/cli_testing.h"

namespace nds::store::testing {

// Scratch folders and file bytes are tests/cli_testing.h's.
using cli_testing::read_bytes;
using ScratchDir = cli_testing::ScratchDir;

// FNV-1a of a file's bytes (enough to see that it changed).
inline uint64_t file_hash(const std::string& path) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : read_bytes(path)) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Turns the current sweeps table into version 4's: without sibling_of,
// which cannot be dropped (it references sweeps), so the table is copied.
// The results view must be dropped first (it reads sweeps).
inline void drop_sibling_of(Db& db) {
  std::string sql = *db.query_text("SELECT sql FROM sqlite_schema WHERE name = 'sweeps'");
  const size_t at = sql.find(",\n  -- Version 5");
  ASSERT_NE(at, std::string::npos) << sql;
  sql = sql.substr(0, at) + "\n)";
  sql.replace(sql.find("CREATE TABLE sweeps"), 19, "CREATE TABLE sweeps_v4");
  db.exec(sql);
  db.exec(
      "INSERT INTO sweeps_v4 SELECT id, name, family, space_json, recipe_json, seed, sample_size, "
      "parent_id, created_at, finished_at, nds_version, torch_version, device, world_size FROM "
      "sweeps; DROP TABLE sweeps; ALTER TABLE sweeps_v4 RENAME TO sweeps");
}

inline std::string hash_of(int64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(i) * 2654435761ull);
  return buf;
}

// A RegNet-like model; `i` makes it distinct. The spec is small on purpose
// (the store treats it as opaque JSON).
inline ModelRecord fake_model(int64_t i) {
  ModelRecord m;
  m.hash = hash_of(i);
  m.family = "regnet";
  m.family_params = {{"family", "regnet"},
                     {"depth", 10 + i % 15},
                     {"w_0", 8 * (1 + i % 12)},
                     {"w_a", 20.5 + static_cast<double>(i % 7)},
                     {"w_m", 2.25},
                     {"group_width", 8 << (i % 3)}};
  m.spec = {{"family", "regnet"},
            {"blocks", nlohmann::json::array({{{"kind", "conv"}, {"w_out", i}}})}};
  m.cost = {1000 + i, 200000 + 3 * i, 5000 + 7 * i};
  return m;
}

inline std::vector<NewTrial> fake_trials(int64_t n, int64_t offset = 0) {
  std::vector<NewTrial> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.push_back({fake_model(offset + i), 1000 + i, ""});
  return out;
}

inline SweepDef fake_sweep(const std::string& name, const std::string& parent = "") {
  SweepDef d;
  d.name = name;
  d.family = "regnet";
  d.space = {{"family", "regnet"}, {"depth", {{"low", 10}, {"high", 24}}}};
  d.recipe = {{"epochs", 10}, {"lr", 0.1}};
  d.seed = 7;
  d.parent = parent;
  d.build = {"0.1.0", "2.3.0", "cpu", 4};
  return d;
}

// Deterministic pseudo-random doubles with full mantissas, so exact round
// trips are a real check.
inline double noise(uint64_t& state) {
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0);
}

inline TrialResult fake_result(uint64_t seed, int epochs) {
  uint64_t s = seed * 7919 + 1;
  TrialResult r;
  r.top1_err = 100 * noise(s);
  r.top5_err = 50 * noise(s);
  r.best_top1_err = r.top1_err - noise(s);
  r.best_top5_err = r.top5_err - noise(s);
  r.train_loss = 3 * noise(s);
  r.epochs_done = epochs;
  r.train_seconds = 1000 * noise(s);
  r.images_per_sec = 5000 * noise(s);
  for (int e = 1; e <= epochs; ++e) {
    EpochMetrics m;
    m.epoch = e;
    m.train_loss = 5 * noise(s);
    m.train_top1_err = 100 * noise(s);
    m.train_top5_err = 100 * noise(s);
    m.test_top1_err = 100 * noise(s);
    m.test_top5_err = 100 * noise(s);
    m.lr = 0.1 * noise(s);
    m.seconds = 60 * noise(s);
    r.epochs.push_back(m);
  }
  return r;
}

}  // namespace nds::store::testing
