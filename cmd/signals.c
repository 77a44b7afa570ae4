// SPDX-License-Identifier: MIT
/*
 * SIGINT and SIGTERM for the commands that hold a device. The first signal
 * only sets stop_requested: the command stops at its next look, the library
 * shuts the controller down, disables it, unmaps DMA and releases vectors,
 * and the report is written, marked interrupted. The second leaves at once:
 * it runs the emergency hooks (restore the terminal), newest first, and exits
 * 130 without the teardown. The simulated device lives in this process and
 * goes with it; a VFIO device is reset by vfio-pci when the process's file
 * descriptors close. A device that --bind took from its driver must be given
 * back, which needs the teardown: signals_hold() makes the second signal wait
 * for it.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "nvmerace.h"
#include "cmd.h"

#define MAX_HOOKS 8

_Atomic int stop_requested;

static void (*hooks[MAX_HOOKS])(void);
static _Atomic unsigned int nr_hooks;
static _Atomic bool hold;

void signals_hold(bool on)
{
	atomic_store(&hold, on);
}

int signals_on_emergency(void (*fn)(void))
{
	unsigned int n = atomic_load(&nr_hooks);

	if (n == MAX_HOOKS)
		return -1;
	hooks[n] = fn;
	/* Published after the slot is written: a handler sees whole entries only. */
	atomic_store(&nr_hooks, n + 1);
	return 0;
}

static void on_signal(int sig)
{
	static const char msg[] = "nvmerace: second signal: exiting now, without teardown\n";
	static const char held[] = "nvmerace: second signal: giving the device back to its "
				   "driver first\n";
	unsigned int n;

	(void)sig;
	if (!atomic_exchange(&stop_requested, 1))
		return;
	if (atomic_load(&hold)) {
		if (write(STDERR_FILENO, held, sizeof(held) - 1) < 0)
			return;
		return;
	}
	for (n = atomic_load(&nr_hooks); n--;)
		hooks[n]();
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(130);
	_exit(130);
}

void signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* One handler at a time: a SIGTERM inside a SIGINT's handler waits. */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
