// SPDX-License-Identifier: MIT
/*
 * The command line as a user meets it: exit statuses, messages, the JSON and
 * JUnit reports read back, a failing row's replay line. Runs ./nvmerace (or
 * $NVR) as a child process.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "run_bin.h"
#include "suite_main.h"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_usage_errors)
{
	static struct out o;

	RUN(&o, "--version");
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "nvmerace "));
	run(&o, (const char *const[]){ NULL });
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: no command given\n"));
	/* getopt's own messages carry the prefix too. */
	RUN(&o, "run", "--bogus", "x.yaml");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: run: unrecognized option '--bogus'"));
	RUN(&o, "identify", "-Z");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: identify: invalid option -- 'Z'"));
	RUN(&o, "frobnicate");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "unknown command 'frobnicate'"));
	RUN(&o, "help", "run");
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "--seed"));
	ck_assert_ptr_nonnull(strstr(o.out, "--junit"));
	RUN(&o, "run");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "no scenario files"));
	RUN(&o, "run", "--repeat", "0", "scenarios/clean-soak.yaml");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "invalid repeat count '0'"));
	RUN(&o, "run", "--seed", "12x", "scenarios/clean-soak.yaml");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "invalid seed '12x'"));
	RUN(&o, "identify", "--lba-size", "1000");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "must be 512 or 4096"));
	RUN(&o, "run", "/nonexistent/x.yaml");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "/nonexistent/x.yaml"));
}
END_TEST

START_TEST(test_identify_json)
{
	static struct out o;
	struct json_object *j, *v, *ns;

	RUN(&o, "identify", "--json", "--lba-size", "4096");
	ck_assert_int_eq(o.status, 0);
	j = json_tokener_parse(o.out);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "model", &v));
	ck_assert_str_eq(json_object_get_string(v), "nvmerace simulated controller");
	ck_assert(json_object_object_get_ex(j, "mqes", &v));
	ck_assert_int_eq(json_object_get_int(v), 1024);
	ck_assert(json_object_object_get_ex(j, "namespaces", &ns));
	ck_assert_int_eq((int)json_object_array_length(ns), 1);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(ns, 0), "lba_size", &v));
	ck_assert_int_eq(json_object_get_int(v), 4096);
	json_object_put(j);

	RUN(&o, "identify");
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "serial:      NVRSIM0001"));
}
END_TEST

static const char small_scn[] =
	"name: small\n"
	"queues:\n"
	"  - { id: 1, depth: 32, vector: 1 }\n"
	"  - { id: 2, depth: 32, vector: polled }\n"
	"actors:\n"
	"  - name: io1\n"
	"    steps: [ { submit: { queue: 1, op: mix, qd: 8, count: 4000, verify: true } } ]\n"
	"  - name: io2\n"
	"    steps: [ { submit: { queue: 2, op: write, qd: 8, count: 4000 } } ]\n"
	"  - name: isr\n"
	"    steps: [ { reap: { queue: 1, wake: irq } } ]\n"
	/* This checks the reports, not the detector: windows wide enough that a
	 * loaded CI machine cannot turn a slow thread into an anomaly. */
	"timeouts: { command_ms: 10000, stall_ms: 10000 }\n"
	"matrix:\n"
	"  - { name: clean, expect: { lost: 0, duplicate: 0, spurious: 0 } }\n"
	"  - { name: wrong, expect: { lost: \">0\" } }\n";

START_TEST(test_reports)
{
	static struct out o;
	char dir[] = "/tmp/nvr-cli-XXXXXX", scn[256], js[256], xml[256], cmd[1024];
	struct json_object *j, *arr, *e, *v, *an;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(scn, sizeof(scn), "%s/small.yaml", dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	snprintf(xml, sizeof(xml), "%s/r.xml", dir);
	write_text(scn, small_scn);

	RUN(&o, "run", "--list", scn);
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "small/clean\t"));
	ck_assert_ptr_nonnull(strstr(o.out, "small/wrong\t"));

	RUN(&o, "run", "--seed", "77", "--json", js, "--junit", xml, scn);
	/* The "wrong" row expects lost commands on a clean device: it fails. */
	ck_assert_int_eq(o.status, 1);
	ck_assert_ptr_nonnull(strstr(o.out, "PASS  small/clean"));
	ck_assert_ptr_nonnull(strstr(o.out, "FAIL  small/wrong"));
	ck_assert_ptr_nonnull(strstr(o.out, "lost 0, expected >0"));
	ck_assert_ptr_nonnull(strstr(o.out, "replay: nvmerace run --seed 77 --only small/wrong "));
	ck_assert_ptr_nonnull(strstr(o.out, "1 clean, 0 caught, 1 failed, 0 skipped, 0 errors"));

	j = json_object_from_file(js);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "scenarios", &arr));
	ck_assert_int_eq((int)json_object_array_length(arr), 2);
	e = json_object_array_get_idx(arr, 0);
	ck_assert(json_object_object_get_ex(e, "verdict", &v));
	ck_assert_str_eq(json_object_get_string(v), "pass");
	ck_assert(json_object_object_get_ex(e, "seed", &v));
	ck_assert_int_eq(json_object_get_int64(v), 77);
	ck_assert(json_object_object_get_ex(e, "commands", &v));
	ck_assert_int_eq(json_object_get_int64(v), 8000);
	ck_assert(json_object_object_get_ex(e, "anomalies", &an));
	for (const char *const *k = (const char *const[]){ "lost", "duplicate", "spurious",
							   "spurious_irq", "missed_irq", "stranded",
							   "stall", "dma_after_teardown", NULL };
	     *k; k++) {
		ck_assert_msg(json_object_object_get_ex(an, *k, &v), "no '%s' in anomalies", *k);
		ck_assert_int_eq(json_object_get_int64(v), 0);
	}
	ck_assert(json_object_object_get_ex(e, "latency_us", &v));
	ck_assert(json_object_object_get_ex(v, "p99", &an));
	ck_assert(json_object_get_double(an) > 0);
	e = json_object_array_get_idx(arr, 1);
	ck_assert(json_object_object_get_ex(e, "verdict", &v));
	ck_assert_str_eq(json_object_get_string(v), "fail");
	json_object_put(j);

	/* Well-formed JUnit, with one failure. */
	snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", xml);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "grep -q '<testcase classname=\"small\" name=\"small/wrong\"' '%s' && "
		 "grep -q '<failure message=\"lost 0, expected &gt;0\"' '%s' && "
		 "grep -q 'failures=\"1\"' '%s'", xml, xml, xml);
	ck_assert_int_eq(system(cmd), 0);

	/* --only selects one row; --set overrides a field. */
	RUN(&o, "run", "--only", "small/clean", "--set", "actors.io1.steps.0.submit.count=100",
	    "--json", js, scn);
	ck_assert_int_eq(o.status, 0);
	j = json_object_from_file(js);
	ck_assert(json_object_object_get_ex(j, "scenarios", &arr));
	ck_assert_int_eq((int)json_object_array_length(arr), 1);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "commands", &v));
	ck_assert_int_eq(json_object_get_int64(v), 4100);
	json_object_put(j);

	RUN(&o, "run", "--only", "nope", scn);
	ck_assert_int_eq(o.status, 2);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* --- replay lines that reproduce --- */

/* The first replay line of @o, as a shell command running bin(). */
static void replay_of(const struct out *o, char *cmd, size_t len)
{
	const char *r = strstr(o->out, "  replay: nvmerace ");

	ck_assert_msg(r != NULL, "no replay line in: %s", o->out);
	r += strlen("  replay: nvmerace");
	snprintf(cmd, len, "'%s'%.*s", bin(), (int)strcspn(r, "\n"), r);
}

struct row {
	char verdict[8];
	uint64_t cmds, anomalies;
};

/* Row @name's line: "FAIL  name   N cmds   N anomalies ...". */
static void row_of(const struct out *o, const char *name, struct row *r)
{
	for (const char *l = o->out; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0)) {
		char n[160];

		if (sscanf(l, "%7s %159s %" SCNu64 " cmds %" SCNu64 " anomalies", r->verdict, n,
			   &r->cmds, &r->anomalies) == 4 && !strcmp(n, name))
			return;
	}
	ck_abort_msg("no line for row %s in: %s", name, o->out);
}

/*
 * Run nvmerace with @argv, take the replay line it prints for row @name,
 * run that through sh (stdin from @in both times), and compare: the same
 * verdict, and with @exact the same command and anomaly counts.
 */
static void check_replay(const char *in, const char *name, bool exact, const char *must,
			 const char *const *argv)
{
	static struct out a, b;
	struct row ra, rb;
	char cmd[2048];

	run_in(&a, in, argv);
	ck_assert_msg(a.status == 1, "status %d: %s%s", a.status, a.out, a.err);
	replay_of(&a, cmd, sizeof(cmd));
	ck_assert_msg(strstr(cmd, must) != NULL, "'%s' not in the replay: %s", must, cmd);
	run_argv(&b, (char *const[]){ "/bin/sh", "-c", cmd, NULL }, in);
	ck_assert_msg(b.status == 1, "replay '%s': status %d: %s%s", cmd, b.status, b.out, b.err);
	row_of(&a, name, &ra);
	row_of(&b, name, &rb);
	ck_assert_str_eq(ra.verdict, "FAIL");
	ck_assert_str_eq(rb.verdict, ra.verdict);
	if (exact) {
		ck_assert_uint_eq(rb.cmds, ra.cmds);
		ck_assert_uint_eq(rb.anomalies, ra.anomalies);
	}
	/* The replay prints itself again, word for word. */
	replay_of(&b, cmd + 1024, 1024);
	ck_assert_str_eq(cmd + 1024, cmd);
}

static const char faults_scn[] =
	"name: faults\n"
	"device: { sim: { faults: { drop_cqe: 300 } } }\n"
	"queues: [ { id: 1, depth: 32, vector: 1 } ]\n"
	"actors:\n"
	"  - { name: io1, steps: [ { submit: { queue: 1, op: read, qd: 8, count: 4000 } } ] }\n"
	"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"
	/* Only a dropped CQE may look lost: a loaded machine's slow thread must not. */
	"timeouts: { command_ms: 2000, stall_ms: 10000 }\n"
	"matrix:\n"
	"  - { name: drops, expect: { lost: \">0\" } }\n";

static const char long_scn[] =
	"name: long\n"
	"queues: [ { id: 1, depth: 32, vector: 1 } ]\n"
	"actors:\n"
	"  - { name: io, steps: [ { submit: { queue: 1, op: read, qd: 8,\n"
	"                                     duration_ms: 60000 } } ] }\n"
	"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"
	"matrix:\n"
	"  - { name: wrong, expect: { lost: \">0\" } }\n";

/*
 * Seed 004's missing barrier in 60 commands: the threads practically never
 * open its window, so run hands the row to the explorer, whose schedule
 * catches it; the row passes and says so, its replay is the exploration,
 * and that replay passes too. The same row with one command is caught by
 * neither (a failure); a clean row never goes to the explorer.
 */
START_TEST(test_explorer_judges_host_race)
{
	static struct out o, p;
	struct json_object *j, *row, *v, *sched;
	char cmd[1200];

	RUN(&o, "run", "--seed", "1", "--only", "shadow-doorbells/barrier-none", "--set",
	    "actors.io.steps.0.submit.count=60", "--json", "-", "scenarios/shadow-doorbells.yaml");
	ck_assert_msg(o.status == 0, "status %d: %s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.err, "caught by a schedule the explorer chose"));
	j = json_tokener_parse(o.out);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "scenarios", &v));
	row = json_object_array_get_idx(v, 0);
	ck_assert(json_object_object_get_ex(row, "sched", &sched));
	ck_assert(json_object_object_get_ex(sched, "found", &v) && json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(row, "anomalies", &v));
	ck_assert(json_object_object_get_ex(v, "stall", &v) && json_object_get_int64(v) > 0);
	ck_assert(json_object_object_get_ex(row, "replay", &v));
	ck_assert_msg(!strncmp(json_object_get_string(v), "nvmerace explore ", 17), "%s",
		      json_object_get_string(v));
	snprintf(cmd, sizeof(cmd), "'%s' %s", bin(), json_object_get_string(v) + 9);
	json_object_put(j);
	run_argv(&p, (char *const[]){ "/bin/sh", "-c", cmd, NULL }, NULL);
	ck_assert_msg(p.status == 0, "replay '%s': status %d: %s%s", cmd, p.status, p.out, p.err);

	RUN(&o, "run", "--seed", "1", "--only", "shadow-doorbells/barrier-none", "--set",
	    "actors.io.steps.0.submit.count=1", "scenarios/shadow-doorbells.yaml");
	ck_assert_msg(o.status == 1, "status %d: %s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "stall 0, expected >0"));
	ck_assert_ptr_null(strstr(o.out, "explorer chose"));

	RUN(&o, "run", "--seed", "1", "--only", "shadow-doorbells/barrier-full", "--set",
	    "actors.io.steps.0.submit.count=60", "scenarios/shadow-doorbells.yaml");
	ck_assert_msg(o.status == 0, "status %d: %s%s", o.status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "PASS  shadow-doorbells/barrier-full"));
	ck_assert_ptr_null(strstr(o.out, "sched:"));
}
END_TEST

START_TEST(test_replays)
{
	char dir[] = "/tmp/nvr-cli-XXXXXX", scn[256], flt[256], lng[256], cmd[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(scn, sizeof(scn), "%s/small.yaml", dir);
	snprintf(flt, sizeof(flt), "%s/faults.yaml", dir);
	snprintf(lng, sizeof(lng), "%s/long.yaml", dir);
	write_text(scn, small_scn);
	write_text(flt, faults_scn);
	write_text(lng, long_scn);

	/* The seed alone (no faults: every count is the scenario's). */
	check_replay(NULL, "small/wrong", true, " --seed 77 --only small/wrong ",
		     (const char *const[]){ "run", "--seed", "77", scn, NULL });
	/* --set: 100 commands instead of 4000 on io1, in the replay too. */
	check_replay(NULL, "small/wrong", true, " --set actors.io1.steps.0.submit.count=100 ",
		     (const char *const[]){ "run", "--set", "actors.io1.steps.0.submit.count=100",
					    "--only", "small/wrong", scn, NULL });
	/* A value a shell would split or expand is quoted. */
	check_replay(NULL, "small/wrong", true, " --set 'description=it'\\''s \"q\" $HOME' ",
		     (const char *const[]){ "run", "--set", "description=it's \"q\" $HOME",
					    "--only", "small/wrong", scn, NULL });
	/* --duration: without it the replay would run for a minute (and time out). */
	check_replay(NULL, "long/wrong", false, " --duration 200 ",
		     (const char *const[]){ "run", "--duration", "200", lng, NULL });
	/* A leading zero is decimal, not octal; 0x is hex. */
	check_replay(NULL, "long/wrong", false, " --duration 200 ",
		     (const char *const[]){ "run", "--duration", "0200", lng, NULL });
	check_replay(NULL, "long/wrong", false, " --duration 200 ",
		     (const char *const[]){ "run", "--duration", "0xc8", lng, NULL });
	/* Seeded faults: the same drops, so the very same counts. */
	check_replay(NULL, "faults/drops", true, " --set matrix.drops.expect.lost=0 ",
		     (const char *const[]){ "run", "--seed", "3", "--set",
					    "matrix.drops.expect.lost=0", flt, NULL });
	/* A scenario read from standard input replays from it too. */
	check_replay(flt, "faults/drops", true, " --only faults/drops -",
		     (const char *const[]){ "run", "--seed", "9", "--set",
					    "matrix.drops.expect.lost=0", "-", NULL });
	/*
	 * The case: a racy row failed by --set fails on replay too.
	 * Two reapers on one CQ show as a duplicate, or as a spurious CQE when
	 * the second takes a slot whose command the first completed: which one
	 * a threaded run meets first is the OS's choice, so both are set to 0.
	 */
	check_replay(NULL, "concurrent-pollers/none", false,
		     " --set matrix.none.expect.duplicate=0 --set matrix.none.expect.spurious=0 "
		     "--only concurrent-pollers/none ",
		     (const char *const[]){ "run", "--set", "matrix.none.expect.duplicate=0",
					    "--set", "matrix.none.expect.spurious=0",
					    "--only", "concurrent-pollers/none",
					    "scenarios/concurrent-pollers.yaml", NULL });

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* One --seed: decimal, 48 bits, never changed on the way. */
START_TEST(test_seed)
{
	static struct out o;
	char dir[] = "/tmp/nvr-cli-XXXXXX", scn[256], js[256], cmd[512];
	struct json_object *j, *arr, *v;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(scn, sizeof(scn), "%s/small.yaml", dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	write_text(scn, small_scn);
	/* It used to be masked to 48 bits: this ran seed 5. */
	RUN(&o, "run", "--seed", "281474976710661", scn);
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: invalid seed '281474976710661': too large "
					    "(at most 281474976710655"));
	RUN(&o, "run", "--seed", "0x10", scn);
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: invalid seed '0x10': not a decimal number"));
	RUN(&o, "run", "--seed", "281474976710655", "--repeat", "2", scn);
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "runs seeds past 281474976710655"));
	/* The largest runs as given, and a leading 0 is not octal. */
	RUN(&o, "run", "--seed", "281474976710655", "--only", "small/clean", "--json", js,
	    scn);
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: seed 281474976710655\n"));
	j = json_object_from_file(js);
	ck_assert(json_object_object_get_ex(j, "scenarios", &arr));
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "seed", &v));
	ck_assert_int_eq(json_object_get_int64(v), 281474976710655);
	json_object_put(j);
	RUN(&o, "run", "--seed", "010", "--only", "small/clean", scn);
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: seed 10\n"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* --only NAME[/ROW]; a name that selects nothing lists the ones that would. */
START_TEST(test_only)
{
	static struct out o;

	RUN(&o, "run", "--list", "--only", "concurrent-pollers", "--only", "clean-soak/no-pba",
	    "scenarios/concurrent-pollers.yaml", "scenarios/clean-soak.yaml");
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "concurrent-pollers/mutex\t"));
	ck_assert_ptr_nonnull(strstr(o.out, "clean-soak/no-pba\t"));
	ck_assert_ptr_null(strstr(o.out, "clean-soak/coalescing"));
	RUN(&o, "run", "--only", "nosuch", "--list", "scenarios/concurrent-pollers.yaml");
	ck_assert_int_eq(o.status, 2);
	ck_assert_str_eq(o.out, "");
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: --only matched no scenario or row; "
					    "the names are:\n  concurrent-pollers\n"));
	ck_assert_ptr_nonnull(strstr(o.err, "\n  concurrent-pollers/none\n"));
}
END_TEST

/* 'run -' reads standard input; its messages name "<stdin>" with line:col. */
START_TEST(test_stdin)
{
	static struct out o;
	char path[] = "/tmp/nvr-cli-in-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	write_text(path, small_scn);
	RUN_IN(&o, path, "run", "--seed", "1", "--only", "small/clean", "-");
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "PASS  small/clean"));
	write_text(path, "name: bad\nqueues:\n  - { id: 1, depht: 32, vector: 1 }\n");
	RUN_IN(&o, path, "run", "-");
	ck_assert_int_eq(o.status, 2);
	ck_assert_msg(strstr(o.err, "nvmerace: <stdin>:3:") != NULL, "stderr: %s", o.err);
	RUN_IN(&o, path, "run", "-", "-");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: '-' (standard input) given twice"));
	unlink(path);
}
END_TEST

/* help help, help --help; -v says what the simulator's bring-up did. */
START_TEST(test_help_and_verbose)
{
	static struct out o;

	RUN(&o, "help", "help");
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "usage: nvmerace help [COMMAND]"));
	RUN(&o, "help", "--help");
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "usage: nvmerace help [COMMAND]"));
	RUN(&o, "help", "monitor");
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "-o, --only NAME[/ROW]"));
	RUN(&o, "help", "nosuch");
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: unknown command 'nosuch'"));
	RUN(&o, "run", "-v", "--seed", "1", "--duration", "50", "--only", "clean-soak/coalescing",
	    "scenarios/clean-soak.yaml");
	ck_assert_int_eq(o.status, 0);
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: debug: bring-up: CAP 0x"));
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: debug: created I/O queue pair 1:"));
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: info: clean-soak/coalescing: starting, "
					    "seed 1\n"));
	ck_assert_ptr_nonnull(strstr(o.err, "nvmerace: info: clean-soak/coalescing: pass after "));
}
END_TEST

START_TEST(test_bad_scenario_does_not_start)
{
	static struct out o;
	char dir[] = "/tmp/nvr-cli-XXXXXX", good[256], bad[256], js[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(good, sizeof(good), "%s/good.yaml", dir);
	snprintf(bad, sizeof(bad), "%s/bad.yaml", dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	write_text(good, small_scn);
	write_text(bad, "name: bad\nqueues:\n  - { id: 1, depht: 32, vector: 1 }\n");
	RUN(&o, "run", "--json", js, good, bad);
	ck_assert_int_eq(o.status, 2);
	/* file:line:col, a did-you-mean, and nothing ran. */
	ck_assert_msg(strstr(o.err, "bad.yaml:3:") != NULL, "stderr: %s", o.err);
	ck_assert_ptr_nonnull(strstr(o.err, "depth"));
	ck_assert_ptr_null(strstr(o.out, "PASS"));
	ck_assert_int_ne(access(js, F_OK), 0);
	unlink(good);
	unlink(bad);
	rmdir(dir);
}
END_TEST

/* Read @fd until @what shows (or EOF); return whether it did. */
static bool wait_for(int fd, const char *what, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	buf[0] = '\0';
	while (!strstr(buf, what) && n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0) {
		n += (size_t)r;
		buf[n] = '\0';
	}
	return strstr(buf, what) != NULL;
}

START_TEST(test_sigint_stops_cleanly)
{
	char dir[] = "/tmp/nvr-cli-XXXXXX", scn[256], shortscn[256], js[256], buf[16384];
	struct json_object *j, *arr, *v;
	int st, p[2];
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(scn, sizeof(scn), "%s/long.yaml", dir);
	snprintf(shortscn, sizeof(shortscn), "%s/short.yaml", dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	write_text(shortscn, "name: short\n"
			     "queues: [ { id: 1, depth: 32, vector: 1 } ]\n"
			     "actors:\n"
			     "  - { name: io, steps: [ { submit: { queue: 1, op: read, qd: 8, count: 500 } } ] }\n"
			     "  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n");
	write_text(scn, "name: long\n"
			"queues: [ { id: 1, depth: 32, vector: 1 } ]\n"
			"actors:\n"
			"  - { name: io, steps: [ { submit: { queue: 1, op: read, qd: 8, duration_ms: 60000 } } ] }\n"
			"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n");
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (!pid) {
		close(p[0]);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(bin(), bin(), "run", "-v", "--json", js, shortscn, scn, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	/*
	 * No sleep: -v says when the long row starts. A signal between the rows
	 * would leave it not run, with nothing measured: not what this tests.
	 */
	ck_assert_msg(wait_for(p[0], "long: starting", buf, sizeof(buf)), "output: %s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "PASS  short"));
	kill(pid, SIGINT);
	ck_assert(waitpid(pid, &st, 0) == pid);
	close(p[0]);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 130);
	/* The report says so and keeps what was measured. */
	j = json_object_from_file(js);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "interrupted", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(j, "scenarios", &arr));
	ck_assert_int_eq((int)json_object_array_length(arr), 2);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "commands", &v));
	ck_assert_int_eq(json_object_get_int64(v), 500);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(arr, 1), "anomalies", &v));
	ck_assert(json_object_object_get_ex(v, "lost", &v));
	ck_assert_int_eq(json_object_get_int64(v), 0);
	json_object_put(j);
	unlink(js);
	unlink(scn);
	unlink(shortscn);
	rmdir(dir);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_identify_json);
	tcase_add_test(tc, test_reports);
	tcase_add_test(tc, test_bad_scenario_does_not_start);
	tcase_add_test(tc, test_sigint_stops_cleanly);
	tcase_add_test(tc, test_seed);
	tcase_add_test(tc, test_only);
	tcase_add_test(tc, test_stdin);
	tcase_add_test(tc, test_help_and_verbose);
	suite_add_tcase(s, tc);

	/* Seven scenarios run twice each: slow under sanitizers and load. */
	tc = tcase_create("replay");
	tcase_set_tags(tc, "slow");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_replays);
	tcase_add_test(tc, test_explorer_judges_host_race);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(cli_suite());
}
