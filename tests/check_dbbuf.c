// SPDX-License-Identifier: MIT
/*
 * Shadow doorbells (Doorbell Buffer Config): the two need-event formulas
 * over their boundary, the host's update decision, and the simulated
 * controller's side of the protocol: it reads shadow tails, writes EventIdx,
 * and after it went idle it looks again only when the MMIO doorbell rings.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include "dev/sim/truth.h"
#include "host/dbbuf.h"
#include "queue_helpers.h"
#include "suite_main.h"

/* ei in the half-open ring interval [lo, hi), modulo 2^16. */
static bool in_window(uint16_t ei, uint16_t lo, uint16_t hi)
{
	return (uint16_t)(ei - lo) < (uint16_t)(hi - lo);
}

START_TEST(test_need_event_boundary)
{
	/* Around 0, around the 16-bit wrap, and in the middle. */
	static const uint16_t olds[] = { 0, 1, 7, 1000, 32767, 65530, 65534, 65535 };
	unsigned int differ = 0;

	for (size_t i = 0; i < NVR_ARRAY_SIZE(olds); i++) {
		for (uint16_t k = 1; k <= 8; k++) {
			uint16_t old = olds[i], new_val = (uint16_t)(old + k);

			for (int d = -10; d <= 20; d++) {
				uint16_t ei = (uint16_t)(old + d);
				bool l = nvr_need_event_linux(ei, new_val, old);
				bool s = nvr_need_event_spdk(ei, new_val, old);

				/* Linux: ring when EventIdx is in [old, new). */
				ck_assert_int_eq(l, in_window(ei, old, new_val));
				/* SPDK: ring when EventIdx is in [old, new]. */
				ck_assert_int_eq(s, in_window(ei, old, (uint16_t)(new_val + 1)));
				/* They differ exactly when EventIdx equals the new value. */
				ck_assert_int_eq(l != s, ei == new_val);
				differ += l != s;
				ck_assert_int_eq(nvr_need_event(NVR_NEED_EVENT_LINUX, ei, new_val, old), l);
				ck_assert_int_eq(nvr_need_event(NVR_NEED_EVENT_SPDK, ei, new_val, old), s);
			}
		}
	}
	ck_assert_uint_eq(differ, NVR_ARRAY_SIZE(olds) * 8);
}
END_TEST

START_TEST(test_shadow_update_decision)
{
	_Atomic uint32_t db = 10, ei = 10;
	struct nvr_shadow sh = { .db = &db, .ei = &ei };

	/* The device saw 10 and asked to hear of anything past it. */
	ck_assert(nvr_shadow_update(&sh, 12));
	ck_assert_uint_eq(atomic_load(&db), 12);
	ck_assert_uint_eq(atomic_load(&sh.last_mmio), 12);
	/* Still at EventIdx 10: the device is awake, no MMIO write needed. */
	ck_assert(!nvr_shadow_update(&sh, 13));
	ck_assert(!nvr_shadow_update(&sh, 14));
	/* It caught up to 14 and went to sleep: the next update rings. */
	atomic_store(&ei, 14);
	ck_assert(nvr_shadow_update(&sh, 15));
	ck_assert_uint_eq(atomic_load(&sh.mmio), 2);
	ck_assert_uint_eq(atomic_load(&sh.skipped), 2);
	/* EventIdx equal to the new value: only the SPDK formula rings. */
	atomic_store(&ei, 16);
	ck_assert(!nvr_shadow_update(&sh, 16));
	sh.policy.need_event = NVR_NEED_EVENT_SPDK;
	atomic_store(&db, 15);
	ck_assert(nvr_shadow_update(&sh, 16));
	/* The admin queue rings whatever EventIdx says. */
	sh.always_mmio = true;
	ck_assert(nvr_shadow_update(&sh, 17));
	ck_assert_str_eq(nvr_dbbuf_barrier_name(NVR_DBBUF_BARRIER_NONE), "none");
	ck_assert_str_eq(nvr_need_event_name(NVR_NEED_EVENT_SPDK), "spdk");
}
END_TEST

/* Doorbell Buffer Config refuses buffers it cannot use (NVMe 1.4, 5.7). */
START_TEST(test_dbbuf_config_invalid)
{
	struct nvr_sim_config cfg;
	struct nvr_dma_buf buf;
	struct tdev d;
	const struct {
		uint64_t prp1, prp2;
	} bad[] = {
		{ 0, 1 }, { 1, 0 }, { 0x800, 0x1000 }, { 0x1000, 0x1000 },
		{ 0xdead000, 0xbeef000 },	/* page aligned, not mapped */
	};

	nvr_sim_config_init(&cfg);
	tdev_open(&d, &cfg, 1);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 2 * NVR_PAGE_SIZE, &buf), 0);
	for (size_t i = 0; i < NVR_ARRAY_SIZE(bad); i++) {
		struct nvr_sqe sqe = { .opcode = nvme_admin_dbbuf };
		uint64_t base = i < 4 ? buf.iova : 0;

		sqe.prp1 = base + bad[i].prp1;
		sqe.prp2 = base + bad[i].prp2;
		if (i < 4 && !bad[i].prp1)
			sqe.prp1 = 0;
		if (i < 4 && !bad[i].prp2)
			sqe.prp2 = 0;
		ck_assert_uint_eq(admin_raw(d.ctrl, &sqe, NULL) & 0x7ff, T_GENERIC(NVME_SC_INVALID_FIELD));
	}
	nvr_dma_free(&buf);
	tdev_close(&d);
}
END_TEST

static unsigned int reap_for(struct nvr_cq *cq, unsigned int want, unsigned int ms)
{
	unsigned int got = 0;
	uint64_t end = nvr_now_ns() + (uint64_t)ms * 1000000;

	while (got < want && nvr_now_ns() < end) {
		if (!nvr_cq_reap(cq, 64, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, count_calls, &got))
			nvr_sleep_ns(100000);
	}
	return got;
}

static void submit_flush(struct nvr_sq *sq)
{
	struct nvr_sqe sqe = { .opcode = nvme_cmd_flush, .nsid = 1 };

	ck_assert_int_ge(nvr_sq_submit(sq, &sqe, NULL), 0);
}

/*
 * The device acts on the shadow tail while it is awake; once it drained the
 * SQ and published EventIdx it does not look until an MMIO write: a tail in
 * the shadow slot alone is not fetched.
 */
START_TEST(test_dbbuf_device_needs_mmio_after_idle)
{
	struct nvr_dbbuf_policy p = { NVR_DBBUF_BARRIER_FULL, NVR_NEED_EVENT_LINUX };
	struct nvr_sim_config cfg;
	struct nvr_sq_truth t;
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	struct tdev d;
	uint16_t st;

	nvr_sim_config_init(&cfg);
	qp_open(&d, &cfg, 16, &sq, &cq);
	ck_assert_int_eq(nvr_ctrl_dbbuf_enable(d.ctrl, &p, &st), 0);
	ck_assert_int_eq(nvr_ctrl_dbbuf_enable(d.ctrl, &p, &st), -EALREADY);
	ck_assert_ptr_nonnull(sq->shadow.db);
	ck_assert_ptr_nonnull(cq->shadow.db);
	/* The admin queue keeps its shadow current and rings MMIO every time. */
	ck_assert(nvr_ctrl_sq(d.ctrl, 0)->shadow.always_mmio);

	/* Through the real path: the device is idle at 0, so the host rings. */
	submit_flush(sq);
	nvr_sq_ring(sq);
	ck_assert_uint_eq(atomic_load(&sq->shadow.mmio), 1);
	ck_assert_uint_eq(reap_for(cq, 1, T_WAIT_MS), 1);
	/* The device wrote EventIdx = the tail it drained to, and went idle. */
	for (int i = 0; i < 1000 && !(nvr_sim_sq_truth(d.sim, 1, &t) && t.waiting); i++)
		nvr_sleep_ns(1000000);
	ck_assert(t.shadow && t.waiting && !t.mmio_unseen);
	ck_assert_uint_eq(t.idle_head, 1);
	ck_assert_uint_eq(atomic_load(sq->shadow.ei), 1);

	/* A host that skipped the MMIO write: the shadow tail alone. */
	submit_flush(sq);
	atomic_store(sq->shadow.db, sq->tail);
	atomic_store(&sq->tail_rung, sq->tail);
	ck_assert_uint_eq(reap_for(cq, 1, 100), 0);
	nvr_sim_sq_truth(d.sim, 1, &t);
	ck_assert(t.waiting && !t.mmio_unseen);
	ck_assert_uint_eq(t.idle_head, 1);

	/* The MMIO write wakes it; it reads the shadow tail and goes on. */
	nvr_reg_write32(d.t, 0x1000 + 2 * 1 * (4u << cfg.dstrd), sq->tail);
	ck_assert_uint_eq(reap_for(cq, 1, T_WAIT_MS), 1);
	tdev_close(&d);
}
END_TEST

/* While the device is awake, shadow-only updates are enough; many commands
 * go through with few MMIO writes, and every one of them completes. */
START_TEST(test_dbbuf_traffic_few_mmio)
{
	struct nvr_dbbuf_policy p = { NVR_DBBUF_BARRIER_FULL, NVR_NEED_EVENT_LINUX };
	struct nvr_sim_config cfg;
	unsigned int done = 0, sent = 0;
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	struct tdev d;
	uint16_t st;
	uint64_t end;

	nvr_sim_config_init(&cfg);
	tdev_open(&d, &cfg, 1);
	ck_assert_int_eq(nvr_ctrl_dbbuf_enable(d.ctrl, &p, &st), 0);
	/* Created after the buffer was configured: covered too. */
	tdev_qpair(&d, 1, 64, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	cq = nvr_ctrl_cq(d.ctrl, 1);
	ck_assert_ptr_nonnull(sq->shadow.db);
	end = nvr_now_ns() + (uint64_t)T_WAIT_MS * 1000000;
	while (done < 20000 && nvr_now_ns() < end) {
		while (sent < 20000 && sent - done < 32) {
			submit_flush(sq);
			sent++;
			nvr_sq_ring(sq);
		}
		nvr_cq_reap(cq, 64, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, count_calls, &done);
	}
	ck_assert_uint_eq(done, 20000);
	ck_assert_uint_eq(atomic_load(&sq->shadow.mmio) + atomic_load(&sq->shadow.skipped), 20000);
	ck_assert_uint_gt(atomic_load(&sq->shadow.mmio), 0);
	tdev_close(&d);
}
END_TEST

static Suite *dbbuf_suite(void)
{
	Suite *s = suite_create("dbbuf");
	TCase *tc = tcase_create("host");

	tcase_add_test(tc, test_need_event_boundary);
	tcase_add_test(tc, test_shadow_update_decision);
	suite_add_tcase(s, tc);
	tc = tcase_create("device");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_dbbuf_config_invalid);
	tcase_add_test(tc, test_dbbuf_device_needs_mmio_after_idle);
	tcase_add_test(tc, test_dbbuf_traffic_few_mmio);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(dbbuf_suite());
}
