/* SPDX-License-Identifier: MIT */
/*
 * What the queue suites (check_queue.c, check_fastq.c, check_dbbuf.c) share:
 * a controller on the simulator with I/O queue pair 1, a callback that counts
 * its calls, and the rig of two reapers without a lock on one CQE, for the
 * library's reap and for the inline fast path of <nvmerace/fastq.h>.
 */
#ifndef NVR_TESTS_QUEUE_HELPERS_H
#define NVR_TESTS_QUEUE_HELPERS_H

#include <stdbool.h>

#include <nvmerace/fastq.h>

#include "helpers.h"

/* A 16 MiB namespace. */
static inline void sim_cfg(struct nvr_sim_config *cfg)
{
	nvr_sim_config_init(cfg);
	cfg->ns_bytes = 16u << 20;
}

/* Open @d on @cfg with I/O queue pair 1 of @depth entries, polled. */
static inline void qp_open(struct tdev *d, const struct nvr_sim_config *cfg, uint16_t depth,
			   struct nvr_sq **sq, struct nvr_cq **cq)
{
	tdev_open(d, cfg, 1);
	tdev_qpair(d, 1, depth, -1);
	*sq = nvr_ctrl_sq(d->ctrl, 1);
	*cq = nvr_ctrl_cq(d->ctrl, 1);
}

/* A completion callback that counts its calls in the unsigned int at @arg. */
static inline void count_calls(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	(void)sq;
	(void)cqe;
	(void)ctx;
	(*(unsigned int *)arg)++;
}

/* Reap up to 4 CQEs as the poller: by the inline fast path when @fast, else the library's. */
static inline unsigned int reap4(struct nvr_cq *cq, bool fast, unsigned int *calls)
{
	if (fast)
		return nvr_cq_reap_fast(cq, 4, count_calls, calls);
	return nvr_cq_reap(cq, 4, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, count_calls, calls);
}

/*
 * Submit one Flush on @sq (by the fast path when @fast), ring, and wait until
 * the device posted its CQE. Return: the CQ's head word before the CQE is
 * reaped, which a second reaper may have read.
 */
static inline uint32_t post_one(struct tdev *d, struct nvr_sq *sq, struct nvr_cq *cq, bool fast)
{
	uint64_t cqes0 = tdev_stats(d).cqes;
	struct nvr_sqe sqe;

	flush_sqe(&sqe);
	if (fast) {
		ck_assert_int_ge(nvr_sq_submit_fast(sq, &sqe, NULL), 0);
		nvr_sq_ring_fast(sq);
	} else {
		ck_assert_int_ge(nvr_sq_submit(sq, &sqe, NULL), 0);
		nvr_sq_ring(sq);
	}
	ck_assert(wait_cqes(d, cqes0 + 1, T_WAIT_MS));
	ck_assert(fast ? nvr_cq_pending_fast(cq) : nvr_cq_pending(cq));
	return atomic_load(&cq->hp);
}

/*
 * A second reaper that read the head before the first one moved it (two
 * reapers without a lock) sees the same CQE again: the claim on the command
 * turns it away as spurious instead of completing the command twice. First
 * the clean reap, then the racing one, by the fast path when @fast.
 */
static inline void check_second_reaper(struct tdev *d, struct nvr_sq *sq, struct nvr_cq *cq,
				       bool fast)
{
	struct nvr_cq_stats cst;
	unsigned int calls = 0;
	uint32_t hp = post_one(d, sq, cq, fast);

	ck_assert_uint_eq(reap4(cq, fast, &calls), 1);
	nvr_cq_get_stats(cq, &cst);
	ck_assert_uint_eq(calls, 1);
	ck_assert_uint_eq(cst.spurious, 0);
	ck_assert_uint_eq(atomic_load(&sq->outstanding), 0);

	atomic_store(&cq->hp, hp);	/* the second reaper's stale head */
	ck_assert_uint_eq(reap4(cq, fast, &calls), 1);
	nvr_cq_get_stats(cq, &cst);
	ck_assert_uint_eq(calls, 1);	/* not completed twice */
	ck_assert_uint_eq(cst.spurious, 1);
	ck_assert_uint_eq(atomic_load(&sq->outstanding), 0);
}

#endif
