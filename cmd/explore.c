// SPDX-License-Identifier: MIT
/*
 * Model mode in the front end: nvmerace explore, run --sched model and
 * run --schedule. The normal binary does not schedule anything itself: it
 * execs the model build (build/model/nvmerace beside it in a build tree,
 * $(PREFIX)/libexec/nvmerace/nvmerace-model when installed) with the same
 * arguments; the model binary runs each row under lib/sched.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include <nvmerace/explore.h>
#include <nvmerace/util.h>

#include "cmd.h"
#include "explore.h"

bool explore_parse_strategy(const char *s, enum nvr_explore_strategy *out)
{
	static const enum nvr_explore_strategy all[] = { NVR_EXPLORE_RANDOM, NVR_EXPLORE_PCT,
							 NVR_EXPLORE_DFS };

	for (size_t i = 0; i < NVR_ARRAY_SIZE(all); i++)
		if (!strcmp(s, nvr_explore_strategy_name(all[i]))) {
			*out = all[i];
			return true;
		}
	warnx("invalid --strategy '%s': expected random, pct or dfs", s);
	return false;
}

#ifdef NVR_SCHED_MODEL

int explore_exec_model(char **argv)
{
	(void)argv;
	return 0;	/* this is the model build: go on */
}

#else

bool explore_model_path(char *out, size_t len)
{
	static const char *const rel[] = { "model/nvmerace", "build/model/nvmerace",
					   "../model/nvmerace",
					   "../libexec/nvmerace/nvmerace-model" };
	char exe[PATH_MAX], *slash;
	const char *env = getenv("NVMERACE_MODEL");
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return access(out, X_OK) == 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	for (size_t i = 0; i < NVR_ARRAY_SIZE(rel); i++) {
		snprintf(out, len, "%s/%s", exe, rel[i]);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

int explore_exec_model(char **argv)
{
	char path[PATH_MAX + 64];

	fflush(NULL);
	if (!explore_model_path(path, sizeof(path))) {
		warnx("model mode needs the model build (make model): no build/model/nvmerace "
		      "or libexec/nvmerace/nvmerace-model beside this binary");
		return EXIT_ENV;
	}
	execv(path, argv);
	warn("cannot run '%s'", path);
	return EXIT_ENV;
}

#endif

int explore_row(const struct explore_cfg *x, const struct nvr_scenario *scn, uint32_t row,
		const struct nvr_run_opts *o, struct nvr_result *res,
		struct nvr_explore_result *er)
{
	struct nvr_explore_opts eo = { .strategy = x->strategy, .seed = o->seed,
				       .bound = x->bound, .budget = x->budget,
				       .schedule_in = x->schedule_in,
				       .schedule_out = x->schedule_out,
				       /* Shrinking replays the row many times: only for an explanation. */
				       .shrink = x->explore && (x->timeline || x->schedule_out) };
	FILE *tl = NULL;
	int ret;

	if (x->schedule_in)
		eo.strategy = NVR_EXPLORE_REPLAY;
	else if (!x->explore)
		eo.budget = 1;	/* run --sched model: one schedule */
	if (x->timeline) {
		tl = fopen(x->timeline, "w");
		if (!tl) {
			warn("cannot write '%s'", x->timeline);
			return -errno;
		}
		eo.timeline = tl;
	}
	ret = nvr_explore_row(scn, row, o, &eo, res, er);
	if (tl && fclose(tl) && !ret)
		ret = -errno;
	res->seed = o->seed;
	if (ret) {
		res->verdict = NVR_ERROR;
		snprintf(res->reason, sizeof(res->reason), "model mode: %s", strerror(-ret));
	}
	return 0;
}

void explore_line(FILE *f, const struct nvr_explore_result *er)
{
	fprintf(f, "  sched: %s seed %" PRIu64 ", %" PRIu64 " schedule%s%s%s, trace %016" PRIx64
		", %" PRIu64 " steps, %.3f ms virtual, id %s\n",
		nvr_explore_strategy_name(er->strategy), er->seed, er->schedules,
		er->schedules == 1 ? "" : "s",
		er->strategy == NVR_EXPLORE_DFS ? (er->complete ? " (bounded space complete)" :
							  " (bounded space NOT complete)") : "",
		er->found ? (er->expects_bug ? ", caught" : ", broken") : "", er->trace_hash,
		er->steps, (double)er->vtime_ns / 1e6, er->id[0] ? er->id : "-");
}

int explore_schedule_seed(const char *path, uint64_t *seed)
{
	char line[256];
	FILE *f = fopen(path, "r");
	int ret = EXIT_USAGE;

	if (!f) {
		warn("cannot read '%s'", path);
		return EXIT_USAGE;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "seed=");

		if (strncmp(line, "id ", 3) || !p)
			continue;
		*seed = strtoull(p + 5, NULL, 0);
		ret = 0;
		break;
	}
	fclose(f);
	if (ret)
		warnx("'%s' names no seed (an id line with seed=N): give --seed", path);
	return ret;
}

struct json_object *explore_json(const struct nvr_explore_result *er)
{
	struct json_object *s = json_object_new_object();
	char h[20];

	snprintf(h, sizeof(h), "%016" PRIx64, er->trace_hash);
	json_object_object_add(s, "mode", json_object_new_string("model"));
	json_object_object_add(s, "strategy",
			       json_object_new_string(nvr_explore_strategy_name(er->strategy)));
	json_object_object_add(s, "seed", json_object_new_uint64(er->seed));
	json_object_object_add(s, "bound", json_object_new_int(er->bound));
	json_object_object_add(s, "schedules", json_object_new_uint64(er->schedules));
	json_object_object_add(s, "complete", json_object_new_boolean(er->complete));
	json_object_object_add(s, "trace_hash", json_object_new_string(h));
	json_object_object_add(s, "id", json_object_new_string(er->id));
	json_object_object_add(s, "found", json_object_new_boolean(er->found));
	json_object_object_add(s, "steps", json_object_new_uint64(er->steps));
	json_object_object_add(s, "virtual_ms", json_object_new_double((double)er->vtime_ns / 1e6));
	return s;
}

int explore_replay(char *buf, size_t len, const struct explore_cfg *x,
		   const struct nvr_explore_result *er)
{
	static const char prefix[] = "nvmerace run";
	uint64_t budget = x->budget;
	char rest[1024], mode[160], bound[32] = "";
	int n;

	if (strncmp(buf, prefix, sizeof(prefix) - 1))
		return 0;
	snprintf(rest, sizeof(rest), "%s", buf + sizeof(prefix) - 1);
	if (!budget)
		budget = er->strategy == NVR_EXPLORE_DFS ? 2000 : 20;
	if (x->bound >= 0)
		snprintf(bound, sizeof(bound), " --bound %d", x->bound);
	if (x->schedule_out)
		snprintf(mode, sizeof(mode), "run --schedule %s", x->schedule_out);
	else if (x->explore)
		snprintf(mode, sizeof(mode), "explore --strategy %s%s --budget %" PRIu64,
			 nvr_explore_strategy_name(er->strategy), bound, budget);
	else
		snprintf(mode, sizeof(mode), "run --sched model");
	n = snprintf(buf, len, "nvmerace %s%s  # schedule %s", mode, rest, er->id);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}
