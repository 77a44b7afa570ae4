// SPDX-License-Identifier: MIT
/*
 * Figures of the deterministic scheduler (lib/sched), not a test:
 *
 *   sched_schedules_per_s strategy=S prog=P N     runs per second of wall time
 *   sched_dfs_space prog=P por=0|1 schedules=N pruned=M complete=0|1
 *   sched_detect prog=P strategy=S found=F/20 median_runs=N max_runs=N
 *                median_ms=X max_ms=Y [pct_bound=P]
 *   sched_virtual_time virtual_s=21 wall_ms=X
 *
 * Built with -DNVR_SCHED_MODEL from the programs of tests/sched_progs.h.
 * make bench-sched runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sched_progs.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void rate(const char *strategy, const struct nvr_sched_prog *p, struct nvr_sched_config cfg)
{
	struct nvr_sched_report rep;
	double t0 = now_s(), dt;
	uint64_t runs = 0;

	cfg.keep_going = true;
	while ((dt = now_s() - t0) < 1.0) {
		if (nvr_sched_explore(p, &cfg, &rep))
			break;
		runs += rep.schedules + rep.pruned;
		nvr_sched_report_release(&rep);
		cfg.seed++;
	}
	printf("sched_schedules_per_s strategy=%s prog=%s %.0f\n", strategy, p->name,
	       (double)runs / dt);
}

static void space(const char *name, struct nvr_sched_prog *p, bool no_por)
{
	struct nvr_sched_config cfg = {
		.strategy = NVR_SCHED_DFS, .preempt_bound = -1, .delay_bound = -1,
		.keep_going = true, .no_por = no_por,
	};
	struct nvr_sched_report rep;

	p->name = name;
	if (nvr_sched_explore(p, &cfg, &rep))
		return;
	printf("sched_dfs_space prog=%s por=%d schedules=%llu pruned=%llu complete=%d "
	       "failures=%llu\n",
	       name, !no_por, (unsigned long long)rep.schedules, (unsigned long long)rep.pruned,
	       rep.complete, (unsigned long long)rep.failures);
	nvr_sched_report_release(&rep);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void detect(const struct nvr_sched_prog *p, const char *strategy,
		   enum nvr_sched_strategy st)
{
	struct nvr_sched_config cfg = { .strategy = st, .pct_depth = 3, .max_schedules = 1000 };
	double ms[20], runs[20], bound = 0;
	int found = 0;

	for (int s = 0; s < 20; s++) {
		struct nvr_sched_report rep;
		double t0 = now_s();

		cfg.seed = (uint64_t)s;
		if (nvr_sched_explore(p, &cfg, &rep))
			return;
		ms[s] = (now_s() - t0) * 1e3;
		runs[s] = (double)(rep.failures ? rep.first_fail : rep.schedules);
		found += rep.failures > 0;
		bound = rep.pct_bound;
		nvr_sched_report_release(&rep);
	}
	qsort(ms, 20, sizeof(ms[0]), cmp_double);
	qsort(runs, 20, sizeof(runs[0]), cmp_double);
	printf("sched_detect prog=%s strategy=%s found=%d/20 median_runs=%.0f max_runs=%.0f "
	       "median_ms=%.2f max_ms=%.2f",
	       p->name, strategy, found, (runs[9] + runs[10]) / 2, runs[19], (ms[9] + ms[10]) / 2, ms[19]);
	if (st == NVR_SCHED_PCT)
		printf(" pct_bound=%.3g", bound);
	putchar('\n');
}

static void sleeper(void *ctx, int i)
{
	(void)ctx;
	nvr_vsleep_ns(i ? 21000000000ull : 10000000000ull);
}

int main(void)
{
	static const struct {
		const char *name;
		int nr, fence;
		void (*actor)(void *, int);
		int (*check)(void *, const struct nvr_sched_run *);
	} lits[] = {
		{ "SB", 2, 0, sb_actor, sb_check },    { "SB+mfences", 2, 1, sb_actor, sb_check },
		{ "R", 2, 0, r_actor, r_check },       { "MP", 2, 0, mp_actor, mp_check },
		{ "LB", 2, 0, lb_actor, lb_check },    { "IRIW", 4, 0, iriw_actor, iriw_check },
		{ "2+2W", 2, 0, w22_actor, w22_check }, { "S", 2, 0, s_actor, s_check },
	};
	struct nvr_sched_config cfg = { .max_schedules = 100 };
	struct mini004 m = { 0 };
	struct nvr_sched_prog p = mini004_prog(&m);
	struct lit c = { .forbidden = -1 };
	struct nvr_sched_run run;
	double t0;

	for (int s = 0; s < 3; s++) {
		static const char *const names[] = { "random", "pct", "dfs" };

		cfg.strategy = (enum nvr_sched_strategy)s;
		cfg.pct_depth = 3;
		cfg.preempt_bound = cfg.delay_bound = -1;
		cfg.max_schedules = s == 2 ? 0 : 100;
		rate(names[s], &p, cfg);
	}
	for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		struct nvr_sched_prog lp;

		c.fence = lits[i].fence;
		lp = lit_prog(lits[i].name, lits[i].nr, &c, lits[i].actor, lits[i].check);
		space(lits[i].name, &lp, false);
		space(lits[i].name, &lp, true);
	}
	m.fence = 1;
	space("mini004+fences", &p, false);
	space("mini004+fences", &p, true);
	m.fence = 0;
	space("mini004", &p, false);
	p.name = "mini004";
	detect(&p, "random", NVR_SCHED_RANDOM);
	detect(&p, "pct", NVR_SCHED_PCT);
	{
		struct mini000 c0 = { 0 };
		struct mini002 c2 = { 0 };
		struct nvr_sched_prog p0 = mini000_prog(&c0), p2 = mini002_prog(&c2);
		static const char *const pol[] = { "mini000/none", "mini000/trylock",
						   "mini000/mutex", "mini000/cas" };

		for (int k = 0; k < 4; k++) {
			c0.policy = k;
			p0.name = pol[k];
			if (k < 2) {
				detect(&p0, "random", NVR_SCHED_RANDOM);
				detect(&p0, "pct", NVR_SCHED_PCT);
			} else {
				space(pol[k], &p0, false);
			}
		}
		{
			struct mini001 c1 = { 0 };
			struct nvr_sched_prog p1 = mini001_prog(&c1);

			p1.name = "mini001/async";
			detect(&p1, "random", NVR_SCHED_RANDOM);
		}
		p2.name = "mini002/unmasked";
		detect(&p2, "random", NVR_SCHED_RANDOM);
		detect(&p2, "pct", NVR_SCHED_PCT);
		c2.policy = 1;
		space("mini002/mask", &p2, false);
		space("mini002/mask", &p2, true);
	}

	p.actor = sleeper;
	p.check = NULL;
	cfg.strategy = NVR_SCHED_RANDOM;
	t0 = now_s();
	if (!nvr_sched_run_one(&p, &cfg, NULL, 0, &run)) {
		printf("sched_virtual_time virtual_s=%.0f wall_ms=%.3f\n", (double)run.now_ns * 1e-9,
		       (now_s() - t0) * 1e3);
		nvr_sched_run_release(&run);
	}
	return 0;
}
