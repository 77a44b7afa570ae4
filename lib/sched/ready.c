// SPDX-License-Identifier: MIT
/*
 * When a waiting actor is ready: a wait on descriptors (an eventfd and the
 * stop eventfd), answered by poll() and kept until one of them changes, and a
 * wait on the shim's events. Split from sched.c, which asks.
 */
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>

/* The model build's layouts, as in sched.c. */
#ifndef NVR_SCHED_MODEL
#define NVR_SCHED_MODEL
#endif
#include "shim.h"
#include "sched_int.h"

/*
 * The first of the descriptors that is readable now, or -1. An fd becomes
 * readable only by what an actor wrote to it (an eventfd write in its local
 * code, one actor at a time), so the answer is a function of the schedule.
 */
static int poll_fds(const struct nvr_sched_op *op)
{
	const int *fd = op->addr;
	struct pollfd pf[NVR_EVENT_MAX_ANY];
	int n = (int)op->a;

	for (int i = 0; i < n; i++)
		pf[i] = (struct pollfd){ .fd = fd[i], .events = POLLIN };
	if (poll(pf, (nfds_t)n, 0) <= 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (pf[i].revents & (POLLIN | POLLERR | POLLHUP))
			return i;
	return -1;
}

/*
 * Every eventfd read, write or close in model code is followed by
 * nvr_sched_fd_changed(fd): a waiter's answer is kept until the next one on
 * one of its descriptors, which saves a poll() per waiter per step (most of a
 * whole row's time, measured). A descriptor's count is in the slot of its
 * number modulo the table's size; a waiter's key is the sum over its
 * descriptors' slots, which grows with every change on any of them (two
 * descriptors sharing a slot cost a poll, never a missed change).
 */
#define FD_GEN_SLOTS 256
static _Atomic uint64_t fd_gen[FD_GEN_SLOTS];

void nvr_sched_fd_changed(int fd)
{
	atomic_fetch_add_explicit(&fd_gen[(unsigned int)fd % FD_GEN_SLOTS], 1,
				  memory_order_relaxed);
}

int nvr_sched_ready_fd(const struct nvr_actor *a)
{
	struct nvr_actor *m = (struct nvr_actor *)a;
	const int *fd = a->op.addr;
	uint64_t g = 1;	/* 0: not polled since the operation was announced */

	for (uint64_t i = 0; i < a->op.a; i++)
		g += atomic_load_explicit(&fd_gen[(unsigned int)fd[i] % FD_GEN_SLOTS],
					  memory_order_relaxed);

	if (m->fd_gen != g) {
		m->fd_ready = poll_fds(&a->op);
		m->fd_gen = g;
	}
	return m->fd_ready;
}

int nvr_sched_ready_event(const struct nvr_sched_op *op)
{
	struct nvr_event *const *ev = op->addr;

	for (int i = 0; i < (int)op->a; i++)
		if (ev[i]->count)
			return i;
	return -1;
}
