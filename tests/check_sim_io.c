// SPDX-License-Identifier: MIT
/*
 * I/O on the simulated controller: data round trips on its RAM-backed
 * namespace, PRP lists and offsets, DMA buffers, the LBA range and MDTS.
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
		nvr_cq_reap(sq->cq, DEPTH, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, data_fn, job);
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
	ck_assert_int_eq(nvr_transport_dma_map(t, b.vaddr, a.iova + 4096, 4096), -EEXIST);
	ck_assert_int_eq(nvr_transport_dma_map(t, b.vaddr, a.iova + 4096, 0), -EINVAL);
	ck_assert_int_eq(nvr_transport_dma_map(t, b.vaddr, 0x10000 + 8, 4096), -EINVAL);
	ck_assert_int_eq(nvr_transport_dma_unmap(t, a.iova, 4096), -ENOENT);

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

static Suite *sim_io_suite(void)
{
	Suite *s = suite_create("sim-io");
	TCase *tc;

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
	tc = tcase_create("io_errors");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_loop_test(tc, test_lba_range, 0, 2);
	tcase_add_test(tc, test_mdts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(sim_io_suite());
}
