#pragma once
// Commands that need LibTorch live in a module (libnds_torch.so) that nds
// loads only when one of them runs: loading LibTorch costs ~0.6 s, which
// `nds query`, `nds sample` and the rest should not pay.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/trial_runner.h"

namespace nds::cli {

// The module's entry point, looked up by name after dlopen.
constexpr const char* kTorchEntry = "nds_torch_command";
using TorchEntry = int (*)(const char* command, const std::vector<std::string>* args);

// Runs `command` in the module found next to the nds binary (or in
// $NDS_PLUGIN_DIR). Throws std::runtime_error naming the path when it cannot
// be loaded.
int run_torch_command(const char* command, const std::vector<std::string>& args);

// The commands the module implements (defined in the module only).
int train_command(const std::vector<std::string>& args);
int data_command(const std::vector<std::string>& args);

// nds sweep's LibTorch side (cli/torch_runner.cc), looked up as
// kTorchSweepEntry. Plain function pointers: the module never sees MPI.
constexpr const char* kTorchSweepEntry = "nds_torch_sweep_api";

// A sweep's recipe: what every trial trains under, compared on resume.
struct SweepRecipe {
  // {"train": trainer config without seed/threads/device, "data": source and
  //  options, "stem": "" or "cifar"}; data.channels/classes/side say what
  //  the models must take.
  nlohmann::json recipe;
  // The --data text with its folder ("cifar10:/data/cifar"): the recipe holds
  // the source's name only, so a sweep resumes where the data lives elsewhere.
  std::string data;
  std::string torch_version;  // "1.13.0"
  std::string device;         // what "auto" would give: "cpu" or "cuda"
};

struct TorchSweepApi {
  // Parses the training options of nds sweep (those of nds train that shape
  // the recipe) for a space at `resolution` with `num_classes`; checks them
  // without loading the data. A `base` recipe (not null: nds sweep
  // --recipe-of) gives what the options leave out, its data included (--data
  // may only say where that data is). Throws std::invalid_argument naming
  // the bad option.
  SweepRecipe (*make_recipe)(const std::vector<std::string>& args, int resolution,
                             int num_classes, const nlohmann::json& base);
  // Loads the recipe's data (from `data`, SweepRecipe::data) once; the
  // runner trains trial after trial on it. `device` is "auto", "cpu" or "cuda".
  std::unique_ptr<cluster::TrialRunner> (*make_runner)(const nlohmann::json& recipe,
                                                       const std::string& data,
                                                       const cluster::RunnerOptions& options,
                                                       const std::string& device);
  // The training options make_recipe accepts, for nds sweep --help.
  const char* (*options_help)();
};
using TorchSweepEntry = const TorchSweepApi* (*)();

// Loads the module (as run_torch_command does) and returns its sweep API.
const TorchSweepApi& torch_sweep_api();

}  // namespace nds::cli
