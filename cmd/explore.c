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
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
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

bool explore_parse_shard(const char *s, struct explore_cfg *x)
{
	unsigned long k, n;
	char *end;

	errno = 0;
	k = strtoul(s, &end, 10);
	if (end != s && *end == '/' && end[1] >= '0' && end[1] <= '9') {
		const char *p = end + 1;

		n = strtoul(p, &end, 10);
		if (!errno && !*end && k >= 1 && n <= 4096 && k <= n) {
			x->shard_k = (unsigned int)k;
			x->shard_n = (unsigned int)n;
			return true;
		}
	}
	warnx("invalid --shard '%s': expected K/N with 1 <= K <= N <= 4096", s);
	return false;
}

/* A number 0-64 at *s, up to @stop; moves *s past it. */
static bool bound_num(const char **s, char stop, int *out)
{
	unsigned long v;
	char *end;

	if (**s < '0' || **s > '9')
		return false;
	errno = 0;
	v = strtoul(*s, &end, 10);
	if (errno || v > 64 || *end != stop)
		return false;
	*out = (int)v;
	*s = end + (stop != '\0');
	return true;
}

bool explore_parse_bound(const char *s, struct explore_cfg *x)
{
	const char *p = s;
	int pre, delay = -1;

	if (bound_num(&p, strchr(s, ',') ? ',' : '\0', &pre) &&
	    (!strchr(s, ',') || bound_num(&p, '\0', &delay))) {
		x->bound = pre;
		x->delay_bound = delay;
		return true;
	}
	warnx("invalid --bound '%s': expected N, or P,D (preemptions, store delays), each 0-64", s);
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

/* One exploration (or one shard of it) of a row, in this process. */
static int explore_one(const struct explore_cfg *x, const struct nvr_scenario *scn, uint32_t row,
		       const struct nvr_run_opts *o, unsigned int shard, unsigned int shards,
		       const char *schedule_out, const char *timeline, struct nvr_result *res,
		       struct nvr_explore_result *er)
{
	struct nvr_explore_opts eo = { .strategy = x->strategy, .seed = o->seed,
				       .bound = x->bound, .delay_bound = x->delay_bound,
				       .budget = x->budget, .step_budget = x->steps,
				       .schedule_in = x->schedule_in,
				       .schedule_out = schedule_out,
				       /* Shrinking replays the row many times: only for an explanation. */
				       .shrink = x->explore && (timeline || schedule_out),
				       .shard_index = shard, .shard_count = shards,
				       .timeline_shared = x->timeline_shared };
	FILE *tl = NULL;
	int ret;

	if (x->schedule_in)
		eo.strategy = NVR_EXPLORE_REPLAY;
	else if (!x->explore)
		eo.budget = 1;	/* run --sched model: one schedule */
	if (timeline) {
		tl = fopen(timeline, "w");
		if (!tl) {
			warn("cannot write '%s'", timeline);
			return -errno;
		}
		eo.timeline = tl;
	}
	ret = nvr_explore_row(scn, row, o, &eo, res, er);
	if (tl && fclose(tl) && !ret)
		ret = -errno;
	return ret;
}

/* What worker @j writes in place of the user's @path (NULL: nothing). */
static char *job_path(const char *path, unsigned int j)
{
	char *p;

	if (!path || asprintf(&p, "%s.job%u", path, j) < 0)
		return NULL;
	return p;
}

struct job_out {
	int ret;
	struct nvr_result res;
	struct nvr_explore_result er;
};

/* Worker @j of @jobs: its shard of shard @k of @n, written to @fd. */
static void job_child(const struct explore_cfg *x, const struct nvr_scenario *scn, uint32_t row,
		      const struct nvr_run_opts *o, unsigned int j, int fd)
{
	unsigned int k = x->shard_n ? x->shard_k - 1 : 0, n = x->shard_n ? x->shard_n : 1;
	char *so = job_path(x->schedule_out, j), *tl = job_path(x->timeline, j);
	struct job_out out = { 0 };
	size_t off = 0;

	out.ret = explore_one(x, scn, row, o, k + n * j, n * x->jobs, so, tl, &out.res, &out.er);
	while (off < sizeof(out)) {
		ssize_t w = write(fd, (char *)&out + off, sizeof(out) - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(EXIT_ENV);
		off += (size_t)w;
	}
	_exit(EXIT_OK);
}

static int job_read(int fd, struct job_out *out)
{
	size_t off = 0;

	while (off < sizeof(*out)) {
		ssize_t r = read(fd, (char *)out + off, sizeof(*out) - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		off += (size_t)r;
	}
	return 0;
}

/* The user's output file is the deciding worker's; the others' go. */
static void job_files(const char *path, unsigned int jobs, unsigned int win)
{
	for (unsigned int j = 0; path && j < jobs; j++) {
		char *p = job_path(path, j);

		if (!p)
			continue;
		if (j == win) {
			if (rename(p, path))
				warn("cannot rename '%s' to '%s'", p, path);
		} else {
			unlink(p);
		}
		free(p);
	}
}

/*
 * --jobs N: N workers, each a shard of this exploration (of shard K of N'
 * with --shard: shard K-1+N'*j of N'*N), merged into one result: found when
 * one found, the schedules summed, complete when every part is; the deciding
 * (or, when none decided, the first) worker's run is the one reported.
 */
static int explore_jobs(const struct explore_cfg *x, const struct nvr_scenario *scn, uint32_t row,
			const struct nvr_run_opts *o, struct nvr_result *res,
			struct nvr_explore_result *er)
{
	struct job_out *out = calloc(x->jobs, sizeof(*out));
	pid_t *pid = calloc(x->jobs, sizeof(*pid));
	int *fd = calloc(x->jobs, sizeof(*fd));
	unsigned int win = 0, started = 0;
	bool found = false, complete = true, interrupted = false;
	uint64_t schedules = 0, incomplete = 0;
	int ret = 0;

	if (!out || !pid || !fd) {
		ret = -ENOMEM;
		goto out;
	}
	fflush(NULL);
	for (unsigned int j = 0; j < x->jobs; j++, started++) {
		int p[2];

		if (pipe(p)) {
			ret = -errno;
			break;
		}
		pid[j] = fork();
		if (pid[j] < 0) {
			ret = -errno;
			close(p[0]);
			close(p[1]);
			break;
		}
		if (!pid[j]) {
			close(p[0]);
			job_child(x, scn, row, o, j, p[1]);
		}
		close(p[1]);
		fd[j] = p[0];
	}
	for (unsigned int j = 0; j < started; j++) {
		int st;

		if (job_read(fd[j], &out[j]) && !ret)
			ret = -EPIPE;
		close(fd[j]);
		while (waitpid(pid[j], &st, 0) < 0 && errno == EINTR)
			;
		if (!ret && out[j].ret)
			ret = out[j].ret;
	}
	if (ret)
		goto out;
	for (unsigned int j = 0; j < x->jobs; j++) {
		if (out[j].er.found && !found) {
			found = true;
			win = j;
		}
		schedules += out[j].er.schedules;
		incomplete += out[j].er.incomplete;
		complete &= out[j].er.complete;
		interrupted |= out[j].er.interrupted;
	}
	*res = out[win].res;
	*er = out[win].er;
	er->schedules = schedules;
	er->incomplete = incomplete;
	er->complete = complete;
	er->interrupted = interrupted;
	er->shard_index = x->shard_n ? x->shard_k - 1 : 0;
	er->shard_count = x->shard_n > 1 ? x->shard_n : 0;
	if (interrupted && !found) {
		res->verdict = er->expects_bug ? NVR_FAIL : NVR_PASS;
		res->interrupted = true;
		snprintf(res->reason, sizeof(res->reason),
			 "interrupted after %" PRIu64 " schedules, none of which %s", schedules,
			 er->expects_bug ? "caught the bug" : "broke an expectation");
	} else if (er->expects_bug && !found) {
		res->verdict = er->shard_count ? NVR_PASS : NVR_FAIL;
		res->not_reproduced = er->shard_count;
		if (er->shard_count)
			snprintf(res->reason, sizeof(res->reason),
				 "not caught by the %" PRIu64 " schedules of shard %u/%u",
				 schedules, x->shard_k, x->shard_n);
		else
			snprintf(res->reason, sizeof(res->reason),
				 "no schedule of %" PRIu64 " caught the bug", schedules);
	}
out:
	if (out) {
		job_files(x->schedule_out, started, win);
		job_files(x->timeline, started, win);
	}
	free(out);
	free(pid);
	free(fd);
	return ret;
}

int explore_row(const struct explore_cfg *x, const struct nvr_scenario *scn, uint32_t row,
		const struct nvr_run_opts *o, struct nvr_result *res,
		struct nvr_explore_result *er)
{
	struct timespec t0, t1;
	int ret;

	/* The row's start to its verdict, in this process: the exploration
	 * without the process's start (bench/explore_wall.sh shows both). */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (x->jobs > 1)
		ret = explore_jobs(x, scn, row, o, res, er);
	else
		ret = explore_one(x, scn, row, o, x->shard_n ? x->shard_k - 1 : 0, x->shard_n,
				  x->schedule_out, x->timeline, res, er);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	er->wall_ns = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	res->seed = o->seed;
	if (ret) {
		res->verdict = NVR_ERROR;
		snprintf(res->reason, sizeof(res->reason), "model mode: %s", strerror(-ret));
	}
	return 0;
}

void explore_summary(char *buf, size_t len, const struct nvr_explore_result *er)
{
	char shard[48] = "", pct[160] = "", bound[48] = "";

	if (er->shard_count > 1)
		snprintf(shard, sizeof(shard), ", shard %u/%u", er->shard_index + 1,
			 er->shard_count);
	/* PCT (Burckhardt et al., ASPLOS 2010): each run finds a bug of depth d
	 * with probability at least 1/(n*k^(d-1)). */
	if (er->strategy == NVR_EXPLORE_DFS)
		snprintf(bound, sizeof(bound), ", bound %d,%d", er->bound, er->delay_bound);
	if (er->strategy == NVR_EXPLORE_PCT && er->pct_n)
		snprintf(pct, sizeof(pct),
			 ", pct bound 1/(n*k^(d-1)) = %.3g per run (n=%u k=%" PRIu64 " d=%u)",
			 er->pct_bound, er->pct_n, er->pct_k, er->pct_d);
	snprintf(buf, len, "sched: %s seed %" PRIu64 "%s%s, %" PRIu64 " schedule%s%s%s%s%s, trace %016"
		 PRIx64 ", %" PRIu64 " steps, %.3f ms virtual, id %s",
		 nvr_explore_strategy_name(er->strategy), er->seed, bound, shard, er->schedules,
		 er->schedules == 1 ? "" : "s",
		 er->strategy == NVR_EXPLORE_DFS ? (er->complete ? " (bounded space complete)" :
							 " (bounded space NOT complete)") : "",
		 er->found ? (er->expects_bug ? ", caught" : ", broken") : "",
		 er->interrupted ? ", interrupted" : "", pct,
		 er->trace_hash, er->steps, (double)er->vtime_ns / 1e6, er->id[0] ? er->id : "-");
}

void explore_line(FILE *f, const struct nvr_explore_result *er)
{
	char buf[512];

	explore_summary(buf, sizeof(buf), er);
	fprintf(f, "  %s\n", buf);
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
	json_object_object_add(s, "delay_bound", json_object_new_int(er->delay_bound));
	json_object_object_add(s, "schedules", json_object_new_uint64(er->schedules));
	json_object_object_add(s, "complete", json_object_new_boolean(er->complete));
	json_object_object_add(s, "trace_hash", json_object_new_string(h));
	json_object_object_add(s, "id", json_object_new_string(er->id));
	json_object_object_add(s, "found", json_object_new_boolean(er->found));
	json_object_object_add(s, "steps", json_object_new_uint64(er->steps));
	json_object_object_add(s, "virtual_ms", json_object_new_double((double)er->vtime_ns / 1e6));
	if (er->wall_ns)
		json_object_object_add(s, "wall_ms", json_object_new_double((double)er->wall_ns / 1e6));
	if (er->shard_count > 1) {
		struct json_object *sh = json_object_new_object();

		json_object_object_add(sh, "index", json_object_new_int((int)er->shard_index + 1));
		json_object_object_add(sh, "count", json_object_new_int((int)er->shard_count));
		json_object_object_add(s, "shard", sh);
	} else {
		json_object_object_add(s, "shard", NULL);
	}
	if (er->strategy == NVR_EXPLORE_PCT && er->pct_n) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "bound", json_object_new_double(er->pct_bound));
		json_object_object_add(p, "n", json_object_new_int((int)er->pct_n));
		json_object_object_add(p, "k", json_object_new_uint64(er->pct_k));
		json_object_object_add(p, "d", json_object_new_int((int)er->pct_d));
		json_object_object_add(s, "pct", p);
	}
	return s;
}

int explore_replay(char *buf, size_t len, const struct explore_cfg *x,
		   const struct nvr_explore_result *er)
{
	static const char prefix[] = "nvmerace run";
	uint64_t budget = x->budget;
	char rest[1024], mode[200], bound[96] = "";
	int n;

	if (strncmp(buf, prefix, sizeof(prefix) - 1))
		return 0;
	snprintf(rest, sizeof(rest), "%s", buf + sizeof(prefix) - 1);
	if (!budget)
		budget = er->strategy == NVR_EXPLORE_DFS ? 2000 : 20;
	if (x->bound >= 0 && x->delay_bound >= 0)
		snprintf(bound, sizeof(bound), " --bound %d,%d", x->bound, x->delay_bound);
	else if (x->bound >= 0)
		snprintf(bound, sizeof(bound), " --bound %d", x->bound);
	if (x->shard_n > 1)
		snprintf(bound + strlen(bound), sizeof(bound) - strlen(bound), " --shard %u/%u",
			 x->shard_k, x->shard_n);
	if (x->jobs > 1)
		snprintf(bound + strlen(bound), sizeof(bound) - strlen(bound), " --jobs %u",
			 x->jobs);
	if (x->steps)
		snprintf(bound + strlen(bound), sizeof(bound) - strlen(bound), " --steps %" PRIu64,
			 x->steps);
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
