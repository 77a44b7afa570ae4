// SPDX-License-Identifier: MIT
/*
 * lib/host/queue: PRP construction, the phase tag across wraps, SQ fullness,
 * CID allocation, and SQ flow control driven by the SQHD of completions.
 * Queue behaviour is checked against the simulated controller's journal,
 * the device's ground truth.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include "queue_helpers.h"
#include "suite_main.h"

#define PAGE NVR_PAGE_SIZE
#define IOVA 0x40000000ull
#define LIST_IOVA 0x7000000ull
#define SENTINEL 0xdeadbeefdeadbeefull

/* nvr_prp_fill(), NVMe 1.4, 4.3: PRP1, PRP2 as a page, PRP2 as a list. */

static uint64_t list[PAGE / 8 + 1];

static void list_reset(void)
{
	for (size_t i = 0; i < NVR_ARRAY_SIZE(list); i++)
		list[i] = SENTINEL;
}

static int prp(struct nvr_sqe *sqe, uint64_t iova, uint32_t len)
{
	memset(sqe, 0xa5, sizeof(*sqe));
	list_reset();
	return nvr_prp_fill(sqe, iova, len, list, LIST_IOVA);
}

START_TEST(test_prp_one_page)
{
	struct nvr_sqe sqe;

	ck_assert_int_eq(prp(&sqe, IOVA, PAGE), 0);
	ck_assert_uint_eq(sqe.prp1, IOVA);
	ck_assert_uint_eq(sqe.prp2, 0);
	ck_assert_uint_eq(list[0], SENTINEL);

	ck_assert_int_eq(prp(&sqe, IOVA, 512), 0);
	ck_assert_uint_eq(sqe.prp1, IOVA);
	ck_assert_uint_eq(sqe.prp2, 0);

	/* Unaligned, ending exactly at the page boundary: still one page. */
	ck_assert_int_eq(prp(&sqe, IOVA + 0xf00, 0x100), 0);
	ck_assert_uint_eq(sqe.prp1, IOVA + 0xf00);
	ck_assert_uint_eq(sqe.prp2, 0);
	ck_assert_uint_eq(list[0], SENTINEL);
}
END_TEST

START_TEST(test_prp_two_pages)
{
	struct nvr_sqe sqe;

	ck_assert_int_eq(prp(&sqe, IOVA, 2 * PAGE), 0);
	ck_assert_uint_eq(sqe.prp1, IOVA);
	ck_assert_uint_eq(sqe.prp2, IOVA + PAGE);
	ck_assert_uint_eq(list[0], SENTINEL);

	/* One byte over the first page's end needs the second page. */
	ck_assert_int_eq(prp(&sqe, IOVA + 0xf00, 0x101), 0);
	ck_assert_uint_eq(sqe.prp1, IOVA + 0xf00);
	ck_assert_uint_eq(sqe.prp2, IOVA + PAGE);

	/* 4 KiB from an unaligned start spans two pages; PRP2 has offset 0. */
	ck_assert_int_eq(prp(&sqe, IOVA + 0x200, PAGE), 0);
	ck_assert_uint_eq(sqe.prp1, IOVA + 0x200);
	ck_assert_uint_eq(sqe.prp2, IOVA + PAGE);
	ck_assert_uint_eq(list[0], SENTINEL);
}
END_TEST

START_TEST(test_prp_list)
{
	struct nvr_sqe sqe;

	/* 16 KiB: PRP1 plus a list of three pages. */
	ck_assert_int_eq(prp(&sqe, IOVA, 4 * PAGE), 0);
	ck_assert_uint_eq(sqe.prp1, IOVA);
	ck_assert_uint_eq(sqe.prp2, LIST_IOVA);
	ck_assert_uint_eq(list[0], IOVA + PAGE);
	ck_assert_uint_eq(list[1], IOVA + 2 * PAGE);
	ck_assert_uint_eq(list[2], IOVA + 3 * PAGE);
	ck_assert_uint_eq(list[3], SENTINEL);

	/* 128 KiB: 31 list entries. */
	ck_assert_int_eq(prp(&sqe, IOVA, 32 * PAGE), 0);
	ck_assert_uint_eq(sqe.prp2, LIST_IOVA);
	for (unsigned int i = 0; i < 31; i++)
		ck_assert_uint_eq(list[i], IOVA + (i + 1) * (uint64_t)PAGE);
	ck_assert_uint_eq(list[31], SENTINEL);
}
END_TEST

START_TEST(test_prp_unaligned_list)
{
	struct nvr_sqe sqe;

	/* 8 KiB from offset 0x200 touches three pages: a list of two. */
	ck_assert_int_eq(prp(&sqe, IOVA + 0x200, 2 * PAGE), 0);
	ck_assert_uint_eq(sqe.prp1, IOVA + 0x200);
	ck_assert_uint_eq(sqe.prp2, LIST_IOVA);
	ck_assert_uint_eq(list[0], IOVA + PAGE);
	ck_assert_uint_eq(list[1], IOVA + 2 * PAGE);
	ck_assert_uint_eq(list[2], SENTINEL);

	/* Dword-aligned odd offset. */
	ck_assert_int_eq(prp(&sqe, IOVA + 0xffc, 2 * PAGE + 4), 0);
	ck_assert_uint_eq(sqe.prp1, IOVA + 0xffc);
	ck_assert_uint_eq(sqe.prp2, LIST_IOVA);
	ck_assert_uint_eq(list[0], IOVA + PAGE);
	ck_assert_uint_eq(list[1], IOVA + 2 * PAGE);
	ck_assert_uint_eq(list[2], SENTINEL);
}
END_TEST

START_TEST(test_prp_e2big)
{
	const uint32_t full = PAGE / 8 * PAGE;	/* what one list page describes */
	struct nvr_sqe sqe;

	/* The largest transfer one list page describes: PRP1 + 512 entries. */
	ck_assert_int_eq(prp(&sqe, IOVA, PAGE + full), 0);
	ck_assert_uint_eq(sqe.prp2, LIST_IOVA);
	ck_assert_uint_eq(list[0], IOVA + PAGE);
	ck_assert_uint_eq(list[PAGE / 8 - 1], IOVA + (uint64_t)full);
	ck_assert_uint_eq(list[PAGE / 8], SENTINEL);

	ck_assert_int_eq(prp(&sqe, IOVA, PAGE + full + 1), -E2BIG);
	/* Unaligned: the first page is shorter, so 2 MiB + 4 KiB no longer fits. */
	ck_assert_int_eq(prp(&sqe, IOVA + 0x200, PAGE + full), -E2BIG);
	ck_assert_int_eq(prp(&sqe, IOVA + 0x200, PAGE - 0x200 + full), 0);
	ck_assert_uint_eq(list[PAGE / 8], SENTINEL);
}
END_TEST

/* Queues on the simulator. */

struct flush_log {
	uint64_t done;
	uint32_t max;
	uint16_t *cid;		/* per completion ordinal */
	uint8_t *phase;
	uint32_t *times;	/* per submission token: completions seen */
	uint16_t bad_status;
};

static void flush_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct flush_log *log = arg;
	uint32_t token = (uint32_t)(uintptr_t)ctx;

	ck_assert_uint_eq(cqe->sqid, sq->qid);
	ck_assert_uint_lt(cqe->cid, sq->depth);
	ck_assert_uint_lt(token, log->max);
	log->times[token]++;
	if (T_SC(cqe->status))
		log->bad_status = T_SC(cqe->status);
	if (log->done < log->max) {
		log->cid[log->done] = cqe->cid;
		log->phase[log->done] = cqe->status & 1;
	}
	log->done++;
}

/*
 * A depth-2 queue wraps on every second command. Thousands of commands, one
 * at a time: each completes exactly once with a valid CID, the phase tag
 * flips on every pass, and the device's journal agrees slot by slot.
 */
START_TEST(test_phase_wrap_depth2)
{
	const uint32_t n = 3000;
	struct nvr_sim_config cfg;
	struct flush_log log = { .max = n };
	struct nvr_cq_stats cst;
	struct nvr_jev *ev;
	struct tdev d;
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	uint32_t nev, posts = 0;

	sim_cfg(&cfg);
	qp_open(&d, &cfg, 2, &sq, &cq);
	log.cid = calloc(n, sizeof(*log.cid));
	log.phase = calloc(n, sizeof(*log.phase));
	log.times = calloc(n, sizeof(*log.times));
	ck_assert(log.cid && log.phase && log.times);

	for (uint32_t i = 0; i < n; i++) {
		struct nvr_sqe sqe;
		int cid;

		flush_sqe(&sqe);
		cid = nvr_sq_submit(sq, &sqe, (void *)(uintptr_t)i);
		ck_assert_int_ge(cid, 0);
		ck_assert_int_lt(cid, 2);
		/* Depth 2 holds one command: the next one must wait. */
		ck_assert_int_eq(nvr_sq_submit(sq, &sqe, NULL), -EBUSY);
		nvr_sq_ring(sq);
		ck_assert_msg(reap_until(cq, flush_fn, &log, &log.done, i + 1, T_WAIT_MS),
			      "command %u never completed", i);
		ck_assert_uint_eq(log.cid[i], (unsigned int)cid);
		/* Pass k (two completions each) carries phase 1 when k is even. */
		ck_assert_msg(log.phase[i] == (((i / 2) & 1) ? 0 : 1),
			      "completion %u: phase %u", i, log.phase[i]);
	}
	ck_assert_uint_eq(log.done, n);
	ck_assert_uint_eq(log.bad_status, 0);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_msg(log.times[i] == 1, "command %u completed %u times", i, log.times[i]);
	ck_assert_uint_eq(nvr_cq_head(cq), n % 2);
	ck_assert_uint_eq(nvr_cq_phase(cq), ((n / 2) & 1) ? 0 : 1);
	nvr_cq_get_stats(cq, &cst);
	ck_assert_uint_eq(cst.reaped, n);
	ck_assert_uint_eq(cst.spurious, 0);
	ck_assert_uint_eq(tdev_stats(&d).bad_doorbells, 0);

	/* The device's side of the story, post by post. */
	ev = tdev_journal(&d, &nev);
	ck_assert_uint_lt(nev, d.cfg.journal_size);	/* nothing overwritten */
	for (uint32_t k = 0; k < nev; k++) {
		uint16_t cid;
		uint8_t phase;

		if (ev[k].type != NVR_JEV_CQE_POST || ev[k].qid != 1)
			continue;
		cid = (uint16_t)(ev[k].b & 0xffff);
		phase = (uint8_t)(ev[k].b >> 16);
		ck_assert_uint_lt(posts, n);
		ck_assert_uint_eq(ev[k].a, posts % 2);
		ck_assert_uint_eq(phase, ((posts / 2) & 1) ? 0 : 1);
		ck_assert_uint_eq(cid, log.cid[posts]);
		ck_assert_uint_eq(ev[k].c, 1);
		posts++;
	}
	ck_assert_uint_eq(posts, n);
	free(ev);
	free(log.cid);
	free(log.phase);
	free(log.times);
	tdev_close(&d);
}
END_TEST

/*
 * An SQ of depth N holds N - 1 commands (NVMe 1.4, 4.1.1: full when
 * tail + 1 == head). The host learns of free slots from the SQHD of the
 * CQEs it reaps, so the SQ stays full until then, even when the device has
 * already consumed everything.
 */
START_TEST(test_queue_full)
{
	static const uint16_t depths[] = { 2, 8, 64 };
	struct nvr_sim_config cfg;
	struct tdev d;

	sim_cfg(&cfg);
	tdev_open(&d, &cfg, 3);
	for (unsigned int q = 0; q < NVR_ARRAY_SIZE(depths); q++) {
		uint16_t qid = (uint16_t)(q + 1), depth = depths[q];
		struct flush_log log = { .max = 2u * depth };
		struct nvr_sq *sq;
		struct nvr_cq *cq;
		uint64_t cqes0;

		log.cid = calloc(log.max, sizeof(*log.cid));
		log.phase = calloc(log.max, sizeof(*log.phase));
		log.times = calloc(log.max, sizeof(*log.times));
		ck_assert(log.cid && log.phase && log.times);
		tdev_qpair(&d, qid, depth, -1);
		sq = nvr_ctrl_sq(d.ctrl, qid);
		cq = nvr_ctrl_cq(d.ctrl, qid);

		for (unsigned int round = 0; round < 2; round++) {
			struct nvr_sqe sqe;
			uint32_t base = round * depth;

			cqes0 = tdev_stats(&d).cqes;
			for (uint32_t i = 0; i + 1 < depth; i++) {
				ck_assert(nvr_sq_has_room(sq));
				flush_sqe(&sqe);
				ck_assert_int_ge(
					nvr_sq_submit(sq, &sqe, (void *)(uintptr_t)(base + i)), 0);
			}
			ck_assert(!nvr_sq_has_room(sq));
			flush_sqe(&sqe);
			ck_assert_int_eq(nvr_sq_submit(sq, &sqe, NULL), -EBUSY);

			/* The device consumes them all, but until the host reaps
			 * it knows of no free slot. */
			nvr_sq_ring(sq);
			ck_assert(wait_cqes(&d, cqes0 + depth - 1u, T_WAIT_MS));
			ck_assert(!nvr_sq_has_room(sq));
			ck_assert_int_eq(nvr_sq_submit(sq, &sqe, NULL), -EBUSY);

			ck_assert(reap_until(cq, flush_fn, &log, &log.done, base + depth - 1u,
					     T_WAIT_MS));
			ck_assert_uint_eq(log.done, base + depth - 1u);
			ck_assert(nvr_sq_has_room(sq));
			log.done = base + depth;	/* skip the token never submitted */
		}
		for (uint32_t i = 0; i < log.max; i++)
			ck_assert_uint_eq(log.times[i], (i % depth == depth - 1u) ? 0 : 1);
		ck_assert_uint_eq(log.bad_status, 0);
		ck_assert_uint_eq(sq->outstanding, 0);
		free(log.cid);
		free(log.phase);
		free(log.times);
	}
	ck_assert_uint_eq(tdev_stats(&d).bad_doorbells, 0);
	tdev_close(&d);
}
END_TEST

/*
 * A CID names one outstanding command: while a command is outstanding its
 * CID is not handed out again. Keep the SQ full (depth - 1 outstanding),
 * complete the oldest command, submit one, many times over: every new CID is
 * one that is not outstanding, and every CID of the table gets reused.
 */
#define CID_ROUNDS 400

struct cid_track {
	uint64_t done;
	uint16_t depth;
	bool outstanding[64];
	uint16_t cid_of[CID_ROUNDS + 64];	/* per submission */
	uint32_t uses[64];
};

static void cid_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct cid_track *tr = arg;
	uint32_t token = (uint32_t)(uintptr_t)ctx;

	(void)sq;
	ck_assert_uint_lt(cqe->cid, tr->depth);
	ck_assert_msg(tr->outstanding[cqe->cid], "completion for cid %u not outstanding",
		      cqe->cid);
	ck_assert_uint_lt(token, NVR_ARRAY_SIZE(tr->cid_of));
	ck_assert_uint_eq(tr->cid_of[token], cqe->cid);
	ck_assert_uint_eq(T_SC(cqe->status), 0);
	tr->outstanding[cqe->cid] = false;
	tr->done++;
}

static void cid_submit(struct nvr_sq *sq, struct cid_track *tr, uint32_t token)
{
	struct nvr_sqe sqe;
	int cid;

	flush_sqe(&sqe);
	cid = nvr_sq_submit(sq, &sqe, (void *)(uintptr_t)token);
	ck_assert_int_ge(cid, 0);
	ck_assert_int_lt(cid, tr->depth);
	ck_assert_uint_eq(sqe.cid, (unsigned int)cid);
	ck_assert_msg(!tr->outstanding[cid], "submission %u: cid %d handed out while outstanding",
		      token, cid);
	tr->outstanding[cid] = true;
	tr->cid_of[token] = (uint16_t)cid;
	tr->uses[cid]++;
}

START_TEST(test_cid_reuse)
{
	const uint16_t depth = 8;
	struct nvr_sim_config cfg;
	struct cid_track tr = { .depth = depth };
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	struct tdev d;
	uint64_t cqes0;
	uint32_t submitted = 0;

	sim_cfg(&cfg);
	qp_open(&d, &cfg, depth, &sq, &cq);
	cqes0 = tdev_stats(&d).cqes;

	for (int i = 0; i < depth - 1; i++)
		cid_submit(sq, &tr, submitted++);
	ck_assert_int_eq(nvr_sq_submit(sq, &(struct nvr_sqe){ .opcode = nvme_cmd_flush }, NULL),
			 -EBUSY);
	nvr_sq_ring(sq);

	for (int round = 0; round < CID_ROUNDS; round++) {
		/* The device has completed everything; the host reaps one. */
		ck_assert(wait_cqes(&d, cqes0 + submitted, T_WAIT_MS));
		ck_assert_uint_eq(nvr_cq_reap(cq, 1, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, cid_fn, &tr), 1);
		cid_submit(sq, &tr, submitted++);
		nvr_sq_ring(sq);
	}
	ck_assert(reap_until(cq, cid_fn, &tr, &tr.done, submitted, T_WAIT_MS));
	ck_assert_uint_eq(tr.done, submitted);
	for (int c = 0; c < depth; c++) {
		ck_assert(!tr.outstanding[c]);
		ck_assert_msg(tr.uses[c] >= 2, "cid %d used %u times", c, tr.uses[c]);
	}
	ck_assert_uint_eq(sq->outstanding, 0);
	tdev_close(&d);
}
END_TEST

/*
 * SQ flow control must survive completions that arrive out of submission
 * order. With a fixed latency, three commands fetched in one batch fall due
 * together and the device posts them in the order of its pending heap
 * (cid 0, 2, 1), so the SQHD values the host reads go 1, 3, 2. A host that
 * takes each CQE's SQHD as the SQ head sees the head move backwards past its
 * tail and believes four unfetched SQEs fit in a four-entry ring: the fourth
 * one makes tail == head, the device sees an empty SQ and those commands
 * never complete. Iterations 1 to 3 draw the latencies at random (seeded,
 * so each replays), in case the device's ordering of ties ever changes.
 */
struct ooo {
	uint64_t done;
	uint32_t times[64];
};

static void ooo_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct ooo *o = arg;
	uint32_t token = (uint32_t)(uintptr_t)ctx;

	(void)sq;
	ck_assert_uint_lt(token, NVR_ARRAY_SIZE(o->times));
	ck_assert_uint_eq(T_SC(cqe->status), 0);
	o->times[token]++;
	o->done++;
}

START_TEST(test_sq_room_out_of_order)
{
	const uint16_t depth = 4;
	struct nvr_sim_config cfg;
	struct ooo o = { 0 };
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	struct tdev d;
	uint32_t submitted = 0, unrung = 0, most_unrung = 0;
	uint64_t cqes0;
	bool all;

	sim_cfg(&cfg);
	cfg.latency_min_us = _i ? 500 : 2000;
	cfg.latency_max_us = _i ? 3000 : 2000;
	cfg.seed = (uint64_t)_i;
	qp_open(&d, &cfg, depth, &sq, &cq);
	cqes0 = tdev_stats(&d).cqes;

	for (int i = 0; i < depth - 1; i++) {
		struct nvr_sqe sqe;

		flush_sqe(&sqe);
		ck_assert_int_ge(nvr_sq_submit(sq, &sqe, (void *)(uintptr_t)submitted++), 0);
	}
	nvr_sq_ring(sq);
	ck_assert(wait_cqes(&d, cqes0 + depth - 1u, T_WAIT_MS));

	/* Reap one completion at a time and queue whatever the SQ accepts,
	 * without ringing: the device fetches nothing new meanwhile, so no
	 * more than depth - 1 SQEs may be queued. */
	for (int i = 0; i < depth - 1; i++) {
		struct nvr_sqe sqe;

		ck_assert_uint_eq(nvr_cq_reap(cq, 1, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, ooo_fn, &o), 1);
		for (;;) {
			flush_sqe(&sqe);
			if (nvr_sq_submit(sq, &sqe, (void *)(uintptr_t)submitted) < 0)
				break;
			submitted++;
			unrung++;
		}
		most_unrung = NVR_MAX(most_unrung, unrung);
	}
	nvr_sq_ring(sq);
	all = reap_until(cq, ooo_fn, &o, &o.done, submitted, 1000);
	ck_assert_msg(all && most_unrung <= depth - 1u,
		      "%llu of %u commands completed; the host queued %u SQEs in a depth-%u SQ "
		      "without ringing (at most %u fit)",
		      (unsigned long long)o.done, submitted, most_unrung, depth, depth - 1u);
	for (uint32_t i = 0; i < submitted; i++)
		ck_assert_uint_eq(o.times[i], 1);
	tdev_close(&d);
}
END_TEST

/*
 * A CQ without a ledger and without a reader's race knob is reaped by
 * reap_lean(). A second reaper that read the head before the first one
 * moved it (what the cq_lock none policy lets happen) sees the same CQE
 * again: the claim on the command turns it away as spurious instead of
 * completing the command twice. First the clean reap, then the racing one.
 */
START_TEST(test_lean_claim_second_reaper)
{
	struct nvr_sim_config cfg;
	struct tdev d;
	struct nvr_sq *sq;
	struct nvr_cq *cq;

	sim_cfg(&cfg);
	qp_open(&d, &cfg, 4, &sq, &cq);
	ck_assert(!cq->lcq && !cq->cid_first && !cq->held);	/* the lean path */
	check_second_reaper(&d, sq, cq, false);
	tdev_close(&d);
}
END_TEST

static Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc;

	tc = tcase_create("prp_one_page");
	tcase_add_test(tc, test_prp_one_page);
	suite_add_tcase(s, tc);
	tc = tcase_create("prp_two_pages");
	tcase_add_test(tc, test_prp_two_pages);
	suite_add_tcase(s, tc);
	tc = tcase_create("prp_list");
	tcase_add_test(tc, test_prp_list);
	tcase_add_test(tc, test_prp_unaligned_list);
	suite_add_tcase(s, tc);
	tc = tcase_create("prp_e2big");
	tcase_add_test(tc, test_prp_e2big);
	suite_add_tcase(s, tc);

	tc = tcase_create("phase_wrap");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_phase_wrap_depth2);
	suite_add_tcase(s, tc);
	tc = tcase_create("queue_full");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_queue_full);
	suite_add_tcase(s, tc);
	tc = tcase_create("cid_reuse");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_cid_reuse);
	suite_add_tcase(s, tc);
	tc = tcase_create("sq_room_out_of_order");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_loop_test(tc, test_sq_room_out_of_order, 0, 4);
	suite_add_tcase(s, tc);
	tc = tcase_create("lean_claim");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_lean_claim_second_reaper);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(queue_suite());
}
