// SPDX-License-Identifier: MIT
/*
 * Model mode end to end: nvmerace explore, run --sched model and
 * run --schedule, through the normal binary ($NVR, ./nvmerace), which execs
 * the model build beside it (build/model/nvmerace). The seed races are
 * caught by schedules the model chose, with no timing knob; the correct
 * designs stay clean; the same schedule gives the same trace on every run.
 * Everything here is virtual time: each run takes milliseconds.
 */
#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "run_bin.h"
#include "suite_main.h"

/* The "sched" object of the JSON report's first row. */
static struct json_object *sched_of(const char *path, struct json_object **root)
{
	struct json_object *rows, *row, *s;

	*root = json_object_from_file(path);
	ck_assert_ptr_nonnull(*root);
	ck_assert(json_object_object_get_ex(*root, "scenarios", &rows));
	row = json_object_array_get_idx(rows, 0);
	ck_assert_ptr_nonnull(row);
	ck_assert(json_object_object_get_ex(row, "sched", &s));
	return s;
}

static const char *field(struct json_object *o, const char *k)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no \"%s\"", k);
	return json_object_get_string(v);
}

/* Seed 000: unexcluded reapers consume a CQE twice; the try-lock strands one. */
START_TEST(test_pollers_caught)
{
	static struct out o;

	/*
	 * none is caught by the first schedule of any seed; trylock needs the
	 * interrupt to land while the timeout poller holds the CQ: seed 3 finds
	 * such a schedule within 40 (a fixed search, the same on every machine).
	 */
	RUN(&o, "explore", "-q", "--seed", "3", "--budget", "40", "--only",
	    "concurrent-pollers/none", "--only", "concurrent-pollers/trylock",
	    "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "2 caught, 0 failed"));
}
END_TEST

/* The correct designs: no schedule breaks them. */
START_TEST(test_pollers_clean)
{
	static struct out o;

	RUN(&o, "explore", "-q", "--seed", "3", "--budget", "3", "--only",
	    "concurrent-pollers/mutex", "--only", "concurrent-pollers/cas",
	    "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
}
END_TEST

/* Seed 004: the host's shadow store still buffered while it loads EventIdx. */
START_TEST(test_shadow_caught_and_clean)
{
	static struct out o;

	RUN(&o, "explore", "--seed", "5", "--budget", "3", "--only",
	    "shadow-doorbells/barrier-none", "--only", "shadow-doorbells/barrier-full",
	    "scenarios/shadow-doorbells.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "caught"));
}
END_TEST

/* Seed 001: the fire-and-forget keep-alive's completion lands after the teardown. */
START_TEST(test_keepalive_caught)
{
	static struct out o;

	RUN(&o, "run", "--sched", "model", "--seed", "2", "--only", "keep-alive-shutdown/async",
	    "scenarios/keep-alive-shutdown.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "dma_after_teardown"));
	/* KATO runs out on the virtual clock: the controller says so with CFS. */
	RUN(&o, "run", "--sched", "model", "--seed", "2", "--only",
	    "keep-alive-shutdown/kato-expires", "scenarios/keep-alive-shutdown.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "caught cfs"));
}
END_TEST

/*
 * Device races judged on virtual time: completions parked behind a full CQ
 * are lost past the 1 s command timeout. The model's device sleeps until a
 * doorbell rather than spin, so the clock gets there within the step budget.
 */
START_TEST(test_cq_eventidx_judged)
{
	static struct out o;

	RUN(&o, "run", "-q", "--sched", "model", "--seed", "1",
	    "scenarios/cq-eventidx-missing.yaml", "--only", "cq-eventidx-full/fixed", "--only",
	    "cq-eventidx-full/eventidx-at-tail", "--only", "cq-eventidx-missing",
	    "scenarios/cq-eventidx-full.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "2 clean, 2 caught, 0 failed"));
}
END_TEST

/*
 * The device races in model mode: each buggy device, caught by a schedule
 * the explorer chose with seed 1 (the rows that take seconds there, whose
 * clean twins take tens, are measured in the README instead).
 */
START_TEST(test_device_races_caught)
{
	static struct out o;

	RUN(&o, "explore", "-q", "--seed", "1",
	    "--only", "abort-race/completes-twice", "--only", "abort-race/says-aborted",
	    "--only", "cid-before-phase/cid-first", "--only", "cq-overwrite/overrun",
	    "--only", "need-event-boundary/wait-linux", "--only", "queue-id-reuse/stale-head",
	    "--only", "reset-under-io/completes-after-reset",
	    "--only", "reset-under-io/completes-after-flr",
	    "--only", "sq-delete-inflight/completes-after-delete",
	    "--only", "stale-dbbuf-reset/keeps-pages", "--only", "sq-overcommit/no-restart",
	    "scenarios/abort-race.yaml", "scenarios/cid-before-phase.yaml",
	    "scenarios/cq-overwrite.yaml", "scenarios/need-event-boundary.yaml",
	    "scenarios/queue-id-reuse.yaml", "scenarios/reset-under-io.yaml",
	    "scenarios/sq-delete-inflight.yaml", "scenarios/stale-dbbuf-reset.yaml",
	    "scenarios/sq-overcommit.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "0 clean, 11 caught, 0 failed"));
}
END_TEST

/* One schedule id, one trace: twice from the seed, once more from the file. */
START_TEST(test_replay_same_trace)
{
	static struct out o;
	struct json_object *a, *b, *c;
	char ha[32], hb[32], hc[32];
	char sched[] = "/tmp/nvr-explore-sched-XXXXXX";
	int fd = mkstemp(sched);

	ck_assert(fd >= 0);
	close(fd);
	RUN(&o, "run", "-q", "--sched", "model", "--seed", "2", "--json", "/tmp/nvr-explore-a.json",
	    "--schedule-out", sched, "--only", "concurrent-pollers/none",
	    "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	RUN(&o, "run", "-q", "--sched", "model", "--seed", "2", "--json", "/tmp/nvr-explore-b.json",
	    "--only", "concurrent-pollers/none", "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	RUN(&o, "run", "-q", "--schedule", sched, "--json", "/tmp/nvr-explore-c.json", "--only",
	    "concurrent-pollers/none", "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	snprintf(ha, sizeof(ha), "%s", field(sched_of("/tmp/nvr-explore-a.json", &a), "trace_hash"));
	snprintf(hb, sizeof(hb), "%s", field(sched_of("/tmp/nvr-explore-b.json", &b), "trace_hash"));
	snprintf(hc, sizeof(hc), "%s", field(sched_of("/tmp/nvr-explore-c.json", &c), "trace_hash"));
	ck_assert_str_eq(ha, hb);
	ck_assert_str_eq(ha, hc);
	/* The report read first is done with: read it again for the mode. */
	json_object_put(a);
	ck_assert_str_eq(field(sched_of("/tmp/nvr-explore-a.json", &a), "mode"), "model");
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
	unlink(sched);
	unlink("/tmp/nvr-explore-a.json");
	unlink("/tmp/nvr-explore-b.json");
	unlink("/tmp/nvr-explore-c.json");
}
END_TEST

static uint64_t num(struct json_object *o, const char *k)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no \"%s\"", k);
	return (uint64_t)json_object_get_int64(v);
}

/* The "sched" object's @k of the report @path's first row. */
static uint64_t sched_num(const char *path, const char *k)
{
	struct json_object *root;
	uint64_t v = num(sched_of(path, &root), k);

	json_object_put(root);
	return v;
}

/*
 * The column of a timeline line: the actor whose step it is (the header's
 * layout: "  step", then two spaces and 24 columns per actor), -1 for none.
 */
static int tl_column(const char *line)
{
	size_t i = 6;

	if (strlen(line) <= i || line[0] == '\n')
		return -1;
	while (line[i] == ' ')
		i++;
	if (line[i] == '\0' || line[i] == '\n' || i < 8)
		return -1;
	return (int)((i - 8) / 26);
}

static int tl_actor(const char *header, const char *name)
{
	const char *p = strstr(header, name);

	ck_assert_ptr_nonnull(p);
	return (int)(((size_t)(p - header) - 8) / 26);
}

/*
 * Seeds 002/003 with the MSI-X table as shared words: the torn sample is a
 * schedule the model chose (torn_sample is off in model mode) in which the
 * device reads entry 1 (ld msix[1].addr) after the mover's address write
 * and before its data write. The correct updates, mask and two-step, stay
 * clean over their whole bounded dfs space.
 */
START_TEST(test_msix_torn_between_writes)
{
	static struct out o;
	char tl[] = "/tmp/nvr-explore-msix-XXXXXX", js[] = "/tmp/nvr-explore-msixj-XXXXXX";
	char line[512], header[512];
	int fd = mkstemp(tl), jfd = mkstemp(js), dev, mover, between = 0;
	bool half = false, sampled = false;
	struct json_object *root, *rows;
	FILE *f;

	ck_assert(fd >= 0 && jfd >= 0);
	close(fd);
	close(jfd);
	RUN(&o, "explore", "-q", "--seed", "1", "--only", "msix-reprogram/unmasked", "--timeline",
	    tl, "--timeline-shared", "scenarios/msix-reprogram.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "1 caught, 0 failed"));
	f = fopen(tl, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(header, sizeof(header), f));
	dev = tl_actor(header, "device");
	mover = tl_actor(header, "mover");
	while (fgets(line, sizeof(line), f)) {
		int col = tl_column(line);

		if (col == mover && strstr(line, " msix[1].addr=") && !strstr(line, "ld msix")) {
			half = true;
			sampled = false;
		} else if (col == mover && strstr(line, " msix[1].data=") &&
			   !strstr(line, "ld msix")) {
			between += half && sampled;
			half = false;
		} else if (col == dev && half && strstr(line, "ld msix[1].addr=")) {
			sampled = true;
		}
	}
	fclose(f);
	ck_assert_msg(between > 0, "no device sample of msix[1] between the mover's two writes");
	unlink(tl);

	RUN(&o, "explore", "-q", "--strategy", "dfs", "--bound", "0", "--budget", "100000",
	    "--seed", "1", "--set", "sched.count=1", "--only", "msix-reprogram/mask", "--only",
	    "msix-reprogram/two-step", "--json", js, "scenarios/msix-reprogram.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "2 clean, 0 caught, 0 failed"));
	root = json_object_from_file(js);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "scenarios", &rows));
	ck_assert_int_eq(json_object_array_length(rows), 2);
	for (size_t i = 0; i < 2; i++) {
		struct json_object *s, *v;

		ck_assert(json_object_object_get_ex(json_object_array_get_idx(rows, i), "sched",
						    &s));
		ck_assert(json_object_object_get_ex(s, "complete", &v));
		ck_assert_msg(json_object_get_boolean(v), "row %zu: space not complete", i);
		ck_assert_uint_gt(num(s, "schedules"), 1);
	}
	json_object_put(root);
	unlink(js);
}
END_TEST

#define DFS_SMALL "explore", "-q", "--strategy", "dfs", "--bound", "1", "--seed", "1", \
	"--set", "actors.io.steps.0.submit.count=1", "--set", "actors.io.steps.0.submit.qd=1", \
	"--only", "shadow-doorbells/barrier-full", "scenarios/shadow-doorbells.yaml"

/* Shards 1/2 and 2/2 together run what 1/1 runs: a dfs space and a random seed range. */
START_TEST(test_shards_cover)
{
	static struct out o;
	uint64_t whole, a, b;
	struct json_object *root, *sh;

	RUN(&o, DFS_SMALL, "--json", "/tmp/nvr-explore-s0.json");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	RUN(&o, DFS_SMALL, "--shard", "1/2", "--json", "/tmp/nvr-explore-s1.json");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	RUN(&o, DFS_SMALL, "--shard", "2/2", "--json", "/tmp/nvr-explore-s2.json",
	    "--junit", "/tmp/nvr-explore-s2.xml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	whole = sched_num("/tmp/nvr-explore-s0.json", "schedules");
	a = sched_num("/tmp/nvr-explore-s1.json", "schedules");
	b = sched_num("/tmp/nvr-explore-s2.json", "schedules");
	ck_assert(sched_num("/tmp/nvr-explore-s0.json", "complete"));
	ck_assert(sched_num("/tmp/nvr-explore-s1.json", "complete"));
	ck_assert(sched_num("/tmp/nvr-explore-s2.json", "complete"));
	ck_assert(a > 0 && b > 0);
	ck_assert_uint_eq(a + b, whole);
	/* The reports say which shard they hold. */
	sh = json_object_object_get(sched_of("/tmp/nvr-explore-s2.json", &root), "shard");
	ck_assert_uint_eq(num(sh, "index"), 2);
	ck_assert_uint_eq(num(sh, "count"), 2);
	json_object_put(root);
	ck_assert(!json_object_object_get(sched_of("/tmp/nvr-explore-s0.json", &root), "shard"));
	json_object_put(root);
	{
		FILE *f = fopen("/tmp/nvr-explore-s2.xml", "r");
		static char xml[65536];
		size_t n;

		ck_assert_ptr_nonnull(f);
		n = fread(xml, 1, sizeof(xml) - 1, f);
		xml[n] = '\0';
		fclose(f);
		ck_assert_ptr_nonnull(strstr(xml, "<property name=\"shard\" value=\"2/2\"/>"));
		ck_assert_ptr_nonnull(strstr(xml, "--shard 2/2"));
	}

	/* random: a budget of 5 runs split 3 + 2; a clean row runs them all. */
	RUN(&o, "explore", "-q", "--seed", "7", "--budget", "5", "--only",
	    "concurrent-pollers/mutex", "--shard", "1/2", "--json", "/tmp/nvr-explore-s1.json",
	    "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	RUN(&o, "explore", "-q", "--seed", "7", "--budget", "5", "--only",
	    "concurrent-pollers/mutex", "--shard", "2/2", "--json", "/tmp/nvr-explore-s2.json",
	    "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_uint_eq(sched_num("/tmp/nvr-explore-s1.json", "schedules"), 3);
	ck_assert_uint_eq(sched_num("/tmp/nvr-explore-s2.json", "schedules"), 2);
	unlink("/tmp/nvr-explore-s0.json");
	unlink("/tmp/nvr-explore-s1.json");
	unlink("/tmp/nvr-explore-s2.json");
	unlink("/tmp/nvr-explore-s2.xml");
}
END_TEST

/* The verdicts of row @name in the text of @o. */
static const char *verdict_of(const struct out *o, const char *name, char *buf, size_t len)
{
	const char *p = strstr(o->out, name);

	ck_assert_msg(p, "no row %s in\n%s", name, o->out);
	while (p > o->out && p[-1] != '\n')
		p--;
	snprintf(buf, len, "%.4s", p);
	return buf;
}

/*
 * Seed 000 exhaustively: one command, at most one preemption and no delayed
 * store (--bound 1,0). The same space that holds none's duplicate (found at
 * schedule 134) is complete for mutex and cas, and none of its schedules
 * breaks them.
 */
START_TEST(test_pollers_exhaustive)
{
	static const char *const rows[] = { "concurrent-pollers/mutex", "concurrent-pollers/cas",
					    "concurrent-pollers/none" };
	static struct out o;
	char js[] = "/tmp/nvr-explore-ex-XXXXXX";
	struct json_object *root, *list;
	int fd = mkstemp(js);

	ck_assert_int_ge(fd, 0);
	close(fd);
	RUN(&o, "explore", "-q", "--strategy", "dfs", "--bound", "1,0", "--budget", "30000",
	    "--seed", "1", "--set", "sched.count=1", "--only", rows[0], "--only", rows[1],
	    "--only", rows[2], "--json", js, "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	root = json_object_from_file(js);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "scenarios", &list));
	ck_assert_uint_eq(json_object_array_length(list), 3);
	for (size_t i = 0; i < 3; i++) {
		struct json_object *row = json_object_array_get_idx(list, i), *s;
		const char *name = field(row, "row");

		ck_assert(json_object_object_get_ex(row, "sched", &s));
		ck_assert_int_eq(num(s, "bound"), 1);
		ck_assert_int_eq(num(s, "delay_bound"), 0);
		ck_assert_str_eq(field(row, "verdict"), "pass");
		if (!strcmp(name, "none")) {
			ck_assert(json_object_get_boolean(json_object_object_get(s, "found")));
		} else {
			ck_assert_msg(json_object_get_boolean(json_object_object_get(s, "complete")),
				      "%s: space not complete", name);
			ck_assert(!json_object_get_boolean(json_object_object_get(s, "found")));
			ck_assert_uint_gt(num(s, "schedules"), 1000);
		}
	}
	json_object_put(root);
	unlink(js);
}
END_TEST

/*
 * In timeline @path, the step of the first line of each of the @n actors
 * @names (into @first; 0: none) and that of actor @io (into @io_first).
 */
static void first_steps(const char *path, const char *const *names, int n, long *first,
			const char *io, long *io_first)
{
	char line[512], header[512];
	int col[8], io_col;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(header, sizeof(header), f));
	for (int i = 0; i < n; i++) {
		col[i] = tl_actor(header, names[i]);
		first[i] = 0;
	}
	io_col = tl_actor(header, io);
	*io_first = 0;
	while (fgets(line, sizeof(line), f)) {
		int c = tl_column(line);
		long step = strtol(line + 1, NULL, 10);

		if (c < 0 || step <= 0)
			continue;
		for (int i = 0; i < n; i++)
			if (c == col[i] && !first[i])
				first[i] = step;
		if (c == io_col && !*io_first)
			*io_first = step;
	}
	fclose(f);
}

/*
 * sched.handlers_first: the four interrupt handlers of msix-reprogram take
 * their first step before the io actor takes its first; without the key
 * (the same seed) the io actor starts before some of them.
 */
START_TEST(test_handlers_first)
{
	static const char *const handlers[] = { "cpu0", "cpu1", "other5", "other2" };
	static struct out o;
	char tl[] = "/tmp/nvr-explore-hf-XXXXXX";
	int fd = mkstemp(tl);
	long first[4], io;
	bool after;

	ck_assert_int_ge(fd, 0);
	close(fd);
	for (int on = 1; on >= 0; on--) {
		RUN(&o, "run", "-q", "--sched", "model", "--seed", "1", "--set", "sched.count=1",
		    "--set", on ? "sched.handlers_first=true" : "sched.handlers_first=false",
		    "--only", "msix-reprogram/mask", "--timeline", tl,
		    "scenarios/msix-reprogram.yaml");
		ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
		first_steps(tl, handlers, 4, first, "io", &io);
		ck_assert_int_gt(io, 0);
		after = false;
		for (int i = 0; i < 4; i++) {
			ck_assert_msg(first[i] > 0, "%s took no step", handlers[i]);
			after |= first[i] > io;
		}
		ck_assert_msg(after != on, "handlers_first=%d: io's first step %ld, handlers' %ld "
			      "%ld %ld %ld", on, io, first[0], first[1], first[2], first[3]);
	}
	unlink(tl);
}
END_TEST

/*
 * Seeds 002/003 exhaustively: one command, a device that completes it as
 * soon as it fetches it (latency 0), the interrupt handlers waiting before
 * the row starts (sched.handlers_first), at most one preemption and no
 * delayed store. The same space that holds unmasked's torn sample (the
 * device's sample between the mover's address and data writes: a spurious
 * interrupt on vector 5, the completion missed on vector 1) is complete for
 * mask and two-step, and none of its schedules breaks them.
 */
START_TEST(test_msix_exhaustive)
{
	static const char *const rows[] = { "msix-reprogram/mask", "msix-reprogram/two-step",
					    "msix-reprogram/unmasked" };
	static struct out o;
	char js[] = "/tmp/nvr-explore-mx-XXXXXX";
	struct json_object *root, *list;
	int fd = mkstemp(js);

	ck_assert_int_ge(fd, 0);
	close(fd);
	RUN(&o, "explore", "-q", "--strategy", "dfs", "--bound", "1,0", "--budget", "5000",
	    "--seed", "1", "--set", "sched.count=1", "--set", "device.sim.latency_us=0", "--set",
	    "sched.handlers_first=true", "--only", rows[0], "--only", rows[1], "--only", rows[2],
	    "--json", js, "scenarios/msix-reprogram.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	root = json_object_from_file(js);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "scenarios", &list));
	ck_assert_uint_eq(json_object_array_length(list), 3);
	for (size_t i = 0; i < 3; i++) {
		struct json_object *row = json_object_array_get_idx(list, i), *s, *an;
		const char *name = field(row, "row");
		bool complete, found;

		ck_assert(json_object_object_get_ex(row, "sched", &s));
		ck_assert_int_eq(num(s, "bound"), 1);
		ck_assert_int_eq(num(s, "delay_bound"), 0);
		ck_assert_str_eq(field(row, "verdict"), "pass");
		ck_assert(json_object_object_get_ex(row, "anomalies", &an));
		complete = json_object_get_boolean(json_object_object_get(s, "complete"));
		found = json_object_get_boolean(json_object_object_get(s, "found"));
		if (!strcmp(name, "unmasked")) {
			ck_assert(found);
			ck_assert_uint_gt(num(an, "spurious_irq"), 0);
			ck_assert_uint_gt(num(an, "missed_irq"), 0);
		} else {
			ck_assert_msg(complete, "%s: space not complete", name);
			ck_assert(!found);
			ck_assert_uint_gt(num(s, "schedules"), 100);
			ck_assert_uint_eq(num(an, "spurious_irq"), 0);
			ck_assert_uint_eq(num(an, "missed_irq"), 0);
		}
	}
	json_object_put(root);
	unlink(js);
}
END_TEST

/*
 * A schedule that does not end is a hang: it breaks a clean row, and catches
 * no bug. Under the default schedule (dfs, bound 0, one schedule) the sync
 * keep-alive used to take the admin queue again at once, every time, and the
 * teardown waiting for it never ran: the row hit the step budget, and passed
 * with 0 commands. Now it runs its 200.
 */
START_TEST(test_hang_fails)
{
	static struct out o;
	char js[] = "/tmp/nvr-explore-hang-XXXXXX";
	struct json_object *root, *list, *row;
	int fd;

	RUN(&o, "explore", "--seed", "1", "--budget", "2", "--steps", "1000", "--only",
	    "concurrent-pollers/mutex", "--only", "concurrent-pollers/none",
	    "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(o.status == 1, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "the schedule hung the row: still running after 1000 "
				    "steps"));
	ck_assert_ptr_nonnull(strstr(o.out, "no schedule of 2 caught the bug"));
	ck_assert_ptr_nonnull(strstr(o.out, "--steps 1000"));

	fd = mkstemp(js);
	ck_assert_int_ge(fd, 0);
	close(fd);
	RUN(&o, "explore", "-q", "--strategy", "dfs", "--bound", "0", "--budget", "1", "--seed",
	    "1", "--only", "keep-alive-shutdown/sync", "--json", js,
	    "scenarios/keep-alive-shutdown.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	root = json_object_from_file(js);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "scenarios", &list));
	row = json_object_array_get_idx(list, 0);
	ck_assert_str_eq(field(row, "verdict"), "pass");
	ck_assert_uint_eq(num(row, "commands"), 200);
	json_object_put(root);
	unlink(js);
}
END_TEST

/* --jobs 2: the workers' results merge into the verdicts --jobs 1 gives. */
START_TEST(test_jobs_same_verdicts)
{
	static const char *const rows[] = { "concurrent-pollers/none", "concurrent-pollers/mutex",
					    "concurrent-pollers/cas" };
	static struct out one, two;
	char a[8], b[8];

	RUN(&one, "explore", "--seed", "3", "--budget", "4", "--only", "concurrent-pollers/none",
	    "--only", "concurrent-pollers/mutex", "--only", "concurrent-pollers/cas",
	    "scenarios/concurrent-pollers.yaml");
	RUN(&two, "explore", "--seed", "3", "--budget", "4", "--jobs", "2", "--only",
	    "concurrent-pollers/none", "--only", "concurrent-pollers/mutex", "--only",
	    "concurrent-pollers/cas", "scenarios/concurrent-pollers.yaml");
	ck_assert_msg(one.status == 0, "status %d\n%s%s", one.status, one.out, one.err);
	ck_assert_int_eq(two.status, one.status);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ck_assert_str_eq(verdict_of(&one, rows[i], a, sizeof(a)),
				 verdict_of(&two, rows[i], b, sizeof(b)));
	ck_assert_ptr_nonnull(strstr(two.out, "2 clean, 1 caught, 0 failed"));

	/* A dfs space: the workers' schedules add up to the whole. */
	RUN(&one, DFS_SMALL, "--json", "/tmp/nvr-explore-j1.json");
	RUN(&two, DFS_SMALL, "--jobs", "2", "--json", "/tmp/nvr-explore-j2.json");
	ck_assert_int_eq(one.status, 0);
	ck_assert_int_eq(two.status, 0);
	ck_assert_uint_eq(sched_num("/tmp/nvr-explore-j1.json", "schedules"),
			  sched_num("/tmp/nvr-explore-j2.json", "schedules"));
	ck_assert(sched_num("/tmp/nvr-explore-j2.json", "complete"));
	unlink("/tmp/nvr-explore-j1.json");
	unlink("/tmp/nvr-explore-j2.json");
}
END_TEST

/* pct says the bound it guarantees, and from which n, k, d. */
START_TEST(test_pct_bound)
{
	static struct out o;
	struct json_object *root, *p;
	double n, k, d, bound;

	RUN(&o, "explore", "--strategy", "pct", "--bound", "2", "--seed", "4", "--budget", "3",
	    "--json", "/tmp/nvr-explore-pct.json", "--only", "shadow-doorbells/barrier-full",
	    "scenarios/shadow-doorbells.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "pct bound 1/(n*k^(d-1)) = "));
	p = json_object_object_get(sched_of("/tmp/nvr-explore-pct.json", &root), "pct");
	ck_assert_ptr_nonnull(p);
	n = (double)num(p, "n");
	k = (double)num(p, "k");
	d = (double)num(p, "d");
	bound = json_object_get_double(json_object_object_get(p, "bound"));
	ck_assert(d == 2 && n >= 2 && k >= 1);
	ck_assert_double_eq_tol(bound, 1.0 / (n * k), 1e-12);
	json_object_put(root);
	unlink("/tmp/nvr-explore-pct.json");
}
END_TEST

START_TEST(test_usage)
{
	static struct out o;

	RUN(&o, "run", "--sched", "model", "--device", "0000:01:00.0", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	RUN(&o, "run", "--sched", "model", "--target", "tcp://127.0.0.1/nqn.2026-12.x", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "no --device or --target"));
	RUN(&o, "run", "--sched", "fast", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: invalid --sched 'fast'"));
	RUN(&o, "explore", "--strategy", "bfs", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	RUN(&o, "run", "--bound", "2", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	for (int i = 0; i < 4; i++) {
		static const char *const bad[] = { "1,", ",1", "1,x", "1,2,3" };

		RUN(&o, "explore", "--bound", bad[i], "x.yaml");
		ck_assert_int_eq(o.status, 2);
		ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: invalid --bound '"));
	}
	RUN(&o, "explore", "--bound", "65,0", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	RUN(&o, "explore", "--shard", "3/2", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: invalid --shard '3/2'"));
	RUN(&o, "explore", "--shard", "0/2", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	RUN(&o, "explore", "--jobs", "0", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	RUN(&o, "explore", "--budget", "3", "--shard", "1/2", "--jobs", "2", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	RUN(&o, "run", "--shard", "1/2", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	RUN(&o, "run", "--sched", "model", "--timeline-shared", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "give both"));
}
END_TEST

/* The filtered timeline of seed 004's catch: labeled columns, far fewer lines. */
START_TEST(test_timeline_shared)
{
	static struct out o;
	static char all[1 << 16], some[1 << 22];
	char fa[] = "/tmp/nvr-explore-tla-XXXXXX", fs[] = "/tmp/nvr-explore-tls-XXXXXX";
	int a = mkstemp(fa), b = mkstemp(fs);
	size_t na, ns, la = 0, ls = 0;
	FILE *f;

	ck_assert(a >= 0 && b >= 0);
	close(a);
	close(b);
	RUN(&o, "run", "-q", "--sched", "model", "--seed", "2", "--timeline", fa, "--only",
	    "shadow-doorbells/barrier-none", "scenarios/shadow-doorbells.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	RUN(&o, "run", "-q", "--sched", "model", "--seed", "2", "--timeline", fs,
	    "--timeline-shared", "--only", "shadow-doorbells/barrier-none",
	    "scenarios/shadow-doorbells.yaml");
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
	f = fopen(fa, "r");
	ck_assert_ptr_nonnull(f);
	while ((na = fread(all, 1, sizeof(all) - 1, f)) > 0)
		for (size_t i = 0; i < na; i++)
			la += all[i] == '\n';
	fclose(f);
	f = fopen(fs, "r");
	ck_assert_ptr_nonnull(f);
	ns = fread(some, 1, sizeof(some) - 1, f);
	some[ns] = '\0';
	for (size_t i = 0; i < ns; i++)
		ls += some[i] == '\n';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(some, "runner"));
	ck_assert_ptr_nonnull(strstr(some, "device"));
	ck_assert_ptr_nonnull(strstr(some, "io"));
	ck_assert_ptr_nonnull(strstr(some, "left out)"));
	ck_assert_ptr_nonnull(strstr(some, "end: done"));
	/* At most half: the whole has no idle spins' naps since nvr_spin_idle(). */
	ck_assert_msg(ls * 2 < la, "%zu lines filtered, %zu whole", ls, la);
	unlink(fa);
	unlink(fs);
}
END_TEST

/*
 * SIGINT during an exploration: the schedule under way ends whole, no other
 * starts, and the report says how many ran, marked interrupted (it was an
 * error with 0 schedules: the signal cut a schedule and dfs saw a replay
 * that did not repeat itself). The signal is sent once the second schedule's
 * bring-up is logged, so at least one schedule has ended.
 */
START_TEST(test_interrupted)
{
	char js[] = "/tmp/nvr-explore-int-XXXXXX", line[512];
	struct json_object *root, *rows, *row, *s, *v;
	int fd, st, bringups = 0;
	FILE *err;
	pid_t pid;

	fd = mkstemp(js);
	ck_assert_int_ge(fd, 0);
	close(fd);
	err = spawn_err((const char *const[]){ "explore", "-v", "--strategy", "dfs", "--budget",
						"100000", "--seed", "1", "--only",
						"msix-reprogram/mask", "--json", js,
						"scenarios/msix-reprogram.yaml", NULL }, &pid);
	ck_assert_ptr_nonnull(err);
	while (fgets(line, sizeof(line), err))
		if (strstr(line, "bring-up: CAP") && ++bringups == 2) {
			kill(pid, SIGINT);
			break;
		}
	while (fgets(line, sizeof(line), err))
		;	/* drain: the child must not block on a full pipe */
	fclose(err);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status 0x%x", st);
	s = sched_of(js, &root);
	ck_assert(json_object_object_get_ex(root, "interrupted", &v) && json_object_get_boolean(v));
	ck_assert_uint_ge(num(s, "schedules"), 1);
	ck_assert(!json_object_get_boolean(json_object_object_get(s, "complete")));
	ck_assert(json_object_object_get_ex(root, "scenarios", &rows));
	row = json_object_array_get_idx(rows, 0);
	ck_assert_str_eq(field(row, "verdict"), "pass");
	ck_assert(json_object_get_boolean(json_object_object_get(row, "interrupted")));
	snprintf(line, sizeof(line), "interrupted after %" PRIu64 " schedules", num(s, "schedules"));
	ck_assert_msg(strstr(field(row, "reason"), line), "%s", field(row, "reason"));
	json_object_put(root);
	unlink(js);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("explore");
	TCase *tc = tcase_create("explore");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_pollers_caught);
	tcase_add_test(tc, test_pollers_clean);
	tcase_add_test(tc, test_pollers_exhaustive);
	tcase_add_test(tc, test_msix_exhaustive);
	tcase_add_test(tc, test_handlers_first);
	tcase_add_test(tc, test_hang_fails);
	tcase_add_test(tc, test_shadow_caught_and_clean);
	tcase_add_test(tc, test_keepalive_caught);
	tcase_add_test(tc, test_cq_eventidx_judged);
	tcase_add_test(tc, test_device_races_caught);
	tcase_add_test(tc, test_replay_same_trace);
	tcase_add_test(tc, test_shards_cover);
	tcase_add_test(tc, test_jobs_same_verdicts);
	tcase_add_test(tc, test_pct_bound);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_timeline_shared);
	tcase_add_test(tc, test_msix_torn_between_writes);
	tcase_add_test(tc, test_interrupted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(suite());
}
