/* SPDX-License-Identifier: MIT */
/* Run reports: the human summary, JSON (json-c) and JUnit XML. */
#ifndef NVR_CMD_REPORT_H
#define NVR_CMD_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <nvmerace/explore.h>
#include <nvmerace/run.h>

#include "nvmerace.h"

/* The version of the JSON report's layout (man/nvmerace-report.schema.json). */
#define REPORT_SCHEMA "nvmerace-report/1"

struct report_entry {
	char file[256];
	struct nvr_result res;
	/* The command that runs this row again as it ran; empty: it cannot be
	 * replayed (a monitor row with a fault injected by hand). */
	char replay[1024];
	/* What the row expects, as nvr_row_expect() gives it; cmp NVR_CMP_UNSET
	 * everywhere when not known (the monitor). */
	struct nvr_expect expect[NVR_AN_NR];
	bool not_run;		/* the run was interrupted before this row */
	bool has_sched;		/* model mode: what the scheduler explored */
	struct nvr_explore_result sched;
};

struct report {
	struct report_entry *e;
	size_t n, cap;
	bool interrupted;
	/* For the JSON report: the command line after "nvmerace" (an array of
	 * argc pointers, freed by report_release; the strings are not), when the
	 * run started, the device. */
	int argc;
	char **argv;
	struct timespec start;	/* CLOCK_REALTIME; 0: unknown */
	const char *bdf;	/* NULL: the simulator (or target) */
	const char *target;	/* --target: NVMe/TCP */
};

int report_add(struct report *r, const char *file, const struct nvr_result *res);
void report_release(struct report *r);
/* Record what the last entry's row (NULL: a scenario without rows) expects. */
void report_expect(struct report *r, const struct nvr_row *row);
/* A row that the interruption kept from running. Return 0 or -ENOMEM. */
int report_add_not_run(struct report *r, const char *file, const char *scenario,
		       const char *row, uint64_t seed);

/* One line per row, as it finishes. */
void report_line(FILE *f, const struct report_entry *e);
/* Detail for each failure, with the command that replays it. */
void report_failures(FILE *f, const struct report *r, const char *argv0);
/* "N clean, N caught, N failed, N skipped, N errors" and friends. */
void report_totals(FILE *f, const struct report *r);
/* The replay command of @e: its own, or one built from file, row and seed. */
void report_replay(const struct report_entry *e, const char *argv0, char *buf, size_t len);

/*
 * Check a --json or --junit path before anything runs (cmd/outfile.h): print
 * "nvmerace: cannot write <what> to '<path>': <why>" and return false when it
 * cannot take the report. NULL is fine.
 */
bool report_path_ok(const char *path, const char *what);

/* Return 0, or -errno (the file could not be written). */
int report_json(const struct report *r, const char *path);
int report_junit(const struct report *r, const char *path);

#endif
