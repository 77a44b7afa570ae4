// SPDX-License-Identifier: MIT
/*
 * lib/host/ctrl against the simulated controller: identify, the number of queues,
 * every status of Create and Delete I/O SQ/CQ (NVMe 1.4, 5.3 to 5.6),
 * commands aborted by SQ deletion, status strings, shutdown and bring-up
 * failure.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include "helpers.h"
#include "suite_main.h"

/* Identify: what the host decodes is what the device was configured with. */

static void check_identify(uint32_t lba_size, uint64_t ns_bytes, uint8_t mdts)
{
	struct nvr_sim_config cfg;
	const struct nvr_ctrl_info *info;
	struct tdev d;

	nvr_sim_config_init(&cfg);
	cfg.lba_size = lba_size;
	cfg.ns_bytes = ns_bytes;
	cfg.mdts = mdts;
	cfg.mqes = 255;
	cfg.dstrd = 1;
	cfg.cap_to = 7;
	/* Strings filling their fields completely: no terminator on the wire. */
	strcpy(cfg.model, "ACME NVMe Simulated Controller Model 40C");
	strcpy(cfg.serial, "SN0123456789ABCDEFGH");
	strcpy(cfg.firmware, "FW1.2.3X");
	ck_assert_uint_eq(strlen(cfg.model), 40);
	ck_assert_uint_eq(strlen(cfg.serial), 20);
	ck_assert_uint_eq(strlen(cfg.firmware), 8);
	tdev_open(&d, &cfg, 4);
	info = nvr_ctrl_info(d.ctrl);

	ck_assert_str_eq(info->model, cfg.model);
	ck_assert_str_eq(info->serial, cfg.serial);
	ck_assert_str_eq(info->firmware, cfg.firmware);
	ck_assert_uint_eq(info->vid, 0x1b36);
	ck_assert_uint_eq(info->version, 0x00010400);
	ck_assert_uint_eq(info->mqes, 256);
	ck_assert_uint_eq(info->dstrd, 1);
	ck_assert_uint_eq(info->cap_to, 7);
	ck_assert_uint_eq(info->mdts, mdts);
	ck_assert_uint_eq(info->mdts_bytes, mdts ? 4096u << mdts : 0);
	ck_assert_uint_eq(info->nr_sq, 4);
	ck_assert_uint_eq(info->nr_cq, 4);
	ck_assert_uint_eq(info->nn, 1);
	ck_assert_uint_eq(info->nr_ns, 1);
	ck_assert_uint_eq(info->ns[0].nsid, 1);
	ck_assert_uint_eq(info->ns[0].nsze, ns_bytes / lba_size);
	ck_assert_uint_eq(info->ns[0].lba_size, lba_size);
	ck_assert(info->oacs & (1u << 8));	/* Doorbell Buffer Config */
	tdev_close(&d);
}

START_TEST(test_identify_fields)
{
	check_identify(512, 64ull << 20, 5);
	check_identify(4096, 1ull << 30, 0);	/* touched lazily: costs nothing */
}
END_TEST

/* Short strings come back without the space padding of the wire format. */
START_TEST(test_identify_short_strings)
{
	struct nvr_sim_config cfg;
	struct tdev d;

	nvr_sim_config_init(&cfg);
	strcpy(cfg.model, "m");
	strcpy(cfg.serial, "s 1");
	strcpy(cfg.firmware, "");
	tdev_open(&d, &cfg, 1);
	ck_assert_str_eq(nvr_ctrl_info(d.ctrl)->model, "m");
	ck_assert_str_eq(nvr_ctrl_info(d.ctrl)->serial, "s 1");
	ck_assert_str_eq(nvr_ctrl_info(d.ctrl)->firmware, "");
	tdev_close(&d);
}
END_TEST

/* Identify namespace for NSID 0 is invalid; for an inactive NSID it is zeroes. */
START_TEST(test_identify_ns_raw)
{
	struct nvr_sim_config cfg;
	struct nvr_dma_buf buf;
	struct nvr_sqe sqe;
	struct tdev d;
	const uint8_t *p;

	nvr_sim_config_init(&cfg);
	tdev_open(&d, &cfg, 1);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &buf), 0);
	p = buf.vaddr;

	sqe = (struct nvr_sqe){ .opcode = nvme_admin_identify, .nsid = 0,
				.cdw10 = NVME_IDENTIFY_CNS_NS, .prp1 = buf.iova };
	ck_assert_uint_eq(admin_raw(d.ctrl, &sqe, NULL) & 0x7ff, T_GENERIC(NVME_SC_INVALID_NS));

	memset(buf.vaddr, 0xff, 4096);
	sqe = (struct nvr_sqe){ .opcode = nvme_admin_identify, .nsid = 2,
				.cdw10 = NVME_IDENTIFY_CNS_NS, .prp1 = buf.iova };
	ck_assert_uint_eq(admin_raw(d.ctrl, &sqe, NULL), 0);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(p[i], 0);

	sqe = (struct nvr_sqe){ .opcode = nvme_admin_identify, .nsid = 1,
				.cdw10 = NVME_IDENTIFY_CNS_NS, .prp1 = buf.iova };
	ck_assert_uint_eq(admin_raw(d.ctrl, &sqe, NULL), 0);
	ck_assert_uint_eq(((const struct nvme_id_ns *)p)->nsze, cfg.ns_bytes / cfg.lba_size);
	nvr_dma_free(&buf);
	tdev_close(&d);
}
END_TEST

/*
 * Number of Queues (NVMe 1.4, 5.21.1.7): asking for more than the controller
 * offers gets what it offers; the host records what was granted, and only
 * that many queues can be created.
 */
START_TEST(test_nr_queues_clamped)
{
	struct nvr_sim_config cfg;
	struct nvr_sqe sqe = { .opcode = nvme_admin_get_features,
			       .cdw10 = NVME_FEAT_FID_NUM_QUEUES };
	struct nvr_sqe f;
	struct nvr_cqe cqe;
	struct tdev d;
	uint16_t st = 0;
	int ret;

	nvr_sim_config_init(&cfg);
	cfg.nr_io_queues = 8;
	tdev_open(&d, &cfg, 32);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->nr_sq, 8);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->nr_cq, 8);
	ck_assert_uint_eq(admin_raw(d.ctrl, &sqe, &cqe), 0);
	ck_assert_uint_eq(cqe.dw0, 7u << 16 | 7u);

	tdev_qpair(&d, 8, 4, -1);
	flush_sqe(&f);
	ck_assert_uint_eq(T_SC(io_sync(nvr_ctrl_sq(d.ctrl, 8), &f).status), 0);
	/* Queue 9 was never granted: refused by the host or by the device. */
	ret = nvr_ctrl_create_qpair(d.ctrl, 9, 4, -1, &st);
	ck_assert_msg(ret == -EINVAL || (ret == -EREMOTEIO &&
					 (st & 0x7ff) == T_SPECIFIC(NVME_SC_QID_INVALID)),
		      "create qpair 9 of 8: %d, status %#x", ret, st);
	ck_assert_ptr_null(nvr_ctrl_sq(d.ctrl, 9));
	ck_assert_ptr_null(nvr_ctrl_cq(d.ctrl, 9));
	tdev_close(&d);

	/* Asking for fewer gets exactly that; asking for none gets one. */
	nvr_sim_config_init(&cfg);
	tdev_open(&d, &cfg, 3);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->nr_sq, 3);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->nr_cq, 3);
	tdev_close(&d);
	tdev_open(&d, &cfg, 0);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->nr_sq, 1);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->nr_cq, 1);
	tdev_close(&d);
}
END_TEST

/* Create I/O Completion Queue (NVMe 1.4, 5.3), every status. */

#define NQ 2		/* I/O queues granted */
#define MQES 63
#define NVEC 4

static void err_cfg(struct nvr_sim_config *cfg)
{
	nvr_sim_config_init(cfg);
	cfg->ns_bytes = 1u << 20;
	cfg->mqes = MQES;
	cfg->nr_vectors = NVEC;
}

#define EXPECT_ST(expr, want)                                                                  \
	do {                                                                                   \
		uint16_t _st = (expr);                                                         \
		ck_assert_msg((_st & 0x7ff) == (want), "%s: status %#x (%s), want %#x (%s)",   \
			      #expr, _st, nvr_status_str(_st), (want), nvr_status_str(want));  \
	} while (0)

START_TEST(test_create_cq_errors)
{
	struct nvr_sim_config cfg;
	struct nvr_dma_buf mem[4];
	struct nvr_ctrl *c;
	struct tdev d;
	const uint32_t PC = NVR_QUEUE_PC, IEN = NVR_CQ_IEN;

	err_cfg(&cfg);
	tdev_open(&d, &cfg, NQ);
	c = d.ctrl;
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(nvr_dma_alloc(d.t, (MQES + 1) * 16, &mem[i]), 0);

	/* Invalid Queue Identifier: 0, beyond the granted count. */
	EXPECT_ST(create_cq_raw(c, 0, 15, 0, PC, mem[0].iova), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(create_cq_raw(c, NQ + 1, 15, 0, PC, mem[0].iova),
		  T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(create_cq_raw(c, 0xffff, 15, 0, PC, mem[0].iova),
		  T_SPECIFIC(NVME_SC_QID_INVALID));
	/* Invalid Queue Size: one entry (0-based 0), beyond MQES. */
	EXPECT_ST(create_cq_raw(c, 1, 0, 0, PC, mem[0].iova), T_SPECIFIC(NVME_SC_QUEUE_SIZE));
	EXPECT_ST(create_cq_raw(c, 1, MQES + 1, 0, PC, mem[0].iova),
		  T_SPECIFIC(NVME_SC_QUEUE_SIZE));
	EXPECT_ST(create_cq_raw(c, 1, 0xffff, 0, PC, mem[0].iova),
		  T_SPECIFIC(NVME_SC_QUEUE_SIZE));
	/* Invalid Interrupt Vector: the table has NVEC entries. */
	EXPECT_ST(create_cq_raw(c, 1, 15, NVEC, PC | IEN, mem[0].iova),
		  T_SPECIFIC(NVME_SC_INVALID_VECTOR));
	EXPECT_ST(create_cq_raw(c, 1, 15, 2047, PC | IEN, mem[0].iova),
		  T_SPECIFIC(NVME_SC_INVALID_VECTOR));
	/* CAP.CQR is set: PC clear is an Invalid Field. */
	EXPECT_ST(create_cq_raw(c, 1, 15, 0, 0, mem[0].iova), T_GENERIC(NVME_SC_INVALID_FIELD));
	EXPECT_ST(create_cq_raw(c, 1, 15, 0, IEN, mem[0].iova), T_GENERIC(NVME_SC_INVALID_FIELD));
	/* PRP1 must be page aligned (its offset 0). */
	EXPECT_ST(create_cq_raw(c, 1, 15, 0, PC, mem[0].iova + 64),
		  T_GENERIC(NVME_SC_PRP_INVALID_OFFSET));

	/* The boundaries are accepted: the largest queue, the last vector. */
	EXPECT_ST(create_cq_raw(c, 1, MQES, NVEC - 1, PC | IEN, mem[0].iova), 0);
	/* Invalid Queue Identifier: it exists now. */
	EXPECT_ST(create_cq_raw(c, 1, 15, 0, PC, mem[1].iova), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(create_cq_raw(c, NQ, 1, 0, PC, mem[1].iova), 0);	/* two entries */
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, NQ), 0);
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, 1), 0);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);
	for (int i = 0; i < 4; i++)
		nvr_dma_free(&mem[i]);
	tdev_close(&d);
}
END_TEST

/* Create I/O Submission Queue (NVMe 1.4, 5.4), every status. */
START_TEST(test_create_sq_errors)
{
	struct nvr_sim_config cfg;
	struct nvr_dma_buf cqm, sqm[2];
	struct nvr_ctrl *c;
	struct tdev d;
	const uint32_t PC = NVR_QUEUE_PC;

	err_cfg(&cfg);
	tdev_open(&d, &cfg, NQ);
	c = d.ctrl;
	ck_assert_int_eq(nvr_dma_alloc(d.t, (MQES + 1) * 16, &cqm), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(nvr_dma_alloc(d.t, (MQES + 1) * 64, &sqm[i]), 0);
	EXPECT_ST(create_cq_raw(c, 1, 15, 0, PC, cqm.iova), 0);

	/* Completion Queue Invalid: the admin CQ, one never created, one beyond all. */
	EXPECT_ST(create_sq_raw(c, 1, 15, 0, PC, sqm[0].iova), T_SPECIFIC(NVME_SC_CQ_INVALID));
	EXPECT_ST(create_sq_raw(c, 1, 15, 2, PC, sqm[0].iova), T_SPECIFIC(NVME_SC_CQ_INVALID));
	EXPECT_ST(create_sq_raw(c, 1, 15, 0xffff, PC, sqm[0].iova),
		  T_SPECIFIC(NVME_SC_CQ_INVALID));
	/* Invalid Queue Identifier. */
	EXPECT_ST(create_sq_raw(c, 0, 15, 1, PC, sqm[0].iova), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(create_sq_raw(c, NQ + 1, 15, 1, PC, sqm[0].iova),
		  T_SPECIFIC(NVME_SC_QID_INVALID));
	/* Invalid Queue Size. */
	EXPECT_ST(create_sq_raw(c, 1, 0, 1, PC, sqm[0].iova), T_SPECIFIC(NVME_SC_QUEUE_SIZE));
	EXPECT_ST(create_sq_raw(c, 1, MQES + 1, 1, PC, sqm[0].iova),
		  T_SPECIFIC(NVME_SC_QUEUE_SIZE));
	/* Invalid Field: PC clear. PRP Offset Invalid. */
	EXPECT_ST(create_sq_raw(c, 1, 15, 1, 0, sqm[0].iova), T_GENERIC(NVME_SC_INVALID_FIELD));
	EXPECT_ST(create_sq_raw(c, 1, 15, 1, PC, sqm[0].iova + 0x100),
		  T_GENERIC(NVME_SC_PRP_INVALID_OFFSET));

	/* Two SQs may share CQ 1; the second one on qid 1 is refused. */
	EXPECT_ST(create_sq_raw(c, 1, MQES, 1, PC, sqm[0].iova), 0);
	EXPECT_ST(create_sq_raw(c, 1, 15, 1, PC, sqm[1].iova), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(create_sq_raw(c, 2, 15, 1, PC, sqm[1].iova), 0);

	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_sq, 1), 0);
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_sq, 2), 0);
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, 1), 0);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);
	nvr_dma_free(&cqm);
	nvr_dma_free(&sqm[0]);
	nvr_dma_free(&sqm[1]);
	tdev_close(&d);
}
END_TEST

/* Delete I/O SQ and CQ (NVMe 1.4, 5.5 and 5.6), every status. */
START_TEST(test_delete_errors)
{
	struct nvr_sim_config cfg;
	struct nvr_dma_buf cqm, sqm[2];
	struct nvr_ctrl *c;
	struct tdev d;
	const uint32_t PC = NVR_QUEUE_PC;

	err_cfg(&cfg);
	tdev_open(&d, &cfg, NQ);
	c = d.ctrl;
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &cqm), 0);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &sqm[0]), 0);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &sqm[1]), 0);

	/* Invalid Queue Identifier: the admin queues, queues that do not exist. */
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_sq, 0), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, 0), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_sq, 1), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, 1), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_sq, 0xffff),
		  T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, 0xffff),
		  T_SPECIFIC(NVME_SC_QID_INVALID));

	/* Invalid Queue Deletion: a CQ with SQs still bound to it. */
	EXPECT_ST(create_cq_raw(c, 1, 15, 0, PC, cqm.iova), 0);
	EXPECT_ST(create_sq_raw(c, 1, 15, 1, PC, sqm[0].iova), 0);
	EXPECT_ST(create_sq_raw(c, 2, 15, 1, PC, sqm[1].iova), 0);
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, 1), T_SPECIFIC(NVME_SC_INVALID_QUEUE));
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_sq, 1), 0);
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, 1), T_SPECIFIC(NVME_SC_INVALID_QUEUE));
	/* A CQ ID is not an SQ ID: SQ 1 is gone even though CQ 1 is not. */
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_sq, 1), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_sq, 2), 0);
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, 1), 0);
	EXPECT_ST(delete_q_raw(c, nvme_admin_delete_cq, 1), T_SPECIFIC(NVME_SC_QID_INVALID));

	nvr_dma_free(&cqm);
	nvr_dma_free(&sqm[0]);
	nvr_dma_free(&sqm[1]);
	tdev_close(&d);
}
END_TEST

/* The host-side wrappers: argument checks, statuses as data, clean failure. */
START_TEST(test_qpair_api)
{
	struct nvr_sim_config cfg;
	struct nvr_sqe sqe;
	struct tdev d;
	uint16_t st;

	err_cfg(&cfg);
	tdev_open(&d, &cfg, NQ);

	st = 0xffff;
	ck_assert_int_eq(nvr_ctrl_create_qpair(d.ctrl, 0, 16, -1, &st), -EINVAL);
	ck_assert_uint_eq(st, 0);
	ck_assert_int_eq(nvr_ctrl_create_qpair(d.ctrl, NQ + 1, 16, -1, &st), -EINVAL);
	ck_assert_int_eq(nvr_ctrl_create_qpair(d.ctrl, 1, 1, -1, &st), -EINVAL);
	ck_assert_int_eq(nvr_ctrl_create_qpair(d.ctrl, 1, 16, NVEC, &st), -EINVAL);
	/* The device refuses a queue larger than MQES: status as data, nothing left. */
	ck_assert_int_eq(nvr_ctrl_create_qpair(d.ctrl, 1, MQES + 2, -1, &st), -EREMOTEIO);
	ck_assert_uint_eq(st & 0x7ff, T_SPECIFIC(NVME_SC_QUEUE_SIZE));
	ck_assert_ptr_null(nvr_ctrl_sq(d.ctrl, 1));
	ck_assert_ptr_null(nvr_ctrl_cq(d.ctrl, 1));
	ck_assert_int_eq(nvr_ctrl_delete_qpair(d.ctrl, 1, &st), -ENOENT);

	tdev_qpair(&d, 1, MQES + 1, NVEC - 1);
	ck_assert_int_eq(nvr_ctrl_create_qpair(d.ctrl, 1, 16, -1, &st), -EINVAL);
	flush_sqe(&sqe);
	ck_assert_uint_eq(T_SC(io_sync(nvr_ctrl_sq(d.ctrl, 1), &sqe).status), 0);
	ck_assert_int_eq(nvr_ctrl_delete_qpair(d.ctrl, 1, &st), 0);
	ck_assert_uint_eq(st, 0);
	ck_assert_ptr_null(nvr_ctrl_sq(d.ctrl, 1));
	ck_assert_ptr_null(nvr_ctrl_cq(d.ctrl, 1));
	ck_assert_int_eq(nvr_ctrl_delete_qpair(d.ctrl, 1, &st), -ENOENT);
	ck_assert_int_eq(nvr_ctrl_delete_qpair(d.ctrl, 0, &st), -ENOENT);
	/* The device forgot it too: the qid can be created again. */
	tdev_qpair(&d, 1, 2, -1);
	flush_sqe(&sqe);
	ck_assert_uint_eq(T_SC(io_sync(nvr_ctrl_sq(d.ctrl, 1), &sqe).status), 0);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);
	tdev_close(&d);
}
END_TEST

/*
 * CAP.MQES 1: every queue, the admin queue too, holds a single command, so
 * bring-up and everything after it wraps the admin queue on every second
 * command.
 */
START_TEST(test_admin_depth2)
{
	struct nvr_sim_config cfg;
	struct nvr_sqe sqe;
	struct nvr_cqe cqe;
	struct tdev d;
	uint16_t st;

	nvr_sim_config_init(&cfg);
	cfg.mqes = 1;
	cfg.nr_io_queues = 2;
	tdev_open(&d, &cfg, 2);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->mqes, 2);
	ck_assert_uint_eq(nvr_ctrl_sq(d.ctrl, 0)->depth, 2);
	for (uint32_t i = 0; i < 101; i++) {
		sqe = (struct nvr_sqe){ .opcode = nvme_admin_get_features,
					.cdw10 = NVME_FEAT_FID_NUM_QUEUES };
		ck_assert_uint_eq(admin_raw(d.ctrl, &sqe, &cqe), 0);
		ck_assert_uint_eq(cqe.dw0, 1u << 16 | 1u);
		ck_assert_uint_eq(cqe.sqid, 0);
	}
	ck_assert_int_eq(nvr_ctrl_create_qpair(d.ctrl, 1, 3, -1, &st), -EREMOTEIO);
	ck_assert_uint_eq(st & 0x7ff, T_SPECIFIC(NVME_SC_QUEUE_SIZE));
	tdev_qpair(&d, 1, 2, -1);
	tdev_qpair(&d, 2, 2, -1);
	for (int i = 0; i < 20; i++) {
		flush_sqe(&sqe);
		ck_assert_uint_eq(T_SC(io_sync(nvr_ctrl_sq(d.ctrl, 1 + i % 2), &sqe).status), 0);
	}
	ck_assert_int_eq(nvr_ctrl_delete_qpair(d.ctrl, 2, &st), 0);
	ck_assert_int_eq(nvr_ctrl_delete_qpair(d.ctrl, 1, &st), 0);
	ck_assert_uint_eq(tdev_stats(&d).bad_doorbells, 0);
	tdev_close(&d);
}
END_TEST

/*
 * Delete I/O SQ with commands still in the SQ: they are aborted with Command
 * Aborted due to SQ Deletion (NVMe 1.4, 5.6). To have commands still
 * unfetched when the delete arrives, fill a 1024-entry SQ with 2 MiB reads
 * (MDTS 0: no limit) and send the delete right after the doorbell: the
 * device fetches at most 64 SQEs of a queue before it looks at the admin
 * queue again, and each batch of 64 moves 128 MiB.
 */
#define ABORT_DEPTH 1024
#define ABORT_XFER (2u << 20)

struct abort_log {
	uint64_t done;
	uint8_t *times;
	uint8_t *aborted;
	uint16_t other;
};

static void abort_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct abort_log *log = arg;
	uint32_t token = (uint32_t)(uintptr_t)ctx;
	uint16_t sc = T_SC(cqe->status);

	(void)sq;
	ck_assert_uint_lt(token, ABORT_DEPTH - 1);
	log->times[token]++;
	if (sc == T_GENERIC(NVME_SC_ABORT_QUEUE))
		log->aborted[token] = 1;
	else if (sc)
		log->other = sc;
	log->done++;
}

START_TEST(test_delete_sq_aborts)
{
	const uint32_t n = ABORT_DEPTH - 1;
	struct nvr_sim_config cfg;
	struct abort_log log = { 0 };
	struct nvr_dma_buf buf, list;
	struct nvr_sqe del = { .opcode = nvme_admin_delete_sq, .cdw10 = 1 };
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	struct tdev d;
	uint32_t nr_aborted = 0, first_aborted = n, fetched;
	uint16_t st;

	nvr_sim_config_init(&cfg);
	cfg.mdts = 0;
	cfg.mqes = ABORT_DEPTH - 1;
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, ABORT_DEPTH, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	cq = nvr_ctrl_cq(d.ctrl, 1);
	ck_assert_int_eq(nvr_dma_alloc(d.t, ABORT_XFER, &buf), 0);
	ck_assert_int_eq(nvr_dma_alloc(d.t, 4096, &list), 0);
	log.times = calloc(n, 1);
	log.aborted = calloc(n, 1);
	ck_assert(log.times && log.aborted);

	for (uint32_t i = 0; i < n; i++) {
		struct nvr_sqe sqe;

		nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, ABORT_XFER / 512);
		ck_assert_int_eq(nvr_prp_fill(&sqe, buf.iova, ABORT_XFER, list.vaddr, list.iova),
				 0);
		ck_assert_int_ge(nvr_sq_submit(sq, &sqe, (void *)(uintptr_t)i), 0);
	}
	nvr_sq_ring(sq);
	st = admin_raw(d.ctrl, &del, NULL);
	ck_assert_uint_eq(st, 0);

	ck_assert_msg(reap_until(cq, abort_fn, &log, &log.done, n, T_WAIT_MS),
		      "%llu of %u commands completed after SQ deletion",
		      (unsigned long long)log.done, n);
	ck_assert_uint_eq(log.other, 0);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_msg(log.times[i] == 1, "command %u completed %u times", i, log.times[i]);
		if (log.aborted[i]) {
			nr_aborted++;
			if (first_aborted == n)
				first_aborted = i;
		} else {
			/* Fetched in order: no success after the first abort. */
			ck_assert_msg(first_aborted == n, "command %u succeeded after %u aborted",
				      i, first_aborted);
		}
	}
	ck_assert_uint_gt(nr_aborted, 0);
	/* What the device fetched is exactly what succeeded. */
	fetched = 0;
	{
		struct nvr_jev *ev;
		uint32_t nev;

		ev = tdev_journal(&d, &nev);
		for (uint32_t i = 0; i < nev; i++)
			if (ev[i].type == NVR_JEV_SQE_FETCH && ev[i].qid == 1)
				fetched++;
		free(ev);
	}
	ck_assert_uint_eq(fetched, n - nr_aborted);

	/* The SQ is gone; its CQ can go now. */
	EXPECT_ST(delete_q_raw(d.ctrl, nvme_admin_delete_sq, 1), T_SPECIFIC(NVME_SC_QID_INVALID));
	EXPECT_ST(delete_q_raw(d.ctrl, nvme_admin_delete_cq, 1), 0);
	ck_assert_uint_eq(tdev_stats(&d).dma_faults, 0);
	nvr_dma_free(&buf);
	nvr_dma_free(&list);
	free(log.times);
	free(log.aborted);
	tdev_close(&d);
}
END_TEST

/*
 * Commands the device fetched but has not completed yet (held back by
 * latency) complete before the Delete I/O SQ does: when the delete's CQE
 * arrives, their CQEs are already in the I/O CQ, with their own status.
 */
START_TEST(test_delete_sq_flushes_fetched)
{
	struct nvr_sim_config cfg;
	struct abort_log log = { 0 };
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	struct tdev d;
	uint64_t fetch0, deadline;
	uint16_t st;

	nvr_sim_config_init(&cfg);
	cfg.latency_min_us = 5000000;	/* far longer than the test */
	cfg.latency_max_us = 5000000;
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 16, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	cq = nvr_ctrl_cq(d.ctrl, 1);
	log.times = calloc(ABORT_DEPTH, 1);
	log.aborted = calloc(ABORT_DEPTH, 1);
	ck_assert(log.times && log.aborted);
	fetch0 = tdev_jcount(&d, NVR_JEV_SQE_FETCH);
	for (uintptr_t i = 0; i < 5; i++) {
		struct nvr_sqe sqe;

		flush_sqe(&sqe);
		ck_assert_int_ge(nvr_sq_submit(sq, &sqe, (void *)i), 0);
	}
	nvr_sq_ring(sq);
	deadline = nvr_now_ns() + T_WAIT_MS * 1000000ull;
	while (tdev_jcount(&d, NVR_JEV_SQE_FETCH) < fetch0 + 5 && nvr_now_ns() < deadline)
		nvr_sleep_ns(100000);
	ck_assert_uint_eq(tdev_jcount(&d, NVR_JEV_SQE_FETCH), fetch0 + 5);
	ck_assert(!nvr_cq_pending(cq));

	st = delete_q_raw(d.ctrl, nvme_admin_delete_sq, 1);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(nvr_cq_reap(cq, 16, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, abort_fn, &log), 5);
	ck_assert_uint_eq(log.other, 0);
	for (int i = 0; i < 5; i++) {
		ck_assert_uint_eq(log.times[i], 1);
		ck_assert_uint_eq(log.aborted[i], 0);
	}
	EXPECT_ST(delete_q_raw(d.ctrl, nvme_admin_delete_cq, 1), 0);
	free(log.times);
	free(log.aborted);
	tdev_close(&d);
}
END_TEST

/* Status strings come from libnvme's table, keyed by SCT and SC only. */
START_TEST(test_status_str)
{
	struct nvr_sim_config cfg;
	struct nvr_sqe sqe;
	struct tdev d;
	uint16_t st;

	ck_assert_str_eq(nvr_status_str(T_GENERIC(NVME_SC_LBA_RANGE)),
			 "LBA Out of Range: The command references an LBA that exceeds the "
			 "size of the namespace");
	ck_assert_str_eq(nvr_status_str(T_GENERIC(NVME_SC_LBA_RANGE) | NVR_STATUS_DNR),
			 nvr_status_str(T_GENERIC(NVME_SC_LBA_RANGE)));
	ck_assert_ptr_eq(strstr(nvr_status_str(T_GENERIC(NVME_SC_ABORT_QUEUE)),
				"Command Aborted due to SQ Deletion"),
			 nvr_status_str(T_GENERIC(NVME_SC_ABORT_QUEUE)));
	ck_assert_ptr_eq(strstr(nvr_status_str(T_SPECIFIC(NVME_SC_QID_INVALID)),
				"Invalid Queue Identifier"),
			 nvr_status_str(T_SPECIFIC(NVME_SC_QID_INVALID)));
	ck_assert_ptr_eq(strstr(nvr_status_str(T_SPECIFIC(NVME_SC_INVALID_QUEUE)),
				"Invalid Queue Deletion"),
			 nvr_status_str(T_SPECIFIC(NVME_SC_INVALID_QUEUE)));
	ck_assert_ptr_eq(strstr(nvr_status_str(0), "Successful Completion"), nvr_status_str(0));
	/* Same SC, other SCT: another string. */
	ck_assert_str_ne(nvr_status_str(T_GENERIC(NVME_SC_INVALID_FIELD)),
			 nvr_status_str(T_SPECIFIC(NVME_SC_INVALID_FIELD)));

	/* A status from the device, as data. */
	nvr_sim_config_init(&cfg);
	tdev_open(&d, &cfg, 1);
	sqe = (struct nvr_sqe){ .opcode = 0xc5 };	/* vendor specific: not implemented */
	st = admin_raw(d.ctrl, &sqe, NULL);
	ck_assert_uint_eq(st & 0x7ff, T_GENERIC(NVME_SC_INVALID_OPCODE));
	ck_assert(st & NVR_STATUS_DNR);
	ck_assert_ptr_eq(strstr(nvr_status_str(st), "Invalid Command Opcode"), nvr_status_str(st));
	sqe = (struct nvr_sqe){ .opcode = nvme_admin_identify, .cdw10 = 0x55 };
	st = admin_raw(d.ctrl, &sqe, NULL);
	ck_assert_uint_eq(st & 0x7ff, T_GENERIC(NVME_SC_INVALID_FIELD));
	ck_assert_ptr_eq(strstr(nvr_status_str(st), "Invalid Field in Command"),
			 nvr_status_str(st));
	tdev_close(&d);
}
END_TEST

/* Normal shutdown (CC.SHN = 01b) and CSTS.SHST (NVMe 1.4, 7.6.2). */

START_TEST(test_shutdown)
{
	struct nvr_sim_config cfg;
	struct nvr_sqe sqe;
	struct tdev d;
	uint64_t t0, elapsed;
	uint32_t csts;

	nvr_sim_config_init(&cfg);
	cfg.shutdown_us = 20000;
	tdev_open(&d, &cfg, 1);
	tdev_qpair(&d, 1, 8, -1);
	flush_sqe(&sqe);
	ck_assert_uint_eq(T_SC(io_sync(nvr_ctrl_sq(d.ctrl, 1), &sqe).status), 0);
	ck_assert_uint_eq(NVME_CSTS_SHST(nvr_ctrl_csts(d.ctrl)), NVME_CSTS_SHST_NORMAL);

	t0 = nvr_now_ns();
	ck_assert_int_eq(nvr_ctrl_shutdown(d.ctrl, 5000), 0);
	elapsed = nvr_now_ns() - t0;
	csts = nvr_ctrl_csts(d.ctrl);
	ck_assert_uint_eq(NVME_CSTS_SHST(csts), NVME_CSTS_SHST_CMPLT);
	ck_assert_uint_eq(NVME_CSTS_CFS(csts), 0);
	ck_assert_uint_eq(NVME_CC_SHN(nvr_reg_read32(d.t, NVME_REG_CC)), NVME_CC_SHN_NORMAL);
	ck_assert_msg(elapsed >= 20000000ull, "shutdown took %llu ns of at least 20 ms",
		      (unsigned long long)elapsed);

	/* Close disables it; a new bring-up starts from SHST normal. */
	nvr_ctrl_close(d.ctrl);
	ck_assert_int_eq(nvr_ctrl_open(d.t, 1, &d.ctrl, NULL, 0), 0);
	ck_assert_uint_eq(NVME_CSTS_SHST(nvr_ctrl_csts(d.ctrl)), NVME_CSTS_SHST_NORMAL);
	ck_assert_uint_eq(NVME_CSTS_RDY(nvr_ctrl_csts(d.ctrl)), 1);
	tdev_close(&d);

	/* No shutdown delay: complete at once. */
	nvr_sim_config_init(&cfg);
	tdev_open(&d, &cfg, 1);
	ck_assert_int_eq(nvr_ctrl_shutdown(d.ctrl, 5000), 0);
	ck_assert_uint_eq(NVME_CSTS_SHST(nvr_ctrl_csts(d.ctrl)), NVME_CSTS_SHST_CMPLT);
	tdev_close(&d);
}
END_TEST

START_TEST(test_shutdown_timeout)
{
	struct nvr_sim_config cfg;
	struct tdev d;

	nvr_sim_config_init(&cfg);
	cfg.shutdown_us = 5000000;
	tdev_open(&d, &cfg, 1);
	ck_assert_int_eq(nvr_ctrl_shutdown(d.ctrl, 20), -ETIMEDOUT);
	ck_assert_uint_eq(NVME_CSTS_SHST(nvr_ctrl_csts(d.ctrl)), NVME_CSTS_SHST_OCCUR);
	tdev_close(&d);
}
END_TEST

/* RDY never comes within CAP.TO: open fails with -ETIMEDOUT after CAP.TO. */
START_TEST(test_open_timeout)
{
	struct nvr_sim_config cfg;
	struct nvr_transport *t;
	struct nvr_ctrl *ctrl = (struct nvr_ctrl *)&cfg;
	uint64_t t0, elapsed;

	nvr_sim_config_init(&cfg);
	cfg.cap_to = 1;			/* 500 ms */
	cfg.ready_delay_us = 1000000;
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), 0);
	t0 = nvr_now_ns();
	ck_assert_int_eq(nvr_ctrl_open(t, 1, &ctrl, NULL, 0), -ETIMEDOUT);
	elapsed = nvr_now_ns() - t0;
	ck_assert_ptr_null(ctrl);
	ck_assert_msg(elapsed >= 500000000ull, "gave up after %llu ns",
		      (unsigned long long)elapsed);
	nvr_transport_destroy(t);
}
END_TEST

static Suite *ctrl_suite(void)
{
	Suite *s = suite_create("ctrl");
	TCase *tc;

	tc = tcase_create("identify");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_identify_fields);
	tcase_add_test(tc, test_identify_short_strings);
	tcase_add_test(tc, test_identify_ns_raw);
	suite_add_tcase(s, tc);
	tc = tcase_create("nr_queues");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_nr_queues_clamped);
	suite_add_tcase(s, tc);
	tc = tcase_create("create_errors");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_create_cq_errors);
	tcase_add_test(tc, test_create_sq_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("delete_errors");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_delete_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("qpair_api");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_qpair_api);
	suite_add_tcase(s, tc);
	tc = tcase_create("admin_queue");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_admin_depth2);
	suite_add_tcase(s, tc);
	tc = tcase_create("delete_sq_aborts");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_delete_sq_aborts);
	tcase_add_test(tc, test_delete_sq_flushes_fetched);
	suite_add_tcase(s, tc);
	tc = tcase_create("status_str");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_status_str);
	suite_add_tcase(s, tc);
	tc = tcase_create("shutdown");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_shutdown);
	tcase_add_test(tc, test_shutdown_timeout);
	suite_add_tcase(s, tc);
	tc = tcase_create("open_timeout");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_open_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(ctrl_suite());
}
