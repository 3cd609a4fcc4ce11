#include "cluster/signals.h"

#include <csignal>

namespace nds::cluster {
namespace {

volatile std::sig_atomic_t g_stop = 0;
constexpr int kSignals[] = {SIGTERM, SIGINT, SIGUSR1};
struct sigaction g_previous[3];
bool g_installed = false;

void on_signal(int sig) {
  g_stop = sig;
}

}  // namespace

void install_stop_signals() {
  if (g_installed) return;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // the farm polls the flag; no call needs to fail with EINTR
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &g_previous[i]);
  g_installed = true;
}

void restore_stop_signals() {
  if (!g_installed) return;
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &g_previous[i], nullptr);
  g_installed = false;
}

int stop_signal() {
  return g_stop;
}
bool stop_requested() {
  return g_stop != 0;
}
void request_stop(int signal) {
  g_stop = signal;
}
void clear_stop() {
  g_stop = 0;
}

}  // namespace nds::cluster
