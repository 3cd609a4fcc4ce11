#include "cluster/signals.h"

#include <csignal>

namespace nds::cluster {
namespace {

volatile std::sig_atomic_t g_stop = 0;
// Set by the handler only: a stop the farm requested itself (request_stop)
// must not turn the next signal into a kill.
volatile std::sig_atomic_t g_received = 0;
constexpr int kSignals[] = {SIGTERM, SIGINT, SIGUSR1};
struct sigaction g_previous[3];
bool g_installed = false;

// Async-signal-safe: sig_atomic_t loads and stores, sigaction and raise only.
void on_signal(int sig) {
  if (!g_received) {
    g_received = 1;
    g_stop = sig;
    return;
  }
  if (sig == SIGUSR1) return;  // polite, however often
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  // Blocked while this handler runs; delivered, and fatal, once it returns.
  raise(sig);
}

}  // namespace

void install_stop_signals() {
  if (g_installed) return;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // All three blocked in the handler, so two signals arriving together see
  // g_received in order.
  for (int s : kSignals) sigaddset(&sa.sa_mask, s);
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
  g_received = 0;
}

}  // namespace nds::cluster
