/* SPDX-License-Identifier: MIT */
/*
 * nvmerace monitor, the curses side: what the display keeps between frames
 * (cmd/monitor.c handles the terminal and the keys, cmd/monitor_draw.c
 * draws). Only monitor.c and monitor_draw.c include curses.
 */
#ifndef NVR_CMD_MONITOR_UI_H
#define NVR_CMD_MONITOR_UI_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor.h"

enum pane { P_QUEUES, P_VECTORS, P_LOG, P_NR };

struct ui {
	struct mon_view v;
	bool help, detail, color;
	enum pane focus;
	uint32_t sel[P_NR], top[P_NR];
	uint64_t sel_rec;	/* the selected anomaly's record number */
	bool follow;		/* the log selection stays on the newest */
	struct nvr_anomaly shown;	/* the record in the detail view */
	int fault;		/* index into m->faults */
	char note[160];		/* shown in the footer for a while */
	uint64_t note_until_ns;
};

/* Colour pairs: pane titles, anomalies and failures, a pass, a wait or a pause. */
enum { C_TITLE = 1, C_BAD, C_GOOD, C_WARN };

/* Draw everything for the newest frame in u->v.cur (and a box when one is open). */
void mon_draw(struct mon *m, struct ui *u);

#endif
