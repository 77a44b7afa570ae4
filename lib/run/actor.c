// SPDX-License-Identifier: MIT
/*
 * An actor: a thread that runs its steps in order, each through the step
 * table, until they end or the run stops; barriers where actors meet.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/log.h>
#include <nvmerace/run.h>

#include "base/clock.h"
#include "base/util.h"
#include "detect/ledger.h"
#include "dev/transport.h"
#include "host/dbbuf.h"
#include "host/irq.h"
#include "host/queue.h"
#include "run/runner_int.h"

bool nvr_run_stopping(struct run *r)
{
	return atomic_load_explicit(&r->stop_submit, memory_order_relaxed) ||
	       atomic_load_explicit(&r->abort, memory_order_relaxed) ||
	       (r->opts->stop && atomic_load_explicit(r->opts->stop, memory_order_relaxed));
}

void nvr_run_barrier_init(struct barrier *b, uint32_t needed)
{
	nvr_mutex_init(&b->lock);
	b->needed = needed;
}

static void barrier_wait(struct run *r, struct barrier *b)
{
	uint32_t gen;

	nvr_mutex_lock(&b->lock);
	gen = atomic_load(&b->generation);
	if (++b->arrived == b->needed) {
		b->arrived = 0;
		atomic_fetch_add(&b->generation, 1);
		nvr_mutex_unlock(&b->lock);
		nvr_futex_wake(&b->generation, INT32_MAX);
		return;
	}
	nvr_mutex_unlock(&b->lock);
	/* Look at the stop flag every 10 ms: a stopped run does not wait for the rest. */
	while (atomic_load(&b->generation) == gen && !nvr_run_stopping(r))
		nvr_futex_wait(&b->generation, gen, 10000000);
}

void nvr_run_sleep(struct run *r, uint64_t ns)
{
	uint64_t end = nvr_now_ns() + ns;

	while (!nvr_run_stopping(r)) {
		uint64_t now = nvr_now_ns();

		if (now >= end)
			return;
		nvr_sleep_ns(NVR_MIN(end - now, 10000000ull));
	}
}

/* An actor the run waits for: it submits, tears down, or sends a bounded
 * number of keep-alives or moves. Reapers and endless keep-alives run until
 * the end. */
bool nvr_run_actor_finite(const struct nvr_actor *def)
{
	for (uint32_t i = 0; i < def->nr_steps; i++) {
		const struct nvr_step *st = &def->steps[i];

		if (st->kind == NVR_STEP_SUBMIT || st->kind == NVR_STEP_TEARDOWN ||
		    (st->kind == NVR_STEP_KEEP_ALIVE && st->count) ||
		    st->kind == NVR_STEP_RESET || st->kind == NVR_STEP_RECREATE ||
		    (st->kind == NVR_STEP_ABORT && st->count) ||
		    (st->kind == NVR_STEP_REPROGRAM && st->count))
			return true;
	}
	return false;
}

static void step_sleep(struct actor_rt *a, const struct nvr_step *st)
{
	nvr_run_sleep(a->run, st->sleep_ns);
}

static void step_barrier(struct actor_rt *a, const struct nvr_step *st)
{
	barrier_wait(a->run, &a->run->barriers[st->barrier]);
}

static void step_keep_alive(struct actor_rt *a, const struct nvr_step *st)
{
	nvr_step_keep_alive(a->run, st);
}

static void step_teardown(struct actor_rt *a, const struct nvr_step *st)
{
	nvr_step_teardown(a->run, st);
}

/* What each kind of step does, in the actor's thread. */
static void (*const step_table[NVR_STEP_NR])(struct actor_rt *a, const struct nvr_step *st) = {
	[NVR_STEP_SUBMIT] = nvr_run_step_submit,
	[NVR_STEP_REAP] = nvr_run_step_reap,
	[NVR_STEP_SLEEP] = step_sleep,
	[NVR_STEP_BARRIER] = step_barrier,
	[NVR_STEP_KEEP_ALIVE] = step_keep_alive,
	[NVR_STEP_TEARDOWN] = step_teardown,
	[NVR_STEP_REPROGRAM] = nvr_run_reprogram,
	[NVR_STEP_RESET] = nvr_run_step_reset,
	[NVR_STEP_RECREATE] = nvr_run_step_recreate,
	[NVR_STEP_ABORT] = nvr_run_step_abort,
};

void *nvr_run_actor_main(void *arg)
{
	struct actor_rt *a = arg;
	struct run *r = a->run;
	bool finite = nvr_run_actor_finite(a->def);

	for (uint32_t i = 0; i < a->def->nr_steps && !nvr_run_stopping(r); i++) {
		const struct nvr_step *st = &a->def->steps[i];

		if ((unsigned int)st->kind < NVR_STEP_NR && step_table[st->kind])
			step_table[st->kind](a, st);
	}
	if (finite)
		atomic_fetch_sub(&r->submitters_left, 1);
	return NULL;
}
