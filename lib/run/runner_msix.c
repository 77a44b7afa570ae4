// SPDX-License-Identifier: MIT
/*
 * The reprogram actor (seeds 002 and 003): it moves a queue's interrupt from
 * host vector to host vector while I/O flows, in the run's MSI-X update
 * style, and the handlers of those vectors reap the queue wherever its
 * interrupt is meant to arrive.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "run/runner_int.h"

int nvr_run_msix_setup(struct run *r, char *why, size_t len)
{
	for (uint32_t i = 0; i < r->scn->nr_actors; i++) {
		const struct nvr_actor *ad = &r->scn->actors[i];

		for (uint32_t j = 0; j < ad->nr_steps; j++) {
			const struct nvr_step *st = &ad->steps[j];
			uint16_t want[NVR_MAX_MOVE_VECTORS + 1];
			uint32_t n = 0;

			if (st->kind == NVR_STEP_REAP && st->vector)
				want[n++] = st->vector;
			if (st->kind == NVR_STEP_REPROGRAM)
				for (n = 0; n < st->nr_move_to; n++)
					want[n] = st->move_to[n];
			for (uint32_t k = 0; k < n; k++) {
				int ret = nvr_irq_efd_attach(r->irq, want[k]);

				if (!ret || ret == -EBUSY)
					continue;
				snprintf(why, len, "actor '%s' (line %u): cannot attach vector "
					 "%u: %s", ad->name, st->line, want[k], strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

static void actor_failed(struct actor_rt *a, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void actor_failed(struct actor_rt *a, int err, const char *fmt, ...)
{
	va_list ap;

	a->err = err;
	va_start(ap, fmt);
	vsnprintf(a->err_msg, sizeof(a->err_msg), fmt, ap);
	va_end(ap);
	atomic_store(&a->run->abort, true);
}

void nvr_run_reprogram(struct actor_rt *a, const struct nvr_step *st)
{
	struct run *r = a->run;
	struct nvr_cq *cq = nvr_ctrl_cq(r->ctrl, st->queue);
	struct nvr_msix_move_stats ms = { 0 };
	unsigned int entry = (unsigned int)cq->vector, at = entry;
	uint32_t i = 0;
	int ret;

	while (!nvr_run_stopping(r) && (!st->count || ms.moves < st->count)) {
		unsigned int to = st->move_to[i++ % st->nr_move_to];

		if (to != at) {
			/* The migration is under way from here: an interrupt that
			 * arrives during the move is its own (see below). */
			nvr_ledger_irq_moved(r->ledger, at);
			nvr_ledger_irq_moved(r->ledger, to);
			ret = nvr_msix_move(r->irq, entry, at, to, r->msix_update, &ms);
			if (ret) {
				actor_failed(a, ret, "line %u: cannot move queue %u's interrupt "
					     "from vector %u to %u (%s): %s", st->line, st->queue,
					     at, to, nvr_msix_update_name(r->msix_update),
					     ret != -ERANGE ? strerror(-ret) :
					     r->msix_update == NVR_MSIX_RESIZE ? "no spare vector "
					     "above those in use" : "no intermediate vector on the "
					     "old CPU");
				break;
			}
			/*
			 * The old vector's handler keeps the entry: an interrupt
			 * sent before the move may still arrive there (Linux frees
			 * the old vector once one arrives on the new). Those before
			 * it are done with.
			 */
			for (uint32_t k = 0; k < st->nr_move_to; k++)
				if (st->move_to[k] != at && st->move_to[k] != to)
					nvr_irq_serve(r->irq, st->move_to[k], entry, false);
			if (entry != at && entry != to)
				nvr_irq_serve(r->irq, entry, entry, false);
			nvr_ledger_irq_moved(r->ledger, at);
			nvr_ledger_irq_moved(r->ledger, to);
			at = to;
		}
		nvr_run_sleep(r, st->every_ns);
	}
	atomic_fetch_add(&r->msix_moves, ms.moves);
}
