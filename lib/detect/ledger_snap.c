// SPDX-License-Identifier: MIT
/*
 * Reading the ledger while it runs: the snapshot for the monitor and the
 * reports (queues read through their state accessors), totals, latencies,
 * the anomaly records.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/wire.h>

#include "base/clock.h"
#include "base/util.h"
#include "detect/ledger.h"
#include "detect/ledger_int.h"
#include "dev/truth.h"

/* A doorbell's shadow slot and EventIdx, as the host and the device last wrote them. */
static void snap_shadow(const struct nvr_db_state *db, struct nvr_shadow_stats *o)
{
	if (!db->on)
		return;
	o->on = true;
	o->shadow = (uint16_t)db->shadow;
	o->eventidx = (uint16_t)db->eventidx;
	o->mmio = db->mmio;
	o->skipped = db->skipped;
}

void nvr_ledger_snapshot(struct nvr_ledger *l, struct nvr_stats *st)
{
	struct nvr_hist all;

	memset(st, 0, sizeof(*st));
	memset(&all, 0, sizeof(all));
	st->elapsed_ns = nvr_clock_ns() - l->t0;
	for (int c = 0; c < NVR_AN_NR; c++)
		st->anomalies[c] = atomic_load(&l->an[c]);
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr; i++) {
		struct nvr_lsq *s = l->sqs[i];
		struct nvr_lcq *c = l->cqs[i];
		struct nvr_queue_stats *q = &st->q[st->nr_queues++];

		q->qid = s->qid;
		q->depth = s->depth;
		q->vector = c->vector;
		q->live = s->live;
		q->submitted = atomic_load(&s->submitted);
		q->completed = atomic_load(&s->lat.count);
		q->outstanding = q->submitted - q->completed;
		for (int r = 0; r < NVR_REAP_NR; r++)
			q->reaped_by[r] = atomic_load(&c->by[r]);
		for (int a = 0; a < NVR_AN_NR; a++)
			q->anomalies[a] = atomic_load(&s->an[a]);
		if (s->live) {
			struct nvr_sq_state sqs;
			struct nvr_cq_state cqs;

			nvr_sq_get_state(s->sq, &sqs);
			nvr_cq_get_state(c->cq, &cqs);
			q->sq_tail = sqs.tail_rung;
			q->sq_head = sqs.head;
			q->cq_head = cqs.head;
			q->cq_phase = cqs.phase;
			snap_shadow(&sqs.db, &q->sq_db);
			snap_shadow(&cqs.db, &q->cq_db);
		}
		q->lat_p50_ns = nvr_hist_quantile(&s->lat, 0.5);
		q->lat_p99_ns = nvr_hist_quantile(&s->lat, 0.99);
		q->lat_max_ns = atomic_load(&s->lat.max);
		st->submitted += q->submitted;
		st->completed += q->completed;
		nvr_hist_merge(&all, &s->lat);
	}
	pthread_mutex_unlock(&l->lock);
	st->lat_p50_ns = nvr_hist_quantile(&all, 0.5);
	st->lat_p99_ns = nvr_hist_quantile(&all, 0.99);
	st->lat_max_ns = atomic_load(&all.max);

	for (unsigned int vi = 0; vi < NVR_STATS_MAX_V; vi++) {
		struct lvec *v = &l->vec[vi];
		struct nvr_vector_stats *o;

		if (!atomic_load_explicit(&v->used, memory_order_relaxed))
			continue;
		o = &st->v[st->nr_vectors++];
		o->vector = (uint16_t)vi;
		o->used = true;
		o->wakes = atomic_load(&v->wakes);
		o->irqs = atomic_load(&v->irqs);
		o->handled = atomic_load(&v->handled);
		o->empty_polled = atomic_load(&v->empty_polled);
		o->empty_early = atomic_load(&v->empty_early);
		o->spurious = atomic_load(&v->spurious);
		o->missed = atomic_load(&v->missed);
		o->stranded = atomic_load(&v->stranded);
		o->triggered = atomic_load(&v->triggered);
		o->repoints = atomic_load(&v->repoints);
		o->irq_lat_p50_ns = nvr_hist_quantile(&v->lat, 0.5);
		o->irq_lat_p99_ns = nvr_hist_quantile(&v->lat, 0.99);
		if (l->o.truth) {
			struct nvr_vec_truth t;

			nvr_truth_vec(l->o.truth, (uint16_t)vi, &t);
			o->have_truth = true;
			o->dev_raised = t.raised;
			o->dev_delivered = t.delivered;
			o->dev_unjustified = t.unjustified;
			o->dev_lost = t.lost;
			o->dev_masked = t.masked;
			o->dev_pending = t.pba;
		}
	}
}

uint64_t nvr_ledger_total(struct nvr_ledger *l)
{
	uint64_t n = 0;

	for (int c = 0; c < NVR_AN_NR; c++)
		n += atomic_load_explicit(&l->an[c], memory_order_relaxed);
	return n;
}

void nvr_ledger_latency(struct nvr_ledger *l, struct nvr_hist *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr; i++)
		nvr_hist_merge(out, &l->sqs[i]->lat);
	pthread_mutex_unlock(&l->lock);
}

uint32_t nvr_ledger_anomalies(struct nvr_ledger *l, struct nvr_anomaly *out, uint32_t max)
{
	uint32_t n;

	pthread_mutex_lock(&l->lock);
	n = NVR_MIN(max, l->nr_rec);
	memcpy(out, l->rec, n * sizeof(*out));
	pthread_mutex_unlock(&l->lock);
	return n;
}

uint32_t nvr_ledger_recent(struct nvr_ledger *l, struct nvr_anomaly *out, uint32_t max,
			   uint64_t *total)
{
	uint32_t n = 0;

	pthread_mutex_lock(&l->lock);
	if (total)
		*total = l->nr_seen;
	if (l->ring) {
		uint64_t have = NVR_MIN(l->nr_seen, (uint64_t)l->o.recent);

		for (; n < max && n < have; n++)
			out[n] = l->ring[(l->nr_seen - 1 - n) % l->o.recent];
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

int nvr_ledger_queue_latency(struct nvr_ledger *l, uint16_t qid, struct nvr_hist *out)
{
	struct nvr_lsq *s = NULL;

	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr; i++)
		if (l->sqs[i]->qid == qid)
			s = l->sqs[i];
	if (s) {
		/* A copy: relaxed loads, like a snapshot, off the data path. */
		for (unsigned int b = 0; b < NVR_HIST_BUCKETS; b++) {
			uint64_t n = atomic_load_explicit(&s->lat.b[b], memory_order_relaxed);

			atomic_store_explicit(&out->b[b], n, memory_order_relaxed);
		}
		atomic_store_explicit(&out->count,
				      atomic_load_explicit(&s->lat.count, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(&out->max,
				      atomic_load_explicit(&s->lat.max, memory_order_relaxed),
				      memory_order_relaxed);
	}
	pthread_mutex_unlock(&l->lock);
	return s ? 0 : -ENOENT;
}

bool nvr_ledger_idle(struct nvr_ledger *l)
{
	if (pthread_mutex_trylock(&l->lock))
		return false;
	pthread_mutex_unlock(&l->lock);
	return true;
}
