// SPDX-License-Identifier: MIT
/* nvmerace monitor: rates, layout and every line drawn, as plain functions. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "monitor_fmt.h"

/* --- rates --- */

void mon_rates_reset(struct mon_rates *r)
{
	r->n = 0;
	r->next = 0;
}

static double per_s(uint64_t now, uint64_t then, double dt)
{
	return now >= then ? (double)(now - then) / dt : 0.0;
}

void mon_rates_update(struct mon_rates *r, uint64_t t_ns, const struct nvr_stats *st,
		      struct mon_frame *f)
{
	struct mon_sample *s = &r->s[r->next];
	const struct mon_sample *old;
	double dt;

	s->t_ns = t_ns;
	s->completed = st->completed;
	for (uint32_t i = 0; i < st->nr_queues && i < NVR_STATS_MAX_Q; i++)
		s->q[i] = st->q[i].completed;
	for (uint32_t i = 0; i < st->nr_vectors && i < NVR_STATS_MAX_V; i++)
		s->v[i] = st->v[i].irqs;
	r->next = (r->next + 1) % MON_RATE_SAMPLES;
	if (r->n < MON_RATE_SAMPLES)
		r->n++;

	f->rate = 0;
	memset(f->q_rate, 0, sizeof(f->q_rate));
	memset(f->v_rate, 0, sizeof(f->v_rate));
	if (r->n < 2)
		return;
	/* The oldest sample kept: the one the next update overwrites, once full. */
	old = &r->s[r->n == MON_RATE_SAMPLES ? r->next : 0];
	if (t_ns <= old->t_ns)
		return;
	dt = (double)(t_ns - old->t_ns) / 1e9;
	f->rate = per_s(s->completed, old->completed, dt);
	for (uint32_t i = 0; i < st->nr_queues && i < NVR_STATS_MAX_Q; i++)
		f->q_rate[i] = per_s(s->q[i], old->q[i], dt);
	for (uint32_t i = 0; i < st->nr_vectors && i < NVR_STATS_MAX_V; i++)
		f->v_rate[i] = per_s(s->v[i], old->v[i], dt);
}

/* --- numbers --- */

void mon_fmt_si(char *buf, size_t len, double v)
{
	static const char unit[] = "kMGTP";
	int u = -1;

	if (v < 0)
		v = 0;
	if (v < 999.5) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	while (v >= 999.5 && u < (int)sizeof(unit) - 2) {
		v /= 1000;
		u++;
	}
	if (v < 9.995)
		snprintf(buf, len, "%.2f%c", v, unit[u]);
	else if (v < 99.95)
		snprintf(buf, len, "%.1f%c", v, unit[u]);
	else
		snprintf(buf, len, "%.0f%c", v, unit[u]);
}

void mon_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	double v = (double)ns;

	if (!ns)
		snprintf(buf, len, "-");
	else if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, v < 9995 ? "%.2fus" : v < 99950 ? "%.1fus" : "%.0fus", v / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, v < 9995e3 ? "%.2fms" : v < 99950e3 ? "%.1fms" : "%.0fms",
			 v / 1e6);
	else
		snprintf(buf, len, "%.2fs", v / 1e9);
}

void mon_fmt_elapsed(char *buf, size_t len, uint64_t ns)
{
	uint64_t s = ns / 1000000000ull;

	if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
}

void mon_fmt_classes(char *buf, size_t len, const uint64_t an[NVR_AN_NR])
{
	size_t off = 0;

	buf[0] = '\0';
	for (int c = 0; c < NVR_AN_NR && off + 1 < len; c++) {
		int n;

		if (!an[c])
			continue;
		n = snprintf(buf + off, len - off, "%s%s %" PRIu64, off ? ", " : "",
			     nvr_anomaly_name(c), an[c]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (!off)
		snprintf(buf, len, "-");
}

/* --- rows --- */

void mon_queue_header(char *buf, size_t len, bool shadow)
{
	if (shadow)
		snprintf(buf, len, "%4s %5s %5s %5s %5s %2s %3s %7s %5s %5s %5s %5s %5s %s", "Q",
			 "depth", "out", "SQtl", "CQhd", "ph", "vec", "cmd/s", "SQsh", "SQei",
			 "CQsh", "CQei", "ring", "anomalies");
	else
		snprintf(buf, len, "%4s %5s %5s %5s %5s %2s %3s %7s %7s %7s %7s %s", "Q", "depth",
			 "out", "SQtl", "CQhd", "ph", "vec", "cmd/s", "p50", "p99", "max",
			 "anomalies");
}

/* The shadow columns: slot and EventIdx of each doorbell, and how often the SQ's rang. */
static void shadow_cols(char *buf, size_t len, const struct nvr_queue_stats *q)
{
	char v[4][8], ring[8];
	const struct nvr_shadow_stats *d[2] = { &q->sq_db, &q->cq_db };
	uint64_t all = q->sq_db.mmio + q->sq_db.skipped;

	for (int i = 0; i < 2; i++) {
		if (d[i]->on && q->live) {
			snprintf(v[2 * i], sizeof(v[0]), "%u", d[i]->shadow);
			snprintf(v[2 * i + 1], sizeof(v[0]), "%u", d[i]->eventidx);
		} else {
			snprintf(v[2 * i], sizeof(v[0]), "-");
			snprintf(v[2 * i + 1], sizeof(v[0]), "-");
		}
	}
	if (q->sq_db.on && all)
		snprintf(ring, sizeof(ring), "%u%%", (unsigned int)(q->sq_db.mmio * 100 / all));
	else
		snprintf(ring, sizeof(ring), "-");
	snprintf(buf, len, "%5s %5s %5s %5s %5s", v[0], v[1], v[2], v[3], ring);
}

void mon_queue_row(char *buf, size_t len, const struct nvr_queue_stats *q, double rate,
		   bool shadow)
{
	char vec[16], r[16], p50[16], p99[16], max[16], an[160], mid[48], sq[8], cq[8], ph[4];

	if (q->vector < 0)
		snprintf(vec, sizeof(vec), "-");
	else
		snprintf(vec, sizeof(vec), "%d", q->vector);
	mon_fmt_si(r, sizeof(r), rate);
	mon_fmt_classes(an, sizeof(an), q->anomalies);
	if (shadow) {
		shadow_cols(mid, sizeof(mid), q);
	} else {
		mon_fmt_ns(p50, sizeof(p50), q->lat_p50_ns);
		mon_fmt_ns(p99, sizeof(p99), q->lat_p99_ns);
		mon_fmt_ns(max, sizeof(max), q->lat_max_ns);
		snprintf(mid, sizeof(mid), "%7s %7s %7s", p50, p99, max);
	}
	/* A queue deleted during the run has no doorbells left to show. */
	snprintf(sq, sizeof(sq), q->live ? "%u" : "gone", q->sq_tail);
	snprintf(cq, sizeof(cq), q->live ? "%u" : "", q->cq_head);
	snprintf(ph, sizeof(ph), q->live ? "%u" : "", q->cq_phase);
	snprintf(buf, len, "%4u %5u %5" PRIu64 " %5s %5s %2s %3s %7s %s %s", q->qid, q->depth,
		 q->outstanding, sq, cq, ph, vec, r, mid, an);
}

void mon_vector_header(char *buf, size_t len)
{
	snprintf(buf, len, "%4s %7s %8s %4s %4s %8s %6s %8s %6s %5s %7s", "vec", "irq/s", "irqs",
		 "mask", "pend", "spurious", "missed", "stranded", "benign", "trig", "repoint");
}

void mon_vector_row(char *buf, size_t len, const struct nvr_vector_stats *v, double rate)
{
	char r[16], irqs[16];
	const char *mask = "n/a", *pend = "n/a";

	mon_fmt_si(r, sizeof(r), rate);
	mon_fmt_si(irqs, sizeof(irqs), (double)v->irqs);
	if (v->have_truth) {
		mask = v->dev_masked ? "yes" : "no";
		pend = v->dev_pending ? "yes" : "no";
	}
	snprintf(buf, len,
		 "%4u %7s %8s %4s %4s %8" PRIu64 " %6" PRIu64 " %8" PRIu64 " %6" PRIu64 " %5" PRIu64
		 " %7" PRIu64,
		 v->vector, r, irqs, mask, pend, v->spurious, v->missed, v->stranded,
		 v->empty_polled + v->empty_early, v->triggered, v->repoints);
}

void mon_anomaly_header(char *buf, size_t len)
{
	snprintf(buf, len, "%9s %-18s %3s %5s %3s  %s", "time", "class", "Q", "CID", "vec",
		 "explanation");
}

static void opt_int(char *buf, size_t len, int32_t v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%d", v);
}

void mon_anomaly_row(char *buf, size_t len, const struct nvr_anomaly *a)
{
	char t[16], q[12], cid[12], vec[12];

	snprintf(t, sizeof(t), "%.3fs", (double)a->t_ns / 1e9);
	opt_int(q, sizeof(q), a->qid);
	opt_int(cid, sizeof(cid), a->cid);
	opt_int(vec, sizeof(vec), a->vector);
	snprintf(buf, len, "%9s %-18s %3s %5s %3s  %s", t, nvr_anomaly_name(a->cls), q, cid, vec,
		 a->detail);
}

const char *mon_class_meaning(enum nvr_anomaly_class c)
{
	static const char *const meaning[NVR_AN_NR] = {
		[NVR_AN_LOST] = "a command submitted and not completed within the command timeout",
		[NVR_AN_DUPLICATE] = "one submission completed twice",
		[NVR_AN_SPURIOUS] = "a CQE for no outstanding command, a bad SQ ID, "
				    "or a wrong phase",
		[NVR_AN_SPURIOUS_IRQ] = "an interrupt with no new CQE behind it on its "
					"vector's queues",
		[NVR_AN_MISSED_IRQ] = "CQEs found only by polling; no interrupt followed in "
				      "the grace period",
		[NVR_AN_STRANDED] = "an interrupt came and its handler left the CQE for a later "
				    "sweep",
		[NVR_AN_STALL] = "commands outstanding and no completion for the stall window",
		[NVR_AN_DMA_AFTER_TEARDOWN] = "the device read or wrote an IOVA that is not mapped",
		[NVR_AN_CFS] = "the controller reported Controller Fatal Status",
		[NVR_AN_DATA_MISMATCH] = "a verified read returned other data than was written",
		[NVR_AN_BAD_SQHD] = "a CQE's SQ Head Pointer named no slot of its SQ",
		[NVR_AN_UNRESPONSIVE] = "the controller did not act on CC (disable, shutdown) "
					"within CAP.TO",
	};

	return (unsigned int)c < NVR_AN_NR && meaning[c] ? meaning[c] : "";
}

uint32_t mon_wrap(const char *text, uint32_t width, char (*lines)[MON_WRAP_MAX], uint32_t max)
{
	uint32_t n = 0;
	const char *p = text;

	if (!width)
		return 0;
	if (width > MON_WRAP_MAX - 1)
		width = MON_WRAP_MAX - 1;
	while (*p && n < max) {
		size_t rest = strlen(p), take;

		if (rest <= width) {
			take = rest;
		} else {
			take = width;
			/* Break at the last space that fits; a longer word is cut. */
			while (take && p[take] != ' ')
				take--;
			if (!take)
				take = width;
		}
		memcpy(lines[n], p, take);
		lines[n][take] = '\0';
		n++;
		p += take;
		while (*p == ' ')
			p++;
	}
	return n;
}

/* --- the latency histogram --- */

uint32_t mon_hist_bars(const struct nvr_hist *h, struct mon_bar *bars, uint32_t max)
{
	uint64_t oct[65] = { 0 };
	int first = -1, last = -1, per;
	uint32_t n = 0;

	if (!max)
		return 0;
	/* A bucket lies within one power of two: its low edge says which. */
	for (unsigned int i = 0; i < NVR_HIST_BUCKETS; i++) {
		uint64_t c = atomic_load_explicit(&h->b[i], memory_order_relaxed);
		uint64_t lo = nvr_hist_bucket_low(i);
		int o = lo ? 63 - __builtin_clzll(lo) : 0;

		if (!c)
			continue;
		oct[o] += c;
		if (first < 0 || o < first)
			first = o;
		if (o > last)
			last = o;
	}
	if (first < 0)
		return 0;
	per = (last - first) / (int)max + 1;
	for (int o = first; o <= last; o += per) {
		struct mon_bar *b = &bars[n++];
		int end = o + per;

		b->lo = o ? 1ull << o : 0;
		b->hi = end >= 64 ? UINT64_MAX : 1ull << end;
		b->count = 0;
		for (int k = o; k < end && k <= last; k++)
			b->count += oct[k];
	}
	return n;
}

void mon_bar_row(char *buf, size_t len, const struct mon_bar *b, uint64_t peak, uint32_t width)
{
	char lo[16], hi[16], cnt[16], bar[MON_WRAP_MAX];
	int fixed, w;
	uint64_t fill;

	mon_fmt_ns(lo, sizeof(lo), b->lo);
	if (!b->lo)
		snprintf(lo, sizeof(lo), "0");
	mon_fmt_ns(hi, sizeof(hi), b->hi);
	mon_fmt_si(cnt, sizeof(cnt), (double)b->count);
	/* "%7s-%-7s |" + bar + "| %6s" */
	fixed = 7 + 1 + 7 + 2 + 2 + 6;
	w = (int)width - fixed;
	if (w < 1)
		w = 1;
	if (w > (int)sizeof(bar) - 1)
		w = (int)sizeof(bar) - 1;
	fill = peak ? (b->count * (uint64_t)w + peak - 1) / peak : 0;
	if (fill > (uint64_t)w)
		fill = (uint64_t)w;
	memset(bar, '#', fill);
	memset(bar + fill, ' ', (size_t)w - fill);
	bar[w] = '\0';
	snprintf(buf, len, "%7s-%-7s |%s| %6s", lo, hi, bar, cnt);
}

void mon_lat_title(char *buf, size_t len, uint16_t qid, const struct nvr_hist *h)
{
	char n[16];

	mon_fmt_si(n, sizeof(n), (double)atomic_load_explicit(&h->count, memory_order_relaxed));
	snprintf(buf, len, "Latency, queue %u (%s samples)", qid, n);
}

void mon_lat_summary(char *buf, size_t len, const struct nvr_hist *h)
{
	char p50[16], p99[16], max[16];

	mon_fmt_ns(p50, sizeof(p50), nvr_hist_quantile(h, 0.5));
	mon_fmt_ns(p99, sizeof(p99), nvr_hist_quantile(h, 0.99));
	mon_fmt_ns(max, sizeof(max), atomic_load_explicit(&h->max, memory_order_relaxed));
	snprintf(buf, len, "p50 %s  p99 %s  max %s", p50, p99, max);
}

/* --- the verdict so far --- */

enum mon_verdict mon_verdict_so_far(const struct nvr_scenario *scn, uint32_t row,
				    const uint64_t an[NVR_AN_NR], char *why, size_t len)
{
	enum mon_verdict v = MON_PASSING;

	if (len)
		why[0] = '\0';
	for (int c = 0; c < NVR_AN_NR; c++) {
		const struct nvr_row *r = scn->nr_rows ? &scn->rows[row < scn->nr_rows ? row : 0] :
							 NULL;
		struct nvr_expect e = nvr_row_expect(r, c);
		enum mon_verdict here;
		char want[32];

		if (nvr_expect_met(&e, an[c]))
			continue;
		/* Counts only grow: a lower bound may still be reached, an upper one not. */
		here = e.cmp == NVR_CMP_GT || e.cmp == NVR_CMP_GE ||
				       (e.cmp == NVR_CMP_EQ && an[c] < e.value) ?
			       MON_WAITING :
			       MON_FAILING;
		if (here > v) {
			v = here;
			nvr_expect_str(&e, want, sizeof(want));
			snprintf(why, len, "%s %" PRIu64 ", expected %s", nvr_anomaly_name(c),
				 an[c], want);
		}
	}
	return v;
}

const char *mon_verdict_name(enum mon_verdict v)
{
	switch (v) {
	case MON_PASSING:
		return "PASS so far";
	case MON_WAITING:
		return "waiting";
	default:
		return "FAIL";
	}
}

/* --- the header --- */

void mon_head_lines(const struct mon_head *h, char *l1, char *l2, size_t len, int *verdict_col)
{
	char el[16], rate[16], done[16], an[16];
	int n;

	/* Most telling first: a narrow terminal cuts the end of each line. */
	snprintf(l1, len, "%s%s%s (row %u/%u)  seed %" PRIu64 "  %s", h->scenario,
		 h->row[0] ? "/" : "", h->row, h->row_pos, h->nr_rows, h->seed, h->device);
	mon_fmt_elapsed(el, sizeof(el), h->elapsed_ns);
	mon_fmt_si(rate, sizeof(rate), h->rate);
	mon_fmt_si(done, sizeof(done), (double)h->completed);
	mon_fmt_si(an, sizeof(an), (double)h->anomalies);
	n = snprintf(l2, len, "%-8s %6s  %5s cmd/s  %5s done  %5s anomalies  ", h->state, el, rate,
		     done, an);
	if (n < 0 || (size_t)n >= len) {
		*verdict_col = -1;
		return;
	}
	*verdict_col = n;
	snprintf(l2 + n, len - (size_t)n, "%s", h->verdict);
}

/* --- layout --- */

void mon_too_small(char *buf, size_t len, int rows, int cols)
{
	snprintf(buf, len, "terminal too small: %dx%d; the monitor needs at least %dx%d", cols,
		 rows, MON_MIN_COLS, MON_MIN_ROWS);
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

bool mon_layout(int rows, int cols, uint32_t nq, uint32_t nv, struct mon_layout *lo)
{
	bool wide = cols >= MON_WIDE_COLS;
	int left_w = wide ? cols - MON_LAT_W - 1 : cols;
	int want_q = clamp((int)nq, 1, 16), want_v = clamp((int)nv, 1, 16);
	int avail, q, v, lat, spare, y;

	memset(lo, 0, sizeof(*lo));
	if (rows < MON_MIN_ROWS || cols < MON_MIN_COLS)
		return false;
	lo->head = (struct mon_rect){ 0, 0, 2, cols };
	lo->foot = (struct mon_rect){ rows - 1, 0, 1, cols };
	avail = rows - 3;	/* between the header and the footer */

	/* The least each pane gets: one row of each table, four bars, three log lines. */
	q = 1;
	v = 1;
	lat = wide ? 0 : 4;
	spare = avail - (2 + q) - (2 + v) - (wide ? 0 : 2 + lat) - (2 + 2);
	/* Then, in this order: every queue, every vector, up to eight bars; the log the rest. */
	y = NVR_MIN(spare, want_q - q);
	q += y;
	spare -= y;
	y = NVR_MIN(spare / 2, want_v - v);
	v += y;
	spare -= y;
	if (!wide) {
		y = NVR_MIN(spare / 2, 8 - lat);
		lat += y;
		spare -= y;
	}

	y = 2;
	lo->queues = (struct mon_rect){ y, 0, 2 + q, left_w };
	y += 2 + q;
	lo->vectors = (struct mon_rect){ y, 0, 2 + v, left_w };
	y += 2 + v;
	if (wide) {
		/* Beside the tables, as tall as they are, and room for eight bars. */
		int h = NVR_MAX(y - 2, 2 + 8);

		lo->lat = (struct mon_rect){ 2, left_w + 1, h, MON_LAT_W };
		y = NVR_MAX(y, 2 + h);
	} else {
		lo->lat = (struct mon_rect){ y, 0, 2 + lat, cols };
		y += 2 + lat;
	}
	lo->log = (struct mon_rect){ y, 0, rows - 1 - y, cols };
	return lo->log.h >= 4;
}
