// SPDX-License-Identifier: MIT
/*
 * lib/dev/sim, the simulated NVMe 1.4 controller, as a host sees it through the
 * transport: its registers and life cycle (configuration checks, doorbells and
 * their stride, reset, the CC.EN / CSTS.RDY handshake, fatal status). The
 * journal and DMA faults are in check_sim_journal.c, I/O in check_sim_io.c.
 */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include "dev/sim/internal.h"
#include "dev/sim/truth.h"
#include "helpers.h"
#include "sim_helpers.h"
#include "suite_main.h"

START_TEST(test_config_invalid)
{
	struct nvr_sim_config cfg;
	struct nvr_transport *t = (struct nvr_transport *)&cfg;

	nvr_sim_config_init(&cfg);
	cfg.lba_size = 1024;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), -EINVAL);
	ck_assert_ptr_null(t);

	nvr_sim_config_init(&cfg);
	cfg.lba_size = 4096;
	cfg.ns_bytes = 4096 * 10 + 512;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), -EINVAL);
	nvr_sim_config_init(&cfg);
	cfg.ns_bytes = 0;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), -EINVAL);
	nvr_sim_config_init(&cfg);
	cfg.mqes = 0;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), -EINVAL);
	nvr_sim_config_init(&cfg);
	cfg.nr_io_queues = 0;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), -EINVAL);
	nvr_sim_config_init(&cfg);
	cfg.nr_vectors = 0;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), -EINVAL);
	nvr_sim_config_init(&cfg);
	cfg.dstrd = 9;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), -EINVAL);
	nvr_sim_config_init(&cfg);
	cfg.latency_min_us = 10;
	cfg.latency_max_us = 9;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), -EINVAL);
	nvr_sim_config_init(&cfg);
	cfg.journal_size = 1000;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), -EINVAL);
	ck_assert_ptr_null(t);

	/* The boundaries themselves are fine. */
	nvr_sim_config_init(&cfg);
	cfg.lba_size = 4096;
	cfg.ns_bytes = 4096;
	cfg.mqes = 1;
	cfg.nr_io_queues = 1;
	cfg.nr_vectors = 1;
	cfg.dstrd = 8;
	cfg.journal_size = 1;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_eq(nvr_sim_of(t), (struct nvr_sim *)t);
	ck_assert_str_eq(t->kind, "sim");
	ck_assert_uint_eq(t->nr_vectors, 1);
	/* CAP reflects the configuration (NVMe 1.4, 3.1.1). */
	ck_assert_uint_eq(NVME_CAP_MQES(nvr_reg_read64(t, NVME_REG_CAP)), 1);
	ck_assert_uint_eq(NVME_CAP_DSTRD(nvr_reg_read64(t, NVME_REG_CAP)), 8);
	ck_assert_uint_eq(NVME_CAP_TO(nvr_reg_read64(t, NVME_REG_CAP)), cfg.cap_to);
	ck_assert_uint_eq(nvr_reg_read32(t, NVME_REG_VS), 0x00010400);
	nvr_transport_destroy(t);

	ck_assert_ptr_null(nvr_sim_of(NULL));
	nvr_transport_destroy(NULL);
}
END_TEST

/* The journal ring by itself. */


static void expect_bad_doorbell(struct tdev *d, uint32_t off, uint32_t val, uint16_t qid)
{
	uint64_t bad0 = tdev_stats(d).bad_doorbells;
	struct nvr_jev *ev;
	uint32_t n;

	nvr_reg_write32(d->t, off, val);
	ck_assert_msg(tdev_stats(d).bad_doorbells == bad0 + 1,
		      "write %#x at %#x: %llu bad doorbells, want %llu", val, off,
		      (unsigned long long)tdev_stats(d).bad_doorbells,
		      (unsigned long long)bad0 + 1);
	ev = tdev_journal(d, &n);
	ck_assert_uint_gt(n, 0);
	/* The device may journal on its own thread meanwhile: find ours. */
	for (uint32_t i = n; i-- > 0;) {
		if (ev[i].type != NVR_JEV_BAD_DOORBELL)
			continue;
		ck_assert_uint_eq(ev[i].a, val);
		ck_assert_uint_eq(ev[i].qid, qid);
		break;
	}
	free(ev);
}

START_TEST(test_doorbell_stride)
{
	static const uint8_t strides[] = { 0, 2, 4 };
	uint8_t dstrd = strides[_i];
	uint32_t stride = 4u << dstrd;
	struct nvr_sim_config cfg;
	struct tdev d;

	small_cfg(&cfg);
	cfg.dstrd = dstrd;
	cfg.nr_io_queues = 4;
	tdev_open(&d, &cfg, 2);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->dstrd, dstrd);
	tdev_qpair(&d, 1, 16, -1);
	tdev_qpair(&d, 2, 16, -1);
	for (uint16_t q = 0; q <= 2; q++) {
		ck_assert_uint_eq(nvr_ctrl_sq(d.ctrl, q)->db_off, 0x1000 + 2u * q * stride);
		ck_assert_uint_eq(nvr_ctrl_cq(d.ctrl, q)->db_off, 0x1000 + (2u * q + 1) * stride);
	}
	for (int i = 0; i < 5; i++) {
		run_flushes(nvr_ctrl_sq(d.ctrl, 1), 37);
		run_flushes(nvr_ctrl_sq(d.ctrl, 2), 23);
	}
	ck_assert_uint_eq(tdev_stats(&d).bad_doorbells, 0);
	/* The device saw each queue's doorbells as that queue's. */
	for (uint16_t q = 1; q <= 2; q++) {
		ck_assert_uint_gt(count_events(&d, NVR_JEV_SQ_DOORBELL, q), 0);
		ck_assert_uint_gt(count_events(&d, NVR_JEV_CQ_DOORBELL, q), 0);
	}

	/* Invalid Doorbell Register or Write Value (NVMe 1.4, 5.2.1): counted, ignored. */
	expect_bad_doorbell(&d, 0x1000 + 2 * stride + 2, 1, 1);	/* misaligned */
	if (dstrd)
		expect_bad_doorbell(&d, 0x1000 + 2 * 4, 1, 0);	/* SQ 1 at stride 4 */
	expect_bad_doorbell(&d, 0x1000 + 2 * 3 * stride, 1, 3);	/* SQ 3: not created */
	expect_bad_doorbell(&d, 0x1000 + (2 * 4 + 1) * stride, 1, 4);	/* CQ 4: not created */
	expect_bad_doorbell(&d, 0x1000 + 2 * 5 * stride, 1, 5);	/* beyond the queues */
	expect_bad_doorbell(&d, 0x1000 + 2 * stride, 16, 1);	/* tail == depth */
	expect_bad_doorbell(&d, 0x1000 + 3 * stride, 16, 1);	/* head == depth */

	/* The bad writes changed nothing: the queues still work. */
	run_flushes(nvr_ctrl_sq(d.ctrl, 1), 20);
	run_flushes(nvr_ctrl_sq(d.ctrl, 2), 20);
	tdev_close(&d);
}
END_TEST

/*
 * A CQ head doorbell that releases entries the device never posted is an
 * Invalid Doorbell Write Value. The device notices it when it next posts to
 * that CQ, journals it once, ignores it and carries on.
 */
START_TEST(test_doorbell_bad_cq_head)
{
	struct nvr_sim_config cfg;
	struct nvr_jev *ev;
	struct tdev d;
	uint32_t n;
	bool found = false;

	small_cfg(&cfg);
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 16, -1);
	run_flushes(nvr_ctrl_sq(d.ctrl, 1), 3);
	/* Nothing is outstanding in CQ 1: its head may not move. */
	nvr_reg_write32(d.t, nvr_ctrl_cq(d.ctrl, 1)->db_off, 9);
	run_flushes(nvr_ctrl_sq(d.ctrl, 1), 30);
	ck_assert_uint_eq(tdev_stats(&d).bad_doorbells, 1);
	ev = tdev_journal(&d, &n);
	for (uint32_t i = 0; i < n; i++) {
		if (ev[i].type != NVR_JEV_BAD_DOORBELL)
			continue;
		ck_assert_uint_eq(ev[i].qid, 1);
		ck_assert_uint_eq(ev[i].a, 9);
		ck_assert_uint_eq(ev[i].b, 1);	/* a CQ doorbell */
		found = true;
	}
	ck_assert(found);
	free(ev);
	tdev_close(&d);
}
END_TEST

/* The device flags every access outside a live mapping (a DMA fault). */

/* Find the DMA fault event for @iova; return whether there is one. */

START_TEST(test_reset)
{
	struct nvr_sim_config cfg;
	struct nvr_sqe sqe;
	struct tdev d;
	uint64_t bad0;

	small_cfg(&cfg);
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 8, -1);
	run_flushes(nvr_ctrl_sq(d.ctrl, 1), 10);
	ck_assert_int_eq(nvr_transport_reset(d.t), 0);
	ck_assert_uint_eq(nvr_reg_read32(d.t, NVME_REG_CC), 0);
	ck_assert_uint_eq(nvr_reg_read32(d.t, NVME_REG_CSTS), 0);
	ck_assert_uint_eq(nvr_reg_read32(d.t, NVME_REG_AQA), 0);
	ck_assert_uint_eq(nvr_reg_read64(d.t, NVME_REG_ASQ), 0);
	/* The I/O queues are gone: their doorbells are invalid now. */
	bad0 = tdev_stats(&d).bad_doorbells;
	flush_sqe(&sqe);
	ck_assert_int_ge(nvr_sq_submit(nvr_ctrl_sq(d.ctrl, 1), &sqe, NULL), 0);
	nvr_sq_ring(nvr_ctrl_sq(d.ctrl, 1));
	ck_assert_uint_eq(tdev_stats(&d).bad_doorbells, bad0 + 1);
	/* And the controller comes up again from scratch. */
	nvr_ctrl_close(d.ctrl);
	ck_assert_int_eq(nvr_ctrl_open(d.t, 1, &d.ctrl, NULL, 0), 0);
	tdev_qpair(&d, 1, 8, -1);
	run_flushes(nvr_ctrl_sq(d.ctrl, 1), 10);
	tdev_close(&d);
}
END_TEST

/*
 * The identify pages are built by casting the device's byte arrays to
 * libnvme's structures: the arrays must be aligned like those structures,
 * or every access is undefined behaviour (UBSan: "member access within
 * misaligned address").
 */
START_TEST(test_identify_buffers_aligned)
{
	ck_assert_msg(offsetof(struct nvr_sim, id_ctrl) % _Alignof(struct nvme_id_ctrl) == 0,
		      "id_ctrl at offset %zu, needs %zu-byte alignment",
		      offsetof(struct nvr_sim, id_ctrl), _Alignof(struct nvme_id_ctrl));
	ck_assert_msg(offsetof(struct nvr_sim, id_ns) % _Alignof(struct nvme_id_ns) == 0,
		      "id_ns at offset %zu, needs %zu-byte alignment",
		      offsetof(struct nvr_sim, id_ns), _Alignof(struct nvme_id_ns));
}
END_TEST

/* CSTS.RDY follows CC.EN after cfg.ready_delay_us, both ways (NVMe 1.4, 7.6.1). */
#define READY_US 100000u

START_TEST(test_ready_delay)
{
	struct nvr_sim_config cfg;
	struct tdev d;
	uint64_t t0, elapsed, deadline;
	uint32_t cc, csts;

	small_cfg(&cfg);
	cfg.ready_delay_us = READY_US;
	t0 = nvr_now_ns();
	tdev_open(&d, &cfg, 1);
	elapsed = nvr_now_ns() - t0;
	ck_assert_msg(elapsed >= READY_US * 1000ull, "open took %llu ns",
		      (unsigned long long)elapsed);
	ck_assert_uint_eq(CSTS_RDY(nvr_ctrl_csts(d.ctrl)), 1);

	t0 = nvr_now_ns();
	ck_assert_int_eq(nvr_ctrl_disable(d.ctrl), 0);
	elapsed = nvr_now_ns() - t0;
	ck_assert_msg(elapsed >= READY_US * 1000ull, "disable took %llu ns",
		      (unsigned long long)elapsed);
	csts = nvr_ctrl_csts(d.ctrl);
	ck_assert_uint_eq(CSTS_RDY(csts), 0);
	ck_assert_uint_eq(CSTS_CFS(csts), 0);
	cc = nvr_reg_read32(d.t, NVME_REG_CC);
	ck_assert_uint_eq(NVME_CC_EN(cc), 0);

	/* Enable by hand: whenever RDY reads 1, the delay has passed. */
	t0 = nvr_now_ns();
	nvr_reg_write32(d.t, NVME_REG_CC, cc | CC_EN);
	deadline = t0 + T_WAIT_MS * 1000000ull;
	for (;;) {
		csts = nvr_ctrl_csts(d.ctrl);
		elapsed = nvr_now_ns() - t0;
		if (CSTS_RDY(csts))
			break;
		ck_assert(nvr_now_ns() < deadline);
		nvr_sleep_ns(1000000);
	}
	ck_assert_msg(elapsed >= READY_US * 1000ull, "RDY after %llu ns",
		      (unsigned long long)elapsed);
	ck_assert_int_eq(nvr_ctrl_disable(d.ctrl), 0);
	tdev_close(&d);
}
END_TEST

/*
 * CC.EN cleared before RDY was ever set: RDY stays 0. It may not read 1 while
 * CC.EN is 0 ("set to 1 when the controller is ready to process submission
 * queue entries after CC.EN is set to 1", NVMe 1.4, 3.1.6).
 */
START_TEST(test_disable_before_ready)
{
	struct nvr_sim_config cfg;
	struct tdev d;
	uint64_t t0, deadline;
	uint32_t cc, csts, rdy_seen = 0, samples = 0;
	int tries;

	small_cfg(&cfg);
	cfg.ready_delay_us = READY_US;
	tdev_open(&d, &cfg, 1);
	ck_assert_int_eq(nvr_ctrl_disable(d.ctrl), 0);
	cc = nvr_reg_read32(d.t, NVME_REG_CC);

	for (tries = 0; tries < 5; tries++) {
		nvr_reg_write32(d.t, NVME_REG_CC, cc | CC_EN);
		csts = nvr_ctrl_csts(d.ctrl);
		nvr_reg_write32(d.t, NVME_REG_CC, cc);
		if (!CSTS_RDY(csts))
			break;	/* disabled before it became ready, as wanted */
		/* Preempted for the whole delay: wait it out and try again. */
		nvr_sleep_ns(3 * READY_US * 1000ull);
	}
	ck_assert_int_lt(tries, 5);
	t0 = nvr_now_ns();
	deadline = t0 + 2 * READY_US * 1000ull;
	while (nvr_now_ns() < deadline) {
		csts = nvr_ctrl_csts(d.ctrl);
		samples++;
		if (CSTS_RDY(csts))
			rdy_seen++;
		nvr_sleep_ns(2000000);
	}
	ck_assert_msg(rdy_seen == 0,
		      "CSTS.RDY read 1 in %u of %u samples after CC.EN was cleared before ready",
		      rdy_seen, samples);
	tdev_close(&d);
}
END_TEST

/*
 * Enabling with a CC the controller cannot honour (IOSQES 7: 128-byte SQEs)
 * sets CSTS.CFS. RDY was 0 and stays 0; admin commands fail with -EIO; a
 * disable clears the state and the controller comes up again.
 */
START_TEST(test_bad_cc_fatal)
{
	struct nvr_sim_config cfg;
	struct nvr_sqe sqe = { .opcode = nvme_admin_identify, .cdw10 = NVME_IDENTIFY_CNS_CTRL };
	struct nvr_cqe cqe;
	struct tdev d;
	uint32_t cc, csts;

	small_cfg(&cfg);
	tdev_open(&d, &cfg, 1);
	ck_assert_int_eq(nvr_ctrl_disable(d.ctrl), 0);
	ck_assert_uint_eq(tdev_jcount(&d, NVR_JEV_FATAL), 0);
	cc = nvr_reg_read32(d.t, NVME_REG_CC);
	cc &= ~(NVME_CC_IOSQES_MASK << NVME_CC_IOSQES_SHIFT);
	cc |= 7u << NVME_CC_IOSQES_SHIFT | CC_EN;
	nvr_reg_write32(d.t, NVME_REG_CC, cc);
	csts = nvr_ctrl_csts(d.ctrl);
	ck_assert_uint_eq(tdev_jcount(&d, NVR_JEV_FATAL), 1);
	ck_assert_uint_eq(CSTS_CFS(csts), 1);
	ck_assert_int_eq(nvr_ctrl_admin(d.ctrl, &sqe, &cqe, 1000), -EIO);

	ck_assert_int_eq(nvr_ctrl_disable(d.ctrl), 0);
	ck_assert_uint_eq(CSTS_CFS(nvr_ctrl_csts(d.ctrl)), 0);
	nvr_ctrl_close(d.ctrl);
	ck_assert_int_eq(nvr_ctrl_open(d.t, 1, &d.ctrl, NULL, 0), 0);
	ck_assert_str_eq(nvr_ctrl_info(d.ctrl)->serial, cfg.serial);
	tdev_close(&d);
	ck_assert_msg(CSTS_RDY(csts) == 0, "CSTS %#x after a failed enable: RDY set", csts);
}
END_TEST


static Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc;

	tc = tcase_create("config");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_config_invalid);
	suite_add_tcase(s, tc);
	tc = tcase_create("doorbell");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_loop_test(tc, test_doorbell_stride, 0, 3);
	tcase_add_test(tc, test_doorbell_bad_cq_head);
	suite_add_tcase(s, tc);
	tc = tcase_create("reset");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_reset);
	suite_add_tcase(s, tc);
	tc = tcase_create("layout");
	tcase_add_test(tc, test_identify_buffers_aligned);
	suite_add_tcase(s, tc);
	tc = tcase_create("ready");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_ready_delay);
	tcase_add_test(tc, test_disable_before_ready);
	suite_add_tcase(s, tc);
	tc = tcase_create("fatal");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_bad_cc_fatal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(sim_suite());
}
