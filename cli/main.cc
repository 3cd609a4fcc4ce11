// nds: network design spaces. Dispatches to the subcommand table; every error
// becomes one line on stderr and a non-zero exit.

#include <boost/program_options/errors.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/version.h"

namespace {

using nds::cli::Command;
using nds::cli::commands;

void print_help(std::ostream& out) {
  out << "nds " << NDS_VERSION << " - network design spaces\n\n"
      << "usage: nds <command> [options]\n"
      << "       nds <command> --help\n"
      << "       nds --version\n\n"
      << "commands:\n";
  for (const Command& c : commands()) {
    std::string name = c.name;
    name.resize(12, ' ');
    out << "  " << name << c.summary << '\n';
  }
}

// One line, whatever the exception text holds.
std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_help(std::cerr);
    return nds::cli::kExitUsage;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    print_help(std::cout);
    return nds::cli::kExitOk;
  }
  if (first == "--version" || first == "-V") {
    std::cout << "nds " << NDS_VERSION << '\n';
    return nds::cli::kExitOk;
  }
  for (const Command& c : commands()) {
    if (first != c.name) continue;
    const std::string prefix = std::string("nds ") + c.name + ": ";
    try {
      return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const boost::program_options::error& e) {
      std::cerr << prefix << one_line(e.what()) << " (see nds " << c.name << " --help)\n";
      return nds::cli::kExitUsage;
    } catch (const std::invalid_argument& e) {
      std::cerr << prefix << one_line(e.what()) << '\n';
      return nds::cli::kExitUsage;
    } catch (const std::exception& e) {
      std::cerr << prefix << one_line(e.what()) << '\n';
      return nds::cli::kExitFailure;
    }
  }
  if (!first.empty() && first[0] == '-')
    std::cerr << "nds: unknown option '" << first << "' (see nds --help)\n";
  else
    std::cerr << "nds: unknown command '" << first << "' (see nds --help)\n";
  return nds::cli::kExitUsage;
}
