// SPDX-License-Identifier: MIT
/*
 * Signals and teardown. SIGINT or SIGTERM at random moments of a run, many
 * times: each time nvmerace exits 130 (or 0 when it finished first), writes a
 * valid JSON report marked interrupted, and leaves the device disabled with no
 * DMA mapping and no vector bound. A second signal exits at once. And in the
 * library, a stop flag set at random moments leaves no thread, fd or device
 * resource behind. Run from the top of the tree (make test does).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "base/util.h"
#include "nvmerace.h"
#include "suite_main.h"

#define RUNS 50
#define MAX_DELAY_MS 300

/* Two rows of 100 ms: a signal lands in a row, between rows, or after the end. */
static const char two_rows[] =
	"name: sig\n"
	"device: { sim: { ns_mib: 16, latency_us: [1, 20] } }\n"
	"queues:\n"
	"  - { id: 1, depth: 32, vector: 1 }\n"
	"  - { id: 2, depth: 32, vector: polled }\n"
	"actors:\n"
	"  - { name: io1, steps: [ { submit: { queue: 1, op: mix, qd: 8, duration_ms: 100, "
	"verify: true } } ] }\n"
	"  - { name: io2, steps: [ { submit: { queue: 2, op: write, qd: 8, duration_ms: 100 } } ] }\n"
	"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"
	"timeouts: { command_ms: 10000, stall_ms: 10000 }\n"
	"matrix:\n"
	"  - { name: a, expect: { lost: 0 } }\n"
	"  - { name: b, expect: { lost: 0 } }\n";

/* A controller whose shutdown never completes, with CAP.TO at 10 s. */
static const char slow_teardown[] =
	"name: slow\n"
	"device: { sim: { cap_to: 20, hostile: { shutdown_hangs: true } } }\n"
	"queues: [ { id: 1, depth: 32, vector: 1 } ]\n"
	"actors:\n"
	"  - { name: io, steps: [ { submit: { queue: 1, op: read, qd: 4, duration_ms: 60000 } } ] }\n"
	"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n";

static const char *bin(void)
{
	const char *b = getenv("NVR");

	return b ? b : "./nvmerace";
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* Start nvmerace run --json @js @scn; return its pid and a pipe of its stderr. */
static pid_t start(const char *js, const char *scn, int *err_fd)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(p[1], 2);
		execl(bin(), bin(), "run", "--seed", "5", "--json", js, scn, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*err_fd = p[0];
	return pid;
}

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

/* waitpid, but give up (and kill) after @limit_s: a hang is a failure, not a stuck suite. */
static int reap(pid_t pid, unsigned int limit_s)
{
	uint64_t end = nvr_now_ns() + (uint64_t)limit_s * 1000000000ull;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		ck_assert(r >= 0);
		if (r == pid)
			return st;
		if (nvr_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			ck_abort_msg("nvmerace did not exit within %u s of the signal", limit_s);
		}
		usleep(2000);
	}
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s' in the report", key);
	return v;
}

START_TEST(test_signal_at_random_moments)
{
	char dir[] = "/tmp/nvr-sig-XXXXXX", scn[256], js[256], buf[4096];
	unsigned int seed = (unsigned int)time(NULL), interrupted = 0, finished = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(scn, sizeof(scn), "%s/two.yaml", dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	write_text(scn, two_rows);
	fprintf(stderr, "signals: random delays seeded with %u\n", seed);
	srand(seed);

	for (unsigned int i = 0; i < RUNS; i++) {
		int sig = i & 1 ? SIGTERM : SIGINT, fd, st, delay_ms = rand() % (MAX_DELAY_MS + 1);
		struct json_object *j, *arr;
		pid_t pid;

		unlink(js);
		pid = start(js, scn, &fd);
		/* The run has begun once it prints its seed: signals are handled. */
		ck_assert_msg(wait_for(fd, "nvmerace: seed", buf, sizeof(buf)), "run %u: %s", i, buf);
		usleep((useconds_t)delay_ms * 1000);
		ck_assert_int_eq(kill(pid, sig), 0);
		st = reap(pid, 60);
		close(fd);
		ck_assert_msg(WIFEXITED(st), "run %u (%s after %d ms): killed by signal %d", i,
			      strsignal(sig), delay_ms, WTERMSIG(st));
		ck_assert_msg(WEXITSTATUS(st) == 130 || WEXITSTATUS(st) == 0,
			      "run %u (%s after %d ms): exit %d", i, strsignal(sig), delay_ms,
			      WEXITSTATUS(st));
		/* No child of ours is left: the run was the only one. */
		ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
		ck_assert_int_eq(errno, ECHILD);

		j = json_object_from_file(js);
		ck_assert_msg(j != NULL, "run %u (%s after %d ms): no valid JSON report", i,
			      strsignal(sig), delay_ms);
		ck_assert_int_eq(json_object_get_boolean(get(j, "interrupted")),
				 WEXITSTATUS(st) == 130);
		arr = get(j, "scenarios");
		/* Every row is there: those the signal kept from starting as not run. */
		ck_assert_int_eq((int)json_object_array_length(arr), 2);
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *e = json_object_array_get_idx(arr, k), *td;

			td = get(e, "teardown");
			if (!strcmp(json_object_get_string(get(e, "verdict")), "not_run")) {
				ck_assert(json_object_is_type(td, json_type_null));
				continue;
			}
			ck_assert(!json_object_get_boolean(get(td, "controller_enabled")));
			ck_assert_int_eq(json_object_get_int64(get(td, "dma_maps")), 0);
			ck_assert_int_eq(json_object_get_int64(get(td, "vectors")), 0);
			ck_assert(!json_object_get_boolean(get(td, "reset")));
			/* Stopping early loses nothing that was measured. */
			ck_assert_msg(!json_object_get_int64(get(get(e, "anomalies"), "lost")),
				      "run %u (%s after %d ms): lost commands: %s", i, strsignal(sig),
				      delay_ms, json_object_to_json_string(get(e, "details")));
		}
		if (WEXITSTATUS(st) == 130)
			interrupted++;
		else
			finished++;
		json_object_put(j);
	}
	fprintf(stderr, "signals: %u runs interrupted, %u finished first\n", interrupted,
		finished);
	ck_assert_uint_gt(interrupted, 0);
	unlink(js);
	unlink(scn);
	rmdir(dir);
}
END_TEST

START_TEST(test_second_signal_exits_at_once)
{
	char dir[] = "/tmp/nvr-sig-XXXXXX", scn[256], js[256], buf[4096];
	uint64_t t0;
	int fd, st;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(scn, sizeof(scn), "%s/slow.yaml", dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	write_text(scn, slow_teardown);
	pid = start(js, scn, &fd);
	ck_assert(wait_for(fd, "nvmerace: seed", buf, sizeof(buf)));
	usleep(200000);
	t0 = nvr_now_ns();
	kill(pid, SIGINT);
	/* The first signal's teardown now waits CAP.TO (10 s) for a shutdown that
	 * never completes; the second one must not wait for it. */
	usleep(300000);
	ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0);
	kill(pid, SIGINT);
	st = reap(pid, 60);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 130);
	ck_assert_msg(nvr_now_ns() - t0 < 10000000000ull,
		      "exited only after the teardown's own CAP.TO wait");
	ck_assert(wait_for(fd, "second signal", buf, sizeof(buf)));
	close(fd);
	/* Without the teardown there is no report either. */
	ck_assert_int_ne(access(js, F_OK), 0);
	unlink(scn);
	rmdir(dir);
}
END_TEST

/* --- the library: a stop flag at random moments --- */

struct bg_run {
	struct nvr_scenario scn;
	uint32_t row;
	_Atomic int stop;
	struct nvr_result res;
};

static void *bg(void *arg)
{
	struct bg_run *b = arg;
	struct nvr_run_opts o = { .seed = 11, .stop = &b->stop };

	nvr_run_row(&b->scn, b->row, &o, &b->res);
	return NULL;
}

static unsigned int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	unsigned int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Rows that keep the device busy in different ways while the stop comes. */
static const char busy[] =
	"name: busy\n"
	"device: { sim: { ns_mib: 16, cap_to: 1, latency_us: [1, 50] } }\n"
	"queues:\n"
	"  - { id: 1, depth: 64, vector: 1 }\n"
	"  - { id: 2, depth: 16, vector: polled }\n"
	"actors:\n"
	"  - { name: io1, steps: [ { submit: { queue: 1, op: mix, qd: 32, duration_ms: 60000 } } ] }\n"
	"  - { name: io2, steps: [ { submit: { queue: 2, op: read, qd: 4, duration_ms: 60000 } } ] }\n"
	"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"
	"  - { name: poll, steps: [ { reap: { queue: 1, wake: { every_us: 100 } } } ] }\n"
	"matrix:\n"
	"  - { name: clean }\n"
	"  - { name: storm, hostile: { irq_storm: true, bad_sqhd: 100 } }\n"
	"  - { name: garbage, hostile: { garbage_cqe: 100 } }\n";

START_TEST(test_stop_flag_at_random_moments)
{
	static struct bg_run b;
	char err[1024];
	unsigned int seed = (unsigned int)time(NULL) ^ 0x5a5a, tasks, fds;
	pthread_t t;

	ck_assert_int_eq(nvr_scenario_parse(busy, strlen(busy), "busy.yaml", NULL, 0, &b.scn, err,
					    sizeof(err)), 0);
	fprintf(stderr, "stop flag: random delays seeded with %u\n", seed);
	srand(seed);
	/* A first thread, so that ThreadSanitizer's own has started before the count. */
	ck_assert_int_eq(pthread_create(&t, NULL, bg, &b), 0);
	atomic_store(&b.stop, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	tasks = count_dir("/proc/self/task");
	fds = count_dir("/proc/self/fd");
	for (unsigned int i = 0; i < 30; i++) {
		int delay_ms = rand() % 100;

		b.row = i % b.scn.nr_rows;
		atomic_store(&b.stop, 0);
		ck_assert_int_eq(pthread_create(&t, NULL, bg, &b), 0);
		usleep((useconds_t)delay_ms * 1000);
		atomic_store(&b.stop, 1);
		ck_assert_int_eq(pthread_join(t, NULL), 0);

		ck_assert_msg(b.res.verdict != NVR_ERROR, "row %s: %s", b.res.row, b.res.reason);
		ck_assert_msg(b.res.interrupted, "row %s stopped after %d ms: not interrupted",
			      b.res.row, delay_ms);
		ck_assert(b.res.teardown.checked);
		ck_assert(!b.res.teardown.enabled);
		ck_assert_uint_eq(b.res.teardown.dma_maps, 0);
		ck_assert_uint_eq(b.res.teardown.vectors, 0);
		ck_assert(!b.res.teardown.reset);
		ck_assert_uint_eq(count_dir("/proc/self/task"), tasks);
		ck_assert_uint_eq(count_dir("/proc/self/fd"), fds);
	}
}
END_TEST

static Suite *signals_suite(void)
{
	Suite *s = suite_create("signals");
	TCase *tc = tcase_create("signals");
	tcase_set_tags(tc, "slow");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_signal_at_random_moments);
	tcase_add_test(tc, test_second_signal_exits_at_once);
	tcase_add_test(tc, test_stop_flag_at_random_moments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(signals_suite());
}
