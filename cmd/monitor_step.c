// SPDX-License-Identifier: MIT
/* nvmerace monitor --schedule: the keys, the pane as text, batch mode (no curses). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "monitor_fmt.h"
#include "monitor_step.h"

const char step_help[] =
	"keys: n step  s next that matters  a first anomaly  e end  b back  "
	"p back to one that matters  g start  q quit";

void step_view_init(struct step_view *v, struct nvr_stepper *st, const char *name,
		    const char *schedule)
{
	memset(v, 0, sizeof(*v));
	v->st = st;
	v->name = name;
	v->schedule = schedule;
	v->total = nvr_stepper_total(st);
	v->first = nvr_stepper_first_anomaly(st);
}

bool step_key(struct step_view *v, int ch)
{
	uint64_t to = v->pos;

	v->note[0] = '\0';
	switch (ch) {
	case 'n':
		to = nvr_stepper_next(v->st, v->pos, false);
		break;
	case 's':
		to = nvr_stepper_next(v->st, v->pos, true);
		break;
	case 'a':
		if (v->first == UINT64_MAX)
			snprintf(v->note, sizeof(v->note), "no anomaly in this schedule");
		else
			to = v->first;
		break;
	case 'e':
		to = v->total;
		break;
	case 'b':
		to = nvr_stepper_prev(v->st, v->pos, false);
		break;
	case 'p':
		to = nvr_stepper_prev(v->st, v->pos, true);
		break;
	case 'g':
		to = 0;
		break;
	case '?':
		snprintf(v->note, sizeof(v->note), "%s", step_help);
		return true;
	case 'q':
		return false;
	default:
		snprintf(v->note, sizeof(v->note), "no key '%c' (%s)", ch, STEP_KEYS);
		return false;
	}
	if (to == v->pos && !v->note[0])
		snprintf(v->note, sizeof(v->note), "%s", v->pos ? "at the end" : "at the start");
	v->pos = to;
	return true;
}

static void queue_lines(FILE *f, const struct nvr_stats *st)
{
	fprintf(f, "%4s %5s %4s %5s %5s %5s %2s %5s %5s %5s %5s %6s %6s  %s\n", "Q", "depth",
		"out", "SQtl", "SQhd", "CQhd", "ph", "SQsh", "SQei", "CQsh", "CQei", "mmio", "skip",
		"anomalies");
	for (uint32_t i = 0; i < st->nr_queues; i++) {
		const struct nvr_queue_stats *q = &st->q[i];
		char an[160], sh[4][8];
		const struct nvr_shadow_stats *d[2] = { &q->sq_db, &q->cq_db };

		for (int k = 0; k < 2; k++) {
			bool on = d[k]->on && q->live;

			snprintf(sh[2 * k], sizeof(sh[0]), on ? "%u" : "-", d[k]->shadow);
			snprintf(sh[2 * k + 1], sizeof(sh[0]), on ? "%u" : "-", d[k]->eventidx);
		}
		mon_fmt_classes(an, sizeof(an), q->anomalies);
		if (!q->live) {
			fprintf(f, "%4u %5u %4" PRIu64 "  gone%*s%s\n", q->qid, q->depth,
				q->outstanding, 59, "", an);
			continue;
		}
		fprintf(f, "%4u %5u %4" PRIu64 " %5u %5u %5u %2u %5s %5s %5s %5s %6" PRIu64
			   " %6" PRIu64 "  %s\n",
			q->qid, q->depth, q->outstanding, q->sq_tail, q->sq_head, q->cq_head,
			q->cq_phase, sh[0], sh[1], sh[2], sh[3], q->sq_db.mmio, q->sq_db.skipped, an);
	}
}

static void vector_lines(FILE *f, const struct nvr_stats *st)
{
	for (uint32_t i = 0; i < st->nr_vectors; i++) {
		const struct nvr_vector_stats *v = &st->v[i];

		fprintf(f, "  vector %u: irqs %" PRIu64 ", handled %" PRIu64 ", spurious %" PRIu64
			   ", missed %" PRIu64 ", stranded %" PRIu64,
			v->vector, v->irqs, v->handled, v->spurious, v->missed, v->stranded);
		if (v->have_truth)
			fprintf(f, "; device: raised %" PRIu64 ", delivered %" PRIu64 "%s%s",
				v->dev_raised, v->dev_delivered, v->dev_masked ? ", masked" : "",
				v->dev_pending ? ", pending" : "");
		fputc('\n', f);
	}
}

void step_pane(FILE *f, const struct step_view *v, const struct nvr_step_state *s)
{
	char an[256], first[64] = "none";

	if (v->first != UINT64_MAX)
		snprintf(first, sizeof(first), "at step %" PRIu64 "%s", v->first,
			 v->pos >= v->first ? "" : " (ahead)");
	fprintf(f, "%s  schedule %s (id %s)\n", v->name, v->schedule, nvr_stepper_id(v->st));
	fprintf(f, "step %" PRIu64 "/%" PRIu64 "  virtual time %" PRIu64 ".%09" PRIu64
		   " s  first anomaly %s\n",
		v->pos, v->total, s->vtime_ns / 1000000000u, s->vtime_ns % 1000000000u, first);
	fprintf(f, "-- timeline (> the step that led here) --\n");
	if (v->pos)
		nvr_stepper_timeline(v->st, f, v->pos, STEP_BEFORE, STEP_AFTER);
	else
		fprintf(f, "  (no step taken yet)\n");
	fprintf(f, "-- store buffers (stores not yet in memory, oldest first) --\n");
	for (int i = 0; i < s->nr_actors; i++) {
		fprintf(f, "  %-12s", s->actor[i]);
		if (!s->sb_n[i])
			fprintf(f, " empty");
		for (unsigned int k = 0; k < s->sb_n[i]; k++)
			fprintf(f, " %s", s->sb[i][k]);
		fputc('\n', f);
	}
	fprintf(f, "-- queues (memory: what the other side reads) --\n");
	if (!s->ledger)
		fprintf(f, "  (no queues: %s)\n", s->ended ? "the row has ended" : "before set-up");
	else if (s->busy)
		fprintf(f, "  (an actor is stopped inside the ledger: step on)\n");
	else
		queue_lines(f, &s->st);
	if (s->ledger && !s->busy) {
		vector_lines(f, &s->st);
		mon_fmt_classes(an, sizeof(an), s->st.anomalies);
		fprintf(f, "-- ledger --\n  submitted %" PRIu64 ", completed %" PRIu64
			   ", anomalies: %s\n",
			s->st.submitted, s->st.completed, an);
		if (s->have_first) {
			mon_anomaly_row(an, sizeof(an), &s->first);
			fprintf(f, "  first anomaly: %s\n", an);
		}
	}
	if (v->note[0])
		fprintf(f, "(%s)\n", v->note);
	if (v->pos == v->total)
		step_verdict(v, f);
}

int step_verdict(const struct step_view *v, FILE *f)
{
	uint64_t hash = 0;
	const struct nvr_result *r = nvr_stepper_result(v->st, &hash);

	if (f)
		fprintf(f, "verdict: %s%s%s (trace %016" PRIx64 ")\n",
			nvr_verdict_name(r->verdict), r->reason[0] ? ": " : "", r->reason, hash);
	switch (r->verdict) {
	case NVR_PASS:
	case NVR_SKIP:
		return EXIT_OK;
	case NVR_FAIL:
		return EXIT_FAILED;
	default:
		return EXIT_ENV;
	}
}

int step_batch(struct step_view *v, const char *keys, FILE *f)
{
	size_t n = strlen(keys) + 1;
	uint64_t *pos = calloc(n, sizeof(*pos));
	struct nvr_step_state *s = calloc(n, sizeof(*s));
	char (*note)[sizeof(v->note)] = calloc(n, sizeof(*note));
	int ret;

	if (!pos || !s || !note) {
		ret = -ENOMEM;
		goto out;
	}
	pos[0] = v->pos;
	for (size_t i = 1; i < n; i++) {
		if (keys[i - 1] == 'q') {
			n = i;	/* the keys after it are not pressed */
			break;
		}
		if (!step_key(v, keys[i - 1])) {
			fprintf(stderr, "nvmerace: --keys: %s\n", v->note);
			ret = -EINVAL;
			goto out;
		}
		pos[i] = v->pos;
		memcpy(note[i], v->note, sizeof(note[i]));
	}
	ret = nvr_stepper_states(v->st, pos, n, s);
	if (ret)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (i)
			fprintf(f, "==== key '%c' ====\n", keys[i - 1]);
		else
			fprintf(f, "==== start ====\n");
		v->pos = pos[i];
		memcpy(v->note, note[i], sizeof(v->note));
		step_pane(f, v, &s[i]);
	}
out:
	free(pos);
	free(s);
	free(note);
	if (ret == -EINVAL)
		return EXIT_USAGE;
	if (ret) {
		fprintf(stderr, "nvmerace: cannot step through the schedule: %s\n",
			ret == -EPROTO ? "the replay gave another trace" : strerror(-ret));
		return EXIT_ENV;
	}
	/* The last pane ends with the verdict when it is the end; else it comes last. */
	return step_verdict(v, v->pos == v->total ? NULL : f);
}
