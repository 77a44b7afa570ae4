// SPDX-License-Identifier: MIT
/*
 * The monitor's drawing without curses: every number and line it draws, on
 * fixed snapshots; the layout at every size; the verdict so far; the rates.
 * check_monitor.c has its runner, its frames and the command end to end.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nvmerace.h"
#include "monitor.h"
#include "monitor_fmt.h"
#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "suite_main.h"

/* --- numbers --- */

#define CK_FMT(fn, v, want)                                                                   \
	do {                                                                                  \
		char b_[64];                                                                  \
		fn(b_, sizeof(b_), v);                                                        \
		ck_assert_str_eq(b_, want);                                                   \
	} while (0)

START_TEST(test_si)
{
	CK_FMT(mon_fmt_si, 0, "0");
	CK_FMT(mon_fmt_si, 7.4, "7");
	CK_FMT(mon_fmt_si, 999, "999");
	CK_FMT(mon_fmt_si, 1000, "1.00k");
	CK_FMT(mon_fmt_si, 12345, "12.3k");
	CK_FMT(mon_fmt_si, 123456, "123k");
	CK_FMT(mon_fmt_si, 999999, "1.00M");
	CK_FMT(mon_fmt_si, 1234567, "1.23M");
	CK_FMT(mon_fmt_si, 4.2e9, "4.20G");
	CK_FMT(mon_fmt_si, -5, "0");
}
END_TEST

START_TEST(test_ns)
{
	CK_FMT(mon_fmt_ns, 0, "-");
	CK_FMT(mon_fmt_ns, 850, "850ns");
	CK_FMT(mon_fmt_ns, 999, "999ns");
	CK_FMT(mon_fmt_ns, 1000, "1.00us");
	CK_FMT(mon_fmt_ns, 12345, "12.3us");
	CK_FMT(mon_fmt_ns, 123456, "123us");
	CK_FMT(mon_fmt_ns, 1200000, "1.20ms");
	CK_FMT(mon_fmt_ns, 45600000, "45.6ms");
	CK_FMT(mon_fmt_ns, 2500000000ull, "2.50s");
	CK_FMT(mon_fmt_elapsed, 9800000000ull, "9.8s");
	CK_FMT(mon_fmt_elapsed, 125000000000ull, "2m05s");
	CK_FMT(mon_fmt_elapsed, 3720000000000ull, "1h02m");
}
END_TEST

START_TEST(test_classes)
{
	uint64_t an[NVR_AN_NR] = { 0 };
	char buf[128], tiny[12];

	mon_fmt_classes(buf, sizeof(buf), an);
	ck_assert_str_eq(buf, "-");
	an[NVR_AN_LOST] = 3;
	an[NVR_AN_DUPLICATE] = 1;
	an[NVR_AN_DATA_MISMATCH] = 12;
	mon_fmt_classes(buf, sizeof(buf), an);
	ck_assert_str_eq(buf, "lost 3, duplicate 1, data_mismatch 12");
	/* Cut, never overrun. */
	mon_fmt_classes(tiny, sizeof(tiny), an);
	ck_assert_str_eq(tiny, "lost 3, dup");
}
END_TEST

/* --- rows, on fixed snapshots --- */

static struct nvr_queue_stats fixed_queue(void)
{
	struct nvr_queue_stats q = {
		.qid = 1, .depth = 128, .vector = 1, .live = true, .outstanding = 32,
		.sq_tail = 45, .cq_head = 13, .cq_phase = 1, .lat_p50_ns = 12300,
		.lat_p99_ns = 45600, .lat_max_ns = 1200000,
	};

	q.anomalies[NVR_AN_LOST] = 1;
	q.anomalies[NVR_AN_DUPLICATE] = 2;
	return q;
}

START_TEST(test_queue_rows)
{
	struct nvr_queue_stats q = fixed_queue();
	char hdr[256], row[256];

	mon_queue_header(hdr, sizeof(hdr), false);
	ck_assert_str_eq(hdr, "   Q depth   out  SQtl  CQhd ph vec   cmd/s     p50     p99     max "
			      "anomalies");
	mon_queue_row(row, sizeof(row), &q, 123456, false);
	ck_assert_str_eq(row, "   1   128    32    45    13  1   1    123k  12.3us  45.6us  1.20ms "
			      "lost 1, duplicate 2");
	/* Columns line up with the header. */
	ck_assert_uint_eq(strstr(hdr, "anomalies") - hdr, strstr(row, "lost") - row);

	/* A polled queue with nothing measured yet. */
	memset(&q, 0, sizeof(q));
	q.qid = 2;
	q.depth = 32;
	q.vector = -1;
	q.live = true;
	mon_queue_row(row, sizeof(row), &q, 0, false);
	ck_assert_str_eq(row, "   2    32     0     0     0  0   -       0       -       -       - -");
	/* A queue deleted during the run: its doorbells are gone. */
	q.live = false;
	mon_queue_row(row, sizeof(row), &q, 0, false);
	ck_assert_str_eq(row, "   2    32     0  gone            -       0       -       -       - -");
}
END_TEST

START_TEST(test_queue_rows_shadow)
{
	struct nvr_queue_stats q = fixed_queue();
	char hdr[256], row[256];

	q.sq_db = (struct nvr_shadow_stats){ .on = true, .shadow = 45, .eventidx = 44, .mmio = 25,
					     .skipped = 75 };
	q.cq_db = (struct nvr_shadow_stats){ .on = true, .shadow = 13, .eventidx = 9 };
	mon_queue_header(hdr, sizeof(hdr), true);
	ck_assert_str_eq(hdr, "   Q depth   out  SQtl  CQhd ph vec   cmd/s  SQsh  SQei  CQsh  CQei  ring "
			      "anomalies");
	mon_queue_row(row, sizeof(row), &q, 2000, true);
	ck_assert_str_eq(row, "   1   128    32    45    13  1   1   2.00k    45    44    13     9   25% "
			      "lost 1, duplicate 2");
	ck_assert_uint_eq(strstr(hdr, "anomalies") - hdr, strstr(row, "lost") - row);
	/* A queue without a doorbell buffer beside one with it. */
	memset(&q.sq_db, 0, sizeof(q.sq_db));
	memset(&q.cq_db, 0, sizeof(q.cq_db));
	mon_queue_row(row, sizeof(row), &q, 0, true);
	ck_assert_str_eq(row, "   1   128    32    45    13  1   1       0     -     -     -     -     - "
			      "lost 1, duplicate 2");
}
END_TEST

START_TEST(test_vector_rows)
{
	struct nvr_vector_stats v = {
		.vector = 3, .used = true, .irqs = 45678, .spurious = 2, .missed = 1,
		.stranded = 0, .empty_polled = 10, .empty_early = 2, .triggered = 4,
		.repoints = 7, .have_truth = true, .dev_masked = true, .dev_pending = false,
	};
	char hdr[256], row[256];

	mon_vector_header(hdr, sizeof(hdr));
	ck_assert_str_eq(hdr, " vec   irq/s     irqs mask pend spurious missed stranded benign  trig "
			      "repoint");
	mon_vector_row(row, sizeof(row), &v, 12345);
	ck_assert_str_eq(row, "   3   12.3k    45.7k  yes   no        2      1        0     12     4 "
			      "      7");
	ck_assert_uint_eq(strlen(hdr), strlen(row));
	/* Without the device's word (real hardware), masked and pending are unknown. */
	v.have_truth = false;
	mon_vector_row(row, sizeof(row), &v, 0);
	ck_assert_ptr_nonnull(strstr(row, "  n/a  n/a "));
}
END_TEST

START_TEST(test_anomaly_rows)
{
	struct nvr_anomaly a = {
		.cls = NVR_AN_LOST, .qid = 1, .cid = 17, .vector = 1, .t_ns = 12345678901ull,
		.detail = "CID 17 on SQ 1 submitted 200.1 ms before, never completed",
	};
	char hdr[256], row[256], cut[40];

	mon_anomaly_header(hdr, sizeof(hdr));
	ck_assert_str_eq(hdr, "     time class                Q   CID vec  explanation");
	mon_anomaly_row(row, sizeof(row), &a);
	ck_assert_str_eq(row, "  12.346s lost                 1    17   1  CID 17 on SQ 1 submitted "
			      "200.1 ms before, never completed");
	/* Not about a queue or a command: dashes. */
	a = (struct nvr_anomaly){ .cls = NVR_AN_SPURIOUS_IRQ, .qid = -1, .cid = -1, .vector = 2,
				  .t_ns = 5000000, .detail = "interrupt on vector 2" };
	mon_anomaly_row(row, sizeof(row), &a);
	ck_assert_str_eq(row, "   0.005s spurious_irq         -     -   2  interrupt on vector 2");
	mon_anomaly_row(cut, sizeof(cut), &a);
	ck_assert_uint_eq(strlen(cut), sizeof(cut) - 1);
	/* Every class has its meaning (a class added to the ledger needs one here). */
	for (int c = 0; c < NVR_AN_NR; c++)
		ck_assert_msg(strlen(mon_class_meaning(c)) > 10, "no meaning for class %s",
			      nvr_anomaly_name(c));
	ck_assert_str_eq(mon_class_meaning(NVR_AN_NR), "");
}
END_TEST

START_TEST(test_wrap)
{
	char lines[8][MON_WRAP_MAX];
	uint32_t n;

	n = mon_wrap("the device posted its CQE and the host never looked", 20, lines, 8);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(lines[0], "the device posted");
	ck_assert_str_eq(lines[1], "its CQE and the host");
	ck_assert_str_eq(lines[2], "never looked");
	/* A word longer than the width is cut; the count is bounded by @max. */
	n = mon_wrap("0123456789abcdef tail", 6, lines, 2);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(lines[0], "012345");
	ck_assert_str_eq(lines[1], "6789ab");
	ck_assert_uint_eq(mon_wrap("", 10, lines, 8), 0);
	ck_assert_uint_eq(mon_wrap("x", 0, lines, 8), 0);
}
END_TEST

/* --- the histogram as bars --- */

static void hist_add_n(struct nvr_hist *h, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		nvr_hist_add(h, v);
}

START_TEST(test_hist_bars)
{
	static struct nvr_hist h;
	struct mon_bar b[16];
	uint32_t n;
	char row[256], title[128], sum[128];

	memset(&h, 0, sizeof(h));
	ck_assert_uint_eq(mon_hist_bars(&h, b, 16), 0);
	hist_add_n(&h, 1500, 100);	/* in [1024, 2048) */
	hist_add_n(&h, 2047, 20);	/* the same power of two */
	hist_add_n(&h, 40000, 10);	/* in [32768, 65536) */
	n = mon_hist_bars(&h, b, 16);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(b[0].lo, 1024);
	ck_assert_uint_eq(b[0].hi, 2048);
	ck_assert_uint_eq(b[0].count, 120);
	for (int i = 1; i < 5; i++)
		ck_assert_uint_eq(b[i].count, 0);
	ck_assert_uint_eq(b[5].lo, 32768);
	ck_assert_uint_eq(b[5].count, 10);
	/* Three bars: two powers each, nothing lost. */
	n = mon_hist_bars(&h, b, 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(b[0].lo, 1024);
	ck_assert_uint_eq(b[0].hi, 4096);
	ck_assert_uint_eq(b[0].count + b[1].count + b[2].count, 130);
	ck_assert_uint_eq(b[2].hi, 65536);
	ck_assert_uint_eq(b[2].count, 10);

	/* 10 of a peak of 120 in a 40-column row: 15 columns of bar, 2 filled (rounded up). */
	mon_bar_row(row, sizeof(row), &b[2], 120, 40);
	ck_assert_str_eq(row, " 16.4us-65.5us  |##             |     10");
	ck_assert_uint_eq(strlen(row), 40);
	mon_bar_row(row, sizeof(row), &b[0], 120, 40);
	ck_assert_str_eq(row, " 1.02us-4.10us  |###############|    120");

	mon_lat_title(title, sizeof(title), 3, &h);
	ck_assert_str_eq(title, "Latency, queue 3 (130 samples)");
	mon_lat_summary(sum, sizeof(sum), &h);
	ck_assert_str_eq(sum, "p50 1.41us  p99 36.9us  max 40.0us");
}
END_TEST

/* --- the verdict so far --- */

START_TEST(test_verdict)
{
	static struct nvr_scenario s;
	uint64_t an[NVR_AN_NR] = { 0 };
	char why[128];

	memset(&s, 0, sizeof(s));
	s.nr_rows = 2;
	s.rows[0].expect[NVR_AN_LOST] = (struct nvr_expect){ NVR_CMP_EQ, 0 };
	s.rows[1].expect[NVR_AN_DUPLICATE] = (struct nvr_expect){ NVR_CMP_GT, 0 };
	s.rows[1].expect[NVR_AN_SPURIOUS] = (struct nvr_expect){ NVR_CMP_EQ, 3 };
	s.rows[1].expect[NVR_AN_STALL] = (struct nvr_expect){ NVR_CMP_LE, 2 };

	ck_assert_int_eq(mon_verdict_so_far(&s, 0, an, why, sizeof(why)), MON_PASSING);
	ck_assert_str_eq(why, "");
	an[NVR_AN_LOST] = 1;
	ck_assert_int_eq(mon_verdict_so_far(&s, 0, an, why, sizeof(why)), MON_FAILING);
	ck_assert_str_eq(why, "lost 1, expected 0");

	/* Row 1: ">0" and "3" not reached yet can still be; "<= 2" exceeded cannot. */
	memset(an, 0, sizeof(an));
	ck_assert_int_eq(mon_verdict_so_far(&s, 1, an, why, sizeof(why)), MON_WAITING);
	ck_assert_str_eq(why, "duplicate 0, expected >0");
	an[NVR_AN_DUPLICATE] = 4;
	an[NVR_AN_SPURIOUS] = 3;
	ck_assert_int_eq(mon_verdict_so_far(&s, 1, an, why, sizeof(why)), MON_PASSING);
	an[NVR_AN_SPURIOUS] = 4;
	ck_assert_int_eq(mon_verdict_so_far(&s, 1, an, why, sizeof(why)), MON_FAILING);
	ck_assert_str_eq(why, "spurious 4, expected 3");
	an[NVR_AN_SPURIOUS] = 3;
	an[NVR_AN_STALL] = 3;
	ck_assert_int_eq(mon_verdict_so_far(&s, 1, an, why, sizeof(why)), MON_FAILING);
	ck_assert_str_eq(why, "stall 3, expected <=2");
	/* Data corruption, and a controller that could not be stopped, fail a row
	 * that says nothing about them, as the runner judges. */
	memset(an, 0, sizeof(an));
	an[NVR_AN_DATA_MISMATCH] = 1;
	ck_assert_int_eq(mon_verdict_so_far(&s, 0, an, why, sizeof(why)), MON_FAILING);
	ck_assert_str_eq(why, "data_mismatch 1, expected 0");
	an[NVR_AN_DATA_MISMATCH] = 0;
	an[NVR_AN_UNRESPONSIVE] = 1;
	ck_assert_int_eq(mon_verdict_so_far(&s, 0, an, why, sizeof(why)), MON_FAILING);
	ck_assert_str_eq(why, "unresponsive 1, expected 0");
	ck_assert_str_eq(mon_verdict_name(MON_PASSING), "PASS so far");
}
END_TEST

START_TEST(test_head)
{
	struct mon_head h = {
		.device = "simulator: model (SN 1)", .scenario = "clean-soak", .row = "no-pba",
		.row_pos = 3, .nr_rows = 3, .seed = 42, .elapsed_ns = 12345000000ull,
		.rate = 123456, .completed = 1234567, .anomalies = 0, .state = "running",
		.verdict = "PASS so far",
	};
	char l1[256], l2[256];
	int col;

	mon_head_lines(&h, l1, l2, sizeof(l1), &col);
	ck_assert_str_eq(l1, "clean-soak/no-pba (row 3/3)  seed 42  simulator: model (SN 1)");
	ck_assert_str_eq(l2, "running   12.3s   123k cmd/s  1.23M done      0 anomalies  PASS so far");
	ck_assert_int_eq(col, strstr(l2, "PASS") - l2);
	/* The second line fits 80 columns with a short verdict. */
	ck_assert_uint_le((size_t)col + strlen("PASS so far"), 80);
	h.row = "";
	mon_head_lines(&h, l1, l2, sizeof(l1), &col);
	ck_assert_str_eq(l1, "clean-soak (row 3/3)  seed 42  simulator: model (SN 1)");
	/* Too short a buffer: cut, and no verdict column. */
	mon_head_lines(&h, l1, l2, 20, &col);
	ck_assert_int_eq(col, -1);
	ck_assert_uint_eq(strlen(l2), 19);
}
END_TEST

/* --- layout --- */

static bool inside(const struct mon_rect *r, int rows, int cols)
{
	return r->y >= 0 && r->x >= 0 && r->y + r->h <= rows && r->x + r->w <= cols;
}

static bool overlap(const struct mon_rect *a, const struct mon_rect *b)
{
	return a->h && b->h && a->y < b->y + b->h && b->y < a->y + a->h && a->x < b->x + b->w &&
	       b->x < a->x + a->w;
}

START_TEST(test_layout_every_size)
{
	struct mon_layout lo;

	for (int rows = 24; rows <= 70; rows += 3)
		for (int cols = 80; cols <= 200; cols += 7)
			for (uint32_t nq = 0; nq <= 40; nq += 5)
				for (uint32_t nv = 0; nv <= 40; nv += 8) {
					const struct mon_rect *p[] = { &lo.head, &lo.queues,
								       &lo.vectors, &lo.lat,
								       &lo.log, &lo.foot };

					ck_assert_msg(mon_layout(rows, cols, nq, nv, &lo),
						      "%dx%d q%u v%u", cols, rows, nq, nv);
					for (size_t i = 0; i < 6; i++) {
						ck_assert(inside(p[i], rows, cols));
						for (size_t j = i + 1; j < 6; j++)
							ck_assert_msg(!overlap(p[i], p[j]),
								      "%dx%d q%u v%u: %zu and %zu",
								      cols, rows, nq, nv, i, j);
					}
					/* Each table shows a row, the histogram four bars,
					 * the log a title, a header and two anomalies. */
					ck_assert_int_ge(lo.queues.h, 3);
					ck_assert_int_ge(lo.vectors.h, 3);
					ck_assert_int_ge(lo.lat.h, 2 + 4);
					ck_assert_int_ge(lo.log.h, 4);
					ck_assert_int_ge(lo.queues.w, 79);
					/* Every queue when there is room for them. */
					if (rows >= 40 && nq <= 10)
						ck_assert_int_ge(lo.queues.h, 2 + (int)NVR_MAX(nq, 1u));
				}
}
END_TEST

START_TEST(test_layout_sizes)
{
	struct mon_layout lo;
	char msg[128];

	ck_assert(!mon_layout(23, 80, 2, 1, &lo));
	ck_assert(!mon_layout(24, 79, 2, 1, &lo));
	mon_too_small(msg, sizeof(msg), 20, 60);
	ck_assert_str_eq(msg, "terminal too small: 60x20; the monitor needs at least 80x24");

	/* 80x24: stacked, the latency pane below the tables. */
	ck_assert(mon_layout(24, 80, 2, 1, &lo));
	ck_assert_int_eq(lo.queues.y, 2);
	ck_assert_int_eq(lo.queues.h, 2 + 2);
	ck_assert_int_eq(lo.vectors.h, 2 + 1);
	ck_assert_int_eq(lo.lat.x, 0);
	ck_assert_int_eq(lo.lat.y, lo.vectors.y + lo.vectors.h);
	ck_assert_int_eq(lo.log.y + lo.log.h, 23);
	ck_assert_int_eq(lo.foot.y, 23);

	/* 120x40: still stacked, eight bars, the log the rest. */
	ck_assert(mon_layout(40, 120, 2, 1, &lo));
	ck_assert_int_eq(lo.lat.x, 0);
	ck_assert_int_eq(lo.lat.h, 2 + 8);
	ck_assert_int_eq(lo.log.h, 40 - 1 - 2 - 4 - 3 - 10);

	/* 140x40: the latency pane beside the tables, which keep 99 columns. */
	ck_assert(mon_layout(40, 140, 2, 1, &lo));
	ck_assert_int_eq(lo.lat.x, 140 - MON_LAT_W);
	ck_assert_int_eq(lo.lat.y, 2);
	ck_assert_int_eq(lo.lat.h, 2 + 8);
	ck_assert_int_eq(lo.queues.w, 140 - MON_LAT_W - 1);
}
END_TEST

/* --- rates --- */

START_TEST(test_rates)
{
	static struct nvr_stats st;
	static struct mon_frame f;
	struct mon_rates r;

	memset(&st, 0, sizeof(st));
	st.nr_queues = 2;
	st.nr_vectors = 1;
	mon_rates_reset(&r);
	mon_rates_update(&r, 1000000000ull, &st, &f);
	ck_assert(f.rate == 0);	/* one sample: no rate yet */
	/* 100 ms apart, 300 more completions (100 on q0, 200 on q1), 50 more interrupts. */
	for (int i = 1; i <= 30; i++) {
		st.completed += 300;
		st.q[0].completed += 100;
		st.q[1].completed += 200;
		st.v[0].irqs += 50;
		mon_rates_update(&r, 1000000000ull + i * 100000000ull, &st, &f);
		ck_assert_msg(f.rate > 2999.0 && f.rate < 3001.0, "rate %f", f.rate);
		ck_assert(f.q_rate[0] > 999.0 && f.q_rate[0] < 1001.0);
		ck_assert(f.q_rate[1] > 1999.0 && f.q_rate[1] < 2001.0);
		ck_assert(f.v_rate[0] > 499.0 && f.v_rate[0] < 501.0);
	}
	/* Traffic stops: the rate falls to 0 once the window (about 1 s) has passed. */
	for (int i = 31; i <= 31 + MON_RATE_SAMPLES; i++)
		mon_rates_update(&r, 1000000000ull + i * 100000000ull, &st, &f);
	ck_assert(f.rate == 0);
	ck_assert(f.q_rate[1] == 0);
}
END_TEST

static Suite *monitor_fmt_suite(void)
{
	Suite *s = suite_create("monitor_fmt");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_test(tc, test_si);
	tcase_add_test(tc, test_ns);
	tcase_add_test(tc, test_classes);
	tcase_add_test(tc, test_queue_rows);
	tcase_add_test(tc, test_queue_rows_shadow);
	tcase_add_test(tc, test_vector_rows);
	tcase_add_test(tc, test_anomaly_rows);
	tcase_add_test(tc, test_wrap);
	tcase_add_test(tc, test_hist_bars);
	tcase_add_test(tc, test_verdict);
	tcase_add_test(tc, test_head);
	tcase_add_test(tc, test_rates);
	suite_add_tcase(s, tc);

	tc = tcase_create("layout");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_layout_sizes);
	tcase_add_test(tc, test_layout_every_size);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(monitor_fmt_suite());
}
