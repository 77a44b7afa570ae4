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

#include "clock.h"
#include "journal.h"
#include "ledger.h"
#include "nvr_wire.h"
#include "queue.h"
#include "sim/sim.h"
#include "util.h"

struct nvr_lsq {
	struct nvr_ledger *l;
	struct nvr_sq *sq;
	struct nvr_lcq *lcq;
	uint16_t qid;
	uint16_t depth;
	bool live;
	_Atomic uint64_t *t_submit;	/* per CID */
	_Atomic uint32_t *submits;
	_Atomic uint32_t *completes;
	uint32_t *reported;	/* the submission already reported lost (tick thread only) */
	_Atomic uint64_t submitted;
	_Atomic uint64_t completed;
	_Atomic uint64_t last_progress_ns;
	bool stalled;		/* tick thread only */
	uint64_t ei_probe;	/* shadow doorbells: MMIO writes + 1 when a tick saw the
				 * device asleep behind the shadow tail; 0: not seen */
	_Atomic uint64_t an[NVR_AN_NR];
	struct nvr_hist lat;
};

struct nvr_lcq {
	struct nvr_ledger *l;
	struct nvr_cq *cq;
	struct nvr_lsq *lsq;
	uint16_t qid;
	uint16_t depth;
	int vector;
	_Atomic uint32_t *slot_pass;	/* per slot: pass + 1 of the last consumption */
	_Atomic uint64_t by[NVR_REAP_NR];
};

struct lvec {
	_Atomic bool used;
	_Atomic uint64_t wakes, irqs, handled, empty_polled, empty_early, spurious, missed,
		stranded, triggered, repoints;
	_Atomic uint64_t others;	/* CQEs of its CQs consumed by pollers and sweeps */
	_Atomic uint64_t await_since_ns;	/* polled CQEs wait for their interrupt since */
	_Atomic uint64_t unserviced_ns;	/* a handler woke and did not reap, at */
	/* The handler's own state: one handler thread per vector. */
	uint64_t others_seen;
	uint64_t polled;	/* hardware: CQEs pollers took whose interrupt may still come */
	uint64_t credits;
	uint64_t confirmed;
	uint64_t missed_confirmed;	/* tick thread only */
	uint64_t stray_seen;	/* handler only: torn messages named in reports */
	uint64_t torn_seen, masked_seen, nowhere_seen;	/* tick thread only: likewise */
	struct nvr_hist lat;
};

struct nvr_ledger {
	struct nvr_ledger_opts o;
	uint64_t t0;
	pthread_mutex_t lock;
	struct nvr_lsq *sqs[NVR_STATS_MAX_Q];
	struct nvr_lcq *cqs[NVR_STATS_MAX_Q];
	uint32_t nr;
	struct lvec vec[NVR_STATS_MAX_V];
	_Atomic uint64_t an[NVR_AN_NR];
	struct nvr_anomaly *rec;
	uint32_t nr_rec;
	struct nvr_anomaly *ring;	/* the newest o.recent records, for the monitor */
	uint64_t nr_seen;		/* records made, kept or not */
	uint64_t dma_faults_seen;
	/* Memory the host gave up, named for the DMA-after-teardown messages
	 * (under lock). */
	struct {
		uint64_t iova, len, t_ns;
		char what[96];
	} freed[8];
	uint32_t nr_freed;
};

void nvr_ledger_freed(struct nvr_ledger *l, uint64_t iova, uint64_t len, const char *what)
{
	pthread_mutex_lock(&l->lock);
	if (l->nr_freed < NVR_ARRAY_SIZE(l->freed)) {
		l->freed[l->nr_freed].iova = iova;
		l->freed[l->nr_freed].len = len;
		l->freed[l->nr_freed].t_ns = nvr_clock_ns() - l->t0;
		snprintf(l->freed[l->nr_freed].what, sizeof(l->freed[0].what), "%s", what);
		l->nr_freed++;
	}
	pthread_mutex_unlock(&l->lock);
}

/* What the host had at @iova before it freed it, or "". */
static void freed_name(struct nvr_ledger *l, uint64_t iova, char *buf, size_t len)
{
	buf[0] = '\0';
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr_freed; i++)
		if (iova >= l->freed[i].iova && iova - l->freed[i].iova < l->freed[i].len)
			snprintf(buf, len, ": %s, freed at %.3f ms", l->freed[i].what,
				 (double)l->freed[i].t_ns / 1e6);
	pthread_mutex_unlock(&l->lock);
}

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
		if (l->sqs[i]->live)
			l->sqs[i]->sq->lsq = NULL;
		if (l->sqs[i]->live)
			l->cqs[i]->cq->lcq = NULL;
		free_lsq(l->sqs[i]);
		free_lcq(l->cqs[i]);
	}
	pthread_mutex_destroy(&l->lock);
	free(l->rec);
	free(l->ring);
	free(l);
}

/* Record one anomaly; @s may be NULL. */
static void __attribute__((format(printf, 6, 7)))
report(struct nvr_ledger *l, struct nvr_lsq *s, enum nvr_anomaly_class cls, int cid, int vector,
       const char *fmt, ...)
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
	report(l, s, cls, cid, vector, "%s", buf);
}

int nvr_ledger_attach(struct nvr_ledger *l, struct nvr_sq *sq, struct nvr_cq *cq)
{
	struct nvr_lsq *s = calloc(1, sizeof(*s));
	struct nvr_lcq *c = calloc(1, sizeof(*c));
	int ret = -ENOMEM;

	if (!s || !c)
		goto err;
	s->t_submit = calloc(sq->depth, sizeof(*s->t_submit));
	s->submits = calloc(sq->depth, sizeof(*s->submits));
	s->completes = calloc(sq->depth, sizeof(*s->completes));
	s->reported = calloc(sq->depth, sizeof(*s->reported));
	c->slot_pass = calloc(cq->depth, sizeof(*c->slot_pass));
	if (!s->t_submit || !s->submits || !s->completes || !s->reported || !c->slot_pass)
		goto err;
	s->l = c->l = l;
	s->sq = sq;
	s->lcq = c;
	s->qid = sq->qid;
	s->depth = sq->depth;
	s->live = true;
	atomic_init(&s->last_progress_ns, nvr_clock_ns());
	c->cq = cq;
	c->lsq = s;
	c->qid = cq->qid;
	c->depth = cq->depth;
	c->vector = cq->vector;

	pthread_mutex_lock(&l->lock);
	if (l->nr == NVR_STATS_MAX_Q || (cq->vector >= NVR_STATS_MAX_V)) {
		pthread_mutex_unlock(&l->lock);
		ret = -ENOSPC;
		goto err;
	}
	l->sqs[l->nr] = s;
	l->cqs[l->nr] = c;
	l->nr++;
	if (cq->vector >= 0)
		l->vec[cq->vector].used = true;
	pthread_mutex_unlock(&l->lock);
	sq->lsq = s;
	cq->lcq = c;
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
	sq->lsq = NULL;
	cq->lcq = NULL;
}

void nvr_ledger_submitted(struct nvr_lsq *s, uint16_t cid)
{
	uint64_t now = nvr_clock_ns();

	atomic_store_explicit(&s->t_submit[cid], now, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->submits[cid], 1, memory_order_release);
	atomic_fetch_add_explicit(&s->submitted, 1, memory_order_relaxed);
}

bool nvr_ledger_consume(struct nvr_lcq *c, uint16_t slot, uint32_t pass, uint16_t cid,
			enum nvr_reaper who)
{
	uint32_t tag = pass + 1;
	struct lvec *v;

	/* Two reapers that both took this slot in this pass consumed one CQE twice. */
	if (unlikely(atomic_exchange_explicit(&c->slot_pass[slot], tag, memory_order_relaxed) == tag)) {
		report(c->l, c->lsq, NVR_AN_DUPLICATE, cid, c->vector,
		       "CQE at CQ %u slot %u (pass %u) consumed twice: two reapers raced on one CQ",
		       c->qid, slot, pass);
		return false;
	}
	atomic_fetch_add_explicit(&c->by[who], 1, memory_order_relaxed);
	if (who == NVR_REAP_IRQ || c->vector < 0)
		return true;

	/* A poller or a sweep took a CQE of an interrupt-driven queue. */
	v = &c->l->vec[c->vector];
	atomic_fetch_add_explicit(&v->others, 1, memory_order_relaxed);
	if (atomic_load_explicit(&v->unserviced_ns, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&v->stranded, 1, memory_order_relaxed);
		report(c->l, c->lsq, NVR_AN_STRANDED, cid, c->vector,
		       "CQE at CQ %u slot %u waited for a %s: its interrupt on vector %d came "
		       "and the handler returned without reaping it (it could not take the CQ, "
		       "or stopped at its per-wake limit)",
		       c->qid, slot, who == NVR_REAP_SWEEP ? "timeout sweep" : "poller", c->vector);
	} else if (c->l->o.sim || who == NVR_REAP_SWEEP) {
		uint64_t zero = 0;

		/*
		 * Without the device's truth, only a CQE the timeout sweep had to
		 * take is evidence: a real controller may rightly send no interrupt
		 * for CQEs a poller consumed before it raised one (QEMU's nvme
		 * checks the CQ head doorbell first).
		 */
		atomic_compare_exchange_strong(&v->await_since_ns, &zero, nvr_clock_ns());
	}
	return true;
}

void nvr_ledger_completed(struct nvr_lsq *s, struct nvr_lcq *c, uint16_t cid, enum nvr_reaper who)
{
	uint64_t now = nvr_clock_ns();

	(void)c;
	(void)who;
	nvr_hist_add(&s->lat, now - atomic_load_explicit(&s->t_submit[cid], memory_order_relaxed));
	atomic_fetch_add_explicit(&s->completes[cid], 1, memory_order_release);
	atomic_fetch_add_explicit(&s->completed, 1, memory_order_relaxed);
	atomic_store_explicit(&s->last_progress_ns, now, memory_order_relaxed);
}

void nvr_ledger_bad_cqe(struct nvr_lcq *c, struct nvr_sq *sq, const struct nvr_cqe *cqe,
			uint16_t slot)
{
	struct nvr_ledger *l = c->l;
	struct nvr_lsq *s = sq ? sq->lsq : NULL;
	uint32_t fetched = 0, posted = 0, subs, comps;

	if (!sq || !s) {
		report(l, c->lsq, NVR_AN_SPURIOUS, cqe->cid, c->vector,
		       "CQE at CQ %u slot %u names SQ %u, which does not complete into this CQ",
		       c->qid, slot, cqe->sqid);
		return;
	}
	if (cqe->cid >= s->depth) {
		report(l, s, NVR_AN_SPURIOUS, cqe->cid, c->vector,
		       "CQE at CQ %u slot %u names CID %u, beyond SQ %u's %u entries: never submitted",
		       c->qid, slot, cqe->cid, s->qid, s->depth);
		return;
	}
	subs = atomic_load(&s->submits[cqe->cid]);
	comps = atomic_load(&s->completes[cqe->cid]);
	if (l->o.sim && nvr_sim_cid_truth(l->o.sim, s->qid, cqe->cid, &fetched, &posted)) {
		/* The device's count says whether it posted more CQEs than we submitted. */
		if (posted > subs)
			report(l, s, NVR_AN_DUPLICATE, cqe->cid, c->vector,
			       "CID %u on SQ %u completed again: the device posted %u CQEs for %u "
			       "submissions (CQ %u slot %u)",
			       cqe->cid, s->qid, posted, subs, c->qid, slot);
		else
			report(l, s, NVR_AN_SPURIOUS, cqe->cid, c->vector,
			       "CQE for CID %u on SQ %u, which is not outstanding; the device did not "
			       "post it for a command (CQ %u slot %u)",
			       cqe->cid, s->qid, c->qid, slot);
		return;
	}
	/* No device truth: a CID completed and not resubmitted since is a duplicate. */
	if (subs && subs == comps)
		report(l, s, NVR_AN_DUPLICATE, cqe->cid, c->vector,
		       "CID %u on SQ %u completed twice for one submission (CQ %u slot %u)",
		       cqe->cid, s->qid, c->qid, slot);
	else
		report(l, s, NVR_AN_SPURIOUS, cqe->cid, c->vector,
		       "CQE for CID %u on SQ %u, which is not outstanding (CQ %u slot %u)", cqe->cid,
		       s->qid, c->qid, slot);
}

void nvr_ledger_bad_sqhd(struct nvr_lcq *c, const struct nvr_cqe *cqe, uint16_t slot,
			 uint16_t sq_depth)
{
	report(c->l, c->lsq, NVR_AN_BAD_SQHD, cqe->cid, c->vector,
	       "CQE at CQ %u slot %u says SQ %u's head is %u, beyond its %u entries (NVMe 1.4, "
	       "4.6); the command completed, the head was not moved",
	       c->qid, slot, cqe->sqid, cqe->sqhd, sq_depth);
}

void nvr_ledger_wrong_phase(struct nvr_lcq *c, uint16_t slot, uint16_t cid)
{
	report(c->l, c->lsq, NVR_AN_SPURIOUS, cid, c->vector,
	       "CQE at CQ %u slot %u has the phase tag of the previous pass while the next entry is "
	       "new: a wrong phase (NVMe 1.4, 4.6.1)",
	       c->qid, slot);
}

/* How many of @want candidate spurious interrupts on @v the device's truth confirms. */
static uint64_t confirm_spurious(struct nvr_ledger *l, unsigned int vector, struct lvec *v,
				 uint64_t want)
{
	struct nvr_sim_vec_truth t;
	uint64_t avail;

	if (!l->o.sim)
		return want;	/* real hardware: host evidence is all there is */
	nvr_sim_vec_truth(l->o.sim, (uint16_t)vector, &t);
	avail = t.unjustified + atomic_load(&v->triggered);
	avail = avail > v->confirmed ? avail - v->confirmed : 0;
	return NVR_MIN(want, avail);
}

void nvr_ledger_irq_wake(struct nvr_ledger *l, unsigned int vector, uint64_t count,
			 unsigned int reaped, bool serviced, uint64_t woke_ns)
{
	struct lvec *v;
	uint64_t others, new_others, deficit = 0, n = 0;

	if (vector >= NVR_STATS_MAX_V)
		return;
	v = &l->vec[vector];
	if (!atomic_load_explicit(&v->used, memory_order_relaxed))
		atomic_store_explicit(&v->used, true, memory_order_relaxed);
	atomic_fetch_add_explicit(&v->wakes, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&v->irqs, count, memory_order_relaxed);
	/* Not serviced: it could not take the CQ (reaped nothing), or stopped
	 * at its per-wake limit with CQEs left (reaped some). */
	atomic_store_explicit(&v->unserviced_ns, serviced ? 0 : nvr_clock_ns(), memory_order_relaxed);
	if (!serviced && !reaped)
		return;
	atomic_fetch_add_explicit(&v->handled, reaped, memory_order_relaxed);
	if (reaped)
		nvr_hist_add(&v->lat, nvr_clock_ns() - woke_ns);
	others = atomic_load_explicit(&v->others, memory_order_relaxed);
	new_others = others - v->others_seen;
	v->others_seen = others;
	/* Without device truth, a poller's CQE may explain an interrupt that
	 * arrives several wakes later (a handler thread scheduled late). */
	if (!l->o.sim)
		v->polled += new_others;

	/*
	 * Each interrupt must be explained by a CQE: one this wake reaped, one
	 * an earlier wake reaped before its interrupt arrived (credits), or one
	 * a poller took (benign, counted apart). On a simulator the device's
	 * truth decides first: an interrupt it sent with nothing new behind it
	 * is spurious even when a poller happened to be busy on the queue.
	 */
	if (reaped) {
		if (count > reaped + v->credits)
			deficit = count - reaped - v->credits;
		v->credits = reaped > count ? reaped - count : 0;
		if (deficit && !l->o.sim) {
			uint64_t p = NVR_MIN(deficit, v->polled);

			v->polled -= p;
			deficit -= p;
			atomic_fetch_add_explicit(&v->empty_polled, p, memory_order_relaxed);
		}
		n = deficit ? confirm_spurious(l, vector, v, deficit) : 0;
		atomic_fetch_add_explicit(&v->empty_early, deficit - n, memory_order_relaxed);
	} else {
		uint64_t rest;

		n = l->o.sim ? confirm_spurious(l, vector, v, count) : 0;
		rest = count - n;
		if (rest && new_others && l->o.sim) {
			/* The interrupt for CQEs a poller took: they were not missed. */
			atomic_fetch_add_explicit(&v->empty_polled, rest, memory_order_relaxed);
			atomic_store_explicit(&v->await_since_ns, 0, memory_order_relaxed);
		} else if (rest) {
			uint64_t early, p = l->o.sim ? 0 : NVR_MIN(rest, v->polled);

			if (p) {
				v->polled -= p;
				rest -= p;
				atomic_fetch_add_explicit(&v->empty_polled, p, memory_order_relaxed);
				atomic_store_explicit(&v->await_since_ns, 0, memory_order_relaxed);
			}
			early = NVR_MIN(rest, v->credits);

			v->credits -= early;
			atomic_fetch_add_explicit(&v->empty_early, early, memory_order_relaxed);
			rest -= early;
			/* Unexplained: on hardware that is a spurious interrupt; on a
			 * simulator the device says it was owed, so a benign race. */
			if (l->o.sim)
				atomic_fetch_add_explicit(&v->empty_early, rest, memory_order_relaxed);
			else
				n += rest;
		}
	}
	v->confirmed += n;
	for (uint64_t i = 0; i < n; i++) {
		const char *why = l->o.sim ? "; the device confirms it sent it" : "";
		struct nvr_sim_vec_truth t;

		if (l->o.sim) {
			nvr_sim_vec_truth(l->o.sim, (uint16_t)vector, &t);
			if (t.stray > v->stray_seen) {
				v->stray_seen++;
				why = "; the device sent it: a torn MSI-X message, another entry "
				      "sampled between its address and data writes";
			}
		}
		atomic_fetch_add_explicit(&v->spurious, 1, memory_order_relaxed);
		report(l, NULL, NVR_AN_SPURIOUS_IRQ, -1, (int)vector,
		       "interrupt on vector %u with no new CQE on its queues (%" PRIu64
		       " read from the eventfd, %u CQEs reaped)%s", vector, count, reaped, why);
	}
}

/*
 * A missed interrupt on @vi: CQEs found by polling, none came. On a
 * simulator the device must say it lost one; then it also says how.
 * Return: false when the device denies it. Tick thread only.
 */
static bool missed(struct nvr_ledger *l, unsigned int vi, struct lvec *v, const char *when)
{
	const char *why = "";

	if (l->o.sim) {
		struct nvr_sim_vec_truth t;

		nvr_sim_vec_truth(l->o.sim, (uint16_t)vi, &t);
		if (t.lost <= v->missed_confirmed)
			return false;
		v->missed_confirmed++;
		if (t.dropped_masked > v->masked_seen) {
			v->masked_seen++;
			why = "; it was raised while the entry was masked and the device has no "
			      "PBA to keep it pending";
		} else if (t.torn > v->torn_seen) {
			v->torn_seen++;
			why = "; the device sampled the MSI-X entry between its address and data "
			      "writes and sent it elsewhere";
		} else if (t.nowhere > v->nowhere_seen) {
			v->nowhere_seen++;
			why = "; the device's message named a host vector with no eventfd";
		}
	}
	atomic_fetch_add(&v->missed, 1);
	report(l, NULL, NVR_AN_MISSED_IRQ, -1, (int)vi,
	       "CQEs on vector %u's queues were found by polling and no interrupt followed %s%s",
	       vi, when, why);
	return true;
}

void nvr_ledger_irq_triggered(struct nvr_ledger *l, unsigned int vector)
{
	if (vector < NVR_STATS_MAX_V)
		atomic_fetch_add(&l->vec[vector].triggered, 1);
}

void nvr_ledger_irq_repointed(struct nvr_ledger *l, unsigned int vector)
{
	if (vector < NVR_STATS_MAX_V)
		atomic_fetch_add(&l->vec[vector].repoints, 1);
}

/* Why the command @cid of @s never completed, by the device's truth. */
static const char *lost_reason(struct nvr_ledger *l, struct nvr_lsq *s, uint16_t cid, uint32_t subs)
{
	uint32_t fetched, posted;

	if (!l->o.sim || !nvr_sim_cid_truth(l->o.sim, s->qid, cid, &fetched, &posted))
		return "no completion arrived";
	if (posted >= subs)
		return "lost by host: the device posted its CQE";
	if (fetched >= subs)
		return "never completed by device: fetched, no CQE posted";
	return "never completed by device: never fetched";
}

/* Does a device-side truth say this queue's outstanding commands are merely lost? */
static bool only_dropped(struct nvr_ledger *l, struct nvr_lsq *s)
{
	uint32_t fetched, posted;

	if (!l->o.sim)
		return false;
	for (uint16_t cid = 0; cid < s->depth; cid++) {
		uint32_t subs = atomic_load(&s->submits[cid]), comps = atomic_load(&s->completes[cid]);

		if (subs == comps || s->reported[cid] == subs)
			continue;
		if (!nvr_sim_cid_truth(l->o.sim, s->qid, cid, &fetched, &posted))
			return false;
		/* Not fetched, or posted and not consumed: the queue itself is stuck. */
		if (fetched < subs || posted >= subs)
			return false;
	}
	return true;
}

static void check_lost(struct nvr_ledger *l, struct nvr_lsq *s, uint64_t now, bool all)
{
	for (uint16_t cid = 0; cid < s->depth; cid++) {
		uint32_t subs = atomic_load_explicit(&s->submits[cid], memory_order_acquire);
		uint32_t comps = atomic_load_explicit(&s->completes[cid], memory_order_acquire);
		uint64_t t = atomic_load_explicit(&s->t_submit[cid], memory_order_relaxed);

		if (subs == comps || s->reported[cid] == subs)
			continue;
		if (!all && (now < t || now - t < l->o.timeout_ns))
			continue;
		/* The device still holds its completion: a slow device (or a
		 * thread that did not get a CPU), not a lost command. */
		if (!all && l->o.sim && nvr_sim_cid_pending(l->o.sim, s->qid, cid))
			continue;
		s->reported[cid] = subs;
		report(l, s, NVR_AN_LOST, cid, s->lcq->vector,
		       "CID %u on SQ %u submitted %.3f ms before, never completed: %s", cid, s->qid,
		       (double)(now - t) / 1e6, lost_reason(l, s, cid, subs));
	}
}

/*
 * With shadow doorbells, a quiet SQ is an EventIdx stall when the device is
 * asleep waiting for an MMIO doorbell, has acted on every MMIO write, and the
 * shadow tail is ahead of where it stopped, on two ticks in a row with no
 * MMIO write in between: the host will not ring, the device will not look.
 * Anything else (a device thread that is merely slow to run) is not one.
 */
#define EI_QUIET_NS 10000000ull	/* an EventIdx stall: quiet this long, and confirmed */

static bool eventidx_stall(struct nvr_ledger *l, struct nvr_lsq *s, char *why, size_t len)
{
	struct nvr_sq *sq = s->sq;
	struct nvr_sim_sq_truth t;
	uint32_t shadow = atomic_load_explicit(sq->shadow.db, memory_order_relaxed);
	uint32_t ei = atomic_load_explicit(sq->shadow.ei, memory_order_relaxed);
	uint64_t probe;

	/* The host's half: it is done with its last update, and that update
	 * skipped the MMIO write (not merely on its way to it). */
	if (atomic_load_explicit(&sq->shadow.decided, memory_order_relaxed) != shadow ||
	    atomic_load_explicit(&sq->shadow.last_mmio, memory_order_relaxed) == shadow) {
		s->ei_probe = 0;
		return false;
	}
	/* The device's half: asleep, every MMIO write acted on, behind the shadow. */
	if (!nvr_sim_sq_truth(l->o.sim, s->qid, &t) || !t.shadow || !t.waiting || t.mmio_unseen ||
	    shadow == t.idle_head) {
		s->ei_probe = 0;
		return false;
	}
	probe = t.mmio_writes + 1;
	if (s->ei_probe != probe) {
		s->ei_probe = probe;	/* once more on the next tick */
		return false;
	}
	snprintf(why, len,
		 "shadow tail %u, EventIdx %u, last MMIO doorbell %u: the device went idle at %u "
		 "waiting for an MMIO write the host skipped (%s)",
		 shadow, ei, t.mmio_tail, t.idle_head,
		 ei == t.idle_head ? "EventIdx read before its shadow store was visible" :
				     "the device wrote as EventIdx the tail it waits for, not the "
				     "one it stopped at, which a host ringing for EventIdx in [old, new) skips");
	return true;
}

static void check_stall(struct nvr_ledger *l, struct nvr_lsq *s, uint64_t now)
{
	uint64_t last = atomic_load(&s->last_progress_ns);
	uint64_t out = atomic_load(&s->submitted) - atomic_load(&s->completed);
	struct nvr_sq *sq = s->sq;
	struct nvr_cq *cq = sq->cq;

	uint64_t quiet = now - last;

	/* Progress since the last look: a new quiet period may begin. */
	if (!out || now < last || quiet < NVR_MIN(EI_QUIET_NS, l->o.stall_ns)) {
		s->stalled = false;
		s->ei_probe = 0;
		return;
	}
	if (s->stalled)
		return;
	/* Confirmed by the device itself, an EventIdx stall needs no long window;
	 * and with the device's word at hand, a queue that is merely slow (the
	 * device has work it knows of) is not called stalled: a command that
	 * never completes is still caught as lost. */
	if (sq->shadow.db && l->o.sim) {
		char why[320];

		if (eventidx_stall(l, s, why, sizeof(why))) {
			s->stalled = true;
			report(l, s, NVR_AN_STALL, -1, s->lcq->vector,
			       "SQ %u: %" PRIu64 " commands outstanding, no completion for %.1f ms; %s",
			       s->qid, out, (double)quiet / 1e6, why);
		}
		return;
	}
	if (quiet < l->o.stall_ns || only_dropped(l, s))
		return;
	if (sq->shadow.db) {
		s->stalled = true;
		report(l, s, NVR_AN_STALL, -1, s->lcq->vector,
		       "SQ %u: %" PRIu64 " commands outstanding and no completion for %.1f ms "
		       "(shadow tail %u, EventIdx %u, last MMIO doorbell %u; CQ %u: head %u, "
		       "shadow head %u, EventIdx %u, last MMIO doorbell %u, %s)",
		       s->qid, out, (double)(now - last) / 1e6,
		       atomic_load_explicit(sq->shadow.db, memory_order_relaxed),
		       atomic_load_explicit(sq->shadow.ei, memory_order_relaxed),
		       atomic_load_explicit(&sq->shadow.last_mmio, memory_order_relaxed),
		       cq->qid, nvr_cq_head(cq),
		       cq->shadow.db ? atomic_load_explicit(cq->shadow.db, memory_order_relaxed) : 0,
		       cq->shadow.ei ? atomic_load_explicit(cq->shadow.ei, memory_order_relaxed) : 0,
		       atomic_load_explicit(&cq->shadow.last_mmio, memory_order_relaxed),
		       nvr_cq_pending(cq) ? "a new CQE at its head" : "no new CQE at its head");
		return;
	}
	s->stalled = true;
	report(l, s, NVR_AN_STALL, -1, s->lcq->vector,
	       "SQ %u: %" PRIu64 " commands outstanding and no completion for %.1f ms "
	       "(SQ tail rung %u, head %u; CQ %u head %u phase %u)",
	       s->qid, out, (double)(now - last) / 1e6, atomic_load(&sq->tail_rung),
	       atomic_load(&sq->head), cq->qid, nvr_cq_head(cq), nvr_cq_phase(cq));
}

static void check_dma(struct nvr_ledger *l)
{
	struct nvr_sim_stats st;
	struct nvr_jev ev[64];
	uint32_t n;

	if (!l->o.sim)
		return;
	nvr_sim_get_stats(l->o.sim, &st);
	if (st.dma_faults == l->dma_faults_seen)
		return;
	n = nvr_journal_copy(nvr_sim_journal(l->o.sim), ev, NVR_ARRAY_SIZE(ev));
	/* The new faults are the newest ones in the journal: skip the older. */
	{
		uint64_t fresh = st.dma_faults - l->dma_faults_seen, seen = 0;
		uint32_t first = n;

		while (first > 0 && seen < fresh)
			if (ev[--first].type == NVR_JEV_DMA_FAULT)
				seen++;
		memmove(ev, ev + first, (n - first) * sizeof(*ev));
		n -= first;
	}
	for (uint32_t i = 0; i < n; i++)
		if (ev[i].type == NVR_JEV_DMA_FAULT && l->dma_faults_seen < st.dma_faults) {
			char what[96];

			l->dma_faults_seen++;
			freed_name(l, ev[i].a, what, sizeof(what));
			report(l, NULL, NVR_AN_DMA_AFTER_TEARDOWN, -1, -1,
			       "the device %s %u bytes at IOVA 0x%" PRIx64 ", which is not mapped%s",
			       ev[i].c ? "wrote" : "read", ev[i].b, ev[i].a, what);
		}
	/* Faults that scrolled out of the journal are still counted. */
	while (l->dma_faults_seen < st.dma_faults) {
		l->dma_faults_seen++;
		report(l, NULL, NVR_AN_DMA_AFTER_TEARDOWN, -1, -1,
		       "the device accessed an unmapped IOVA (journal overwritten)");
	}
}

void nvr_ledger_tick(struct nvr_ledger *l)
{
	uint64_t now = nvr_clock_ns();
	char when[32];

	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr; i++) {
		struct nvr_lsq *s = l->sqs[i];

		if (!s->live)
			continue;
		pthread_mutex_unlock(&l->lock);
		check_lost(l, s, now, false);
		check_stall(l, s, now);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);

	for (unsigned int vi = 0; vi < NVR_STATS_MAX_V; vi++) {
		struct lvec *v = &l->vec[vi];
		uint64_t since = atomic_load(&v->await_since_ns);

		if (!since || now < since || now - since < l->o.missed_grace_ns)
			continue;
		if (!atomic_compare_exchange_strong(&v->await_since_ns, &since, 0))
			continue;
		snprintf(when, sizeof(when), "within %.1f ms", (double)l->o.missed_grace_ns / 1e6);
		missed(l, vi, v, when);
	}
	check_dma(l);
}

/*
 * The run is over, so no interrupt can follow a polled CQE any more: within
 * the grace or not, one the device says it lost was missed.
 */
static void missed_at_end(struct nvr_ledger *l)
{
	for (unsigned int vi = 0; vi < NVR_STATS_MAX_V && l->o.sim; vi++)
		if (atomic_exchange(&l->vec[vi].await_since_ns, 0))
			missed(l, vi, &l->vec[vi], "before the run ended");
}

void nvr_ledger_finish(struct nvr_ledger *l)
{
	uint64_t now = nvr_clock_ns();

	nvr_ledger_tick(l);
	missed_at_end(l);
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->nr; i++) {
		struct nvr_lsq *s = l->sqs[i];

		pthread_mutex_unlock(&l->lock);
		check_lost(l, s, now, true);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
}

void nvr_ledger_finish_early(struct nvr_ledger *l)
{
	nvr_ledger_tick(l);
	missed_at_end(l);
}

/* A doorbell's shadow slot and EventIdx, as the host and the device last wrote them. */
static void snap_shadow(struct nvr_shadow *sh, struct nvr_shadow_stats *o)
{
	if (!sh->db)
		return;
	o->on = true;
	o->shadow = (uint16_t)atomic_load_explicit(sh->db, memory_order_relaxed);
	o->eventidx = (uint16_t)atomic_load_explicit(sh->ei, memory_order_relaxed);
	o->mmio = atomic_load_explicit(&sh->mmio, memory_order_relaxed);
	o->skipped = atomic_load_explicit(&sh->skipped, memory_order_relaxed);
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
		q->completed = atomic_load(&s->completed);
		q->outstanding = q->submitted - q->completed;
		for (int r = 0; r < NVR_REAP_NR; r++)
			q->reaped_by[r] = atomic_load(&c->by[r]);
		for (int a = 0; a < NVR_AN_NR; a++)
			q->anomalies[a] = atomic_load(&s->an[a]);
		if (s->live) {
			q->sq_tail = atomic_load_explicit(&s->sq->tail_rung, memory_order_relaxed);
			q->sq_head = atomic_load(&s->sq->head);
			q->cq_head = nvr_cq_head(c->cq);
			q->cq_phase = nvr_cq_phase(c->cq);
			snap_shadow(&s->sq->shadow, &q->sq_db);
			snap_shadow(&c->cq->shadow, &q->cq_db);
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
		if (l->o.sim) {
			struct nvr_sim_vec_truth t;

			nvr_sim_vec_truth(l->o.sim, (uint16_t)vi, &t);
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
