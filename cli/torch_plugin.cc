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

TorchEntry load_entry() {
  static TorchEntry entry = nullptr;  // loaded once, never unloaded (LibTorch registers globals)
  if (entry) return entry;
  const std::string path = module_path();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw std::runtime_error("cannot load the LibTorch module " + path + ": " + dlerror());
  entry = reinterpret_cast<TorchEntry>(dlsym(handle, kTorchEntry));
  if (!entry) throw std::runtime_error(path + " has no entry point " + kTorchEntry);
  return entry;
}

}  // namespace

int run_torch_command(const char* command, const std::vector<std::string>& args) {
  return load_entry()(command, &args);
}

int run_train(const std::vector<std::string>& args) { return run_torch_command("train", args); }

}  // namespace nds::cli
