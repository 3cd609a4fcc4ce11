// The nds side of the LibTorch module: find it, load it, forward the command.

#include "cli/torch_plugin.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <stdexcept>

#include "cli/commands.h"

namespace nds::cli {
namespace {

constexpr const char* kModuleName = "libnds_torch.so";

std::string module_path() {
  if (const char* dir = std::getenv("NDS_PLUGIN_DIR"); dir && *dir)
    return std::string(dir) + "/" + kModuleName;
  char exe[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) throw std::runtime_error("cannot locate the nds binary to find " + std::string(kModuleName));
  std::string path(exe, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + kModuleName;
}

void* load_module() {
  static void* handle = nullptr;  // loaded once, never unloaded (LibTorch registers globals)
  if (handle) return handle;
  const std::string path = module_path();
  handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw std::runtime_error("cannot load the LibTorch module " + path + ": " + dlerror());
  return handle;
}

void* load_symbol(const char* name) {
  void* symbol = dlsym(load_module(), name);
  if (!symbol) throw std::runtime_error(module_path() + " has no entry point " + name);
  return symbol;
}

TorchEntry load_entry() {
  static TorchEntry entry = nullptr;
  if (!entry) entry = reinterpret_cast<TorchEntry>(load_symbol(kTorchEntry));
  return entry;
}

}  // namespace

int run_torch_command(const char* command, const std::vector<std::string>& args) {
  return load_entry()(command, &args);
}

int run_train(const std::vector<std::string>& args) { return run_torch_command("train", args); }
int run_data(const std::vector<std::string>& args) { return run_torch_command("data", args); }

const TorchSweepApi& torch_sweep_api() {
  static const TorchSweepApi* api = nullptr;
  if (!api) api = reinterpret_cast<TorchSweepEntry>(load_symbol(kTorchSweepEntry))();
  return *api;
}

}  // namespace nds::cli
