// nds report as a user runs it: the three formats (chosen by --format or by
// -o's extension), --from-json re-rendering the document byte for byte, the
// temporary file renamed into place, and one-line exit-2 errors that leave
// no file behind.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "store/store.h"
#include "tests/cli_testing.h"
#include "tests/store_testing.h"

namespace nds::store {
namespace {

using namespace cli_testing;  // tests/cli_testing.h: running nds, scratch folders
using testing::fake_result;
using testing::fake_sweep;
using testing::fake_trials;

class ReportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.file("results.db");
    Store s(db_, {});
    const int64_t id = s.create_sweep(fake_sweep("base"), fake_trials(30));
    s.create_sweep(fake_sweep("other"), fake_trials(3, 100));
    for (int i = 0; i < 25; ++i) {
      const auto c = s.claim(id, {0, "h", "cpu"});
      s.complete(c->trial_id, fake_result(static_cast<uint64_t>(i), 3));
    }
  }

  // Exit 2, one line naming `needle`, nothing on stdout, no new file.
  void expect_usage_error(const std::string& args, const std::string& needle) {
    SCOPED_TRACE(args);
    const auto before = dir_.files();
    expect_nds_usage_error("report " + args, needle);
    EXPECT_EQ(dir_.files(), before);
  }

  ScratchDir dir_{"report_cli"};
  std::string db_;
};

TEST_F(ReportCli, FormatsFromFlagOrExtension) {
  const CmdResult html = run_nds("report --db " + db_ + " --sweep base --bootstrap 200");
  ASSERT_EQ(html.code, 0) << html.err;
  EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.out.find("<script"), std::string::npos);
  EXPECT_NE(html.out.find("Design-space report: <span class=\"name\">base</span>"),
            std::string::npos);

  const CmdResult md =
      run_nds("report --db " + db_ + " --sweep base --bootstrap 200 -o " + dir_.file("r.md"));
  ASSERT_EQ(md.code, 0) << md.err;
  EXPECT_TRUE(md.out.empty());
  EXPECT_NE(md.err.find("wrote " + dir_.file("r.md")), std::string::npos);
  EXPECT_EQ(read_bytes(dir_.file("r.md")).rfind("# Design-space report: base", 0), 0u);

  ASSERT_EQ(run_nds("report --db " + db_ + " --sweep base --compare other --bootstrap 200 -o " +
                    dir_.file("r.json"))
                .code,
            0);
  const nlohmann::json doc = read_json(dir_.file("r.json"));
  ASSERT_EQ(doc["sweeps"].size(), 2u);
  EXPECT_EQ(doc["sweeps"][1]["name"], "other");

  // --format wins over the extension.
  ASSERT_EQ(run_nds("report --db " + db_ + " --sweep base --bootstrap 200 --format html -o " +
                    dir_.file("page.md"))
                .code,
            0);
  EXPECT_EQ(read_bytes(dir_.file("page.md")).rfind("<!DOCTYPE html>", 0), 0u);
  // Only the outputs: no temporary file left.
  EXPECT_EQ(dir_.files(), (std::set<std::string>{"results.db", "r.md", "r.json", "page.md"}));
}

TEST_F(ReportCli, FromJsonRendersTheSameBytes) {
  ASSERT_EQ(
      run_nds("report --db " + db_ + " --sweep base --bootstrap 200 -o " + dir_.file("d.json"))
          .code,
      0);
  const std::string from = "report --from-json " + dir_.file("d.json");
  ASSERT_EQ(run_nds(from + " -o " + dir_.file("a.html")).code, 0);
  ASSERT_EQ(run_nds(from + " -o " + dir_.file("b.html")).code, 0);
  const std::string a = read_bytes(dir_.file("a.html"));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, read_bytes(dir_.file("b.html")));
  const CmdResult md = run_nds(from + " --format md");
  ASSERT_EQ(md.code, 0);
  EXPECT_NE(md.out.find("## Best and worst models"), std::string::npos);
  // Overwriting an existing report replaces it whole.
  ASSERT_EQ(run_nds(from + " --format md -o " + dir_.file("a.html")).code, 0);
  EXPECT_EQ(read_bytes(dir_.file("a.html")), md.out);
}

TEST_F(ReportCli, BadInputIsOneLineAndWritesNothing) {
  const std::string base = "--db " + db_ + " --sweep base ";
  expect_usage_error("--sweep base", "missing --db");
  expect_usage_error("--db " + db_, "missing --sweep");
  expect_usage_error(base + "--format pdf", "'pdf'");
  expect_usage_error("--db " + db_ + " --sweep nope -o " + dir_.file("x.html"), "nope");
  expect_usage_error(base + "--compare nope -o " + dir_.file("x.html"), "nope");
  expect_usage_error(base + "-o " + dir_.file("missing/x.html"), "does not exist");
  expect_usage_error(base + "-o " + dir_.path(), "is a directory");
  expect_usage_error("--db " + dir_.file("none.db") + " --sweep base", "none.db");
  expect_usage_error(base + "--bootstrap 0", "--bootstrap");
  expect_usage_error(base + "--max-points 0", "--max-points");
  expect_usage_error("--from-json " + dir_.write("junk.json", "{not json"), "junk.json");
  const std::string empty = dir_.write("empty.json", "{\"sweeps\": []}");
  expect_usage_error("--from-json " + empty + " -o " + dir_.file("y.html"), "sweeps");
  expect_usage_error("--from-json " + empty + " --db " + db_, "--from-json");
}

}  // namespace
}  // namespace nds::store
