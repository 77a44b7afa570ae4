// SPDX-License-Identifier: MIT
/*
 * The device on trial: host evidence that needs no device truth (canary
 * pages), and the device-side races of the catalog, each with the fixed
 * device clean and the buggy one caught (the scenario corpus runs every
 * row; these pin what each catch says, and that the simulator's IOMMU and
 * the canaries agree).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/dma.h>
#include <nvmerace/ledger.h>
#include <nvmerace/run.h>
#include <nvmerace/scenario.h>
#include <nvmerace/sim.h>
#include <nvmerace/transport.h>

#include "detect/canary.h"

#include "helpers.h"
#include "suite_main.h"

static struct nvr_scenario scn;
static struct nvr_result res;
static char err[1024];

struct rig {
	struct nvr_transport *t;
	struct nvr_ledger *l;
	struct nvr_canaries *cs;
};

static void rig_up(struct rig *g)
{
	struct nvr_sim_config cfg;
	struct nvr_ledger_opts lo;

	nvr_sim_config_init(&cfg);
	cfg.ns_bytes = 1 << 20;
	ck_assert_int_eq(nvr_sim_create(&cfg, &g->t), 0);
	nvr_ledger_opts_init(&lo);
	lo.truth = nvr_transport_truth(g->t);
	ck_assert_int_eq(nvr_ledger_create(&lo, &g->l), 0);
	ck_assert_int_eq(nvr_canaries_create(g->l, &g->cs), 0);
}

static void rig_down(struct rig *g)
{
	nvr_canaries_destroy(g->cs);
	nvr_ledger_destroy(g->l);
	nvr_transport_destroy(g->t);
}

/* Released memory nobody touches stays quiet, through its window and after. */
START_TEST(test_canary_untouched)
{
	struct nvr_dma_buf b;
	struct rig g;

	rig_up(&g);
	ck_assert_int_eq(nvr_dma_alloc(g.t, 8192, &b), 0);
	ck_assert_int_eq(nvr_canary_keep(g.cs, &b, "the test page", 0, 1000000000ull), 0);
	ck_assert_uint_eq(b.len, 0);	/* taken over */
	nvr_canaries_check(g.cs);
	nvr_canaries_check(g.cs);
	ck_assert_uint_eq(nvr_ledger_total(g.l), 0);
	rig_down(&g);
}
END_TEST

/* One store into a canary is one dma_after_teardown naming the memory,
 * the offset and the value; later checks do not report it again. */
START_TEST(test_canary_written)
{
	struct nvr_dma_buf b;
	struct nvr_anomaly an;
	_Atomic uint32_t *w;
	struct rig g;

	rig_up(&g);
	ck_assert_int_eq(nvr_dma_alloc(g.t, 8192, &b), 0);
	w = b.vaddr;
	ck_assert_int_eq(nvr_canary_keep(g.cs, &b, "the doorbell pages", 4, 1000000000ull), 0);
	ck_assert_uint_eq(w[3], nvr_canary_word(12));
	/* As a device writing EventIdx 0 for queue 1's SQ (slot 2 of page 1). */
	atomic_store(&w[(4096 + 8) / 4], 0);
	nvr_canaries_check(g.cs);
	nvr_canaries_check(g.cs);
	ck_assert_uint_eq(nvr_ledger_total(g.l), 1);
	ck_assert_uint_eq(nvr_ledger_anomalies(g.l, &an, 1), 1);
	ck_assert_int_eq(an.cls, NVR_AN_DMA_AFTER_TEARDOWN);
	ck_assert_ptr_nonnull(strstr(an.detail, "the doorbell pages"));
	ck_assert_ptr_nonnull(strstr(an.detail, "0x00000000 at +0x1008"));
	ck_assert_ptr_nonnull(strstr(an.detail, "queue 1's SQ tail EventIdx slot"));
	rig_down(&g);
}
END_TEST

static void run_stale_dbbuf(const char *row, const char *linger)
{
	struct nvr_override ov = { "actors.reset.steps.1.reset.linger_ms", linger };
	struct nvr_run_opts o = { .seed = 3 };
	uint32_t r;

	ck_assert_msg(!nvr_scenario_load("scenarios/stale-dbbuf-reset.yaml", &ov, 1, &scn, err,
					 sizeof(err)), "%s", err);
	for (r = 0; r < scn.nr_rows && strcmp(scn.rows[r].name, row); r++)
		;
	ck_assert_uint_lt(r, scn.nr_rows);
	ck_assert_int_eq(nvr_run_row(&scn, r, &o, &res), 0);
}

/*
 * Race 1 both ways, and the two detectors agree: with the old shadow pages
 * kept mapped (a canary) or unmapped at once (the simulator's IOMMU table
 * catches the access), the device that kept Doorbell Buffer Config across
 * the reset is caught as dma_after_teardown naming the same memory.
 */
START_TEST(test_stale_dbbuf_canary_and_iommu_agree)
{
	static const char *const lingers[] = { "200", "0" };
	const char *name = "the Doorbell Buffer Config pages of the controller before its reset";

	for (int i = 0; i < 2; i++) {
		run_stale_dbbuf("fixed", lingers[i]);
		ck_assert_int_eq(res.verdict, NVR_PASS);
		ck_assert_uint_eq(res.stats.anomalies[NVR_AN_DMA_AFTER_TEARDOWN], 0);
		ck_assert_uint_eq(res.stats.completed, 4000);

		run_stale_dbbuf("keeps-pages", lingers[i]);
		ck_assert_msg(res.verdict == NVR_PASS, "linger %s: %s", lingers[i], res.reason);
		ck_assert_uint_gt(res.nr_anomalies, 0);
		ck_assert_int_eq(res.anomalies[0].cls, NVR_AN_DMA_AFTER_TEARDOWN);
		ck_assert_msg(strstr(res.anomalies[0].detail, name), "linger %s: %s", lingers[i],
			      res.anomalies[0].detail);
		/* The canary says what the device wrote; the IOMMU that it faulted. */
		ck_assert_ptr_nonnull(strstr(res.anomalies[0].detail,
					     i == 0 ? "a canary pattern was there" : "IOVA"));
	}
}
END_TEST

/* A scenario with one matrix row, run on the simulator. */
static const struct nvr_result *run_file_row(const char *path, const char *row)
{
	struct nvr_run_opts o = { .seed = 5 };
	uint32_t r;

	ck_assert_msg(!nvr_scenario_load(path, NULL, 0, &scn, err, sizeof(err)), "%s", err);
	for (r = 0; r < scn.nr_rows && strcmp(scn.rows[r].name, row); r++)
		;
	ck_assert_uint_lt(r, scn.nr_rows);
	ck_assert_int_eq(nvr_run_row(&scn, r, &o, &res), 0);
	return &res;
}

/* Race 5: the stall names the EventIdx the device wrote, and why. */
START_TEST(test_need_event_boundary)
{
	run_file_row("scenarios/need-event-boundary.yaml", "wait-linux");
	ck_assert_int_eq(res.verdict, NVR_PASS);
	ck_assert_int_eq(res.anomalies[0].cls, NVR_AN_STALL);
	ck_assert_ptr_nonnull(strstr(res.anomalies[0].detail, "the tail it waits for"));
	run_file_row("scenarios/need-event-boundary.yaml", "wait-spdk");
	ck_assert_int_eq(res.verdict, NVR_PASS);
	for (int c = 0; c < NVR_AN_NR; c++)
		ck_assert_uint_eq(res.stats.anomalies[c], 0);
}
END_TEST

/* Race 2: the device's stale head makes CID 0 (a zeroed slot) complete again. */
START_TEST(test_queue_id_reuse)
{
	run_file_row("scenarios/queue-id-reuse.yaml", "stale-head");
	ck_assert_int_eq(res.verdict, NVR_PASS);
	ck_assert_int_eq(res.anomalies[0].cls, NVR_AN_DUPLICATE);
	ck_assert_int_eq(res.anomalies[0].cid, 0);
	run_file_row("scenarios/queue-id-reuse.yaml", "fixed");
	ck_assert_int_eq(res.verdict, NVR_PASS);
	ck_assert_uint_eq(res.stats.completed, 2000);
}
END_TEST

/* Race 6: the device that completes after Delete I/O SQ is caught by its
 * CQEs in the deleted CQ's ring, named. What the deletion left without a CQE
 * the host completed as aborted: nothing is lost, every command is counted. */
START_TEST(test_sq_delete_inflight)
{
	bool lost = false, canary = false;

	run_file_row("scenarios/sq-delete-inflight.yaml", "completes-after-delete");
	ck_assert_int_eq(res.verdict, NVR_PASS);
	for (uint32_t i = 0; i < res.nr_anomalies; i++) {
		lost |= res.anomalies[i].cls == NVR_AN_LOST;
		canary |= res.anomalies[i].cls == NVR_AN_DMA_AFTER_TEARDOWN &&
			  strstr(res.anomalies[i].detail, "the CQ ring of deleted I/O queue 1");
	}
	ck_assert(!lost);
	ck_assert(canary);
	ck_assert_uint_eq(res.stats.completed, 64);
	run_file_row("scenarios/sq-delete-inflight.yaml", "fixed-shadow");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_uint_eq(res.stats.completed, 64);
}
END_TEST

/* Race 7: the host cancels what a reset took (none lost, every command
 * accounted for); a device that completes it afterwards hits the old ring. */
START_TEST(test_reset_under_io)
{
	run_file_row("scenarios/reset-under-io.yaml", "fixed");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_uint_eq(res.stats.anomalies[NVR_AN_LOST], 0);
	ck_assert_uint_eq(res.stats.completed, 64);
	ck_assert_uint_gt(res.errors, 0);	/* the cancelled ones, as aborted */
	run_file_row("scenarios/reset-under-io.yaml", "completes-after-reset");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_int_eq(res.anomalies[0].cls, NVR_AN_DMA_AFTER_TEARDOWN);
	ck_assert_ptr_nonnull(strstr(res.anomalies[0].detail,
				     "the CQ ring of I/O queue 1 before the reset"));
}
END_TEST

static void count_fn(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	(void)sq;
	(void)cqe;
	(void)ctx;
	(*(uint64_t *)arg)++;
}

/* Submit flushes on @sq until it has no room; return how many. */
static unsigned int fill(struct nvr_sq *sq)
{
	unsigned int n = 0;
	struct nvr_sqe sqe;

	for (;;) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = nvme_cmd_flush;
		sqe.nsid = 1;
		if (nvr_sq_submit(sq, &sqe, NULL) < 0)
			break;
		n++;
	}
	nvr_sq_ring(sq);
	return n;
}

/* Take exactly one CQE from @cq, waiting for it. */
static void reap_one(struct nvr_cq *cq, uint64_t *done)
{
	uint64_t deadline = nvr_now_ns() + T_WAIT_MS * 1000000ull;

	while (!nvr_cq_reap(cq, 1, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, count_fn, done))
		ck_assert(nvr_now_ns() < deadline);
}

/*
 * Race 12, the host's half: once one CQE says (SQHD) that the device fetched
 * everything, a host refilling by SQHD puts more commands in flight than the
 * SQ has entries, with CIDs beyond its depth; a host whose CIDs are SQ slots
 * cannot. Both get every completion from the fixed device.
 */
START_TEST(test_sq_overcommit_host)
{
	struct nvr_sim_config cfg;
	uint64_t done[3] = { 0 };
	struct tdev d;

	nvr_sim_config_init(&cfg);
	cfg.latency_min_us = cfg.latency_max_us = 50000;
	tdev_open(&d, &cfg, 2);
	tdev_qpair(&d, 1, 4, -1);
	nvr_ctrl_set_sq_overcommit(d.ctrl, true);
	tdev_qpair(&d, 2, 4, -1);
	for (uint16_t q = 1; q <= 2; q++) {
		struct nvr_sq *sq = nvr_ctrl_sq(d.ctrl, q);
		struct nvr_sq_state st;

		nvr_sq_get_state(sq, &st);
		ck_assert_uint_eq(st.cids, q == 1 ? 4 : 8);
		ck_assert_uint_eq(fill(sq), 3);	/* the ring: depth - 1 */
		/* One CQE taken, the other two still the host's. */
		reap_one(sq->cq, &done[q]);
		ck_assert_uint_eq(done[q], 1);
		nvr_sq_get_state(sq, &st);
		ck_assert_uint_eq(st.head, 3);	/* SQHD: all three fetched */
		ck_assert_uint_eq(fill(sq), q == 1 ? 1 : 3);
		ck_assert_uint_eq(atomic_load(&sq->outstanding), q == 1 ? 3 : 5);
	}
	ck_assert(reap_until(nvr_ctrl_cq(d.ctrl, 1), count_fn, &done[1], &done[1], 4, T_WAIT_MS));
	ck_assert(reap_until(nvr_ctrl_cq(d.ctrl, 2), count_fn, &done[2], &done[2], 6, T_WAIT_MS));
	ck_assert_uint_eq(nvr_cq_reap(nvr_ctrl_cq(d.ctrl, 2), 8, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE,
				      count_fn, &done[2]), 0);
	ck_assert_uint_eq(nvr_ctrl_cq(d.ctrl, 2)->spurious, 0);
	tdev_close(&d);
}
END_TEST

/*
 * Race 12 on the simulator, both ways: the device that stops scheduling an SQ
 * out of request slots leaves the over-committing host's last commands in
 * the SQ (a stall of SQ 1); the fixed device, and the buggy one under a host
 * whose CIDs are slots, complete every command.
 */
START_TEST(test_sq_overcommit)
{
	run_file_row("scenarios/sq-overcommit.yaml", "no-restart");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_int_eq(res.anomalies[0].cls, NVR_AN_STALL);
	ck_assert_ptr_nonnull(strstr(res.anomalies[0].detail, "SQ 1"));
	ck_assert_uint_lt(res.stats.completed, 200);
	run_file_row("scenarios/sq-overcommit.yaml", "fixed");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_uint_eq(res.stats.completed, 200);
	run_file_row("scenarios/sq-overcommit.yaml", "slots-host");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_uint_eq(res.stats.completed, 200);
}
END_TEST

/*
 * Races 7 and 1 by the other ways a host resets: a shutdown under I/O then
 * CC.EN = 0, and a Function Level Reset (the simulator's transport reset).
 * The fixed device is clean; the one that completes after the reset, or
 * keeps the shadow doorbell pages, is caught writing into the old memory.
 */
START_TEST(test_reset_shutdown_and_flr)
{
	static const char *const rows[][2] = {
		{ "fixed-shutdown", "completes-after-shutdown" },
		{ "fixed-flr", "completes-after-flr" },
	};

	for (int i = 0; i < 2; i++) {
		run_file_row("scenarios/reset-under-io.yaml", rows[i][0]);
		ck_assert_msg(res.verdict == NVR_PASS, "%s: %s", rows[i][0], res.reason);
		ck_assert_uint_eq(res.stats.anomalies[NVR_AN_LOST], 0);
		ck_assert_uint_eq(res.stats.completed, 64);
		run_file_row("scenarios/reset-under-io.yaml", rows[i][1]);
		ck_assert_msg(res.verdict == NVR_PASS, "%s: %s", rows[i][1], res.reason);
		ck_assert_int_eq(res.anomalies[0].cls, NVR_AN_DMA_AFTER_TEARDOWN);
		ck_assert_ptr_nonnull(strstr(res.anomalies[0].detail,
					     "the CQ ring of I/O queue 1 before the reset"));
	}
	run_file_row("scenarios/stale-dbbuf-reset.yaml", "fixed-flr");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_uint_eq(res.stats.completed, 4000);
	run_file_row("scenarios/stale-dbbuf-reset.yaml", "keeps-pages-flr");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_int_eq(res.anomalies[0].cls, NVR_AN_DMA_AFTER_TEARDOWN);
	ck_assert_ptr_nonnull(strstr(res.anomalies[0].detail,
				     "the Doorbell Buffer Config pages of the controller before its "
				     "reset"));
}
END_TEST

/* CQ overwrite: named, with the slot and what changed. */
START_TEST(test_cq_overwrite)
{
	run_file_row("scenarios/cq-overwrite.yaml", "overrun");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_int_eq(res.anomalies[0].cls, NVR_AN_SPURIOUS);
	ck_assert_ptr_nonnull(strstr(res.anomalies[0].detail, "CQ overwrite"));
	run_file_row("scenarios/cq-overwrite.yaml", "fixed");
	ck_assert_msg(res.verdict == NVR_PASS, "%s", res.reason);
	ck_assert_uint_eq(res.stats.anomalies[NVR_AN_SPURIOUS], 0);
}
END_TEST

/* The knobs are read from device.sim.races and from rows, and misspelt ones
 * are refused with a suggestion. */
START_TEST(test_races_parse)
{
	static const char base[] =
		"name: t\n"
		"device: { sim: { races: { no_cq_eventidx: true } } }\n"
		"queues: [ { id: 1, depth: 16, vector: polled } ]\n"
		"actors: [ { name: io, steps: [ { submit: { queue: 1, op: read, qd: 1, count: 1 } },"
		" { recreate: { queue: 1 } }, { reset: { shadow_doorbells: false } } ] } ]\n"
		"matrix:\n"
		"  - { name: a, races: { eventidx_is_wait: true, no_cq_eventidx: false } }\n";
	static const char bad[] =
		"name: t\n"
		"device: { sim: { races: { no_cq_eventid: true } } }\n"
		"queues: [ { id: 1, depth: 16, vector: polled } ]\n"
		"actors: [ { name: io, steps: [ { submit: { queue: 1, op: read, qd: 1, count: 1 } } ] } ]\n";

	ck_assert_msg(!nvr_scenario_parse(base, strlen(base), "t.yaml", NULL, 0, &scn, err,
					  sizeof(err)), "%s", err);
	ck_assert(scn.sim.races[NVR_RACE_NO_CQ_EVENTIDX]);
	ck_assert(!scn.sim.races[NVR_RACE_EVENTIDX_IS_WAIT]);
	ck_assert(scn.rows[0].set_races[NVR_RACE_EVENTIDX_IS_WAIT]);
	ck_assert(scn.rows[0].races[NVR_RACE_EVENTIDX_IS_WAIT]);
	ck_assert(scn.rows[0].set_races[NVR_RACE_NO_CQ_EVENTIDX]);
	ck_assert(!scn.rows[0].races[NVR_RACE_NO_CQ_EVENTIDX]);
	ck_assert_int_eq(scn.actors[0].steps[1].kind, NVR_STEP_RECREATE);
	ck_assert_int_eq(scn.actors[0].steps[1].queue, 1);
	ck_assert_int_eq(scn.actors[0].steps[2].kind, NVR_STEP_RESET);
	ck_assert_int_eq(scn.actors[0].steps[2].dbbuf_after, 0);
	ck_assert_int_eq(nvr_scenario_parse(bad, strlen(bad), "t.yaml", NULL, 0, &scn, err,
					    sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "did you mean 'no_cq_eventidx'"), "%s", err);
	for (int k = 0; k < NVR_RACE_NR; k++)
		ck_assert_int_eq(nvr_sim_race_by_name(nvr_sim_race_name(k)), k);
	ck_assert_int_eq(nvr_sim_race_by_name("nope"), -1);
}
END_TEST

/* A qd beyond depth - 1 needs an SQHD-refilling host, in the file or a row,
 * and then goes up to twice the depth (its CIDs). */
START_TEST(test_sq_refill_parse)
{
	static const char head[] =
		"name: t\n"
		"queues: [ { id: 1, depth: 8, vector: polled } ]\n";
	static const struct {
		const char *rest;
		const char *err;	/* NULL: parses */
	} cases[] = {
		{ "policy: { sq_refill: sqhd }\n"
		  "actors: [ { name: io, steps: [ { submit: { queue: 1, op: read, qd: 16, "
		  "count: 1 } } ] } ]\n", NULL },
		{ "actors: [ { name: io, steps: [ { submit: { queue: 1, op: read, qd: 16, "
		  "count: 1 } } ] } ]\n"
		  "matrix: [ { name: a }, { name: b, policy: { sq_refill: sqhd } } ]\n", NULL },
		{ "actors: [ { name: io, steps: [ { submit: { queue: 1, op: read, qd: 8, "
		  "count: 1 } } ] } ]\n",
		  "qd 8 is out of range (1..7): queue 1 has depth 8, and a full SQ holds depth - 1" },
		{ "policy: { sq_refill: sqhd }\n"
		  "actors: [ { name: io, steps: [ { submit: { queue: 1, op: read, qd: 17, "
		  "count: 1 } } ] } ]\n",
		  "qd 17 is out of range (1..16): queue 1 has depth 8, and a host with sq_refill "
		  "sqhd has twice as many CIDs" },
		{ "policy: { sq_refill: slots }\n"
		  "actors: [ { name: io, steps: [ { submit: { queue: 1, op: read, qd: 1, "
		  "count: 1 } } ] } ]\n", "sq_refill" },
	};

	for (size_t i = 0; i < NVR_ARRAY_SIZE(cases); i++) {
		char text[1024];
		int ret;

		snprintf(text, sizeof(text), "%s%s", head, cases[i].rest);
		ret = nvr_scenario_parse(text, strlen(text), "t.yaml", NULL, 0, &scn, err,
					 sizeof(err));
		if (!cases[i].err) {
			ck_assert_msg(ret == 0, "case %zu: %s", i, err);
			continue;
		}
		ck_assert_int_eq(ret, -EINVAL);
		ck_assert_msg(strstr(err, cases[i].err), "case %zu: %s", i, err);
	}
}
END_TEST

static Suite *device_suite(void)
{
	Suite *s = suite_create("device");
	TCase *tc = tcase_create("canary");

	tcase_add_test(tc, test_canary_untouched);
	tcase_add_test(tc, test_canary_written);
	tcase_add_test(tc, test_races_parse);
	tcase_add_test(tc, test_sq_overcommit_host);
	tcase_add_test(tc, test_sq_refill_parse);
	suite_add_tcase(s, tc);
	tc = tcase_create("races");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_stale_dbbuf_canary_and_iommu_agree);
	tcase_add_test(tc, test_need_event_boundary);
	tcase_add_test(tc, test_queue_id_reuse);
	tcase_add_test(tc, test_sq_delete_inflight);
	tcase_add_test(tc, test_reset_under_io);
	tcase_add_test(tc, test_cq_overwrite);
	tcase_add_test(tc, test_sq_overcommit);
	tcase_add_test(tc, test_reset_shutdown_and_flr);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(device_suite());
}
