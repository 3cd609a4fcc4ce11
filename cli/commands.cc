#include "cli/commands.h"

namespace nds::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"describe", "Show a model's stages and exact params/flops/acts", run_describe},
      {"sample", "Draw reproducible models from a design space under constraints", run_sample},
  };
  return table;
}

}  // namespace nds::cli
