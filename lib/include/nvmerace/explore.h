/* SPDX-License-Identifier: MIT */
/*
 * Model mode: a scenario row run under the deterministic scheduler
 * (lib/sched), the schedule as an input. Only the model build (make model,
 * build/model/nvmerace) can do it: there every lock, wait, sleep, clock read
 * and shared access of the host and the simulated device is a scheduling
 * point. The normal build answers -ENOTSUP.
 */
#ifndef NVMERACE_EXPLORE_H
#define NVMERACE_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <nvmerace/run.h>

enum nvr_explore_strategy {
	NVR_EXPLORE_RANDOM,
	NVR_EXPLORE_PCT,
	NVR_EXPLORE_DFS,
	NVR_EXPLORE_REPLAY,	/* one run of a schedule file */
};

struct nvr_explore_opts {
	enum nvr_explore_strategy strategy;
	uint64_t seed;		/* random, pct */
	int bound;		/* dfs: preemptions and delays, each; pct: depth; -1: default */
	uint64_t budget;	/* schedules at most; 0: the strategy's default */
	uint64_t step_budget;	/* steps per schedule; 0: default */
	const char *schedule_in;	/* NVR_EXPLORE_REPLAY: the schedule file */
	const char *schedule_out;	/* write the deciding schedule here (NULL: none) */
	FILE *timeline;		/* the deciding schedule, shrunk, as a timeline (NULL: none) */
	bool timeline_shared;	/* only its steps that matter: shared objects, wake-ups,
				 * preemptions, delayed stores (lib/sched/sched.h) */
	bool shrink;		/* shrink a found schedule before printing it */
	/*
	 * Shard shard_index of shard_count (0 or 1: the whole exploration). dfs:
	 * the subtrees of the bounded space this shard owns; random and pct: the
	 * runs whose index, below budget, is shard_index modulo shard_count. The
	 * shards of one exploration are disjoint and together all of it.
	 */
	unsigned int shard_index, shard_count;
};

struct nvr_explore_result {
	enum nvr_explore_strategy strategy;
	uint64_t seed;
	int bound;
	uint64_t schedules;	/* schedules run to their end */
	uint64_t incomplete;	/* of them: ended by deadlock or the step budget */
	bool complete;		/* dfs: the bounded space was exhausted */
	bool expects_bug;	/* the row expects an anomaly: a schedule must catch it */
	bool found;		/* a schedule caught the bug, or broke a clean row */
	bool interrupted;	/* a signal ended the exploration before its budget */
	uint64_t trace_hash;	/* of the deciding schedule (the last one when none decided) */
	char id[96];		/* its id: strategy, seed, bound, run */
	uint64_t steps, vtime_ns;
	unsigned int preemptions, delays;
	double pct_bound;	/* pct: the per-run probability bound */
	unsigned int pct_n, pct_d;	/* pct: the bound 1/(n*k^(d-1))'s n and d */
	uint64_t pct_k;		/* pct: its k, the steps of the default run */
	unsigned int shard_index, shard_count;	/* as in the options; 0/0: no shards */
};

/**
 * nvr_explore_strategy_name() - a strategy's name
 * @s: the strategy
 *
 * Return: "random", "pct", "dfs", "replay"; "?" out of range.
 */
const char *nvr_explore_strategy_name(enum nvr_explore_strategy s);

/**
 * nvr_explore_row() - run row @row of @scn under the scheduler
 * @scn: the scenario; @row: the row index
 * @opts: as for nvr_run_row(); no real device
 * @eo: the strategy and its bounds
 * @res: the row's result in the deciding schedule; its verdict is the
 *	explorer's: a row that expects a bug passes when a schedule catches it,
 *	a clean row when no explored schedule breaks an expectation
 * @er: what was explored
 *
 * Return: 0, or -errno (-ENOTSUP outside the model build, -EINVAL, -ENOMEM);
 * the verdict is in @res.
 */
int nvr_explore_row(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		    const struct nvr_explore_opts *eo, struct nvr_result *res,
		    struct nvr_explore_result *er);

#endif
