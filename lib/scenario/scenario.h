/* SPDX-License-Identifier: MIT */
/*
 * Scenario files: YAML (libyaml) to a validated struct nvr_scenario. Every
 * error names its place as "file:line:column: message"; misspelt keys get a
 * did-you-mean. The format is documented in nvmerace-scenario(5).
 */
#ifndef NVR_SCENARIO_H
#define NVR_SCENARIO_H

#include <stddef.h>

#include "run/runner.h"

/* A command-line override: "path.to.key=value" (see nvmerace-scenario(5)). */
struct nvr_override {
	const char *path;
	const char *value;
};

/**
 * nvr_scenario_parse() - parse and validate one scenario document.
 * @buf: the YAML text, @len its length.
 * @file: the name used in messages (and stored in out->file).
 * @ov: overrides applied to the document before validation, @nr_ov of them.
 * @out: the scenario.
 * @err: filled with "file:line:col: message" lines (newline separated, at
 *       most a few) when it fails; @errlen its size.
 *
 * Return: 0, or -EINVAL when the document is not a valid scenario.
 */
int nvr_scenario_parse(const char *buf, size_t len, const char *file,
		       const struct nvr_override *ov, size_t nr_ov, struct nvr_scenario *out,
		       char *err, size_t errlen);

/**
 * nvr_scenario_load() - read @path and nvr_scenario_parse() it.
 * Return: 0, -EINVAL (see @err), or -errno when the file cannot be read
 * (@err says "cannot read 'path': reason").
 */
int nvr_scenario_load(const char *path, const struct nvr_override *ov, size_t nr_ov,
		      struct nvr_scenario *out, char *err, size_t errlen);

#endif
