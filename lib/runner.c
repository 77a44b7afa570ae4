// SPDX-License-Identifier: MIT
/*
 * Running a scenario row: set the device up, start the actors, tick the
 * ledger and sweep quiet queues while they work, drain, judge, tear down.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "canary.h"
#include "clock.h"
#include "ctrl.h"
#include "irq.h"
#include "ledger.h"
#include "log.h"
#include "runner.h"
#include "runner_int.h"
#include "transport.h"
#include "util.h"

/* Blocks an actor tracks at most: a large real namespace would need gigabytes of state. */
#define MAX_BLOCKS (1ull << 20)

const char *nvr_verdict_name(enum nvr_verdict v)
{
	static const char *const names[] = { "pass", "fail", "error", "skip" };

	return (unsigned int)v < NVR_ARRAY_SIZE(names) ? names[v] : "?";
}

bool nvr_expect_met(const struct nvr_expect *e, uint64_t v)
{
	switch (e->cmp) {
	case NVR_CMP_EQ:
		return v == e->value;
	case NVR_CMP_GT:
		return v > e->value;
	case NVR_CMP_GE:
		return v >= e->value;
	case NVR_CMP_LT:
		return v < e->value;
	case NVR_CMP_LE:
		return v <= e->value;
	default:
		return true;
	}
}

void nvr_expect_str(const struct nvr_expect *e, char *buf, size_t len)
{
	static const char *const ops[] = { "any", "any", "", ">", ">=", "<", "<=" };

	if (e->cmp == NVR_CMP_UNSET || e->cmp == NVR_CMP_ANY)
		snprintf(buf, len, "any");
	else
		snprintf(buf, len, "%s%" PRIu64, ops[e->cmp], e->value);
}

bool run_stopping(struct run *r)
{
	return atomic_load_explicit(&r->stop_submit, memory_order_relaxed) ||
	       atomic_load_explicit(&r->abort, memory_order_relaxed) ||
	       (r->opts->stop && atomic_load_explicit(r->opts->stop, memory_order_relaxed));
}

/* --- data patterns: every 512-byte sector carries its LBA and the write generation --- */

static void stamp(uint8_t *buf, uint32_t len, uint64_t lba, uint64_t seq)
{
	for (uint32_t off = 0; off < len; off += 512) {
		uint64_t w[2] = { lba + off / 512, seq };

		memcpy(buf + off, w, sizeof(w));
	}
}

static bool stamp_ok(const uint8_t *buf, uint32_t len, uint64_t lba, uint64_t seq)
{
	for (uint32_t off = 0; off < len; off += 512) {
		uint64_t w[2];

		memcpy(w, buf + off, sizeof(w));
		if (seq ? (w[0] != lba + off / 512 || w[1] != seq) : (w[0] != 0 || w[1] != 0))
			return false;
	}
	return true;
}

/* --- completions --- */

static void io_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct io *io = ctx;
	struct actor_rt *a = io->a;
	uint16_t st = NVR_CQE_STATUS(cqe->status);
	int inflight = IO_INFLIGHT;

	(void)arg;
	if (atomic_load_explicit(&a->run->aborts, memory_order_acquire))
		run_abort_seen(a->run, sq, cqe);
	/* A completion after the submitter gave the command up changes nothing:
	 * the ledger already has it as lost. */
	if (!atomic_compare_exchange_strong(&io->state, &inflight, IO_IDLE))
		return;
	if (st & 0x7ff)
		atomic_fetch_add_explicit(&a->errors, 1, memory_order_relaxed);
	else if (io->verify && !io->write && !stamp_ok(io->buf, io->len, io->sector, io->seq)) {
		atomic_fetch_add_explicit(&a->mismatches, 1, memory_order_relaxed);
		nvr_ledger_report(a->run->ledger, NVR_AN_DATA_MISMATCH, sq->qid, cqe->cid, -1,
				  "read of sector %" PRIu64 " (%u bytes) returned other data than "
				  "write generation %" PRIu64 " put there",
				  io->sector, io->len, io->seq);
	}
	if (io->len)
		atomic_store_explicit(&a->inflight[io->block], 0, memory_order_release);
	atomic_fetch_add_explicit(&a->done, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&a->outstanding, 1, memory_order_release);
	/* Give the io back to its submitter (a Treiber push; the submitter takes all). */
	io->next = atomic_load_explicit(&a->returned, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&a->returned, &io->next, io,
						      memory_order_release, memory_order_relaxed))
		;
}

/* For the steps in other files that take completions (runner_races.c). */
void run_io_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	io_done(sq, cqe, ctx, arg);
}

/* --- actors --- */

static void barrier_init(struct barrier *b, uint32_t needed)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->needed = needed;
}

static void barrier_wait(struct run *r, struct barrier *b)
{
	uint32_t gen;

	pthread_mutex_lock(&b->lock);
	gen = b->generation;
	if (++b->arrived == b->needed) {
		b->arrived = 0;
		b->generation++;
		pthread_cond_broadcast(&b->cond);
	} else {
		while (gen == b->generation && !run_stopping(r)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&b->cond, &b->lock, &ts);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

void run_sleep(struct run *r, uint64_t ns)
{
	uint64_t end = nvr_now_ns() + ns;

	while (!run_stopping(r)) {
		uint64_t now = nvr_now_ns();

		if (now >= end)
			return;
		nvr_sleep_ns(NVR_MIN(end - now, 10000000ull));
	}
}

static void recycle(struct actor_rt *a)
{
	struct io *list = atomic_exchange_explicit(&a->returned, NULL, memory_order_acquire);

	while (list) {
		struct io *next = list->next;

		list->next = a->idle;
		a->idle = list;
		list = next;
	}
}

/* Reap as the run's exclusion policy says. */
static void reap_policy(struct run *r, struct nvr_cq *cq, enum nvr_reaper who)
{
	bool serviced;

	nvr_policy_reap(cq, r->cq_lock, who, io_done, NULL, &serviced);
}

/*
 * The next choice (operation and block) is drawn once and kept until it is
 * submitted, so that the sequence of choices depends on the seed alone. A
 * block still in flight is waited for, never swapped for another.
 */
static void draw_next(struct actor_rt *a, const struct nvr_step *st)
{
	a->next_write = st->op == NVR_OP_WRITE ||
			(st->op == NVR_OP_MIX && (nvr_rng_next(&a->rng) & 1));
	/* A block whose command was given up as lost is never used again. */
	for (uint64_t tries = 0; tries <= a->blocks; tries++) {
		a->next_block = st->random ? nvr_rng_next(&a->rng) % a->blocks :
					     a->cursor++ % a->blocks;
		if (!a->retired[a->next_block])
			break;
	}
	a->have_next = true;
}

static bool submit_one(struct actor_rt *a, const struct nvr_step *st, struct nvr_sq *sq)
{
	struct run *r = a->run;
	struct io *io = a->idle;
	struct nvr_sqe sqe;
	uint32_t lbas = st->bs / r->lba_size;
	uint64_t b = 0, lba;
	bool write;

	if (!io)
		return false;
	if (!a->have_next)
		draw_next(a, st);
	write = a->next_write;
	if (st->op == NVR_OP_FLUSH) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = nvme_cmd_flush;
		sqe.nsid = 1;
		io->len = 0;
	} else {
		b = a->next_block;
		if (atomic_load_explicit(&a->inflight[b], memory_order_acquire))
			return false;
		lba = a->region_base + b * lbas;
		nvr_sqe_rw(&sqe, write ? nvme_cmd_write : nvme_cmd_read, 1, lba, lbas);
		nvr_prp_fill(&sqe, io->iova, st->bs, io->prp_list, io->prp_iova);
		io->block = b;
		io->len = st->bs;
		io->sector = lba * (r->lba_size / 512);
		io->write = write;
		io->verify = st->verify;
		if (write) {
			io->seq = ++a->gen;
			a->written[b] = io->seq;
			if (st->verify)
				stamp(io->buf, st->bs, io->sector, io->seq);
		} else {
			io->seq = a->written[b];
			/* A real namespace holds anything where this run did not write. */
			io->verify = st->verify && (io->seq || r->sim);
		}
		atomic_store_explicit(&a->inflight[b], 1, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&a->outstanding, 1, memory_order_relaxed);
	io->t_submit = nvr_now_ns();
	atomic_store_explicit(&io->state, IO_INFLIGHT, memory_order_relaxed);
	if (nvr_sq_submit(sq, &sqe, io) < 0) {
		atomic_store_explicit(&io->state, IO_IDLE, memory_order_relaxed);
		atomic_fetch_sub_explicit(&a->outstanding, 1, memory_order_relaxed);
		if (io->len)
			atomic_store_explicit(&a->inflight[b], 0, memory_order_relaxed);
		return false;
	}
	a->idle = io->next;
	a->have_next = false;
	a->fp = (a->fp ^ (io->len ? a->region_base + b * lbas : 0) ^ (uint64_t)write << 63) *
		0x100000001b3ull;
	return true;
}

/*
 * Give up commands older than the timeout (the ledger reports them lost), so
 * that a device that drops completions cannot wedge the actor. Their CIDs stay
 * outstanding in the SQ and their blocks are never touched again.
 */
static void abandon_lost(struct actor_rt *a, uint64_t now)
{
	for (uint32_t i = 0; i < a->nr_ios; i++) {
		struct io *io = &a->ios[i];
		int inflight = IO_INFLIGHT;

		if (atomic_load_explicit(&io->state, memory_order_relaxed) != IO_INFLIGHT ||
		    now - io->t_submit < a->run->scn->timeout_ns)
			continue;
		if (atomic_compare_exchange_strong(&io->state, &inflight, IO_ABANDONED)) {
			atomic_fetch_sub(&a->outstanding, 1);
			if (io->len)
				a->retired[io->block] = true;
		}
	}
}

static void step_submit(struct actor_rt *a, const struct nvr_step *st)
{
	struct run *r = a->run;
	struct nvr_sq *sq = nvr_ctrl_sq(r->ctrl, st->queue);
	struct nvr_cq *cq = sq->cq;
	bool inline_reap = !r->has_reaper[st->queue];
	uint64_t issued = 0, end = st->duration_ns ? nvr_now_ns() + st->duration_ns : 0;
	uint64_t drain_end, early_end = 0, next_check = 0, last_done = atomic_load(&a->done);
	uint64_t progress = nvr_now_ns();

	while (!run_stopping(r)) {
		uint64_t now = nvr_now_ns();
		uint32_t n = 0;

		if ((st->count && issued >= st->count) || (end && now >= end))
			break;
		if (now >= next_check) {
			abandon_lost(a, now);
			next_check = now + 1000000;
			if (atomic_load(&a->done) != last_done) {
				last_done = atomic_load(&a->done);
				progress = now;
			}
			/* Nothing completed for two command timeouts (the second
			 * for commands sent after the first were given up) and every
			 * command in flight was given up: the device is not working
			 * (hung, or its SQ full of lost commands). Submitting more
			 * would only lose them too. */
			if (!atomic_load(&a->outstanding) && now - progress > 2 * r->scn->timeout_ns)
				break;
		}
		recycle(a);
		while ((!st->count || issued < st->count) &&
		       atomic_load_explicit(&a->outstanding, memory_order_relaxed) < st->qd &&
		       submit_one(a, st, sq)) {
			issued++;
			n++;
			if (st->batch && n % st->batch == 0)
				nvr_sq_ring(sq);
		}
		nvr_sq_ring(sq);
		if (inline_reap)
			reap_policy(r, cq, NVR_REAP_POLL);
		else if (!n)
			nvr_cpu_relax();
		/* Every io given up as lost, none left to submit with: stop here. */
		if (!a->idle && !atomic_load(&a->outstanding) && !atomic_load(&a->returned))
			break;
	}
	/* The step ends when its commands are done, or lost past the timeout. */
	drain_end = nvr_now_ns() + r->scn->timeout_ns;
	while (!st->no_drain && atomic_load(&a->outstanding) && !atomic_load(&r->abort)) {
		uint64_t now = nvr_now_ns();

		abandon_lost(a, now);
		if (now > drain_end + r->scn->timeout_ns)
			break;
		if (atomic_load(&r->early)) {
			if (!early_end)
				early_end = now + EARLY_DRAIN_NS;
			if (now > early_end)
				break;
		}
		if (inline_reap)
			reap_policy(r, cq, NVR_REAP_POLL);
		else
			nvr_sleep_ns(20000);
	}
	recycle(a);
}

static void step_reap(struct actor_rt *a, const struct nvr_step *st)
{
	struct run *r = a->run;
	struct nvr_cq *cq;
	unsigned int vector;

	/* Counted before the check, so that a teardown that stopped the
	 * reapers and saw none running cannot have its queue used here. */
	atomic_fetch_add(&r->reapers_running, 1);
	cq = atomic_load(&r->stop_reapers) ? NULL : nvr_ctrl_cq(r->ctrl, st->queue);
	if (cq && run_poller_declines(r, st, cq))
		cq = NULL;
	/* Another host vector's handler, where a reprogram step moves the queue. */
	vector = st->vector ? st->vector : cq ? (unsigned int)cq->vector : 0;
	if (cq && st->hold_ns && run_hold_head(cq))
		cq = NULL;
	while (cq && !atomic_load(&r->stop_reapers) && !atomic_load(&r->abort)) {
		switch (st->wake) {
		case NVR_WAKE_IRQ:
			if (nvr_irq_service(r->irq, vector, 10, r->cq_lock, io_done, NULL) ==
			    -ECANCELED)
				cq = NULL;
			break;
		case NVR_WAKE_POLL:
			reap_policy(r, cq, NVR_REAP_POLL);
			nvr_cpu_relax();
			break;
		case NVR_WAKE_EVERY:
			nvr_sleep_ns(st->every_ns);
			if (!atomic_load(&r->stop_reapers))
				reap_policy(r, cq, NVR_REAP_POLL);
			if (st->hold_ns && !atomic_load(&r->stop_reapers))
				run_release_head(r, cq, st->hold_ns);
			break;
		}
	}
	atomic_fetch_sub(&r->reapers_running, 1);
}

/* An actor the run waits for: it submits, tears down, or sends a bounded
 * number of keep-alives or moves. Reapers and endless keep-alives run until
 * the end. */
static bool actor_finite(const struct nvr_actor *def)
{
	for (uint32_t i = 0; i < def->nr_steps; i++) {
		const struct nvr_step *st = &def->steps[i];

		if (st->kind == NVR_STEP_SUBMIT || st->kind == NVR_STEP_TEARDOWN ||
		    (st->kind == NVR_STEP_KEEP_ALIVE && st->count) ||
		    st->kind == NVR_STEP_RESET || st->kind == NVR_STEP_RECREATE ||
		    (st->kind == NVR_STEP_ABORT && st->count) || (st->kind == NVR_STEP_REPROGRAM && st->count))
			return true;
	}
	return false;
}

static void *actor_main(void *arg)
{
	struct actor_rt *a = arg;
	struct run *r = a->run;
	bool finite = actor_finite(a->def);

	for (uint32_t i = 0; i < a->def->nr_steps && !run_stopping(r); i++) {
		const struct nvr_step *st = &a->def->steps[i];

		switch (st->kind) {
		case NVR_STEP_SUBMIT:
			step_submit(a, st);
			break;
		case NVR_STEP_REAP:
			step_reap(a, st);
			break;
		case NVR_STEP_SLEEP:
			run_sleep(r, st->sleep_ns);
			break;
		case NVR_STEP_BARRIER:
			barrier_wait(r, &r->barriers[st->barrier]);
			break;
		case NVR_STEP_KEEP_ALIVE:
			step_keep_alive(r, st);
			break;
		case NVR_STEP_TEARDOWN:
			step_teardown(r, st);
			break;
		case NVR_STEP_REPROGRAM:
			run_reprogram(a, st);
			break;
		case NVR_STEP_RESET:
			step_reset(r, st);
			break;
		case NVR_STEP_RECREATE:
			step_recreate(r, st);
			break;
		case NVR_STEP_ABORT:
			step_abort(a, st);
			break;
		default:
			break;
		}
	}
	if (finite)
		atomic_fetch_sub(&r->submitters_left, 1);
	return NULL;
}

/* --- set up and tear down --- */

static int fail(struct nvr_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct nvr_result *res, int err, const char *fmt, ...)
{
	va_list ap;

	res->verdict = NVR_ERROR;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return err;
}

/* Not run, for a reason that is not an error (a simulator-only row on hardware). */
#define NVR_SKIPPED 1

static int skip(struct nvr_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int skip(struct nvr_result *res, const char *fmt, ...)
{
	va_list ap;

	res->verdict = NVR_SKIP;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return NVR_SKIPPED;
}

/* On a real controller: skip() when this row cannot run there, else 0. */
static int hw_skip(const struct run *r, const struct nvr_sim_config *cfg, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;

	if (scn->needs_sim)
		return skip(res, "needs the simulated controller (needs_sim); skipped on real hardware");
	for (int f = 0; f < NVR_FAULT_NR; f++)
		if (cfg->fault_rate[f])
			return skip(res, "injects the simulator fault '%s'; skipped on real hardware",
				    nvr_sim_fault_name(f));
	if (cfg->no_pba)
		return skip(res, "no_pba is a simulator knob; skipped on real hardware");
	if (run_races_sim_only(cfg))
		return skip(res, "sets the simulator race knob '%s'; skipped on real hardware",
			    run_races_sim_only(cfg));
	for (int h = 0; h < NVR_HOSTILE_NR; h++)
		if (cfg->hostile[h])
			return skip(res, "makes the simulator hostile ('%s'); skipped on real hardware",
				    nvr_sim_hostile_name(h));
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		for (uint32_t j = 0; j < scn->actors[i].nr_steps; j++) {
			const struct nvr_step *st = &scn->actors[i].steps[j];

			if (st->kind == NVR_STEP_SUBMIT && !r->opts->write_ok &&
			    (st->op == NVR_OP_WRITE || st->op == NVR_OP_MIX))
				return skip(res, "writes to the namespace (line %u); real-device I/O is "
					    "read only without --write-range", st->line);
			if (st->kind == NVR_STEP_REPROGRAM && r->msix_update != NVR_MSIX_EVENTFD)
				return skip(res, "msix_update %s writes the MSI-X table (line %u), "
					    "which vfio-pci owns; only eventfd runs on real hardware",
					    nvr_msix_update_name(r->msix_update), st->line);
		}
	return 0;
}

static int actor_setup(struct run *r, struct actor_rt *a, uint32_t index, uint32_t nr_submitters,
		       uint32_t submitter_index)
{
	const struct nvr_step *first = NULL;
	uint32_t qd = 0, bs = 0;

	a->run = r;
	a->def = &r->scn->actors[index];
	a->index = index;
	nvr_rng_seed(&a->rng, r->opts->seed * 0x9e3779b97f4a7c15ull + index + 1);
	for (uint32_t i = 0; i < a->def->nr_steps; i++) {
		const struct nvr_step *st = &a->def->steps[i];

		if (st->kind != NVR_STEP_SUBMIT)
			continue;
		if (!first)
			first = st;
		qd = NVR_MAX(qd, st->qd);
		bs = NVR_MAX(bs, st->bs);
	}
	if (!first)
		return 0;
	/* Each submitter owns a slice of the namespace, so that verification
	 * never races with another actor's writes. */
	a->region_lbas = r->ns_lbas / nr_submitters;
	a->region_base = r->ns_base + a->region_lbas * submitter_index;
	a->blocks = NVR_MIN(a->region_lbas / (first->bs / r->lba_size), MAX_BLOCKS);
	if (!a->blocks)
		return -ENOSPC;
	/* Spare ios replace the ones given up as lost. */
	a->nr_ios = qd + NVR_MIN(qd, 64u) + 16;
	a->ios = calloc(a->nr_ios, sizeof(*a->ios));
	a->written = calloc(a->blocks, sizeof(*a->written));
	a->inflight = calloc(a->blocks, sizeof(*a->inflight));
	a->retired = calloc(a->blocks, sizeof(*a->retired));
	if (!a->ios || !a->written || !a->inflight || !a->retired)
		return -ENOMEM;
	if (nvr_dma_alloc(r->t, (size_t)a->nr_ios * bs, &a->bufs) ||
	    nvr_dma_alloc(r->t, (size_t)a->nr_ios * NVR_PAGE_SIZE, &a->prps))
		return -ENOMEM;
	for (uint32_t i = 0; i < a->nr_ios; i++) {
		struct io *io = &a->ios[i];

		io->a = a;
		io->buf = (uint8_t *)a->bufs.vaddr + (size_t)i * bs;
		io->iova = a->bufs.iova + (uint64_t)i * bs;
		io->prp_list = (uint64_t *)((uint8_t *)a->prps.vaddr + (size_t)i * NVR_PAGE_SIZE);
		io->prp_iova = a->prps.iova + (uint64_t)i * NVR_PAGE_SIZE;
		io->next = a->idle;
		a->idle = io;
	}
	return 0;
}

static void actor_release(struct actor_rt *a)
{
	nvr_dma_free(&a->bufs);
	nvr_dma_free(&a->prps);
	free(a->ios);
	free(a->written);
	free(a->retired);
	free((void *)a->inflight);
}

static int pick(int row, int scn, int dflt)
{
	return row >= 0 ? row : scn >= 0 ? scn : dflt;
}

static void resolve_policy(struct run *r)
{
	const struct nvr_policy *s = &r->scn->policy;
	struct nvr_policy none = NVR_POLICY_UNSET;
	const struct nvr_policy *w = r->row ? &r->row->policy : &none;

	r->pol.cq_lock = pick(w->cq_lock, s->cq_lock, NVR_CQ_LOCK_MUTEX);
	r->pol.shadow_doorbells = pick(w->shadow_doorbells, s->shadow_doorbells, 0);
	r->pol.barrier = pick(w->barrier, s->barrier, NVR_DBBUF_BARRIER_FULL);
	r->pol.need_event = pick(w->need_event, s->need_event, NVR_NEED_EVENT_LINUX);
	r->pol.keep_alive = pick(w->keep_alive, s->keep_alive, NVR_KA_SYNC);
	r->pol.msix_update = pick(w->msix_update, s->msix_update, NVR_MSIX_MASK);
	r->pol.cqe_read = pick(w->cqe_read, s->cqe_read, 0);
	r->pol.irq_drain_limit = pick(w->irq_drain_limit, s->irq_drain_limit, 0);
	r->pol.poll_checks_type = pick(w->poll_checks_type, s->poll_checks_type, 1);
}

static int setup(struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;
	struct nvr_sim_config cfg = scn->sim;
	struct nvr_ledger_opts lo;
	uint32_t nr_sub = 0, sub_i = 0, thr, tim;
	uint16_t st, maxq = 0;
	int ret;

	cfg.seed = r->opts->seed;
	resolve_policy(r);
	r->cq_lock = (enum nvr_cq_lock)r->pol.cq_lock;
	r->msix_update = (enum nvr_msix_update)r->pol.msix_update;
	if (r->row) {
		for (int f = 0; f < NVR_FAULT_NR; f++)
			if (r->row->set_fault[f])
				cfg.fault_rate[f] = r->row->fault_rate[f];
		if (r->row->no_pba >= 0)
			cfg.no_pba = r->row->no_pba;
		for (int h = 0; h < NVR_HOSTILE_NR; h++)
			if (r->row->set_hostile[h])
				cfg.hostile[h] = r->row->hostile[h];
		run_races_config(r->row, &cfg);
	}
	for (uint32_t i = 0; i < scn->nr_queues; i++)
		maxq = NVR_MAX(maxq, scn->queues[i].id);
	if (r->opts->transport) {
		ret = hw_skip(r, &cfg, res);
		if (ret)
			return ret;
		r->t = r->opts->transport;
	} else {
		ret = nvr_sim_create(&cfg, &r->t);
		if (ret)
			return fail(res, ret, "cannot start the simulated controller: %s",
				    strerror(-ret));
		r->sim = nvr_sim_of(r->t);
	}
	if (r->opts->live_sim)
		*r->opts->live_sim = r->sim;
	nvr_log_clear_error();
	ret = nvr_ctrl_open(r->t, maxq, &r->ctrl);
	if (ret)
		return fail(res, ret, "cannot bring the controller up: %s",
			    nvr_log_last_error()[0] ? nvr_log_last_error() : strerror(-ret));
	if (!nvr_ctrl_info(r->ctrl)->nr_ns || nvr_ctrl_info(r->ctrl)->ns[0].nsid != 1)
		return fail(res, -EPROTO, "the controller has no namespace 1");
	r->lba_size = nvr_ctrl_info(r->ctrl)->ns[0].lba_size;
	r->ns_lbas = nvr_ctrl_info(r->ctrl)->ns[0].nsze;
	if (!r->lba_size || !r->ns_lbas)
		return fail(res, -EPROTO, "the controller has no usable namespace 1");
	if (r->opts->transport && r->opts->write_ok) {
		/* Every actor's region, reads included, lies inside the range. */
		if (r->opts->write_start >= r->ns_lbas)
			return fail(res, -ERANGE, "--write-range starts at LBA %" PRIu64 ", beyond "
				    "namespace 1's %" PRIu64 " LBAs", r->opts->write_start, r->ns_lbas);
		r->ns_base = r->opts->write_start;
		r->ns_lbas = NVR_MIN(r->opts->write_end, r->ns_lbas - 1) - r->ns_base + 1;
	}

	nvr_ledger_opts_init(&lo);
	lo.sim = r->sim;
	lo.timeout_ns = scn->timeout_ns;
	lo.stall_ns = scn->stall_ns;
	/* Without device truth a late handler looks like a missed interrupt:
	 * on hardware, wait as long as the scenario tolerates no progress. */
	if (!r->sim)
		lo.missed_grace_ns = NVR_MAX(lo.missed_grace_ns, scn->stall_ns);
	lo.recent = r->opts->recent;
	ret = nvr_ledger_create(&lo, &r->ledger);
	if (!ret && r->opts->live_ledger)
		*r->opts->live_ledger = r->ledger;
	if (!ret)
		ret = nvr_irq_create(r->ctrl, r->ledger, &r->irq);
	if (!ret)
		ret = nvr_canaries_create(r->ledger, &r->canaries);
	if (ret)
		return fail(res, ret, "cannot set up the ledger: %s", strerror(-ret));

	if (r->pol.shadow_doorbells) {
		struct nvr_dbbuf_policy dp = { .barrier = (enum nvr_dbbuf_barrier)r->pol.barrier,
					       .need_event = (enum nvr_need_event)r->pol.need_event };

		ret = nvr_ctrl_dbbuf_enable(r->ctrl, &dp, &st);
		if (ret == -EOPNOTSUPP)
			return skip(res, "shadow doorbells not supported (Identify OACS bit 8 clear)");
		if (ret)
			return fail(res, ret, "Doorbell Buffer Config failed: %s",
				    ret == -EREMOTEIO ? nvr_status_str(st) : strerror(-ret));
	}
	{
		char why[128];

		ret = run_keep_alive_setup(r, why, sizeof(why));
		if (ret > 0)
			return skip(res, "%s", why);
		if (ret)
			return fail(res, ret, "cannot set the keep-alive timer: %s", strerror(-ret));
	}

	thr = scn->coalesce_thr;
	tim = scn->coalesce_time;
	if (r->row && r->row->coalesce_thr >= 0)
		thr = (uint32_t)r->row->coalesce_thr;
	if (r->row && r->row->coalesce_time >= 0)
		tim = (uint32_t)r->row->coalesce_time;
	if (thr || tim) {
		struct nvr_sqe sqe = { .opcode = nvme_admin_set_features,
				       .cdw10 = NVME_FEAT_FID_IRQ_COALESCE,
				       .cdw11 = thr | tim << 8 };
		struct nvr_cqe cqe;

		ret = nvr_ctrl_admin(r->ctrl, &sqe, &cqe, 5000);
		if (!ret && (NVR_CQE_STATUS(cqe.status) & 0x7ff) && r->opts->transport)
			return skip(res, "the controller refused Interrupt Coalescing (%s)",
				    nvr_status_str(NVR_CQE_STATUS(cqe.status)));
		if (ret || (NVR_CQE_STATUS(cqe.status) & 0x7ff))
			return fail(res, ret ? ret : -EIO, "cannot set interrupt coalescing");
	}
	for (uint32_t i = 0; i < scn->nr_queues; i++) {
		const struct nvr_queue_def *q = &scn->queues[i];

		if (q->vector >= 0) {
			ret = nvr_irq_attach(r->irq, (unsigned int)q->vector);
			if (ret && ret != -EBUSY)
				return fail(res, ret, "cannot attach vector %d: %s", q->vector,
					    strerror(-ret));
		}
		ret = nvr_ctrl_create_qpair(r->ctrl, q->id, q->depth, q->vector, &st);
		if (ret)
			return fail(res, ret, "cannot create queue %u: %s", q->id,
				    ret == -EREMOTEIO ? nvr_status_str(st) : strerror(-ret));
		ret = nvr_ledger_attach(r->ledger, nvr_ctrl_sq(r->ctrl, q->id),
					nvr_ctrl_cq(r->ctrl, q->id));
		if (ret)
			return fail(res, ret, "cannot follow queue %u: %s", q->id, strerror(-ret));
		nvr_ctrl_cq(r->ctrl, q->id)->cid_first = r->pol.cqe_read == 1;
		nvr_ctrl_cq(r->ctrl, q->id)->irq_limit = (uint16_t)r->pol.irq_drain_limit;
	}
	{
		char why[160];

		ret = run_msix_setup(r, why, sizeof(why));
		if (ret)
			return fail(res, ret, "%s", why);
	}

	for (uint32_t i = 0; i < scn->nr_actors; i++) {
		const struct nvr_actor *ad = &scn->actors[i];

		for (uint32_t j = 0; j < ad->nr_steps; j++) {
			if (ad->steps[j].kind == NVR_STEP_REAP)
				r->has_reaper[ad->steps[j].queue] = true;
			if (ad->steps[j].kind == NVR_STEP_SUBMIT) {
				nr_sub++;
				break;
			}
		}
	}
	for (uint32_t i = 0; i < scn->nr_actors; i++) {
		const struct nvr_actor *ad = &scn->actors[i];
		bool sub = false;

		for (uint32_t j = 0; j < ad->nr_steps; j++) {
			sub |= ad->steps[j].kind == NVR_STEP_SUBMIT;
			if (ad->steps[j].kind == NVR_STEP_BARRIER)
				r->barriers[ad->steps[j].barrier].needed++;
		}
		ret = actor_setup(r, &r->actors[i], i, NVR_MAX(nr_sub, 1u), sub_i);
		if (ret)
			return fail(res, ret, "cannot set up actor '%s': %s", ad->name,
				    strerror(-ret));
		sub_i += sub;
	}
	for (uint32_t b = 0; b < NVR_MAX_STEPS; b++)
		barrier_init(&r->barriers[b], r->barriers[b].needed);
	nr_sub = 0;
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		nr_sub += actor_finite(&scn->actors[i]);
	atomic_store(&r->submitters_left, nr_sub);
	return 0;
}

/*
 * Stop the controller before the verdict, so that what it does wrong here is
 * judged too: a normal shutdown (CC.SHN, NVMe 1.4, 7.6.2) unless it reports a
 * fatal status, then CC.EN cleared; each within CAP.TO. One that does neither
 * may still be doing DMA: a function level reset stops it before any memory
 * goes (the VFIO transport resets the function; the simulator starts over).
 */
static void quiesce(struct run *r)
{
	unsigned int to_ms = NVR_MAX(nvr_ctrl_info(r->ctrl)->cap_to, 1u) * 500u;
	uint32_t csts = nvr_ctrl_csts(r->ctrl);
	int ret;

	if (csts == 0xffffffff) {
		nvr_ledger_report(r->ledger, NVR_AN_UNRESPONSIVE, -1, -1, -1,
				  "the controller's registers read as all ones: it is gone");
		r->reset = true;
		r->t->ops->reset(r->t);
		return;
	}
	if (!NVME_CSTS_CFS(csts)) {
		ret = nvr_ctrl_shutdown(r->ctrl, to_ms);
		if (ret == -ETIMEDOUT)
			nvr_ledger_report(r->ledger, NVR_AN_UNRESPONSIVE, -1, -1, -1,
					  "CSTS.SHST did not say shutdown complete within CAP.TO "
					  "(%u ms) of CC.SHN = 01b",
					  to_ms);
	}
	ret = nvr_ctrl_disable(r->ctrl);
	if (ret == -ETIMEDOUT)
		nvr_ledger_report(r->ledger, NVR_AN_UNRESPONSIVE, -1, -1, -1,
				  "CSTS.RDY was still 1 CAP.TO (%u ms) after CC.EN was cleared; "
				  "the controller was reset",
				  to_ms);
	if (ret) {
		r->reset = true;
		r->t->ops->reset(r->t);
	}
}

static void teardown(struct run *r, struct nvr_result *res)
{
	struct nvr_sim_stats st;

	if (r->opts->live_sim)
		*r->opts->live_sim = NULL;
	if (r->opts->live_ledger)
		*r->opts->live_ledger = NULL;
	nvr_canaries_destroy(r->canaries);
	run_abort_finish(r);
	nvr_ledger_destroy(r->ledger);
	/* Disabling the controller stops all device DMA before memory goes. */
	nvr_ctrl_close(r->ctrl);
	nvr_irq_destroy(r->irq);
	for (uint32_t i = 0; i < NVR_MAX_ACTORS; i++)
		actor_release(&r->actors[i]);
	for (uint32_t b = 0; b < NVR_MAX_STEPS; b++) {
		pthread_mutex_destroy(&r->barriers[b].lock);
		pthread_cond_destroy(&r->barriers[b].cond);
	}
	free(r->ka_slots);	/* after close: nothing reaps the admin CQ any more */
	pthread_mutex_destroy(&r->ka_lock);
	pthread_mutex_destroy(&r->q_lock);
	/* The device's own count of what the host left behind. */
	if (r->sim) {
		nvr_sim_get_stats(r->sim, &st);
		res->teardown.checked = true;
		res->teardown.enabled = st.enabled;
		res->teardown.dma_maps = st.live_maps;
		res->teardown.vectors = st.attached_vectors;
	}
	res->teardown.reset = r->reset;
	if (r->t != r->opts->transport)
		nvr_transport_destroy(r->t);
}

/* The built-in timeout sweep: reap CQs that have work outstanding and made no
 * progress for sweep_ns, as a driver's timeout handler does. */
static void sweep(struct run *r, uint64_t now, uint64_t *last_reaped, uint64_t *last_change)
{
	pthread_mutex_lock(&r->q_lock);
	for (uint32_t i = 0; i < r->scn->nr_queues; i++) {
		uint16_t q = r->scn->queues[i].id;
		struct nvr_sq *sq = nvr_ctrl_sq(r->ctrl, q);
		struct nvr_cq *cq = nvr_ctrl_cq(r->ctrl, q);
		uint64_t reaped;

		/* Deleted by a teardown step. */
		if (r->q_gone[q] || !sq || !cq)
			continue;
		reaped = atomic_load(&cq->reaped);

		if (reaped != last_reaped[i] || !atomic_load(&sq->outstanding)) {
			last_reaped[i] = reaped;
			last_change[i] = now;
			continue;
		}
		if (now - last_change[i] >= r->scn->sweep_ns) {
			nvr_policy_sweep(cq, r->cq_lock, io_done, NULL);
			last_change[i] = now;
		}
	}
	pthread_mutex_unlock(&r->q_lock);
}

struct nvr_expect nvr_row_expect(const struct nvr_row *row, int c)
{
	struct nvr_expect e = row ? row->expect[c] : (struct nvr_expect){ 0 };

	/* Data corruption, and a controller that could not be stopped,
	 * fail a run unless the row says otherwise. */
	if ((c == NVR_AN_DATA_MISMATCH || c == NVR_AN_UNRESPONSIVE) && e.cmp == NVR_CMP_UNSET)
		e = (struct nvr_expect){ NVR_CMP_EQ, 0 };
	return e;
}

static void judge(struct run *r, struct nvr_result *res)
{
	char want[32];
	size_t off = 0;

	res->verdict = NVR_PASS;
	for (int c = 0; c < NVR_AN_NR; c++) {
		struct nvr_expect e = nvr_row_expect(r->row, c);
		int n;

		if (nvr_expect_met(&e, res->stats.anomalies[c]))
			continue;
		res->verdict = NVR_FAIL;
		nvr_expect_str(&e, want, sizeof(want));
		n = snprintf(res->reason + off, sizeof(res->reason) - off,
			     "%s%s %" PRIu64 ", expected %s", off ? "; " : "", nvr_anomaly_name(c),
			     res->stats.anomalies[c], want);
		if (n > 0)
			off = NVR_MIN(off + (size_t)n, sizeof(res->reason) - 1);
	}
}

int nvr_run_row(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		struct nvr_result *res)
{
	struct run *r = calloc(1, sizeof(*r));
	uint64_t last_reaped[NVR_MAX_QUEUES] = { 0 }, last_change[NVR_MAX_QUEUES] = { 0 };
	uint64_t start = nvr_now_ns(), next_progress, now, ticks = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	snprintf(res->scenario, sizeof(res->scenario), "%s", scn->name);
	res->seed = opts->seed;
	if (!r)
		return fail(res, -ENOMEM, "out of memory");
	r->scn = scn;
	r->opts = opts;
	pthread_mutex_init(&r->q_lock, NULL);
	pthread_mutex_init(&r->ka_lock, NULL);
	if (scn->nr_rows) {
		r->row = &scn->rows[row < scn->nr_rows ? row : 0];
		snprintf(res->row, sizeof(res->row), "%s", r->row->name);
	}
	nvr_clock_init();
	ret = setup(r, res);
	if (ret == NVR_SKIPPED)
		ret = 0;
	if (ret || res->verdict == NVR_SKIP) {
		res->elapsed_ns = nvr_now_ns() - start;
		goto out;
	}

	for (uint32_t i = 0; i < scn->nr_actors; i++) {
		ret = -pthread_create(&r->actors[i].thread, NULL, actor_main, &r->actors[i]);
		if (ret) {
			atomic_store(&r->abort, true);
			fail(res, ret, "cannot start actor '%s'", scn->actors[i].name);
			break;
		}
		r->actors[i].started = true;
	}

	start = nvr_now_ns();
	next_progress = start + PROGRESS_NS;
	while (atomic_load(&r->submitters_left) && !atomic_load(&r->abort)) {
		nvr_sleep_ns(TICK_NS);
		now = nvr_now_ns();
		nvr_ledger_tick(r->ledger);
		nvr_canaries_check(r->canaries);
		sweep(r, now, last_reaped, last_change);
		if (opts->stop && atomic_load(opts->stop)) {
			res->interrupted = true;
			atomic_store(&r->early, true);
			break;
		}
		if (scn->duration_ns && now - start >= scn->duration_ns)
			break;
		if (scn->stop_on_anomaly && nvr_ledger_total(r->ledger)) {
			atomic_store(&r->early, true);
			break;
		}
		/* A controller in fatal status completes nothing more: stop. */
		if (++ticks % 10 == 0 && run_check_cfs(r)) {
			atomic_store(&r->early, true);
			break;
		}
		if (opts->progress && now >= next_progress) {
			nvr_ledger_snapshot(r->ledger, &res->stats);
			opts->progress(&res->stats, opts->progress_arg);
			next_progress = now + PROGRESS_NS;
		}
	}
	/* A stop that came before the loop (during setup, when the actors quit
	 * at once) interrupts the run just the same. */
	if (opts->stop && atomic_load(opts->stop))
		res->interrupted = true;
	/* Stop submitting; the submitters drain while the ledger and the sweep go on. */
	atomic_store(&r->stop_submit, true);
	while (atomic_load(&r->submitters_left)) {
		nvr_sleep_ns(TICK_NS);
		nvr_ledger_tick(r->ledger);
		sweep(r, nvr_now_ns(), last_reaped, last_change);
	}
	atomic_store(&r->stop_reapers, true);
	nvr_irq_stop(r->irq);
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		if (r->actors[i].started)
			pthread_join(r->actors[i].thread, NULL);
	run_check_cfs(r);
	run_keep_alive_finish(r);
	quiesce(r);
	/* The device is stopped: a last look at the canaries, then they go. */
	nvr_canaries_destroy(r->canaries);
	r->canaries = NULL;
	if (atomic_load(&r->early))
		nvr_ledger_finish_early(r->ledger);
	else
		nvr_ledger_finish(r->ledger);
	res->elapsed_ns = nvr_now_ns() - start;
	nvr_ledger_snapshot(r->ledger, &res->stats);
	if (atomic_load(&r->early))
		res->unfinished = res->stats.submitted - res->stats.completed;
	res->nr_anomalies = nvr_ledger_anomalies(r->ledger, res->anomalies,
						 NVR_ARRAY_SIZE(res->anomalies));
	if (opts->progress)
		opts->progress(&res->stats, opts->progress_arg);
	for (uint32_t i = 0; i < scn->nr_actors; i++) {
		res->mismatches += atomic_load(&r->actors[i].mismatches);
		res->errors += atomic_load(&r->actors[i].errors);
		res->fingerprint = (res->fingerprint ^ r->actors[i].fp) * 0x100000001b3ull;
	}
	for (uint32_t i = 0; r->sim && i < scn->nr_queues; i++)
		res->fingerprint = (res->fingerprint ^ nvr_sim_sq_fingerprint(r->sim, scn->queues[i].id)) *
				   0x100000001b3ull;
	for (uint32_t i = 0; i < scn->nr_actors && res->verdict != NVR_ERROR; i++)
		if (r->actors[i].err)
			fail(res, r->actors[i].err, "actor '%s': %s", scn->actors[i].name,
			     r->actors[i].err_msg);
	if (res->verdict != NVR_ERROR)
		judge(r, res);
	ret = 0;
out:
	teardown(r, res);
	free(r);
	return ret;
}
