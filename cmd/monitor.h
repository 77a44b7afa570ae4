/* SPDX-License-Identifier: MIT */
/*
 * nvmerace monitor: the part without curses (cmd/monitor_run.c). It loads
 * the scenario, runs its rows on a thread of its own, and hands frames to
 * the display: the runner's progress callback fills one and swaps it in
 * under m->lock, and mon_take() swaps the newest out to the display. Only
 * these two threads ever take that lock; the actors never see it.
 */
#ifndef NVR_CMD_MONITOR_H
#define NVR_CMD_MONITOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "cmd.h"
#include "monitor_fmt.h"
#include "report.h"

#define MON_MAX_ROWS 16
#define MON_MAX_INJECTED 64

/* A fault injected by hand: the row (its position among those run), when, which. */
struct mon_injection {
	uint32_t pos;
	uint64_t t_ns;		/* since the row started */
	int fault;
};

struct mon {
	/* Set by mon_load(), read-only once the runner runs. */
	struct nvr_scenario *scn;
	uint32_t rows[MON_MAX_ROWS];	/* the scenario's rows to run, in order */
	uint32_t nr_rows;
	uint64_t seed;
	const char *file;	/* as given; NULL: the idle view */
	struct run_inputs in;	/* what shaped the rows, for their replay lines */
	char device[128];	/* "simulator: <model> (SN <serial>)" */
	int faults[NVR_FAULT_NR];	/* the knobs a user may inject by hand */
	int nr_faults;
	/* A real controller (--device), its write range; NULL: the simulator. */
	struct nvr_transport *transport;
	bool write_ok;
	uint64_t write_start, write_end;

	_Atomic int stop;	/* the runner's stop flag: set it to end the run */
	_Atomic int inject;	/* a fault to inject at the next snapshot, or -1 */

	pthread_mutex_t lock;	/* the display's and the runner's; never the actors' */
	struct mon_frame *ready;	/* the newest frame */
	uint64_t ready_seq;
	struct report rep;	/* the rows finished */
	bool done;		/* every row finished, or the run stopped */

	/* The runner's thread only. */
	struct mon_frame *back;
	struct mon_rates rates;
	struct nvr_sim *sim;
	struct nvr_ledger *ledger;
	uint32_t pos;
	uint64_t injected;
	/* Every fault injected by hand, read once the runner has finished. */
	struct mon_injection inj[MON_MAX_INJECTED];
	uint32_t nr_inj;
	bool inj_lost;		/* more than MON_MAX_INJECTED */
};

/* What the display holds, refreshed by mon_take(). */
struct mon_view {
	struct mon_frame *cur;	/* the frame drawn */
	uint64_t seq;
	bool paused;		/* keep cur; the run goes on */
	bool done;		/* the runner has finished */
	size_t nr_done;		/* rows finished */
	enum nvr_verdict verdict[MON_MAX_ROWS];
	char reason[MON_MAX_ROWS][256];
};

/* Allocate the frames of @m and @v. Return 0 or -ENOMEM; mon_release() either way. */
int mon_init(struct mon *m, struct mon_view *v, uint64_t seed);
void mon_release(struct mon *m, struct mon_view *v);

/*
 * Load scenario @file (NULL: the idle view) with the overrides and duration
 * of @in (NULL: none), keep the rows to run (all, or those its --only
 * names, NAME or NAME/ROW as in 'nvmerace run'), and choose the fault knobs.
 * Prints what is wrong. Return 0 or EXIT_USAGE.
 */
int mon_load(struct mon *m, const char *file, const struct run_inputs *in);

/* Print the faults injected by hand, each with its row and time, to @f. */
void mon_print_injected(const struct mon *m, FILE *f);

/* The runner thread: every row in turn, until m->stop. @arg is the struct mon. */
void *mon_runner(void *arg);

/* Take the newest frame (unless paused) and the rows finished. */
void mon_take(struct mon *m, struct mon_view *v);

/* Inject fault @f once, at the runner's next snapshot (simulator only). */
void mon_inject(struct mon *m, int f);

#endif
