// SPDX-License-Identifier: MIT
/*
 * A host design's race on the simulator, judged by the explorer when the
 * threads missed it. Under the OS scheduler such a race (a row that expects
 * to catch a bug no device knob makes: seed 000's trylock, seed 004's
 * missing barrier) is caught only when the machine's timing opens the
 * window, so a loaded or a quiet machine may not. When the threads did not
 * catch it, the model build explores the row with the row's seed: the
 * schedules are chosen, the same on every machine, and the row takes the
 * explorer's verdict, counts and replay line, saying so in its note.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include <nvmerace/ledger.h>

#include "cmd.h"
#include "explore.h"
#include "retry.h"

#ifdef NVR_SCHED_MODEL
#define NVR_MODEL_BUILD 1
#else
#define NVR_MODEL_BUILD 0
#endif

bool retry_wanted(const struct run_inputs *in, const struct nvr_scenario *scn, uint32_t row,
		  const struct nvr_result *res)
{
	const struct nvr_row *rw = scn->nr_rows ? &scn->rows[row] : NULL;

	if (NVR_MODEL_BUILD)
		return false;	/* this binary explores on its own */
	/* A scenario with sched.count is written for model mode: its submit
	 * steps have a size the scheduler explores in milliseconds. */
	return !in->dev.bdf && !in->dev.target && rw && res->verdict == NVR_FAIL &&
	       !res->interrupted && scn->model.count && nvr_row_expects_catch(rw) &&
	       nvr_row_race_knob(scn, rw) < 0;
}

/* Run the model binary's explore on row @name of @file, its JSON into @json. */
static int explore_child(const struct run_inputs *in, const char *file, const char *name,
			 uint64_t seed, const char *json)
{
	char model[PATH_MAX + 64], seedbuf[24], durbuf[24];
	const char *argv[18 + 2 * MAX_SETS];
	char *sets[MAX_SETS] = { 0 };
	int i = 0, st = -1;
	pid_t pid;

#ifdef NVR_SCHED_MODEL
	return -ENOSYS;
#endif
	if (!explore_model_path(model, sizeof(model)))
		return -ENOENT;
	snprintf(seedbuf, sizeof(seedbuf), "%" PRIu64, seed);
	argv[i++] = "nvmerace";
	argv[i++] = "explore";
	argv[i++] = "-q";
	/* Ten times the default: it runs only when the threads missed. */
	argv[i++] = "--budget";
	argv[i++] = "200";
	argv[i++] = "--seed";
	argv[i++] = seedbuf;
	argv[i++] = "--only";
	argv[i++] = name;
	argv[i++] = "--json";
	argv[i++] = json;
	if (in->duration_ms) {
		snprintf(durbuf, sizeof(durbuf), "%" PRIu64, in->duration_ms);
		argv[i++] = "--duration";
		argv[i++] = durbuf;
	}
	for (size_t k = 0; k < in->nr_sets; k++) {
		if (asprintf(&sets[k], "%s=%s", in->sets[k].path, in->sets[k].value) < 0) {
			sets[k] = NULL;
			goto out;
		}
		argv[i++] = "--set";
		argv[i++] = sets[k];
	}
	argv[i++] = file;
	argv[i] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		goto out;
	if (!pid) {
		/* Its lines would interleave with run's: the report says it all. */
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(3);
		execv(model, (char *const *)argv);
		_exit(3);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
out:
	for (size_t k = 0; k < in->nr_sets; k++)
		free(sets[k]);
	return st;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static uint64_t jnum(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

/* Take the explorer's row (@row of its report) into @e. Return: 0, or -EINVAL. */
static int take(struct report_entry *e, struct json_object *row)
{
	struct json_object *an, *sched, *v;
	const char *verdict = jstr(row, "verdict"), *replay = jstr(row, "replay"), *id;

	if (!verdict || strcmp(verdict, "pass") || !replay ||
	    !json_object_object_get_ex(row, "anomalies", &an) ||
	    !json_object_object_get_ex(row, "sched", &sched))
		return -EINVAL;
	id = jstr(sched, "id");
	e->has_sched = true;
	memset(&e->sched, 0, sizeof(e->sched));
	e->sched.strategy = NVR_EXPLORE_RANDOM;
	e->sched.seed = jnum(sched, "seed");
	e->sched.bound = (int)jnum(sched, "bound");
	e->sched.delay_bound = json_object_object_get_ex(sched, "delay_bound", &v) ?
			       json_object_get_int(v) : -1;
	e->sched.schedules = jnum(sched, "schedules");
	e->sched.steps = jnum(sched, "steps");
	if (json_object_object_get_ex(sched, "virtual_ms", &v))
		e->sched.vtime_ns = (uint64_t)(json_object_get_double(v) * 1e6);
	e->sched.expects_bug = true;
	e->sched.found = true;
	e->sched.trace_hash = strtoull(jstr(sched, "trace_hash") ? jstr(sched, "trace_hash") : "0",
				       NULL, 16);
	snprintf(e->sched.id, sizeof(e->sched.id), "%s", id ? id : "");
	for (int c = 0; c < NVR_AN_NR; c++)
		e->res.stats.anomalies[c] = jnum(an, nvr_anomaly_name(c));
	snprintf(e->res.note, sizeof(e->res.note),
		 "caught by a schedule the explorer chose; the threads' timing had not "
		 "opened the window (%.80s)", e->res.reason);
	e->res.reason[0] = '\0';
	e->res.nr_anomalies = 0;	/* the threads' details, none of the catch */
	e->res.verdict = NVR_PASS;
	snprintf(e->replay, sizeof(e->replay), "%s", replay);
	return 0;
}

int retry_in_model(const struct run_inputs *in, const char *file, struct report_entry *e)
{
	char name[160], json[] = "/tmp/nvmerace-retry-XXXXXX";
	struct json_object *root, *rows;
	int fd = mkstemp(json), st, ret = -EINVAL;

	if (fd < 0)
		return -errno;
	close(fd);
	snprintf(name, sizeof(name), "%s/%s", e->res.scenario, e->res.row);
	st = explore_child(in, file, name, e->res.seed, json);
	root = st == 0 ? json_object_from_file(json) : NULL;
	unlink(json);
	if (!root)
		return st < 0 ? st : -EINVAL;
	if (json_object_object_get_ex(root, "scenarios", &rows) &&
	    json_object_array_length(rows) == 1)
		ret = take(e, json_object_array_get_idx(rows, 0));
	json_object_put(root);
	return ret;
}
