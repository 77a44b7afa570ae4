// SPDX-License-Identifier: MIT
/*
 * Keep Alive on the simulated controller (NVMe 1.4, 5.16, 5.21.1.15, 7.12):
 * KATO rounding to the KAS granularity, the timer kept alive by Keep Alive
 * commands, CSTS.CFS when it runs out, and seed 001's scenario both ways.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "dev/sim/truth.h"
#include "helpers.h"
#include "suite_main.h"

static uint32_t kato(struct tdev *d, bool set, uint32_t ms)
{
	struct nvr_sqe sqe = { .opcode = set ? nvme_admin_set_features : nvme_admin_get_features,
			       .cdw10 = NVME_FEAT_FID_KATO, .cdw11 = ms };
	struct nvr_cqe cqe;

	ck_assert_uint_eq(admin_raw(d->ctrl, &sqe, &cqe), 0);
	return cqe.dw0;
}

static void keep_alive(struct tdev *d)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_keep_alive };

	ck_assert_uint_eq(admin_raw(d->ctrl, &sqe, NULL), 0);
}

START_TEST(test_kato_rounds_to_kas)
{
	struct nvr_sim_config cfg;
	struct tdev d;

	nvr_sim_config_init(&cfg);
	tdev_open(&d, &cfg, 1);
	ck_assert_uint_eq(nvr_ctrl_info(d.ctrl)->kas, 1);	/* 100 ms units */
	ck_assert_uint_eq(kato(&d, false, 0), 0);
	ck_assert_uint_eq(kato(&d, true, 150), 200);
	ck_assert_uint_eq(kato(&d, false, 0), 200);
	ck_assert_uint_eq(kato(&d, true, 0), 0);	/* off again */
	tdev_close(&d);
}
END_TEST

START_TEST(test_keep_alive_keeps_it_alive)
{
	struct nvr_sim_config cfg;
	struct nvr_sim_ka_truth t;
	struct tdev d;

	nvr_sim_config_init(&cfg);
	tdev_open(&d, &cfg, 1);
	/* KATO 1 s, 25 keep-alives 100 ms apart: 2.5 s, well past KATO. */
	kato(&d, true, 1000);
	for (int i = 0; i < 25; i++) {
		keep_alive(&d);
		nvr_sleep_ns(100000000);
	}
	ck_assert(!NVME_CSTS_CFS(nvr_ctrl_csts(d.ctrl)));
	nvr_sim_ka_truth(d.sim, &t);
	/* Each keep_alive() waited for its completion: the device executed all 25. */
	ck_assert_uint_eq(t.keep_alives, 25);
	ck_assert(!t.expired);
	tdev_close(&d);
}
END_TEST

START_TEST(test_kato_expiry_sets_cfs)
{
	struct nvr_sim_config cfg;
	struct nvr_sim_ka_truth t;
	struct tdev d;
	uint64_t start, end;

	nvr_sim_config_init(&cfg);
	tdev_open(&d, &cfg, 1);
	/* Read the clock before the timer starts: the expiry cannot come
	 * sooner than 100 ms after this, whatever the scheduler does. */
	start = nvr_now_ns();
	kato(&d, true, 100);
	end = nvr_now_ns() + (uint64_t)T_WAIT_MS * 1000000;
	while (!NVME_CSTS_CFS(nvr_ctrl_csts(d.ctrl)) && nvr_now_ns() < end)
		nvr_sleep_ns(1000000);
	ck_assert(NVME_CSTS_CFS(nvr_ctrl_csts(d.ctrl)));
	ck_assert_uint_ge(nvr_now_ns() - start, 100000000ull);	/* not before KATO */
	nvr_sim_ka_truth(d.sim, &t);
	ck_assert(t.expired);
	ck_assert_uint_eq(t.kato_ms, 100);
	tdev_close(&d);
}
END_TEST

/* --- the scenario, each row with a few seeds --- */

static struct nvr_scenario scn;

static void run_row(const char *row, uint64_t seed, struct nvr_result *res)
{
	struct nvr_run_opts o = { .seed = seed };
	char err[512];
	uint32_t r;

	ck_assert_msg(!nvr_scenario_load("scenarios/keep-alive-shutdown.yaml", NULL, 0, &scn, err,
					 sizeof(err)), "%s", err);
	for (r = 0; r < scn.nr_rows && strcmp(scn.rows[r].name, row); r++)
		;
	ck_assert_uint_lt(r, scn.nr_rows);
	ck_assert_int_eq(nvr_run_row(&scn, r, &o, res), 0);
	for (uint32_t i = 0; i < res->nr_anomalies && i < 2; i++)
		fprintf(stderr, "%s seed %llu: [%s] %s\n", row, (unsigned long long)seed,
			nvr_anomaly_name(res->anomalies[i].cls), res->anomalies[i].detail);
}

START_TEST(test_sync_clean)
{
	static struct nvr_result res;

	run_row("sync", 100 + (uint64_t)_i, &res);
	ck_assert_int_eq(res.verdict, NVR_PASS);
	for (int c = 0; c < NVR_AN_NR; c++)
		ck_assert_uint_eq(res.stats.anomalies[c], 0);
}
END_TEST

START_TEST(test_async_caught)
{
	static struct nvr_result res;

	if (getenv("NVR_TSAN"))
		return;	/* the bug's own design: not for ThreadSanitizer */
	run_row("async", 200 + (uint64_t)_i, &res);
	ck_assert_int_eq(res.verdict, NVR_PASS);
	ck_assert_uint_gt(res.stats.anomalies[NVR_AN_DMA_AFTER_TEARDOWN], 0);
	/* The keep-alive whose completion went nowhere is lost, too. */
	ck_assert_uint_gt(res.stats.anomalies[NVR_AN_LOST], 0);
	ck_assert_uint_eq(res.stats.anomalies[NVR_AN_CFS], 0);
	ck_assert_ptr_nonnull(strstr(res.anomalies[0].detail, "the admin CQ, torn down"));
}
END_TEST

START_TEST(test_kato_expires_cfs)
{
	static struct nvr_result res;

	run_row("kato-expires", 300 + (uint64_t)_i, &res);
	ck_assert_int_eq(res.verdict, NVR_PASS);
	ck_assert_uint_eq(res.stats.anomalies[NVR_AN_CFS], 1);
	ck_assert_ptr_nonnull(strstr(res.anomalies[0].detail, "keep-alive timer expired"));
}
END_TEST

static Suite *keepalive_suite(void)
{
	Suite *s = suite_create("keepalive");
	TCase *tc = tcase_create("device");

	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_test(tc, test_kato_rounds_to_kas);
	tcase_add_test(tc, test_keep_alive_keeps_it_alive);
	tcase_add_test(tc, test_kato_expiry_sets_cfs);
	suite_add_tcase(s, tc);
	tc = tcase_create("seed-001");
	tcase_set_tags(tc, "slow");
	tcase_set_timeout(tc, T_TIMEOUT_S);
	tcase_add_loop_test(tc, test_sync_clean, 0, 3);
	tcase_add_loop_test(tc, test_async_caught, 0, 3);
	tcase_add_loop_test(tc, test_kato_expires_cfs, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(keepalive_suite());
}
