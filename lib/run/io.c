// SPDX-License-Identifier: MIT
/*
 * The I/O actor: submit steps (reads, writes, flushes at a queue depth, each
 * written block stamped so that reads can be verified), reap steps (on an
 * interrupt, polling, or every N microseconds), and what each actor owns
 * (its slice of the namespace, its I/O buffers).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <nvme/types.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/log.h>
#include <nvmerace/run.h>

#include "base/clock.h"
#include "base/util.h"
#include "detect/ledger.h"
#include "dev/transport.h"
#include "host/dbbuf.h"
#include "host/irq.h"
#include "host/queue.h"
#include "run/runner_int.h"

/* Blocks an actor tracks at most: a large real namespace would need gigabytes of state. */
#define MAX_BLOCKS (1ull << 20)

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

void nvr_run_io_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct io *io = ctx;
	struct actor_rt *a = io->a;
	uint16_t st = NVR_CQE_STATUS(cqe->status);
	int inflight = IO_INFLIGHT;

	(void)arg;
	if (atomic_load_explicit(&a->run->aborts, memory_order_acquire))
		nvr_run_abort_seen(a->run, sq, cqe);
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
	unsigned int n = nvr_policy_reap(cq, r->cq_lock, who, nvr_run_io_done, NULL, &serviced);

#ifdef NVR_SCHED_MODEL
	/* A poll that found nothing lets the others run: the model's default
	 * scheduler keeps an enabled actor going, and a spin is always enabled. */
	if (!n)
		nvr_spin_idle();
#else
	(void)n;
#endif
}

/*
 * A submitter with no reaper on its queue reaps itself: by polling, or with
 * wait: irq on the queue's vector, as its handler would (the ledger sees each
 * wake), without handing the completions to another thread. It waits only
 * with commands in flight, and at most 1 ms, so that the step's clock and
 * the abandoning of lost commands go on.
 */
static void reap_inline(struct actor_rt *a, const struct nvr_step *st, struct nvr_cq *cq)
{
	struct run *r = a->run;

	if (!st->wait_irq || cq->vector < 0) {
		reap_policy(r, cq, NVR_REAP_POLL);
		return;
	}
	if (!atomic_load_explicit(&a->outstanding, memory_order_relaxed)) {
		nvr_spin_idle();
		return;
	}
	nvr_irq_service(r->irq, (unsigned int)cq->vector, 1, r->cq_lock, nvr_run_io_done, NULL);
}

/*
 * A submitter that waits on its own vector (wait: irq) runs on the CPUs the
 * host kernel delivers that vector's interrupt to, as blk-mq places a queue's
 * interrupt on the CPU that submits to it: each wake is then on the CPU
 * that took the interrupt, not a cross-CPU wake-up (an IPI). Only the
 * actor's own thread moves, and only within the process's CPUs; the
 * interrupt's affinity is read, never changed. Where nothing says (the
 * simulator, no /proc), the thread stays where it is.
 */
static void pin_to_vector(struct actor_rt *a, int vector)
{
#ifndef NVR_SCHED_MODEL
	cpu_set_t irq, proc, cur, both;
	int ret = nvr_transport_irq_cpus(a->run->t, (unsigned int)vector, &irq);

	/* The process's CPUs are its main thread's (taskset's), which no actor moves. */
	if (ret || sched_getaffinity(getpid(), sizeof(proc), &proc) ||
	    sched_getaffinity(0, sizeof(cur), &cur))
		return;
	CPU_AND(&both, &irq, &proc);
	if (!CPU_COUNT(&both) || CPU_EQUAL(&both, &cur))
		return;
	if (sched_setaffinity(0, sizeof(both), &both))
		nvr_warn("actor '%s': cannot run on vector %d's CPUs: %s", a->def->name, vector,
			 strerror(errno));
	else
		nvr_info("actor '%s': on vector %d's CPUs (%d of them)", a->def->name, vector,
			 CPU_COUNT(&both));
#else
	(void)a;
	(void)vector;
#endif
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

void nvr_run_step_submit(struct actor_rt *a, const struct nvr_step *st)
{
	struct run *r = a->run;
	struct nvr_sq *sq = nvr_ctrl_sq(r->ctrl, st->queue);
	struct nvr_cq *cq = sq->cq;
	bool inline_reap = !r->has_reaper[st->queue];
	uint64_t issued = 0, end = st->duration_ns ? nvr_now_ns() + st->duration_ns : 0;
	uint64_t drain_end, early_end = 0, next_check = 0, last_done = atomic_load(&a->done);
	uint64_t progress = nvr_now_ns();

	if (inline_reap && st->wait_irq && cq->vector >= 0)
		pin_to_vector(a, cq->vector);
	while (!nvr_run_stopping(r)) {
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
			reap_inline(a, st, cq);
		else if (!n)
			nvr_spin_idle();
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
			reap_inline(a, st, cq);
		else
			nvr_sleep_ns(20000);
	}
	recycle(a);
}

void nvr_run_step_reap(struct actor_rt *a, const struct nvr_step *st)
{
	struct run *r = a->run;
	struct nvr_cq *cq;
	unsigned int vector;

	/* Counted before the check, so that a teardown that stopped the
	 * reapers and saw none running cannot have its queue used here. */
	atomic_fetch_add(&r->reapers_running, 1);
	cq = atomic_load(&r->stop_reapers) ? NULL : nvr_ctrl_cq(r->ctrl, st->queue);
	if (cq && nvr_run_poller_declines(r, st, cq))
		cq = NULL;
	if (cq && st->hold_ns && nvr_run_hold_head(cq))
		cq = NULL;
	/* Another host vector's handler, where a reprogram step moves the queue. */
	vector = st->vector ? st->vector : cq ? (unsigned int)cq->vector : 0;
	while (cq && !atomic_load(&r->stop_reapers) && !atomic_load(&r->abort)) {
		switch (st->wake) {
		case NVR_WAKE_IRQ:
			if (nvr_irq_service(r->irq, vector, 10, r->cq_lock, nvr_run_io_done, NULL) ==
			    -ECANCELED)
				cq = NULL;
			break;
		case NVR_WAKE_POLL:
			reap_policy(r, cq, NVR_REAP_POLL);
			nvr_spin_idle();
			break;
		case NVR_WAKE_EVERY:
			nvr_sleep_ns(st->every_ns);
			if (!atomic_load(&r->stop_reapers))
				reap_policy(r, cq, NVR_REAP_POLL);
			if (st->hold_ns && !atomic_load(&r->stop_reapers))
				nvr_run_release_head(r, cq, st->hold_ns);
			break;
		}
	}
	atomic_fetch_sub(&r->reapers_running, 1);
}

int nvr_run_actor_setup(struct run *r, struct actor_rt *a, uint32_t index, uint32_t nr_submitters,
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

void nvr_run_actor_release(struct actor_rt *a)
{
	nvr_dma_free(&a->bufs);
	nvr_dma_free(&a->prps);
	free(a->ios);
	free(a->written);
	free(a->retired);
	free((void *)a->inflight);
}
