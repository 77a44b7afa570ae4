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

#include <nvmerace/ledger.h>
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
	int bound;		/* dfs: preemptions (and delays); pct: depth; -1: default */
	int delay_bound;	/* dfs: store delays; -1: as many as bound */
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
	int bound;		/* dfs: the preemption bound; pct: the depth asked (-1: default) */
	int delay_bound;	/* dfs: the store delay bound; others -1 */
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
	uint64_t wall_ns;	/* the caller's own measure of the exploration's wall time; 0: none */
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

/*
 * Stepping through a schedule (nvmerace monitor --schedule). A position is a
 * number of steps taken, 0 to the run's total: the state there is what the
 * system holds after those steps, each actor stopped at its next operation.
 * A state is found by replaying the schedule from the start to it (the
 * schedule is exact, so the replay is the same run): going back costs one
 * replay, like going forward. Model build only (-ENOTSUP otherwise).
 */
struct nvr_stepper;

#define NVR_STEP_ACTORS 16
#define NVR_STEP_SB 32

struct nvr_step_state {
	uint64_t pos;		/* steps taken */
	uint64_t vtime_ns;	/* the virtual clock */
	bool ledger;		/* the row's ledger exists (after set-up, before teardown) */
	bool ended;		/* no ledger any more: the row has ended */
	bool busy;		/* an actor is stopped holding the ledger's lock: no st */
	struct nvr_stats st;	/* queues, vectors, anomaly counts (ledger && !busy) */
	bool have_first;
	struct nvr_anomaly first;	/* the first anomaly recorded, once there is one */
	int nr_actors;
	char actor[NVR_STEP_ACTORS][24];
	unsigned int sb_n[NVR_STEP_ACTORS];
	char sb[NVR_STEP_ACTORS][NVR_STEP_SB][40];	/* buffered stores, oldest first:
							 * "sq1.db=5" */
};

/**
 * nvr_stepper_open() - replay a row along a schedule file once
 * @scn: the scenario; @row: the row index
 * @opts: as for nvr_run_row() (the seed); no real device
 * @path: the schedule file
 * @out: the stepper, to release with nvr_stepper_close()
 * @why: on -EINVAL, what is wrong with the file ("PATH:LINE: ..."), else ""
 * @len: room in @why
 *
 * Return: 0, or -errno (-ENOENT and the like: the file; -EINVAL its text;
 * -ENOTSUP outside the model build).
 */
int nvr_stepper_open(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		     const char *path, struct nvr_stepper **out, char *why, size_t len);

/**
 * nvr_stepper_close() - release a stepper
 * @st: the stepper, or NULL
 *
 * Return: nothing.
 */
void nvr_stepper_close(struct nvr_stepper *st);

/**
 * nvr_stepper_total() - the run's steps
 * @st: the stepper
 *
 * Return: the number of steps, which is the last position.
 */
uint64_t nvr_stepper_total(const struct nvr_stepper *st);

/**
 * nvr_stepper_first_anomaly() - where the first anomaly shows
 * @st: the stepper
 *
 * Return: the first position whose ledger holds an anomaly; UINT64_MAX: none.
 */
uint64_t nvr_stepper_first_anomaly(const struct nvr_stepper *st);

/**
 * nvr_stepper_next() - the next position
 * @st: the stepper
 * @pos: the position now
 * @matters: only a position whose last step matters (explore
 *	--timeline-shared: conflicts between actors, wake-ups, preemptions,
 *	delayed stores); false: any
 *
 * Return: the position, or @pos when there is none.
 */
uint64_t nvr_stepper_next(const struct nvr_stepper *st, uint64_t pos, bool matters);

/**
 * nvr_stepper_prev() - the previous position, as nvr_stepper_next() going back
 * @st: the stepper
 * @pos: the position now
 * @matters: only a position whose last step matters (or 0, the start)
 *
 * Return: the position, or @pos when there is none.
 */
uint64_t nvr_stepper_prev(const struct nvr_stepper *st, uint64_t pos, bool matters);

/**
 * nvr_stepper_timeline() - the timeline around a position
 * @st: the stepper
 * @f: where to write it
 * @pos: the position; its last step is marked '>'
 * @before: steps shown before it
 * @after: steps shown after it
 *
 * One column per actor, the actors' names first (lib/sched's timeline).
 *
 * Return: 0, or -EIO.
 */
int nvr_stepper_timeline(const struct nvr_stepper *st, FILE *f, uint64_t pos,
			 unsigned int before, unsigned int after);

/**
 * nvr_stepper_states() - the states at some positions, in one replay
 * @st: the stepper
 * @pos: the positions, any order
 * @n: how many
 * @out: @n states, filled
 *
 * Return: 0, or -errno (-EPROTO: the replay gave another trace).
 */
int nvr_stepper_states(struct nvr_stepper *st, const uint64_t *pos, size_t n,
		       struct nvr_step_state *out);

/**
 * nvr_stepper_result() - the row's result in the schedule
 * @st: the stepper
 * @hash: set to the run's trace hash, when not NULL
 *
 * Return: the result, as the runner judged the row.
 */
const struct nvr_result *nvr_stepper_result(const struct nvr_stepper *st, uint64_t *hash);

/**
 * nvr_stepper_id() - the schedule's id
 * @st: the stepper
 *
 * Return: its file's "id" line.
 */
const char *nvr_stepper_id(const struct nvr_stepper *st);

#endif
