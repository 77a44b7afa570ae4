/* SPDX-License-Identifier: MIT */
/* What the scenario parser suites (check_scenario*.c) share: parse a text, read its errors. */
#ifndef NVR_TESTS_SCENARIO_HELPERS_H
#define NVR_TESTS_SCENARIO_HELPERS_H

#include <check.h>
#include <errno.h>
#include <string.h>

#include <nvmerace/scenario.h>

#define CORPUS "tests/scenarios"
#define ERR_MAX 2048

static struct nvr_scenario scn;
static char err[ERR_MAX];

/* Parse @yaml as "t.yaml" with overrides; return what nvr_scenario_parse() did. */
static inline int parse_ov(const char *yaml, const struct nvr_override *ov, size_t nr)
{
	memset(err, 0, sizeof(err));
	return nvr_scenario_parse(yaml, strlen(yaml), "t.yaml", ov, nr, &scn, err, sizeof(err));
}

static inline int parse(const char *yaml)
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

static inline void expect_error(const char *yaml, const char *want)
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


#endif
