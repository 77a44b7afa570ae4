// SPDX-License-Identifier: MIT
/*
 * Stepping through a schedule (nvmerace monitor --schedule): one replay
 * gives the trace, the total and the first anomaly; each state asked for is
 * taken by another replay, in the scheduler's on_step hook, where every
 * actor is stopped. Back is a replay to an earlier position: the schedule
 * is exact, so the run is the same one (the test compares the panes).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/explore.h>

#ifdef NVR_SCHED_MODEL

#include "detect/ledger.h"
#include "run/explore_int.h"
#include "sched/sched.h"

struct nvr_stepper {
	const struct nvr_scenario *scn;
	uint32_t row;
	struct nvr_run_opts opts;
	struct nvr_ledger *ledger;	/* the live run's, through opts.live_ledger */
	struct nvr_schedule sched;
	struct nvr_sched_run run;	/* the first replay: the trace, the names */
	struct nvr_result res;
	bool *step_matters;		/* [1..total]: the step matters */
	uint64_t first_anomaly;
	/* nvr_stepper_states() */
	const uint64_t *want;
	size_t nwant;
	struct nvr_step_state *out;
	bool seen;		/* this replay has had a ledger */
};

static void on_first(void *arg, const struct nvr_sched_peek *pk)
{
	struct nvr_stepper *st = arg;

	if (st->first_anomaly == UINT64_MAX && st->ledger && nvr_ledger_total(st->ledger))
		st->first_anomaly = pk->steps;
}

int nvr_stepper_open(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		     const char *path, struct nvr_stepper **out, char *why, size_t len)
{
	struct nvr_stepper *st;
	char msg[200];
	bool *keep;
	FILE *f;
	int ret;

	why[0] = '\0';
	*out = NULL;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	st = calloc(1, sizeof(*st));
	if (!st) {
		fclose(f);
		return -ENOMEM;
	}
	ret = nvr_schedule_parse(f, &st->sched, msg, sizeof(msg));
	fclose(f);
	if (ret) {
		if (ret == -EINVAL)
			snprintf(why, len, "%s:%s", path, msg + (strncmp(msg, "line ", 5) ? 0 : 5));
		free(st);
		return ret;
	}
	st->scn = scn;
	st->row = row;
	st->opts = *opts;
	st->opts.live_ledger = &st->ledger;
	st->opts.progress = NULL;
	st->first_anomaly = UINT64_MAX;
	ret = nvr_explore_replay(scn, row, &st->opts, &st->sched, on_first, st, &st->run,
				 &st->res);
	if (ret)
		goto fail;
	st->step_matters = calloc(st->run.steps + 2, sizeof(bool));
	keep = calloc(st->run.nev + 1, sizeof(bool));
	if (!st->step_matters || !keep || nvr_sched_matters(&st->run, keep)) {
		free(keep);
		ret = -ENOMEM;
		goto fail;
	}
	for (size_t k = 0; k < st->run.nev; k++)
		if (st->run.ev[k].kind != NVR_EV_TIME && st->run.ev[k].step < st->run.steps)
			st->step_matters[st->run.ev[k].step + 1] |= keep[k];
	free(keep);
	*out = st;
	return 0;
fail:
	nvr_stepper_close(st);
	return ret;
}

void nvr_stepper_close(struct nvr_stepper *st)
{
	if (!st)
		return;
	nvr_sched_run_release(&st->run);
	nvr_schedule_release(&st->sched);
	free(st->step_matters);
	free(st);
}

uint64_t nvr_stepper_total(const struct nvr_stepper *st)
{
	return st->run.steps;
}

uint64_t nvr_stepper_first_anomaly(const struct nvr_stepper *st)
{
	return st->first_anomaly;
}

uint64_t nvr_stepper_next(const struct nvr_stepper *st, uint64_t pos, bool matters)
{
	for (uint64_t p = pos + 1; p <= st->run.steps; p++)
		if (!matters || st->step_matters[p])
			return p;
	return pos;
}

uint64_t nvr_stepper_prev(const struct nvr_stepper *st, uint64_t pos, bool matters)
{
	for (uint64_t p = pos; p-- > 0;)
		if (!matters || !p || st->step_matters[p])
			return p;
	return pos;
}

int nvr_stepper_timeline(const struct nvr_stepper *st, FILE *f, uint64_t pos,
			 unsigned int before, unsigned int after)
{
	struct nvr_sched_window w = { .head = true, .mark = pos };

	w.from = pos > before ? pos - before : 1;
	w.to = pos + after;
	if (!w.to)
		w.to = 1;
	return nvr_sched_timeline_window(&st->run, f, &w);
}

static void take(struct nvr_stepper *st, const struct nvr_sched_peek *pk, struct nvr_step_state *s)
{
	memset(s, 0, sizeof(*s));
	s->pos = pk->steps;
	s->vtime_ns = pk->now_ns;
	s->nr_actors = pk->nr_actors < NVR_STEP_ACTORS ? pk->nr_actors : NVR_STEP_ACTORS;
	for (int i = 0; i < s->nr_actors; i++) {
		snprintf(s->actor[i], sizeof(s->actor[i]), "%s", pk->actor_name[i]);
		s->sb_n[i] = pk->sb_n[i] < NVR_STEP_SB ? pk->sb_n[i] : NVR_STEP_SB;
		for (unsigned int k = 0; k < s->sb_n[i]; k++) {
			char o[NVR_SCHED_NAME_MAX + 8];

			/* The first replay's names: the same run, the same numbers. */
			nvr_sched_obj_name(&st->run, pk->sb[i][k].obj, o, sizeof(o));
			snprintf(s->sb[i][k], sizeof(s->sb[i][k]), "%s=%" PRIu64, o,
				 pk->sb[i][k].value);
		}
	}
	if (!st->ledger) {
		s->ended = st->seen;
		return;
	}
	s->ledger = true;
	if (!nvr_ledger_idle(st->ledger)) {
		s->busy = true;
		return;
	}
	nvr_ledger_snapshot(st->ledger, &s->st);
	s->st.elapsed_ns = pk->now_ns;
	s->have_first = nvr_ledger_anomalies(st->ledger, &s->first, 1) == 1;
}

static void on_state(void *arg, const struct nvr_sched_peek *pk)
{
	struct nvr_stepper *st = arg;

	st->seen |= st->ledger != NULL;
	for (size_t i = 0; i < st->nwant; i++)
		if (st->want[i] == pk->steps)
			take(st, pk, &st->out[i]);
}

int nvr_stepper_states(struct nvr_stepper *st, const uint64_t *pos, size_t n,
		       struct nvr_step_state *out)
{
	struct nvr_sched_run run;
	struct nvr_result *res = malloc(sizeof(*res));
	int ret;

	if (!res)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].pos = UINT64_MAX;	/* not reached: told apart below */
	}
	st->want = pos;
	st->nwant = n;
	st->out = out;
	st->ledger = NULL;
	st->seen = false;
	ret = nvr_explore_replay(st->scn, st->row, &st->opts, &st->sched, on_state, st, &run, res);
	st->nwant = 0;
	if (!ret) {
		/* The same schedule must give the same run, or the panes would lie. */
		if (run.hash != st->run.hash)
			ret = -EPROTO;
		for (size_t i = 0; i < n && !ret; i++)
			if (out[i].pos != pos[i])
				ret = -ERANGE;
		nvr_sched_run_release(&run);
	}
	free(res);
	return ret;
}

const struct nvr_result *nvr_stepper_result(const struct nvr_stepper *st, uint64_t *hash)
{
	if (hash)
		*hash = st->run.hash;
	return &st->res;
}

const char *nvr_stepper_id(const struct nvr_stepper *st)
{
	return st->sched.id;
}

#else /* the normal build: no scheduler to step */

int nvr_stepper_open(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		     const char *path, struct nvr_stepper **out, char *why, size_t len)
{
	(void)scn;
	(void)row;
	(void)opts;
	(void)path;
	*out = NULL;
	if (len)
		why[0] = '\0';
	return -ENOTSUP;
}

void nvr_stepper_close(struct nvr_stepper *st)
{
	(void)st;
}

uint64_t nvr_stepper_total(const struct nvr_stepper *st)
{
	(void)st;
	return 0;
}

uint64_t nvr_stepper_first_anomaly(const struct nvr_stepper *st)
{
	(void)st;
	return UINT64_MAX;
}

uint64_t nvr_stepper_next(const struct nvr_stepper *st, uint64_t pos, bool matters)
{
	(void)st;
	(void)matters;
	return pos;
}

uint64_t nvr_stepper_prev(const struct nvr_stepper *st, uint64_t pos, bool matters)
{
	(void)st;
	(void)matters;
	return pos;
}

int nvr_stepper_timeline(const struct nvr_stepper *st, FILE *f, uint64_t pos,
			 unsigned int before, unsigned int after)
{
	(void)st;
	(void)f;
	(void)pos;
	(void)before;
	(void)after;
	return -ENOTSUP;
}

int nvr_stepper_states(struct nvr_stepper *st, const uint64_t *pos, size_t n,
		       struct nvr_step_state *out)
{
	(void)st;
	(void)pos;
	(void)n;
	(void)out;
	return -ENOTSUP;
}

const struct nvr_result *nvr_stepper_result(const struct nvr_stepper *st, uint64_t *hash)
{
	(void)st;
	(void)hash;
	return NULL;
}

const char *nvr_stepper_id(const struct nvr_stepper *st)
{
	(void)st;
	return "";
}

#endif
