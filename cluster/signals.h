#pragma once
// SIGTERM, SIGINT and SIGUSR1 as a request to stop: the handler only sets a
// flag, which the farm reads between messages and the runner between steps
// (running trials go back to WAITING). A second SIGINT or SIGTERM after any
// of the three ends the process at once, the conventional way (default
// action, so it dies of that signal): the way out when a step or a data
// load takes too long. SIGUSR1 (SLURM's warning before the time limit) only
// ever asks politely.

namespace nds::cluster {

// Installs the handlers (idempotent). The previous ones are restored by
// restore_stop_signals().
void install_stop_signals();
void restore_stop_signals();

// The signal that asked to stop, 0 when none.
int stop_signal();
bool stop_requested();
// Tests and the farm's own stop path. Neither counts as a received signal:
// only a real signal arms the second one.
void request_stop(int signal);
void clear_stop();

}  // namespace nds::cluster
