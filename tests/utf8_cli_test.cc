// Text that is not valid UTF-8 never throws where nds writes JSON (stored
// events, specs, errors, query/export/status output): it becomes U+FFFD.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "sampler/design_space.h"
#include "store/store.h"
#include "tests/cluster_testing.h"
#include "tests/store_testing.h"

namespace {

using nlohmann::json;

const std::string kBad = "\xff\xfe";              // never valid UTF-8
const std::string kReplacement = "\xef\xbf\xbd";  // U+FFFD

using Result = nds::cluster::testing::CmdResult;

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "nds_utf8_cli_test_" + std::to_string(getpid()) + "_" + name;
}

Result nds(const std::string& args) {
  return nds::cluster::testing::shell(std::string(NDS_BINARY) + " " + args, ::testing::TempDir());
}

void expect_replaced(const Result& r, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find(kReplacement), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kBad), std::string::npos);
}

// A database whose stored texts (space, recipe, model params, host, device,
// error, event detail) hold bytes that are not UTF-8: writing it must not throw.
std::string bad_database() {
  namespace st = nds::store;
  const std::string path = temp_path("bad.db");
  std::remove(path.c_str());
  st::Store store(path);
  st::SweepDef def = st::testing::fake_sweep("s");
  def.space["description"] = "space " + kBad;
  def.recipe["data"] = "/data/" + kBad;
  std::vector<st::NewTrial> trials = st::testing::fake_trials(3);
  trials[0].model.family_params["stem_type"] = "stem" + kBad;
  const int64_t sweep = store.create_sweep(def, trials);
  const auto claimed = store.claim(sweep, st::Worker{0, "host" + kBad, "dev" + kBad});
  if (!claimed) throw std::runtime_error("nothing to claim");
  store.fail(claimed->trial_id, "error " + kBad);
  store.log_event("note", sweep, std::nullopt, json{{"message", "detail " + kBad}});
  store.flush();
  return path;
}

TEST(Utf8, StoreWritesAndCommandsPrintReplacement) {
  std::string db;
  ASSERT_NO_THROW(db = bad_database());
  expect_replaced(nds("export --db " + db + " --sweep s --format jsonl"), "export jsonl");
  expect_replaced(nds("query --db " + db + " --trials s --format json"), "query --trials");
  expect_replaced(nds("query --db " + db +
                      " --sql \"SELECT detail FROM events WHERE kind = 'note'\" --format json"),
                  "query events");
  expect_replaced(
      nds("query --db " + db + " --sql \"SELECT space_json FROM sweeps\" --format json"),
      "query space");
  std::remove(db.c_str());
}

TEST(Utf8, QueryOfBadTextPrintsReplacement) {
  const std::string db = temp_path("empty.db");
  std::remove(db.c_str());
  { nds::store::Store store(db); }
  expect_replaced(
      nds("query --db " + db + " --sql \"SELECT CAST(x'61fffe62' AS TEXT) AS t\" --format json"),
      "query --sql");
  std::remove(db.c_str());
}

// A file with bad bytes in a string is a usage error: exit 2, one line.
TEST(Utf8, BadBytesInFilesAreOneLineUsageErrors) {
  const std::string path = temp_path("bad.json");
  std::ofstream(path) << "{\"name\": \"n" << kBad << "\", \"family\": \"regnet\"}";
  for (const std::string& args : {"describe " + path, "sample --space " + path}) {
    SCOPED_TRACE(args);
    const Result r = nds(args);
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(r.out.empty()) << r.out;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  }
  std::remove(path.c_str());
}

// A space whose values hold bad bytes gets the intended error, not a json
// type_error from quoting the value.
TEST(Utf8, DesignSpaceErrorsQuoteBadBytes) {
  const json bad = "x" + kBad;
  const json cases[] = {
      bad,
      json{{"family", "regnet"}, {"max_attempts", bad}},
      json{{"family", "regnet"}, {"params", bad}},
      json{{"family", "regnet"}, {"params", {{"depth", {{"dist", "int"}, {"low", bad}}}}}},
  };
  for (const json& j : cases) {
    SCOPED_TRACE(j.dump(-1, ' ', false, json::error_handler_t::replace));
    try {
      nds::sampler::parse_design_space(j, "t");
      ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(kReplacement), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not std::invalid_argument: " << e.what();
    }
  }
}

}  // namespace
