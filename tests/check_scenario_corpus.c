// SPDX-License-Identifier: MIT
/*
 * Scenario files as a whole: the corpus under tests/scenarios (every good
 * file parses, every bad file fails with the first line its .err file
 * holds), the shipped scenarios and the man page's examples, every shipped
 * row run (slow), and inputs mangled at random, which must never crash,
 * leak or hang (slow). Run from the top of the tree (make test does).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nvmerace/scenario.h>

#include "nvmerace.h"
#include "scenario_helpers.h"
#include "suite_main.h"

/* --- the corpus --- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a > b && !strcmp(s + a - b, suffix);
}

/* Call @fn on every file of @dir ending in @suffix; return how many. */
static unsigned int each_file(const char *dir, const char *suffix,
			      void (*fn)(const char *path, unsigned int *failed),
			      unsigned int *failed)
{
	struct dirent **ents;
	unsigned int n = 0;
	int nr = scandir(dir, &ents, NULL, alphasort);

	ck_assert_msg(nr >= 0, "cannot read %s (run from the top of the tree): %s", dir,
		      strerror(errno));
	for (int i = 0; i < nr; i++) {
		char path[512];

		if (has_suffix(ents[i]->d_name, suffix)) {
			snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			fn(path, failed);
			n++;
		}
		free(ents[i]);
	}
	free(ents);
	return n;
}

static void check_good(const char *path, unsigned int *failed)
{
	int ret = nvr_scenario_load(path, NULL, 0, &scn, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "%s: did not parse: %s\n", path, err);
		(*failed)++;
		return;
	}
	if (strcmp(scn.file, path) || !scn.name[0] || !scn.nr_queues || !scn.nr_actors ||
	    !scn.nr_rows) {
		fprintf(stderr, "%s: parsed into an incomplete scenario\n", path);
		(*failed)++;
	}
}

static void check_bad(const char *path, unsigned int *failed)
{
	char errpath[512], *want;
	int ret;

	snprintf(errpath, sizeof(errpath), "%.*s.err", (int)(strlen(path) - 5), path);
	want = slurp(errpath);
	if (!want) {
		fprintf(stderr, "%s: no %s\n", path, errpath);
		(*failed)++;
		return;
	}
	want[strcspn(want, "\n")] = '\0';
	ret = nvr_scenario_load(path, NULL, 0, &scn, err, sizeof(err));
	if (ret != -EINVAL) {
		fprintf(stderr, "%s: returned %d, expected -EINVAL\n", path, ret);
		(*failed)++;
	} else if (strcmp(first_err(), want)) {
		fprintf(stderr, "%s:\n  got:      %s\n  expected: %s\n", path, first_err(), want);
		(*failed)++;
	}
	free(want);
}

/* Every .err has its .yaml (a renamed file must not leave its check behind). */
static void check_err_has_yaml(const char *path, unsigned int *failed)
{
	char yaml[512];
	FILE *f;

	snprintf(yaml, sizeof(yaml), "%.*s.yaml", (int)(strlen(path) - 4), path);
	f = fopen(yaml, "r");
	if (!f) {
		fprintf(stderr, "%s: no %s\n", path, yaml);
		(*failed)++;
		return;
	}
	fclose(f);
}

START_TEST(test_corpus_good)
{
	unsigned int failed = 0, n = each_file(CORPUS "/good", ".yaml", check_good, &failed);

	ck_assert_uint_ge(n, 10);
	ck_assert_msg(!failed, "%u of %u good files failed (see above)", failed, n);
}
END_TEST

START_TEST(test_corpus_bad)
{
	unsigned int failed = 0, n = each_file(CORPUS "/bad", ".yaml", check_bad, &failed);

	ck_assert_uint_ge(n, 40);
	ck_assert_uint_eq(each_file(CORPUS "/bad", ".err", check_err_has_yaml, &failed), n);
	ck_assert_msg(!failed, "%u of %u bad files failed (see above)", failed, n);
}
END_TEST

START_TEST(test_shipped)
{
	unsigned int failed = 0, n = each_file("scenarios", ".yaml", check_good, &failed);

	ck_assert_uint_ge(n, 1);
	ck_assert_msg(!failed, "%u of %u shipped scenarios failed (see above)", failed, n);
}
END_TEST

/* The complete scenarios shown in nvmerace-scenario(5) are valid. */
START_TEST(test_man_examples)
{
	char *man = slurp("man/nvmerace-scenario.5"), *ex, *line, *save = NULL;
	bool in = false;
	size_t len = 0;
	unsigned int n = 0;

	ck_assert_msg(man != NULL, "cannot read man/nvmerace-scenario.5");
	ex = malloc(strlen(man) + 1);
	ck_assert_ptr_nonnull(ex);
	for (line = strtok_r(man, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, ".EX")) {
			in = true;
			len = 0;
		} else if (!strcmp(line, ".EE") && in) {
			in = false;
			ex[len] = '\0';
			if (!strncmp(ex, "name:", 5)) {
				ck_assert_msg(parse(ex) == 0, "example %u:\n%s\n%s", n, ex, err);
				n++;
			}
		} else if (in) {
			/* Undo the roff escapes the examples use: \- and \e. */
			for (const char *p = line; *p; p++) {
				if (p[0] == '\\' && (p[1] == '-' || p[1] == 'e'))
					ex[len++] = *++p == '-' ? '-' : '\\';
				else
					ex[len++] = *p;
			}
			ex[len++] = '\n';
		}
	}
	free(ex);
	free(man);
	ck_assert_uint_ge(n, 2);
}
END_TEST

/* A row whose host design races on purpose, which ThreadSanitizer would
 * rightly flag (or, for a hardware reordering, cannot reproduce). A device
 * race knob writes memory the host owns (a canary, a CQ slot not released):
 * a data race by design too. */
static bool racy_on_purpose(const struct nvr_scenario *s, const struct nvr_row *row)
{
	int lock = row->policy.cq_lock >= 0 ? row->policy.cq_lock : s->policy.cq_lock;
	int barrier = row->policy.barrier >= 0 ? row->policy.barrier : s->policy.barrier;

	return lock == NVR_CQ_LOCK_NONE || barrier == NVR_DBBUF_BARRIER_NONE ||
	       nvr_row_race_knob(s, row) >= 0;
}

/*
 * The explorer's verdict on one row: a schedule the model chose catches the
 * bug (exit 0). Under the OS scheduler a host design's race is caught only
 * when the machine's timing opens the window; the explorer opens it on
 * purpose, so a row the threads did not catch is judged by it, with a
 * fixed seed and budget (the same schedules on every machine).
 */
static int explore_row(const char *path, const char *scn_name, const char *row)
{
	const char *nvr = getenv("NVR") ? getenv("NVR") : "./nvmerace";
	char only[256];
	int st;
	pid_t pid;

	snprintf(only, sizeof(only), "%s/%s", scn_name, row);
	pid = fork();
	ck_assert(pid >= 0);
	if (!pid) {
		execl(nvr, nvr, "explore", "-q", "--seed", "1", "--budget", "200", "--only", only,
		      path, (char *)NULL);
		_exit(127);
	}
	ck_assert(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Every row of every shipped scenario meets its expectations on the simulator. */
static void run_rows(const char *path, unsigned int *failed)
{
	static struct nvr_result res;
	static struct nvr_scenario big;
	struct nvr_run_opts o = { .seed = 1 };

	ck_assert_msg(!nvr_scenario_load(path, NULL, 0, &scn, err, sizeof(err)), "%s", err);
	for (uint32_t r = 0; r < scn.nr_rows; r++) {
		const struct nvr_row *row = &scn.rows[r];
		const struct nvr_scenario *run = &scn;
		int ret;

		if (getenv("NVR_TSAN") && racy_on_purpose(&scn, row)) {
			fprintf(stderr, "%s/%s: skipped under ThreadSanitizer (a race on purpose)\n",
				scn.name, row->name);
			continue;
		}
		/* A row that stops at its first detection may take longer than its
		 * count on a loaded machine: let it run up to ten times as long. */
		if (scn.stop_on_anomaly && nvr_row_expects_catch(row)) {
			big = scn;
			for (uint32_t a = 0; a < big.nr_actors; a++)
				for (uint32_t i = 0; i < big.actors[a].nr_steps; i++)
					big.actors[a].steps[i].count *= 10;
			run = &big;
		}
		ret = nvr_run_row(run, r, &o, &res);

		fprintf(stderr, "%s/%s: %s, %" PRIu64 " commands in %.2f s%s%s\n", scn.name,
			row->name, nvr_verdict_name(res.verdict), res.stats.completed,
			(double)res.elapsed_ns / 1e9, res.reason[0] ? ": " : "", res.reason);
		if (!ret && res.verdict != NVR_PASS && nvr_row_expects_catch(row) &&
		    nvr_row_race_knob(&scn, row) < 0) {
			int st = explore_row(path, scn.name, row->name);

			fprintf(stderr, "%s/%s: the threads' timing did not open the window; "
				"explore --seed 1 --budget 200: %s\n", scn.name, row->name,
				st ? "not caught either" : "caught");
			if (!st)
				continue;
		}
		if (ret || res.verdict != NVR_PASS)
			(*failed)++;
	}
}

START_TEST(test_shipped_run)
{
	unsigned int failed = 0, n = each_file("scenarios", ".yaml", run_rows, &failed);

	ck_assert_uint_ge(n, 1);
	ck_assert_msg(!failed, "%u shipped rows did not pass (see above)", failed);
}
END_TEST


/* --- never crash, leak or hang --- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* Every error line is "file:line:col: message" or "--set ...", earliest first. */
static void check_err_format(const char *file, const char *text)
{
	const char *p = text;
	size_t flen = strlen(file);
	unsigned long pl = 0, pc = 0;

	ck_assert_msg(*p, "an error without a message");
	while (*p) {
		unsigned long l, c;
		int n = 0;

		ck_assert_msg(!strncmp(p, file, flen) && p[flen] == ':', "bad error line: %s", p);
		ck_assert_msg(sscanf(p + flen, ":%lu:%lu: %n", &l, &c, &n) == 2 && n > 0,
			      "bad error line: %s", p);
		ck_assert_msg(l > pl || (l == pl && c >= pc), "errors out of order: %s", text);
		pl = l;
		pc = c;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
}

static void mangle_and_parse(const char *src, size_t len)
{
	static const char alphabet[] = "{}[]:,-#&*!|>'\"%@ \n\t0123456789abcqdxyz_.~";
	size_t n = len, cap = len + 64;
	char *buf = malloc(cap);
	int edits = 1 + (int)rnd(4), ret;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, src, len);
	for (int e = 0; e < edits && n; e++) {
		size_t at = rnd((uint32_t)n);

		switch (rnd(4)) {
		case 0:		/* replace */
			buf[at] = alphabet[rnd(sizeof(alphabet) - 1)];
			break;
		case 1:		/* delete */
			memmove(buf + at, buf + at + 1, n - at - 1);
			n--;
			break;
		case 2:		/* insert */
			if (n < cap) {
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = alphabet[rnd(sizeof(alphabet) - 1)];
				n++;
			}
			break;
		default:	/* truncate */
			n = at;
			break;
		}
	}
	/* Exactly @n bytes, no terminator: the parser must not read past them. */
	{
		char *exact = malloc(n ? n : 1);

		ck_assert_ptr_nonnull(exact);
		memcpy(exact, buf, n);
		ret = nvr_scenario_parse(exact, n, "m.yaml", NULL, 0, &scn, err, sizeof(err));
		free(exact);
	}
	ck_assert_msg(ret == 0 || ret == -EINVAL, "returned %d", ret);
	if (ret)
		check_err_format("m.yaml", err);
	free(buf);
}

static void fuzz_file(const char *path, unsigned int *failed)
{
	char *src = slurp(path);
	size_t len;

	(void)failed;
	ck_assert_ptr_nonnull(src);
	len = strlen(src);
	for (int i = 0; i < 150; i++)
		mangle_and_parse(src, len);
	free(src);
}

START_TEST(test_mangled)
{
	unsigned int failed = 0;

	rng_state = 0x9e3779b97f4a7c15ull;
	each_file(CORPUS "/good", ".yaml", fuzz_file, &failed);
	each_file("scenarios", ".yaml", fuzz_file, &failed);
}
END_TEST

/* Every prefix of a full scenario: unterminated everything. */
START_TEST(test_prefixes)
{
	char *src = slurp(CORPUS "/good/full.yaml");
	size_t len;

	ck_assert_ptr_nonnull(src);
	len = strlen(src);
	for (size_t n = 0; n < len; n++) {
		char *exact = malloc(n ? n : 1);
		int ret;

		ck_assert_ptr_nonnull(exact);
		memcpy(exact, src, n);
		ret = nvr_scenario_parse(exact, n, "p.yaml", NULL, 0, &scn, err, sizeof(err));
		free(exact);
		ck_assert_msg(ret == -EINVAL || ret == 0, "prefix %zu: %d", n, ret);
		if (ret)
			check_err_format("p.yaml", err);
	}
	free(src);
}
END_TEST

/* Mangled overrides on a good scenario. */
START_TEST(test_mangled_overrides)
{
	static const char *const paths[] = {
		"actors.io.steps.0.submit.qd", "queues.1.vector", "actors.0.name", "matrix.0",
		"device.sim.latency_us", "actors.isr.steps.0.reap.wake", "name", "expect.lost",
		"actors.io.steps.0", "queues.0", "actors", "queues.1.id",
	};
	static const char *const values[] = {
		"1", "0", "", "polled", "irq", "[1, 2]", "{ a: 1 }", "-1", "99999999999999999999",
		"any", ">0", "x y", "\"", "'", "&a", "*a", "true",
	};

	rng_state = 12345;
	for (int i = 0; i < 2000; i++) {
		struct nvr_override ov[3];
		size_t nr = 1 + rnd(3);
		int ret;

		for (size_t j = 0; j < nr; j++)
			ov[j] = (struct nvr_override){ paths[rnd(NVR_ARRAY_SIZE(paths))],
						       values[rnd(NVR_ARRAY_SIZE(values))] };
		ret = parse_ov(BASE "expect: { lost: 0 }\n", ov, nr);
		ck_assert(ret == 0 || ret == -EINVAL);
		if (ret)
			ck_assert(err[0]);
	}
}
END_TEST


static Suite *scenario_corpus_suite(void)
{
	Suite *s = suite_create("scenario-corpus");
	TCase *tc;

	tc = tcase_create("corpus");
	tcase_add_test(tc, test_corpus_good);
	tcase_add_test(tc, test_corpus_bad);
	tcase_add_test(tc, test_shipped);
	tcase_add_test(tc, test_man_examples);
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped-run");
	tcase_set_tags(tc, "slow");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_shipped_run);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_tags(tc, "slow");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mangled);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_mangled_overrides);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(scenario_corpus_suite());
}
