// SPDX-License-Identifier: MIT
/*
 * The ledger. Data-path hooks touch only per-queue atomics; everything that
 * needs a lock (attaching queues, keeping anomaly records, snapshots) is off
 * the data path.
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
#include "host/queue_hook.h"

static const char *const an_names[NVR_AN_NR] = {
	[NVR_AN_LOST] = "lost",
	[NVR_AN_DUPLICATE] = "duplicate",
	[NVR_AN_SPURIOUS] = "spurious",
	[NVR_AN_SPURIOUS_IRQ] = "spurious_irq",
	[NVR_AN_MISSED_IRQ] = "missed_irq",
	[NVR_AN_STRANDED] = "stranded",
	[NVR_AN_STALL] = "stall",
	[NVR_AN_DMA_AFTER_TEARDOWN] = "dma_after_teardown",
	[NVR_AN_CFS] = "cfs",
	[NVR_AN_DATA_MISMATCH] = "data_mismatch",
	[NVR_AN_BAD_SQHD] = "bad_sqhd",
	[NVR_AN_UNRESPONSIVE] = "unresponsive",
};

const char *nvr_anomaly_name(enum nvr_anomaly_class c)
{
	return (unsigned int)c < NVR_AN_NR ? an_names[c] : "?";
}

int nvr_anomaly_by_name(const char *name)
{
	for (int i = 0; i < NVR_AN_NR; i++)
		if (!strcmp(name, an_names[i]))
			return i;
	return -1;
}

void nvr_ledger_opts_init(struct nvr_ledger_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ns = 1000000000ull;
	o->stall_ns = 200000000ull;
	o->missed_grace_ns = 20000000ull;
	o->keep = 256;
}

int nvr_ledger_create(const struct nvr_ledger_opts *o, struct nvr_ledger **out)
{
	struct nvr_ledger *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->o = *o;
	if (!l->o.keep)
		l->o.keep = 1;
	l->rec = calloc(l->o.keep, sizeof(*l->rec));
	if (l->o.recent)
		l->ring = calloc(l->o.recent, sizeof(*l->ring));
	if (!l->rec || (l->o.recent && !l->ring)) {
		free(l->rec);
		free(l);
		return -ENOMEM;
	}
	nvr_clock_init();
	l->t0 = nvr_clock_ns();
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

static void free_lsq(struct nvr_lsq *s)
{
	free(s->t_submit);
	free(s->submits);
	free(s->completes);
	free(s->reported);
	free(s);
}

static void free_lcq(struct nvr_lcq *c)
{
	free(c->slot_pass);
	free(c);
}

void nvr_ledger_destroy(struct nvr_ledger *l)
{
	if (!l)
		return;
	for (uint32_t i = 0; i < l->nr; i++) {
		if (l->sqs[i]->live) {
			nvr_sq_set_ledger(l->sqs[i]->sq, NULL);
			nvr_cq_set_ledger(l->cqs[i]->cq, NULL);
		}
		free_lsq(l->sqs[i]);
		free_lcq(l->cqs[i]);
	}
	pthread_mutex_destroy(&l->lock);
	free(l->rec);
	free(l->ring);
	free(l);
}

void nvr_ledger_record(struct nvr_ledger *l, struct nvr_lsq *s, enum nvr_anomaly_class cls,
		       int cid, int vector, const char *fmt, ...)
{
	struct nvr_anomaly *a;
	va_list ap;

	atomic_fetch_add(&l->an[cls], 1);
	if (s)
		atomic_fetch_add(&s->an[cls], 1);
	pthread_mutex_lock(&l->lock);
	/* The ring, when there is one, has the newest; the first keep records stay. */
	a = l->ring ? &l->ring[l->nr_seen % l->o.recent] :
	    l->nr_rec < l->o.keep ? &l->rec[l->nr_rec] : NULL;
	l->nr_seen++;
	if (a) {
		a->cls = cls;
		a->qid = s ? s->qid : -1;
		a->cid = cid;
		a->vector = vector;
		a->t_ns = nvr_clock_ns() - l->t0;
		a->submitted = 0;
		for (uint32_t i = 0; i < l->nr; i++)
			a->submitted += atomic_load_explicit(&l->sqs[i]->submitted,
							     memory_order_relaxed);
		va_start(ap, fmt);
		vsnprintf(a->detail, sizeof(a->detail), fmt, ap);
		va_end(ap);
		if (l->nr_rec < l->o.keep) {
			if (a != &l->rec[l->nr_rec])
				l->rec[l->nr_rec] = *a;
			l->nr_rec++;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

void nvr_ledger_report(struct nvr_ledger *l, enum nvr_anomaly_class cls, int qid, int cid,
		       int vector, const char *fmt, ...)
{
	struct nvr_lsq *s = NULL;
	char buf[sizeof(((struct nvr_anomaly *)0)->detail)];
	va_list ap;

	for (uint32_t i = 0; i < l->nr; i++)
		if (l->sqs[i]->qid == qid && l->sqs[i]->live)
			s = l->sqs[i];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nvr_ledger_record(l, s, cls, cid, vector, "%s", buf);
}

int nvr_ledger_attach(struct nvr_ledger *l, struct nvr_sq *sq, struct nvr_cq *cq)
{
	struct nvr_lsq *s = calloc(1, sizeof(*s));
	struct nvr_lcq *c = calloc(1, sizeof(*c));
	struct nvr_sq_state sqs;
	struct nvr_cq_state cqs;
	int ret = -ENOMEM;

	if (!s || !c)
		goto err;
	nvr_sq_get_state(sq, &sqs);
	nvr_cq_get_state(cq, &cqs);
	s->t_submit = calloc(sqs.cids, sizeof(*s->t_submit));
	s->submits = calloc(sqs.cids, sizeof(*s->submits));
	s->completes = calloc(sqs.cids, sizeof(*s->completes));
	s->reported = calloc(sqs.cids, sizeof(*s->reported));
	c->slot_pass = calloc(cqs.depth, sizeof(*c->slot_pass));
	if (!s->t_submit || !s->submits || !s->completes || !s->reported || !c->slot_pass)
		goto err;
	s->l = c->l = l;
	s->sq = sq;
	s->lcq = c;
	s->qid = sqs.qid;
	s->depth = sqs.depth;
	s->cids = sqs.cids;
	s->live = true;
	atomic_init(&s->last_progress_ns, nvr_clock_ns());
	c->cq = cq;
	c->lsq = s;
	c->qid = cqs.qid;
	c->depth = cqs.depth;
	c->vector = cqs.vector;

	pthread_mutex_lock(&l->lock);
	if (l->nr == NVR_STATS_MAX_Q || (cqs.vector >= NVR_STATS_MAX_V)) {
		pthread_mutex_unlock(&l->lock);
		ret = -ENOSPC;
		goto err;
	}
	l->sqs[l->nr] = s;
	l->cqs[l->nr] = c;
	l->nr++;
	if (cqs.vector >= 0) {
		l->vec[cqs.vector].used = true;
		atomic_fetch_add_explicit(&l->vec[cqs.vector].depth, cqs.depth,
					  memory_order_relaxed);
	}
	pthread_mutex_unlock(&l->lock);
	nvr_sq_set_ledger(sq, s);
	nvr_cq_set_ledger(cq, c);
	return 0;
err:
	if (s)
		free_lsq(s);
	if (c)
		free_lcq(c);
	return ret;
}

void nvr_ledger_detach(struct nvr_ledger *l, struct nvr_sq *sq, struct nvr_cq *cq)
{
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr; i++)
		if (l->sqs[i]->sq == sq && l->sqs[i]->live)
			l->sqs[i]->live = false;
	pthread_mutex_unlock(&l->lock);
	nvr_sq_set_ledger(sq, NULL);
	nvr_cq_set_ledger(cq, NULL);
}

