// Text that is not valid UTF-8 never throws where nds writes JSON (stored
// events, specs, errors, query/export/status output): it becomes U+FFFD.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "sampler/design_space.h"
#include "store/store.h"
#include "tests/cli_testing.h"
#include "tests/store_testing.h"

namespace {

using nlohmann::json;

const std::string kBad = "\xff\xfe";              // never valid UTF-8
const std::string kReplacement = "\xef\xbf\xbd";  // U+FFFD

using namespace nds::cli_testing;  // tests/cli_testing.h: running nds, scratch folders

void expect_replaced(const CmdResult& r, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find(kReplacement), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kBad), std::string::npos);
}

// A database whose stored texts (space, recipe, model params, host, device,
// error, event detail) hold bytes that are not UTF-8: writing it must not throw.
std::string bad_database(const ScratchDir& dir) {
  namespace st = nds::store;
  const std::string path = dir.file("bad.db");
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
  const ScratchDir dir("utf8_cli");
  std::string db;
  ASSERT_NO_THROW(db = bad_database(dir));
  expect_replaced(run_nds("export --db " + db + " --sweep s --format jsonl"), "export jsonl");
  expect_replaced(run_nds("query --db " + db + " --trials s --format json"), "query --trials");
  expect_replaced(run_nds("query --db " + db +
                          " --sql \"SELECT detail FROM events WHERE kind = 'note'\" --format json"),
                  "query events");
  expect_replaced(
      run_nds("query --db " + db + " --sql \"SELECT space_json FROM sweeps\" --format json"),
      "query space");
}

TEST(Utf8, QueryOfBadTextPrintsReplacement) {
  const ScratchDir dir("utf8_cli");
  const std::string db = dir.file("empty.db");
  { nds::store::Store store(db); }
  expect_replaced(run_nds("query --db " + db +
                          " --sql \"SELECT CAST(x'61fffe62' AS TEXT) AS t\" --format json"),
                  "query --sql");
}

// A file with bad bytes in a string is a usage error: exit 2, one line.
TEST(Utf8, BadBytesInFilesAreOneLineUsageErrors) {
  const ScratchDir dir("utf8_cli");
  const std::string path =
      dir.write("bad.json", "{\"name\": \"n" + kBad + "\", \"family\": \"regnet\"}");
  for (const std::string& args : {"describe " + path, "sample --space " + path})
    expect_nds_usage_error(args, "");
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
