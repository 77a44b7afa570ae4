// SPDX-License-Identifier: MIT
/*
 * The seed races in miniature under the model (tests/sched_progs.h): each
 * buggy design is caught by a schedule the strategy chose, with no knob that
 * widens a window, and each correct design is clean in every schedule of an
 * exhaustive search.
 */
#include <check.h>
#include <stdlib.h>

#include "sched_progs.h"
#include "suite_main.h"

static struct nvr_sched_report explore(const struct nvr_sched_prog *p,
				       enum nvr_sched_strategy st, uint64_t seed)
{
	struct nvr_sched_config cfg = {
		.strategy = st, .seed = seed, .pct_depth = 3,
		.max_schedules = st == NVR_SCHED_DFS ? 0 : 2000,
		.preempt_bound = -1, .delay_bound = -1,
	};
	struct nvr_sched_report rep;

	ck_assert_int_eq(nvr_sched_explore(p, &cfg, &rep), 0);
	return rep;
}

/* Seed 000: none -> duplicate, trylock -> stranded, by random and pct in 20 of 20 seeds. */
START_TEST(test_000_buggy)
{
	struct mini000 c = { 0 };
	struct nvr_sched_prog p = mini000_prog(&c);

	for (int policy = 0; policy < 2; policy++) {
		c.policy = policy;
		for (int st = NVR_SCHED_RANDOM; st <= NVR_SCHED_PCT; st++)
			for (uint64_t seed = 0; seed < 20; seed++) {
				struct nvr_sched_report r = explore(&p, st, seed);

				ck_assert_msg(r.failures == 1, "policy %d strategy %d seed %llu",
					      policy, st, (unsigned long long)seed);
				/* check() ran last on the failing run: its verdict stands. */
				ck_assert_int_eq(mini000_verdict(&c), policy ? 2 : 1);
				nvr_sched_report_release(&r);
			}
	}
}
END_TEST

/* Seed 000: mutex and cas, every schedule. */
START_TEST(test_000_clean)
{
	struct mini000 c = { 0 };
	struct nvr_sched_prog p = mini000_prog(&c);

	for (int policy = 2; policy < 4; policy++) {
		struct nvr_sched_report r;

		c.policy = policy;
		r = explore(&p, NVR_SCHED_DFS, 0);
		ck_assert_msg(r.complete, "policy %d: space not exhausted", policy);
		ck_assert_uint_eq(r.failures, 0);
		ck_assert_uint_gt(r.schedules, 10);
		nvr_sched_report_release(&r);
	}
}
END_TEST

/* The shrunk trylock schedule: the ISR's try fails while the poller holds the lock. */
START_TEST(test_000_timeline)
{
	struct nvr_sched_config cfg = { .strategy = NVR_SCHED_PCT, .pct_depth = 3, .seed = 1 };
	struct mini000 c = { .policy = 1 };
	struct nvr_sched_prog p = mini000_prog(&c);
	struct nvr_sched_report r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &r), 0);
	ck_assert_uint_eq(r.failures, 1);
	ck_assert_int_eq(nvr_sched_shrink(&p, &cfg, &r.fail), 0);
	ck_assert_int_eq(mini000_verdict(&c), 2);
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(nvr_sched_timeline(&r.fail, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "trylock cq_lock busy"));
	free(buf);
	nvr_sched_report_release(&r);
}
END_TEST

/* Seeds 002/003: unmasked -> torn sample; masked -> clean, exhaustively. */
START_TEST(test_002)
{
	struct mini002 c = { 0 };
	struct nvr_sched_prog p = mini002_prog(&c);
	struct nvr_sched_report r;

	for (int st = NVR_SCHED_RANDOM; st <= NVR_SCHED_PCT; st++)
		for (uint64_t seed = 0; seed < 20; seed++) {
			r = explore(&p, st, seed);
			ck_assert_msg(r.failures == 1, "strategy %d seed %llu", st,
				      (unsigned long long)seed);
			/* One word old, the other new (either way round). */
			ck_assert((c.got_addr == 0xa1) != (c.got_data == 0xd1));
			nvr_sched_report_release(&r);
		}
	c.policy = 1;
	r = explore(&p, NVR_SCHED_DFS, 0);
	ck_assert(r.complete);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_uint_gt(r.schedules, 3);
	nvr_sched_report_release(&r);
}
END_TEST

/* Seed 001: async -> DMA after teardown on the first schedule; drain -> clean in all. */
START_TEST(test_001)
{
	struct mini001 c = { 0 };
	struct nvr_sched_prog p = mini001_prog(&c);
	struct nvr_sched_report r = explore(&p, NVR_SCHED_RANDOM, 0);

	ck_assert_uint_eq(r.failures, 1);
	ck_assert_uint_eq(r.first_fail, 1);
	ck_assert_int_eq(c.after_teardown, 1);
	ck_assert_uint_eq(r.fail.now_ns, 1800000000ull);
	nvr_sched_report_release(&r);
	c.policy = 1;
	r = explore(&p, NVR_SCHED_DFS, 0);
	ck_assert(r.complete);
	ck_assert_uint_eq(r.failures, 0);
	nvr_sched_report_release(&r);
}
END_TEST

static Suite *seeds_suite(void)
{
	Suite *s = suite_create("sched_seeds");
	TCase *tc = tcase_create("miniatures");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_000_buggy);
	tcase_add_test(tc, test_000_clean);
	tcase_add_test(tc, test_000_timeline);
	tcase_add_test(tc, test_001);
	tcase_add_test(tc, test_002);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(seeds_suite());
}
