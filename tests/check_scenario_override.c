// SPDX-License-Identifier: MIT
/*
 * Command-line overrides (--set path=value): paths, names before indexes,
 * repeated and conflicting overrides, bad values and bad paths, and the
 * order in which they apply.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/scenario.h>

#include "nvmerace.h"
#include "scenario_helpers.h"
#include "suite_main.h"

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


static Suite *scenario_override_suite(void)
{
	Suite *s = suite_create("scenario-override");
	TCase *tc;

	tc = tcase_create("overrides");
	tcase_add_test(tc, test_override_paths);
	tcase_add_test(tc, test_override_name_before_index);
	tcase_add_test(tc, test_override_twice);
	tcase_add_test(tc, test_override_value_errors);
	tcase_add_loop_test(tc, test_override_path_errors, 0,
			    (int)NVR_ARRAY_SIZE(ov_path_errors));
	tcase_add_test(tc, test_override_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(scenario_override_suite());
}
