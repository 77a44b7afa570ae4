// SPDX-License-Identifier: MIT
/*
 * Doorbell Buffer Config (NVMe 1.4, 5.7): shadow doorbells and EventIdx.
 *
 * The host keeps a copy of every I/O queue's doorbell (SQ tail, CQ head) in
 * a page of its memory, and the controller keeps an EventIdx per doorbell in
 * a second page. The controller reads the shadow values whenever it looks at
 * a queue, but it only looks at an SQ after an MMIO doorbell write woke it,
 * like a virtual controller whose only wake-up is the trapped MMIO write.
 * Before it stops looking it writes EventIdx (the tail it has seen), issues a
 * full barrier, and reads the shadow tail once more: either the host's new
 * tail is visible to that read, or the host's read of EventIdx, which comes
 * after its shadow store, sees the new EventIdx and rings MMIO. That argument
 * needs the barrier on both sides; the host's is the fix of seed 004.
 *
 * The admin queue is not shadowed here (the host rings it by MMIO).
 */
#include <nvme/types.h>

#include "dev/sim/internal.h"

static uint64_t slot(const struct nvr_sim *s, uint64_t page, uint16_t qid, bool cq)
{
	return page + (2u * qid + (cq ? 1u : 0u)) * (4u << s->cfg.dstrd);
}

static _Atomic uint32_t *shadow_ptr(struct nvr_sim *s, uint64_t page, uint16_t qid, bool cq)
{
	return nvr_sim_dma_ptr(s, slot(s, page, qid, cq), 4, true);
}

uint16_t nvr_sim_dbbuf_config(struct nvr_sim *s, const struct nvr_sqe *sqe)
{
	uint64_t db = sqe->prp1, ei = sqe->prp2;

	/* Both buffers are one page, page aligned (5.7: PRP Entry 1 and 2). */
	if (!db || !ei || (db & 0xfff) || (ei & 0xfff) || db == ei)
		return (uint16_t)(NVR_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) |
				  NVR_STATUS_DNR);
	if (!nvr_sim_dma_ptr(s, db, 4096, true) || !nvr_sim_dma_ptr(s, ei, 4096, true))
		return (uint16_t)(NVR_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) |
				  NVR_STATUS_DNR);
	s->dbbuf_db = db;
	s->dbbuf_ei = ei;
	atomic_store(&s->dbbuf_on, true);
	/* Queues that exist already take their shadow values from now on. */
	for (uint16_t q = 1; q <= s->cfg.nr_io_queues; q++) {
		if (atomic_load(&s->sqs[q].live))
			nvr_sim_dbbuf_queue(s, q, false);
		if (atomic_load(&s->cqs[q].live))
			nvr_sim_dbbuf_queue(s, q, true);
	}
	return 0;
}

void nvr_sim_dbbuf_queue(struct nvr_sim *s, uint16_t qid, bool cq)
{
	_Atomic uint32_t *ei;

	if (!qid || !atomic_load(&s->dbbuf_on))
		return;
	ei = shadow_ptr(s, s->dbbuf_ei, qid, cq);
	if (cq) {
		s->cqs[qid].shadow = true;
		if (ei)
			atomic_store(ei, s->cqs[qid].head_seen);
	} else {
		struct sim_sq *sq = &s->sqs[qid];

		sq->shadow = true;
		sq->active = true;	/* look once: the host may have written already */
		if (ei)
			atomic_store(ei, sq->head);
	}
}

void nvr_sim_dbbuf_reset(struct nvr_sim *s)
{
	atomic_store(&s->dbbuf_on, false);
	s->dbbuf_db = s->dbbuf_ei = 0;
	for (uint32_t q = 0; q <= s->cfg.nr_io_queues; q++) {
		s->sqs[q].shadow = false;
		s->sqs[q].active = false;
		atomic_store(&s->sqs[q].waiting, false);
		s->cqs[q].shadow = false;
	}
}

/* The shadow value of a doorbell; false when it is unreadable or out of range. */
static bool shadow_read(struct nvr_sim *s, uint16_t qid, bool cq, uint32_t size, uint32_t *val)
{
	_Atomic uint32_t *p = shadow_ptr(s, s->dbbuf_db, qid, cq);
	uint32_t v;

	if (!p)
		return false;
	v = nvr_ld32(p, memory_order_acquire);
	if (v >= size) {
		/* Invalid Doorbell Write Value (5.2.1), seen through the shadow. */
		atomic_fetch_add_explicit(&s->st_bad_db, 1, memory_order_relaxed);
		sim_journal(s, NVR_JEV_BAD_DOORBELL, qid, v, cq, 2);
		return false;
	}
	*val = v;
	return true;
}

bool nvr_sim_dbbuf_sq_tail(struct nvr_sim *s, struct sim_sq *sq, uint32_t *tail)
{
	uint32_t seq = atomic_load_explicit(&sq->mmio_seq, memory_order_seq_cst);

	if (seq == atomic_load_explicit(&sq->mmio_seen, memory_order_relaxed) && !sq->active)
		return false;	/* asleep until an MMIO doorbell */
	atomic_store_explicit(&sq->mmio_seen, seq, memory_order_relaxed);
	if (!sq->active)
		atomic_store_explicit(&sq->waiting, false, memory_order_relaxed);
	sq->active = true;
	if (!shadow_read(s, sq->qid, false, sq->size, tail))
		*tail = sq->head;
	return true;
}

bool nvr_sim_dbbuf_sq_pending(const struct sim_sq *sq)
{
	return sq->active || atomic_load_explicit(&sq->mmio_seq, memory_order_seq_cst) !=
				     atomic_load_explicit(&sq->mmio_seen, memory_order_relaxed);
}

void nvr_sim_dbbuf_sq_idle(struct nvr_sim *s, struct sim_sq *sq)
{
	_Atomic uint32_t *ei = shadow_ptr(s, s->dbbuf_ei, sq->qid, false);
	uint32_t tail;

	if (!ei) {
		sq->active = false;
		return;
	}
	/* EventIdx first, then (full barrier) the shadow once more: the
	 * controller's half of the store-load pair the header describes. */
	nvr_st32(ei, nvr_sim_race_sq_eventidx(s, sq), memory_order_seq_cst);
	nvr_fence(memory_order_seq_cst);
	if (shadow_read(s, sq->qid, false, sq->size, &tail) && tail != sq->head)
		return;		/* the host went on: keep going without MMIO */
	sq->active = false;
	atomic_store_explicit(&sq->idle_head, sq->head, memory_order_relaxed);
	atomic_store_explicit(&sq->waiting, true, memory_order_relaxed);
	atomic_fetch_add_explicit(&sq->idles, 1, memory_order_relaxed);
	sim_journal(s, NVR_JEV_SQ_IDLE, sq->qid, sq->head, 0, 0);
}

bool nvr_sim_dbbuf_cq_head(struct nvr_sim *s, struct sim_cq *cq, uint32_t *head)
{
	if (!nvr_sim_race_cq_may_read(s, cq) || !shadow_read(s, cq->qid, true, cq->size, head))
		return false;
	nvr_sim_race_cq_eventidx(s, cq, *head);
	return true;
}
