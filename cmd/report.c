// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

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
	snprintf(r->e[r->n].file, sizeof(r->e[r->n].file), "%s", file);
	r->e[r->n].res = *res;
	if (res->interrupted)
		r->interrupted = true;
	r->n++;
	return 0;
}

void report_release(struct report *r)
{
	free(r->e);
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

void report_line(FILE *f, const struct report_entry *e)
{
	const struct nvr_result *res = &e->res;
	char name[128], p50[16], p99[16];

	full_name(name, sizeof(name), res);
	fmt_ns(p50, sizeof(p50), res->stats.lat_p50_ns);
	fmt_ns(p99, sizeof(p99), res->stats.lat_p99_ns);
	fprintf(f, "%-5s %-40s %10" PRIu64 " cmds %6" PRIu64 " anomalies  p50 %-8s p99 %-8s %6.2fs%s\n",
		res->verdict == NVR_PASS   ? "PASS" :
		res->verdict == NVR_FAIL   ? "FAIL" :
		res->verdict == NVR_SKIP   ? "SKIP" : "ERROR",
		name, res->stats.completed, total_anomalies(res), p50, p99,
		(double)res->elapsed_ns / 1e9, res->interrupted ? "  (interrupted)" : "");
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

void report_failures(FILE *f, const struct report *r, const char *argv0)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct nvr_result *res = &r->e[i].res;
		char name[128];

		if (res->verdict == NVR_PASS)
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
		if (r->e[i].has_sched) {
			const struct nvr_explore_result *x = &r->e[i].sched;

			explore_line(f, x);
			if (r->e[i].schedule_file[0])
				fprintf(f, "  replay: %s run --schedule %s --only '%s' %s\n", argv0,
					r->e[i].schedule_file, name, r->e[i].file);
			else
				fprintf(f, "  replay: %s explore --strategy %s --seed %" PRIu64
					" --bound %d --only '%s' %s  (schedule %s)\n", argv0,
					nvr_explore_strategy_name(x->strategy), res->seed, x->bound,
					name, r->e[i].file, x->id);
			continue;
		}
		fprintf(f, "  replay: %s run --seed %" PRIu64 " --only '%s' %s\n", argv0, res->seed,
			name, r->e[i].file);
	}
}

void report_totals(FILE *f, const struct report *r)
{
	size_t pass = 0, fail = 0, skip = 0, err = 0;

	for (size_t i = 0; i < r->n; i++) {
		switch (r->e[i].res.verdict) {
		case NVR_PASS:
			pass++;
			break;
		case NVR_FAIL:
			fail++;
			break;
		case NVR_SKIP:
			skip++;
			break;
		default:
			err++;
			break;
		}
	}
	fprintf(f, "\n%zu passed, %zu failed, %zu skipped, %zu errors%s\n", pass, fail, skip, err,
		r->interrupted ? " (interrupted)" : "");
}

static struct json_object *latency_json(const struct nvr_stats *st)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "p50", json_object_new_double((double)st->lat_p50_ns / 1e3));
	json_object_object_add(o, "p99", json_object_new_double((double)st->lat_p99_ns / 1e3));
	json_object_object_add(o, "max", json_object_new_double((double)st->lat_max_ns / 1e3));
	return o;
}

static struct json_object *entry_json(const struct report_entry *e)
{
	const struct nvr_result *res = &e->res;
	struct json_object *o = json_object_new_object(), *an = json_object_new_object();
	struct json_object *det = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(res->scenario));
	json_object_object_add(o, "row", json_object_new_string(res->row));
	json_object_object_add(o, "file", json_object_new_string(e->file));
	json_object_object_add(o, "seed", json_object_new_uint64(res->seed));
	json_object_object_add(o, "verdict", json_object_new_string(nvr_verdict_name(res->verdict)));
	json_object_object_add(o, "reason", json_object_new_string(res->reason));
	json_object_object_add(o, "interrupted", json_object_new_boolean(res->interrupted));
	json_object_object_add(o, "elapsed_s", json_object_new_double((double)res->elapsed_ns / 1e9));
	json_object_object_add(o, "commands", json_object_new_uint64(res->stats.completed));
	json_object_object_add(o, "submitted", json_object_new_uint64(res->stats.submitted));
	json_object_object_add(o, "errors", json_object_new_uint64(res->errors));
	json_object_object_add(o, "unfinished", json_object_new_uint64(res->unfinished));
	for (int c = 0; c < NVR_AN_NR; c++)
		json_object_object_add(an, nvr_anomaly_name(c),
				       json_object_new_uint64(res->stats.anomalies[c]));
	json_object_object_add(o, "anomalies", an);
	json_object_object_add(o, "latency_us", latency_json(&res->stats));
	for (uint32_t i = 0; i < res->nr_anomalies; i++) {
		const struct nvr_anomaly *a = &res->anomalies[i];
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "class", json_object_new_string(nvr_anomaly_name(a->cls)));
		json_object_object_add(d, "queue", json_object_new_int(a->qid));
		json_object_object_add(d, "cid", json_object_new_int(a->cid));
		json_object_object_add(d, "vector", json_object_new_int(a->vector));
		json_object_object_add(d, "t_ms", json_object_new_double((double)a->t_ns / 1e6));
		json_object_object_add(d, "submitted", json_object_new_uint64(a->submitted));
		json_object_object_add(d, "detail", json_object_new_string(a->detail));
		json_object_array_add(det, d);
	}
	json_object_object_add(o, "details", det);
	if (e->has_sched) {
		struct json_object *s = json_object_new_object();
		char h[20];

		snprintf(h, sizeof(h), "%016" PRIx64, e->sched.trace_hash);
		json_object_object_add(s, "mode", json_object_new_string("model"));
		json_object_object_add(s, "strategy", json_object_new_string(
			nvr_explore_strategy_name(e->sched.strategy)));
		json_object_object_add(s, "seed", json_object_new_uint64(e->sched.seed));
		json_object_object_add(s, "bound", json_object_new_int(e->sched.bound));
		json_object_object_add(s, "schedules", json_object_new_uint64(e->sched.schedules));
		json_object_object_add(s, "complete", json_object_new_boolean(e->sched.complete));
		json_object_object_add(s, "trace_hash", json_object_new_string(h));
		json_object_object_add(s, "id", json_object_new_string(e->sched.id));
		json_object_object_add(s, "found", json_object_new_boolean(e->sched.found));
		json_object_object_add(s, "virtual_ms",
				       json_object_new_double((double)e->sched.vtime_ns / 1e6));
		json_object_object_add(o, "sched", s);
	}
	if (res->teardown.checked || res->teardown.reset) {
		struct json_object *td = json_object_new_object();

		json_object_object_add(td, "controller_enabled",
				       json_object_new_boolean(res->teardown.enabled));
		json_object_object_add(td, "dma_maps", json_object_new_int64(res->teardown.dma_maps));
		json_object_object_add(td, "vectors", json_object_new_int64(res->teardown.vectors));
		json_object_object_add(td, "reset", json_object_new_boolean(res->teardown.reset));
		json_object_object_add(o, "teardown", td);
	}
	return o;
}

/* Write @text to @path through a temporary file, so a reader never sees half of it. */
static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;
	int ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	if (fputs(text, f) < 0)
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		remove(tmp);
	return ret;
}

int report_json(const struct report *r, const char *path)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char *text;
	int ret;

	for (size_t i = 0; i < r->n; i++)
		json_object_array_add(arr, entry_json(&r->e[i]));
	json_object_object_add(root, "scenarios", arr);
	json_object_object_add(root, "interrupted", json_object_new_boolean(r->interrupted));
	text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	if (!text)
		return -ENOMEM;
	ret = write_file(path, text);
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

int report_junit(const struct report *r, const char *path)
{
	size_t fail = 0, err = 0, skip = 0, len = 0, cap = 0;
	double total = 0;
	char *buf = NULL;
	int ret;

	for (size_t i = 0; i < r->n; i++) {
		fail += r->e[i].res.verdict == NVR_FAIL;
		err += r->e[i].res.verdict == NVR_ERROR;
		skip += r->e[i].res.verdict == NVR_SKIP;
		total += (double)r->e[i].res.elapsed_ns / 1e9;
	}
	xml_raw(&buf, &len, &cap, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	xml_raw(&buf, &len, &cap,
		"<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
		r->n, fail, err, skip, total);
	xml_raw(&buf, &len, &cap,
		"  <testsuite name=\"nvmerace\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
		r->n, fail, err, skip, total);
	for (size_t i = 0; i < r->n; i++) {
		const struct nvr_result *res = &r->e[i].res;
		char name[128];

		full_name(name, sizeof(name), res);
		xml_raw(&buf, &len, &cap, "    <testcase classname=\"");
		xml_put(&buf, &len, &cap, res->scenario);
		xml_raw(&buf, &len, &cap, "\" name=\"");
		xml_put(&buf, &len, &cap, name);
		xml_raw(&buf, &len, &cap, "\" time=\"%.3f\">\n", (double)res->elapsed_ns / 1e9);
		if (res->verdict != NVR_PASS) {
			const char *tag = res->verdict == NVR_FAIL ? "failure" :
					  res->verdict == NVR_SKIP ? "skipped" : "error";

			xml_raw(&buf, &len, &cap, "      <%s message=\"", tag);
			xml_put(&buf, &len, &cap, res->reason);
			xml_raw(&buf, &len, &cap, "\">");
			for (uint32_t a = 0; a < res->nr_anomalies; a++) {
				xml_put(&buf, &len, &cap, nvr_anomaly_name(res->anomalies[a].cls));
				xml_put(&buf, &len, &cap, ": ");
				xml_put(&buf, &len, &cap, res->anomalies[a].detail);
				xml_put(&buf, &len, &cap, "\n");
			}
			xml_raw(&buf, &len, &cap, "seed %" PRIu64 "</%s>\n", res->seed, tag);
		}
		xml_raw(&buf, &len, &cap, "    </testcase>\n");
	}
	xml_raw(&buf, &len, &cap, "  </testsuite>\n</testsuites>\n");
	ret = buf ? write_file(path, buf) : -ENOMEM;
	free(buf);
	return ret;
}
