// SPDX-License-Identifier: MIT
/*
 * lib/dev/sim, the simulated NVMe 1.4 controller, as a host sees it through the
 * transport: configuration checks, the journal, doorbells and their stride,
 * DMA faults, data on the RAM-backed namespace, LBA range and MDTS, and the
 * CC.EN / CSTS.RDY handshake.
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
#include "suite_main.h"

#define CC_EN (NVME_CC_EN_MASK << NVME_CC_EN_SHIFT)
#define CSTS_RDY(csts) NVME_CSTS_RDY(csts)
#define CSTS_CFS(csts) NVME_CSTS_CFS(csts)

static void small_cfg(struct nvr_sim_config *cfg)
{
	nvr_sim_config_init(cfg);
	cfg->ns_bytes = 4u << 20;
}

static void flush_sqe(struct nvr_sqe *sqe)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = nvme_cmd_flush;
	sqe->nsid = 1;
}

/* Run @n flushes on @sq, up to depth - 1 at a time; assert they all succeed. */
struct count {
	uint64_t done;
	uint64_t failed;
};

static void count_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct count *c = arg;

	(void)sq;
	(void)ctx;
	if (T_SC(cqe->status))
		c->failed++;
	c->done++;
}

static void run_flushes(struct nvr_sq *sq, unsigned int n)
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
		nvr_cq_reap(sq->cq, sq->depth, count_fn, &c);
		ck_assert_msg(nvr_now_ns() < deadline, "qid %u: %llu of %u flushes completed",
			      sq->qid, (unsigned long long)c.done, n);
	}
	ck_assert_uint_eq(c.done, n);
	ck_assert_uint_eq(c.failed, 0);
}

/* nvr_sim_create() refuses what the model cannot be. */

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

/* Doorbells at 0x1000 + (2 * qid + is_cq) * (4 << CAP.DSTRD) (NVMe 1.4, 3.1.10). */

static uint32_t count_events(struct tdev *d, enum nvr_jev_type type, uint16_t qid)
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
#define XFER_MAX (128u << 10)
#define NS_BYTES (4u << 20)
#define DEPTH 8
#define POISON 0xee

struct xfer {
	uint32_t len;
	uint32_t off;		/* of the data in its buffer */
};

struct slot {
	struct nvr_dma_buf buf;
	struct nvr_dma_buf list;
	uint64_t ns_off;
	struct xfer x;
	bool busy;
};

struct data_job {
	struct slot slots[DEPTH];
	uint64_t seed;
	uint64_t done, errors, mismatches;
	uint8_t *want;
	bool reading;
};

static void data_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct data_job *job = arg;
	struct slot *s = ctx;
	uint8_t *p = (uint8_t *)s->buf.vaddr + s->x.off;

	(void)sq;
	ck_assert(s->busy);
	s->busy = false;
	job->done++;
	if (T_SC(cqe->status)) {
		job->errors++;
		return;
	}
	if (!job->reading)
		return;
	pattern_fill(job->want, s->ns_off, s->x.len, job->seed);
	if (memcmp(p, job->want, s->x.len))
		job->mismatches++;
	/* Exactly the transfer was written: the bytes around it are intact. */
	if (s->x.off && p[-1] != POISON)
		job->mismatches++;
	if (p[s->x.len] != POISON)
		job->mismatches++;
}

static struct slot *free_slot(struct data_job *job)
{
	for (int i = 0; i < DEPTH; i++)
		if (!job->slots[i].busy)
			return &job->slots[i];
	return NULL;
}

/* One pass over the namespace in transfers cycling through @xs. */
static uint64_t data_pass(struct nvr_sq *sq, struct data_job *job, const struct xfer *xs,
			  unsigned int nr_xs, uint32_t lba_size, bool write)
{
	uint64_t cursor = 0, submitted = 0;
	uint64_t deadline = nvr_now_ns() + 4 * T_WAIT_MS * 1000000ull;
	unsigned int k = 0;

	job->reading = !write;
	job->done = 0;
	while (cursor < NS_BYTES || job->done < submitted) {
		struct slot *s;

		while (cursor < NS_BYTES && nvr_sq_has_room(sq) && (s = free_slot(job))) {
			struct nvr_sqe sqe;
			uint8_t *p;

			s->x = xs[k++ % nr_xs];
			s->x.len = (uint32_t)NVR_MIN((uint64_t)s->x.len, NS_BYTES - cursor);
			s->ns_off = cursor;
			p = (uint8_t *)s->buf.vaddr + s->x.off;
			if (write) {
				pattern_fill(p, cursor, s->x.len, job->seed);
			} else {
				memset(s->buf.vaddr, POISON, s->buf.len);
			}
			nvr_sqe_rw(&sqe, write ? nvme_cmd_write : nvme_cmd_read, 1,
				   cursor / lba_size, s->x.len / lba_size);
			ck_assert_int_eq(nvr_prp_fill(&sqe, s->buf.iova + s->x.off, s->x.len,
						      s->list.vaddr, s->list.iova),
					 0);
			s->busy = true;
			ck_assert_int_ge(nvr_sq_submit(sq, &sqe, s), 0);
			cursor += s->x.len;
			submitted++;
		}
		nvr_sq_ring(sq);
		nvr_cq_reap(sq->cq, DEPTH, data_fn, job);
		ck_assert_msg(nvr_now_ns() < deadline, "%llu of %llu transfers completed",
			      (unsigned long long)job->done, (unsigned long long)submitted);
	}
	return submitted;
}

START_TEST(test_data_roundtrip)
{
	const uint32_t lba_size = _i ? 4096 : 512;
	const struct xfer wr[] = {
		{ lba_size, 0 },	/* PRP1 only */
		{ 8192, 0 },		/* PRP2 is the second page */
		{ 4096, 512 },		/* unaligned start: PRP2 is a page */
		{ 16384, 0 },		/* PRP list of 3 */
		{ XFER_MAX, 0 },	/* PRP list of 31 */
		{ 12288, 1024 },	/* unaligned, list */
		{ 4096, 0 },
	};
	const struct xfer rd[] = {
		{ XFER_MAX, 4 },	/* dword-aligned odd start, list of 32 */
		{ lba_size, 0 },
		{ 16384, 0 },
		{ 8192, 0 },
		{ 4096, 2048 },
		{ 65536, 0 },
	};
	struct nvr_sim_config cfg;
	struct data_job job = { .seed = 0x1234 + _i };
	struct nvr_sq *sq;
	struct tdev d;
	uint8_t *ns;
	uint64_t n;

	nvr_sim_config_init(&cfg);
	cfg.lba_size = lba_size;
	cfg.ns_bytes = NS_BYTES;
	tdev_open(&d, &cfg, 1);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->ns[0].lba_size, lba_size);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->mdts_bytes, XFER_MAX);
	tdev_qpair(&d, 1, DEPTH, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	for (int i = 0; i < DEPTH; i++) {
		ck_assert_int_eq(nvr_dma_alloc(d.t, XFER_MAX + 4096, &job.slots[i].buf), 0);
		ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &job.slots[i].list), 0);
	}
	job.want = malloc(XFER_MAX);
	ns = malloc(NS_BYTES);
	ck_assert(job.want && ns);

	n = data_pass(sq, &job, wr, NVR_ARRAY_SIZE(wr), lba_size, true);
	ck_assert_uint_gt(n, 4 * DEPTH);	/* the queue wrapped many times */
	ck_assert_uint_eq(job.errors, 0);

	/* The device's store holds exactly the pattern. */
	ck_assert_int_eq(nvr_sim_ns_read(d.sim, 0, ns, NS_BYTES), 0);
	for (uint64_t off = 0; off < NS_BYTES; off += XFER_MAX) {
		pattern_fill(job.want, off, XFER_MAX, job.seed);
		ck_assert_msg(!memcmp(ns + off, job.want, XFER_MAX),
			      "namespace differs from what was written near offset %llu",
			      (unsigned long long)off);
	}
	ck_assert_int_eq(nvr_sim_ns_read(d.sim, NS_BYTES - 1, ns, 2), -ERANGE);

	n = data_pass(sq, &job, rd, NVR_ARRAY_SIZE(rd), lba_size, false);
	ck_assert_uint_gt(n, 4 * DEPTH);
	ck_assert_uint_eq(job.errors, 0);
	ck_assert_uint_eq(job.mismatches, 0);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);
	ck_assert_uint_eq(tdev_stats(&d).bad_doorbells, 0);

	for (int i = 0; i < DEPTH; i++) {
		nvr_dma_free(&job.slots[i].buf);
		nvr_dma_free(&job.slots[i].list);
	}
	free(job.want);
	free(ns);
	tdev_close(&d);
}
END_TEST

/* LBA Out of Range (NVMe 1.4, 6.9 and 6.15) and the namespace ID. */
START_TEST(test_lba_range)
{
	const uint32_t lba_size = _i ? 4096 : 512;
	const uint64_t nblocks = NS_BYTES / lba_size;
	struct nvr_sim_config cfg;
	struct nvr_dma_buf buf;
	struct nvr_sqe sqe;
	struct nvr_cqe cqe;
	struct nvr_sq *sq;
	struct tdev d;
	uint8_t tail[4096];

	nvr_sim_config_init(&cfg);
	cfg.lba_size = lba_size;
	cfg.ns_bytes = NS_BYTES;
	tdev_open(&d, &cfg, 1);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->ns[0].nsze, nblocks);
	tdev_qpair(&d, 1, 4, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 2 * 4096, &buf), 0);
	memset(buf.vaddr, 0x77, buf.len);

	ck_assert_uint_eq(rw_sync(sq, nvme_cmd_write, nblocks - 1, 1, lba_size, &buf, 0, NULL),
			  0);
	ck_assert_uint_eq(rw_sync(sq, nvme_cmd_read, nblocks - 1, 1, lba_size, &buf, 0, NULL),
			  0);

	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, nblocks, 1);
	sqe.prp1 = buf.iova;
	cqe = io_sync(sq, &sqe);
	ck_assert_uint_eq(T_SC(cqe.status), T_GENERIC(NVME_SC_LBA_RANGE));
	ck_assert(NVR_CQE_STATUS(cqe.status) & NVR_STATUS_DNR);

	ck_assert_uint_eq(rw_sync(sq, nvme_cmd_read, nblocks - 1, 2, lba_size, &buf, 0, NULL),
			  T_GENERIC(NVME_SC_LBA_RANGE));
	ck_assert_uint_eq(rw_sync(sq, nvme_cmd_read, 1ull << 40, 1, lba_size, &buf, 0, NULL),
			  T_GENERIC(NVME_SC_LBA_RANGE));
	ck_assert_uint_eq(rw_sync(sq, nvme_cmd_read, ~0ull, 1, lba_size, &buf, 0, NULL),
			  T_GENERIC(NVME_SC_LBA_RANGE));
	/* A write straddling the end changes nothing. */
	memset(buf.vaddr, 0x99, buf.len);
	ck_assert_uint_eq(rw_sync(sq, nvme_cmd_write, nblocks - 1, 2, lba_size, &buf, 0, NULL),
			  T_GENERIC(NVME_SC_LBA_RANGE));
	ck_assert_int_eq(nvr_sim_ns_read(d.sim, NS_BYTES - lba_size, tail, lba_size), 0);
	for (uint32_t i = 0; i < lba_size; i++)
		ck_assert_uint_eq(tail[i], 0x77);

	/* Only namespace 1 exists. */
	nvr_sqe_rw(&sqe, nvme_cmd_read, 2, 0, 1);
	sqe.prp1 = buf.iova;
	ck_assert_uint_eq(T_SC(io_sync(sq, &sqe).status), T_GENERIC(NVME_SC_INVALID_NS));
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);
	nvr_dma_free(&buf);
	tdev_close(&d);
}
END_TEST

/* A transfer beyond MDTS is refused before any data moves. */
START_TEST(test_mdts)
{
	struct nvr_sim_config cfg;
	struct nvr_dma_buf buf, list;
	struct nvr_sqe sqe;
	struct nvr_cqe cqe;
	struct nvr_sq *sq;
	struct tdev d;

	small_cfg(&cfg);
	cfg.mdts = 3;	/* 32 KiB */
	tdev_open(&d, &cfg, 1);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->mdts, 3);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->mdts_bytes, 32768);
	tdev_qpair(&d, 1, 4, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 65536, &buf), 0);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &list), 0);

	ck_assert_uint_eq(rw_sync(sq, nvme_cmd_read, 0, 64, 512, &buf, 0, &list), 0);
	ck_assert_uint_eq(rw_sync(sq, nvme_cmd_write, 0, 64, 512, &buf, 0, &list), 0);
	/* One block more; PRPs that would fault prove no transfer was tried. */
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 65);
	cqe = io_sync(sq, &sqe);
	ck_assert_uint_eq(T_SC(cqe.status), T_GENERIC(NVME_SC_INVALID_FIELD));
	ck_assert(NVR_CQE_STATUS(cqe.status) & NVR_STATUS_DNR);
	nvr_sqe_rw(&sqe, nvme_cmd_write, 1, 0, 128);
	ck_assert_uint_eq(T_SC(io_sync(sq, &sqe).status), T_GENERIC(NVME_SC_INVALID_FIELD));
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);
	nvr_dma_free(&buf);
	nvr_dma_free(&list);
	tdev_close(&d);

	/* MDTS 0: no limit. */
	small_cfg(&cfg);
	cfg.mdts = 0;
	tdev_open(&d, &cfg, 1);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->mdts_bytes, 0);
	tdev_qpair(&d, 1, 4, -1);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 65536, &buf), 0);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &list), 0);
	ck_assert_uint_eq(rw_sync(nvr_ctrl_sq(d.ctrl, 1), nvme_cmd_read, 0, 128, 512, &buf, 0,
				  &list),
			  0);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);
	nvr_dma_free(&buf);
	nvr_dma_free(&list);
	tdev_close(&d);
}
END_TEST

/*
 * A PRP list longer than one page chains: the last entry of a full list page
 * points to the next list page (NVMe 1.4, 4.3). nvr_prp_fill() builds one
 * page only, so build a 4 MiB transfer's two-page chain by hand.
 */
static void chain_prps(struct nvr_sqe *sqe, const struct nvr_dma_buf *data,
		       const struct nvr_dma_buf *lists)
{
	uint64_t *l0 = lists->vaddr, *l1 = (uint64_t *)((uint8_t *)lists->vaddr + 4096);
	uint64_t page = data->iova + 4096;

	sqe->prp1 = data->iova;
	sqe->prp2 = lists->iova;
	for (int i = 0; i < 511; i++, page += 4096)
		l0[i] = page;
	l0[511] = lists->iova + 4096;	/* the chain */
	for (int i = 0; i < 512; i++, page += 4096)
		l1[i] = page;
	ck_assert_uint_eq(page, data->iova + data->len);
}

START_TEST(test_prp_chained_list)
{
	const uint32_t len = 4u << 20;
	struct nvr_sim_config cfg;
	struct nvr_dma_buf data, lists;
	struct nvr_sqe sqe;
	struct nvr_sq *sq;
	struct tdev d;
	uint8_t *want, *ns;

	small_cfg(&cfg);
	cfg.ns_bytes = 8u << 20;
	cfg.lba_size = 4096;
	cfg.mdts = 0;
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 4, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	ck_assert_int_eq(nvr_dma_alloc(d.t, len, &data), 0);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 2 * 4096, &lists), 0);
	want = malloc(len);
	ns = malloc(len);
	ck_assert(want && ns);

	/* 4 MiB cannot be described with one list page. */
	ck_assert_int_eq(nvr_prp_fill(&sqe, data.iova, len, lists.vaddr, lists.iova), -E2BIG);

	pattern_fill(data.vaddr, 4096, len, 77);
	nvr_sqe_rw(&sqe, nvme_cmd_write, 1, 1, len / 4096);
	chain_prps(&sqe, &data, &lists);
	ck_assert_uint_eq(T_SC(io_sync(sq, &sqe).status), 0);
	ck_assert_int_eq(nvr_sim_ns_read(d.sim, 4096, ns, len), 0);
	pattern_fill(want, 4096, len, 77);
	ck_assert(!memcmp(ns, want, len));

	memset(data.vaddr, 0, len);
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 1, len / 4096);
	chain_prps(&sqe, &data, &lists);
	ck_assert_uint_eq(T_SC(io_sync(sq, &sqe).status), 0);
	ck_assert(!memcmp(data.vaddr, want, len));
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);

	free(want);
	free(ns);
	nvr_dma_free(&data);
	nvr_dma_free(&lists);
	tdev_close(&d);
}
END_TEST

/*
 * PRP Offset Invalid (NVMe 1.4, Figure 128): "a PRP entry with a non-zero
 * offset after the first entry or ... the Offset field in any PRP entry is
 * not dword aligned".
 */
START_TEST(test_prp_offset_invalid)
{
	struct nvr_sim_config cfg;
	struct nvr_dma_buf buf, list;
	struct nvr_sqe sqe;
	struct nvr_sq *sq;
	struct tdev d;
	uint64_t *l;
	uint16_t st[3];

	small_cfg(&cfg);
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 4, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4 * 4096, &buf), 0);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &list), 0);
	l = list.vaddr;

	/* Two pages; PRP2 is not page aligned. */
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 16);
	sqe.prp1 = buf.iova;
	sqe.prp2 = buf.iova + 4096 + 512;
	st[0] = T_SC(io_sync(sq, &sqe).status);
	/* Three pages; the second list entry is not page aligned. */
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 24);
	sqe.prp1 = buf.iova;
	sqe.prp2 = list.iova;
	l[0] = buf.iova + 4096;
	l[1] = buf.iova + 2 * 4096 + 8;
	st[1] = T_SC(io_sync(sq, &sqe).status);
	/* PRP1 not dword aligned. */
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 1);
	sqe.prp1 = buf.iova + 2;
	st[2] = T_SC(io_sync(sq, &sqe).status);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);
	nvr_dma_free(&buf);
	nvr_dma_free(&list);
	tdev_close(&d);
	ck_assert_msg(st[0] == T_GENERIC(NVME_SC_PRP_INVALID_OFFSET) &&
		      st[1] == T_GENERIC(NVME_SC_PRP_INVALID_OFFSET) &&
		      st[2] == T_GENERIC(NVME_SC_PRP_INVALID_OFFSET),
		      "PRP2 offset: %#x, list entry offset: %#x, PRP1 not dword aligned: %#x; "
		      "want %#x (PRP Offset Invalid) for each",
		      st[0], st[1], st[2], T_GENERIC(NVME_SC_PRP_INVALID_OFFSET));
}
END_TEST

/* nvr_dma_alloc() over the simulator's IOVA table. */
START_TEST(test_dma_buffers)
{
	struct nvr_sim_config cfg;
	struct nvr_transport *t;
	struct nvr_dma_buf a, b, c;
	uint64_t a_iova;
	const uint8_t *p;

	small_cfg(&cfg);
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), 0);
	ck_assert_int_eq(nvr_dma_alloc(t, 0, &a), -EINVAL);
	ck_assert_ptr_null(a.vaddr);
	ck_assert_int_eq(nvr_dma_alloc(t, 5000, &a), 0);
	ck_assert_uint_eq(a.len, 8192);
	ck_assert_uint_eq(a.iova % 4096, 0);
	ck_assert_uint_ge(a.iova, 0x100000);	/* IOVA 0 stays unmapped */
	ck_assert_uint_eq((uintptr_t)a.vaddr % 4096, 0);
	ck_assert_ptr_eq(a.t, t);
	p = a.vaddr;
	for (size_t i = 0; i < a.len; i++)
		ck_assert_uint_eq(p[i], 0);
	ck_assert_int_eq(nvr_dma_alloc(t, 4096, &b), 0);
	ck_assert(b.iova >= a.iova + a.len || b.iova + b.len <= a.iova);

	/* Overlaps are refused, as VFIO_IOMMU_MAP_DMA does; unmap must match. */
	ck_assert_int_eq(t->ops->dma_map(t, b.vaddr, a.iova + 4096, 4096), -EEXIST);
	ck_assert_int_eq(t->ops->dma_map(t, b.vaddr, a.iova + 4096, 0), -EINVAL);
	ck_assert_int_eq(t->ops->dma_map(t, b.vaddr, 0x10000 + 8, 4096), -EINVAL);
	ck_assert_int_eq(t->ops->dma_unmap(t, a.iova, 4096), -ENOENT);

	/* A freed IOVA is never handed out again. */
	a_iova = a.iova;
	nvr_dma_free(&a);
	ck_assert_ptr_null(a.vaddr);
	nvr_dma_free(&a);	/* a cleared buffer is allowed */
	ck_assert_int_eq(nvr_dma_alloc(t, 8192, &c), 0);
	ck_assert_uint_ne(c.iova, a_iova);
	ck_assert_uint_gt(c.iova, b.iova);

	/* IOVA space exhausted. */
	atomic_store(&t->iova_next, t->iova_end - 4096);
	ck_assert_int_eq(nvr_dma_alloc(t, 8192, &a), -ENOSPC);
	ck_assert_ptr_null(a.vaddr);
	nvr_dma_free(&b);
	nvr_dma_free(&c);
	nvr_transport_destroy(t);
}
END_TEST

/* A function level reset returns the controller to its power-on state. */
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
	ck_assert_int_eq(d.t->ops->reset(d.t), 0);
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
	ck_assert_int_eq(nvr_ctrl_open(d.t, 1, &d.ctrl), 0);
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
	ck_assert_int_eq(nvr_ctrl_open(d.t, 1, &d.ctrl), 0);
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
	tc = tcase_create("journal");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_journal_ring);
	tcase_add_test(tc, test_journal_device);
	tcase_add_test(tc, test_journal_device_wrap);
	suite_add_tcase(s, tc);
	tc = tcase_create("doorbell");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_loop_test(tc, test_doorbell_stride, 0, 3);
	tcase_add_test(tc, test_doorbell_bad_cq_head);
	suite_add_tcase(s, tc);
	tc = tcase_create("dma_fault");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_dma_fault_prp);
	tcase_add_test(tc, test_dma_fault_cq_unmapped);
	suite_add_tcase(s, tc);
	tc = tcase_create("data");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_loop_test(tc, test_data_roundtrip, 0, 2);
	tcase_add_test(tc, test_prp_chained_list);
	suite_add_tcase(s, tc);
	tc = tcase_create("prp_offset");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_prp_offset_invalid);
	suite_add_tcase(s, tc);
	tc = tcase_create("dma_buffers");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_dma_buffers);
	suite_add_tcase(s, tc);
	tc = tcase_create("reset");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_reset);
	suite_add_tcase(s, tc);
	tc = tcase_create("layout");
	tcase_add_test(tc, test_identify_buffers_aligned);
	suite_add_tcase(s, tc);
	tc = tcase_create("io_errors");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_loop_test(tc, test_lba_range, 0, 2);
	tcase_add_test(tc, test_mdts);
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
