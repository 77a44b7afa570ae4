// SPDX-License-Identifier: MIT
/*
 * The simulated controller's own record: the journal ring, what the device
 * writes into it, and the DMA faults it reports for accesses outside a live
 * mapping.
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

START_TEST(test_journal_ring)
{
	struct nvr_journal j;
	struct nvr_journal_counts c;
	struct nvr_jev out[32];
	uint32_t n;

	ck_assert_int_eq(nvr_journal_init(&j, 0), -EINVAL);
	ck_assert_int_eq(nvr_journal_init(&j, 6), -EINVAL);
	ck_assert_int_eq(nvr_journal_init(&j, 8), 0);

	ck_assert_uint_eq(nvr_journal_copy(&j, out, 32), 0);
	for (uint32_t i = 1; i <= 5; i++)
		nvr_journal_add(&j, NVR_JEV_SQ_DOORBELL, (uint16_t)i, 100 + i, i, 0);
	n = nvr_journal_copy(&j, out, 32);
	ck_assert_uint_eq(n, 5);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i].seq, i + 1);
		ck_assert_uint_eq(out[i].type, NVR_JEV_SQ_DOORBELL);
		ck_assert_uint_eq(out[i].qid, i + 1);
		ck_assert_uint_eq(out[i].a, 101 + i);
		if (i)
			ck_assert_uint_ge(out[i].ts_ns, out[i - 1].ts_ns);
	}

	/* 20 events in a ring of 8: the newest 8, oldest first. */
	for (uint32_t i = 6; i <= 20; i++)
		nvr_journal_add(&j, i % 2 ? NVR_JEV_CQE_POST : NVR_JEV_DMA_FAULT, 0, 100 + i, 0,
				0);
	n = nvr_journal_copy(&j, out, 32);
	ck_assert_uint_eq(n, 8);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i].seq, 13 + i);
		ck_assert_uint_eq(out[i].a, 113 + i);
	}
	/* Asked for fewer: still the newest, oldest first. */
	n = nvr_journal_copy(&j, out, 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(out[0].a, 118);
	ck_assert_uint_eq(out[2].a, 120);

	/* Counters never wrap with the ring. */
	nvr_journal_counts(&j, &c);
	ck_assert_uint_eq(c.ev[NVR_JEV_SQ_DOORBELL], 5);
	ck_assert_uint_eq(c.ev[NVR_JEV_CQE_POST], 7);
	ck_assert_uint_eq(c.ev[NVR_JEV_DMA_FAULT], 8);
	ck_assert_uint_eq(c.ev[NVR_JEV_IRQ_RAISE], 0);
	nvr_journal_release(&j);

	ck_assert_str_eq(nvr_jev_name(NVR_JEV_CQE_POST), "cqe-post");
	ck_assert_str_eq(nvr_jev_name(NVR_JEV_DMA_FAULT), "dma-fault");
	ck_assert_str_eq(nvr_jev_name(NVR_JEV_NR), "?");
	for (int t = 0; t < NVR_JEV_NR; t++)
		ck_assert_msg(nvr_jev_name(t) && *nvr_jev_name(t), "event %d has no name", t);
}
END_TEST

/* The device's journal agrees with its statistics and comes out oldest first. */
START_TEST(test_journal_device)
{
	struct nvr_sim_config cfg;
	struct nvr_journal_counts c;
	struct nvr_sim_stats st;
	uint64_t per_type[NVR_JEV_NR] = { 0 }, total = 0, delivered = 0;
	struct nvr_sqe sqe;
	struct nvr_jev *ev;
	struct tdev d;
	uint32_t n;

	small_cfg(&cfg);
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 16, -1);
	run_flushes(nvr_ctrl_sq(d.ctrl, 1), 100);
	/* One of each kind of trouble. */
	nvr_reg_write32(d.t, 0x1000 + 2 * 5 * 4, 1);	/* SQ 5: not created */
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 1);
	sqe.prp1 = 0x1000;	/* below every IOVA the transport hands out */
	ck_assert_uint_eq(T_SC(io_sync(nvr_ctrl_sq(d.ctrl, 1), &sqe).status),
			  T_GENERIC(NVME_SC_DATA_XFER_ERROR));

	nvr_sim_get_stats(d.sim, &st);
	nvr_journal_counts(nvr_sim_journal(d.sim), &c);
	ck_assert_uint_eq(st.commands, c.ev[NVR_JEV_SQE_FETCH]);
	ck_assert_uint_eq(st.cqes, c.ev[NVR_JEV_CQE_POST]);
	ck_assert_uint_eq(st.dma_faults, c.ev[NVR_JEV_DMA_FAULT]);
	ck_assert_uint_eq(st.bad_doorbells, c.ev[NVR_JEV_BAD_DOORBELL]);
	ck_assert_uint_eq(st.dma_faults, 1);
	ck_assert_uint_eq(st.bad_doorbells, 1);
	/* 101 I/O commands plus bring-up and queue creation on the admin queue. */
	ck_assert_uint_ge(st.commands, 101 + 5);
	ck_assert_uint_eq(st.commands, st.cqes);

	ev = tdev_journal(&d, &n);
	for (int t = 0; t < NVR_JEV_NR; t++)
		total += c.ev[t];
	ck_assert_uint_eq(n, total);	/* nothing overwritten, nothing torn */
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_uint_eq(ev[i].seq, i + 1);
		ck_assert_uint_lt(ev[i].type, NVR_JEV_NR);
		per_type[ev[i].type]++;
		if (ev[i].type == NVR_JEV_IRQ_RAISE && ev[i].b)
			delivered++;
	}
	for (int t = 0; t < NVR_JEV_NR; t++)
		ck_assert_uint_eq(per_type[t], c.ev[t]);
	ck_assert_uint_eq(delivered, st.irqs);
	/* The oldest event is bring-up's first register write: AQA. */
	ck_assert_uint_eq(ev[0].type, NVR_JEV_REG_WRITE);
	ck_assert_uint_eq(ev[0].a, NVME_REG_AQA);
	/* Each command is fetched before its completion is posted. */
	for (uint32_t i = 0; i < n; i++) {
		bool fetched = false;

		if (ev[i].type != NVR_JEV_CQE_POST || ev[i].qid != 1)
			continue;
		for (uint32_t k = i; k-- > 0;) {
			if (ev[k].type == NVR_JEV_SQE_FETCH && ev[k].qid == 1 &&
			    ev[k].b == (ev[i].b & 0xffff)) {
				fetched = true;
				break;
			}
		}
		ck_assert_msg(fetched, "CQE post at %u precedes its fetch", i);
	}
	free(ev);
	tdev_close(&d);
}
END_TEST

/* A small ring keeps the newest events; the copy is contiguous and ends at the count. */
START_TEST(test_journal_device_wrap)
{
	struct nvr_sim_config cfg;
	struct nvr_journal_counts c;
	struct nvr_jev last[10];
	uint64_t total = 0;
	struct nvr_jev *ev;
	struct tdev d;
	uint32_t n, n2;

	small_cfg(&cfg);
	cfg.journal_size = 64;
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 8, -1);
	run_flushes(nvr_ctrl_sq(d.ctrl, 1), 200);

	nvr_journal_counts(nvr_sim_journal(d.sim), &c);
	for (int t = 0; t < NVR_JEV_NR; t++)
		total += c.ev[t];
	ck_assert_uint_gt(total, 64);
	ck_assert_uint_ge(c.ev[NVR_JEV_CQE_POST], 200);
	ev = tdev_journal(&d, &n);
	ck_assert_uint_eq(n, 64);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(ev[i].seq, total - 63 + i);
	n2 = nvr_journal_copy(nvr_sim_journal(d.sim), last, 10);
	ck_assert_uint_eq(n2, 10);
	for (uint32_t i = 0; i < n2; i++) {
		ck_assert_uint_eq(last[i].seq, ev[54 + i].seq);
		ck_assert_uint_eq(last[i].type, ev[54 + i].type);
		ck_assert_uint_eq(last[i].a, ev[54 + i].a);
	}
	free(ev);
	tdev_close(&d);
}
END_TEST


static bool find_fault(struct tdev *d, uint64_t iova, uint32_t len, uint32_t write)
{
	struct nvr_jev *ev;
	uint32_t n;
	bool found = false;

	ev = tdev_journal(d, &n);
	for (uint32_t i = 0; i < n && !found; i++)
		found = ev[i].type == NVR_JEV_DMA_FAULT && ev[i].a == iova && ev[i].b == len &&
			ev[i].c == write;
	free(ev);
	return found;
}

START_TEST(test_dma_fault_prp)
{
	struct nvr_sim_config cfg;
	struct nvr_dma_buf buf, gone;
	struct nvr_sqe sqe;
	struct nvr_sq *sq;
	struct tdev d;
	uint8_t block[512];
	uint64_t gone_iova;

	small_cfg(&cfg);
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 8, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);

	/* A read into an IOVA nothing maps: the device's write faults. */
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 1);
	sqe.prp1 = 0x2000;
	ck_assert_uint_eq(T_SC(io_sync(sq, &sqe).status), T_GENERIC(NVME_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 1);
	ck_assert(find_fault(&d, 0x2000, 512, 1));

	/* A write from a buffer already freed: the device's read faults, and
	 * the namespace keeps its old data. */
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &gone), 0);
	memset(gone.vaddr, 0x5a, 4096);
	gone_iova = gone.iova;
	nvr_dma_free(&gone);
	nvr_sqe_rw(&sqe, nvme_cmd_write, 1, 7, 1);
	sqe.prp1 = gone_iova;
	ck_assert_uint_eq(T_SC(io_sync(sq, &sqe).status), T_GENERIC(NVME_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 2);
	ck_assert(find_fault(&d, gone_iova, 512, 0));
	ck_assert_int_eq(nvr_sim_ns_read(d.sim, 7 * 512, block, sizeof(block)), 0);
	for (size_t i = 0; i < sizeof(block); i++)
		ck_assert_uint_eq(block[i], 0);

	/* PRP1 mapped, PRP2 not. */
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &buf), 0);
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 16);
	sqe.prp1 = buf.iova;
	sqe.prp2 = 0x3000;
	ck_assert_uint_eq(T_SC(io_sync(sq, &sqe).status), T_GENERIC(NVME_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 3);
	ck_assert(find_fault(&d, 0x3000, 4096, 1));

	/* A good command still works. */
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 8);
	sqe.prp1 = buf.iova;
	ck_assert_uint_eq(T_SC(io_sync(sq, &sqe).status), 0);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 3);
	nvr_dma_free(&buf);
	tdev_close(&d);
}
END_TEST

/*
 * The host frees a live CQ's memory (a teardown-order bug): the device's CQE
 * write faults at the CQ slot's IOVA, no CQE is posted, and the host's memory
 * is not touched.
 */
START_TEST(test_dma_fault_cq_unmapped)
{
	struct nvr_sim_config cfg;
	struct nvr_sqe sqe;
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	struct tdev d;
	uint64_t cq_iova, cqes0, deadline;

	small_cfg(&cfg);
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 4, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	cq = nvr_ctrl_cq(d.ctrl, 1);
	run_flushes(sq, 1);	/* the next CQE goes to slot 1 */
	cq_iova = cq->mem.iova;
	nvr_dma_free(&cq->mem);
	cq->ring = NULL;	/* so that nothing here can read it */
	cqes0 = tdev_stats(&d).cqes;

	flush_sqe(&sqe);
	ck_assert_int_ge(nvr_sq_submit(sq, &sqe, NULL), 0);
	nvr_sq_ring(sq);
	deadline = nvr_now_ns() + T_WAIT_MS * 1000000ull;
	while (tdev_stats(&d).dma_faults == 0 && nvr_now_ns() < deadline)
		nvr_sleep_ns(100000);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 1);
	ck_assert(find_fault(&d, cq_iova + sizeof(struct nvr_cqe), sizeof(struct nvr_cqe), 1));
	ck_assert_uint_eq(tdev_stats(&d).cqes, cqes0);
	ck_assert_uint_eq(count_events(&d, NVR_JEV_CQE_POST, 1), 1);
	tdev_close(&d);
}
END_TEST

/*
 * Data written through the queues lands in the namespace and reads back, for
 * both LBA sizes, across the whole namespace and many queue wraps, with
 * transfers described by PRP1 only, by PRP2 as a page (8 KiB, and 4 KiB from
 * an unaligned start) and by a PRP list (16 KiB, 128 KiB, unaligned).
 */

static Suite *sim_journal_suite(void)
{
	Suite *s = suite_create("sim-journal");
	TCase *tc;

	tc = tcase_create("journal");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_journal_ring);
	tcase_add_test(tc, test_journal_device);
	tcase_add_test(tc, test_journal_device_wrap);
	suite_add_tcase(s, tc);
	tc = tcase_create("dma_fault");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_dma_fault_prp);
	tcase_add_test(tc, test_dma_fault_cq_unmapped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(sim_journal_suite());
}
