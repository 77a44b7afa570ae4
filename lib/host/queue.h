/* SPDX-License-Identifier: MIT */
/*
 * Submission and completion queues in host memory. The device reads SQEs and
 * writes CQEs concurrently with the host threads using these functions.
 *
 * Concurrency contract: one submitter at a time per SQ (the runner gives each
 * SQ one submitting actor); one reaper at a time per CQ unless the caller
 * chooses otherwise on purpose (the CQ exclusion policies of lib/policy).
 */
#ifndef NVR_QUEUE_H
#define NVR_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/dma.h>
#include <nvmerace/fastq.h>
#include <nvmerace/queue.h>
#include <nvmerace/wire.h>

#include "host/dbbuf.h"
#include "sched/shim.h"

struct nvr_sq;

struct nvr_cq {
	/* ring, sq (the SQ completing here: queues come in pairs; NULL once it
	 * is deleted, reaping looks no further), the doorbell, qid, depth, hp,
	 * db_head, slow, reaped, spurious: see <nvmerace/fastq.h>. */
	NVR_CQ_HOT_FIELDS;
	int vector;		/* MSI-X vector, or -1 for a polled queue (IEN clear) */
	struct nvr_dma_buf mem;
	/*
	 * hp: where the host reads next, as one word: head, the phase tag it
	 * expects and the trips completed around the ring. One word so that a
	 * lock-free reaper can claim an entry with a single compare-and-swap;
	 * with a racy exclusion policy several reapers update it at once, which
	 * is a logic race under test, never a C data race.
	 */
	struct nvr_mutex db_lock;	/* orders doorbell writes of lock-free reapers */
	/* Taken by nvr_cq_sweep() and by handlers that want exclusion. */
	struct nvr_mutex lock;
	struct nvr_lcq *lcq;	/* the ledger's state, or NULL */
	struct nvr_shadow shadow;	/* the head's shadow doorbell, when configured */
	/* Reaping does not write the head doorbell: nvr_cq_release() does,
	 * later (a host that withholds CQ slots, as batching drivers do). */
	_Atomic bool hold_head;
	/* With hold_head: each slot's status word as consumed (NULL until the
	 * first hold), and the head last released. */
	uint32_t *held;
	uint16_t released;
	/* The bug of FreeBSD D30995/D31002: the CID is read before the phase
	 * tag that says the entry is new. On x86 loads are not reordered, so
	 * the gap between the two reads is widened (CID_FIRST_GAP_NS) to stand
	 * for the reordering a weakly ordered CPU does on its own. */
	bool cid_first;
	/* An interrupt handler takes at most this many CQEs per wake (0: all
	 * there are): the drain limit of SPDK 7406eb0dc0. */
	uint16_t irq_limit;
};

struct nvr_sq {
	/* ring, cmds, the doorbell, qid, depth, tail (the submitter's),
	 * tail_rung, head (SQHD), ncids, max_outstanding, slow, outstanding:
	 * see <nvmerace/fastq.h>. CIDs: depth of them, at most depth - 1
	 * outstanding (a CID stands for an SQ slot); with SQHD refill
	 * (nvr_ctrl_set_sq_overcommit()) twice as many, all of them usable:
	 * SQHD alone says when an entry is free. */
	NVR_SQ_HOT_FIELDS;
	struct nvr_cq *cq;
	struct nvr_dma_buf mem;
	struct nvr_lsq *lsq;	/* the ledger's state, or NULL */
	struct nvr_shadow shadow;	/* the tail's shadow doorbell, when configured */
};

/*
 * Recompute the queue's slow byte (<nvmerace/fastq.h>) after a change of
 * what it depends on: a ledger, a shadow doorbell, a withheld head, the
 * early CID read, the CQ's SQ. Before traffic on the queue, or while none.
 */
void nvr_sq_update_slow(struct nvr_sq *sq);
void nvr_cq_update_slow(struct nvr_cq *cq);

/* The queue's doorbell at @off of @t: its cached register write, or its
 * register in the mapped BAR. */
void nvr_queue_set_doorbell(struct nvr_transport *t, uint32_t off, volatile uint32_t **mmio,
			    nvr_reg_write_fn *write);

#define NVR_HP(head, phase, pass) ((uint32_t)(head) | (uint32_t)(phase) << 16 | (uint32_t)(pass) << 17)

static inline uint16_t nvr_cq_head(const struct nvr_cq *cq)
{
	return (uint16_t)nvr_ld32(&cq->hp, memory_order_relaxed);
}

static inline uint8_t nvr_cq_phase(const struct nvr_cq *cq)
{
	return (nvr_ld32(&cq->hp, memory_order_relaxed) >> 16) & 1;
}

/* True when @sq can take another command now: an entry free by SQHD and a
 * CID free. With CIDs as slots one stays spare, so that the unfetched
 * entries can never exceed depth - 1 whatever SQHD says; with SQHD refill
 * the ring itself is the only bound on unfetched entries. */
static inline bool nvr_sq_has_room(const struct nvr_sq *sq)
{
	uint16_t head = atomic_load_explicit(&sq->head, memory_order_acquire);
	uint16_t next = (uint16_t)(sq->tail + 1 == sq->depth ? 0 : sq->tail + 1);

	return next != head &&
	       atomic_load_explicit(&sq->outstanding, memory_order_relaxed) < sq->max_outstanding;
}

/*
 * The controller was reset: complete every command still outstanding on @sq
 * with @status (no CQE will come for them), through @fn and the ledger.
 * Return: how many.
 */
unsigned int nvr_sq_cancel_all(struct nvr_sq *sq, uint16_t status, nvr_cqe_fn fn, void *arg);
/*
 * With hold_head: write the head doorbell now (under cq->lock). The entries
 * consumed since the last release are still the host's: one the device wrote
 * meanwhile is an overwrite (NVMe 1.4, 4.6: a slot is free only once the head
 * doorbell passed it). Return: how many, the first in *@slot, its status word
 * as consumed and as found in *@was and *@now.
 */
unsigned int nvr_cq_release(struct nvr_cq *cq, uint16_t *slot, uint32_t *was, uint32_t *now);

#endif
