/* SPDX-License-Identifier: MIT */
/*
 * nvmerace monitor, without curses: the frame the runner hands to the
 * display, the rates computed from successive snapshots, the screen layout,
 * and every line the monitor draws, as plain strings. tests/check_monitor.c
 * calls these on fixed snapshots; cmd/monitor_draw.c only puts them on screen.
 */
#ifndef NVR_CMD_MONITOR_FMT_H
#define NVR_CMD_MONITOR_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmerace/run.h>

#include "nvmerace.h"

#define MON_RECENT 64		/* newest anomaly records the monitor shows */
#define MON_RATE_SAMPLES 11	/* rates are over the last ten snapshots, about 1 s */
#define MON_MIN_ROWS 24
#define MON_MIN_COLS 80
#define MON_WIDE_COLS 132	/* from here the latency pane sits beside the tables */
#define MON_LAT_W 40		/* its width then */

/* What the display draws: one snapshot of a running row, taken by the runner's thread. */
struct mon_frame {
	uint64_t t_ns;		/* when it was taken (nvr_now_ns) */
	uint32_t row;		/* index into the monitor's list of rows */
	bool final;		/* the row's last snapshot */
	struct nvr_stats st;
	double rate;		/* completions per second, over the last second */
	double q_rate[NVR_STATS_MAX_Q];	/* per st.q[i] */
	double v_rate[NVR_STATS_MAX_V];	/* interrupts per second, per st.v[i] */
	struct nvr_hist lat[NVR_STATS_MAX_Q];	/* per st.q[i]: submit to reap */
	uint64_t nr_records;	/* anomaly records made so far */
	uint32_t nr_recent;
	struct nvr_anomaly recent[MON_RECENT];	/* newest first */
	uint64_t injected;	/* faults injected by hand in this row */
};

/* --- rates --- */

struct mon_sample {
	uint64_t t_ns;
	uint64_t completed;
	uint64_t q[NVR_STATS_MAX_Q];	/* completed, per st.q[i] */
	uint64_t v[NVR_STATS_MAX_V];	/* interrupts read, per st.v[i] */
};

struct mon_rates {
	struct mon_sample s[MON_RATE_SAMPLES];
	uint32_t n, next;
};

/* Forget every sample (a new row starts). */
void mon_rates_reset(struct mon_rates *r);
/*
 * Add the snapshot @st taken at @t_ns and set f->rate, f->q_rate and
 * f->v_rate from the oldest sample kept; all 0 until two samples exist.
 */
void mon_rates_update(struct mon_rates *r, uint64_t t_ns, const struct nvr_stats *st,
		      struct mon_frame *f);

/* --- numbers --- */

/* 0, 999, 1.23k, 12.3k, 123k, 1.23M ... into @buf. */
void mon_fmt_si(char *buf, size_t len, double v);
/* 850ns, 12.3us, 1.20ms, 2.50s; "-" for 0. */
void mon_fmt_ns(char *buf, size_t len, uint64_t ns);
/* 9.8s, 2m05s, 1h02m. */
void mon_fmt_elapsed(char *buf, size_t len, uint64_t ns);
/* "-" or "lost 3, duplicate 1": the classes with a non-zero count. */
void mon_fmt_classes(char *buf, size_t len, const uint64_t an[NVR_AN_NR]);

/* --- rows: each fills @buf (a line without newline, cut at @len - 1) --- */

/*
 * With @shadow (some queue has shadow doorbells) the latency columns give way
 * to the shadow slots and EventIdx of the SQ tail and CQ head doorbells, and
 * the share of SQ tail updates that rang the MMIO doorbell.
 */
void mon_queue_header(char *buf, size_t len, bool shadow);
void mon_queue_row(char *buf, size_t len, const struct nvr_queue_stats *q, double rate,
		   bool shadow);
void mon_vector_header(char *buf, size_t len);
void mon_vector_row(char *buf, size_t len, const struct nvr_vector_stats *v, double rate);
void mon_anomaly_header(char *buf, size_t len);
void mon_anomaly_row(char *buf, size_t len, const struct nvr_anomaly *a);
/* One line: what the class means (nvmerace(1), ANOMALIES); "" for a class it does not know. */
const char *mon_class_meaning(enum nvr_anomaly_class c);

/*
 * Break @text into lines of at most @width columns at spaces (a word longer
 * than @width is cut). Fills lines[i] (each MON_WRAP_MAX bytes) and returns
 * how many, at most @max.
 */
#define MON_WRAP_MAX 256
uint32_t mon_wrap(const char *text, uint32_t width, char (*lines)[MON_WRAP_MAX], uint32_t max);

/* --- the latency histogram as bars --- */

struct mon_bar {
	uint64_t lo, hi;	/* [lo, hi) nanoseconds */
	uint64_t count;
};

/*
 * The histogram's samples in powers of two of nanoseconds, from the lowest
 * to the highest non-empty one; when that is more than @max bars, adjacent
 * powers are merged (2, 3, ... per bar) until they fit. Returns the number
 * of bars, 0 for an empty histogram.
 */
uint32_t mon_hist_bars(const struct nvr_hist *h, struct mon_bar *bars, uint32_t max);
/* "  1.02us-2.05us |#########           |  1234" in @width columns; bars scale to @peak. */
void mon_bar_row(char *buf, size_t len, const struct mon_bar *b, uint64_t peak, uint32_t width);
/* "Latency, queue 1 (12.3k samples)" */
void mon_lat_title(char *buf, size_t len, uint16_t qid, const struct nvr_hist *h);
/* "p50 12.3us  p99 45.6us  max 1.20ms" */
void mon_lat_summary(char *buf, size_t len, const struct nvr_hist *h);

/* --- the verdict so far --- */

enum mon_verdict {
	MON_PASSING,		/* every expectation met by the counts so far */
	MON_WAITING,		/* some "> N" not reached yet; can still be met */
	MON_FAILING,		/* an upper bound exceeded: counts only grow, it stays failed */
};

/*
 * Judge the counts @an so far against row @row's expectations, with the
 * runner's defaults (nvr_row_expect()). @why names the first expectation not met ("duplicate 0,
 * expected >0"), or is empty.
 */
enum mon_verdict mon_verdict_so_far(const struct nvr_scenario *scn, uint32_t row,
				    const uint64_t an[NVR_AN_NR], char *why, size_t len);
const char *mon_verdict_name(enum mon_verdict v);

/* --- the header --- */

struct mon_head {
	const char *device;	/* "simulator: <model> (SN <serial>)" */
	const char *scenario;
	const char *row;	/* "" without a matrix */
	uint32_t row_pos, nr_rows;	/* 1-based position in the rows run */
	uint64_t seed;
	uint64_t elapsed_ns;
	double rate;
	uint64_t completed;
	uint64_t anomalies;
	const char *state;	/* "running", "PAUSED", "finished", ... */
	const char *verdict;
};

/*
 * The two header lines; *verdict_col is where the verdict starts in @l2
 * (the display colours it).
 */
void mon_head_lines(const struct mon_head *h, char *l1, char *l2, size_t len, int *verdict_col);

/* --- layout --- */

struct mon_rect {
	int y, x, h, w;		/* h == 0: not shown */
};

struct mon_layout {
	struct mon_rect head, queues, vectors, lat, log, foot;
};

/*
 * Place the panes on a @rows x @cols screen for @nq queues and @nv vectors.
 * Each table pane has a title line and a column header line above its rows;
 * the latency and log panes a title line. Return false when the screen is
 * smaller than MON_MIN_COLS x MON_MIN_ROWS (draw mon_too_small() instead).
 */
bool mon_layout(int rows, int cols, uint32_t nq, uint32_t nv, struct mon_layout *lo);
void mon_too_small(char *buf, size_t len, int rows, int cols);

#endif
