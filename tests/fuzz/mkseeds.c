// SPDX-License-Identifier: MIT
/*
 * Writes the binary seeds of the ctrl and cqe harnesses (make fuzz-seeds):
 * - ctrl: the script of a bring-up as the simulated controller answers it,
 *   its registers and its real Identify pages, for a few device settings;
 * - cqe: short device scripts that complete commands honestly, wrap the ring,
 *   and break the rules the simulator's fault knobs break (a lost, a
 *   duplicated, a bogus and a wrong-phase CQE), under each exclusion policy.
 *
 * usage: mkseeds DIR   (writes DIR/ctrl/ and DIR/cqe/)
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/dma.h>
#include <nvmerace/sim.h>

#include "dev/transport.h"

struct out {
	uint8_t buf[65536];
	size_t len;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->len + n > sizeof(o->buf))
		errx(1, "seed too large");
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put8(struct out *o, uint8_t v)
{
	put(o, &v, 1);
}

static void put16(struct out *o, uint16_t v)
{
	put(o, &v, 2);
}

static void put32(struct out *o, uint32_t v)
{
	put(o, &v, 4);
}

static void put64(struct out *o, uint64_t v)
{
	put(o, &v, 8);
}

static void save(const struct out *o, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(o->buf, 1, o->len, f) != o->len || fclose(f))
		err(1, "cannot write '%s'", path);
}

/* One answer of the ctrl script: status, DW0, and a page without its zero tail. */
static void answer(struct out *o, uint16_t status, uint32_t dw0, const uint8_t *page)
{
	uint16_t len = 0;

	put16(o, status);
	put32(o, dw0);
	if (!page)
		return;
	for (uint16_t i = 0; i < NVR_PAGE_SIZE; i++)
		if (page[i])
			len = (uint16_t)(i + 1);
	put16(o, len);
	put(o, page, len);
}

/* Ask the simulator for Identify @cns and answer with what it wrote. */
static void identify(struct out *o, struct nvr_ctrl *ctrl, struct nvr_dma_buf *buf, uint32_t cns,
		     uint32_t nsid)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_identify, .nsid = nsid, .cdw10 = cns };
	struct nvr_cqe cqe;

	memset(buf->vaddr, 0, NVR_PAGE_SIZE);
	sqe.prp1 = buf->iova;
	if (nvr_ctrl_admin(ctrl, &sqe, &cqe, 5000))
		errx(1, "identify cns %u failed", cns);
	answer(o, NVR_CQE_STATUS(cqe.status), cqe.dw0, buf->vaddr);
}

static void ctrl_seed(const char *dir, const char *name, const struct nvr_sim_config *cfg,
		      uint8_t nr_io, uint16_t depth, uint8_t vector_byte)
{
	struct nvr_transport *t;
	struct nvr_ctrl *ctrl;
	struct nvr_dma_buf buf;
	struct nvr_sqe sqe = { .opcode = nvme_admin_set_features };
	struct nvr_cqe cqe;
	struct out *o = calloc(1, sizeof(*o));
	uint32_t list[1024];

	if (!o || nvr_sim_create(cfg, &t) || nvr_ctrl_open(t, 1, &ctrl, NULL, 0) ||
	    nvr_dma_alloc(t, NVR_PAGE_SIZE, &buf))
		errx(1, "cannot start the simulator");
	put64(o, nvr_reg_read64(t, NVME_REG_CAP));
	put32(o, nvr_reg_read32(t, NVME_REG_VS));
	put32(o, 0);		/* CSTS: nothing but RDY */
	put8(o, (uint8_t)(nr_io - 1));
	put16(o, depth);
	put8(o, vector_byte);
	identify(o, ctrl, &buf, NVME_IDENTIFY_CNS_CTRL, 0);
	identify(o, ctrl, &buf, NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0);
	memcpy(list, buf.vaddr, sizeof(list));
	for (unsigned int i = 0; i < 16 && list[i]; i++)
		identify(o, ctrl, &buf, NVME_IDENTIFY_CNS_NS, list[i]);
	sqe.cdw10 = NVME_FEAT_FID_NUM_QUEUES;
	sqe.cdw11 = (uint32_t)(nr_io - 1) << 16 | (uint32_t)(nr_io - 1);
	if (nvr_ctrl_admin(ctrl, &sqe, &cqe, 5000))
		errx(1, "set features failed");
	answer(o, NVR_CQE_STATUS(cqe.status), cqe.dw0, NULL);
	/* Create I/O CQ, SQ; delete SQ, CQ: all succeed. */
	for (int i = 0; i < 4; i++)
		answer(o, 0, 0, NULL);
	save(o, dir, name);
	nvr_dma_free(&buf);
	nvr_ctrl_close(ctrl);
	nvr_transport_destroy(t);
	free(o);
}

/* --- cqe scripts (see fuzz_cqe.c for the format) --- */

struct cq_model {
	uint16_t depth, tail, sq_head;
};

static void op_submit(struct out *o, uint8_t n)
{
	put8(o, 5);
	put8(o, n);
}

/* An honest completion of @cid as the device would post it. */
static void op_post(struct out *o, struct cq_model *m, uint8_t cid, uint8_t which, uint8_t status)
{
	m->sq_head = (uint16_t)((m->sq_head + 1) % m->depth);
	put8(o, 1);
	put8(o, cid);
	put8(o, (uint8_t)m->sq_head);
	put8(o, which);
	put8(o, status);
	m->tail = (uint16_t)((m->tail + 1) % m->depth);
}

static void op_reap(struct out *o, uint8_t who)
{
	put8(o, 2);
	put8(o, who);
}

static void cqe_header(struct out *o, struct cq_model *m, uint8_t depth, uint8_t flags)
{
	o->len = 0;
	*m = (struct cq_model){ .depth = depth };
	put8(o, (uint8_t)(depth - 2));
	put8(o, flags);
	put8(o, 4 - 2);		/* the second pair's depth */
}

static void cqe_seeds(const char *dir)
{
	struct out *o = calloc(1, sizeof(*o));
	struct cq_model m;
	char name[64];

	if (!o)
		err(1, "out of memory");
	/* Each policy, with the ledger and a vector: three rounds of a ring of 8. */
	for (uint8_t lock = 0; lock < 4; lock++) {
		cqe_header(o, &m, 8, (uint8_t)(1 | lock << 2 | 0x10));
		for (int round = 0; round < 3; round++) {
			op_submit(o, 7);
			for (uint8_t k = 0; k < 7; k++)
				op_post(o, &m, (uint8_t)((round * 7 + k) % 8), 0, 0);
			op_reap(o, (uint8_t)round);
		}
		snprintf(name, sizeof(name), "rounds-lock%u", lock);
		save(o, dir, name);
	}
	/* Rule breakers: a duplicated CQE, a CID never submitted, another SQ's ID. */
	cqe_header(o, &m, 8, 1 | 2);
	op_submit(o, 3);
	op_post(o, &m, 0, 0, 0);
	op_post(o, &m, 0, 0, 0);	/* duplicate */
	op_post(o, &m, 7, 0, 0);	/* not outstanding */
	op_post(o, &m, 1, 1, 0);	/* the other SQ */
	op_post(o, &m, 2, 3, 0x81);	/* SQ 0xffff, an error status */
	op_reap(o, 0);
	save(o, dir, "rule-breakers");
	/* A wrong phase: the first CQE raw with the old phase, the next honest; sweep. */
	cqe_header(o, &m, 4, 1);
	op_submit(o, 2);
	put8(o, 0);
	put8(o, 0);
	put32(o, 0);
	put32(o, 0);
	put16(o, 1);		/* SQHD */
	put16(o, 1);		/* SQ ID */
	put16(o, 0);		/* CID */
	put16(o, 0);		/* status, phase 0: stale */
	m.tail = 1;
	m.sq_head = 1;
	op_post(o, &m, 1, 0, 0);
	op_reap(o, 1);
	put8(o, 3);		/* the sweep */
	put8(o, 4);		/* pending? */
	put8(o, 7);		/* ledger tick */
	save(o, dir, "wrong-phase");
	/* The second pair, polled with nvr_cq_reap() and a small max. */
	cqe_header(o, &m, 2, 2);
	m.depth = 4;
	put8(o, 0x80 | 5);
	put8(o, 3);
	for (uint8_t k = 0; k < 3; k++) {
		m.sq_head = (uint16_t)((m.sq_head + 1) % 4);
		put8(o, 0x80 | 1);
		put8(o, k);
		put8(o, (uint8_t)m.sq_head);
		put8(o, 0);
		put8(o, 0);
	}
	put8(o, 0x80 | 6);
	put8(o, 2);
	put8(o, 0x80 | 6);
	put8(o, 2);
	save(o, dir, "second-pair");
	free(o);
}

int main(int argc, char **argv)
{
	struct nvr_sim_config cfg;
	char dir[4096];

	if (argc != 2)
		errx(2, "usage: mkseeds DIR");
	snprintf(dir, sizeof(dir), "%s/ctrl", argv[1]);
	nvr_sim_config_init(&cfg);
	ctrl_seed(dir, "sim-default", &cfg, 4, 64, 2);
	cfg.lba_size = 4096;
	cfg.mdts = 5;
	cfg.mqes = 255;
	cfg.dstrd = 2;
	cfg.nr_io_queues = 64;
	snprintf(cfg.model, sizeof(cfg.model), "%s", "nvmerace fuzz seed model, forty chars!!");
	snprintf(cfg.serial, sizeof(cfg.serial), "%s", "SN0123456789abcdefgh");
	snprintf(cfg.firmware, sizeof(cfg.firmware), "%s", "FW1.2345");
	ctrl_seed(dir, "sim-4k-full-strings", &cfg, 2, 256, 0);
	nvr_sim_config_init(&cfg);
	cfg.mqes = 1;
	cfg.nr_io_queues = 1;
	cfg.nr_vectors = 1;
	ctrl_seed(dir, "sim-tiny", &cfg, 1, 2, 0);
	snprintf(dir, sizeof(dir), "%s/cqe", argv[1]);
	cqe_seeds(dir);
	return 0;
}
