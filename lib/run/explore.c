// SPDX-License-Identifier: MIT
/*
 * Model mode: a row as a model program of lib/sched. The program has one
 * actor, the runner, which runs the whole row (nvr_run_row()): it sets the
 * simulated device up, whose worker, and the row's actors, it spawns through
 * the shim, so that they are actors too. Every run starts afresh (set-up
 * included), so reset() has nothing to undo; check() says whether the run
 * decided the question the row asks: caught the bug it expects, or broke an
 * expectation of a clean row.
 *
 * The steps of the system are not independent the way the scheduler's
 * partial-order reduction assumes (between two shim calls an actor's own
 * code touches the ledger and other shared state directly), so dfs runs
 * without it (.no_por): bounded, not reduced.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/explore.h>
#include <nvmerace/ledger.h>
#include <nvmerace/sim.h>
#include <nvmerace/util.h>

#include "run/explore_int.h"
#include "sched/sched.h"
#include "sched/shim.h"

#define MODEL_STEP_BUDGET 20000000ull
/* Each step costs 100 ns of virtual time (an uncached access, a cache miss):
 * a poller that spins waiting for the device's timer lets the clock reach it. */
#define MODEL_STEP_NS 100
#define MODEL_RANDOM_RUNS 20
#define MODEL_SHRINK_RUNS 16	/* replays of single deviations, after the prefix search */
#define MODEL_DFS_RUNS 2000

const char *nvr_explore_strategy_name(enum nvr_explore_strategy s)
{
	static const char *const n[] = { "random", "pct", "dfs", "replay" };

	return (unsigned int)s < NVR_ARRAY_SIZE(n) ? n[s] : "?";
}

#ifdef NVR_SCHED_MODEL

struct model_ctx {
	const struct nvr_scenario *scn;
	uint32_t row;
	const struct nvr_run_opts *opts;
	bool expects_bug;
	struct nvr_result res;	/* the last run's */
	int ret;
	uint64_t last_hash, last_steps, last_now;	/* the last run's */
	int hung;		/* the last run's status when it did not end (deadlock, budget) */
};

static void model_actor(void *arg, int idx)
{
	struct model_ctx *m = arg;

	(void)idx;
	/* The runner lifts the hold once the row's actors start. */
	nvr_sched_hold(true);
	m->ret = nvr_run_row(m->scn, m->row, m->opts, &m->res);
}

static void model_reset(void *arg)
{
	struct model_ctx *m = arg;

	memset(&m->res, 0, sizeof(m->res));
	m->ret = -ECANCELED;
}

/*
 * Did this run decide? A run the scheduler cut short decides nothing. A run
 * that did not end, every actor blocked with no timer left or still going
 * at the step budget, is a hang: it breaks a clean row (nothing may hang),
 * and catches no bug.
 */
static int model_check(void *arg, const struct nvr_sched_run *run)
{
	struct model_ctx *m = arg;

	m->last_hash = run->hash;
	m->last_steps = run->steps;
	m->last_now = run->now_ns;
	m->hung = run->status == NVR_SCHED_DEADLOCK || run->status == NVR_SCHED_BUDGET ?
		  (int)run->status : 0;
	if (m->hung && !m->expects_bug)
		return 1;
	if (run->status != NVR_SCHED_DONE || m->ret < 0 || m->res.verdict == NVR_SKIP)
		return 0;
	if (m->expects_bug)
		return m->res.verdict == NVR_PASS;
	return m->res.verdict != NVR_PASS;
}

static void fill(struct nvr_explore_result *er, const struct nvr_sched_run *r)
{
	er->trace_hash = r->hash;
	er->steps = r->steps;
	er->vtime_ns = r->now_ns;
	er->preemptions = r->preemptions;
	er->delays = r->delays;
	snprintf(er->id, sizeof(er->id), "%s", r->sched.id);
}

static int read_schedule(const char *path, struct nvr_schedule *s)
{
	FILE *f = fopen(path, "r");
	int ret;

	if (!f)
		return -errno;
	ret = nvr_schedule_read(f, s);
	fclose(f);
	return ret;
}

static int write_outputs(const struct nvr_explore_opts *eo, const struct nvr_sched_run *r)
{
	if (eo->schedule_out) {
		FILE *f = fopen(eo->schedule_out, "w");
		int ret;

		if (!f)
			return -errno;
		ret = nvr_schedule_write(&r->sched, f);
		if (fclose(f) && !ret)
			ret = -errno;
		if (ret)
			return ret;
	}
	if (eo->timeline)
		return nvr_sched_timeline_ex(r, eo->timeline, eo->timeline_shared);
	return 0;
}

/* A single run decides (a replay, run --sched model): its result, its files. */
static int one_run(struct model_ctx *m, struct nvr_sched_run *run,
		   const struct nvr_explore_opts *eo, struct nvr_explore_result *er)
{
	int ret;

	er->schedules = 1;
	er->incomplete = run->status != NVR_SCHED_DONE;
	er->found = model_check(m, run);
	fill(er, run);
	ret = write_outputs(eo, run);
	nvr_sched_run_release(run);
	return ret;
}

/* Run @s once more (a replay): what the caller reports is that run's result. */
static int replay_run(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		      const struct nvr_schedule *s, struct nvr_sched_run *out)
{
	struct nvr_sched_config c = *cfg;
	char id[sizeof(s->id)];
	int ret;

	memcpy(id, s->id, sizeof(id));
	c.strategy = NVR_SCHED_REPLAY;
	ret = nvr_sched_run_one(prog, &c, s, 0, out);
	if (!ret)
		memcpy(out->sched.id, id, sizeof(id));
	return ret;
}

/* The scenario as model mode runs it: its sched: key applied. */
static struct nvr_scenario *model_scenario(const struct nvr_scenario *scn)
{
	struct nvr_scenario *s = malloc(sizeof(*s));

	if (!s)
		return NULL;
	*s = *scn;
	/* torn_sample widens a window the OS scheduler hits by chance; here the
	 * scheduler places the device's sample between the host's writes itself. */
	s->sim.fault_rate[NVR_FAULT_TORN_SAMPLE] = 0;
	for (uint32_t r = 0; r < s->nr_rows; r++) {
		s->rows[r].fault_rate[NVR_FAULT_TORN_SAMPLE] = 0;
		s->rows[r].set_fault[NVR_FAULT_TORN_SAMPLE] = false;
	}
	if (s->model.stall_ns)
		s->stall_ns = s->model.stall_ns;
	if (s->model.sweep_ns)
		s->sweep_ns = s->model.sweep_ns;
	if (s->model.on_anomaly >= 0)
		s->stop_on_anomaly = s->model.on_anomaly;
	s->handlers_first = s->model.handlers_first;
	for (uint32_t a = 0; s->model.count && a < s->nr_actors; a++)
		for (uint32_t i = 0; i < s->actors[a].nr_steps; i++)
			if (s->actors[a].steps[i].kind == NVR_STEP_SUBMIT &&
			    (!s->actors[a].steps[i].count ||
			     s->actors[a].steps[i].count > s->model.count))
				s->actors[a].steps[i].count = s->model.count;
	return s;
}

static int model_explore(const struct nvr_scenario *scn, uint32_t row,
			 const struct nvr_run_opts *opts, const struct nvr_explore_opts *eo,
			 struct nvr_result *res, struct nvr_explore_result *er);

/* The index of the last of @n runs of a random or pct (shard's) exploration. */
static uint64_t last_run(const struct nvr_sched_config *cfg, uint64_t n)
{
	if (!n)
		return 0;
	if (cfg->strategy == NVR_SCHED_DFS || cfg->shard_count < 2)
		return n - 1;
	return (n - 1) * cfg->shard_count + cfg->shard_index;
}

int nvr_explore_row(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		    const struct nvr_explore_opts *eo, struct nvr_result *res,
		    struct nvr_explore_result *er)
{
	struct nvr_scenario *s = model_scenario(scn);
	int ret;

	if (!s)
		return -ENOMEM;
	ret = model_explore(s, row, opts, eo, res, er);
	free(s);
	return ret;
}

static int model_explore(const struct nvr_scenario *scn, uint32_t row,
			 const struct nvr_run_opts *opts, const struct nvr_explore_opts *eo,
			 struct nvr_result *res, struct nvr_explore_result *er)
{
	/* A signal stops the exploration between schedules, never a schedule
	 * half-way: a run the signal cut would not be the schedule's own. */
	struct nvr_run_opts o = *opts;
	struct model_ctx m = { .scn = scn, .row = row, .opts = &o };
	struct nvr_sched_prog prog = { .name = scn->name, .nr_actors = 1,
				       .actor_name = { "runner" }, .actor = model_actor,
				       .reset = model_reset, .check = model_check, .ctx = &m };
	struct nvr_sched_config cfg = { .seed = eo->seed, .preempt_bound = -1,
					.delay_bound = -1, .pct_depth = 3, .no_por = true,
					.step_ns = MODEL_STEP_NS,
					.shrink_runs = MODEL_SHRINK_RUNS,
					.stop = opts->stop };
	struct nvr_sched_report rep;
	struct nvr_sched_run run;
	int ret;

	memset(er, 0, sizeof(*er));
	memset(res, 0, sizeof(*res));
	if (opts->transport)
		return -EINVAL;	/* a real device is never the model's */
	o.stop = NULL;
	m.expects_bug = nvr_row_expects_catch(scn->nr_rows ?
					       &scn->rows[row < scn->nr_rows ? row : 0] : NULL);
	er->strategy = eo->strategy;
	er->seed = eo->seed;
	er->bound = eo->bound;
	er->delay_bound = -1;
	er->expects_bug = m.expects_bug;
	cfg.step_budget = eo->step_budget ? eo->step_budget : MODEL_STEP_BUDGET;
	switch (eo->strategy) {
	case NVR_EXPLORE_RANDOM:
		cfg.strategy = NVR_SCHED_RANDOM;
		cfg.max_schedules = eo->budget ? eo->budget : MODEL_RANDOM_RUNS;
		break;
	case NVR_EXPLORE_PCT:
		cfg.strategy = NVR_SCHED_PCT;
		cfg.pct_depth = eo->bound > 0 ? eo->bound : 3;
		cfg.max_schedules = eo->budget ? eo->budget : MODEL_RANDOM_RUNS;
		break;
	case NVR_EXPLORE_DFS:
		cfg.strategy = NVR_SCHED_DFS;
		cfg.preempt_bound = eo->bound >= 0 ? eo->bound : 1;
		cfg.delay_bound = eo->delay_bound >= 0 ? eo->delay_bound : cfg.preempt_bound;
		er->bound = cfg.preempt_bound;
		er->delay_bound = cfg.delay_bound;
		cfg.max_schedules = eo->budget ? eo->budget : MODEL_DFS_RUNS;
		break;
	case NVR_EXPLORE_REPLAY: {
		struct nvr_schedule s = { 0 };

		if (!eo->schedule_in)
			return -EINVAL;
		ret = read_schedule(eo->schedule_in, &s);
		if (ret)
			return ret;
		ret = replay_run(&prog, &cfg, &s, &run);
		nvr_schedule_release(&s);
		if (ret)
			return ret;
		ret = one_run(&m, &run, eo, er);
		goto verdict;
	}
	default:
		return -EINVAL;
	}
	if (eo->shard_count > 1) {
		if (eo->shard_index >= eo->shard_count)
			return -EINVAL;
		cfg.shard_index = eo->shard_index;
		cfg.shard_count = eo->shard_count;
		er->shard_index = eo->shard_index;
		er->shard_count = eo->shard_count;
		/* random, pct: the runs below the budget whose index is this shard's. */
		if (eo->strategy != NVR_EXPLORE_DFS) {
			if (cfg.max_schedules <= eo->shard_index)
				return -EINVAL;	/* a shard with no run of its own */
			cfg.max_schedules = (cfg.max_schedules - eo->shard_index +
					     eo->shard_count - 1) / eo->shard_count;
		}
	}

	if (cfg.max_schedules == 1 && eo->strategy != NVR_EXPLORE_DFS && cfg.shard_count < 2) {
		/* One schedule (run --sched model): it is the deciding one either way. */
		ret = nvr_sched_run_one(&prog, &cfg, NULL, 0, &run);
		if (ret)
			return ret;
		ret = one_run(&m, &run, eo, er);
		goto verdict;
	}
	ret = nvr_sched_explore(&prog, &cfg, &rep);
	if (ret)
		return ret;
	er->schedules = rep.schedules;
	er->incomplete = rep.deadlocks + rep.budget_hits;
	er->complete = rep.complete;
	er->pct_bound = rep.pct_bound;
	er->pct_n = rep.pct_n;
	er->pct_k = rep.pct_k;
	er->pct_d = rep.pct_d;
	er->found = rep.failures > 0;
	er->interrupted = rep.interrupted;
	if (!er->found) {
		/* m.res is the last run's; its hash is what the report shows. */
		er->trace_hash = m.last_hash;
		er->steps = m.last_steps;
		er->vtime_ns = m.last_now;
		cfg.pct_steps = rep.pct_k;
		nvr_sched_id(er->id, sizeof(er->id), &cfg, last_run(&cfg, rep.schedules));
		nvr_sched_report_release(&rep);
		goto verdict;
	}
	if (eo->shrink) {
		char id[sizeof(rep.fail.sched.id)];

		memcpy(id, rep.fail.sched.id, sizeof(id));
		if (!nvr_sched_shrink(&prog, &cfg, &rep.fail))
			memcpy(rep.fail.sched.id, id, sizeof(id));
	}
	if (!eo->shrink) {
		/* The deciding run was the last one (the exploration stops at it):
		 * m.res is its result, rep.fail its trace; no need to run it again. */
		fill(er, &rep.fail);
		er->found = model_check(&m, &rep.fail);
		ret = write_outputs(eo, &rep.fail);
		nvr_sched_report_release(&rep);
		goto verdict;
	}
	/* Replay the shrunk schedule: the result and the trace are that run's. */
	ret = replay_run(&prog, &cfg, &rep.fail.sched, &run);
	nvr_sched_report_release(&rep);
	if (ret)
		return ret;
	fill(er, &run);
	er->found = model_check(&m, &run);
	ret = write_outputs(eo, &run);
	nvr_sched_run_release(&run);
verdict:
	*res = m.res;
	if (m.ret < 0 && !res->reason[0])
		snprintf(res->reason, sizeof(res->reason), "the schedule stopped the row (%s)",
			 strerror(-m.ret));
	if (er->interrupted && !er->found) {
		/* Not judged: the schedules not run might have decided. */
		res->verdict = m.expects_bug ? NVR_FAIL : NVR_PASS;
		res->interrupted = true;
		snprintf(res->reason, sizeof(res->reason),
			 "interrupted after %" PRIu64 " schedules, none of which %s", er->schedules,
			 m.expects_bug ? "caught the bug" : "broke an expectation");
	} else if (m.expects_bug && !er->found && er->shard_count > 1) {
		/* Another shard may catch it: the merged report decides. */
		res->verdict = NVR_PASS;
		res->not_reproduced = true;
		snprintf(res->reason, sizeof(res->reason),
			 "not caught by the %" PRIu64 " schedules of shard %u/%u", er->schedules,
			 er->shard_index + 1, er->shard_count);
	} else if (m.expects_bug) {
		res->verdict = er->found ? NVR_PASS : NVR_FAIL;
		if (!er->found)
			snprintf(res->reason, sizeof(res->reason),
				 "no schedule of %" PRIu64 " caught the bug", er->schedules);
	} else if (!er->found) {
		res->verdict = NVR_PASS;
		res->reason[0] = '\0';
	} else {
		res->verdict = NVR_FAIL;
		if (m.hung == NVR_SCHED_DEADLOCK)
			snprintf(res->reason, sizeof(res->reason),
				 "the schedule hung the row: every actor blocked, no timer left, "
				 "at %.3f ms virtual", (double)m.last_now / 1e6);
		else if (m.hung)
			snprintf(res->reason, sizeof(res->reason),
				 "the schedule hung the row: still running after %" PRIu64
				 " steps (%.3f ms virtual): a livelock or a starvation",
				 m.last_steps, (double)m.last_now / 1e6);
	}
	return ret;
}

int nvr_explore_replay(const struct nvr_scenario *scn, uint32_t row,
		       const struct nvr_run_opts *opts, const struct nvr_schedule *s,
		       void (*on_step)(void *arg, const struct nvr_sched_peek *pk), void *arg,
		       struct nvr_sched_run *run, struct nvr_result *res)
{
	struct nvr_scenario *ms = model_scenario(scn);
	struct model_ctx m = { .scn = ms, .row = row, .opts = opts };
	struct nvr_sched_prog prog = { .name = scn->name, .nr_actors = 1,
				       .actor_name = { "runner" }, .actor = model_actor,
				       .reset = model_reset, .check = model_check, .ctx = &m };
	struct nvr_sched_config cfg = { .preempt_bound = -1, .delay_bound = -1,
					.pct_depth = 3, .no_por = true,
					.step_ns = MODEL_STEP_NS,
					.step_budget = MODEL_STEP_BUDGET,
					.on_step = on_step, .on_step_arg = arg };
	int ret;

	memset(res, 0, sizeof(*res));
	if (!ms)
		return -ENOMEM;
	if (opts->transport) {
		free(ms);
		return -EINVAL;
	}
	m.expects_bug = nvr_row_expects_catch(ms->nr_rows ?
					       &ms->rows[row < ms->nr_rows ? row : 0] : NULL);
	ret = replay_run(&prog, &cfg, s, run);
	if (!ret) {
		/* The run's own names outlive the program: prog was on this stack. */
		model_check(&m, run);
		run->prog = NULL;
		*res = m.res;
		if (m.ret < 0 && !res->reason[0])
			snprintf(res->reason, sizeof(res->reason),
				 "the schedule stopped the row (%s)", strerror(-m.ret));
	}
	free(ms);
	return ret;
}

#else /* the normal build: the system's threads are the OS's */

int nvr_explore_row(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		    const struct nvr_explore_opts *eo, struct nvr_result *res,
		    struct nvr_explore_result *er)
{
	(void)scn;
	(void)row;
	(void)opts;
	(void)eo;
	memset(res, 0, sizeof(*res));
	memset(er, 0, sizeof(*er));
	return -ENOTSUP;
}

#endif
