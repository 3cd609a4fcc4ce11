#include "sweep/open.h"

#include <sys/stat.h>

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampler/design_space.h"
#include "store/reader.h"
#include "sweep/trials.h"

namespace nds::sweep {
namespace {

using nlohmann::json;

bool file_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

std::string first_difference(const json& a, const json& b) {
  const json patch = json::diff(a, b);
  if (patch.empty()) return "";
  std::string path = patch[0].value("path", std::string());
  return path.empty() ? "the whole value" : path;
}

std::string where_is(const Plan& p) {
  return "sweep '" + p.name + "' in " + p.db;
}

// The stored space, recipe, seed and sibling must be the plan's.
void check_same_experiment(const store::Statement& st, const Plan& p) {
  const std::string where = where_is(p);
  const std::string hint = "; run it with its own options, or use a new --name";
  json stored_space;
  try {
    stored_space = sampler::canonical_json(
        sampler::parse_design_space(json::parse(st.text(0)), "the stored space"));
  } catch (const std::exception& e) {
    throw std::invalid_argument(where + " has a space this nds cannot read (" + e.what() + ")");
  }
  const json space = sampler::canonical_json(p.space);
  if (stored_space != space)
    throw std::invalid_argument(where + " was made with a different space (" +
                                first_difference(stored_space, space) + " differs)" + hint);
  const json stored_recipe = json::parse(st.text(1));
  if (stored_recipe != p.recipe)
    throw std::invalid_argument(where + " was made with a different recipe (" +
                                first_difference(stored_recipe, p.recipe) + " differs)" + hint);
  if (static_cast<std::uint64_t>(st.int64(2)) != p.seed)
    throw std::invalid_argument(where + " was made with --seed " + std::to_string(st.int64(2)) +
                                ", not " + std::to_string(p.seed) + hint);
  const std::string stored_sibling = st.text(4);
  if (stored_sibling != p.sibling_of)
    throw std::invalid_argument(
        where +
        (stored_sibling.empty() ? " was not made with --recipe-of"
                                : " was made with --recipe-of " + stored_sibling) +
        (p.sibling_of.empty() ? "" : ", not --recipe-of " + p.sibling_of) + hint);
}

// The existing sweep must be the same experiment; otherwise one line says
// what differs. Returns its number of samples (references not counted), or
// nullopt when there is no such sweep.
std::optional<int64_t> check_same_sweep(const store::Db& db, const Plan& p) {
  store::Statement st = db.prepare(
      "SELECT space_json, recipe_json, seed, (SELECT count(*) FROM trials t WHERE t.sweep_id = "
      "s.id AND t.latest = 1 AND t.reference IS NULL), (SELECT b.name FROM sweeps b WHERE b.id = "
      "s.sibling_of) FROM sweeps s WHERE s.name = ?1");
  st.bind(1, p.name);
  if (!st.step()) return std::nullopt;
  check_same_experiment(st, p);
  const int64_t stored = st.int64(3);
  // Growing is safe (sample i does not depend on N); shrinking would drop
  // trained samples from the sweep.
  if (p.n < stored)
    throw std::invalid_argument(where_is(p) + " has " + std::to_string(stored) +
                                " samples and cannot shrink to " + std::to_string(p.n) +
                                " (a sweep keeps all its samples: -n " + std::to_string(stored) +
                                " resumes it, a larger -n grows it, a new --name starts a "
                                "smaller one)");
  return stored;
}

// check_same_sweep() with a read-only connection, before the writer opens
// the file (it logs events and commits even when it then refuses), so a
// refused command leaves the database byte for byte as it was. A file that
// cannot be read this way is left to the writer, which says why or migrates it.
std::optional<int64_t> precheck(const Plan& p) {
  std::unique_ptr<store::Reader> reader;
  try {
    reader = std::make_unique<store::Reader>(p.db);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  try {
    return check_same_sweep(reader->db(), p);
  } catch (const store::StoreError&) {
    return std::nullopt;  // busy or unreadable: the writer decides
  }
}

// Adds samples stored..p.n-1 to the sweep. The stored samples must be what
// this nds draws for their indices, or the grown sweep would mix samplers.
void grow(store::Store& store, const Plan& p, int64_t sweep_id, int64_t stored,
          std::vector<store::NewTrial> samples) {
  {
    store::Statement st = store.db().prepare(
        "SELECT t.sample_index, m.hash FROM trials t JOIN models m ON m.id = t.model_id "
        "WHERE t.sweep_id = ?1 AND t.latest = 1 AND t.reference IS NULL ORDER BY t.sample_index");
    st.bind(1, sweep_id);
    for (int64_t i = 0; i < stored && st.step(); ++i) {
      const std::string& drawn = samples[static_cast<size_t>(i)].model.hash;
      if (st.int64(0) != i || st.text(1) != drawn)
        throw std::invalid_argument(where_is(p) + ": its sample " + std::to_string(i) + " (model " +
                                    st.text(1) + ") is not what this nds draws (" + drawn +
                                    "), so it cannot grow; use a new --name");
    }
  }
  samples.erase(samples.begin(), samples.begin() + stored);
  store.grow_sweep(sweep_id, stored, samples);
}

// Checks and samples before the writer opens the file, so refused input or
// bad constraints leave nothing behind and an existing file as it was. The
// samples, when the sweep will need them.
std::optional<std::vector<store::NewTrial>> samples_before_opening(const Plan& p, bool created) {
  if (created) {
    if (!p.space.parent.empty())
      throw std::invalid_argument("parent sweep '" + p.space.parent + "' of '" + p.name +
                                  "' is not in '" + p.db + "' (the database does not exist yet)");
    return make_samples(p);
  }
  if (const std::optional<int64_t> stored = precheck(p); stored && *stored < p.n)
    return make_samples(p);
  return std::nullopt;
}

std::unique_ptr<store::Store> open_store(const Plan& p) {
  store::StoreOptions so;
  so.nds_version = p.nds_version;
  so.journal = p.journal;
  so.busy_timeout_ms = p.busy_timeout_ms;
  return std::make_unique<store::Store>(p.db, so);
}

// A new sweep: its samples, then its references.
int64_t create_sweep(store::Store& store, const Plan& p, int world_size,
                     std::vector<store::NewTrial> trials) {
  add_references(p, trials);
  store::SweepDef def;
  def.name = p.name;
  def.family = p.space.family;
  def.space = sampler::to_json(p.space);
  def.recipe = p.recipe;
  def.seed = static_cast<int64_t>(p.seed);
  def.parent = p.space.parent;
  def.sibling_of = p.sibling_of;
  def.build = {p.nds_version, p.torch_version, p.device_kind, world_size};
  return store.create_sweep(def, trials);
}

Opened open_sweep_in(const Plan& p, int world_size, bool created) {
  Opened o;
  o.total = p.n + static_cast<int64_t>(p.space.include.size());
  std::optional<std::vector<store::NewTrial>> samples = samples_before_opening(p, created);
  o.store = open_store(p);
  store::Store& store = *o.store;
  if (const std::optional<int64_t> id = store.find_sweep(p.name)) {
    // Again under the writer lock: another run may have grown it meanwhile.
    const int64_t stored = check_same_sweep(store.db(), p).value();
    o.sweep_id = *id;
    o.resumed = true;
    if (stored < p.n) {
      grow(store, p, *id, stored, samples ? std::move(*samples) : make_samples(p));
      o.grown_from = stored;
    }
  } else {
    o.sweep_id =
        create_sweep(store, p, world_size, samples ? std::move(*samples) : make_samples(p));
  }
  // This process holds the writer lock, so a RUNNING trial belongs to a run
  // that died: retry it.
  o.requeued = store.requeue_stale(o.sweep_id, 0.0);
  if (p.max_retries > 0) o.requeued += store.requeue_failed(o.sweep_id, p.max_retries + 1);
  store.flush();
  return o;
}

}  // namespace

// A database this command created is removed again when the sweep could not
// be set up in it, so bad input leaves no empty file behind.
Opened open_sweep(const Plan& p, int world_size) {
  const bool created = !file_exists(p.db);
  try {
    return open_sweep_in(p, world_size, created);
  } catch (...) {
    if (created)
      for (const char* suffix : {"", "-wal", "-shm", "-journal", ".lock"})
        std::remove((p.db + suffix).c_str());
    throw;
  }
}

}  // namespace nds::sweep
