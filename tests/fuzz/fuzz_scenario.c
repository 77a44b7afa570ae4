// SPDX-License-Identifier: MIT
/*
 * Fuzz harness: the scenario parser and validator, nvr_scenario_parse().
 *
 * The input is a scenario document. Leading lines "#set path=value" (YAML
 * comments, so a seed stays a valid scenario) are also passed as --set
 * overrides, so that lib/scenario/scenario_override.c is fuzzed with the document.
 *
 * Besides not crashing, the parser must keep two promises, checked here:
 * - a refused document gets messages, each "file:line:col: ..." or
 *   "--set path: ...";
 * - an accepted scenario satisfies every rule the runner relies on (the
 *   rules of nvmerace-scenario(5)): queues, steps, barriers and rows within
 *   their tables and ranges. A scenario that gets through the validator while
 *   breaking one is a validator bug, and aborts like a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/scenario.h>

#include "base/util.h"
#include "fuzz.h"

#define FILE_NAME "fuzz.yaml"
#define MAX_OV 4

/* The runner's arrays are indexed by these: each is a hard limit. */
static void check_strings(const struct nvr_scenario *s)
{
	FUZZ_ASSERT(memchr(s->name, 0, sizeof(s->name)) && s->name[0]);
	FUZZ_ASSERT(memchr(s->seed_doc, 0, sizeof(s->seed_doc)));
	FUZZ_ASSERT(memchr(s->description, 0, sizeof(s->description)));
	FUZZ_ASSERT(!strcmp(s->file, FILE_NAME));
}

static const struct nvr_queue_def *find_queue(const struct nvr_scenario *s, uint16_t id)
{
	for (uint32_t i = 0; i < s->nr_queues; i++)
		if (s->queues[i].id == id)
			return &s->queues[i];
	return NULL;
}

static void check_queues(const struct nvr_scenario *s)
{
	const struct nvr_sim_config *sim = &s->sim;

	FUZZ_ASSERT(s->nr_queues >= 1 && s->nr_queues <= NVR_MAX_QUEUES);
	for (uint32_t i = 0; i < s->nr_queues; i++) {
		const struct nvr_queue_def *q = &s->queues[i];

		FUZZ_ASSERT(q->id >= 1 && q->id <= NVR_MAX_QUEUES && q->id <= sim->nr_io_queues);
		FUZZ_ASSERT(find_queue(s, q->id) == q);	/* declared once */
		FUZZ_ASSERT(q->depth >= 2 && q->depth <= sim->mqes + 1u);
		FUZZ_ASSERT(q->vector == -1 || (q->vector >= 1 && q->vector < sim->nr_vectors));
	}
}

static bool sqhd_host(const struct nvr_scenario *s)
{
	bool sqhd = s->policy.sq_refill == NVR_SQ_REFILL_SQHD;

	for (uint32_t r = 0; r < s->nr_rows; r++)
		sqhd |= s->rows[r].policy.sq_refill == NVR_SQ_REFILL_SQHD;
	return sqhd;
}

static void check_step(const struct nvr_scenario *s, const struct nvr_step *st)
{
	const struct nvr_sim_config *sim = &s->sim;
	const struct nvr_queue_def *q = NULL;

	FUZZ_ASSERT(st->kind < NVR_STEP_NR);
	if (st->kind == NVR_STEP_SUBMIT || st->kind == NVR_STEP_REAP) {
		q = find_queue(s, st->queue);
		FUZZ_ASSERT(q);
	}
	switch (st->kind) {
	case NVR_STEP_SUBMIT:
		FUZZ_ASSERT(st->op <= NVR_OP_MIX);
		/* A host refilling by SQHD (in the file or a row) has twice the CIDs. */
		FUZZ_ASSERT(st->qd >= 1 && st->qd <= (sqhd_host(s) ? NVR_MIN(2u * q->depth, 65535u) :
								      q->depth - 1u));
		FUZZ_ASSERT(!st->count != !st->duration_ns);	/* exactly one */
		FUZZ_ASSERT(st->bs >= 512 && st->bs <= 131072 && st->bs % sim->lba_size == 0);
		FUZZ_ASSERT(!sim->mdts || st->bs <= 4096ull << sim->mdts);
		break;
	case NVR_STEP_REAP:
		FUZZ_ASSERT(st->wake <= NVR_WAKE_EVERY);
		FUZZ_ASSERT(st->wake != NVR_WAKE_IRQ || q->vector >= 0);
		FUZZ_ASSERT(st->wake != NVR_WAKE_EVERY || st->every_ns > 0);
		break;
	case NVR_STEP_SLEEP:
		FUZZ_ASSERT(st->sleep_ns > 0);
		break;
	case NVR_STEP_BARRIER:
		FUZZ_ASSERT(st->barrier < NVR_MAX_STEPS);
		break;
	default:
		break;
	}
}

static void check_actors(const struct nvr_scenario *s)
{
	int submitter[NVR_MAX_QUEUES + 1];
	uint32_t meet[NVR_MAX_STEPS] = { 0 };

	memset(submitter, -1, sizeof(submitter));
	FUZZ_ASSERT(s->nr_actors >= 1 && s->nr_actors <= NVR_MAX_ACTORS);
	for (uint32_t a = 0; a < s->nr_actors; a++) {
		const struct nvr_actor *ac = &s->actors[a];
		uint32_t mine[NVR_MAX_STEPS] = { 0 };
		bool submits = false, reaps = false;

		FUZZ_ASSERT(memchr(ac->name, 0, sizeof(ac->name)) && ac->name[0]);
		for (uint32_t b = 0; b < a; b++)
			FUZZ_ASSERT(strcmp(s->actors[b].name, ac->name));
		FUZZ_ASSERT(ac->nr_steps >= 1 && ac->nr_steps <= NVR_MAX_STEPS);
		for (uint32_t j = 0; j < ac->nr_steps; j++) {
			const struct nvr_step *st = &ac->steps[j];

			check_step(s, st);
			/* reap runs until the end: nothing may follow it */
			FUZZ_ASSERT(st->kind != NVR_STEP_REAP || j == ac->nr_steps - 1);
			if (st->kind == NVR_STEP_SUBMIT) {
				/* one submitter per SQ */
				FUZZ_ASSERT(submitter[st->queue] < 0 ||
					    submitter[st->queue] == (int)a);
				submitter[st->queue] = (int)a;
				submits = true;
			}
			reaps |= st->kind == NVR_STEP_REAP;
			if (st->kind == NVR_STEP_BARRIER)
				mine[st->barrier]++;
		}
		FUZZ_ASSERT(!(submits && reaps));
		for (uint32_t b = 0; b < NVR_MAX_STEPS; b++) {
			/* each meeting is one step of each actor that goes there */
			FUZZ_ASSERT(mine[b] <= 1);
			meet[b] += mine[b];
		}
	}
	/* a meeting with one actor would wait for ever */
	for (uint32_t b = 0; b < NVR_MAX_STEPS; b++)
		FUZZ_ASSERT(meet[b] == 0 || meet[b] >= 2);
}

static void check_rows(const struct nvr_scenario *s)
{
	FUZZ_ASSERT(s->nr_rows >= 1 && s->nr_rows <= NVR_ARRAY_SIZE(s->rows));
	for (uint32_t i = 0; i < s->nr_rows; i++) {
		const struct nvr_row *r = &s->rows[i];

		FUZZ_ASSERT(memchr(r->name, 0, sizeof(r->name)));
		FUZZ_ASSERT(r->policy.cq_lock >= -1 && r->policy.cq_lock < NVR_CQ_LOCK_NR);
		FUZZ_ASSERT(r->coalesce_thr >= -1 && r->coalesce_thr <= 255);
		FUZZ_ASSERT(r->coalesce_time >= -1 && r->coalesce_time <= 255);
		for (uint32_t j = 0; j < i && s->nr_rows > 1; j++)
			FUZZ_ASSERT(strcmp(s->rows[j].name, r->name));
		for (int a = 0; a < NVR_AN_NR; a++)
			FUZZ_ASSERT(r->expect[a].cmp <= NVR_CMP_LE);
	}
}

static void check_scenario(const struct nvr_scenario *s)
{
	check_strings(s);
	FUZZ_ASSERT(s->sim.lba_size == 512 || s->sim.lba_size == 4096);
	FUZZ_ASSERT(s->sim.latency_min_us <= s->sim.latency_max_us);
	FUZZ_ASSERT(s->policy.cq_lock >= -1 && s->policy.cq_lock < NVR_CQ_LOCK_NR);
	FUZZ_ASSERT(s->timeout_ns && s->stall_ns && s->sweep_ns);
	check_queues(s);
	check_actors(s);
	check_rows(s);
}

/* Each message line names its place. */
static void check_errors(const char *err)
{
	const char *line = err;

	FUZZ_ASSERT(err[0]);
	while (line && *line) {
		unsigned long l, c;
		int n = 0;

		if (!strncmp(line, "--set ", 6)) {
			FUZZ_ASSERT(strstr(line, ": "));
		} else {
			FUZZ_ASSERT(!strncmp(line, FILE_NAME ":", sizeof(FILE_NAME)));
			FUZZ_ASSERT(sscanf(line + sizeof(FILE_NAME), "%lu:%lu: %n", &l, &c, &n) == 2 &&
				    n > 0 && l >= 1 && c >= 1);
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

/* "#set path=value" lines at the start: copies into @buf, entries into @ov. */
static size_t overrides(const char *doc, size_t len, char *buf, struct nvr_override *ov)
{
	size_t off = 0, nr = 0;

	while (nr < MAX_OV && len - off > 5 && !memcmp(doc + off, "#set ", 5)) {
		const char *start = doc + off + 5, *end = memchr(start, '\n', len - off - 5);
		size_t n = end ? (size_t)(end - start) : len - off - 5;
		char *eq;

		memcpy(buf, start, n);
		buf[n] = '\0';
		eq = strchr(buf, '=');
		if (eq) {
			*eq = '\0';
			ov[nr++] = (struct nvr_override){ .path = buf, .value = eq + 1 };
		}
		buf += n + 1;
		off += 5 + n + (end ? 1 : 0);
	}
	return nr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvr_override ov[MAX_OV];
	struct nvr_scenario *s;
	char err[2048], *ovbuf;
	size_t nr_ov;
	int ret;

	s = malloc(sizeof(*s));
	ovbuf = malloc(size + MAX_OV + 1);
	if (!s || !ovbuf)
		abort();
	nr_ov = overrides((const char *)data, size, ovbuf, ov);
	ret = nvr_scenario_parse((const char *)data, size, FILE_NAME, ov, nr_ov, s, err,
				 sizeof(err));
	FUZZ_ASSERT(ret == 0 || ret == -EINVAL);
	if (ret)
		check_errors(err);
	else
		check_scenario(s);
	free(ovbuf);
	free(s);
	return 0;
}
