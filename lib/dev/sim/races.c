// SPDX-License-Identifier: MIT
/*
 * Race knobs: device bugs from the public record, each in the race window
 * where a real controller or hypervisor got it wrong. A correct host drives
 * the device through the window; the scenario shows the fixed device clean
 * and the buggy one caught by host evidence (README, "The device on trial").
 *
 * The shadow-doorbell half of a completion queue lives here too. With
 * Doorbell Buffer Config a device reads the CQ head from the host's shadow
 * slot, and a device that finds the CQ full must be told when there is room
 * again: like QEMU and propolis it sleeps until an MMIO CQ head doorbell,
 * after it published a CQ EventIdx the host's next head update will pass
 * (NVMe 1.4, 5.7), with a full barrier, and then read the shadow head once
 * more. The knobs below break that protocol the ways it was broken.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const names[NVR_RACE_NR] = {
	/*
	 * openvmm PR #4080 (analysis), fixed by #4011: the Doorbell Buffer
	 * Config pages were kept across a controller reset, and re-enabling
	 * wrote EventIdx into the previous boot's memory. Breaks NVMe 1.4,
	 * 5.7: the buffers are not retained across a Controller Level Reset.
	 */
	[NVR_RACE_KEEP_DBBUF_ON_RESET] = "keep_dbbuf_on_reset",
	/*
	 * The need-event boundary (Linux nvme_dbbuf_need_event rings for
	 * EventIdx in [old, new); SPDK and libvfn for [old, new]): a device
	 * that writes the SQ tail it waits for (head + 1) instead of the one it
	 * has seen (head) is never told of that tail by a Linux host that
	 * submits one command. Breaks 5.7: EventIdx is the last value the
	 * controller processed.
	 */
	[NVR_RACE_EVENTIDX_IS_WAIT] = "eventidx_is_wait",
	/*
	 * QEMU "hw/nvme: fix missing cq eventidx update" (7.2.1): the device
	 * read the shadow CQ head but never wrote the CQ EventIdx; a host with
	 * the Linux formula then skips its CQ head doorbells, and a device that
	 * sleeps on a full CQ is never woken.
	 */
	[NVR_RACE_NO_CQ_EVENTIDX] = "no_cq_eventidx",
	/*
	 * propolis issue #1008, PR #1026: on a full CQ the device set EventIdx
	 * to the CQ tail. The host drains up to that tail and never past it, so
	 * no head update passes EventIdx, no MMIO comes, and the command parked
	 * behind the full CQ never completes. The fix: EventIdx = tail - 1.
	 */
	[NVR_RACE_CQ_EVENTIDX_AT_TAIL] = "cq_eventidx_at_tail",
	/*
	 * Queue-ID reuse (SPDK #1795, fixed in 38736d993d, is the host's half:
	 * stale shadow values when a qpair is deleted and created again with
	 * the same ID). The device's half: it keeps the deleted SQ's head for
	 * the new one. Breaks NVMe 1.4, 4.1: a created queue's head and tail
	 * start at 0.
	 */
	[NVR_RACE_STALE_QUEUE_STATE] = "stale_queue_state",
	/*
	 * SPDK #2233 (0af4a7cd84): requests of a deleted qpair completed
	 * twice. The device's half: commands it had fetched are completed after
	 * Delete I/O SQ was, into the CQ memory as it was. Breaks NVMe 1.4,
	 * 5.6: every command of the SQ is completed or aborted first.
	 */
	[NVR_RACE_COMPLETE_AFTER_SQ_DELETE] = "complete_after_sq_delete",
	/*
	 * A controller reset under I/O: commands in flight when CC.EN was
	 * cleared are completed afterwards, into the CQ memory as it was.
	 * Breaks NVMe 1.4, 7.3.2: once CSTS.RDY is 0 the controller has
	 * stopped, and its queues are gone with everything in them.
	 */
	[NVR_RACE_COMPLETE_AFTER_DISABLE] = "complete_after_disable",
	/*
	 * The CQ is full by the head the host released, and the device posts
	 * anyway, over entries the host consumed but has not released yet.
	 * Breaks NVMe 1.4, 4.6: a slot is free only once the head doorbell
	 * has passed it.
	 */
	[NVR_RACE_CQ_OVERRUN] = "cq_overrun",
	/*
	 * Abort racing a completion (abort.c). NVMe 1.4, 5.1: a command the
	 * Abort aborted completes once, with Command Abort Requested, and
	 * Abort's Dword 0 bit 0 says whether it was aborted. The first knob
	 * posts the aborted completion and lets the real one come too; the
	 * second says "aborted" and lets the command complete normally.
	 */
	[NVR_RACE_ABORT_COMPLETES_TWICE] = "abort_completes_twice",
	[NVR_RACE_ABORT_SAYS_ABORTED] = "abort_says_aborted",
	/*
	 * SQ-head over-commit, QEMU 9529aa6bb4d1 ("hw/nvme: fix handling of
	 * over-committed queues", gitlab #2388). A device holds one request
	 * slot per SQ entry (QEMU: sq->size NvmeRequests) from fetch until the
	 * CQE is posted. A host that refills from the CQE's SQHD may have
	 * more commands in flight than that: SQHD says the entries were
	 * fetched, not that their slots are free. Out of slots, QEMU stopped
	 * processing the SQ and restarted it only on an SQ tail doorbell (or
	 * a CQ head doorbell on a full CQ); posting a CQE freed a slot but did
	 * not reschedule the SQ, so entries already in it waited for a
	 * doorbell a host that has nothing more to submit never writes. The
	 * fix reschedules the SQ when a posted CQE frees a slot of an SQ that
	 * still has entries. Breaks NVMe 1.4, 4.1: the controller processes
	 * the entries between head and tail; the host need not ring again.
	 */
	[NVR_RACE_NO_SQ_RESTART] = "no_sq_restart",
};

const char *nvr_sim_race_name(enum nvr_sim_race r)
{
	return (unsigned int)r < NVR_RACE_NR ? names[r] : "?";
}

int nvr_sim_race_by_name(const char *name)
{
	for (int r = 0; r < NVR_RACE_NR; r++)
		if (!strcmp(name, names[r]))
			return r;
	return -1;
}

static _Atomic uint32_t *ei_slot(struct nvr_sim *s, uint16_t qid, bool cq)
{
	uint64_t at = s->dbbuf_ei + (2u * qid + (cq ? 1u : 0u)) * (4u << s->cfg.dstrd);

	return nvr_sim_dma_ptr(s, at, 4, true);
}

void nvr_sim_race_dbbuf_reset(struct nvr_sim *s)
{
	uint64_t db = s->dbbuf_db, ei = s->dbbuf_ei;
	bool on = atomic_load(&s->dbbuf_on);

	nvr_sim_dbbuf_reset(s);
	if (!sim_race(s, NVR_RACE_KEEP_DBBUF_ON_RESET) || !on)
		return;
	/* The bug: the pages survive the reset; queues created later use them. */
	s->dbbuf_db = db;
	s->dbbuf_ei = ei;
	atomic_store(&s->dbbuf_on, true);
}

uint32_t nvr_sim_race_sq_eventidx(const struct nvr_sim *s, const struct sim_sq *sq)
{
	if (sim_race(s, NVR_RACE_EVENTIDX_IS_WAIT))
		return (sq->head + 1) % sq->size;
	return sq->head;
}

void nvr_sim_race_cq_eventidx(struct nvr_sim *s, struct sim_cq *cq, uint32_t head)
{
	_Atomic uint32_t *ei;

	if (sim_race(s, NVR_RACE_NO_CQ_EVENTIDX))
		return;
	/* The read after nvr_sim_race_cq_full() keeps the EventIdx it wrote. */
	if (sim_race(s, NVR_RACE_CQ_EVENTIDX_AT_TAIL) && (cq->tail + 1) % cq->size == cq->head_seen)
		return;
	ei = ei_slot(s, cq->qid, true);
	if (ei)
		nvr_st32(ei, head, memory_order_relaxed);
}

bool nvr_sim_race_cq_may_read(struct nvr_sim *s, struct sim_cq *cq)
{
	uint32_t seq = atomic_load_explicit(&cq->mmio_seq, memory_order_seq_cst);

	(void)s;
	if (!cq->asleep)
		return true;
	if (seq == cq->mmio_seen)
		return false;	/* asleep until an MMIO head doorbell */
	cq->asleep = false;
	return true;
}

void nvr_sim_race_cq_full(struct nvr_sim *s, struct sim_cq *cq)
{
	_Atomic uint32_t *ei = ei_slot(s, cq->qid, true);
	uint32_t v = cq->head_seen;

	/* Tell the host where to ring: at its next head update (fixed), never
	 * (no_cq_eventidx), or past a tail it will never pass (at_tail). */
	if (sim_race(s, NVR_RACE_CQ_EVENTIDX_AT_TAIL))
		v = cq->tail;
	if (ei && !sim_race(s, NVR_RACE_NO_CQ_EVENTIDX))
		nvr_st32(ei, v, memory_order_seq_cst);
	/* EventIdx before the next shadow read, against the host's shadow
	 * store before its EventIdx load (the seed-004 pair, on the CQ). */
	nvr_fence(memory_order_seq_cst);
	/* An MMIO write from here on wakes it, even one before the re-read. */
	cq->mmio_seen = atomic_load_explicit(&cq->mmio_seq, memory_order_seq_cst);
}

bool nvr_sim_race_sq_park(const struct nvr_sim *s)
{
	return sim_race(s, NVR_RACE_NO_SQ_RESTART);
}

uint32_t nvr_sim_race_new_sq_head(const struct nvr_sim *s, const struct sim_sq *sq)
{
	/* The struct is the deleted queue's, head and all. */
	return sim_race(s, NVR_RACE_STALE_QUEUE_STATE) && sq->size ? sq->head : 0;
}

/* complete_after_sq_delete: a completion the device still owes a deleted SQ. */
struct sim_ghost {
	uint64_t due_ns;
	uint64_t addr;		/* where it goes: the CQ slot as the CQ was */
	uint8_t phase;
	struct nvr_cqe cqe;
};

#define MAX_GHOSTS 256

/* Take the pending completions of SQ @sqid (0: of every I/O SQ) away, to be
 * posted later where their CQ's tail was. */
static void ghost_pending(struct nvr_sim *s, uint16_t sqid)
{
	uint32_t n = 0;

	if (!s->ghosts)
		s->ghosts = calloc(MAX_GHOSTS, sizeof(*s->ghosts));
	for (uint32_t i = 0; i < s->nr_pend; i++) {
		struct sim_pending *p = &s->pend[i];
		struct sim_cq *cq = &s->cqs[p->cqid];
		struct sim_ghost *g;

		if (!p->cqid || (sqid && p->cqe.sqid != sqid) || !s->ghosts ||
		    s->nr_ghosts == MAX_GHOSTS) {
			s->pend[n++] = *p;
			continue;
		}
		g = &s->ghosts[s->nr_ghosts++];
		g->due_ns = p->due_ns;
		g->addr = cq->base + (uint64_t)cq->tail * sizeof(struct nvr_cqe);
		g->phase = cq->phase;
		g->cqe = p->cqe;
		g->cqe.sqhd = (uint16_t)s->sqs[p->cqe.sqid].head;
		/* The device goes on counting, as the buggy one would. */
		if (++cq->tail == cq->size) {
			cq->tail = 0;
			cq->phase ^= 1;
		}
	}
	s->nr_pend = n;
}

void nvr_sim_race_sq_delete(struct nvr_sim *s, struct sim_sq *sq)
{
	/* The caller puts the heap back in order. */
	if (sim_race(s, NVR_RACE_COMPLETE_AFTER_SQ_DELETE))
		ghost_pending(s, sq->qid);
}

void nvr_sim_race_disable(struct nvr_sim *s)
{
	/* The caller empties the heap. */
	if (sim_race(s, NVR_RACE_COMPLETE_AFTER_DISABLE))
		ghost_pending(s, 0);
}

void nvr_sim_race_tick(struct nvr_sim *s, uint64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->nr_ghosts; i++) {
		struct sim_ghost *g = &s->ghosts[i];
		_Atomic uint32_t *dw;
		struct nvr_cqe *slot;

		if (g->due_ns > now) {
			s->ghosts[n++] = *g;
			continue;
		}
		/* Through the IOMMU like any DMA: a fault when it is unmapped. */
		slot = nvr_sim_dma_ptr(s, g->addr, sizeof(*slot), true);
		if (!slot)
			continue;
		/* Word by word: the host may be watching this memory (a canary). */
		for (int w = 0; w < 3; w++) {
			uint32_t v;

			memcpy(&v, (const uint8_t *)&g->cqe + 4 * w, 4);
			atomic_store_explicit((_Atomic uint32_t *)slot + w, v, memory_order_relaxed);
		}
		dw = (_Atomic uint32_t *)((uint8_t *)slot + 12);
		atomic_store_explicit(dw, g->cqe.cid | (uint32_t)((g->cqe.status & ~1u) | g->phase) << 16,
				      memory_order_release);
	}
	s->nr_ghosts = n;
}
