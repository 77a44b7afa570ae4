// SPDX-License-Identifier: MIT
/*
 * The ledger's command hooks, called by the queue code on the data path:
 * submitted, consumed, completed, and the CQEs that complete nothing. They
 * touch only per-queue atomics; an anomaly takes the ledger's lock.
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
#include "dev/truth.h"

int nvr_ledger_submitted(struct nvr_lsq *s, uint16_t cid)
{
	return nvr_ledger_submitted_at(s, cid, nvr_clock_ns());
}

/* Two reapers that both took this slot in this pass consumed one CQE twice. */
bool nvr_ledger_consumed_twice(struct nvr_lcq *c, uint16_t slot, uint32_t pass, uint16_t cid,
			       uint32_t was)
{
	bool claimed = pass & NVR_LEDGER_CLAIMED;
	uint32_t ahead;

	pass &= NVR_LEDGER_PASS_MASK;
	ahead = (was - (pass + 1)) & NVR_LEDGER_PASS_MASK;
	if (!ahead) {
		nvr_ledger_record(c->l, c->lsq, NVR_AN_DUPLICATE, cid, c->vector,
		       "CQE at CQ %u slot %u (pass %u) consumed twice: two reapers raced on one CQ",
		       c->qid, slot, pass);
		return false;
	}
	/* An earlier pass (or the count wrapped): the slot was not taken since. */
	if (ahead > NVR_LEDGER_PASS_MASK / 2)
		return true;
	/*
	 * The slot was already taken in a later pass: this reaper got here a
	 * wrap late (descheduled while the others went round the ring). The
	 * slot keeps its later pass. Having claimed the entry first, it was the
	 * only one to take it; if not, the entry was consumed when the CQ left
	 * its pass, by whoever moved the head past it.
	 */
	atomic_store_explicit(&c->slot_pass[slot], was, memory_order_relaxed);
	if (claimed)
		return true;
	nvr_ledger_record(c->l, c->lsq, NVR_AN_DUPLICATE, cid, c->vector,
	       "CQE at CQ %u slot %u (pass %u) consumed after the CQ took that slot in pass %u: "
	       "a reaper read it a wrap late, two reapers raced on one CQ",
	       c->qid, slot, pass, (was - 1) & NVR_LEDGER_PASS_MASK);
	return false;
}

/* A poller or a sweep took a CQE of an interrupt-driven queue. */
bool nvr_ledger_consumed_by_other(struct nvr_lcq *c, uint16_t slot, uint16_t cid,
				  enum nvr_reaper who)
{
	struct lvec *v = &c->l->vec[c->vector];

	atomic_fetch_add_explicit(&v->others, 1, memory_order_relaxed);
	if (atomic_load_explicit(&v->unserviced_ns, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&v->stranded, 1, memory_order_relaxed);
		nvr_ledger_record(c->l, c->lsq, NVR_AN_STRANDED, cid, c->vector,
		       "CQE at CQ %u slot %u waited for a %s: its interrupt on vector %d came "
		       "and the handler returned without reaping it (it could not take the CQ, "
		       "or stopped at its per-wake limit)",
		       c->qid, slot, who == NVR_REAP_SWEEP ? "timeout sweep" : "poller", c->vector);
	} else if (c->l->o.truth || who == NVR_REAP_SWEEP) {
		uint64_t zero = 0;

		/*
		 * Without the device's truth, only a CQE the timeout sweep had to
		 * take is evidence: a real controller may rightly send no interrupt
		 * for CQEs a poller consumed before it raised one (QEMU's nvme
		 * checks the CQ head doorbell first).
		 */
		atomic_compare_exchange_strong(&v->await_since_ns, &zero, nvr_clock_ns());
	}
	return true;
}

/* The common case is inline in host/hooks.h (the queue code calls it there). */
bool nvr_ledger_consume(struct nvr_lcq *c, uint16_t slot, uint32_t pass, uint16_t cid,
			enum nvr_reaper who)
{
	return nvr_ledger_consume_inl(c, slot, pass, cid, who);
}

void nvr_ledger_completed(struct nvr_lsq *s, struct nvr_lcq *c, uint16_t cid, enum nvr_reaper who)
{
	(void)c;
	(void)who;
	nvr_ledger_completed_at(s, cid, nvr_clock_ns());
}

void nvr_ledger_bad_cqe(struct nvr_lcq *c, struct nvr_lsq *s, const struct nvr_cqe *cqe,
			uint16_t slot)
{
	struct nvr_ledger *l = c->l;
	uint32_t fetched = 0, posted = 0, subs, comps;

	if (!s) {
		nvr_ledger_record(l, c->lsq, NVR_AN_SPURIOUS, cqe->cid, c->vector,
		       "CQE at CQ %u slot %u names SQ %u, which does not complete into this CQ",
		       c->qid, slot, cqe->sqid);
		return;
	}
	if (cqe->cid >= s->cids) {
		nvr_ledger_record(l, s, NVR_AN_SPURIOUS, cqe->cid, c->vector,
		       "CQE at CQ %u slot %u names CID %u, beyond SQ %u's %u CIDs: never submitted",
		       c->qid, slot, cqe->cid, s->qid, s->cids);
		return;
	}
	subs = atomic_load(&s->submits[cqe->cid]);
	comps = atomic_load(&s->completes[cqe->cid]);
	if (l->o.truth && nvr_truth_cid(l->o.truth, s->qid, cqe->cid, &fetched, &posted)) {
		/* The device's count says whether it posted more CQEs than we submitted. */
		if (posted > subs)
			nvr_ledger_record(l, s, NVR_AN_DUPLICATE, cqe->cid, c->vector,
			       "CID %u on SQ %u completed again: the device posted %u CQEs for %u "
			       "submissions (CQ %u slot %u)",
			       cqe->cid, s->qid, posted, subs, c->qid, slot);
		else
			nvr_ledger_record(l, s, NVR_AN_SPURIOUS, cqe->cid, c->vector,
			       "CQE for CID %u on SQ %u, which is not outstanding; the device did not "
			       "post it for a command (CQ %u slot %u)",
			       cqe->cid, s->qid, c->qid, slot);
		return;
	}
	/* No device truth: a CID completed and not resubmitted since is a duplicate. */
	if (subs && subs == comps)
		nvr_ledger_record(l, s, NVR_AN_DUPLICATE, cqe->cid, c->vector,
		       "CID %u on SQ %u completed twice for one submission (CQ %u slot %u)",
		       cqe->cid, s->qid, c->qid, slot);
	else
		nvr_ledger_record(l, s, NVR_AN_SPURIOUS, cqe->cid, c->vector,
		       "CQE for CID %u on SQ %u, which is not outstanding (CQ %u slot %u)", cqe->cid,
		       s->qid, c->qid, slot);
}

void nvr_ledger_bad_sqhd(struct nvr_lcq *c, const struct nvr_cqe *cqe, uint16_t slot,
			 uint16_t sq_depth)
{
	nvr_ledger_record(c->l, c->lsq, NVR_AN_BAD_SQHD, cqe->cid, c->vector,
	       "CQE at CQ %u slot %u says SQ %u's head is %u, beyond its %u entries (NVMe 1.4, "
	       "4.6); the command completed, the head was not moved",
	       c->qid, slot, cqe->sqid, cqe->sqhd, sq_depth);
}

void nvr_ledger_wrong_phase(struct nvr_lcq *c, uint16_t slot, uint16_t cid)
{
	nvr_ledger_record(c->l, c->lsq, NVR_AN_SPURIOUS, cid, c->vector,
	       "CQE at CQ %u slot %u has the phase tag of the previous pass while the next entry is "
	       "new: a wrong phase (NVMe 1.4, 4.6.1)",
	       c->qid, slot);
}
