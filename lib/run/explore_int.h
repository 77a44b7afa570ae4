/* SPDX-License-Identifier: MIT */
/* Model mode inside lib/run: one replay of a schedule, watched step by step (stepper.c). */
#ifndef NVR_RUN_EXPLORE_INT_H
#define NVR_RUN_EXPLORE_INT_H

#include <nvmerace/explore.h>

#include "sched/sched.h"

/*
 * nvr_explore_replay() - run row @row of @scn once along schedule @s (then
 * the default scheduler), as 'run --schedule' does, calling @on_step at each
 * position (sched.h). @run gets the run (its trace; prog is NULL), @res the
 * row's result as the runner judged it. Model build only.
 * Return: 0, or -errno.
 */
int nvr_explore_replay(const struct nvr_scenario *scn, uint32_t row,
		       const struct nvr_run_opts *opts, const struct nvr_schedule *s,
		       void (*on_step)(void *arg, const struct nvr_sched_peek *pk), void *arg,
		       struct nvr_sched_run *run, struct nvr_result *res);

#endif
