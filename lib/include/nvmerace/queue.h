/* SPDX-License-Identifier: MIT */
/*
 * Submission and completion queues in host memory, as a caller outside the
 * library sees them: opaque queues (nvr_ctrl_sq(), nvr_ctrl_cq()), submit,
 * ring, reap. The device reads SQEs and writes CQEs concurrently with the
 * host threads using these functions.
 *
 * Concurrency contract: one submitter at a time per SQ; one reaper at a time
 * per CQ unless the caller chooses otherwise on purpose (the CQ exclusion
 * policies, <nvmerace/policy.h>).
 */
#ifndef NVMERACE_QUEUE_H
#define NVMERACE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/wire.h>

struct nvr_sq;
struct nvr_cq;

/* Who consumed a CQE. */
enum nvr_reaper {
	NVR_REAP_POLL,		/* a polling actor, or a polled queue's reaper */
	NVR_REAP_IRQ,		/* an interrupt handler, after a wake */
	NVR_REAP_SWEEP,		/* a timeout sweep */
	NVR_REAP_NR,
};

struct nvr_cq_stats {
	uint64_t reaped;	/* CQEs consumed */
	uint64_t spurious;	/* CQEs naming an unknown SQ or a CID not outstanding */
};

/* One doorbell's shadow (Doorbell Buffer Config), as the host last left it. */
struct nvr_db_state {
	bool on;		/* the queue has a shadow doorbell */
	uint32_t shadow;	/* the value in the host's shadow slot */
	uint32_t eventidx;	/* the device's EventIdx */
	uint32_t decided;	/* the last value whose update is over (skipped, or rung) */
	uint32_t last_mmio;	/* the value the MMIO doorbell last got */
	uint64_t mmio;		/* updates that also rang the MMIO doorbell */
	uint64_t skipped;	/* updates EventIdx said need not */
};

/* An SQ's state, read without stopping it (each field on its own). */
struct nvr_sq_state {
	uint16_t qid;
	uint16_t depth;
	uint16_t cids;		/* the CID space: depth, or more with SQHD refill */
	uint16_t tail_rung;	/* the tail last written to the doorbell */
	uint16_t head;		/* as the device last reported it (CQE SQHD) */
	struct nvr_db_state db;	/* the tail's shadow */
};

/* A CQ's state, read the same way. */
struct nvr_cq_state {
	uint16_t qid;
	uint16_t depth;
	int vector;		/* -1: polled */
	uint16_t head;		/* where the host reads next */
	uint8_t phase;		/* the phase tag it expects there */
	struct nvr_db_state db;	/* the head's shadow */
};

/**
 * nvr_sq_get_state() - an SQ's state, for reports and the detector.
 * @sq: the queue.
 * @out: filled.
 *
 * Relaxed reads, safe while others submit and the device fetches.
 * Return: nothing.
 */
void nvr_sq_get_state(const struct nvr_sq *sq, struct nvr_sq_state *out);

/**
 * nvr_cq_get_state() - a CQ's state, for reports and the detector.
 * @cq: the queue.
 * @out: filled.
 *
 * Relaxed reads, safe while others reap and the device posts.
 * Return: nothing.
 */
void nvr_cq_get_state(const struct nvr_cq *cq, struct nvr_cq_state *out);

/* Called for each completion of a command this host submitted. */
typedef void (*nvr_cqe_fn)(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg);

/**
 * nvr_sq_submit() - place a command in the SQ without ringing the doorbell.
 * @sq: the queue.
 * @sqe: the command; its CID is chosen here and written back.
 * @ctx: returned with the completion.
 *
 * Return: the CID (>= 0), or -EBUSY when the SQ or the CID table is full.
 */
int nvr_sq_submit(struct nvr_sq *sq, struct nvr_sqe *sqe, void *ctx);

/**
 * nvr_sq_ring() - tell the device about everything submitted so far.
 * @sq: the queue. Writes the SQ tail doorbell if the tail moved.
 *
 * Return: nothing.
 */
void nvr_sq_ring(struct nvr_sq *sq);

/* How a reaper takes the CQEs it consumes. */
enum nvr_claim {
	/* The caller has the CQ to itself (it is the only reaper, or holds a
	 * lock the others take): the head moves with plain stores, and the
	 * doorbell is written once at the end. With several reapers and no
	 * lock, this is the race of seed 000 on purpose. */
	NVR_CLAIM_EXCLUSIVE,
	/* Lock-free: each entry is claimed with a compare-and-swap of the head
	 * word after it was copied, so concurrent reapers never consume one
	 * entry twice and never move the head backwards; doorbell writes are
	 * ordered by a short lock taken only to write them. */
	NVR_CLAIM_CAS,
};

/**
 * nvr_cq_reap() - consume up to @max new CQEs, by phase tag.
 * @cq: the queue.
 * @max: the most CQEs to consume.
 * @who: who reaps (a poller, a handler after a wake, a sweep), for the ledger.
 * @claim: how entries are taken from other reapers.
 * @fn: called for each completion of an outstanding command.
 * @arg: passed to @fn.
 *
 * Writes the CQ head doorbell if anything was consumed. A CQE that names no
 * outstanding command is counted as spurious and not passed to @fn.
 * Return: the number of CQEs this caller consumed.
 */
unsigned int nvr_cq_reap(struct nvr_cq *cq, unsigned int max, enum nvr_reaper who,
			 enum nvr_claim claim, nvr_cqe_fn fn, void *arg);

/**
 * nvr_cq_sweep() - the timeout sweep: reap everything, and when the head
 * entry looks old while a later one is new (a CQE posted with a wrong phase
 * tag), report it and consume it so that the queue moves on.
 * @cq: the queue.
 * @claim: NVR_CLAIM_EXCLUSIVE sweeps under the CQ's lock (the one handlers
 *         that want exclusion take); NVR_CLAIM_CAS claims entries by CAS.
 * @fn: called for each completion.
 * @arg: passed to @fn.
 *
 * Return: CQEs consumed.
 */
unsigned int nvr_cq_sweep(struct nvr_cq *cq, enum nvr_claim claim, nvr_cqe_fn fn, void *arg);

/**
 * nvr_cq_pending() - is the next CQE already posted?
 * @cq: the queue
 *
 * Return: true when the entry at the head carries the phase tag the host expects.
 */
bool nvr_cq_pending(struct nvr_cq *cq);

/**
 * nvr_cq_get_stats() - a CQ's counters
 * @cq: the queue
 * @st: filled
 *
 * Return: nothing.
 */
void nvr_cq_get_stats(const struct nvr_cq *cq, struct nvr_cq_stats *st);

/**
 * nvr_prp_fill() - describe a buffer with PRP1/PRP2 (NVMe 1.4, 4.3).
 * @sqe: PRP1 and PRP2 are set.
 * @iova: the data's IOVA; 4-byte aligned.
 * @len: the transfer length.
 * @list: a page for the PRP list when more than two pages are needed, and
 *        its IOVA in @list_iova; one list page covers 2 MiB.
 *
 * Return: 0, or -E2BIG if @len needs more than one list page.
 */
int nvr_prp_fill(struct nvr_sqe *sqe, uint64_t iova, uint32_t len, uint64_t *list,
		 uint64_t list_iova);

#endif
