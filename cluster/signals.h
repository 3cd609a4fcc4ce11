#pragma once
// SIGTERM, SIGINT and SIGUSR1 as a request to stop: the handler only sets a
// flag, which the farm reads between messages and the runner between steps.

namespace nds::cluster {

// Installs the handlers (idempotent). The previous ones are restored by
// restore_stop_signals().
void install_stop_signals();
void restore_stop_signals();

// The signal that asked to stop, 0 when none.
int stop_signal();
bool stop_requested();
// Tests and the farm's own stop path.
void request_stop(int signal);
void clear_stop();

}  // namespace nds::cluster
