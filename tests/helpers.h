/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the Check suites that drive the simulated controller:
 * bring-up and teardown, raw admin commands, synchronous I/O, waiting for
 * completions with a deadline, and reading the device journal.
 *
 * Everything here is static inline so that a suite that does not use a
 * helper does not warn about it.
 */
#ifndef NVR_TESTS_HELPERS_H
#define NVR_TESTS_HELPERS_H

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/dma.h>
#include <nvmerace/sim.h>
#include <nvmerace/wire.h>

#include "base/util.h"
#include "dev/journal.h"
#include "dev/sim/truth.h"
#include "dev/transport.h"
#include "host/queue.h"

/* Generous: a sanitizer build on a loaded two-core machine is slow. */
#define T_TIMEOUT_S 60
#define T_WAIT_MS 10000u

/* The SCT and SC of a CQE's status, without phase, CRD, M and DNR. */
#define T_SC(cqe_status) ((uint16_t)(NVR_CQE_STATUS(cqe_status) & 0x7ff))
#define T_GENERIC(sc) NVR_STATUS(NVME_SCT_GENERIC, sc)
#define T_SPECIFIC(sc) NVR_STATUS(NVME_SCT_CMD_SPECIFIC, sc)

struct tdev {
	struct nvr_sim_config cfg;
	struct nvr_transport *t;
	struct nvr_sim *sim;
	struct nvr_ctrl *ctrl;
};

/* Start a simulator with @cfg and open a controller on it with @nr_io_queues. */
static inline void tdev_open(struct tdev *d, const struct nvr_sim_config *cfg,
			     uint16_t nr_io_queues)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	ret = nvr_sim_create(cfg, &d->t);
	ck_assert_int_eq(ret, 0);
	d->sim = nvr_sim_of(d->t);
	ck_assert_ptr_nonnull(d->sim);
	ret = nvr_ctrl_open(d->t, nr_io_queues, &d->ctrl, NULL, 0);
	ck_assert_msg(ret == 0, "nvr_ctrl_open: %s", strerror(-ret));
}

static inline void tdev_close(struct tdev *d)
{
	nvr_ctrl_close(d->ctrl);
	nvr_transport_destroy(d->t);
	memset(d, 0, sizeof(*d));
}

/* Create I/O queue pair @qid, asserting that the device accepted it. */
static inline void tdev_qpair(struct tdev *d, uint16_t qid, uint16_t depth, int vector)
{
	uint16_t st = 0xffff;
	int ret = nvr_ctrl_create_qpair(d->ctrl, qid, depth, vector, &st);

	ck_assert_msg(ret == 0, "create qpair %u depth %u: %d, status %#x (%s)", qid, depth, ret,
		      st, nvr_status_str(st));
	ck_assert_ptr_nonnull(nvr_ctrl_sq(d->ctrl, qid));
	ck_assert_ptr_nonnull(nvr_ctrl_cq(d->ctrl, qid));
}

static inline struct nvr_sim_stats tdev_stats(struct tdev *d)
{
	struct nvr_sim_stats st;

	nvr_sim_get_stats(d->sim, &st);
	return st;
}

static inline uint64_t tdev_jcount(struct tdev *d, enum nvr_jev_type type)
{
	struct nvr_journal_counts c;

	nvr_journal_counts(nvr_sim_journal(d->sim), &c);
	return c.ev[type];
}

/*
 * The whole journal ring, oldest first, in a malloc'd array (free it).
 * *@n is the number of events copied.
 */
static inline struct nvr_jev *tdev_journal(struct tdev *d, uint32_t *n)
{
	struct nvr_journal *j = nvr_sim_journal(d->sim);
	struct nvr_jev *ev = calloc(j->size, sizeof(*ev));

	ck_assert_ptr_nonnull(ev);
	*n = nvr_journal_copy(j, ev, j->size);
	return ev;
}

/* Run one admin command; assert that a completion came; return its status field. */
static inline uint16_t admin_raw(struct nvr_ctrl *ctrl, struct nvr_sqe *sqe, struct nvr_cqe *out)
{
	struct nvr_cqe cqe;
	int ret;

	memset(&cqe, 0, sizeof(cqe));
	ret = nvr_ctrl_admin(ctrl, sqe, &cqe, T_WAIT_MS);
	ck_assert_msg(ret == 0, "admin opcode %#x: %s", sqe->opcode, strerror(-ret));
	if (out)
		*out = cqe;
	return NVR_CQE_STATUS(cqe.status);
}

/* Create I/O CQ; @qsize0 is 0-based as on the wire; @cdw11_flags PC, IEN. */
static inline uint16_t create_cq_raw(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t qsize0,
				     uint16_t iv, uint32_t cdw11_flags, uint64_t prp1)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_create_cq, .prp1 = prp1 };

	sqe.cdw10 = (uint32_t)qsize0 << 16 | qid;
	sqe.cdw11 = (uint32_t)iv << 16 | cdw11_flags;
	return admin_raw(ctrl, &sqe, NULL);
}

static inline uint16_t create_sq_raw(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t qsize0,
				     uint16_t cqid, uint32_t cdw11_flags, uint64_t prp1)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_create_sq, .prp1 = prp1 };

	sqe.cdw10 = (uint32_t)qsize0 << 16 | qid;
	sqe.cdw11 = (uint32_t)cqid << 16 | cdw11_flags;
	return admin_raw(ctrl, &sqe, NULL);
}

static inline uint16_t delete_q_raw(struct nvr_ctrl *ctrl, uint8_t opcode, uint16_t qid)
{
	struct nvr_sqe sqe = { .opcode = opcode, .cdw10 = qid };

	return admin_raw(ctrl, &sqe, NULL);
}

/* A Flush of namespace 1. */
static inline void flush_sqe(struct nvr_sqe *sqe)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = nvme_cmd_flush;
	sqe->nsid = 1;
}

/* Reap @cq until *@done reaches @target or @timeout_ms pass; return whether it did. */
static inline bool reap_until(struct nvr_cq *cq, nvr_cqe_fn fn, void *arg,
			      const volatile uint64_t *done, uint64_t target,
			      unsigned int timeout_ms)
{
	uint64_t deadline = nvr_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (*done < target) {
		if (nvr_cq_reap(cq, cq->depth, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, fn, arg))
			continue;
		if (nvr_now_ns() > deadline)
			return false;
		nvr_sleep_ns(2000);
	}
	return true;
}

/* Wait until the device posted @target CQEs in all (sim stats); return whether it did. */
static inline bool wait_cqes(struct tdev *d, uint64_t target, unsigned int timeout_ms)
{
	uint64_t deadline = nvr_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (tdev_stats(d).cqes < target) {
		if (nvr_now_ns() > deadline)
			return false;
		nvr_sleep_ns(10000);
	}
	return true;
}

/* One completion, copied out. */
struct io_one {
	uint64_t done;
	struct nvr_cqe cqe;
};

static inline void io_one_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct io_one *w = ctx;

	(void)sq;
	(void)arg;
	w->cqe = *cqe;
	w->done++;
}

/* Submit @sqe on @sq, ring, and wait for its completion; return the CQE. */
static inline struct nvr_cqe io_sync(struct nvr_sq *sq, struct nvr_sqe *sqe)
{
	struct io_one w;
	int cid;

	memset(&w, 0, sizeof(w));
	cid = nvr_sq_submit(sq, sqe, &w);
	ck_assert_int_ge(cid, 0);
	nvr_sq_ring(sq);
	ck_assert_msg(reap_until(sq->cq, io_one_fn, NULL, &w.done, 1, T_WAIT_MS),
		      "no completion for cid %d on qid %u", cid, sq->qid);
	ck_assert_uint_eq(w.done, 1);
	ck_assert_uint_eq(w.cqe.cid, (unsigned int)cid);
	ck_assert_uint_eq(w.cqe.sqid, sq->qid);
	return w.cqe;
}

/* A Read or Write of @nlb blocks at @slba to/from @buf + @off, PRPs filled. */
static inline uint16_t rw_sync(struct nvr_sq *sq, uint8_t opcode, uint64_t slba, uint32_t nlb,
			       uint32_t lba_size, struct nvr_dma_buf *buf, size_t off,
			       struct nvr_dma_buf *list)
{
	struct nvr_sqe sqe;
	struct nvr_cqe cqe;
	int ret;

	nvr_sqe_rw(&sqe, opcode, 1, slba, nlb);
	ret = nvr_prp_fill(&sqe, buf->iova + off, nlb * lba_size, list ? list->vaddr : NULL,
			   list ? list->iova : 0);
	ck_assert_int_eq(ret, 0);
	cqe = io_sync(sq, &sqe);
	return T_SC(cqe.status);
}

/* A deterministic byte pattern: byte at namespace offset @off under @seed. */
static inline void pattern_fill(uint8_t *p, uint64_t off, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t x = (off + i) / 8 * 0x9e3779b97f4a7c15ull ^ seed;

		x ^= x >> 29;
		x *= 0xbf58476d1ce4e5b9ull;
		x ^= x >> 32;
		p[i] = (uint8_t)(x >> (8 * ((off + i) % 8)));
	}
}

#endif
