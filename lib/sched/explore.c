// SPDX-License-Identifier: MIT
/*
 * Exploration on top of single runs: the run loop of each strategy, the
 * shrinking of a failing schedule, schedule files and the timeline.
 */
#include <errno.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"

#define DEFAULT_RUNS 1000u

double nvr_sched_pct_bound(unsigned int n, uint64_t k, unsigned int d)
{
	double p = n ? 1.0 / n : 0.0;

	for (unsigned int i = 1; i < d; i++)
		p /= (double)(k ? k : 1);
	return p;
}

void nvr_sched_id(char *id, size_t len, const struct nvr_sched_config *c, uint64_t idx)
{
	switch (c->strategy) {
	case NVR_SCHED_RANDOM:
		snprintf(id, len, "random:seed=%" PRIu64 ":run=%" PRIu64, c->seed, idx);
		break;
	case NVR_SCHED_PCT:
		snprintf(id, len, "pct:d=%d:k=%" PRIu64 ":seed=%" PRIu64 ":run=%" PRIu64,
			 c->pct_depth, c->pct_steps, c->seed, idx);
		break;
	case NVR_SCHED_DFS:
		snprintf(id, len, "dfs:p=%d:d=%d%s:run=%" PRIu64, c->preempt_bound, c->delay_bound,
			 c->no_por ? ":no-por" : "", idx);
		break;
	case NVR_SCHED_REPLAY:
		snprintf(id, len, "replay");
		break;
	}
}

static void set_id(struct nvr_sched_run *r, const struct nvr_sched_config *c, uint64_t idx)
{
	nvr_sched_id(r->sched.id, sizeof(r->sched.id), c, idx);
}

/* PCT's k: the length of the default run, unless the configuration gives it. */
static int pct_config(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		      struct nvr_sched_config *out, unsigned int *sources)
{
	struct nvr_schedule none = { 0 };
	struct nvr_sched_run r;
	int ret;

	*out = *cfg;
	ret = nvr_sched_run_with(prog, cfg, NVR_SCHED_REPLAY, &none, false, NULL, 0, &r);
	if (ret)
		return ret;
	if (!out->pct_steps)
		out->pct_steps = r.steps ? r.steps : 1;
	*sources = (unsigned int)r.nr_actors * (cfg->sc ? 1u : 2u);
	nvr_sched_run_release(&r);
	return 0;
}

int nvr_sched_run_one(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		      const struct nvr_schedule *replay, uint64_t index, struct nvr_sched_run *out)
{
	struct nvr_sched_config c = *cfg;
	struct nvr_dfs *dfs = NULL;
	unsigned int n;
	int ret;

	if (cfg->strategy == NVR_SCHED_PCT) {
		ret = pct_config(prog, cfg, &c, &n);
		if (ret)
			return ret;
	}
	if (cfg->strategy == NVR_SCHED_DFS) {
		dfs = nvr_dfs_new();
		if (!dfs)
			return -ENOMEM;
	}
	ret = nvr_sched_run_with(prog, &c, c.strategy, replay, false, dfs, index, out);
	nvr_dfs_free(dfs);
	if (!ret)
		set_id(out, &c, index);
	return ret;
}

static bool fails(const struct nvr_sched_prog *prog, const struct nvr_sched_run *r)
{
	if (r->status == NVR_SCHED_PRUNED || r->status == NVR_SCHED_DIVERGED)
		return false;
	if (prog->check)
		return prog->check(prog->ctx, r) != 0;
	return r->status == NVR_SCHED_DEADLOCK;
}

/* A signal asked to stop (cfg->stop): no new schedule starts. */
static bool stopped(const struct nvr_sched_config *cfg)
{
	return cfg->stop && atomic_load(cfg->stop);
}

int nvr_sched_explore(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		      struct nvr_sched_report *rep)
{
	struct nvr_sched_config c = *cfg;
	struct nvr_dfs *dfs = NULL;
	uint64_t max = cfg->max_schedules;
	unsigned int sources;
	int ret = 0;

	memset(rep, 0, sizeof(*rep));
	if (cfg->strategy == NVR_SCHED_REPLAY)
		return -EINVAL;
	if (cfg->strategy == NVR_SCHED_PCT) {
		ret = pct_config(prog, cfg, &c, &sources);
		if (ret)
			return ret;
		rep->pct_n = sources;
		rep->pct_k = c.pct_steps;
		rep->pct_d = (unsigned int)(c.pct_depth < 1 ? 1 : c.pct_depth);
		rep->pct_bound = nvr_sched_pct_bound(sources, c.pct_steps, rep->pct_d);
	}
	if (cfg->strategy == NVR_SCHED_DFS) {
		dfs = nvr_dfs_new();
		if (!dfs)
			return -ENOMEM;
	} else if (!max) {
		max = DEFAULT_RUNS;
	}
	if (c.shard_count > 1 && c.shard_index >= c.shard_count)
		ret = -EINVAL;
	for (uint64_t idx = 0; !ret && (!max || rep->schedules < max); idx++) {
		uint64_t run_idx = idx;
		struct nvr_sched_run r;
		bool stop = false;

		if (stopped(&c)) {
			rep->interrupted = true;
			break;
		}
		if (!dfs && c.shard_count > 1)
			run_idx = idx * c.shard_count + c.shard_index;
		ret = nvr_sched_run_with(prog, &c, c.strategy, NULL, false, dfs, run_idx, &r);
		if (ret)
			break;
		if (dfs && nvr_dfs_nondet(dfs)) {
			nvr_sched_run_release(&r);
			ret = -EPROTO;
			break;
		}
		if (r.status == NVR_SCHED_PRUNED || (dfs && !nvr_dfs_owned(dfs, &c))) {
			rep->pruned++;	/* or another shard's */
		} else {
			if (!rep->schedules++)
				rep->first_hash = r.hash;
			rep->deadlocks += r.status == NVR_SCHED_DEADLOCK;
			rep->budget_hits += r.status == NVR_SCHED_BUDGET;
			if (fails(prog, &r)) {
				if (!rep->failures++) {
					set_id(&r, &c, run_idx);
					rep->first_fail = rep->schedules;
					rep->fail = r;
					memset(&r, 0, sizeof(r));
				}
				stop = !cfg->keep_going;
			}
		}
		nvr_sched_run_release(&r);
		if (dfs && !nvr_dfs_backtrack(dfs)) {
			rep->complete = true;
			break;
		}
		if (stop)
			break;
	}
	nvr_dfs_free(dfs);
	return ret;
}

void nvr_sched_report_release(struct nvr_sched_report *rep)
{
	nvr_sched_run_release(&rep->fail);
}

static int replay(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		  const uint8_t *tok, size_t n, bool lenient, struct nvr_sched_run *out)
{
	struct nvr_schedule s = { .n = n, .tok = (uint8_t *)tok };

	return nvr_sched_run_with(prog, cfg, NVR_SCHED_REPLAY, &s, lenient, NULL, 0, out);
}

int nvr_sched_shrink(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		     struct nvr_sched_run *run)
{
	struct nvr_sched_run cur, t;
	bool changed = true;
	uint64_t runs = 0;
	uint8_t *tok;
	size_t last;
	int ret;

	ret = replay(prog, cfg, run->sched.tok, run->sched.n, false, &cur);
	if (ret)
		return ret;
	if (!fails(prog, &cur)) {
		nvr_sched_run_release(&cur);
		return -ENOENT;
	}
	/* The shortest failing prefix, the default scheduler after it (a binary
	 * search: failing need not be monotonic in the prefix, so it finds a
	 * short one, not always the shortest). */
	{
		size_t lo = 0, hi = cur.sched.n;

		while (lo < hi && !stopped(cfg)) {
			size_t mid = lo + (hi - lo) / 2;

			ret = replay(prog, cfg, cur.sched.tok, mid, true, &t);
			if (ret) {
				nvr_sched_run_release(&cur);
				return ret;
			}
			if (fails(prog, &t)) {
				hi = mid;
				nvr_sched_run_release(&cur);
				cur = t;
			} else {
				lo = mid + 1;
				nvr_sched_run_release(&t);
			}
		}
	}
	while (changed) {
		changed = false;
		for (size_t i = 0; i < cur.sched.n && !changed && !stopped(cfg); i++) {
			if (cur.sched.tok[i] == cur.dflt[i])
				continue;
			if (cfg->shrink_runs && ++runs > cfg->shrink_runs)
				break;
			tok = malloc(cur.sched.n);
			if (!tok) {
				nvr_sched_run_release(&cur);
				return -ENOMEM;
			}
			memcpy(tok, cur.sched.tok, cur.sched.n);
			tok[i] = cur.dflt[i];
			ret = replay(prog, cfg, tok, cur.sched.n, true, &t);
			free(tok);
			if (ret) {
				nvr_sched_run_release(&cur);
				return ret;
			}
			if (fails(prog, &t)) {
				nvr_sched_run_release(&cur);
				cur = t;
				changed = true;
			} else {
				nvr_sched_run_release(&t);
			}
		}
	}
	/* After the last deviation the default scheduler gives the same steps. */
	last = 0;
	for (size_t i = 0; i < cur.sched.n; i++)
		if (cur.sched.tok[i] != cur.dflt[i])
			last = i + 1;
	ret = replay(prog, cfg, cur.sched.tok, last, false, &t);
	nvr_sched_run_release(&cur);
	if (ret)
		return ret;
	if (!fails(prog, &t)) {
		nvr_sched_run_release(&t);
		return -EPROTO;
	}
	t.sched.n = last;
	snprintf(t.sched.id, sizeof(t.sched.id), "shrunk:%.80s", run->sched.id);
	nvr_sched_run_release(run);
	*run = t;
	return 0;
}
