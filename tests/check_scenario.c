// SPDX-License-Identifier: MIT
/*
 * The scenario parser, field by field: every key landing in the right field,
 * the defaults, the expectation syntax, steps (repeat, barriers) and the
 * error list. The corpus and mangled inputs are in check_scenario_corpus.c,
 * overrides in check_scenario_override.c.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "nvmerace.h"
#include "scenario_helpers.h"
#include "suite_main.h"

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

/* sched: lands in scn.model; its absence leaves model mode as the file is. */
START_TEST(test_sched_keys)
{
	ck_assert_int_eq(parse(BASE), 0);
	ck_assert_uint_eq(scn.model.stall_ns, 0);
	ck_assert_uint_eq(scn.model.sweep_ns, 0);
	ck_assert_uint_eq(scn.model.count, 0);
	ck_assert_int_eq(scn.model.on_anomaly, -1);
	ck_assert_int_eq(parse(BASE "sched: { stall_ms: 5, sweep_ms: 2, count: 7, "
				    "on_anomaly: false }\n"), 0);
	ck_assert_uint_eq(scn.model.stall_ns, 5000000ull);
	ck_assert_uint_eq(scn.model.sweep_ns, 2000000ull);
	ck_assert_uint_eq(scn.model.count, 7);
	ck_assert_int_eq(scn.model.on_anomaly, 0);
	/* The normal mode's sweep is the timeouts' one. */
	ck_assert_uint_eq(scn.sweep_ns, 10000000ull);
	ck_assert_int_eq(parse(BASE "sched: { sweep_ms: 0 }\n"), -EINVAL);
	ck_assert_int_eq(parse(BASE "sched: { sweep_ms: 60001 }\n"), -EINVAL);
}
END_TEST

/* sched.handlers_first: which actors are handlers, and a scenario without any. */
START_TEST(test_sched_handlers_first)
{
	ck_assert_int_eq(parse(BASE), 0);
	ck_assert(!scn.model.handlers_first);
	ck_assert(!scn.handlers_first);
	ck_assert_int_eq(parse(BASE "sched: { handlers_first: true }\n"), 0);
	ck_assert(scn.model.handlers_first);
	/* Model mode sets the run's flag (lib/run/explore.c), never the parser. */
	ck_assert(!scn.handlers_first);
	ck_assert(!nvr_actor_is_handler(&scn.actors[0]));
	ck_assert(nvr_actor_is_handler(&scn.actors[1]));
	ck_assert_int_eq(parse(BASE "sched: { handlers_first: false }\n"), 0);
	ck_assert(!scn.model.handlers_first);
	/* A polled reaper, and a reaper that sleeps first, are not handlers. */
	expect_error("name: t\nqueues: [ { id: 1, depth: 64, vector: 1 } ]\n"
		     "actors:\n"
		     "  - { name: io, steps: [ { submit: { queue: 1, op: read, qd: 1, "
		     "count: 1 } } ] }\n"
		     "  - { name: p, steps: [ { reap: { queue: 1, wake: poll } } ] }\n"
		     "  - { name: s, steps: [ { sleep: { us: 1 } }, "
		     "{ reap: { queue: 1, wake: irq } } ] }\n"
		     "sched: { handlers_first: true }\n",
		     "t.yaml:7:26: handlers_first: no actor is an interrupt handler (only reap "
		     "steps with wake: irq); there is nothing to start first");
	expect_error(BASE "sched: { handlers_first: 1 }\n",
		     "t.yaml:7:26: handlers_first: expected true or false, got '1'");
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

/* submit: { wait: irq }: a queue with a vector and no reap step. */
START_TEST(test_submit_wait)
{
	ck_assert_int_eq(parse("name: t\nqueues: [ { id: 1, depth: 64, vector: 1 } ]\n"
			       "actors:\n  - { name: io, steps: [ { submit: { queue: 1, op: read, "
			       "qd: 8, count: 10, wait: irq } } ] }\n"), 0);
	ck_assert(scn.actors[0].steps[0].wait_irq);
	ck_assert_int_eq(parse(BASE), 0);
	ck_assert(!scn.actors[0].steps[0].wait_irq);
	expect_error("name: t\nqueues: [ { id: 1, depth: 64, vector: polled } ]\n"
		     "actors:\n  - { name: io, steps: [ { submit: { queue: 1, op: read, "
		     "qd: 8, count: 10, wait: irq } } ] }\n",
		     "t.yaml:4:82: wait: irq needs a queue with a vector; queue 1 is polled");
	expect_error("name: t\nqueues: [ { id: 1, depth: 64, vector: 1 } ]\n"
		     "actors:\n  - { name: io, steps: [ { submit: { queue: 1, op: read, "
		     "qd: 8, count: 10, wait: irq } } ] }\n"
		     "  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n",
		     "t.yaml:4:82: wait: irq: queue 1 has a reap step, which takes its "
		     "completions; the submitter waits only without one");
	expect_error("name: t\nqueues: [ { id: 1, depth: 64, vector: 1 } ]\n"
		     "actors:\n  - { name: io, steps: [ { submit: { queue: 1, op: read, "
		     "qd: 8, count: 10, wait: irqs } } ] }\n",
		     "t.yaml:4:82: wait: expected poll or irq, got 'irqs'; did you mean 'irq'?");
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


/*
 * A row that expects a catch from a `wake: poll` reaper on an interrupt-driven
 * queue, with poll_checks_type at its default (true): the poller declines and
 * the race never opens; the row's note says why. Set explicitly, no note.
 */
START_TEST(test_poll_declines_note)
{
	static const char *const policy[] = { "", "policy: { poll_checks_type: false }\n" };
	struct nvr_run_opts o = { .seed = 1 };
	struct nvr_result res;
	char yaml[1024];

	for (int i = 0; i < 2; i++) {
		snprintf(yaml, sizeof(yaml), BASE
			 "  - { name: hipri, steps: [ { reap: { queue: 1, wake: poll } } ] }\n"
			 "%s"
			 "matrix:\n"
			 "  - { name: racy, expect: { duplicate: \">0\" } }\n", policy[i]);
		ck_assert_msg(parse(yaml) == 0, "%s", err);
		ck_assert_int_eq(nvr_run_row(&scn, 0, &o, &res), 0);
		if (i == 0)
			ck_assert_msg(strstr(res.note, "actor 'hipri' polls interrupt-driven queue 1 "
					     "and declines to (policy poll_checks_type defaults to "
					     "true)"), "note: %s", res.note);
		else
			ck_assert_msg(!strstr(res.note, "declines"), "note: %s", res.note);
	}
}
END_TEST

static Suite *scenario_suite(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc;

	tc = tcase_create("fields");
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_top_expect);
	tcase_add_test(tc, test_sched_keys);
	tcase_add_test(tc, test_sched_handlers_first);
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

	tc = tcase_create("errors");
	tcase_add_test(tc, test_errors_sorted);
	tcase_add_test(tc, test_errors_small_buffer);
	tcase_add_test(tc, test_failure_clears_out);
	tcase_add_test(tc, test_suggestions);
	tcase_add_test(tc, test_submit_wait);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_poll_declines_note);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(scenario_suite());
}
