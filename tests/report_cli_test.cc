// nds report as a user runs it: the three formats (chosen by --format or by
// -o's extension), --from-json re-rendering the document byte for byte, the
// temporary file renamed into place, and one-line exit-2 errors that leave
// no file behind.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "store/store.h"
#include "tests/store_testing.h"

namespace nds::store {
namespace {

using testing::fake_result;
using testing::fake_sweep;
using testing::fake_trials;
using testing::read_bytes;
using testing::ScratchDir;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result nds(const std::string& args, const ScratchDir& dir) {
  const std::string err_file =
      dir.path() + "/../nds_report_cli_stderr_" + std::to_string(getpid()) + ".txt";
  Result r;
  FILE* pipe = popen((std::string(NDS_BINARY) + " " + args + " 2>" + err_file).c_str(), "r");
  if (!pipe) return r;
  std::array<char, 65536> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_bytes(err_file);
  std::remove(err_file.c_str());
  return r;
}

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
    const auto before = dir_.files();
    const Result r = nds("report " + args, dir_);
    EXPECT_EQ(r.code, 2) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(dir_.files(), before) << args;
  }

  ScratchDir dir_;
  std::string db_;
};

TEST_F(ReportCli, FormatsFromFlagOrExtension) {
  const Result html = nds("report --db " + db_ + " --sweep base --bootstrap 200", dir_);
  ASSERT_EQ(html.code, 0) << html.err;
  EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.out.find("<script"), std::string::npos);
  EXPECT_NE(html.out.find("Design-space report: <span class=\"name\">base</span>"),
            std::string::npos);

  const Result md =
      nds("report --db " + db_ + " --sweep base --bootstrap 200 -o " + dir_.file("r.md"), dir_);
  ASSERT_EQ(md.code, 0) << md.err;
  EXPECT_TRUE(md.out.empty());
  EXPECT_NE(md.err.find("wrote " + dir_.file("r.md")), std::string::npos);
  EXPECT_EQ(read_bytes(dir_.file("r.md")).rfind("# Design-space report: base", 0), 0u);

  ASSERT_EQ(nds("report --db " + db_ + " --sweep base --compare other --bootstrap 200 -o " +
                    dir_.file("r.json"),
                dir_)
                .code,
            0);
  const nlohmann::json doc = nlohmann::json::parse(read_bytes(dir_.file("r.json")));
  ASSERT_EQ(doc["sweeps"].size(), 2u);
  EXPECT_EQ(doc["sweeps"][1]["name"], "other");

  // --format wins over the extension.
  ASSERT_EQ(nds("report --db " + db_ + " --sweep base --bootstrap 200 --format html -o " +
                    dir_.file("page.md"),
                dir_)
                .code,
            0);
  EXPECT_EQ(read_bytes(dir_.file("page.md")).rfind("<!DOCTYPE html>", 0), 0u);
  // Only the outputs: no temporary file left.
  EXPECT_EQ(dir_.files(), (std::set<std::string>{"results.db", "r.md", "r.json", "page.md"}));
}

TEST_F(ReportCli, FromJsonRendersTheSameBytes) {
  ASSERT_EQ(
      nds("report --db " + db_ + " --sweep base --bootstrap 200 -o " + dir_.file("d.json"), dir_)
          .code,
      0);
  const std::string from = "report --from-json " + dir_.file("d.json");
  ASSERT_EQ(nds(from + " -o " + dir_.file("a.html"), dir_).code, 0);
  ASSERT_EQ(nds(from + " -o " + dir_.file("b.html"), dir_).code, 0);
  const std::string a = read_bytes(dir_.file("a.html"));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, read_bytes(dir_.file("b.html")));
  const Result md = nds(from + " --format md", dir_);
  ASSERT_EQ(md.code, 0);
  EXPECT_NE(md.out.find("## Best and worst models"), std::string::npos);
  // Overwriting an existing report replaces it whole.
  ASSERT_EQ(nds(from + " --format md -o " + dir_.file("a.html"), dir_).code, 0);
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
  std::FILE* f = std::fopen(dir_.file("junk.json").c_str(), "w");
  std::fputs("{not json", f);
  std::fclose(f);
  expect_usage_error("--from-json " + dir_.file("junk.json"), "junk.json");
  f = std::fopen(dir_.file("empty.json").c_str(), "w");
  std::fputs("{\"sweeps\": []}", f);
  std::fclose(f);
  expect_usage_error("--from-json " + dir_.file("empty.json") + " -o " + dir_.file("y.html"),
                     "sweeps");
  expect_usage_error("--from-json " + dir_.file("empty.json") + " --db " + db_, "--from-json");
}

}  // namespace
}  // namespace nds::store
