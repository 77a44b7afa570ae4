// SPDX-License-Identifier: MIT
/*
 * The ledger's interrupt side: what each handler wake found, spurious
 * interrupts (confirmed by the device where it can say), host triggers and
 * re-points.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/queue.h>
#include <nvmerace/wire.h>

#include "base/clock.h"
#include "base/util.h"
#include "detect/ledger.h"
#include "detect/ledger_int.h"
#include "dev/truth.h"

/* Hardware: an unexplained interrupt on @v may be a move's late one. */
static bool migrating(const struct nvr_ledger *l, struct lvec *v)
{
	uint64_t at = atomic_load_explicit(&v->moved_ns, memory_order_relaxed);

	return !l->o.truth && at && nvr_clock_ns() - at < l->o.missed_grace_ns;
}

/*
 * Hardware, during a move: @n interrupts on @vector that its own CQEs do not
 * explain may be owed to CQEs the sweep took on the other vector of the move
 * (the entry changed vectors in between): each vector of a recent move that
 * awaits an interrupt takes one. Return: how many were explained so.
 */
static uint64_t moved_await(struct nvr_ledger *l, unsigned int vector, uint64_t n)
{
	uint64_t done = 0;

	for (unsigned int u = 0; u < NVR_STATS_MAX_V && done < n; u++) {
		struct lvec *w = &l->vec[u];

		if (u != vector && migrating(l, w) &&
		    atomic_exchange_explicit(&w->await_since_ns, 0, memory_order_relaxed))
			done++;
	}
	return done;
}

/* Hardware, during a move: unexplained interrupts are the move's, not spurious. */
static void moved_wake(struct nvr_ledger *l, unsigned int vector, struct lvec *v, uint64_t n)
{
	uint64_t p = moved_await(l, vector, n);

	atomic_fetch_add_explicit(&v->empty_polled, p, memory_order_relaxed);
	atomic_fetch_add_explicit(&v->empty_early, n - p, memory_order_relaxed);
}

/* How many of @want candidate spurious interrupts on @v the device's truth confirms. */
static uint64_t confirm_spurious(struct nvr_ledger *l, unsigned int vector, struct lvec *v,
				 uint64_t want)
{
	struct nvr_vec_truth t;
	uint64_t avail;

	if (!l->o.truth)
		return want;	/* real hardware: host evidence is all there is */
	nvr_truth_vec(l->o.truth, (uint16_t)vector, &t);
	avail = t.unjustified + atomic_load(&v->triggered);
	avail = avail > v->confirmed ? avail - v->confirmed : 0;
	return NVR_MIN(want, avail);
}

/*
 * Hardware: the credits still good at @now. A CQE the handler reaped before
 * its interrupt arrived owes that interrupt, and under load several wakes
 * may pass before it comes (QEMU's MSI-X reaches the eventfd through the
 * guest's interrupt path while the handler already reaps the next CQEs), so
 * credits carry over from wake to wake. They lapse missed_grace_ns after the
 * last wake that reaped, the time the ledger allows an interrupt to follow
 * its CQE, so that a spurious interrupt on a quiet vector is still one.
 */
static uint64_t hw_credits(const struct nvr_ledger *l, struct lvec *v, uint64_t now)
{
	if (v->credits && now > v->credits_ns && now - v->credits_ns > l->o.missed_grace_ns)
		v->credits = 0;
	return v->credits;
}

/*
 * Hardware, after a wake's reap and its head doorbell: is a CQE already
 * posted at the head of one of @vector's CQs? The device then saw a head
 * doorbell that left entries it had posted unconsumed, and may signal them
 * again: QEMU 7.2 sends an MSI-X message after such a doorbell with no new
 * CQE behind it (the CQ still has unconsumed entries, which is what an
 * interrupt says). The handler may take those entries before that message
 * arrives.
 */
static bool posted_past_head(struct nvr_ledger *l, unsigned int vector)
{
	bool any = false;

	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr && !any; i++) {
		struct nvr_lcq *c = l->cqs[i];

		any = c->vector == (int)vector && c->lsq->live && nvr_cq_pending(c->cq);
	}
	pthread_mutex_unlock(&l->lock);
	return any;
}

void nvr_ledger_irq_wake(struct nvr_ledger *l, unsigned int vector, uint64_t count,
			 unsigned int reaped, bool serviced, uint64_t woke_ns)
{
	struct lvec *v;
	uint64_t others, new_others, deficit = 0, n = 0;

	if (vector >= NVR_STATS_MAX_V)
		return;
	v = &l->vec[vector];
	if (!atomic_load_explicit(&v->used, memory_order_relaxed))
		atomic_store_explicit(&v->used, true, memory_order_relaxed);
	atomic_fetch_add_explicit(&v->wakes, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&v->irqs, count, memory_order_relaxed);
	/* Not serviced: it could not take the CQ (reaped nothing), or stopped
	 * at its per-wake limit with CQEs left (reaped some). */
	atomic_store_explicit(&v->unserviced_ns, serviced ? 0 : nvr_clock_ns(), memory_order_relaxed);
	if (!serviced && !reaped)
		return;
	atomic_fetch_add_explicit(&v->handled, reaped, memory_order_relaxed);
	if (reaped)
		nvr_hist_add(&v->lat, nvr_clock_ns() - woke_ns);
	others = atomic_load_explicit(&v->others, memory_order_relaxed);
	new_others = others - v->others_seen;
	v->others_seen = others;
	/* Without device truth, a poller's CQE may explain an interrupt that
	 * arrives several wakes later (a handler thread scheduled late). */
	if (!l->o.truth)
		v->polled += new_others;

	/*
	 * Each interrupt must be explained by a CQE: one this wake reaped, one
	 * an earlier wake reaped before its interrupt arrived (credits), or one
	 * a poller took (benign, counted apart). On a simulator the device's
	 * truth decides first: an interrupt it sent with nothing new behind it
	 * is spurious even when a poller happened to be busy on the queue.
	 */
	if (reaped && l->o.truth) {
		if (count > reaped + v->credits)
			deficit = count - reaped - v->credits;
		v->credits = reaped > count ? reaped - count : 0;
	} else if (reaped) {
		uint64_t c = hw_credits(l, v, woke_ns), p, u, left;
		uint32_t cap = atomic_load_explicit(&v->depth, memory_order_relaxed);

		/* Interrupts beyond this wake's own CQEs go first to the CQEs a
		 * poller or the sweep took (theirs did follow): this vector's,
		 * then, while an entry moves, the other vector's of the move
		 * (the interrupt follows the entry); then to credits. A credit
		 * taken first would leave the swept CQE to be called missed. */
		deficit = count > reaped ? count - reaped : 0;
		p = NVR_MIN(deficit, v->polled);
		v->polled -= p;
		deficit -= p;
		atomic_fetch_add_explicit(&v->empty_polled, p, memory_order_relaxed);
		if (p)
			atomic_store_explicit(&v->await_since_ns, 0, memory_order_relaxed);
		if (deficit && migrating(l, v)) {
			p = moved_await(l, vector, deficit);
			deficit -= p;
			atomic_fetch_add_explicit(&v->empty_polled, p, memory_order_relaxed);
		}
		u = NVR_MIN(deficit, c);
		deficit -= u;
		/* What this wake took beyond what it read, what earlier wakes left
		 * unused, and the one a head doorbell that left CQEs may bring, up
		 * to the CQEs the vector's queues can hold. */
		left = (reaped > count ? reaped - count : 0) + c - u;
		if (posted_past_head(l, vector))
			left++;
		v->credits = cap ? NVR_MIN(left, (uint64_t)cap) : left;
		v->credits_ns = woke_ns;
	}
	if (reaped) {
		if (deficit && migrating(l, v)) {
			moved_wake(l, vector, v, deficit);
			deficit = 0;
		}
		n = deficit ? confirm_spurious(l, vector, v, deficit) : 0;
		atomic_fetch_add_explicit(&v->empty_early, deficit - n, memory_order_relaxed);
	} else {
		uint64_t rest;

		n = l->o.truth ? confirm_spurious(l, vector, v, count) : 0;
		rest = count - n;
		if (rest && new_others && l->o.truth) {
			/* The interrupt for CQEs a poller took: they were not missed. */
			atomic_fetch_add_explicit(&v->empty_polled, rest, memory_order_relaxed);
			atomic_store_explicit(&v->await_since_ns, 0, memory_order_relaxed);
		} else if (rest) {
			uint64_t early, p = l->o.truth ? 0 : NVR_MIN(rest, v->polled);

			if (p) {
				v->polled -= p;
				rest -= p;
				atomic_fetch_add_explicit(&v->empty_polled, p, memory_order_relaxed);
				atomic_store_explicit(&v->await_since_ns, 0, memory_order_relaxed);
			}
			if (rest && !l->o.truth && migrating(l, v)) {
				p = moved_await(l, vector, rest);
				rest -= p;
				atomic_fetch_add_explicit(&v->empty_polled, p, memory_order_relaxed);
			}
			early = NVR_MIN(rest, l->o.truth ? v->credits : hw_credits(l, v, woke_ns));

			v->credits -= early;
			atomic_fetch_add_explicit(&v->empty_early, early, memory_order_relaxed);
			rest -= early;
			/* Unexplained: on hardware that is a spurious interrupt; on a
			 * simulator the device says it was owed, so a benign race. */
			if (l->o.truth)
				atomic_fetch_add_explicit(&v->empty_early, rest, memory_order_relaxed);
			else if (migrating(l, v))
				moved_wake(l, vector, v, rest);
			else
				n += rest;
		}
	}
	v->confirmed += n;
	for (uint64_t i = 0; i < n; i++) {
		const char *why = l->o.truth ? "; the device confirms it sent it" : "";
		struct nvr_vec_truth t;

		if (l->o.truth) {
			nvr_truth_vec(l->o.truth, (uint16_t)vector, &t);
			if (t.stray > v->stray_seen) {
				v->stray_seen++;
				why = "; the device sent it: a torn MSI-X message, another entry "
				      "sampled between its address and data writes";
			}
		}
		atomic_fetch_add_explicit(&v->spurious, 1, memory_order_relaxed);
		nvr_ledger_record(l, NULL, NVR_AN_SPURIOUS_IRQ, -1, (int)vector,
		       "interrupt on vector %u with no new CQE on its queues (%" PRIu64
		       " read from the eventfd, %u CQEs reaped)%s", vector, count, reaped, why);
	}
}

void nvr_ledger_irq_triggered(struct nvr_ledger *l, unsigned int vector)
{
	if (vector < NVR_STATS_MAX_V)
		atomic_fetch_add(&l->vec[vector].triggered, 1);
}

void nvr_ledger_irq_moved(struct nvr_ledger *l, unsigned int vector)
{
	if (vector < NVR_STATS_MAX_V)
		atomic_store_explicit(&l->vec[vector].moved_ns, nvr_clock_ns(),
				      memory_order_relaxed);
}

void nvr_ledger_irq_repointed(struct nvr_ledger *l, unsigned int vector)
{
	if (vector < NVR_STATS_MAX_V)
		atomic_fetch_add(&l->vec[vector].repoints, 1);
}

