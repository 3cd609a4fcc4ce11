#pragma once
// A trained network as TorchScript that PyTorch users load with
// torch.jit.load(path): the third consumer of the layer stream.
//
// A sink writes forward() as TorchScript source, one statement per layer of
// lower(), and the module gets the network's parameters and BN running
// statistics under the builder's names with '.' replaced by '_'
// ("blocks.3.0.1.weight" -> "blocks_3_0_1_weight"). forward() is the
// evaluation-mode network: BN uses the running statistics, dropout is the
// identity. Its input is the normalized image batch the C++ network takes.

#include <string>

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include "trainer/builder.h"

namespace nds::trainer {

// The TorchScript source of forward() for `spec`.
std::string torchscript_source(const NetSpec& spec);

// A script module equal to `net` in evaluation mode, parameters on the CPU.
torch::jit::Module to_torchscript(NetImpl& net);

// Saves to_torchscript(net) to `path`; `metadata` (the spec, the input
// normalization, ...) goes into the archive as extra file "nds.json"
// (torch.jit.load(path, _extra_files={"nds.json": ""})). Throws
// std::runtime_error naming the path when it cannot be written.
void export_torchscript(NetImpl& net, const std::string& path, const nlohmann::json& metadata);

}  // namespace nds::trainer
