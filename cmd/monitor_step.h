/* SPDX-License-Identifier: MIT */
/*
 * nvmerace monitor --schedule: stepping through a schedule (the model
 * binary), without curses. A position is a number of steps taken; each key
 * moves it, and the pane at a position is plain text, the same on the
 * terminal (cmd/monitor.c draws its lines) and in batch mode (--steps,
 * --keys), which tests/check_monitor.c compares.
 */
#ifndef NVR_CMD_MONITOR_STEP_H
#define NVR_CMD_MONITOR_STEP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <nvmerace/explore.h>

#define STEP_BEFORE 10	/* timeline lines before the current step */
#define STEP_AFTER 4	/* and after it */

/* The keys, one letter each (batch --keys takes the same letters). */
#define STEP_KEYS "nsabpgeq?"
extern const char step_help[];	/* the help line */

struct step_view {
	struct nvr_stepper *st;
	const char *name;	/* NAME/ROW */
	const char *schedule;	/* the file */
	uint64_t pos, total, first;	/* first: UINT64_MAX, none */
	char note[160];		/* why the last key did not move, or "" */
};

/* Fill @v for stepper @st. */
void step_view_init(struct step_view *v, struct nvr_stepper *st, const char *name,
		    const char *schedule);
/*
 * Apply key @ch: n one step, s to the next step that matters, a to the
 * first anomaly, e to the end, b one step back, p back to the previous step
 * that matters, g to the start. Return: false for q, or a key it does not
 * know (v->note says which).
 */
bool step_key(struct step_view *v, int ch);
/* The pane at v->pos, from the state @s there, into @f. */
void step_pane(FILE *f, const struct step_view *v, const struct nvr_step_state *s);
/*
 * Batch: the pane at the start, then after each key of @keys (one replay for
 * them all), then the verdict line. Return: an exit status (run's).
 */
int step_batch(struct step_view *v, const char *keys, FILE *f);
/* The exit status of the row's verdict, and its line ("verdict: PASS ...") into @f (NULL: none). */
int step_verdict(const struct step_view *v, FILE *f);

#endif
