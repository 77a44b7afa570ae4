// SPDX-License-Identifier: MIT
/*
 * The ledger's periodic checks, from one thread: lost commands, stalled
 * queues (and the shadow-doorbell EventIdx stall), missed interrupts, DMA
 * after teardown; and the end of a run.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/wire.h>

#include "base/clock.h"
#include "base/util.h"
#include "detect/ledger.h"
#include "detect/ledger_int.h"
#include "dev/journal.h"
#include "dev/truth.h"

void nvr_ledger_freed(struct nvr_ledger *l, uint64_t iova, uint64_t len, const char *what)
{
	pthread_mutex_lock(&l->lock);
	if (l->nr_freed < NVR_ARRAY_SIZE(l->freed)) {
		l->freed[l->nr_freed].iova = iova;
		l->freed[l->nr_freed].len = len;
		l->freed[l->nr_freed].t_ns = nvr_clock_ns() - l->t0;
		snprintf(l->freed[l->nr_freed].what, sizeof(l->freed[0].what), "%s", what);
		l->nr_freed++;
	}
	pthread_mutex_unlock(&l->lock);
}

/* What the host had at @iova before it freed it, or "". */
static void freed_name(struct nvr_ledger *l, uint64_t iova, char *buf, size_t len)
{
	buf[0] = '\0';
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr_freed; i++)
		if (iova >= l->freed[i].iova && iova - l->freed[i].iova < l->freed[i].len)
			snprintf(buf, len, ": %s, freed at %.3f ms", l->freed[i].what,
				 (double)l->freed[i].t_ns / 1e6);
	pthread_mutex_unlock(&l->lock);
}


/*
 * A missed interrupt on @vi: CQEs found by polling, none came. On a
 * simulator the device must say it lost one; then it also says how.
 * Return: false when the device denies it. Tick thread only.
 */
static bool missed(struct nvr_ledger *l, unsigned int vi, struct lvec *v, const char *when)
{
	const char *why = "";

	if (l->o.truth) {
		struct nvr_vec_truth t;

		nvr_truth_vec(l->o.truth, (uint16_t)vi, &t);
		if (t.lost <= v->missed_confirmed)
			return false;
		v->missed_confirmed++;
		if (t.dropped_masked > v->masked_seen) {
			v->masked_seen++;
			why = "; it was raised while the entry was masked and the device has no "
			      "PBA to keep it pending";
		} else if (t.torn > v->torn_seen) {
			v->torn_seen++;
			why = "; the device sampled the MSI-X entry between its address and data "
			      "writes and sent it elsewhere";
		} else if (t.nowhere > v->nowhere_seen) {
			v->nowhere_seen++;
			why = "; the device's message named a host vector with no eventfd";
		}
	}
	atomic_fetch_add(&v->missed, 1);
	nvr_ledger_record(l, NULL, NVR_AN_MISSED_IRQ, -1, (int)vi,
	       "CQEs on vector %u's queues were found by polling and no interrupt followed %s%s",
	       vi, when, why);
	return true;
}

/* Why the command @cid of @s never completed, by the device's truth. */
static const char *lost_reason(struct nvr_ledger *l, struct nvr_lsq *s, uint16_t cid, uint32_t subs)
{
	uint32_t fetched, posted;

	if (!l->o.truth || !nvr_truth_cid(l->o.truth, s->qid, cid, &fetched, &posted))
		return "no completion arrived";
	if (posted >= subs)
		return "lost by host: the device posted its CQE";
	if (fetched >= subs)
		return "never completed by device: fetched, no CQE posted";
	return "never completed by device: never fetched";
}

/* Does a device-side truth say this queue's outstanding commands are merely lost? */
static bool only_dropped(struct nvr_ledger *l, struct nvr_lsq *s)
{
	uint32_t fetched, posted;

	if (!l->o.truth)
		return false;
	for (uint16_t cid = 0; cid < s->cids; cid++) {
		uint32_t subs = atomic_load(&s->submits[cid]), comps = atomic_load(&s->completes[cid]);

		if (subs == comps || s->reported[cid] == subs)
			continue;
		if (!nvr_truth_cid(l->o.truth, s->qid, cid, &fetched, &posted))
			return false;
		/* Not fetched, or posted and not consumed: the queue itself is stuck. */
		if (fetched < subs || posted >= subs)
			return false;
	}
	return true;
}

static void check_lost(struct nvr_ledger *l, struct nvr_lsq *s, uint64_t now, bool all)
{
	for (uint16_t cid = 0; cid < s->cids; cid++) {
		uint32_t subs = atomic_load_explicit(&s->submits[cid], memory_order_acquire);
		uint32_t comps = atomic_load_explicit(&s->completes[cid], memory_order_acquire);
		uint64_t t = atomic_load_explicit(&s->t_submit[cid], memory_order_relaxed);

		if (subs == comps || s->reported[cid] == subs)
			continue;
		if (!all && (now < t || now - t < l->o.timeout_ns))
			continue;
		/* The device still holds its completion: a slow device (or a
		 * thread that did not get a CPU), not a lost command. */
		if (!all && l->o.truth && nvr_truth_cid_pending(l->o.truth, s->qid, cid))
			continue;
		s->reported[cid] = subs;
		nvr_ledger_record(l, s, NVR_AN_LOST, cid, s->lcq->vector,
		       "CID %u on SQ %u submitted %.3f ms before, never completed: %s", cid, s->qid,
		       (double)(now - t) / 1e6, lost_reason(l, s, cid, subs));
	}
}

/*
 * With shadow doorbells, a quiet SQ is an EventIdx stall when the device is
 * asleep waiting for an MMIO doorbell, has acted on every MMIO write, and the
 * shadow tail is ahead of where it stopped, on two ticks in a row with no
 * MMIO write in between: the host will not ring, the device will not look.
 * Anything else (a device thread that is merely slow to run) is not one.
 */
#define EI_QUIET_NS 10000000ull	/* an EventIdx stall: quiet this long, and confirmed */

static bool eventidx_stall(struct nvr_ledger *l, struct nvr_lsq *s, char *why, size_t len)
{
	struct nvr_sq_state sqs;
	struct nvr_sq_truth t;
	uint32_t shadow, ei;
	uint64_t probe;

	nvr_sq_get_state(s->sq, &sqs);
	shadow = sqs.db.shadow;
	ei = sqs.db.eventidx;
	/* The host's half: it is done with its last update, and that update
	 * skipped the MMIO write (not merely on its way to it). */
	if (sqs.db.decided != shadow || sqs.db.last_mmio == shadow) {
		s->ei_probe = 0;
		return false;
	}
	/* The device's half: asleep, every MMIO write acted on, behind the shadow. */
	if (!nvr_truth_sq(l->o.truth, s->qid, &t) || !t.shadow || !t.waiting || t.mmio_unseen ||
	    shadow == t.idle_head) {
		s->ei_probe = 0;
		return false;
	}
	probe = t.mmio_writes + 1;
	if (s->ei_probe != probe) {
		s->ei_probe = probe;	/* once more on the next tick */
		return false;
	}
	snprintf(why, len,
		 "shadow tail %u, EventIdx %u, last MMIO doorbell %u: the device went idle at %u "
		 "waiting for an MMIO write the host skipped (%s)",
		 shadow, ei, t.mmio_tail, t.idle_head,
		 ei == t.idle_head ? "EventIdx read before its shadow store was visible" :
				     "the device wrote as EventIdx the tail it waits for, not the "
				     "one it stopped at, which a host ringing for EventIdx in [old, new) skips");
	return true;
}

static void check_stall(struct nvr_ledger *l, struct nvr_lsq *s, uint64_t now)
{
	uint64_t last = atomic_load(&s->last_progress_ns);
	uint64_t out = atomic_load(&s->submitted) - atomic_load(&s->lat.count);
	uint64_t quiet = now - last;
	struct nvr_sq_state sqs;
	struct nvr_cq_state cqs;

	/* Progress since the last look: a new quiet period may begin. */
	if (!out || now < last || quiet < NVR_MIN(EI_QUIET_NS, l->o.stall_ns)) {
		s->stalled = false;
		s->ei_probe = 0;
		return;
	}
	if (s->stalled)
		return;
	/* Confirmed by the device itself, an EventIdx stall needs no long window;
	 * and with the device's word at hand, a queue that is merely slow (the
	 * device has work it knows of) is not called stalled: a command that
	 * never completes is still caught as lost. */
	nvr_sq_get_state(s->sq, &sqs);
	if (sqs.db.on && l->o.truth) {
		char why[320];

		if (eventidx_stall(l, s, why, sizeof(why))) {
			s->stalled = true;
			nvr_ledger_record(l, s, NVR_AN_STALL, -1, s->lcq->vector,
			       "SQ %u: %" PRIu64 " commands outstanding, no completion for %.1f ms; %s",
			       s->qid, out, (double)quiet / 1e6, why);
		}
		return;
	}
	if (quiet < l->o.stall_ns || only_dropped(l, s))
		return;
	nvr_cq_get_state(s->lcq->cq, &cqs);
	if (sqs.db.on) {
		s->stalled = true;
		nvr_ledger_record(l, s, NVR_AN_STALL, -1, s->lcq->vector,
		       "SQ %u: %" PRIu64 " commands outstanding and no completion for %.1f ms "
		       "(shadow tail %u, EventIdx %u, last MMIO doorbell %u; CQ %u: head %u, "
		       "shadow head %u, EventIdx %u, last MMIO doorbell %u)",
		       s->qid, out, (double)(now - last) / 1e6,
		       sqs.db.shadow, sqs.db.eventidx, sqs.db.last_mmio, cqs.qid, cqs.head,
		       cqs.db.shadow, cqs.db.eventidx, cqs.db.last_mmio);
		return;
	}
	s->stalled = true;
	nvr_ledger_record(l, s, NVR_AN_STALL, -1, s->lcq->vector,
	       "SQ %u: %" PRIu64 " commands outstanding and no completion for %.1f ms "
	       "(SQ tail rung %u, head %u; CQ %u head %u phase %u)",
	       s->qid, out, (double)(now - last) / 1e6, sqs.tail_rung, sqs.head, cqs.qid,
	       cqs.head, cqs.phase);
}

static void check_dma(struct nvr_ledger *l)
{
	uint64_t faults;
	struct nvr_jev ev[64];
	uint32_t n = 0;

	if (!l->o.truth)
		return;
	faults = nvr_truth_dma_faults(l->o.truth);
	if (faults == l->dma_faults_seen)
		return;
	if (nvr_truth_journal(l->o.truth))
		n = nvr_journal_copy(nvr_truth_journal(l->o.truth), ev, NVR_ARRAY_SIZE(ev));
	/* The new faults are the newest ones in the journal: skip the older. */
	{
		uint64_t fresh = faults - l->dma_faults_seen, seen = 0;
		uint32_t first = n;

		while (first > 0 && seen < fresh)
			if (ev[--first].type == NVR_JEV_DMA_FAULT)
				seen++;
		memmove(ev, ev + first, (n - first) * sizeof(*ev));
		n -= first;
	}
	for (uint32_t i = 0; i < n; i++)
		if (ev[i].type == NVR_JEV_DMA_FAULT && l->dma_faults_seen < faults) {
			char what[96];

			l->dma_faults_seen++;
			freed_name(l, ev[i].a, what, sizeof(what));
			nvr_ledger_record(l, NULL, NVR_AN_DMA_AFTER_TEARDOWN, -1, -1,
			       "the device %s %u bytes at IOVA 0x%" PRIx64 ", which is not mapped%s",
			       ev[i].c ? "wrote" : "read", ev[i].b, ev[i].a, what);
		}
	/* Faults that scrolled out of the journal are still counted. */
	while (l->dma_faults_seen < faults) {
		l->dma_faults_seen++;
		nvr_ledger_record(l, NULL, NVR_AN_DMA_AFTER_TEARDOWN, -1, -1,
		       "the device accessed an unmapped IOVA (journal overwritten)");
	}
}

void nvr_ledger_tick(struct nvr_ledger *l)
{
	uint64_t now = nvr_clock_ns();
	char when[32];

	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr; i++) {
		struct nvr_lsq *s = l->sqs[i];

		if (!s->live)
			continue;
		pthread_mutex_unlock(&l->lock);
		check_lost(l, s, now, false);
		check_stall(l, s, now);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);

	for (unsigned int vi = 0; vi < NVR_STATS_MAX_V; vi++) {
		struct lvec *v = &l->vec[vi];
		uint64_t since = atomic_load(&v->await_since_ns);

		if (!since || now < since || now - since < l->o.missed_grace_ns)
			continue;
		if (!atomic_compare_exchange_strong(&v->await_since_ns, &since, 0))
			continue;
		snprintf(when, sizeof(when), "within %.1f ms", (double)l->o.missed_grace_ns / 1e6);
		missed(l, vi, v, when);
	}
	check_dma(l);
}

/*
 * The run is over, so no interrupt can follow a polled CQE any more: within
 * the grace or not, one the device says it lost was missed.
 */
static void missed_at_end(struct nvr_ledger *l)
{
	for (unsigned int vi = 0; vi < NVR_STATS_MAX_V && l->o.truth; vi++)
		if (atomic_exchange(&l->vec[vi].await_since_ns, 0))
			missed(l, vi, &l->vec[vi], "before the run ended");
}

void nvr_ledger_finish(struct nvr_ledger *l)
{
	uint64_t now = nvr_clock_ns();

	nvr_ledger_tick(l);
	missed_at_end(l);
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr; i++) {
		struct nvr_lsq *s = l->sqs[i];

		pthread_mutex_unlock(&l->lock);
		check_lost(l, s, now, true);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
}

void nvr_ledger_finish_early(struct nvr_ledger *l)
{
	nvr_ledger_tick(l);
	missed_at_end(l);
}
