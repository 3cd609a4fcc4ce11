// SQL text through `nds query --sql`'s guard on a small results database:
// whatever the statement, it is refused or runs read-only, within its
// deadline, and the database file (and its folder) never change.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_util.h"
#include "store/reader.h"
#include "store/sql_guard.h"
#include "store/store.h"

namespace {

// Short, so that a statement that runs until its deadline costs little.
constexpr double kTimeoutSeconds = 0.25;
constexpr int kMaxRows = 10000;

nds::store::ModelRecord model(int i) {
  nds::store::ModelRecord m;
  m.hash = "00000000000000a" + std::to_string(i);
  m.family = "regnet";
  m.family_params = {{"family", "regnet"}, {"depth", 10 + i}, {"w_0", 24},
                     {"w_a", 36.44},       {"w_m", 2.49},     {"group_width", 8}};
  m.spec = {{"family", "regnet"}, {"blocks", {{{"kind", "conv"}, {"w_out", 8 + i}}}}};
  m.cost = {1000 + i, 200000 + i, 5000 + i};
  return m;
}

// One sweep of three trials: one complete with two epochs, one failed, one waiting.
void make_database(const std::string& path) {
  nds::store::Store store(path);
  nds::store::SweepDef def;
  def.name = "s";
  def.family = "regnet";
  def.space = {{"family", "regnet"}};
  def.recipe = {{"epochs", 2}};
  def.build = {"0.1.0", "", "cpu", 1};
  const int64_t sweep =
      store.create_sweep(def, {{model(0), 1, ""}, {model(1), 2, ""}, {model(2), 3, ""}});
  const nds::store::Worker worker{0, "host", "cpu"};
  nds::store::TrialResult result;
  result.top1_err = 12.5;
  result.epochs_done = 2;
  result.epochs = {{1, 2.0, 50, 20, 40, 15, 0.1, 3}, {2, 1.0, 30, 10, 12.5, 5, 0.05, 3}};
  store.complete(store.claim(sweep, worker)->trial_id, result);
  store.fail(store.claim(sweep, worker)->trial_id, "diverged");
}

struct Database {
  nds::fuzz::ScratchDir dir;
  std::string path = dir.file("fuzz.db");
  std::vector<std::string> files;
  std::string bytes;
  std::unique_ptr<nds::store::Reader> reader;

  Database() {
    make_database(path);
    files = dir.list();
    bytes = nds::fuzz::read_bytes(path);
    reader = std::make_unique<nds::store::Reader>(path);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Database db;
  nds::fuzz::run_rejecting([&] {
    nds::store::GuardedQuery q(db.reader->db(), nds::fuzz::as_text(data, size), kTimeoutSeconds);
    nds::store::Row row;
    for (int n = 0; n < kMaxRows && q.next(&row); ++n) {
    }
  });
  nds::fuzz::check(db.dir.list() == db.files, "no file appears next to the database");
  nds::fuzz::check(nds::fuzz::read_bytes(db.path) == db.bytes, "the database is unchanged");
  return 0;
}
