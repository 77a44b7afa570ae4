/* SPDX-License-Identifier: MIT */
/* Run reports: the human summary, JSON (json-c) and JUnit XML. */
#ifndef NVR_CMD_REPORT_H
#define NVR_CMD_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <nvmerace/explore.h>
#include <nvmerace/run.h>

#include "nvmerace.h"

struct report_entry {
	char file[256];
	struct nvr_result res;
	bool has_sched;		/* model mode: what the scheduler explored */
	struct nvr_explore_result sched;
	char schedule_file[256];	/* --schedule-out, for the replay line */
};

struct report {
	struct report_entry *e;
	size_t n, cap;
	bool interrupted;
};

int report_add(struct report *r, const char *file, const struct nvr_result *res);
void report_release(struct report *r);

/* One line per row, as it finishes. */
void report_line(FILE *f, const struct report_entry *e);
/* Detail for each failure, with the command that replays it. */
void report_failures(FILE *f, const struct report *r, const char *argv0);
/* "N passed, N failed" and friends. */
void report_totals(FILE *f, const struct report *r);

/* Return 0, or -errno (the file could not be written). */
int report_json(const struct report *r, const char *path);
int report_junit(const struct report *r, const char *path);

#endif
