#include "tests/cli_testing.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace nds::cli_testing {

CmdResult shell(const std::string& command, const std::string& dir) {
  // Tests run as parallel processes: the pid keeps their stderr files apart.
  const std::string err_file = dir + "/stderr_" + std::to_string(getpid()) + ".txt";
  CmdResult r;
  FILE* pipe = popen((command + " 2>" + err_file).c_str(), "r");
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

std::string nds_binary() {
  return NDS_BINARY;
}

CmdResult run_nds(const std::string& args, const std::string& cwd) {
  const std::string cd = cwd.empty() ? "" : "cd '" + cwd + "' && ";
  return shell(cd + nds_binary() + " " + args, ::testing::TempDir());
}

ScratchDir::ScratchDir(const std::string& name) {
  std::string tmpl = ::testing::TempDir() + "nds_" + name + "_XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  chmod(path_.c_str(), 0755);  // a test may have made it read-only
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::set<std::string> ScratchDir::files() const {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path_, ec))
    out.insert(entry.path().filename().string());
  return out;
}

std::string ScratchDir::folder(const std::string& name) const {
  const std::string path = file(name);
  std::filesystem::create_directories(path);
  return path;
}

std::string ScratchDir::write(const std::string& name, const std::string& bytes) const {
  const std::string path = file(name);
  write_bytes(path, bytes);
  return path;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

int count_lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

void expect_usage_error(const CmdResult& r, const std::string& needle) {
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out.substr(0, 200);
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

void expect_nds_usage_error(const std::string& args, const std::string& needle) {
  SCOPED_TRACE(args.substr(0, 200));
  expect_usage_error(run_nds(args), needle);
}

nlohmann::json stdout_json(const CmdResult& r) {
  try {
    return nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(std::string(e.what()) + "\nstdout: " + r.out.substr(0, 2000) +
                             "\nstderr: " + r.err.substr(0, 2000));
  }
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : lines(text)) out.push_back(nlohmann::json::parse(line));
  return out;
}

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(read_bytes(path));
}

}  // namespace nds::cli_testing
