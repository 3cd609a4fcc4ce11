#pragma once
// What the tests share for running nds as a user does: a command line in,
// its exit status, stdout and stderr out; scratch folders that clean up after
// themselves; the one-line exit-2 usage error; and the JSON that nds prints.
// Built once into the nds_cli_testing library (tests/cli_testing.cc).

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nds::cli_testing {

// What a command did: its exit status (-1 when it did not exit normally) and
// everything it wrote to stdout and stderr.
struct CmdResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `command` with sh; a file in `dir` holds its stderr meanwhile.
CmdResult shell(const std::string& command, const std::string& dir);

// Runs the nds binary with `args` (shell syntax), in the folder `cwd` when given.
CmdResult run_nds(const std::string& args, const std::string& cwd = "");

// The path of the nds binary under test.
std::string nds_binary();

// A fresh folder under the test temp dir ("nds_<name>_XXXXXX"), removed with
// everything in it at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name = "scratch");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // The names of the entries directly in the folder.
  std::set<std::string> files() const;
  // Creates the folder file(name) (and its parents) and returns its path.
  std::string folder(const std::string& name) const;
  // Writes `bytes` to file(name) and returns that path.
  std::string write(const std::string& name, const std::string& bytes) const;

 private:
  std::string path_;
};

std::string read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::string& bytes);

// The lines of `text`, without their '\n'.
std::vector<std::string> lines(const std::string& text);
int count_lines(const std::string& text);

// Exit 2, exactly one line on stderr containing `needle`, nothing on stdout.
void expect_usage_error(const CmdResult& r, const std::string& needle);
// Runs nds with `args` and expects that usage error of it.
void expect_nds_usage_error(const std::string& args, const std::string& needle);

// The JSON document nds printed on stdout; throws std::runtime_error naming
// the command's output and stderr when it is not JSON.
nlohmann::json stdout_json(const CmdResult& r);
// One JSON document per line of `text` (JSON Lines).
std::vector<nlohmann::json> json_lines(const std::string& text);
// The JSON document in the file `path`.
nlohmann::json read_json(const std::string& path);

}  // namespace nds::cli_testing
