// SPDX-License-Identifier: MIT
/*
 * Schedule files and the timeline.
 *
 * A schedule file is text:
 *
 *   nvmerace-schedule 1
 *   id pct:d=2:k=14:seed=7:run=3
 *   steps 9
 *   r0 r0 f0 r1 r1 f1 r0 ...
 *
 * r<i> runs actor i's announced operation, f<i> flushes actor i's oldest
 * buffered store. Replaying follows the tokens and then the default
 * scheduler, so a shrunk schedule lists the steps up to its last deviation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/util.h>

#include "sched_int.h"

int nvr_schedule_write(const struct nvr_schedule *s, FILE *f)
{
	fprintf(f, "nvmerace-schedule 1\nid %s\nsteps %zu\n", s->id[0] ? s->id : "-", s->n);
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%c%u%c", TOK_FLUSH(s->tok[i]) ? 'f' : 'r', TOK_ACTOR(s->tok[i]),
			(i % 20 == 19 || i + 1 == s->n) ? '\n' : ' ');
	return ferror(f) ? -EIO : 0;
}

int nvr_schedule_parse(FILE *f, struct nvr_schedule *s, char *why, size_t len)
{
	char word[128], kind, extra;
	unsigned int actor, line = 1;
	size_t n = 0;
	int version, c;

	memset(s, 0, sizeof(*s));
	why[0] = '\0';
	if (fscanf(f, "nvmerace-schedule %d", &version) != 1 || version != 1) {
		snprintf(why, len, "line 1: not 'nvmerace-schedule 1' (not a schedule file?)");
		return -EINVAL;
	}
	if (fscanf(f, " id %95s", s->id) != 1) {
		snprintf(why, len, "line 2: no 'id ID' line");
		return -EINVAL;
	}
	if (fscanf(f, " steps %zu", &n) != 1 || n > (1u << 26)) {
		snprintf(why, len, "line 3: no 'steps N' line (N at most %u)", 1u << 26);
		return -EINVAL;
	}
	line = 3;
	s->tok = malloc(n ? n : 1);
	if (!s->tok)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		/* Count the lines before the next word. */
		while ((c = fgetc(f)) != EOF && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
			line += c == '\n';
		if (c != EOF)
			ungetc(c, f);
		if (fscanf(f, "%127s", word) != 1) {
			snprintf(why, len, "line %u: %zu steps, 'steps %zu' promised", line, i, n);
			goto bad;
		}
		if (sscanf(word, "%c%u%c", &kind, &actor, &extra) != 2 ||
		    (kind != 'r' && kind != 'f')) {
			snprintf(why, len, "line %u: step %zu is '%.40s', not r<actor> or f<actor>",
				 line, i + 1, word);
			goto bad;
		}
		if (actor >= NVR_SCHED_MAX_ACTORS) {
			snprintf(why, len, "line %u: step %zu names actor %u (at most %d)", line,
				 i + 1, actor, NVR_SCHED_MAX_ACTORS - 1);
			goto bad;
		}
		s->tok[i] = TOK(actor, kind == 'f');
	}
	s->n = n;
	return 0;
bad:
	nvr_schedule_release(s);
	return -EINVAL;
}

int nvr_schedule_read(FILE *f, struct nvr_schedule *s)
{
	char why[160];

	return nvr_schedule_parse(f, s, why, sizeof(why));
}

void nvr_schedule_release(struct nvr_schedule *s)
{
	free(s->tok);
	memset(s, 0, sizeof(*s));
}

void nvr_sched_obj_name(const struct nvr_sched_run *r, uint32_t obj, char *buf, size_t len)
{
	const struct nvr_sched_prog *p = r->prog;

	if (p && obj >= 1 && obj <= (uint32_t)p->nr_labels)
		snprintf(buf, len, "%s", p->labels[obj - 1].name);
	else if (obj >= 1000 && obj - 1000 < r->nr_obj_names && r->obj_names[obj - 1000][0])
		snprintf(buf, len, "%s", r->obj_names[obj - 1000]);
	else
		snprintf(buf, len, "#%" PRIu32, obj);
}

static void ev_text(const struct nvr_sched_run *r, const struct nvr_sched_event *e, char *buf,
		    size_t len)
{
	const char *mark = (e->flags & NVR_SCHED_EVF_PREEMPT) ? "^" : "";
	bool fail = e->flags & NVR_SCHED_EVF_FAIL;
	char o[32];

	nvr_sched_obj_name(r, e->obj, o, sizeof(o));
	switch (e->kind) {
	case NVR_EV_LOAD:
		snprintf(buf, len, "%sld %s=%" PRIu64 "%s", mark, o, e->value,
			 (e->flags & NVR_SCHED_EVF_FORWARD) ? " (own buf)" : "");
		break;
	case NVR_EV_STORE:
		snprintf(buf, len, "%sst %s=%" PRIu64, mark, o, e->value);
		break;
	case NVR_EV_FLUSH:
		snprintf(buf, len, "%sflush %s=%" PRIu64, mark, o, e->value);
		break;
	case NVR_EV_RMW:
		snprintf(buf, len, "%srmw %s (was %" PRIu64 ")%s", mark, o, e->value,
			 fail ? " failed" : "");
		break;
	case NVR_EV_FENCE:
		snprintf(buf, len, "%smfence", mark);
		break;
	case NVR_EV_LOCK:
		snprintf(buf, len, "%slock %s", mark, o);
		break;
	case NVR_EV_TRYLOCK:
		snprintf(buf, len, "%strylock %s %s", mark, o, fail ? "busy" : "ok");
		break;
	case NVR_EV_UNLOCK:
		snprintf(buf, len, "%sunlock %s", mark, o);
		break;
	case NVR_EV_SIGNAL:
		snprintf(buf, len, "%ssignal %s", mark, o);
		break;
	case NVR_EV_WAIT:
		if (fail)
			snprintf(buf, len, "%swait %s: timeout", mark, o);
		else
			snprintf(buf, len, "%swait %s: %" PRIu64, mark, o, e->value >> 8);
		break;
	case NVR_EV_FUTEX_WAIT:
		if (fail)
			snprintf(buf, len, "%sfutex_wait %s: timeout", mark, o);
		else
			snprintf(buf, len, "%sfutex_wait %s: %" PRIu64, mark, o, e->value);
		break;
	case NVR_EV_FUTEX_WAKE:
		snprintf(buf, len, "%sfutex_wake %s", mark, o);
		break;
	case NVR_EV_POLL:
		if (fail)
			snprintf(buf, len, "%spoll: timeout", mark);
		else
			snprintf(buf, len, "%spoll: fd %" PRIu64 " ready", mark, e->value);
		break;
	case NVR_EV_SLEEP:
		snprintf(buf, len, "%sslept", mark);
		break;
	case NVR_EV_JOIN:
		snprintf(buf, len, "%sjoin %" PRIu64, mark, e->value);
		break;
	default:
		snprintf(buf, len, "%syield", mark);
		break;
	}
	if (e->flags & NVR_SCHED_EVF_DELAY)
		strncat(buf, " ~", len - strlen(buf) - 1);
}

/*
 * The steps that matter: each end of a conflict between actors (an access to
 * an object whose previous access was another actor's, one of the two writing,
 * where writing includes locking, flushing and waking), wake-ups, preemptions,
 * delayed stores, failed try-locks and CAS, loads from the own buffer. A run of
 * one actor's accesses to an object nobody else touched meanwhile is left out.
 */
static bool writes(const struct nvr_sched_event *e)
{
	switch (e->kind) {
	case NVR_EV_STORE: case NVR_EV_FLUSH: case NVR_EV_RMW: case NVR_EV_LOCK:
	case NVR_EV_TRYLOCK: case NVR_EV_UNLOCK: case NVR_EV_SIGNAL: case NVR_EV_FUTEX_WAKE:
		return true;
	default:
		return false;
	}
}

static bool always(const struct nvr_sched_event *e)
{
	if (e->flags & (NVR_SCHED_EVF_PREEMPT | NVR_SCHED_EVF_DELAY | NVR_SCHED_EVF_FORWARD))
		return true;
	if ((e->flags & NVR_SCHED_EVF_FAIL) &&
	    (e->kind == NVR_EV_TRYLOCK || e->kind == NVR_EV_RMW))
		return true;
	switch (e->kind) {
	case NVR_EV_SIGNAL: case NVR_EV_FUTEX_WAKE:
		return true;
	case NVR_EV_WAIT: case NVR_EV_FUTEX_WAIT: case NVR_EV_POLL:
		return !(e->flags & NVR_SCHED_EVF_FAIL);
	default:
		return false;
	}
}

/* @keep[k]: event k matters. An open hash maps each object to its last access. */
int nvr_sched_matters(const struct nvr_sched_run *r, bool *keep)
{
	size_t cap = 64;
	struct { uint32_t obj; size_t last; } *h;

	while (cap < 2 * r->nev)
		cap <<= 1;
	h = calloc(cap, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t k = 0; k < r->nev; k++) {
		const struct nvr_sched_event *e = &r->ev[k], *p;
		size_t i;

		keep[k] = always(e);
		if (!e->obj || e->kind == NVR_EV_TIME || e->kind == NVR_EV_FENCE)
			continue;
		i = (e->obj * 0x9e3779b1u) & (cap - 1);
		while (h[i].obj && h[i].obj != e->obj)
			i = (i + 1) & (cap - 1);
		if (h[i].obj) {
			p = &r->ev[h[i].last];
			if (p->actor != e->actor && (writes(p) || writes(e)))
				keep[h[i].last] = keep[k] = true;
		}
		h[i].obj = e->obj;
		h[i].last = k;
	}
	free(h);
	return 0;
}

/*
 * One row per step, one column per actor; a flush is drawn in the column of
 * the actor whose store it writes. ^ marks a preemption, ~ a step taken
 * while the running actor's stores stayed buffered, and a line of dashes a
 * jump of the virtual clock.
 */
int nvr_sched_timeline_window(const struct nvr_sched_run *r, FILE *f,
			      const struct nvr_sched_window *w)
{
	enum { W = 24 };
	const bool *keep = w->keep;
	uint64_t left_out = 0;
	bool clock_shown = false;
	char buf[80];

	if (w->head) {
		fprintf(f, "  step");
		for (int i = 0; i < r->nr_actors; i++)
			fprintf(f, "  %-*s", W, r->actor_name[i]);
		fputc('\n', f);
	}
	for (size_t k = 0; k < r->nev; k++) {
		const struct nvr_sched_event *e = &r->ev[k];

		if (e->step + 1 < w->from || (w->to && e->step + 1 > w->to))
			continue;
		if (e->kind == NVR_EV_TIME) {
			/* Filtered: one clock line per run of steps left out. */
			if (keep && clock_shown && left_out)
				continue;
			fprintf(f, "  ---- clock %" PRIu64 ".%09" PRIu64 " s ----\n",
				e->value / 1000000000u, e->value % 1000000000u);
			clock_shown = true;
			continue;
		}
		if (keep && !keep[k] && e->step + 1 != w->mark) {
			left_out++;
			continue;
		}
		if (left_out)
			fprintf(f, "   ...  (%" PRIu64 " step%s left out)\n", left_out,
				left_out == 1 ? "" : "s");
		left_out = 0;
		clock_shown = false;
		ev_text(r, e, buf, sizeof(buf));
		fprintf(f, "%c%5" PRIu32, w->mark && e->step + 1 == w->mark ? '>' : ' ',
			e->step + 1);
		for (int i = 0; i < e->actor && i < r->nr_actors; i++)
			fprintf(f, "  %-*s", W, "");
		fprintf(f, "  %s\n", buf);
	}
	if (left_out)
		fprintf(f, "   ...  (%" PRIu64 " step%s left out)\n", left_out,
			left_out == 1 ? "" : "s");
	if (w->end)
		fprintf(f, "  end: %s after %" PRIu64 " steps, %u preemptions, %u delays, "
			   "trace %016" PRIx64 "\n",
			nvr_sched_status_str(r->status), r->steps, r->preemptions, r->delays,
			r->hash);
	return ferror(f) ? -EIO : 0;
}

int nvr_sched_timeline_ex(const struct nvr_sched_run *r, FILE *f, bool shared)
{
	struct nvr_sched_window w = { .head = true, .end = true };
	bool *keep = NULL;
	int ret;

	if (shared) {
		keep = calloc(r->nev ? r->nev : 1, sizeof(*keep));
		if (!keep || nvr_sched_matters(r, keep)) {
			free(keep);
			return -ENOMEM;
		}
		w.keep = keep;
	}
	ret = nvr_sched_timeline_window(r, f, &w);
	free(keep);
	return ret;
}

int nvr_sched_timeline(const struct nvr_sched_run *r, FILE *f)
{
	return nvr_sched_timeline_ex(r, f, false);
}

uint64_t nvr_sched_trace_hash(const struct nvr_sched_event *ev, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	/*
	 * Four 64-bit words per event, each mixed in with a multiply and an
	 * xor-shift: a serial chain of ~6 cycles a word where FNV-1a over the
	 * bytes took ~4 a byte (a sixth of a whole row's time, measured).
	 */
	for (size_t i = 0; i < n; i++) {
		const struct nvr_sched_event *e = &ev[i];
		uint64_t w[4] = { (uint64_t)e->step | (uint64_t)e->actor << 32 |
					  (uint64_t)e->kind << 40 | (uint64_t)e->size << 48 |
					  (uint64_t)e->flags << 56,
				  e->obj, e->value, e->time_ns };

		for (size_t j = 0; j < NVR_ARRAY_SIZE(w); j++) {
			h = (h ^ w[j]) * 0x9e3779b97f4a7c15ull;
			h ^= h >> 32;
		}
	}
	return h;
}

void nvr_sched_run_release(struct nvr_sched_run *run)
{
	free(run->ev);
	free(run->sched.tok);
	free(run->dflt);
	free(run->obj_names);
	memset(run, 0, sizeof(*run));
}

const char *nvr_sched_status_str(enum nvr_sched_status st)
{
	static const char *const s[] = { "done", "deadlock", "budget", "pruned", "diverged" };

	return (unsigned int)st < NVR_ARRAY_SIZE(s) ? s[st] : "?";
}
