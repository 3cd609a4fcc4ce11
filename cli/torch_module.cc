// The module side: libnds_torch.so's one exported function dispatches to the
// LibTorch commands. Exceptions propagate to nds's main, which prints them.

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/torch_plugin.h"

extern "C" __attribute__((visibility("default"))) int nds_torch_command(
    const char* command, const std::vector<std::string>* args) {
  if (std::strcmp(command, "train") == 0) return nds::cli::train_command(*args);
  if (std::strcmp(command, "data") == 0) return nds::cli::data_command(*args);
  throw std::invalid_argument(std::string("the LibTorch module has no command '") + command + "'");
}
