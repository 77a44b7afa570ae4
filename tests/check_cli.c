// SPDX-License-Identifier: MIT
/*
 * The command line as a user meets it: exit statuses, messages, the JSON and
 * JUnit reports read back, a failing row's replay line. Runs ./nvmerace (or
 * $NVR) as a child process.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "suite_main.h"

struct out {
	int status;		/* exit status, or 128 + signal */
	char out[65536];
	char err[16384];
};

static const char *bin(void)
{
	const char *b = getenv("NVR");

	return b ? b : "./nvmerace";
}

static void slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf + n, len - 1 - n)) > 0 && n + (size_t)r < len - 1)
		n += (size_t)r;
	buf[n] = '\0';
}

/* Run nvmerace with @argv (NULL-terminated, without argv[0]). */
static void run(struct out *o, const char *const *argv)
{
	char *args[64];
	char ofile[] = "/tmp/nvr-cli-out-XXXXXX", efile[] = "/tmp/nvr-cli-err-XXXXXX";
	int ofd = mkstemp(ofile), efd = mkstemp(efile), i = 0, st;
	pid_t pid;

	ck_assert(ofd >= 0 && efd >= 0);
	args[i++] = (char *)bin();
	while (*argv && i < 63)
		args[i++] = (char *)*argv++;
	args[i] = NULL;
	pid = fork();
	ck_assert(pid >= 0);
	if (!pid) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(args[0], args);
		_exit(127);
	}
	ck_assert(waitpid(pid, &st, 0) == pid);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(ofd, 0, SEEK_SET);
	lseek(efd, 0, SEEK_SET);
	slurp(ofd, o->out, sizeof(o->out));
	slurp(efd, o->err, sizeof(o->err));
	close(ofd);
	close(efd);
	unlink(ofile);
	unlink(efile);
}

#define RUN(o, ...) run(o, (const char *const[]){ __VA_ARGS__, NULL })

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
	ck_assert_ptr_nonnull(strstr(o.out, "replay: nvmerace run --seed 77 --only 'small/wrong'"));
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

START_TEST(test_sigint_stops_cleanly)
{
	char dir[] = "/tmp/nvr-cli-XXXXXX", scn[256], js[256];
	struct json_object *j, *arr, *v;
	int st, fd;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(scn, sizeof(scn), "%s/long.yaml", dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	write_text(scn, "name: long\n"
			"queues: [ { id: 1, depth: 32, vector: 1 } ]\n"
			"actors:\n"
			"  - { name: io, steps: [ { submit: { queue: 1, op: read, qd: 8, duration_ms: 60000 } } ] }\n"
			"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n");
	pid = fork();
	ck_assert(pid >= 0);
	if (!pid) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin(), bin(), "run", "--json", js, scn, (char *)NULL);
		_exit(127);
	}
	usleep(700000);
	kill(pid, SIGINT);
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 130);
	/* The report says so and keeps what was measured. */
	j = json_object_from_file(js);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "interrupted", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(j, "scenarios", &arr));
	ck_assert_int_eq((int)json_object_array_length(arr), 1);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "commands", &v));
	ck_assert_int_gt(json_object_get_int64(v), 0);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "anomalies", &v));
	ck_assert(json_object_object_get_ex(v, "lost", &v));
	ck_assert_int_eq(json_object_get_int64(v), 0);
	json_object_put(j);
	unlink(js);
	unlink(scn);
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
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(cli_suite());
}
