/* SPDX-License-Identifier: MIT */
/* A host design's race the threads missed, judged by the explorer (cmd/retry.c). */
#ifndef NVR_CMD_RETRY_H
#define NVR_CMD_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "report.h"

struct run_inputs;

/* Does row @row of @scn, which failed with @res, go to the explorer: the
 * simulator, a scenario written for model mode (sched.count), a row that
 * expects a catch, no device knob behind it? */
bool retry_wanted(const struct run_inputs *in, const struct nvr_scenario *scn, uint32_t row,
		  const struct nvr_result *res);
/*
 * Explore the row of @e (from @file, with the run's --set) in the model
 * build with the row's seed; when a schedule catches the bug, @e takes its
 * verdict, counts, schedule and replay line, and a note saying so.
 * Return: 0 when it did; -ENOENT without a model build; -EINVAL when no
 * schedule caught it either (@e unchanged).
 */
int retry_in_model(const struct run_inputs *in, const char *file, struct report_entry *e);

#endif
