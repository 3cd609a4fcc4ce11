#pragma once
// The nds subcommands: an explicit name -> function table.

#include <string>
#include <vector>

namespace nds::cli {

// Exit codes shared by every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // a run that failed (I/O, database, training)
constexpr int kExitUsage = 2;    // bad input: options, names, specs, files

struct Command {
  const char* name;
  const char* summary;
  // Receives the arguments after the subcommand name. Throws
  // std::invalid_argument or boost::program_options::error for bad input.
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& commands();

int run_describe(const std::vector<std::string>& args);
int run_sample(const std::vector<std::string>& args);
int run_train(const std::vector<std::string>& args);
int run_data(const std::vector<std::string>& args);
int run_query(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);
int run_db(const std::vector<std::string>& args);
int run_analyze(const std::vector<std::string>& args);
int run_refine(const std::vector<std::string>& args);
int run_sweep(const std::vector<std::string>& args);
int run_status(const std::vector<std::string>& args);
int run_slurm(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);

}  // namespace nds::cli
