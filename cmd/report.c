// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "outfile.h"
#include "explore.h"
#include "report.h"

int report_add(struct report *r, const char *file, const struct nvr_result *res)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct report_entry *e = realloc(r->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		r->e = e;
		r->cap = cap;
	}
	memset(&r->e[r->n], 0, sizeof(r->e[r->n]));
	snprintf(r->e[r->n].file, sizeof(r->e[r->n].file), "%s", file);
	r->e[r->n].res = *res;
	r->e[r->n].replay[0] = '\0';
	if (res->interrupted)
		r->interrupted = true;
	r->n++;
	return 0;
}

void report_expect(struct report *r, const struct nvr_row *row)
{
	if (!r->n)
		return;
	for (int c = 0; c < NVR_AN_NR; c++)
		r->e[r->n - 1].expect[c] = nvr_row_expect(row, c);
}

int report_add_not_run(struct report *r, const char *file, const char *scenario,
		       const char *row, uint64_t seed)
{
	struct nvr_result *res = calloc(1, sizeof(*res));
	int ret;

	if (!res)
		return -ENOMEM;
	snprintf(res->scenario, sizeof(res->scenario), "%s", scenario);
	snprintf(res->row, sizeof(res->row), "%s", row);
	res->seed = seed;
	res->verdict = NVR_SKIP;
	snprintf(res->reason, sizeof(res->reason), "not run: the run was interrupted first");
	ret = report_add(r, file, res);
	if (!ret)
		r->e[r->n - 1].not_run = true;
	free(res);
	return ret;
}

bool report_path_ok(const char *path, const char *what)
{
	char msg[256];

	if (!path || !outfile_check(path, msg, sizeof(msg)))
		return true;
	fprintf(stderr, "nvmerace: cannot write the %s report to '%s': %s\n", what, path, msg);
	return false;
}

void report_release(struct report *r)
{
	free(r->e);
	free(r->argv);
	memset(r, 0, sizeof(*r));
}

static void fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 10000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else
		snprintf(buf, len, "%.1fms", (double)ns / 1e6);
}

static uint64_t total_anomalies(const struct nvr_result *res)
{
	uint64_t n = 0;

	for (int c = 0; c < NVR_AN_NR; c++)
		n += res->stats.anomalies[c];
	return n;
}

static void full_name(char *buf, size_t len, const struct nvr_result *res)
{
	if (res->row[0])
		snprintf(buf, len, "%s/%s", res->scenario, res->row);
	else
		snprintf(buf, len, "%s", res->scenario);
}

/* Interrupts the handlers read, every vector together. */
static uint64_t interrupts(const struct nvr_result *res)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < res->stats.nr_vectors; i++)
		n += res->stats.v[i].irqs;
	return n;
}

void report_line(FILE *f, const struct report_entry *e)
{
	const struct nvr_result *res = &e->res;
	char name[128], p50[16], p99[16];

	full_name(name, sizeof(name), res);
	fmt_ns(p50, sizeof(p50), res->stats.lat_p50_ns);
	fmt_ns(p99, sizeof(p99), res->stats.lat_p99_ns);
	fprintf(f, "%-5s %-40s %10" PRIu64 " cmds %6" PRIu64 " anomalies  p50 %-8s p99 %-8s %6.2fs%s\n",
		res->not_reproduced        ? "NOREP" :
		res->verdict == NVR_PASS   ? "PASS" :
		res->verdict == NVR_FAIL   ? "FAIL" :
		res->verdict == NVR_SKIP   ? "SKIP" : "ERROR",
		name, res->stats.completed, total_anomalies(res), p50, p99,
		(double)res->elapsed_ns / 1e9, res->interrupted ? "  (interrupted)" : "");
	if (res->not_reproduced)
		fprintf(f, "      %s on this device\n", res->reason);
	if (res->note[0])
		fprintf(f, "      note: %s\n", res->note);
	if (res->msix_moves)
		fprintf(f, "      msix: %" PRIu64 " moves, %" PRIu64 " interrupts, %" PRIu64
			" missed, %" PRIu64 " spurious\n", res->msix_moves, interrupts(res),
			res->stats.anomalies[NVR_AN_MISSED_IRQ],
			res->stats.anomalies[NVR_AN_SPURIOUS_IRQ]);
	/* A row that expected its bug: say what caught it, first of all. */
	if (res->verdict == NVR_PASS && res->nr_anomalies) {
		const struct nvr_anomaly *an = &res->anomalies[0];

		fprintf(f, "      caught %s at %.3f ms: %s\n", nvr_anomaly_name(an->cls),
			(double)an->t_ns / 1e6, an->detail);
	}
	if (res->unfinished)
		fprintf(f, "      stopped early: %" PRIu64 " commands left outstanding, not judged\n",
			res->unfinished);
}

void report_replay(const struct report_entry *e, const char *argv0, char *buf, size_t len)
{
	char name[128];

	if (e->replay[0]) {
		snprintf(buf, len, "%s", e->replay);
		return;
	}
	if (!e->not_run) {
		snprintf(buf, len, "none: this row cannot be replayed");
		return;
	}
	full_name(name, sizeof(name), &e->res);
	snprintf(buf, len, "%s run --seed %" PRIu64 " --only '%s' %s", argv0, e->res.seed, name,
		 e->file);
}

void report_failures(FILE *f, const struct report *r, const char *argv0)
{
	bool early = false;

	for (size_t i = 0; i < r->n; i++) {
		const struct nvr_result *res = &r->e[i].res;
		char name[128], replay[1024];

		early |= res->unfinished != 0;
		if (res->verdict == NVR_PASS || r->e[i].not_run)
			continue;
		full_name(name, sizeof(name), res);
		fprintf(f, "\n%s %s (%s)\n", nvr_verdict_name(res->verdict), name, r->e[i].file);
		if (res->reason[0])
			fprintf(f, "  %s\n", res->reason);
		if (res->verdict == NVR_SKIP)
			continue;
		for (int c = 0; c < NVR_AN_NR; c++)
			if (res->stats.anomalies[c])
				fprintf(f, "  %-20s %" PRIu64 "\n", nvr_anomaly_name(c),
					res->stats.anomalies[c]);
		for (uint32_t a = 0; a < res->nr_anomalies && a < 8; a++) {
			const struct nvr_anomaly *an = &res->anomalies[a];

			fprintf(f, "  at %9.3f ms  %-18s", (double)an->t_ns / 1e6,
				nvr_anomaly_name(an->cls));
			if (an->qid >= 0)
				fprintf(f, " q%d", an->qid);
			if (an->cid >= 0)
				fprintf(f, " cid %d", an->cid);
			if (an->vector >= 0)
				fprintf(f, " vector %d", an->vector);
			fprintf(f, ": %s\n", an->detail);
		}
		if (res->mismatches)
			fprintf(f, "  data mismatches: %" PRIu64 "\n", res->mismatches);
		if (r->e[i].has_sched)
			explore_line(f, &r->e[i].sched);
		report_replay(&r->e[i], argv0, replay, sizeof(replay));
		fprintf(f, "  replay: %s\n", replay);
	}
	if (early)
		fprintf(f, "\n\"stopped early\": the row ended before its commands did (at its "
			"first anomaly, or\ninterrupted); those still outstanding are neither lost "
			"nor counted: not judged.\n");
}

struct totals {
	size_t clean, caught, norep, fail, skip, err, not_run, interrupted;
};

static bool caught(const struct nvr_result *res)
{
	return res->nr_anomalies || total_anomalies(res);
}

static struct totals count(const struct report *r)
{
	struct totals t = { 0 };

	for (size_t i = 0; i < r->n; i++) {
		const struct nvr_result *res = &r->e[i].res;

		t.interrupted += res->interrupted;
		if (r->e[i].not_run)
			t.not_run++;
		else if (res->not_reproduced)
			t.norep++;
		else if (res->verdict == NVR_PASS && caught(res))
			t.caught++;
		else if (res->verdict == NVR_PASS)
			t.clean++;
		else if (res->verdict == NVR_FAIL)
			t.fail++;
		else if (res->verdict == NVR_SKIP)
			t.skip++;
		else
			t.err++;
	}
	return t;
}

void report_totals(FILE *f, const struct report *r)
{
	struct totals t = count(r);

	fprintf(f, "\n%zu clean, %zu caught, %zu failed, %zu skipped, %zu errors", t.clean,
		t.caught, t.fail, t.skip, t.err);
	if (t.norep)
		fprintf(f, ", %zu not reproduced", t.norep);
	if (t.not_run)
		fprintf(f, ", %zu not run", t.not_run);
	fprintf(f, "%s\n", r->interrupted ? " (interrupted)" : "");
}

#ifndef NVR_VERSION
#define NVR_VERSION "unknown"
#endif

/* A string, or null when it is empty (not known). */
static struct json_object *str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

/* A number that may not be known: -1 (queue, cid, vector) is null. */
static struct json_object *int_or_null(int v)
{
	return v >= 0 ? json_object_new_int(v) : NULL;
}

static struct json_object *latency_json(const struct nvr_stats *st)
{
	struct json_object *o = json_object_new_object();
	bool known = st->completed != 0;

	const uint64_t ns[] = { st->lat_p50_ns, st->lat_p99_ns, st->lat_max_ns };
	const char *const key[] = { "p50", "p99", "max" };

	for (int i = 0; i < 3; i++)
		json_object_object_add(o, key[i], known ? json_object_new_double((double)ns[i] / 1e3) :
				       NULL);
	return o;
}

/* What the row expects, class by class, as a scenario file writes it; null when not known. */
static struct json_object *expect_json(const struct report_entry *e)
{
	struct json_object *o = json_object_new_object();
	bool any = false;

	for (int c = 0; c < NVR_AN_NR; c++) {
		char buf[32];

		if (e->expect[c].cmp == NVR_CMP_UNSET)
			continue;
		nvr_expect_str(&e->expect[c], buf, sizeof(buf));
		json_object_object_add(o, nvr_anomaly_name(c), json_object_new_string(buf));
		any = true;
	}
	if (!any) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *details_json(const struct nvr_result *res)
{
	struct json_object *det = json_object_new_array();

	for (uint32_t i = 0; i < res->nr_anomalies; i++) {
		const struct nvr_anomaly *a = &res->anomalies[i];
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "class", json_object_new_string(nvr_anomaly_name(a->cls)));
		json_object_object_add(d, "queue", int_or_null(a->qid));
		json_object_object_add(d, "cid", int_or_null(a->cid));
		json_object_object_add(d, "vector", int_or_null(a->vector));
		json_object_object_add(d, "t_ms", json_object_new_double((double)a->t_ns / 1e6));
		json_object_object_add(d, "submitted", json_object_new_uint64(a->submitted));
		json_object_object_add(d, "detail", json_object_new_string(a->detail));
		json_object_array_add(det, d);
	}
	return det;
}

static struct json_object *entry_json(const struct report_entry *e)
{
	const struct nvr_result *res = &e->res;
	struct json_object *o = json_object_new_object(), *an = json_object_new_object();
	char replay[1024];

	json_object_object_add(o, "name", json_object_new_string(res->scenario));
	json_object_object_add(o, "row", str_or_null(res->row));
	json_object_object_add(o, "file", json_object_new_string(e->file));
	json_object_object_add(o, "seed", json_object_new_uint64(res->seed));
	json_object_object_add(o, "verdict", json_object_new_string(
		e->not_run ? "not_run" : res->not_reproduced ? "not_reproduced" :
		nvr_verdict_name(res->verdict)));
	json_object_object_add(o, "caught", json_object_new_boolean(
		!e->not_run && res->verdict == NVR_PASS && caught(res)));
	json_object_object_add(o, "reason", str_or_null(res->reason));
	json_object_object_add(o, "note", str_or_null(res->note));
	json_object_object_add(o, "interrupted", json_object_new_boolean(res->interrupted));
	json_object_object_add(o, "expect", expect_json(e));
	report_replay(e, "nvmerace", replay, sizeof(replay));
	json_object_object_add(o, "replay", json_object_new_string(replay));
	if (e->not_run) {
		/* Nothing was measured: every count is unknown. */
		static const char *const unknown[] = { "elapsed_s", "commands", "submitted",
			"errors", "unfinished", "mismatches", "anomalies", "latency_us", "details",
			"teardown", "msix_moves" };

		for (size_t i = 0; i < NVR_ARRAY_SIZE(unknown); i++)
			json_object_object_add(o, unknown[i], NULL);
		json_object_object_add(o, "details_truncated", json_object_new_boolean(false));
		json_object_put(an);
		return o;
	}
	json_object_object_add(o, "elapsed_s", json_object_new_double((double)res->elapsed_ns / 1e9));
	json_object_object_add(o, "commands", json_object_new_uint64(res->stats.completed));
	json_object_object_add(o, "msix_moves", json_object_new_uint64(res->msix_moves));
	json_object_object_add(o, "submitted", json_object_new_uint64(res->stats.submitted));
	json_object_object_add(o, "errors", json_object_new_uint64(res->errors));
	json_object_object_add(o, "unfinished", json_object_new_uint64(res->unfinished));
	json_object_object_add(o, "mismatches", json_object_new_uint64(res->mismatches));
	for (int c = 0; c < NVR_AN_NR; c++)
		json_object_object_add(an, nvr_anomaly_name(c),
				       json_object_new_uint64(res->stats.anomalies[c]));
	json_object_object_add(o, "anomalies", an);
	json_object_object_add(o, "latency_us", latency_json(&res->stats));
	json_object_object_add(o, "details", details_json(res));
	if (e->has_sched)
		json_object_object_add(o, "sched", explore_json(&e->sched));
	/* The ledger keeps the first records only; the counts above are whole. */
	json_object_object_add(o, "details_truncated",
			       json_object_new_boolean(total_anomalies(res) > res->nr_anomalies));
	if (res->teardown.checked || res->teardown.reset) {
		struct json_object *td = json_object_new_object();

		json_object_object_add(td, "controller_enabled",
				       json_object_new_boolean(res->teardown.enabled));
		json_object_object_add(td, "dma_maps", json_object_new_int64(res->teardown.dma_maps));
		json_object_object_add(td, "vectors", json_object_new_int64(res->teardown.vectors));
		json_object_object_add(td, "reset", json_object_new_boolean(res->teardown.reset));
		json_object_object_add(o, "teardown", td);
	} else {
		json_object_object_add(o, "teardown", NULL);
	}
	return o;
}

/* "2026-01-31T12:00:00.123Z" (@zone true), or without fraction and zone for JUnit. */
static bool fmt_time(const struct timespec *ts, bool zone, char *buf, size_t len)
{
	struct tm tm;
	char sec[32];

	if (!ts->tv_sec || !gmtime_r(&ts->tv_sec, &tm))
		return false;
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	if (zone)
		snprintf(buf, len, "%s.%03ldZ", sec, ts->tv_nsec / 1000000);
	else
		snprintf(buf, len, "%s", sec);
	return true;
}

static struct json_object *head_json(const struct report *r)
{
	struct json_object *o = json_object_new_object(), *cmd = NULL, *dev, *tot;
	struct totals t = count(r);
	char when[64];

	json_object_object_add(o, "schema", json_object_new_string(REPORT_SCHEMA));
	json_object_object_add(o, "version", json_object_new_string(NVR_VERSION));
	json_object_object_add(o, "started", fmt_time(&r->start, true, when, sizeof(when)) ?
			       json_object_new_string(when) : NULL);
	if (r->argv) {
		cmd = json_object_new_array();
		json_object_array_add(cmd, json_object_new_string("nvmerace"));
		for (int i = 0; i < r->argc; i++)
			json_object_array_add(cmd, json_object_new_string(r->argv[i]));
	}
	json_object_object_add(o, "command", cmd);
	dev = json_object_new_object();
	json_object_object_add(dev, "kind", json_object_new_string(r->target ? "tcp" :
								   r->bdf ? "vfio" : "sim"));
	json_object_object_add(dev, "bdf", str_or_null(r->bdf));
	if (r->target)
		json_object_object_add(dev, "target", json_object_new_string(r->target));
	/* Not read by the run today (nvmerace identify shows them): null, unknown. */
	json_object_object_add(dev, "model", NULL);
	json_object_object_add(dev, "serial", NULL);
	json_object_object_add(dev, "firmware", NULL);
	json_object_object_add(o, "device", dev);
	json_object_object_add(o, "interrupted", json_object_new_boolean(r->interrupted));
	tot = json_object_new_object();
	json_object_object_add(tot, "rows", json_object_new_uint64(r->n));
	json_object_object_add(tot, "pass_clean", json_object_new_uint64(t.clean));
	json_object_object_add(tot, "pass_caught", json_object_new_uint64(t.caught));
	json_object_object_add(tot, "not_reproduced", json_object_new_uint64(t.norep));
	json_object_object_add(tot, "fail", json_object_new_uint64(t.fail));
	json_object_object_add(tot, "error", json_object_new_uint64(t.err));
	json_object_object_add(tot, "skip", json_object_new_uint64(t.skip));
	json_object_object_add(tot, "not_run", json_object_new_uint64(t.not_run));
	json_object_object_add(tot, "interrupted", json_object_new_uint64(t.interrupted));
	json_object_object_add(o, "totals", tot);
	return o;
}

int report_json(const struct report *r, const char *path)
{
	struct json_object *root = head_json(r), *arr = json_object_new_array();
	char *text;
	int ret;

	for (size_t i = 0; i < r->n; i++)
		json_object_array_add(arr, entry_json(&r->e[i]));
	json_object_object_add(root, "scenarios", arr);
	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
				     JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		text = NULL;
	json_object_put(root);
	if (!text)
		return -ENOMEM;
	ret = outfile_write(path, text, strlen(text));
	free(text);
	return ret;
}

/* Append @s to @buf with XML escaping. */
static void xml_put(char **buf, size_t *len, size_t *cap, const char *s)
{
	for (; *s; s++) {
		char tmp[8];
		const char *piece = tmp;

		switch (*s) {
		case '<':
			piece = "&lt;";
			break;
		case '>':
			piece = "&gt;";
			break;
		case '&':
			piece = "&amp;";
			break;
		case '"':
			piece = "&quot;";
			break;
		case '\'':
			piece = "&apos;";
			break;
		default:
			/* XML 1.0 has no place for most control characters. */
			tmp[0] = ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') ? '?' : *s;
			tmp[1] = '\0';
		}
		while (*len + strlen(piece) + 1 > *cap) {
			size_t ncap = *cap ? *cap * 2 : 4096;
			char *n = realloc(*buf, ncap);

			if (!n)
				return;
			*buf = n;
			*cap = ncap;
		}
		memcpy(*buf + *len, piece, strlen(piece) + 1);
		*len += strlen(piece);
	}
}

static void xml_raw(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void xml_raw(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	n = strlen(tmp);
	while (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		char *nb = realloc(*buf, ncap);

		if (!nb)
			return;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, tmp, n + 1);
	*len += n;
}

#define X(...) xml_raw(&x->buf, &x->len, &x->cap, __VA_ARGS__)
#define XS(str) xml_put(&x->buf, &x->len, &x->cap, str)

struct xbuf {
	char *buf;
	size_t len, cap;
};

/* How a row shows in JUnit: NULL (passed), "failure", "error" or "skipped". */
static const char *junit_tag(const struct report_entry *e)
{
	if (e->not_run || e->res.verdict == NVR_SKIP || e->res.not_reproduced)
		return "skipped";
	if (e->res.verdict == NVR_FAIL)
		return "failure";
	/* An interrupted row was not judged whole: not a pass. */
	if (e->res.verdict == NVR_ERROR || e->res.interrupted)
		return "error";
	return NULL;
}

static void junit_case(struct xbuf *x, const struct report_entry *e)
{
	const struct nvr_result *res = &e->res;
	const char *tag = junit_tag(e);
	char name[128], replay[1024], sched[512];

	full_name(name, sizeof(name), res);
	X("    <testcase classname=\"");
	XS(res->scenario);
	X("\" name=\"");
	XS(name);
	X("\" time=\"%.3f\" status=\"%s\">\n", (double)res->elapsed_ns / 1e9,
	  e->not_run ? "not_run" : nvr_verdict_name(res->verdict));
	if (tag && !strcmp(tag, "skipped")) {
		X("      <skipped message=\"");
		XS(res->reason[0] ? res->reason : "skipped");
		X("\"/>\n");
	} else if (tag) {
		X("      <%s message=\"", tag);
		if (res->verdict == NVR_PASS)
			XS("interrupted before its end: not judged");
		else
			XS(res->reason);
		X("\" type=\"%s\">", res->verdict == NVR_PASS ? "interrupted" :
		  nvr_verdict_name(res->verdict));
		for (uint32_t a = 0; a < res->nr_anomalies; a++) {
			XS(nvr_anomaly_name(res->anomalies[a].cls));
			XS(": ");
			XS(res->anomalies[a].detail);
			XS("\n");
		}
		X("</%s>\n", tag);
	}
	report_replay(e, "nvmerace", replay, sizeof(replay));
	X("      <system-out>seed %" PRIu64 "\nreplay: ", res->seed);
	XS(replay);
	if (e->has_sched) {
		explore_summary(sched, sizeof(sched), &e->sched);
		X("\n");
		XS(sched);
	}
	X("\n</system-out>\n    </testcase>\n");
}

/* One <testsuite> for the rows of one scenario file, from @from to before @to. */
static void junit_suite(struct xbuf *x, const struct report *r, size_t from, size_t to,
			size_t id, const char *host, const char *when)
{
	size_t fail = 0, err = 0, skip = 0;
	double total = 0;

	for (size_t i = from; i < to; i++) {
		const char *tag = junit_tag(&r->e[i]);

		fail += tag && !strcmp(tag, "failure");
		err += tag && !strcmp(tag, "error");
		skip += tag && !strcmp(tag, "skipped");
		total += (double)r->e[i].res.elapsed_ns / 1e9;
	}
	X("  <testsuite name=\"");
	XS(r->e[from].file);
	X("\" package=\"");
	XS(r->e[from].res.scenario);
	X("\" id=\"%zu\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
	  "disabled=\"0\" time=\"%.3f\" hostname=\"", id, to - from, fail, err, skip, total);
	XS(host);
	X("\"");
	if (when[0])
		X(" timestamp=\"%s\"", when);
	X(">\n    <properties>\n      <property name=\"file\" value=\"");
	XS(r->e[from].file);
	X("\"/>\n      <property name=\"device\" value=\"");
	XS(r->target ? r->target : r->bdf ? r->bdf : "sim");
	X("\"/>\n      <property name=\"version\" value=\"%s\"/>\n", NVR_VERSION);
	/* explore --shard K/N: the part of the exploration this report holds. */
	if (r->e[from].has_sched && r->e[from].sched.shard_count > 1)
		X("      <property name=\"shard\" value=\"%u/%u\"/>\n",
		  r->e[from].sched.shard_index + 1, r->e[from].sched.shard_count);
	X("    </properties>\n");
	for (size_t i = from; i < to; i++)
		junit_case(x, &r->e[i]);
	X("  </testsuite>\n");
}

int report_junit(const struct report *r, const char *path)
{
	struct xbuf xb = { 0 }, *x = &xb;
	size_t fail = 0, err = 0, id = 0;
	char host[256] = "localhost", when[64] = "";
	double total = 0;
	int ret;

	if (gethostname(host, sizeof(host)) || !host[0])
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (!fmt_time(&r->start, false, when, sizeof(when)))
		when[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		const char *tag = junit_tag(&r->e[i]);

		fail += tag && !strcmp(tag, "failure");
		err += tag && !strcmp(tag, "error");
		total += (double)r->e[i].res.elapsed_ns / 1e9;
	}
	X("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	/* junit-10.xsd (Jenkins) has no "skipped" here: each <testsuite> counts its own. */
	X("<testsuites name=\"nvmerace\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
	  "disabled=\"0\" time=\"%.3f\">\n", r->n, fail, err, total);
	for (size_t from = 0, to; from < r->n; from = to) {
		for (to = from + 1; to < r->n && !strcmp(r->e[to].file, r->e[from].file); to++)
			;
		junit_suite(x, r, from, to, id++, host, when);
	}
	X("</testsuites>\n");
	ret = xb.buf ? outfile_write(path, xb.buf, xb.len) : -ENOMEM;
	free(xb.buf);
	return ret;
}
