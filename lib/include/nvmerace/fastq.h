/* SPDX-License-Identifier: MIT */
/*
 * The queue pair's fast path: nvr_sq_submit(), nvr_sq_ring(), nvr_cq_pending()
 * and nvr_cq_reap() as static inline functions, for a caller that submits on
 * an SQ and is the only reaper of its CQ (NVR_CLAIM_EXCLUSIVE). Inlined into
 * the caller they cost no call, no saved register across a library call, no
 * look-up of the transport's function table, and a constant completion
 * callback is inlined too (issue 18: the host's instructions per command).
 *
 * Each function has the same effects as the library's: the CID claimed by
 * compare-and-swap on completion (two reapers on one CQE are still caught),
 * the SQ head from SQHD, the outstanding count, the CQ's counters and the
 * doorbells. A queue the fast path would not describe faithfully carries a
 * nonzero `slow` byte, kept by the library: a ledger (its hooks), a shadow
 * doorbell (EventIdx), a CQ head withheld, the CID read before the phase, a
 * CQ without its SQ. Then each function calls the library's.
 *
 * The doorbell is one store to the mapped BAR where the transport maps it
 * (VFIO), else the transport's register write, called directly (the
 * simulator, NVMe/TCP).
 *
 * Model build (-DNVR_SCHED_MODEL): every function is the library call, so
 * that every access the device shares stays a scheduling point.
 *
 * The queues' leading fields are declared here (NVR_SQ_HOT_FIELDS,
 * NVR_CQ_HOT_FIELDS) and nowhere else: the library's struct nvr_sq and
 * struct nvr_cq begin with them, so both see one layout.
 */
#ifndef NVMERACE_FASTQ_H
#define NVMERACE_FASTQ_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <nvmerace/queue.h>
#include <nvmerace/wire.h>

struct nvr_transport;

/* A CID's command. */
enum nvr_cmd_state {
	NVR_CMD_FREE = 0,
	NVR_CMD_OUTSTANDING = 1,
	NVR_CMD_COMPLETING = 2,	/* claimed by one reaper, its context being read */
};

struct nvr_cmd {
	_Atomic uint8_t state;
	void *ctx;		/* the submitter's cookie, handed back on completion */
};

/* What an SQ's slow byte says: the submission must reach a ledger's hook;
 * the tail doorbell is a shadow one (EventIdx decides on MMIO). */
#define NVR_SQ_SLOW_LEDGER 0x1
#define NVR_SQ_SLOW_SHADOW 0x2

/* A register write of the transport (struct nvr_transport_ops' write32). */
typedef void (*nvr_reg_write_fn)(struct nvr_transport *t, uint32_t off, uint32_t val);

/*
 * The doorbell: @mmio, the register in the mapped BAR, or NULL; else
 * @write(@t, @off, value). slow: nonzero when the fast path must call the
 * library (see the top of this file).
 */
#define NVR_SQ_HOT_FIELDS                                                                  \
	struct nvr_sqe *ring;                                                              \
	struct nvr_cmd *cmds;	/* indexed by CID, ncids entries */                        \
	volatile uint32_t *db_mmio;                                                        \
	nvr_reg_write_fn db_write;                                                         \
	struct nvr_transport *t;                                                           \
	uint32_t db_off;                                                                   \
	uint16_t qid;                                                                      \
	uint16_t depth;                                                                    \
	uint16_t tail;		/* the submitter's */                                      \
	_Atomic uint16_t tail_rung;	/* the tail last written to the doorbell */        \
	_Atomic uint16_t head;	/* as the device last reported it (CQE SQHD) */            \
	uint16_t ncids;                                                                    \
	uint16_t max_outstanding;                                                          \
	uint8_t slow;                                                                      \
	_Atomic uint32_t outstanding

#define NVR_CQ_HOT_FIELDS                                                                  \
	struct nvr_cqe *ring;                                                              \
	struct nvr_sq *sq;	/* the SQ completing here; NULL once it is deleted */      \
	volatile uint32_t *db_mmio;                                                        \
	nvr_reg_write_fn db_write;                                                         \
	struct nvr_transport *t;                                                           \
	uint32_t db_off;                                                                   \
	uint16_t qid;                                                                      \
	uint16_t depth;                                                                    \
	/* head (bits 15:0), expected phase (16), trips round the ring (31:17) */         \
	_Atomic uint32_t hp;                                                               \
	_Atomic uint16_t db_head;	/* the head last written to the doorbell */        \
	uint8_t slow;                                                                      \
	_Atomic uint64_t reaped;                                                           \
	_Atomic uint64_t spurious

struct nvr_sq_hot {
	NVR_SQ_HOT_FIELDS;
};

struct nvr_cq_hot {
	NVR_CQ_HOT_FIELDS;
};

/**
 * nvr_sq_ledger_submitted() - tell @sq's ledger that @cid was submitted.
 * @sq: the queue, followed by a ledger.
 * @cid: the command's CID.
 *
 * For nvr_sq_submit_fast() only. Return: @cid.
 */
int nvr_sq_ledger_submitted(struct nvr_sq *sq, uint16_t cid);

/**
 * nvr_fq_doorbell() - write a queue's doorbell.
 * @mmio: the register in the mapped BAR, or NULL.
 * @write: the transport's register write, used when @mmio is NULL.
 * @t: the transport.
 * @off: the register's offset in BAR0.
 * @val: the new tail or head.
 *
 * Return: nothing.
 */
static inline void nvr_fq_doorbell(volatile uint32_t *mmio, nvr_reg_write_fn write,
				   struct nvr_transport *t, uint32_t off, uint32_t val)
{
	if (mmio) {
		/* The stores it announces come first: x86 keeps stores in order and
		 * BAR0 is uncached (lib/dev/vfio.c); this stops the compiler. */
		atomic_signal_fence(memory_order_seq_cst);
		*mmio = val;
		return;
	}
	write(t, off, val);
}

/**
 * nvr_sq_submit_fast() - nvr_sq_submit(), inline.
 * @sq: the queue.
 * @sqe: the command; its CID is chosen here and written back.
 * @ctx: returned with the completion.
 *
 * Return: the CID (>= 0), or -EBUSY when the SQ or the CID table is full.
 */
static inline __attribute__((always_inline)) int
nvr_sq_submit_fast(struct nvr_sq *sq, struct nvr_sqe *sqe, void *ctx)
{
#ifdef NVR_SCHED_MODEL
	return nvr_sq_submit(sq, sqe, ctx);
#else
	struct nvr_sq_hot *h = (struct nvr_sq_hot *)(void *)sq;
	uint16_t tail = h->tail, next = (uint16_t)(tail + 1), cid = tail;
	struct nvr_cmd *cmd = &h->cmds[cid];

	if (__builtin_expect(next == h->depth, 0))
		next = 0;
	if (__builtin_expect(next == atomic_load_explicit(&h->head, memory_order_acquire) ||
				     atomic_load_explicit(&h->outstanding, memory_order_relaxed) >=
					     h->max_outstanding,
			     0))
		return -EBUSY;
	/* The tail slot's CID is free unless completions came out of order. */
	while (__builtin_expect(atomic_load_explicit(&cmd->state, memory_order_acquire) !=
					NVR_CMD_FREE,
				0)) {
		if (++cid == h->ncids)
			cid = 0;
		cmd = &h->cmds[cid];
	}
	cmd->ctx = ctx;
	atomic_store_explicit(&cmd->state, NVR_CMD_OUTSTANDING, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->outstanding, 1, memory_order_relaxed);
	sqe->cid = cid;
	memcpy(&h->ring[tail], sqe, sizeof(*sqe));
	h->tail = next;
	/* Last, as in nvr_sq_submit(): the device cannot see it before the doorbell. */
	if (__builtin_expect(h->slow & NVR_SQ_SLOW_LEDGER, 0))
		return nvr_sq_ledger_submitted(sq, cid);
	return cid;
#endif
}

/**
 * nvr_sq_ring_fast() - nvr_sq_ring(), inline.
 * @sq: the queue. Writes the SQ tail doorbell if the tail moved.
 *
 * Return: nothing.
 */
static inline __attribute__((always_inline)) void nvr_sq_ring_fast(struct nvr_sq *sq)
{
#ifdef NVR_SCHED_MODEL
	nvr_sq_ring(sq);
#else
	struct nvr_sq_hot *h = (struct nvr_sq_hot *)(void *)sq;
	uint16_t tail = h->tail;

	if (__builtin_expect(h->slow & NVR_SQ_SLOW_SHADOW, 0)) {
		nvr_sq_ring(sq);
		return;
	}
	if (tail == atomic_load_explicit(&h->tail_rung, memory_order_relaxed))
		return;
	atomic_store_explicit(&h->tail_rung, tail, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	nvr_fq_doorbell(h->db_mmio, h->db_write, h->t, h->db_off, tail);
#endif
}

/**
 * nvr_cq_pending_fast() - nvr_cq_pending(), inline.
 * @cq: the queue.
 *
 * Return: true when the entry at the head carries the expected phase.
 */
static inline __attribute__((always_inline)) bool nvr_cq_pending_fast(struct nvr_cq *cq)
{
#ifdef NVR_SCHED_MODEL
	return nvr_cq_pending(cq);
#else
	struct nvr_cq_hot *h = (struct nvr_cq_hot *)(void *)cq;
	uint32_t hp = atomic_load_explicit(&h->hp, memory_order_relaxed);
	uint32_t dw3 = atomic_load_explicit((_Atomic uint32_t *)&h->ring[(uint16_t)hp].cid,
					    memory_order_acquire);

	return !((dw3 ^ hp) & (1u << 16));
#endif
}

/**
 * nvr_cq_reap_fast() - nvr_cq_reap() for the CQ's only reaper, inline.
 * @cq: the queue; the caller has it to itself (NVR_CLAIM_EXCLUSIVE).
 * @max: at most this many CQEs.
 * @fn: called for each completion (NULL: none); a constant is inlined.
 * @arg: passed to @fn.
 *
 * Reaps as NVR_REAP_POLL. Return: the CQEs consumed.
 */
static inline __attribute__((always_inline)) unsigned int
nvr_cq_reap_fast(struct nvr_cq *cq, unsigned int max, nvr_cqe_fn fn, void *arg)
{
#ifdef NVR_SCHED_MODEL
	return nvr_cq_reap(cq, max, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, fn, arg);
#else
	struct nvr_cq_hot *h = (struct nvr_cq_hot *)(void *)cq;
	struct nvr_sq_hot *sq = (struct nvr_sq_hot *)(void *)h->sq;
	uint32_t hp = atomic_load_explicit(&h->hp, memory_order_relaxed);
	unsigned int left = max;

	if (__builtin_expect(h->slow, 0))
		return nvr_cq_reap(cq, max, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, fn, arg);
	for (; left; left--) {
		struct nvr_cqe *e = &h->ring[(uint16_t)hp];
		uint32_t dw3 = atomic_load_explicit((_Atomic uint32_t *)&e->cid,
						    memory_order_acquire);
		uint8_t expect = NVR_CMD_OUTSTANDING;
		struct nvr_cqe cqe;
		struct nvr_cmd *cmd;

		if ((dw3 ^ hp) & (1u << 16))
			break;
		/* Field by field, so that what the callback does not read is not
		 * copied (the acquire load of dw3 orders these loads). */
		cqe.dw0 = e->dw0;
		cqe.dw1 = e->dw1;
		cqe.sqhd = e->sqhd;
		cqe.sqid = e->sqid;
		cqe.cid = (uint16_t)dw3;
		cqe.status = (uint16_t)(dw3 >> 16);
		if (__builtin_expect((uint16_t)(hp + 1) == h->depth, 0))
			hp = ((hp & 0xffff0000u) + (1u << 17)) ^ (1u << 16);
		else
			hp++;
		cmd = &sq->cmds[cqe.cid];
		/* The claim: two reapers on one CQE cannot both complete it. */
		if (__builtin_expect(sq->qid != cqe.sqid || cqe.cid >= sq->ncids ||
					     !atomic_compare_exchange_strong(&cmd->state, &expect,
									     NVR_CMD_COMPLETING),
				     0)) {
			atomic_fetch_add_explicit(&h->spurious, 1, memory_order_relaxed);
			continue;
		}
		if (__builtin_expect(cqe.sqhd < sq->depth, 1))
			atomic_store_explicit(&sq->head, cqe.sqhd, memory_order_release);
		atomic_fetch_sub_explicit(&sq->outstanding, 1, memory_order_relaxed);
		/* Read the context before the CID can be reused. */
		{
			void *ctx = cmd->ctx;

			atomic_store_explicit(&cmd->state, NVR_CMD_FREE, memory_order_release);
			if (fn)
				fn((struct nvr_sq *)(void *)sq, &cqe, ctx, arg);
		}
	}
	if (left == max)
		return 0;
	atomic_store_explicit(&h->hp, hp, memory_order_relaxed);
	atomic_store_explicit(&h->db_head, (uint16_t)hp, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->reaped, max - left, memory_order_relaxed);
	nvr_fq_doorbell(h->db_mmio, h->db_write, h->t, h->db_off, (uint16_t)hp);
	return max - left;
#endif
}

#endif
