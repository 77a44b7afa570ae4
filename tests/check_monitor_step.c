// SPDX-License-Identifier: MIT
/*
 * nvmerace monitor --schedule without a terminal (--steps, --keys): through
 * the normal binary ($NVR, ./nvmerace), which execs the model build beside
 * it. A schedule found by explore is replayed and stepped; going back is a
 * replay from the start, so it must show exactly what going forward showed.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_bin.h"
#include "suite_main.h"

#define SCN "scenarios/shadow-doorbells.yaml"
#define BUGGY "shadow-doorbells/barrier-none"
#define CLEAN "shadow-doorbells/barrier-full"

static char buggy_sched[] = "/tmp/nvr-step-bug-XXXXXX";
static char clean_sched[] = "/tmp/nvr-step-ok-XXXXXX";

/* A schedule of @row: explore's deciding one (a catch), or run --sched model's. */
static void make_schedule(char *path, const char *row, bool explore)
{
	static struct out o;
	int fd = mkstemp(path);

	ck_assert(fd >= 0);
	close(fd);
	if (explore)
		RUN(&o, "explore", "-q", "--seed", "1", "--schedule-out", path, "--only", row, SCN);
	else
		RUN(&o, "run", "-q", "--sched", "model", "--seed", "1", "--schedule-out", path,
		    "--only", row, SCN);
	ck_assert_msg(o.status == 0, "status %d\n%s%s", o.status, o.out, o.err);
}

static void setup(void)
{
	make_schedule(buggy_sched, BUGGY, true);
	make_schedule(clean_sched, CLEAN, false);
}

static void teardown(void)
{
	unlink(buggy_sched);
	unlink(clean_sched);
}

/* Step through @sched of @row with @keys; the output in @o. */
static void step(struct out *o, const char *sched, const char *row, const char *keys)
{
	RUN(o, "monitor", "--schedule", sched, "--only", row, "--keys", keys, SCN);
	ck_assert_msg(o->status == 0, "keys %s: status %d\n%.2000s%s", keys, o->status, o->out,
		      o->err);
}

/* The last pane of batch output (from its "==== key" line on), into @buf. */
static void last_pane(const struct out *o, char *buf, size_t len)
{
	const char *p = o->out, *q;

	while ((q = strstr(p, "==== ")))
		p = q + 1;
	ck_assert(p != o->out);
	p = strchr(p, '\n');
	ck_assert_ptr_nonnull(p);
	snprintf(buf, len, "%s", p + 1);
}

/* The number after @what in @s ("first anomaly at step 24435"). */
static unsigned long number_after(const char *s, const char *what)
{
	const char *p = strstr(s, what);

	ck_assert_msg(p != NULL, "no '%s' in\n%s", what, s);
	return strtoul(p + strlen(what), NULL, 10);
}

START_TEST(test_back_is_forward)
{
	static struct out a, b;
	static char pa[32768], pb[32768];
	static const char *const pairs[][2] = {
		{ "nnnnnbb", "nnn" },	/* 5 forward, 2 back: 3 forward */
		{ "sssp", "ss" },	/* by the steps that matter */
		{ "abn", "a" },		/* around the first anomaly */
		{ "eg", "" },		/* the end, then the start */
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		step(&a, buggy_sched, BUGGY, pairs[i][0]);
		last_pane(&a, pa, sizeof(pa));
		if (pairs[i][1][0]) {
			step(&b, buggy_sched, BUGGY, pairs[i][1]);
			last_pane(&b, pb, sizeof(pb));
		} else {
			/* No key: the start pane is the only one. */
			RUN(&b, "monitor", "--schedule", buggy_sched, "--only", BUGGY, "--steps",
			    "0", SCN);
			ck_assert_int_eq(b.status, 0);
			snprintf(pb, sizeof(pb), "%s", strchr(b.out, '\n') + 1);
		}
		/* The notes differ ("at the start"): compare the panes above them. */
		*strstr(pa, "-- store buffers") = '\0';
		*strstr(pb, "-- store buffers") = '\0';
		ck_assert_msg(!strcmp(pa, pb), "%s vs %s:\n%s\n----\n%s", pairs[i][0], pairs[i][1],
			      pa, pb);
	}
	/* And all of it, state included, for the plain steps. */
	step(&a, buggy_sched, BUGGY, "nnnnnbb");
	step(&b, buggy_sched, BUGGY, "nnn");
	last_pane(&a, pa, sizeof(pa));
	last_pane(&b, pb, sizeof(pb));
	ck_assert_str_eq(pa, pb);
	ck_assert_ptr_nonnull(strstr(pa, "step 3/"));
}
END_TEST

/* Seed 004's catch: the step the pane calls the first anomaly is the one it marks. */
START_TEST(test_first_anomaly_step)
{
	static struct out o;
	static char at[32768], before[32768];
	unsigned long first, mark;
	char line[32];

	step(&o, buggy_sched, BUGGY, "a");
	last_pane(&o, at, sizeof(at));
	first = number_after(at, "first anomaly at step ");
	ck_assert_uint_eq(number_after(at, "step "), first);
	snprintf(line, sizeof(line), "\n>%5lu ", first);
	ck_assert_msg(strstr(at, line) != NULL, "no %s in\n%s", line + 1, at);
	mark = number_after(at, "\n>");
	ck_assert_uint_eq(mark, first);
	/* There the ledger holds it; one step earlier it did not. */
	ck_assert_ptr_nonnull(strstr(at, "\n  first anomaly: "));
	ck_assert_ptr_null(strstr(at, "anomalies: -"));
	step(&o, buggy_sched, BUGGY, "ab");
	last_pane(&o, before, sizeof(before));
	ck_assert_uint_eq(number_after(before, "step "), first - 1);
	ck_assert_ptr_nonnull(strstr(before, "(ahead)"));
	ck_assert_ptr_nonnull(strstr(before, "anomalies: -"));
	ck_assert_ptr_null(strstr(before, "\n  first anomaly: "));
	/* The shared words have names in the timeline, not numbers. */
	ck_assert_ptr_nonnull(strstr(at, "ld cq1.head="));
	ck_assert_ptr_nonnull(strstr(at, "lock cq1.lock"));
}
END_TEST

START_TEST(test_clean_row_verdict)
{
	static struct out o;
	const char *end;

	step(&o, clean_sched, CLEAN, "nns");
	end = o.out + strlen(o.out);
	ck_assert(end > o.out && end[-1] == '\n');
	while (end - 1 > o.out && end[-2] != '\n')
		end--;
	ck_assert_msg(!strncmp(end - 1, "verdict: pass", 13), "ends with:\n%s", end - 1);
	ck_assert_ptr_null(strstr(o.out, "first anomaly at"));
	/* At the end the pane itself ends with it. */
	step(&o, clean_sched, CLEAN, "e");
	ck_assert_ptr_nonnull(strstr(o.out, "first anomaly none"));
	ck_assert_ptr_nonnull(strstr(o.out, "(no queues: the row has ended)\nverdict: pass"));
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_bad_schedule)
{
	static struct out o;
	char bad[] = "/tmp/nvr-step-bad-XXXXXX";
	char want[128];
	int fd = mkstemp(bad);

	ck_assert(fd >= 0);
	close(fd);
	write_file(bad, "nvmerace-schedule 1\nid random:seed=1:run=0\nsteps 4\nr0 r0\nr1 x9\n");
	RUN(&o, "monitor", "--schedule", bad, "--only", BUGGY, "--steps", "1", SCN);
	ck_assert_int_eq(o.status, 2);
	snprintf(want, sizeof(want), "nvmerace: %s:5: step 4 is 'x9', not r<actor> or f<actor>",
		 bad);
	ck_assert_msg(strstr(o.err, want) != NULL, "%s", o.err);

	write_file(bad, "nvmerace-schedule 1\nid random:seed=1:run=0\nsteps 4\nr0 r0\n");
	RUN(&o, "monitor", "--schedule", bad, "--only", BUGGY, "--steps", "1", SCN);
	ck_assert_int_eq(o.status, 2);
	ck_assert_msg(strstr(o.err, ":5: 2 steps, 'steps 4' promised") != NULL, "%s", o.err);

	write_file(bad, "steps 4\nr0 r0\n");
	RUN(&o, "monitor", "--seed", "1", "--schedule", bad, "--only", BUGGY, "--steps", "1",
	    SCN);
	ck_assert_int_eq(o.status, 2);
	ck_assert_msg(strstr(o.err, ":1: not 'nvmerace-schedule 1'") != NULL, "%s", o.err);
	unlink(bad);

	RUN(&o, "monitor", "--schedule", "/nonexistent/s", "--only", BUGGY, "--steps", "1", SCN);
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "cannot read '/nonexistent/s'"));
	/* One row, chosen; batch keys need a schedule; a key the stepper does not know. */
	RUN(&o, "monitor", "--schedule", buggy_sched, "--steps", "1", SCN);
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "--only NAME/ROW"));
	RUN(&o, "monitor", "--steps", "1", SCN);
	ck_assert_int_eq(o.status, 2);
	RUN(&o, "monitor", "--schedule", buggy_sched, "--only", BUGGY, "--keys", "nz", SCN);
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "--keys 'nz'"));
	/* Without a terminal and without --steps or --keys. */
	RUN(&o, "monitor", "--schedule", buggy_sched, "--only", BUGGY, SCN);
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "--steps N"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("monitor_step");
	TCase *tc = tcase_create("batch");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_back_is_forward);
	tcase_add_test(tc, test_first_anomaly_step);
	tcase_add_test(tc, test_clean_row_verdict);
	tcase_add_test(tc, test_bad_schedule);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(suite());
}
