#pragma once
// Commands that need LibTorch live in a module (libnds_torch.so) that nds
// loads only when one of them runs: loading LibTorch costs ~0.6 s, which
// `nds query`, `nds sample` and the rest should not pay.

#include <string>
#include <vector>

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

}  // namespace nds::cli
