// SPDX-License-Identifier: MIT
/*
 * The scenario parser: the corpus under tests/scenarios (every good file
 * parses, every bad file fails with the first line its .err file holds),
 * every key landing in the right field, the expectation syntax, overrides,
 * the error list, and inputs mangled at random, which must never crash,
 * leak or hang. Run from the top of the tree (make test does).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmerace.h"
#include "scenario.h"

#include "suite_main.h"

#define CORPUS "tests/scenarios"
#define ERR_MAX 2048

static struct nvr_scenario scn;
static char err[ERR_MAX];

/* Parse @yaml as "t.yaml" with overrides; return what nvr_scenario_parse() did. */
static int parse_ov(const char *yaml, const struct nvr_override *ov, size_t nr)
{
	memset(err, 0, sizeof(err));
	return nvr_scenario_parse(yaml, strlen(yaml), "t.yaml", ov, nr, &scn, err, sizeof(err));
}

static int parse(const char *yaml)
{
	return parse_ov(yaml, NULL, 0);
}

/* The first line of err. */
static const char *first_err(void)
{
	static char line[ERR_MAX];
	size_t n = strcspn(err, "\n");

	memcpy(line, err, n);
	line[n] = '\0';
	return line;
}

static void expect_error(const char *yaml, const char *want)
{
	int ret = parse(yaml);

	ck_assert_msg(ret == -EINVAL, "parsed, expected: %s", want);
	ck_assert_str_eq(first_err(), want);
}

/* A valid scenario to change one thing in. */
#define BASE                                                                                   \
	"name: t\n"                                                                            \
	"queues:\n"                                                                            \
	"  - { id: 1, depth: 64, vector: 1 }\n"                                                \
	"actors:\n"                                                                            \
	"  - { name: io, steps: [ { submit: { queue: 1, op: read, qd: 8, count: 100 } } ] }\n" \
	"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"

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

/* The row expects to catch something (some class "> 0" or ">= N > 0"). */
static bool expects_catch(const struct nvr_row *row)
{
	for (int c = 0; c < NVR_AN_NR; c++) {
		const struct nvr_expect *e = &row->expect[c];

		if (e->cmp == NVR_CMP_GT || (e->cmp == NVR_CMP_GE && e->value > 0) ||
		    (e->cmp == NVR_CMP_EQ && e->value > 0))
			return true;
	}
	return false;
}

/* A row whose host design races on purpose, which ThreadSanitizer would
 * rightly flag (or, for a hardware reordering, cannot reproduce). */
static bool racy_on_purpose(const struct nvr_scenario *s, const struct nvr_row *row)
{
	int lock = row->policy.cq_lock >= 0 ? row->policy.cq_lock : s->policy.cq_lock;
	int barrier = row->policy.barrier >= 0 ? row->policy.barrier : s->policy.barrier;

	if (lock == NVR_CQ_LOCK_NONE || barrier == NVR_DBBUF_BARRIER_NONE)
		return true;
	/* A device race knob writes memory the host owns (a canary, a CQ slot
	 * not released): a data race by design. */
	for (int k = 0; k < NVR_RACE_NR; k++)
		if (s->sim.races[k] || (row->set_races[k] && row->races[k]))
			return true;
	return false;
}

/* Every row of every shipped scenario meets its expectations on the simulator. */
static void run_rows(const char *path, unsigned int *failed)
{
	static struct nvr_result res;
	static struct nvr_scenario big;
	struct nvr_run_opts o = { .seed = 1 };

	ck_assert_msg(!nvr_scenario_load(path, NULL, 0, &scn, err, sizeof(err)), "%s", err);
	for (uint32_t r = 0; r < scn.nr_rows; r++) {
		const struct nvr_scenario *run = &scn;
		int ret;

		if (getenv("NVR_TSAN") && racy_on_purpose(&scn, &scn.rows[r])) {
			fprintf(stderr, "%s/%s: skipped under ThreadSanitizer (a race on purpose)\n",
				scn.name, scn.rows[r].name);
			continue;
		}
		/* A row that stops at its first detection may take longer than its
		 * count on a loaded machine: let it run up to ten times as long. */
		if (scn.stop_on_anomaly && expects_catch(&scn.rows[r])) {
			big = scn;
			for (uint32_t a = 0; a < big.nr_actors; a++)
				for (uint32_t i = 0; i < big.actors[a].nr_steps; i++)
					big.actors[a].steps[i].count *= 10;
			run = &big;
		}
		ret = nvr_run_row(run, r, &o, &res);

		fprintf(stderr, "%s/%s: %s, %" PRIu64 " commands in %.2f s%s%s\n", scn.name,
			scn.rows[r].name, nvr_verdict_name(res.verdict), res.stats.completed,
			(double)res.elapsed_ns / 1e9, res.reason[0] ? ": " : "", res.reason);
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

/* --- fields --- */

START_TEST(test_full)
{
	const struct nvr_row *r;
	const struct nvr_step *st;

	ck_assert_int_eq(nvr_scenario_load(CORPUS "/good/full.yaml", NULL, 0, &scn, err,
					   sizeof(err)), 0);
	ck_assert_str_eq(scn.name, "Full_scenario-2");
	ck_assert_str_eq(scn.seed_doc, "000_e5aaa99f3d44a359.txt");
	ck_assert_str_eq(scn.description, "Every key.\nTwo lines.");
	ck_assert(scn.needs_sim);
	ck_assert_uint_eq(scn.sim.ns_bytes, 64ull << 20);
	ck_assert_uint_eq(scn.sim.lba_size, 4096);
	ck_assert_uint_eq(scn.sim.mqes, 255);
	ck_assert_uint_eq(scn.sim.nr_io_queues, 4);
	ck_assert_uint_eq(scn.sim.nr_vectors, 5);
	ck_assert_uint_eq(scn.sim.dstrd, 2);
	ck_assert_uint_eq(scn.sim.mdts, 6);
	ck_assert_uint_eq(scn.sim.ready_delay_us, 1000);
	ck_assert_uint_eq(scn.sim.shutdown_us, 2000);
	ck_assert_uint_eq(scn.sim.latency_min_us, 3);
	ck_assert_uint_eq(scn.sim.latency_max_us, 40);
	ck_assert_uint_eq(scn.sim.spin_us, 10);
	ck_assert(scn.sim.no_pba);
	for (int f = 0; f < NVR_FAULT_NR; f++)
		ck_assert_uint_eq(scn.sim.fault_rate[f], 1000u * (unsigned int)(f + 1));
	ck_assert_uint_eq(scn.sim.cap_to, 3);
	for (int h = 0; h < NVR_HOSTILE_NR; h++)
		ck_assert_uint_eq(scn.sim.hostile[h],
				  nvr_sim_hostile_kind(h) == NVR_HOSTILE_SWITCH ? 1 :
				  h == NVR_HOSTILE_CFS_AFTER ? 400 :
				  h == NVR_HOSTILE_HANG_AFTER ? 500 : 100u * (unsigned int)(h + 1));
	ck_assert_uint_eq(scn.coalesce_thr, 7);
	ck_assert_uint_eq(scn.coalesce_time, 2);

	ck_assert_uint_eq(scn.nr_queues, 3);
	ck_assert_uint_eq(scn.queues[0].id, 1);
	ck_assert_uint_eq(scn.queues[0].depth, 64);
	ck_assert_int_eq(scn.queues[0].vector, 1);
	ck_assert_uint_eq(scn.queues[1].id, 4);
	ck_assert_uint_eq(scn.queues[1].depth, 256);
	ck_assert_int_eq(scn.queues[1].vector, -1);
	ck_assert_int_eq(scn.queues[2].vector, 4);

	ck_assert_uint_eq(scn.nr_actors, 5);
	ck_assert_str_eq(scn.actors[0].name, "io");
	ck_assert_uint_eq(scn.actors[0].nr_steps, 4);
	st = &scn.actors[0].steps[1];
	ck_assert_int_eq(st->kind, NVR_STEP_SUBMIT);
	ck_assert_uint_eq(st->queue, 1);
	ck_assert_int_eq(st->op, NVR_OP_WRITE);
	ck_assert_uint_eq(st->qd, 63);
	ck_assert_uint_eq(st->count, 1000);
	ck_assert_uint_eq(st->duration_ns, 0);
	ck_assert_uint_eq(st->bs, 8192);
	ck_assert(st->random);
	ck_assert(st->verify);
	ck_assert_uint_eq(st->line, 38);
	st = &scn.actors[0].steps[2];
	ck_assert_int_eq(st->kind, NVR_STEP_SLEEP);
	ck_assert_uint_eq(st->sleep_ns, 10000000);
	st = &scn.actors[0].steps[3];
	ck_assert_uint_eq(st->count, 0);
	ck_assert_uint_eq(st->duration_ns, 250000000);
	ck_assert_uint_eq(st->bs, 4096);
	ck_assert(!st->random);
	ck_assert(!st->verify);
	ck_assert_int_eq(scn.actors[1].steps[1].op, NVR_OP_MIX);
	ck_assert_int_eq(scn.actors[1].steps[2].sleep_ns, 500000);
	ck_assert_int_eq(scn.actors[1].steps[3].op, NVR_OP_FLUSH);
	/* Both actors meet at "start": one barrier id. */
	ck_assert_int_eq(scn.actors[0].steps[0].kind, NVR_STEP_BARRIER);
	ck_assert_uint_eq(scn.actors[0].steps[0].barrier, scn.actors[1].steps[0].barrier);
	st = &scn.actors[2].steps[0];
	ck_assert_int_eq(st->kind, NVR_STEP_REAP);
	ck_assert_int_eq(st->wake, NVR_WAKE_IRQ);
	st = &scn.actors[3].steps[1];
	ck_assert_int_eq(st->wake, NVR_WAKE_EVERY);
	ck_assert_uint_eq(st->every_ns, 50000);
	ck_assert_int_eq(scn.actors[4].steps[0].wake, NVR_WAKE_POLL);
	ck_assert_uint_eq(scn.actors[4].steps[0].queue, 2);

	ck_assert_uint_eq(scn.timeout_ns, 1500000000ull);
	ck_assert_uint_eq(scn.stall_ns, 300000000ull);
	ck_assert_uint_eq(scn.sweep_ns, 20000000ull);
	ck_assert_uint_eq(scn.duration_ns, 5000000000ull);
	ck_assert(scn.stop_on_anomaly);

	ck_assert_uint_eq(scn.nr_rows, 2);
	r = &scn.rows[0];
	ck_assert_str_eq(r->name, "clean");
	ck_assert_int_eq(r->no_pba, -1);
	for (int c = 0; c < NVR_AN_NR; c++) {
		ck_assert_int_eq(r->expect[c].cmp, NVR_CMP_EQ);
		ck_assert_uint_eq(r->expect[c].value, 0);
	}
	for (int f = 0; f < NVR_FAULT_NR; f++)
		ck_assert(!r->set_fault[f]);
	r = &scn.rows[1];
	ck_assert_str_eq(r->name, "drop");
	ck_assert_int_eq(r->no_pba, 0);
	ck_assert(r->set_fault[NVR_FAULT_DROP_CQE]);
	ck_assert_uint_eq(r->fault_rate[NVR_FAULT_DROP_CQE], 100);
	ck_assert(r->set_fault[NVR_FAULT_MISROUTE_IRQ]);
	ck_assert_uint_eq(r->fault_rate[NVR_FAULT_MISROUTE_IRQ], 0);
	ck_assert(!r->set_fault[NVR_FAULT_DUP_CQE]);
	ck_assert(r->set_hostile[NVR_HOSTILE_GARBAGE_CQE]);
	ck_assert_uint_eq(r->hostile[NVR_HOSTILE_GARBAGE_CQE], 50);
	ck_assert(r->set_hostile[NVR_HOSTILE_IRQ_STORM]);
	ck_assert_uint_eq(r->hostile[NVR_HOSTILE_IRQ_STORM], 0);
	ck_assert(!r->set_hostile[NVR_HOSTILE_HANG_AFTER]);
	ck_assert_int_eq(r->expect[NVR_AN_LOST].cmp, NVR_CMP_GT);
	ck_assert_int_eq(r->expect[NVR_AN_DUPLICATE].cmp, NVR_CMP_GE);
	ck_assert_uint_eq(r->expect[NVR_AN_DUPLICATE].value, 1);
	ck_assert_int_eq(r->expect[NVR_AN_SPURIOUS].cmp, NVR_CMP_LT);
	ck_assert_uint_eq(r->expect[NVR_AN_SPURIOUS].value, 5);
	ck_assert_int_eq(r->expect[NVR_AN_SPURIOUS_IRQ].cmp, NVR_CMP_LE);
	ck_assert_int_eq(r->expect[NVR_AN_MISSED_IRQ].cmp, NVR_CMP_EQ);
	ck_assert_uint_eq(r->expect[NVR_AN_MISSED_IRQ].value, 3);
	ck_assert_uint_eq(r->expect[NVR_AN_STRANDED].value, 7);
	ck_assert_int_eq(r->expect[NVR_AN_STALL].cmp, NVR_CMP_ANY);
	ck_assert_uint_eq(r->expect[NVR_AN_CFS].value, 12345678901234ull);
	ck_assert_int_eq(r->expect[NVR_AN_DMA_AFTER_TEARDOWN].cmp, NVR_CMP_UNSET);
}
END_TEST

START_TEST(test_defaults)
{
	struct nvr_sim_config def;

	nvr_sim_config_init(&def);
	ck_assert_int_eq(nvr_scenario_load(CORPUS "/good/minimal.yaml", NULL, 0, &scn, err,
					   sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(scn.seed_doc, "");
	ck_assert_str_eq(scn.description, "");
	ck_assert(!scn.needs_sim);
	ck_assert_int_eq(memcmp(&scn.sim, &def, sizeof(def)), 0);
	ck_assert_uint_eq(scn.coalesce_thr, 0);
	ck_assert_uint_eq(scn.coalesce_time, 0);
	ck_assert_uint_eq(scn.timeout_ns, 1000000000ull);
	ck_assert_uint_eq(scn.stall_ns, 200000000ull);
	ck_assert_uint_eq(scn.sweep_ns, 10000000ull);
	ck_assert_uint_eq(scn.duration_ns, 0);
	ck_assert(!scn.stop_on_anomaly);
	ck_assert_uint_eq(scn.actors[0].steps[0].bs, 4096);
	ck_assert(!scn.actors[0].steps[0].random);
	ck_assert(!scn.actors[0].steps[0].verify);
	/* Without a matrix: one row, named "", that changes nothing. */
	ck_assert_uint_eq(scn.nr_rows, 1);
	ck_assert_str_eq(scn.rows[0].name, "");
	ck_assert_int_eq(scn.rows[0].no_pba, -1);
	for (int c = 0; c < NVR_AN_NR; c++)
		ck_assert_int_eq(scn.rows[0].expect[c].cmp, NVR_CMP_UNSET);
	for (int f = 0; f < NVR_FAULT_NR; f++)
		ck_assert(!scn.rows[0].set_fault[f]);
}
END_TEST

START_TEST(test_top_expect)
{
	ck_assert_int_eq(parse(BASE "expect: { lost: 0, stall: any, missed_irq: '>2' }\n"), 0);
	ck_assert_uint_eq(scn.nr_rows, 1);
	ck_assert_int_eq(scn.rows[0].expect[NVR_AN_LOST].cmp, NVR_CMP_EQ);
	ck_assert_int_eq(scn.rows[0].expect[NVR_AN_STALL].cmp, NVR_CMP_ANY);
	ck_assert_int_eq(scn.rows[0].expect[NVR_AN_MISSED_IRQ].cmp, NVR_CMP_GT);
	ck_assert_uint_eq(scn.rows[0].expect[NVR_AN_MISSED_IRQ].value, 2);
	ck_assert_int_eq(scn.rows[0].expect[NVR_AN_DUPLICATE].cmp, NVR_CMP_UNSET);
}
END_TEST

/* --- expectations --- */

static const struct expect_case {
	const char *text;
	enum nvr_cmp cmp;
	uint64_t value;
	const char *shown;	/* nvr_expect_str() */
} expect_cases[] = {
	{ "0", NVR_CMP_EQ, 0, "0" },
	{ "17", NVR_CMP_EQ, 17, "17" },
	{ "'17'", NVR_CMP_EQ, 17, "17" },
	{ "'>0'", NVR_CMP_GT, 0, ">0" },
	{ "'> 0'", NVR_CMP_GT, 0, ">0" },
	{ "'>=3'", NVR_CMP_GE, 3, ">=3" },
	{ "\"<5\"", NVR_CMP_LT, 5, "<5" },
	{ "\"<= 5\"", NVR_CMP_LE, 5, "<=5" },
	{ "'==1'", NVR_CMP_EQ, 1, "1" },
	{ "any", NVR_CMP_ANY, 0, "any" },
	{ "' any '", NVR_CMP_ANY, 0, "any" },
	{ "18446744073709551615", NVR_CMP_EQ, UINT64_MAX, "18446744073709551615" },
	{ "1_000", NVR_CMP_EQ, 1000, "1000" },
};

START_TEST(test_expect_ok)
{
	const struct expect_case *e = &expect_cases[_i];
	char yaml[512];
	char text[64];

	snprintf(yaml, sizeof(yaml), BASE "expect: { duplicate: %s }\n", e->text);
	ck_assert_msg(parse(yaml) == 0, "%s: %s", e->text, err);
	ck_assert_int_eq(scn.rows[0].expect[NVR_AN_DUPLICATE].cmp, e->cmp);
	ck_assert_uint_eq(scn.rows[0].expect[NVR_AN_DUPLICATE].value, e->value);
	nvr_expect_str(&scn.rows[0].expect[NVR_AN_DUPLICATE], text, sizeof(text));
	ck_assert_str_eq(text, e->shown);
}
END_TEST

static const char *const expect_bad[] = {
	"'=> 3'", "'>'", "'-1'", "'> -1'", "'>>1'", "'1.5'", "'<0'", "'anyway'",
	"'18446744073709551616'", "[1]", "{ a: 1 }", "''", "'= 1'", "'0x10'",
};

START_TEST(test_expect_bad)
{
	char yaml[512];

	snprintf(yaml, sizeof(yaml), BASE "expect: { duplicate: %s }\n", expect_bad[_i]);
	ck_assert_msg(parse(yaml) == -EINVAL, "%s was accepted", expect_bad[_i]);
	ck_assert_msg(!strncmp(err, "t.yaml:7:", 9) && strstr(err, "duplicate"), "%s: %s",
		      expect_bad[_i], err);
}
END_TEST

/* --- steps --- */

START_TEST(test_repeat_unrolled)
{
	static const char yaml[] =
		"name: t\n"
		"queues: [ { id: 1, depth: 8, vector: polled } ]\n"
		"actors:\n"
		"  - name: a\n"
		"    steps:\n"
		"      - repeat:\n"
		"          times: 2\n"
		"          steps:\n"
		"            - submit: { queue: 1, op: read, qd: 1, count: 1 }\n"
		"            - repeat: { times: 3, steps: [ { sleep: { us: 7 } } ] }\n"
		"      - sleep: { ms: 1 }\n";
	static const enum nvr_step_kind want[] = {
		NVR_STEP_SUBMIT, NVR_STEP_SLEEP, NVR_STEP_SLEEP, NVR_STEP_SLEEP,
		NVR_STEP_SUBMIT, NVR_STEP_SLEEP, NVR_STEP_SLEEP, NVR_STEP_SLEEP, NVR_STEP_SLEEP,
	};
	const struct nvr_actor *a = &scn.actors[0];

	ck_assert_msg(parse(yaml) == 0, "%s", err);
	ck_assert_uint_eq(a->nr_steps, NVR_ARRAY_SIZE(want));
	for (uint32_t i = 0; i < a->nr_steps; i++)
		ck_assert_int_eq(a->steps[i].kind, want[i]);
	ck_assert_uint_eq(a->steps[1].sleep_ns, 7000);
	ck_assert_uint_eq(a->steps[1].line, 10);
	ck_assert_uint_eq(a->steps[4].line, 9);
	ck_assert_uint_eq(a->steps[8].sleep_ns, 1000000);
	ck_assert_uint_eq(a->steps[8].line, 11);
}
END_TEST

START_TEST(test_repeat_limit)
{
	static const char fits[] =
		"name: t\n"
		"queues: [ { id: 1, depth: 8, vector: polled } ]\n"
		"actors:\n"
		"  - name: a\n"
		"    steps:\n"
		"      - submit: { queue: 1, op: read, qd: 1, count: 1 }\n"
		"      - repeat: { times: 31, steps: [ { sleep: { us: 1 } } ] }\n";
	static const char over[] =
		"name: t\n"
		"queues: [ { id: 1, depth: 8, vector: polled } ]\n"
		"actors:\n"
		"  - name: a\n"
		"    steps:\n"
		"      - submit: { queue: 1, op: read, qd: 1, count: 1 }\n"
		"      - repeat: { times: 32, steps: [ { sleep: { us: 1 } } ] }\n";

	ck_assert_msg(parse(fits) == 0, "%s", err);
	ck_assert_uint_eq(scn.actors[0].nr_steps, NVR_MAX_STEPS);
	expect_error(over, "t.yaml:7:9: too many steps for actor 'a' (at most 32 once repeats are "
		     "unrolled)");
}
END_TEST

/* The k-th meeting at a barrier is one id, the same in every actor; ids stay below the limit. */
START_TEST(test_barrier_ids)
{
	const struct nvr_actor *a, *b, *c;
	uint32_t tick[3];

	ck_assert_int_eq(nvr_scenario_load(CORPUS "/good/repeat-barrier.yaml", NULL, 0, &scn, err,
					   sizeof(err)), 0);
	a = &scn.actors[0];
	b = &scn.actors[1];
	c = &scn.actors[2];
	ck_assert_uint_eq(a->nr_steps, 7);
	ck_assert_uint_eq(c->nr_steps, 7);
	for (int k = 0; k < 3; k++) {
		tick[k] = a->steps[2 * k].barrier;
		ck_assert_int_eq(a->steps[2 * k].kind, NVR_STEP_BARRIER);
		ck_assert_uint_eq(b->steps[2 * k].barrier, tick[k]);
		ck_assert_uint_eq(c->steps[2 * k].barrier, tick[k]);
		ck_assert_uint_lt(tick[k], NVR_MAX_STEPS);
	}
	ck_assert_uint_ne(tick[0], tick[1]);
	ck_assert_uint_ne(tick[1], tick[2]);
	ck_assert_uint_ne(tick[0], tick[2]);
	ck_assert_uint_eq(a->steps[6].barrier, c->steps[6].barrier);
	ck_assert_uint_lt(a->steps[6].barrier, NVR_MAX_STEPS);
	for (int k = 0; k < 3; k++)
		ck_assert_uint_ne(a->steps[6].barrier, tick[k]);
}
END_TEST

/* --- overrides --- */

START_TEST(test_override_paths)
{
	const struct nvr_override ov[] = {
		{ "actors.io.steps.0.submit.count", "5" },	/* by name, then by index */
		{ "actors.1.steps.0.reap.wake", "poll" },	/* by index */
		{ "queues.1.depth", "16" },			/* by id */
		{ "name", "renamed" },
		{ "actors.io.steps.0.submit.verify", "true" },	/* a key added */
		{ "stop.duration_ms", "20" },			/* added to an empty mapping */
	};

	ck_assert_msg(parse_ov(BASE "stop: {}\n", ov, NVR_ARRAY_SIZE(ov)) == 0, "%s", err);
	ck_assert_uint_eq(scn.actors[0].steps[0].count, 5);
	ck_assert_int_eq(scn.actors[1].steps[0].wake, NVR_WAKE_POLL);
	ck_assert_uint_eq(scn.queues[0].depth, 16);
	ck_assert_str_eq(scn.name, "renamed");
	ck_assert(scn.actors[0].steps[0].verify);
	ck_assert_uint_eq(scn.duration_ns, 20000000ull);
}
END_TEST

/* A name or id wins over an index; a mapping may be replaced by a scalar. */
START_TEST(test_override_name_before_index)
{
	static const char yaml[] =
		"name: t\n"
		"queues:\n"
		"  - { id: 2, depth: 8, vector: polled }\n"
		"  - { id: 1, depth: 8, vector: polled }\n"
		"actors:\n"
		"  - { name: '1', steps: [ { submit: { queue: 2, op: read, qd: 1, count: 1 } } ] }"
		"\n"
		"  - { name: '0', steps: [ { submit: { queue: 1, op: read, qd: 1, count: 1 } } ] }"
		"\n"
		"device: { sim: { latency_us: [1, 2] } }\n";
	const struct nvr_override ov[] = {
		{ "queues.1.depth", "4" },	/* id 1: the second queue */
		{ "actors.0.steps.0.submit.count", "9" },	/* actor '0': the second actor */
		{ "device.sim.latency_us", "7" },
	};

	ck_assert_msg(parse_ov(yaml, ov, NVR_ARRAY_SIZE(ov)) == 0, "%s", err);
	ck_assert_uint_eq(scn.queues[0].depth, 8);
	ck_assert_uint_eq(scn.queues[1].depth, 4);
	ck_assert_uint_eq(scn.actors[0].steps[0].count, 1);
	ck_assert_uint_eq(scn.actors[1].steps[0].count, 9);
	ck_assert_uint_eq(scn.sim.latency_min_us, 7);
	ck_assert_uint_eq(scn.sim.latency_max_us, 7);
}
END_TEST

START_TEST(test_override_twice)
{
	const struct nvr_override ov[] = {
		{ "actors.io.steps.0.submit.qd", "abc" },
		{ "actors.io.steps.0.submit.qd", "12" },
		{ "stop.duration_ms", "100" },
		{ "stop.duration_ms", "200" },
	};

	ck_assert_msg(parse_ov(BASE "stop: {}\n", ov, NVR_ARRAY_SIZE(ov)) == 0, "%s", err);
	ck_assert_uint_eq(scn.actors[0].steps[0].qd, 12);
	ck_assert_uint_eq(scn.duration_ns, 200000000ull);
}
END_TEST

START_TEST(test_override_value_errors)
{
	const struct nvr_override bad_qd[] = { { "actors.io.steps.0.submit.qd", "99" } };
	const struct nvr_override new_key[] = { { "actors.io.steps.0.submit.qdepth", "4" } };
	const struct nvr_override typo[] = { { "queues.1.vector", "poled" } };

	ck_assert_int_eq(parse_ov(BASE, bad_qd, 1), -EINVAL);
	ck_assert_str_eq(err, "--set actors.io.steps.0.submit.qd: qd 99 is out of range (1..63): "
			 "queue 1 has depth 64, and a full SQ holds depth - 1");
	ck_assert_int_eq(parse_ov(BASE, new_key, 1), -EINVAL);
	ck_assert_str_eq(err, "--set actors.io.steps.0.submit.qdepth: unknown key 'qdepth' in "
			 "submit; did you mean 'qd'?");
	ck_assert_int_eq(parse_ov(BASE, typo, 1), -EINVAL);
	ck_assert_str_eq(first_err(), "--set queues.1.vector: vector: expected an integer or "
			 "polled, got 'poled'; did you mean 'polled'?");
}
END_TEST

static const struct {
	struct nvr_override ov;
	const char *want;
} ov_path_errors[] = {
	{ { "actors.nobody.steps", "1" },
	  "--set actors.nobody.steps: no element 'nobody' in actors (give an index, a name or "
	  "an id)" },
	{ { "actors.7.name", "x" },
	  "--set actors.7.name: no element '7' in actors (give an index, a name or an id)" },
	{ { "device.sim.queues", "4" },
	  "--set device.sim.queues: no key 'device' in the top level" },
	{ { "name.first", "x" }, "--set name.first: name is a value; it has no 'first'" },
	{ { "actors..name", "x" }, "--set actors..name: an empty key in the path" },
	{ { ".name", "x" }, "--set .name: an empty key in the path" },
	{ { "name.", "x" }, "--set name.: an empty key in the path" },
	{ { "", "x" }, "--set : an override needs a path and a value" },
	{ { "name", "\xff" }, "--set name: not valid UTF-8" },
	{ { "queues.1.depth.x.y", "2" },
	  "--set queues.1.depth.x.y: queues.1.depth is a value; it has no 'x'" },
};

START_TEST(test_override_path_errors)
{
	ck_assert_int_eq(parse_ov(BASE, &ov_path_errors[_i].ov, 1), -EINVAL);
	ck_assert_str_eq(err, ov_path_errors[_i].want);
}
END_TEST

/* Override errors come first, then the file's, earliest first. */
START_TEST(test_override_order)
{
	const struct nvr_override ov[] = {
		{ "actors.isr.steps.0.reap.queue", "9" },
		{ "nope.x", "1" },
	};

	ck_assert_int_eq(parse_ov(BASE "stop: { on_anomaly: maybe }\n", ov, 2), -EINVAL);
	ck_assert_str_eq(err, "--set actors.isr.steps.0.reap.queue: queue 9 is not declared in "
			 "queues\n"
			 "--set nope.x: no key 'nope' in the top level\n"
			 "t.yaml:7:21: on_anomaly: expected true or false, got 'maybe'");
}
END_TEST

/* --- the error list --- */

START_TEST(test_errors_sorted)
{
	/* Read in schema order (device, queues, actors...), reported in file order. */
	static const char yaml[] =
		"actors:\n"
		"  - { name: io, steps: [ { submit: { queue: 1, op: reed, qd: 8, count: 1 } } ] }\n"
		"stop: { duration_ms: x }\n"
		"queues:\n"
		"  - { id: 1, depth: 1, vector: polled }\n"
		"device: { sim: { lba_size: 9 } }\n"
		"name: 'a b'\n"
		"timeouts: { stall_ms: 0 }\n";

	ck_assert_int_eq(parse(yaml), -EINVAL);
	ck_assert_str_eq(err,
			 "t.yaml:2:52: op: expected read, write, flush or mix, got 'reed'; did "
			 "you mean 'read'?\n"
			 "t.yaml:3:22: duration_ms: expected an integer, got 'x'\n"
			 "t.yaml:5:21: depth 1 is out of range (2..65535)\n"
			 "t.yaml:6:28: lba_size 9 is out of range (512..4096)\n"
			 "t.yaml:7:7: name: expected a name (letters, digits, - and _), got 'a b'");
}
END_TEST

START_TEST(test_errors_small_buffer)
{
	char small[16];
	int ret;

	memset(small, 'x', sizeof(small));
	ret = nvr_scenario_parse("name: [", 7, "t.yaml", NULL, 0, &scn, small, sizeof(small));
	ck_assert_int_eq(ret, -EINVAL);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert(!strncmp(small, "t.yaml:1:", 9));
	/* No buffer at all is fine too. */
	ret = nvr_scenario_parse("name: [", 7, "t.yaml", NULL, 0, &scn, NULL, 0);
	ck_assert_int_eq(ret, -EINVAL);
	ck_assert_int_eq(nvr_scenario_parse(NULL, 0, NULL, NULL, 0, &scn, small, sizeof(small)),
			 -EINVAL);
}
END_TEST

START_TEST(test_failure_clears_out)
{
	ck_assert_int_eq(parse(BASE), 0);
	ck_assert_str_eq(scn.name, "t");
	ck_assert_int_eq(parse(BASE "bogus: 1\n"), -EINVAL);
	ck_assert_str_eq(scn.name, "");
	ck_assert_uint_eq(scn.nr_actors, 0);
}
END_TEST

START_TEST(test_suggestions)
{
	expect_error(BASE "timeout: { stall_ms: 5 }\n",
		     "t.yaml:7:1: unknown key 'timeout' at the top level; did you mean "
		     "'timeouts'?");
	expect_error(BASE "stop: { duration: 5 }\n",
		     "t.yaml:7:9: unknown key 'duration' in stop; did you mean 'duration_ms'?");
	expect_error(BASE "stop: { xy: 5 }\n", "t.yaml:7:9: unknown key 'xy' in stop");
	expect_error(BASE "stop: { on_anomlay: true }\n",
		     "t.yaml:7:9: unknown key 'on_anomlay' in stop; did you mean 'on_anomaly'?");
	expect_error(BASE "device: { sim: { vectros: 4 } }\n",
		     "t.yaml:7:18: unknown key 'vectros' in device.sim; did you mean 'vectors'?");
}
END_TEST

START_TEST(test_load_errors)
{
	ck_assert_int_eq(nvr_scenario_load(CORPUS "/no/such.yaml", NULL, 0, &scn, err, sizeof(err)),
			 -ENOENT);
	ck_assert_str_eq(err, "cannot read '" CORPUS "/no/such.yaml': No such file or directory");
	ck_assert_int_eq(nvr_scenario_load(CORPUS, NULL, 0, &scn, err, sizeof(err)), -EISDIR);
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

static Suite *scenario_suite(void)
{
	Suite *s = suite_create("scenario");
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

	tc = tcase_create("fields");
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_top_expect);
	suite_add_tcase(s, tc);

	tc = tcase_create("expectations");
	tcase_add_loop_test(tc, test_expect_ok, 0, (int)NVR_ARRAY_SIZE(expect_cases));
	tcase_add_loop_test(tc, test_expect_bad, 0, (int)NVR_ARRAY_SIZE(expect_bad));
	suite_add_tcase(s, tc);

	tc = tcase_create("steps");
	tcase_add_test(tc, test_repeat_unrolled);
	tcase_add_test(tc, test_repeat_limit);
	tcase_add_test(tc, test_barrier_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("overrides");
	tcase_add_test(tc, test_override_paths);
	tcase_add_test(tc, test_override_name_before_index);
	tcase_add_test(tc, test_override_twice);
	tcase_add_test(tc, test_override_value_errors);
	tcase_add_loop_test(tc, test_override_path_errors, 0,
			    (int)NVR_ARRAY_SIZE(ov_path_errors));
	tcase_add_test(tc, test_override_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_errors_sorted);
	tcase_add_test(tc, test_errors_small_buffer);
	tcase_add_test(tc, test_failure_clears_out);
	tcase_add_test(tc, test_suggestions);
	tcase_add_test(tc, test_load_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mangled);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_mangled_overrides);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(scenario_suite());
}
