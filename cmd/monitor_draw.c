// SPDX-License-Identifier: MIT
/* nvmerace monitor: drawing a frame with curses; the lines come from monitor_fmt.c. */
#include <curses.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nvmerace.h"
#include "monitor_ui.h"

static void put(int y, int x, int w, const char *s, attr_t attr)
{
	if (w <= 0)
		return;
	attron(attr);
	mvaddnstr(y, x, s, w);
	attroff(attr);
}

static attr_t color(const struct ui *u, int pair)
{
	return u->color ? COLOR_PAIR(pair) : 0;
}

static void title(const struct ui *u, const struct mon_rect *r, const char *text, bool focused)
{
	char buf[520];

	snprintf(buf, sizeof(buf), "%s %s", focused ? ">" : " ", text);
	put(r->y, r->x, r->w, buf, A_BOLD | color(u, C_TITLE));
}

/* Keep @sel within [0, n) and visible in @rows lines from *top. */
static void scroll_to(uint32_t *sel, uint32_t *top, uint32_t n, uint32_t rows)
{
	if (!n) {
		*sel = *top = 0;
		return;
	}
	if (*sel >= n)
		*sel = n - 1;
	if (*sel < *top)
		*top = *sel;
	if (rows && *sel >= *top + rows)
		*top = *sel - rows + 1;
}

static void draw_head(struct mon *m, struct ui *u, const struct mon_layout *lo)
{
	const struct mon_frame *f = u->v.cur;
	uint32_t row = f->row < m->nr_rows ? f->row : 0;
	struct mon_head h = {
		.device = m->device,
		.scenario = m->scn->name,
		.row = m->scn->rows[m->rows[row]].name,
		.row_pos = row + 1,
		.nr_rows = m->nr_rows,
		.seed = m->seed,
		.elapsed_ns = f->st.elapsed_ns,
		.rate = f->rate,
		.completed = f->st.completed,
	};
	char l1[512], l2[512], why[128] = "", verdict[200];
	attr_t va;
	int col;

	for (int c = 0; c < NVR_AN_NR; c++)
		h.anomalies += f->st.anomalies[c];
	if (f->final && row < u->v.nr_done) {
		/* The runner's verdict, which also knows about errors. */
		snprintf(verdict, sizeof(verdict), "%s%s%s",
			 u->v.verdict[row] == NVR_PASS ? "PASS" :
			 u->v.verdict[row] == NVR_FAIL ? "FAIL" : "ERROR",
			 u->v.reason[row][0] ? ": " : "", u->v.reason[row]);
		va = color(u, u->v.verdict[row] == NVR_PASS ? C_GOOD : C_BAD) | A_BOLD;
	} else {
		enum mon_verdict v = mon_verdict_so_far(m->scn, m->rows[row], f->st.anomalies, why,
							sizeof(why));

		snprintf(verdict, sizeof(verdict), "%s%s%s", mon_verdict_name(v),
			 why[0] ? ": " : "", why);
		va = color(u, v == MON_PASSING ? C_GOOD : v == MON_WAITING ? C_WARN : C_BAD) |
		     A_BOLD;
	}
	h.verdict = verdict;
	h.state = u->v.paused ? "PAUSED" :
		  u->v.done   ? "finished" :
		  f->final    ? "row done" :
				"running";
	mon_head_lines(&h, l1, l2, sizeof(l1), &col);
	put(lo->head.y, 0, lo->head.w, l1, A_BOLD);
	put(lo->head.y + 1, 0, lo->head.w, l2, u->v.paused ? color(u, C_WARN) | A_BOLD : 0);
	if (col >= 0 && col < lo->head.w)
		put(lo->head.y + 1, col, lo->head.w - col, verdict, va);
}

static attr_t row_attr(const struct ui *u, enum pane p, uint32_t i, bool bad)
{
	attr_t a = bad ? color(u, C_BAD) : 0;

	if (i == u->sel[p])
		a |= u->focus == p ? A_REVERSE : A_BOLD;
	return a;
}

static void draw_queues(struct ui *u, const struct mon_layout *lo)
{
	const struct mon_frame *f = u->v.cur;
	const struct mon_rect *r = &lo->queues;
	uint32_t rows = (uint32_t)r->h - 2;
	bool shadow = false;
	char buf[512];

	for (uint32_t i = 0; i < f->st.nr_queues; i++)
		shadow |= f->st.q[i].sq_db.on || f->st.q[i].cq_db.on;
	snprintf(buf, sizeof(buf), "Queues (%u)%s", f->st.nr_queues,
		 shadow ? ", shadow doorbells: slot, EventIdx, share of SQ updates rung" : "");
	title(u, r, buf, u->focus == P_QUEUES);
	mon_queue_header(buf, sizeof(buf), shadow);
	put(r->y + 1, r->x, r->w, buf, A_UNDERLINE);
	scroll_to(&u->sel[P_QUEUES], &u->top[P_QUEUES], f->st.nr_queues, rows);
	for (uint32_t k = 0; k < rows && u->top[P_QUEUES] + k < f->st.nr_queues; k++) {
		uint32_t i = u->top[P_QUEUES] + k;
		const struct nvr_queue_stats *q = &f->st.q[i];
		uint64_t an = 0;

		for (int c = 0; c < NVR_AN_NR; c++)
			an += q->anomalies[c];
		mon_queue_row(buf, sizeof(buf), q, f->q_rate[i], shadow);
		put(r->y + 2 + (int)k, r->x, r->w, buf, row_attr(u, P_QUEUES, i, an));
	}
	if (!f->st.nr_queues)
		put(r->y + 2, r->x, r->w, "   (no queue yet)", 0);
}

static void draw_vectors(struct ui *u, const struct mon_layout *lo)
{
	const struct mon_frame *f = u->v.cur;
	const struct mon_rect *r = &lo->vectors;
	uint32_t rows = (uint32_t)r->h - 2;
	char buf[512];

	snprintf(buf, sizeof(buf), "Vectors (%u)", f->st.nr_vectors);
	title(u, r, buf, u->focus == P_VECTORS);
	mon_vector_header(buf, sizeof(buf));
	put(r->y + 1, r->x, r->w, buf, A_UNDERLINE);
	scroll_to(&u->sel[P_VECTORS], &u->top[P_VECTORS], f->st.nr_vectors, rows);
	for (uint32_t k = 0; k < rows && u->top[P_VECTORS] + k < f->st.nr_vectors; k++) {
		uint32_t i = u->top[P_VECTORS] + k;
		const struct nvr_vector_stats *v = &f->st.v[i];

		mon_vector_row(buf, sizeof(buf), v, f->v_rate[i]);
		put(r->y + 2 + (int)k, r->x, r->w, buf,
		    row_attr(u, P_VECTORS, i, v->spurious || v->missed || v->stranded));
	}
	if (!f->st.nr_vectors)
		put(r->y + 2, r->x, r->w, "   (no vector in use: every queue is polled)", 0);
}

static void draw_latency(struct ui *u, const struct mon_layout *lo)
{
	const struct mon_frame *f = u->v.cur;
	const struct mon_rect *r = &lo->lat;
	const struct nvr_hist *h = &f->lat[u->sel[P_QUEUES]];
	struct mon_bar bars[64];
	uint32_t n, max = (uint32_t)r->h - 2;
	uint64_t peak = 0;
	char buf[512];

	if (!f->st.nr_queues) {
		title(u, r, "Latency", false);
		return;
	}
	mon_lat_title(buf, sizeof(buf), f->st.q[u->sel[P_QUEUES]].qid, h);
	title(u, r, buf, false);
	mon_lat_summary(buf, sizeof(buf), h);
	put(r->y + 1, r->x + 2, r->w - 2, buf, 0);
	n = mon_hist_bars(h, bars, NVR_MIN(max, 64u));
	for (uint32_t i = 0; i < n; i++)
		peak = NVR_MAX(peak, bars[i].count);
	for (uint32_t i = 0; i < n; i++) {
		mon_bar_row(buf, sizeof(buf), &bars[i], peak, (uint32_t)r->w - 2);
		put(r->y + 2 + (int)i, r->x + 2, r->w - 2, buf, 0);
	}
}

static void draw_log(struct ui *u, const struct mon_layout *lo)
{
	const struct mon_frame *f = u->v.cur;
	const struct mon_rect *r = &lo->log;
	uint32_t rows = (uint32_t)r->h - 2, idx;
	char buf[512];

	/* The selection is a record number; it moves down the list as new ones come. */
	if (u->follow || !f->nr_records || u->sel_rec >= f->nr_records)
		u->sel_rec = f->nr_records ? f->nr_records - 1 : 0;
	idx = 0;
	if (f->nr_records)
		idx = (uint32_t)NVR_MIN(f->nr_records - 1 - u->sel_rec, (uint64_t)UINT32_MAX);
	if (f->nr_recent && idx >= f->nr_recent) {
		idx = f->nr_recent - 1;
		u->sel_rec = f->nr_records - 1 - idx;
	}
	u->sel[P_LOG] = idx;
	scroll_to(&u->sel[P_LOG], &u->top[P_LOG], f->nr_recent, rows);
	snprintf(buf, sizeof(buf), "Anomalies (%" PRIu64 " recorded, newest first%s)",
		 f->nr_records, u->focus == P_LOG ? "; Enter shows one" : "");
	title(u, r, buf, u->focus == P_LOG);
	mon_anomaly_header(buf, sizeof(buf));
	put(r->y + 1, r->x, r->w, buf, A_UNDERLINE);
	for (uint32_t k = 0; k < rows && u->top[P_LOG] + k < f->nr_recent; k++) {
		uint32_t i = u->top[P_LOG] + k;

		mon_anomaly_row(buf, sizeof(buf), &f->recent[i]);
		put(r->y + 2 + (int)k, r->x, r->w, buf, row_attr(u, P_LOG, i, true));
	}
	if (!f->nr_recent)
		put(r->y + 2, r->x, r->w, "   (none)", 0);
}

static void draw_foot(struct mon *m, struct ui *u, const struct mon_layout *lo)
{
	const char *fault = "-";
	char buf[512];

	if (m->nr_faults)
		fault = nvr_sim_fault_name((enum nvr_sim_fault)m->faults[u->fault]);
	if (u->note[0] && nvr_now_ns() < u->note_until_ns)
		snprintf(buf, sizeof(buf), "%s", u->note);
	else
		snprintf(buf, sizeof(buf),
			 "q quit  p pause  Tab/arrows move  Enter detail  f %s  i inject (%" PRIu64
			 ")  ? help",
			 fault, u->v.cur->injected);
	put(lo->foot.y, 0, lo->foot.w, buf, A_REVERSE);
}

/* A box over the panes with @n lines of text. */
static void draw_box(const char *head, char (*lines)[MON_WRAP_MAX], uint32_t n)
{
	int w = NVR_MIN(COLS - 4, 76), h = NVR_MIN((int)n + 4, LINES - 2);
	WINDOW *win = newwin(h, w, (LINES - h) / 2, (COLS - w) / 2);

	if (!win)
		return;
	werase(win);
	box(win, 0, 0);
	wattron(win, A_BOLD);
	mvwaddnstr(win, 0, 2, head, w - 4);
	wattroff(win, A_BOLD);
	for (uint32_t i = 0; i < n && (int)i < h - 4; i++)
		mvwaddnstr(win, 2 + (int)i, 2, lines[i], w - 4);
	wnoutrefresh(stdscr);
	wnoutrefresh(win);
	delwin(win);
}

static void draw_help(void)
{
	static const char *const keys[] = {
		"q            quit: stop the run, print the summary",
		"p            pause or resume the display (the run goes on)",
		"Tab, S-Tab   next or previous pane (also Left and Right)",
		"Up, Down     select a queue (its latency is shown), a vector,",
		"             or an anomaly; PgUp, PgDn, Home, End in the log",
		"Enter        the selected anomaly in full (in the log)",
		"f            choose the fault knob to inject",
		"i            inject it once, at the next snapshot (simulator)",
		"Esc          close this box",
		"?            this help",
	};
	char lines[NVR_ARRAY_SIZE(keys)][MON_WRAP_MAX];

	for (size_t i = 0; i < NVR_ARRAY_SIZE(keys); i++)
		snprintf(lines[i], MON_WRAP_MAX, "%s", keys[i]);
	draw_box("keys", lines, NVR_ARRAY_SIZE(keys));
}

static void draw_detail(const struct ui *u)
{
	const struct nvr_anomaly *a = &u->shown;
	char lines[24][MON_WRAP_MAX], q[16], cid[16], vec[16];
	uint32_t n = 0, w = (uint32_t)NVR_MIN(COLS - 4, 76) - 4;

	snprintf(q, sizeof(q), "%d", a->qid);
	snprintf(cid, sizeof(cid), "%d", a->cid);
	snprintf(vec, sizeof(vec), "%d", a->vector);
	snprintf(lines[n++], MON_WRAP_MAX, "class   %s: %s", nvr_anomaly_name(a->cls),
		 mon_class_meaning(a->cls));
	snprintf(lines[n++], MON_WRAP_MAX, "time    %.6f s after the run started",
		 (double)a->t_ns / 1e9);
	snprintf(lines[n++], MON_WRAP_MAX, "queue   %s   CID %s   vector %s", a->qid < 0 ? "-" : q,
		 a->cid < 0 ? "-" : cid, a->vector < 0 ? "-" : vec);
	lines[n++][0] = '\0';
	n += mon_wrap(a->detail, w, lines + n, NVR_ARRAY_SIZE(lines) - n);
	draw_box("anomaly (Esc or Enter closes)", lines, n);
}

void mon_draw(struct mon *m, struct ui *u)
{
	struct mon_layout lo;
	char buf[256];

	erase();
	if (!mon_layout(LINES, COLS, u->v.cur->st.nr_queues, u->v.cur->st.nr_vectors, &lo)) {
		mon_too_small(buf, sizeof(buf), LINES, COLS);
		put(0, 0, COLS, buf, A_BOLD);
		put(1, 0, COLS, "q quits", 0);
		refresh();
		return;
	}
	draw_head(m, u, &lo);
	draw_queues(u, &lo);
	draw_vectors(u, &lo);
	draw_latency(u, &lo);
	draw_log(u, &lo);
	draw_foot(m, u, &lo);
	wnoutrefresh(stdscr);
	if (u->help)
		draw_help();
	else if (u->detail)
		draw_detail(u);
	doupdate();
}
