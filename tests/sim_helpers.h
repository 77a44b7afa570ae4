/* SPDX-License-Identifier: MIT */
/* What the simulator suites (check_sim*.c) share: small devices, flushes, journal counts. */
#ifndef NVR_TESTS_SIM_HELPERS_H
#define NVR_TESTS_SIM_HELPERS_H

#include <check.h>
#include <string.h>
#include <nvme/types.h>

#include "dev/journal.h"
#include "helpers.h"

#define CC_EN (NVME_CC_EN_MASK << NVME_CC_EN_SHIFT)
#define CSTS_RDY(csts) NVME_CSTS_RDY(csts)
#define CSTS_CFS(csts) NVME_CSTS_CFS(csts)

static inline void small_cfg(struct nvr_sim_config *cfg)
{
	nvr_sim_config_init(cfg);
	cfg->ns_bytes = 4u << 20;
}

/* Run @n flushes on @sq, up to depth - 1 at a time; assert they all succeed. */
struct count {
	uint64_t done;
	uint64_t failed;
};

static inline void count_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct count *c = arg;

	(void)sq;
	(void)ctx;
	if (T_SC(cqe->status))
		c->failed++;
	c->done++;
}

static inline void run_flushes(struct nvr_sq *sq, unsigned int n)
{
	struct count c = { 0 };
	unsigned int submitted = 0;
	uint64_t deadline = nvr_now_ns() + T_WAIT_MS * 1000000ull;

	while (c.done < n) {
		struct nvr_sqe sqe;

		while (submitted < n && nvr_sq_has_room(sq)) {
			flush_sqe(&sqe);
			ck_assert_int_ge(nvr_sq_submit(sq, &sqe, NULL), 0);
			submitted++;
		}
		nvr_sq_ring(sq);
		nvr_cq_reap(sq->cq, sq->depth, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, count_fn, &c);
		ck_assert_msg(nvr_now_ns() < deadline, "qid %u: %llu of %u flushes completed",
			      sq->qid, (unsigned long long)c.done, n);
	}
	ck_assert_uint_eq(c.done, n);
	ck_assert_uint_eq(c.failed, 0);
}

/* nvr_sim_create() refuses what the model cannot be. */


static inline uint32_t count_events(struct tdev *d, enum nvr_jev_type type, uint16_t qid)
{
	struct nvr_jev *ev;
	uint32_t n, hits = 0;

	ev = tdev_journal(d, &n);
	for (uint32_t i = 0; i < n; i++)
		if (ev[i].type == type && ev[i].qid == qid)
			hits++;
	free(ev);
	return hits;
}

/* Write @val at @off and check that exactly one bad doorbell was counted and journalled. */

#endif
