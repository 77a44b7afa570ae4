// SPDX-License-Identifier: MIT
/*
 * <nvmerace/fastq.h>: the inline fast path of one submitter and one reaper.
 * It must have the library's effects (every command completed once, with its
 * context, the counters and heads as nvr_sq_submit()/nvr_cq_reap() leave
 * them), keep the claim that turns away a second reaper, and hand every
 * queue the library follows more closely (a ledger, shadow doorbells, a
 * withheld head) to the library's functions, so that detection is unchanged.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include "queue_helpers.h"
#include "run/runner_int.h"
#include "suite_main.h"

struct fq_log {
	uint64_t done;
	uint32_t n;
	uint32_t *times;	/* per submission token: completions seen */
	uint16_t bad;		/* a completion with a bad status, SQ or CID */
};

static void fq_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct fq_log *log = arg;
	uint32_t token = (uint32_t)(uintptr_t)ctx;

	if (T_SC(cqe->status) || cqe->sqid != sq->qid || cqe->cid >= sq->ncids || token >= log->n)
		log->bad++;
	else
		log->times[token]++;
	log->done++;
}

/* Reap with the fast path until *@done reaches @target; false after @timeout_ms. */
static bool fast_reap_until(struct nvr_cq *cq, struct fq_log *log, uint64_t target,
			    unsigned int timeout_ms)
{
	uint64_t deadline = nvr_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (log->done < target) {
		if (nvr_cq_pending_fast(cq) && nvr_cq_reap_fast(cq, cq->depth, fq_fn, log))
			continue;
		if (nvr_now_ns() > deadline)
			return false;
		nvr_sleep_ns(2000);
	}
	return true;
}

/*
 * Thousands of commands at up to 3 outstanding on a depth-4 queue pair (the
 * rings wrap, the phase flips): each completes exactly once with its context,
 * and the queues' state is what the library's functions leave.
 */
START_TEST(test_fast_matches_library)
{
	const uint32_t n = 3000;
	struct fq_log log = { .n = n };
	struct nvr_sim_config cfg;
	struct nvr_cq_stats cst;
	struct nvr_sq_state sst;
	struct nvr_cq_state cqs;
	struct tdev d;
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	uint32_t issued = 0;
	uint64_t cqes0;

	sim_cfg(&cfg);
	qp_open(&d, &cfg, 4, &sq, &cq);
	ck_assert_uint_eq(sq->slow, 0);	/* nothing follows it: the fast path proper */
	ck_assert_uint_eq(cq->slow, 0);
	log.times = calloc(n, sizeof(*log.times));
	ck_assert_ptr_nonnull(log.times);
	cqes0 = tdev_stats(&d).cqes;

	while (issued < n) {
		struct nvr_sqe sqe;
		int cid;

		flush_sqe(&sqe);
		while (issued < n) {
			cid = nvr_sq_submit_fast(sq, &sqe, (void *)(uintptr_t)issued);
			if (cid < 0) {
				ck_assert_int_eq(cid, -EBUSY);
				break;
			}
			ck_assert_int_lt(cid, sq->ncids);
			ck_assert_uint_eq(sqe.cid, (unsigned int)cid);
			issued++;
			flush_sqe(&sqe);
		}
		/* Full: three outstanding on depth 4 (one slot stays empty). */
		ck_assert_uint_le(atomic_load(&sq->outstanding), 3);
		nvr_sq_ring_fast(sq);
		ck_assert_msg(fast_reap_until(cq, &log, log.done + 1, T_WAIT_MS),
			      "no completion after %u commands", issued);
	}
	ck_assert(fast_reap_until(cq, &log, n, T_WAIT_MS));
	ck_assert_uint_eq(log.bad, 0);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_msg(log.times[i] == 1, "command %u completed %u times", i, log.times[i]);
	ck_assert(!nvr_cq_pending_fast(cq));
	ck_assert_uint_eq(nvr_cq_reap_fast(cq, 4, fq_fn, &log), 0);

	nvr_cq_get_stats(cq, &cst);
	ck_assert_uint_eq(cst.reaped, n);
	ck_assert_uint_eq(cst.spurious, 0);
	ck_assert_uint_eq(atomic_load(&sq->outstanding), 0);
	nvr_sq_get_state(sq, &sst);
	nvr_cq_get_state(cq, &cqs);
	ck_assert_uint_eq(sst.tail_rung, n % 4);
	ck_assert_uint_eq(sst.head, n % 4);	/* SQHD of the last CQE: everything fetched */
	ck_assert_uint_eq(cqs.head, n % 4);
	ck_assert_uint_eq(cqs.phase, ((n / 4) & 1) ? 0 : 1);
	ck_assert_uint_eq(atomic_load(&cq->db_head), n % 4);
	ck_assert_uint_eq(tdev_stats(&d).cqes - cqes0, n);
	ck_assert_uint_eq(tdev_stats(&d).bad_doorbells, 0);

	/* And the library's functions carry on from where it left off. */
	{
		struct nvr_sqe sqe;

		flush_sqe(&sqe);
		ck_assert_int_ge(nvr_sq_submit(sq, &sqe, (void *)(uintptr_t)0), 0);
		nvr_sq_ring(sq);
		ck_assert(reap_until(cq, fq_fn, &log, &log.done, n + 1, T_WAIT_MS));
		ck_assert_uint_eq(log.times[0], 2);
		ck_assert_uint_eq(log.bad, 0);
	}
	free(log.times);
	tdev_close(&d);
}
END_TEST

/*
 * The fast reap keeps the claim: a second reaper that read the head before
 * the first moved it (two reapers without a lock) sees the same CQE again and
 * is turned away as spurious instead of completing the command twice.
 */
START_TEST(test_fast_claim_second_reaper)
{
	struct nvr_sim_config cfg;
	struct tdev d;
	struct nvr_sq *sq;
	struct nvr_cq *cq;

	sim_cfg(&cfg);
	qp_open(&d, &cfg, 4, &sq, &cq);
	check_second_reaper(&d, sq, cq, true);
	tdev_close(&d);
}
END_TEST

/*
 * With a ledger the fast functions report to it as the library's do: the
 * submissions and completions are counted, and the same second reaper is
 * recorded as a duplicate consumption. Detached, the queues are fast again.
 */
START_TEST(test_fast_with_ledger)
{
	struct nvr_ledger_opts lo;
	struct nvr_ledger *l;
	struct nvr_sim_config cfg;
	struct nvr_stats st;
	struct tdev d;
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	unsigned int calls = 0;
	uint32_t hp;

	sim_cfg(&cfg);
	qp_open(&d, &cfg, 4, &sq, &cq);
	nvr_ledger_opts_init(&lo);
	ck_assert_int_eq(nvr_ledger_create(&lo, &l), 0);
	ck_assert_int_eq(nvr_ledger_attach(l, sq, cq), 0);
	ck_assert_uint_eq(sq->slow, NVR_SQ_SLOW_LEDGER);
	ck_assert_uint_ne(cq->slow, 0);

	for (int i = 0; i < 3; i++) {
		hp = post_one(&d, sq, cq, true);
		ck_assert_uint_eq(reap4(cq, true, &calls), 1);
	}
	nvr_ledger_snapshot(l, &st);
	ck_assert_uint_eq(st.submitted, 3);
	ck_assert_uint_eq(st.completed, 3);
	ck_assert_uint_eq(nvr_ledger_total(l), 0);

	atomic_store(&cq->hp, hp);	/* a second reaper on the last CQE */
	ck_assert_uint_eq(reap4(cq, true, &calls), 1);
	ck_assert_uint_eq(calls, 3);
	nvr_ledger_snapshot(l, &st);
	ck_assert_uint_eq(st.completed, 3);
	ck_assert_uint_eq(st.anomalies[NVR_AN_DUPLICATE], 1);

	nvr_ledger_detach(l, sq, cq);
	ck_assert_uint_eq(sq->slow, 0);
	ck_assert_uint_eq(cq->slow, 0);
	nvr_ledger_destroy(l);
	tdev_close(&d);
}
END_TEST

/* Every reason the fast path steps aside sets the slow byte, and only those. */
START_TEST(test_fast_slow_reasons)
{
	struct nvr_dbbuf_policy p = { NVR_DBBUF_BARRIER_FULL, NVR_NEED_EVENT_LINUX };
	struct nvr_sim_config cfg;
	struct tdev d;
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	uint16_t st;

	sim_cfg(&cfg);
	tdev_open(&d, &cfg, 2);
	tdev_qpair(&d, 1, 4, -1);
	tdev_qpair(&d, 2, 4, -1);
	sq = nvr_ctrl_sq(d.ctrl, 1);
	cq = nvr_ctrl_cq(d.ctrl, 1);
	ck_assert_uint_eq(sq->slow | cq->slow, 0);
	/* Without a BAR mapping the doorbell is the transport's write. */
	ck_assert(sq->db_mmio == NULL);
	ck_assert_ptr_nonnull(sq->db_write);

	/* A withheld CQ head: the CQ only. */
	ck_assert_int_eq(nvr_run_hold_head(cq), 0);
	ck_assert_uint_eq(sq->slow, 0);
	ck_assert_uint_ne(cq->slow, 0);

	/* Shadow doorbells: the SQ's ring and the CQ. */
	cq = nvr_ctrl_cq(d.ctrl, 2);
	ck_assert_int_eq(nvr_ctrl_dbbuf_enable(d.ctrl, &p, &st), 0);
	ck_assert_uint_eq(nvr_ctrl_sq(d.ctrl, 2)->slow, NVR_SQ_SLOW_SHADOW);
	ck_assert_uint_ne(cq->slow, 0);
	tdev_close(&d);
}
END_TEST

static Suite *fastq_suite(void)
{
	Suite *s = suite_create("fastq");
	TCase *tc;

	tc = tcase_create("fast_matches_library");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fast_matches_library);
	suite_add_tcase(s, tc);
	tc = tcase_create("fast_claim_second_reaper");
	tcase_add_test(tc, test_fast_claim_second_reaper);
	suite_add_tcase(s, tc);
	tc = tcase_create("fast_with_ledger");
	tcase_add_test(tc, test_fast_with_ledger);
	suite_add_tcase(s, tc);
	tc = tcase_create("fast_slow_reasons");
	tcase_add_test(tc, test_fast_slow_reasons);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(fastq_suite());
}
