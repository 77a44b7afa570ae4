// SPDX-License-Identifier: MIT
/*
 * The monitor's runner without a screen: the ledger's feed (newest
 * anomalies, per-queue latency), the runner thread and its frames on a real
 * run, faults injected by hand and what the summary says of them. Then the
 * whole monitor end to end in tmux (tests/monitor_tmux.sh), and its refusals
 * without a terminal. check_monitor_fmt.c has the drawing.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "detect/ledger.h"
#include "monitor.h"
#include "monitor_fmt.h"
#include "nvmerace.h"
#include "run_bin.h"
#include "suite_main.h"

/* --- the ledger's feed --- */

START_TEST(test_ledger_recent)
{
	struct nvr_ledger_opts o;
	struct nvr_ledger *l;
	struct nvr_anomaly a[8];
	uint64_t total = 99;

	nvr_ledger_opts_init(&o);
	o.keep = 3;
	o.recent = 4;
	ck_assert_int_eq(nvr_ledger_create(&o, &l), 0);
	ck_assert_uint_eq(nvr_ledger_recent(l, a, 8, &total), 0);
	ck_assert_uint_eq(total, 0);
	for (int i = 0; i < 6; i++)
		nvr_ledger_report(l, NVR_AN_CFS, -1, i, -1, "number %d", i);
	/* The ring: the newest four, newest first. */
	ck_assert_uint_eq(nvr_ledger_recent(l, a, 8, &total), 4);
	ck_assert_uint_eq(total, 6);
	for (int i = 0; i < 4; i++) {
		char want[32];

		snprintf(want, sizeof(want), "number %d", 5 - i);
		ck_assert_str_eq(a[i].detail, want);
		ck_assert_int_eq(a[i].cid, 5 - i);
	}
	ck_assert_uint_eq(nvr_ledger_recent(l, a, 2, NULL), 2);
	ck_assert_str_eq(a[1].detail, "number 4");
	/* The report's records: still the first three, as before. */
	ck_assert_uint_eq(nvr_ledger_anomalies(l, a, 8), 3);
	ck_assert_str_eq(a[0].detail, "number 0");
	ck_assert_str_eq(a[2].detail, "number 2");
	nvr_ledger_destroy(l);

	/* Without a ring: nothing recent, the count still right, the records unchanged. */
	o.recent = 0;
	ck_assert_int_eq(nvr_ledger_create(&o, &l), 0);
	for (int i = 0; i < 5; i++)
		nvr_ledger_report(l, NVR_AN_CFS, -1, i, -1, "number %d", i);
	ck_assert_uint_eq(nvr_ledger_recent(l, a, 8, &total), 0);
	ck_assert_uint_eq(total, 5);
	ck_assert_uint_eq(nvr_ledger_anomalies(l, a, 8), 3);
	ck_assert_str_eq(a[2].detail, "number 2");
	nvr_ledger_destroy(l);
}
END_TEST

/* A small scenario, parsed from YAML as a user would write it. */
static void load(struct nvr_scenario *s, const char *yaml)
{
	char err[1024];
	int ret = nvr_scenario_parse(yaml, strlen(yaml), "test", NULL, 0, s, err, sizeof(err));

	ck_assert_msg(ret == 0, "%s", err);
}

static const char small_yaml[] =
	"name: small\n"
	"queues: [ { id: 1, depth: 32, vector: 1 }, { id: 2, depth: 16, vector: polled } ]\n"
	"actors:\n"
	"  - { name: a, steps: [ { submit: { queue: 1, op: read, qd: 4, count: 3000 } } ] }\n"
	"  - { name: b, steps: [ { submit: { queue: 2, op: write, qd: 2, count: 1000 } } ] }\n"
	"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"
	"timeouts: { command_ms: 3000, stall_ms: 5000 }\n";

struct feed {
	struct nvr_ledger *ledger;
	uint32_t calls;
	int missing;		/* nvr_ledger_queue_latency() of an unknown queue */
	uint64_t hist_count[2], completed[2];
};

static void feed_progress(const struct nvr_stats *st, void *arg)
{
	struct feed *f = arg;
	static struct nvr_hist h;

	f->calls++;
	ck_assert_ptr_nonnull(f->ledger);
	f->missing = nvr_ledger_queue_latency(f->ledger, 9, &h);
	for (uint32_t i = 0; i < 2 && i < st->nr_queues; i++) {
		ck_assert_int_eq(nvr_ledger_queue_latency(f->ledger, st->q[i].qid, &h), 0);
		f->hist_count[i] = atomic_load(&h.count);
		f->completed[i] = st->q[i].completed;
	}
}

/* The runner hands its ledger to the progress callback, and calls it once at the end. */
START_TEST(test_runner_feed)
{
	static struct nvr_scenario s;
	static struct nvr_result res;
	struct feed f = { 0 };
	struct nvr_run_opts o = { .seed = 5, .progress = feed_progress, .progress_arg = &f,
				  .live_ledger = &f.ledger, .recent = 8 };

	load(&s, small_yaml);
	ck_assert_int_eq(nvr_run_row(&s, 0, &o, &res), 0);
	ck_assert_int_eq(res.verdict, NVR_PASS);
	ck_assert_ptr_null(f.ledger);	/* gone with the run */
	ck_assert_uint_ge(f.calls, 1);
	ck_assert_int_eq(f.missing, -ENOENT);
	/* The last call saw the final counts: every completion is in its queue's histogram. */
	ck_assert_uint_eq(f.completed[0], 3000);
	ck_assert_uint_eq(f.completed[1], 1000);
	ck_assert_uint_eq(f.hist_count[0], 3000);
	ck_assert_uint_eq(f.hist_count[1], 1000);
}
END_TEST

/* --- the monitor's runner thread and its frames, without a screen --- */

static void write_file(char *path, const char *text)
{
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}


START_TEST(test_mon_frames)
{
	static struct mon m;
	static struct mon_view v;
	pthread_t t;
	char path[] = "/tmp/nvr-monitor-XXXXXX";
	static const char yaml[] =
		"name: frames\n"
		"device: { sim: { faults: { drop_cqe: 500 } } }\n"
		"queues: [ { id: 1, depth: 64, vector: 1 } ]\n"
		"actors:\n"
		"  - { name: a, steps: [ { submit: { queue: 1, op: read, qd: 8, count: 5000 } } ] }\n"
		"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"
		"timeouts: { command_ms: 1000, stall_ms: 5000 }\n"
		"matrix:\n"
		"  - { name: clean, faults: { drop_cqe: 0 }, expect: { lost: 0 } }\n"
		"  - { name: drops, expect: { lost: \">0\" } }\n";
	/* --only means NAME[/ROW], as in 'nvmerace run'. */
	static const struct run_inputs only_nosuch = { .only = { "nosuch" }, .nr_only = 1 };
	static const struct run_inputs only_drops = { .only = { "frames/drops" }, .nr_only = 1 };
	static const struct run_inputs only_frames = { .only = { "frames" }, .nr_only = 1 };
	char want[128];

	write_file(path, yaml);
	ck_assert_int_eq(mon_init(&m, &v, 11), 0);
	ck_assert_int_eq(mon_load(&m, path, &only_nosuch), 2);
	ck_assert_int_eq(mon_load(&m, path, &only_drops), 0);
	ck_assert_uint_eq(m.nr_rows, 1);
	ck_assert_uint_eq(m.rows[0], 1);
	ck_assert_int_eq(mon_load(&m, path, &only_frames), 0);
	ck_assert_uint_eq(m.nr_rows, 2);
	ck_assert_int_eq(mon_load(&m, path, NULL), 0);
	unlink(path);
	ck_assert_uint_eq(m.nr_rows, 2);
	/* The scenario's one knob is what 'f' offers. */
	ck_assert_int_eq(m.nr_faults, 1);
	ck_assert_int_eq(m.faults[0], NVR_FAULT_DROP_CQE);
	ck_assert_str_eq(m.device, "simulator: nvmerace simulated controller (SN NVRSIM0001)");

	ck_assert_int_eq(pthread_create(&t, NULL, mon_runner, &m), 0);
	for (int i = 0; i < 6000 && !v.done; i++) {
		mon_take(&m, &v);
		usleep(10000);
	}
	pthread_join(t, NULL);
	mon_take(&m, &v);
	ck_assert(v.done);
	ck_assert_uint_eq(v.nr_done, 2);
	ck_assert_int_eq(v.verdict[0], NVR_PASS);
	ck_assert_int_eq(v.verdict[1], NVR_PASS);
	/* The frame shown is the second row's last: its final counts and its anomalies. */
	ck_assert_uint_eq(v.cur->row, 1);
	ck_assert(v.cur->final);
	ck_assert_uint_eq(v.cur->st.submitted, 5000);
	/* Every command completed or lost (a late completion may count as both). */
	ck_assert_uint_ge(v.cur->st.completed + v.cur->st.anomalies[NVR_AN_LOST], 5000);
	ck_assert_uint_gt(v.cur->st.anomalies[NVR_AN_LOST], 0);
	ck_assert_uint_eq(v.cur->nr_records, v.cur->st.anomalies[NVR_AN_LOST]);
	ck_assert_uint_eq(v.cur->nr_recent, NVR_MIN(v.cur->nr_records, (uint64_t)MON_RECENT));
	ck_assert_int_eq(v.cur->recent[0].cls, NVR_AN_LOST);
	ck_assert_int_eq(v.cur->recent[0].qid, 1);
	ck_assert_uint_ge(v.cur->recent[0].t_ns, v.cur->recent[v.cur->nr_recent - 1].t_ns);
	ck_assert_uint_eq(atomic_load(&v.cur->lat[0].count), v.cur->st.completed);
	ck_assert_uint_eq(m.rep.n, 2);
	/* Each row's replay line: the same seed, the row, the file. */
	snprintf(want, sizeof(want), "nvmerace run --seed 11 --only frames/drops %s", path);
	ck_assert_str_eq(m.rep.e[1].replay, want);
	mon_release(&m, &v);
}
END_TEST

/* A fault injected by hand reaches the device and shows in the frames. */
START_TEST(test_mon_inject)
{
	static struct mon m;
	static struct mon_view v;
	char path[] = "/tmp/nvr-monitor-XXXXXX";
	pthread_t t;
	uint64_t seen = 0;
	uint32_t n;

	/* The idle view has no knob of its own: every one is offered. */
	ck_assert_int_eq(mon_init(&m, &v, 12), 0);
	ck_assert_int_eq(mon_load(&m, NULL, NULL), 0);
	ck_assert_str_eq(m.scn->name, "idle");
	ck_assert_int_eq(m.nr_faults, NVR_FAULT_NR);
	mon_release(&m, &v);

	/* A spurious interrupt rides on a real one: this needs traffic. */
	write_file(path, "name: inject\n"
			 "queues: [ { id: 1, depth: 64, vector: 1 } ]\n"
			 "actors:\n"
			 "  - { name: a, steps: [ { submit: { queue: 1, op: read, qd: 4, "
			 "duration_ms: 60000 } } ] }\n"
			 "  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"
			 "timeouts: { command_ms: 3000, stall_ms: 5000 }\n");
	ck_assert_int_eq(mon_init(&m, &v, 12), 0);
	ck_assert_int_eq(mon_load(&m, path, NULL), 0);
	unlink(path);
	ck_assert_int_eq(pthread_create(&t, NULL, mon_runner, &m), 0);
	/*
	 * Once: the runner takes the request before a snapshot shows it
	 * injected, and a slow one (ThreadSanitizer) let this loop ask twice.
	 */
	for (int i = 0, asked = 0; i < 3000 && !seen && !v.done; i++) {
		mon_take(&m, &v);
		if (!asked && v.cur->st.completed && atomic_load(&m.inject) < 0 &&
		    !v.cur->injected) {
			mon_inject(&m, NVR_FAULT_SPURIOUS_IRQ);
			asked = 1;
		}
		seen = v.cur->st.anomalies[NVR_AN_SPURIOUS_IRQ];
		usleep(10000);
	}
	atomic_store(&m.stop, 1);
	pthread_join(t, NULL);
	mon_take(&m, &v);
	ck_assert_uint_eq(seen, 1);
	ck_assert_uint_eq(v.cur->st.anomalies[NVR_AN_SPURIOUS_IRQ], 1);
	ck_assert_uint_eq(v.cur->injected, 1);
	/* Its record is in the newest ones, on the queue's vector. */
	n = 0;
	for (uint32_t i = 0; i < v.cur->nr_recent; i++)
		if (v.cur->recent[i].cls == NVR_AN_SPURIOUS_IRQ) {
			ck_assert_int_eq(v.cur->recent[i].vector, 1);
			n++;
		}
	ck_assert_uint_eq(n, 1);
	ck_assert(m.rep.e[0].res.interrupted);
	/* Recorded with its row and time; the row says it cannot be replayed. */
	ck_assert_uint_eq(m.nr_inj, 1);
	ck_assert_int_eq(m.inj[0].fault, NVR_FAULT_SPURIOUS_IRQ);
	ck_assert_uint_eq(m.inj[0].pos, 0);
	ck_assert_uint_gt(m.inj[0].t_ns, 0);
	ck_assert_str_eq(m.rep.e[0].replay, "");
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		ck_assert_ptr_nonnull(f);
		mon_print_injected(&m, f);
		fclose(f);
		ck_assert_ptr_nonnull(strstr(text, "cannot be replayed"));
		ck_assert_ptr_nonnull(strstr(text, "  inject at "));
		ck_assert_ptr_nonnull(strstr(text, " ms: spurious_irq\n"));
		free(text);
	}
	mon_release(&m, &v);
}
END_TEST

/* --- the command itself --- */

static int run_cmd(const char *const *argv, char *err, size_t len)
{
	static struct out o;
	size_t n;

	run(&o, argv + 1);	/* argv[0] is the program: run_bin.h's bin() */
	n = strnlen(o.err, len - 1);
	memcpy(err, o.err, n);
	err[n] = '\0';
	return o.status;
}

START_TEST(test_refusals)
{
	char err[4096];

	/* No terminal: a clear message, before any device is started. */
	ck_assert_int_eq(run_cmd((const char *const[]){ "nvmerace", "monitor", NULL }, err,
				 sizeof(err)), 2);
	ck_assert_ptr_nonnull(strstr(err, "the monitor needs a terminal"));
	/* Scenario errors come first, with their place. */
	ck_assert_int_eq(run_cmd((const char *const[]){ "nvmerace", "monitor", "/nonexistent.yaml",
							NULL }, err, sizeof(err)), 2);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent.yaml"));
	ck_assert_int_eq(run_cmd((const char *const[]){ "nvmerace", "monitor", "--only", "nosuch",
							"tests/monitor/e2e.yaml", NULL }, err,
				 sizeof(err)), 2);
	ck_assert_ptr_nonnull(strstr(err, "nvmerace: --only matched no row of scenario "
					  "'monitor-e2e'"));
	ck_assert_ptr_nonnull(strstr(err, "\n  monitor-e2e/"));
	ck_assert_int_eq(run_cmd((const char *const[]){ "nvmerace", "monitor", "-", NULL }, err,
				 sizeof(err)), 2);
	ck_assert_ptr_nonnull(strstr(err, "nvmerace: the monitor reads keys from standard input"));
	ck_assert_int_eq(run_cmd((const char *const[]){ "nvmerace", "monitor", "--seed",
							"281474976710656", NULL }, err,
				 sizeof(err)), 2);
	ck_assert_ptr_nonnull(strstr(err, "nvmerace: invalid seed '281474976710656': too large"));
	ck_assert_int_eq(run_cmd((const char *const[]){ "nvmerace", "monitor", "--seed", "x",
							NULL }, err, sizeof(err)), 2);
	ck_assert_ptr_nonnull(strstr(err, "invalid seed 'x'"));
	ck_assert_int_eq(run_cmd((const char *const[]){ "nvmerace", "monitor", "--bind", NULL }, err,
				 sizeof(err)), 2);
	ck_assert_ptr_nonnull(strstr(err, "--bind and --force need --device"));
	ck_assert_int_eq(run_cmd((const char *const[]){ "nvmerace", "monitor", "a.yaml", "b.yaml",
							NULL }, err, sizeof(err)), 2);
	ck_assert_ptr_nonnull(strstr(err, "one scenario file at most"));
}
END_TEST

/* The replay line run and monitor print: every input, each word quoted once. */
START_TEST(test_replay_format)
{
	static struct run_inputs in = {
		.dev = { .bdf = "0000:01:00.0", .bind = true, .force = true, .write_nsid = 1,
			 .write_start = 0, .write_end = 2047 },
		.duration_ms = 250,
		.sets = { { "actors.io.steps.0.submit.count", "10" }, { "description", "a 'b'" } },
		.nr_sets = 2,
	};
	char buf[1024], tiny[40];

	ck_assert_int_eq(replay_format(buf, sizeof(buf), &in, "my dir/x.yaml", "x/r", 7), 0);
	/* --force is never replayed: a replay must not take a device in use. */
	ck_assert_str_eq(buf, "nvmerace run --device 0000:01:00.0 --bind --write-range 1:0-2047 "
			      "--seed 7 --duration 250 --set actors.io.steps.0.submit.count=10 "
			      "--set 'description=a '\\''b'\\''' --only x/r 'my dir/x.yaml'");
	memset(&in.dev, 0, sizeof(in.dev));
	in.duration_ms = 0;
	in.nr_sets = 0;
	ck_assert_int_eq(replay_format(buf, sizeof(buf), &in, "-x.yaml", "x", 0), 0);
	ck_assert_str_eq(buf, "nvmerace run --seed 0 --only x -- -x.yaml");
	ck_assert_int_eq(replay_format(buf, sizeof(buf), &in, "-", "x", 1), 0);
	ck_assert_str_eq(buf, "nvmerace run --seed 1 --only x -");
	/* Too long for the field: empty, and said, never cut. */
	ck_assert_int_eq(replay_format(tiny, sizeof(tiny), &in, "scenarios/long-name.yaml", "x", 1),
			 -ENAMETOOLONG);
	ck_assert_str_eq(tiny, "");
}
END_TEST

/* The whole monitor in tmux: tests/monitor_tmux.sh says what it checks. */
START_TEST(test_tmux)
{
	const char *bin = getenv("NVR") ? getenv("NVR") : "./nvmerace";
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "sh tests/monitor_tmux.sh '%s' >&2", bin);
	st = system(cmd);
	ck_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		fprintf(stderr, "check_monitor: the tmux end-to-end test was SKIPPED\n");
		return;
	}
	ck_assert_msg(WEXITSTATUS(st) == 0, "tests/monitor_tmux.sh failed (its output is above)");
}

static Suite *monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc;

	tc = tcase_create("feed");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ledger_recent);
	tcase_add_test(tc, test_runner_feed);
	tcase_add_test(tc, test_mon_frames);
	tcase_add_test(tc, test_mon_inject);
	suite_add_tcase(s, tc);

	tc = tcase_create("command");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_replay_format);
	suite_add_tcase(s, tc);

	/* Minutes under load: CK_EXCLUDE_TAGS=slow leaves it out. */
	tc = tcase_create("tmux");
	tcase_set_tags(tc, "slow");
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc, test_tmux);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(monitor_suite());
}
