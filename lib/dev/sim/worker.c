// SPDX-License-Identifier: MIT
/*
 * The device's worker thread: it fetches SQEs, executes them, posts CQEs with
 * the right phase tag and raises interrupts. It spins briefly when idle, then
 * sleeps until a doorbell (or a completion falls due).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include "dev/sim/internal.h"

#define BATCH 64		/* SQEs fetched from one SQ before looking at the others */
#define SLEEP_MAX_NS 50000000ull	/* re-check timers at least this often */

void nvr_sim_seed_stream(struct nvr_sim *s, struct nvr_rng *rng, uint64_t kind, uint32_t index)
{
	nvr_rng_seed(rng, s->cfg.seed ^ (kind << 56) ^ ((uint64_t)index * 0x9e3779b97f4a7c15ull));
}

bool nvr_sim_fault_fires(struct nvr_sim *s, enum nvr_sim_fault f, struct nvr_rng *rng)
{
	uint32_t rate;
	uint32_t once;

	if (likely(!atomic_load_explicit(&s->faults_armed, memory_order_relaxed)))
		return false;
	rate = atomic_load_explicit(&s->fault_rate[f], memory_order_relaxed);
	once = atomic_load_explicit(&s->fault_once[f], memory_order_relaxed);
	if (once && atomic_compare_exchange_strong(&s->fault_once[f], &once, once - 1))
		return true;
	return rate && nvr_rng_next(rng) % rate == 0;
}

/* Pending completions: a binary min-heap on due time. */
static int pend_push(struct nvr_sim *s, const struct sim_pending *p)
{
	uint32_t i;

	if (s->nr_pend == s->pend_cap) {
		uint32_t cap = s->pend_cap ? s->pend_cap * 2 : 256;
		struct sim_pending *n = realloc(s->pend, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->pend = n;
		s->pend_cap = cap;
	}
	i = s->nr_pend++;
	while (i && s->pend[(i - 1) / 2].due_ns > p->due_ns) {
		s->pend[i] = s->pend[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->pend[i] = *p;
	return 0;
}

static void pend_pop(struct nvr_sim *s, struct sim_pending *out)
{
	struct sim_pending last;
	uint32_t i = 0;

	*out = s->pend[0];
	last = s->pend[--s->nr_pend];
	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= s->nr_pend)
			break;
		if (c + 1 < s->nr_pend && s->pend[c + 1].due_ns < s->pend[c].due_ns)
			c++;
		if (s->pend[c].due_ns >= last.due_ns)
			break;
		s->pend[i] = s->pend[c];
		i = c;
	}
	if (s->nr_pend)
		s->pend[i] = last;
}

/*
 * Take the host's CQ head doorbell into account. A head outside the entries
 * the device posted and the host has not yet released is an Invalid Doorbell
 * Write Value (NVMe 1.4, 5.2.1): journalled and ignored.
 */
static void cq_update_head(struct nvr_sim *s, struct sim_cq *cq)
{
	uint32_t head = atomic_load_explicit(&cq->db, memory_order_acquire);
	uint32_t outstanding, released;

	if (cq->shadow && !nvr_sim_dbbuf_cq_head(s, cq, &head))
		return;

	if (head == cq->head_seen)
		return;
	outstanding = (cq->tail + cq->size - cq->head_seen) % cq->size;
	released = (head + cq->size - cq->head_seen) % cq->size;
	if (released > outstanding) {
		atomic_fetch_add_explicit(&s->st_bad_db, 1, memory_order_relaxed);
		sim_journal(s, NVR_JEV_BAD_DOORBELL, cq->qid, head, 1, cq->head_seen);
		/* Forget the bad value so that it is reported once. */
		atomic_compare_exchange_strong(&cq->db, &head, cq->head_seen);
		return;
	}
	sim_journal(s, NVR_JEV_CQ_DOORBELL, cq->qid, head, 0, 0);
	cq->head_seen = head;
}

/*
 * A fetched command's completion was posted (or dropped): its request slot is
 * free again. The worker looks at every live SQ on its next loop, so an SQ
 * that ran out of slots is fetched from again: the fix of QEMU 9529aa6bb4d1.
 * A parked SQ (no_sq_restart) is not: it waits for a new tail.
 */
static void release_slot(struct nvr_sim *s, uint16_t sqid)
{
	struct sim_sq *sq;

	if (!sqid || sqid > s->cfg.nr_io_queues)
		return;
	sq = &s->sqs[sqid];
	if (sq->held)
		sq->held--;
}

/* Return false when the CQ is full and the CQE must wait. */
static bool post_cqe(struct nvr_sim *s, struct sim_cq *cq, const struct nvr_cqe *in, uint8_t flags)
{
	struct nvr_cqe copy = *in, *cqe = &copy;
	struct nvr_cqe *slot;
	uint8_t phase = cq->phase;
	uint32_t dw3;

	cq_update_head(s, cq);
	if ((cq->tail + 1) % cq->size == cq->head_seen && !(flags & SIM_POST_OVERRUN) &&
	    !(cq->qid && sim_race(s, NVR_RACE_CQ_OVERRUN))) {
		if (!cq->shadow || cq->asleep)
			return false;
		nvr_sim_race_cq_full(s, cq);	/* EventIdx, barrier, then the head again */
		cq_update_head(s, cq);
		cq->asleep = (cq->tail + 1) % cq->size == cq->head_seen;
		if (cq->asleep)
			return false;
	}

	if (flags & SIM_POST_FLIP_PHASE)
		phase ^= 1;
	/* SQHD is the SQ head when the entry is posted (NVMe 1.4, 4.6): with
	 * completions held back for latency, it is not the head at fetch time. */
	if (cqe->sqid <= s->cfg.nr_io_queues && atomic_load_explicit(&s->sqs[cqe->sqid].live,
								      memory_order_relaxed))
		copy.sqhd = (uint16_t)s->sqs[cqe->sqid].head;
	if (unlikely(flags & (SIM_POST_GARBAGE | SIM_POST_BAD_SQHD)) &&
	    nvr_sim_hostile_mangle(s, cq, &copy, flags))
		flags |= SIM_POST_FABRICATED;
	slot = nvr_sim_ring_ptr(s, &cq->ring, cq->base, (uint64_t)cq->tail * sizeof(*slot),
				sizeof(*slot), true);
	/* Count it before the host can see it, so the truth is never behind. */
	if (slot && !(flags & SIM_POST_FABRICATED) && cqe->sqid <= s->cfg.nr_io_queues &&
	    s->sqs[cqe->sqid].posted)
		atomic_fetch_add_explicit(&s->sqs[cqe->sqid].posted[cqe->cid], 1,
					  memory_order_relaxed);
	if (slot) {
		/*
		 * The status word carries the phase tag: write it last, with
		 * release ordering, so a host that sees the new phase also
		 * sees the rest of the entry (NVMe 1.4, 4.6.1).
		 */
		memcpy(slot, cqe, 12);
		dw3 = cqe->cid | (uint32_t)((cqe->status & ~1u) | phase) << 16;
		atomic_store_explicit((_Atomic uint32_t *)((uint8_t *)slot + 12), dw3,
				      memory_order_release);
		sim_journal(s, NVR_JEV_CQE_POST, cq->qid, cq->tail,
				cqe->cid | (uint32_t)phase << 16, cqe->sqid);
		atomic_fetch_add_explicit(&s->st_cqes, 1, memory_order_relaxed);
	}
	/* A CQE whose write faulted is gone: the fault is in the journal. */
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
	if (cq->ien) {
		s->vec[cq->iv].new_cqe = true;
		if (!cq->unsignalled++)
			cq->first_unsignalled_ns = sim_now();
	}
	if (flags & SIM_POST_HELD)
		release_slot(s, in->sqid);
	/* hostile.c: the same entry again and again, lapping the host's head. */
	if (unlikely(flags & SIM_POST_STORM))
		for (uint32_t i = 0; i < 2 * cq->size; i++)
			post_cqe(s, cq, in, SIM_POST_OVERRUN);
	return true;
}

static void enqueue(struct nvr_sim *s, struct sim_cq *cq, const struct nvr_cqe *cqe, uint64_t due,
		    uint8_t flags)
{
	struct sim_pending p = { .due_ns = due, .cqid = cq->qid, .flags = flags, .cqe = *cqe };

	if (!due && post_cqe(s, cq, cqe, flags))
		return;
	if (pend_push(s, &p))
		nvr_sim_fatal(s, SIM_FATAL_NOMEM);	/* out of memory: a device would hang; ours says so */
}

/* @flags: SIM_POST_HELD for a fetched command's own completion. */
static void complete(struct nvr_sim *s, uint16_t cqid, const struct nvr_cqe *cqe, uint64_t due,
		     uint8_t flags)
{
	struct sim_cq *cq = &s->cqs[cqid];
	uint8_t held = flags & SIM_POST_HELD;

	if (!atomic_load_explicit(&cq->live, memory_order_relaxed)) {
		if (held)
			release_slot(s, cqe->sqid);
		return;
	}
	if (cqid == 0) {
		enqueue(s, cq, cqe, due, 0);
		return;
	}
	/* One check per command while no fault and no per-CQE hostile knob is on
	 * (none draws from the CQ's random stream then, so the streams stay as
	 * they were). */
	if (likely(!atomic_load_explicit(&s->faults_armed, memory_order_relaxed)) &&
	    !s->hostile_cqe) {
		enqueue(s, cq, cqe, due, flags);
		return;
	}
	if (nvr_sim_fault_fires(s, NVR_FAULT_DROP_CQE, &cq->rng)) {
		sim_journal(s, NVR_JEV_FAULT, cqid, NVR_FAULT_DROP_CQE, cqe->cid, 0);
		if (held)
			release_slot(s, cqe->sqid);
		return;
	}
	if (nvr_sim_fault_fires(s, NVR_FAULT_FLIP_PHASE, &cq->rng)) {
		sim_journal(s, NVR_JEV_FAULT, cqid, NVR_FAULT_FLIP_PHASE, cqe->cid, 0);
		flags |= SIM_POST_FLIP_PHASE;
	}
	if (s->hostile_cqe)
		flags |= nvr_sim_hostile_cqe_flags(s, cq, cqe->cid);
	enqueue(s, cq, cqe, due, flags);
	if (nvr_sim_fault_fires(s, NVR_FAULT_DUP_CQE, &cq->rng)) {
		sim_journal(s, NVR_JEV_FAULT, cqid, NVR_FAULT_DUP_CQE, cqe->cid, 0);
		enqueue(s, cq, cqe, due, 0);
	}
	if (nvr_sim_fault_fires(s, NVR_FAULT_BOGUS_CID, &cq->rng)) {
		struct nvr_cqe bogus = *cqe;
		uint32_t sqsize = s->sqs[cqe->sqid].size;

		/* A CID no host can have outstanding: beyond the SQ's size. */
		bogus.cid = (uint16_t)NVR_MIN(65535u, sqsize + (uint32_t)nvr_rng_range(&cq->rng, 0, 99));
		sim_journal(s, NVR_JEV_FAULT, cqid, NVR_FAULT_BOGUS_CID, bogus.cid, 0);
		enqueue(s, cq, &bogus, due, SIM_POST_FABRICATED);
	}
}

void nvr_sim_complete(struct nvr_sim *s, uint16_t cqid, const struct nvr_cqe *cqe, uint64_t due)
{
	complete(s, cqid, cqe, due, 0);
}

/* Post the completions that fell due; return how many. */
static unsigned int run_pending(struct nvr_sim *s, uint64_t now)
{
	struct sim_pending retry[BATCH];
	unsigned int n = 0, nr_retry = 0;

	while (s->nr_pend && s->pend[0].due_ns <= now && nr_retry < BATCH) {
		struct sim_pending p;
		struct sim_cq *cq;

		pend_pop(s, &p);
		cq = &s->cqs[p.cqid];
		if (!atomic_load_explicit(&cq->live, memory_order_relaxed))
			continue;
		if (post_cqe(s, cq, &p.cqe, p.flags))
			n++;
		else
			retry[nr_retry++] = p;
	}
	for (unsigned int i = 0; i < nr_retry; i++)
		pend_push(s, &retry[i]);
	return n;
}

static uint64_t draw_latency(struct nvr_sim *s, struct sim_sq *sq)
{
	uint64_t us;

	if (!s->cfg.latency_max_us)
		return 0;
	us = nvr_rng_range(&sq->rng, s->cfg.latency_min_us, s->cfg.latency_max_us);
	atomic_store_explicit(&sq->fp, (atomic_load_explicit(&sq->fp, memory_order_relaxed) ^ us) *
					       0x100000001b3ull, memory_order_relaxed);
	return us * 1000;
}

static unsigned int process_sq(struct nvr_sim *s, struct sim_sq *sq, uint64_t now)
{
	uint32_t tail;
	unsigned int n = 0;

	if (sq->shadow) {
		if (!nvr_sim_dbbuf_sq_tail(s, sq, &tail))
			return 0;
	} else {
		tail = atomic_load_explicit(&sq->db, memory_order_acquire);
	}

	if (tail != sq->tail_seen) {
		sim_journal(s, NVR_JEV_SQ_DOORBELL, sq->qid, tail, 0, 0);
		sq->tail_seen = tail;
		sq->parked = false;	/* a new tail schedules the SQ again */
	}
	if (sq->parked)
		return 0;
	while (sq->head != tail && n < BATCH && atomic_load_explicit(&sq->live, memory_order_relaxed)) {
		const struct nvr_sqe *p;
		struct nvr_cqe cqe = { 0 };
		struct nvr_sqe sqe;
		uint64_t due = 0;

		/* Every request slot taken (an SQHD-refilling host over-committed
		 * the SQ): wait for a posted CQE to free one. */
		if (sq->qid && sq->held >= sq->size) {
			sq->parked = nvr_sim_race_sq_park(s);
			break;
		}
		p = nvr_sim_ring_ptr(s, &sq->ring, sq->base,
				     (uint64_t)sq->head * sizeof(struct nvr_sqe),
				     sizeof(struct nvr_sqe), false);
		if (!p) {
			/* The SQ memory is gone: nothing sane to fetch. */
			nvr_sim_fatal(s, SIM_FATAL_SQ_GONE);
			return n;
		}
		memcpy(&sqe, p, sizeof(sqe));
		if (sq->fetched)
			atomic_fetch_add_explicit(&sq->fetched[sqe.cid], 1, memory_order_relaxed);
		sim_journal(s, NVR_JEV_SQE_FETCH, sq->qid, sq->head, sqe.cid,
				sqe.opcode);
		sq->head = (sq->head + 1) % sq->size;
		n++;
		atomic_fetch_add_explicit(&s->st_commands, 1, memory_order_relaxed);
		if (unlikely(s->hostile_fetch) && sq->qid)
			nvr_sim_hostile_fetched(s);

		cqe.sqid = sq->qid;
		cqe.cid = sqe.cid;
		if (sq->qid == 0) {
			cqe.status = (uint16_t)(nvr_sim_admin(s, &sqe, &cqe.dw0) << 1);
			if (sqe.opcode == nvme_admin_keep_alive && s->cfg.keep_alive_us)
				due = now + s->cfg.keep_alive_us * 1000ull;
		} else {
			cqe.status = (uint16_t)(nvr_sim_nvm(s, &sqe, &cqe.dw0) << 1);
			due = draw_latency(s, sq);
			if (due)
				due += now;
		}
		cqe.sqhd = (uint16_t)sq->head;
		if (sq->qid)
			sq->held++;
		complete(s, sq->cqid, &cqe, due, sq->qid ? SIM_POST_HELD : 0);
		if (atomic_load(&s->state) != SIM_ENABLED)
			break;
	}
	if (sq->shadow && sq->head == tail)
		nvr_sim_dbbuf_sq_idle(s, sq);
	return n;
}

/* Commands still in a deleted SQ are aborted (NVMe 1.4, 5.6: Delete I/O Submission Queue). */
void nvr_sim_delete_sq(struct nvr_sim *s, struct sim_sq *sq)
{
	uint32_t tail = atomic_load(&sq->db);

	/* An SQ asleep behind its shadow tail has nothing past its head: the
	 * MMIO doorbell may be from long ago (the host rang by shadow since). */
	if (sq->shadow && !nvr_sim_dbbuf_sq_tail(s, sq, &tail))
		tail = sq->head;
	while (sq->head != tail) {
		const struct nvr_sqe *p = nvr_sim_dma_ptr(s, sq->base + (uint64_t)sq->head * 64, 64, false);
		struct nvr_cqe cqe = { .sqid = sq->qid };

		sq->head = (sq->head + 1) % sq->size;
		if (!p)
			break;
		cqe.cid = p->cid;
		cqe.sqhd = (uint16_t)sq->head;
		cqe.status = NVR_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_QUEUE) << 1;
		enqueue(s, &s->cqs[sq->cqid], &cqe, 0, 0);
	}
	nvr_sim_race_sq_delete(s, sq);
	/* Completions of this SQ still held back for latency are posted now. */
	for (uint32_t i = 0; i < s->nr_pend; i++)
		if (s->pend[i].cqe.sqid == sq->qid)
			s->pend[i].due_ns = 0;
	/* The heap order may be off now: rebuild it. */
	{
		uint32_t n = s->nr_pend;
		struct sim_pending *all = s->pend;

		s->pend = NULL;
		s->nr_pend = s->pend_cap = 0;
		for (uint32_t i = 0; i < n; i++)
			pend_push(s, &all[i]);
		free(all);
	}
	run_pending(s, 0);
	atomic_store(&sq->live, false);
	s->cqs[sq->cqid].nr_sqs--;
}

void nvr_sim_queues_reset(struct nvr_sim *s)
{
	for (uint32_t q = 0; q <= s->cfg.nr_io_queues; q++) {
		atomic_store(&s->sqs[q].live, false);
		atomic_store(&s->cqs[q].live, false);
		s->cqs[q].nr_sqs = 0;
		s->cqs[q].unsignalled = 0;
	}
	nvr_sim_race_disable(s);
	s->nr_pend = 0;
	/* A reset clears Doorbell Buffer Config and stops the keep-alive timer. */
	nvr_sim_race_dbbuf_reset(s);
	nvr_sim_kato_reset(s);
}

/*
 * Interrupt Coalescing (NVMe 1.4, 5.21.1.8) applies to I/O CQs whose vector
 * does not opt out: raise once THR + 1 CQEs are waiting or the oldest has
 * waited TIME. A TIME of 0 with a threshold set is taken as 100 us, so that a
 * low queue depth cannot wait forever.
 */
static uint64_t coalesce_deadline(struct nvr_sim *s, const struct sim_cq *cq)
{
	uint64_t t = s->coal_time_ns ? s->coal_time_ns : 100000;

	return cq->first_unsignalled_ns + t;
}

static bool coalesced(struct nvr_sim *s, const struct sim_cq *cq)
{
	return cq->qid && (s->coal_thr || s->coal_time_ns) && !s->vec[cq->iv].coalesce_off;
}

void nvr_sim_raise_due(struct nvr_sim *s, uint64_t now)
{
	for (uint32_t q = 0; q <= s->cfg.nr_io_queues; q++) {
		struct sim_cq *cq = &s->cqs[q];

		if (!cq->unsignalled || !atomic_load_explicit(&cq->live, memory_order_relaxed))
			continue;
		if (coalesced(s, cq) && cq->unsignalled < s->coal_thr + 1u &&
		    now < coalesce_deadline(s, cq))
			continue;
		cq->unsignalled = 0;
		nvr_sim_raise(s, cq->iv, cq->qid != 0);
	}
}

static bool shut_down(struct nvr_sim *s, uint64_t now)
{
	uint64_t done = atomic_load_explicit(&s->shn_done_at_ns, memory_order_relaxed);

	return done && now >= done;
}

#ifdef NVR_SCHED_MODEL
/*
 * A completion that fell due but waits for room in its full CQ waits for an
 * MMIO head doorbell, and a doorbell kicks the worker. The OS-mode device
 * re-checks every microsecond; on the virtual clock that spin costs steps,
 * not time (the step budget ran out 2 s in, before a 1 s command timeout was
 * judged), so the model's device sleeps until the kick or its next deadline.
 */
static bool pend_blocked(const struct nvr_sim *s, const struct sim_pending *p)
{
	const struct sim_cq *cq = &s->cqs[p->cqid];

	if (!atomic_load_explicit(&cq->live, memory_order_relaxed) ||
	    (p->flags & SIM_POST_OVERRUN) || (cq->qid && sim_race(s, NVR_RACE_CQ_OVERRUN)) ||
	    (cq->tail + 1) % cq->size != cq->head_seen)
		return false;
	if (cq->shadow)
		return cq->asleep && atomic_load_explicit(&cq->mmio_seq, memory_order_seq_cst) ==
					     cq->mmio_seen;
	return atomic_load_explicit(&cq->db, memory_order_seq_cst) == cq->head_seen;
}
#else
static bool pend_blocked(const struct nvr_sim *s, const struct sim_pending *p)
{
	(void)s;
	(void)p;
	return false;
}
#endif

/* A completion due now that can be posted; else the earliest due later in *next. */
static bool pend_due(const struct nvr_sim *s, uint64_t now, uint64_t *next)
{
	*next = UINT64_MAX;
	for (uint32_t i = 0; i < s->nr_pend; i++) {
		const struct sim_pending *p = &s->pend[i];

		if (p->due_ns > now)
			*next = NVR_MIN(*next, p->due_ns);
		else if (!pend_blocked(s, p))
			return true;
	}
	return false;
}

static bool has_work(struct nvr_sim *s, uint64_t now)
{
	uint64_t kato = nvr_sim_kato_deadline(s), next;

	if (!nvr_sim_ready(s, now))
		return false;
	if (s->nr_pend && s->pend[0].due_ns <= now && pend_due(s, now, &next))
		return true;
	if (shut_down(s, now))
		return false;
	if (kato && now >= kato)
		return true;
	for (uint32_t q = 0; q <= s->cfg.nr_io_queues; q++)
		if (s->cqs[q].unsignalled && now >= coalesce_deadline(s, &s->cqs[q]))
			return true;
	for (uint32_t q = 0; q <= s->cfg.nr_io_queues; q++) {
		struct sim_sq *sq = &s->sqs[q];

		if (!atomic_load_explicit(&sq->live, memory_order_relaxed))
			continue;
		/* Out of request slots, it waits for a completion (the heap
		 * above) or, parked, for a new tail. */
		if (sq->qid && sq->held >= sq->size && !sq->parked)
			continue;
		if (sq->parked && (sq->shadow ? atomic_load_explicit(&sq->mmio_seq, memory_order_seq_cst) ==
						  atomic_load_explicit(&sq->mmio_seen, memory_order_relaxed) :
			atomic_load_explicit(&sq->db, memory_order_seq_cst) == sq->tail_seen))
			continue;
		if (sq->shadow ? nvr_sim_dbbuf_sq_pending(sq) :
				 atomic_load_explicit(&sq->db, memory_order_seq_cst) != sq->head)
			return true;
	}
	return false;
}

static uint64_t sleep_for(struct nvr_sim *s, uint64_t now)
{
	uint64_t t = SLEEP_MAX_NS, ready = atomic_load(&s->ready_at_ns), kato = nvr_sim_kato_deadline(s);
	uint64_t next;

	if (s->nr_pend && s->pend[0].due_ns > now)
		t = NVR_MIN(t, s->pend[0].due_ns - now);
	else if (s->nr_pend && pend_due(s, now, &next))
		t = 1000;
	else if (s->nr_pend && next != UINT64_MAX)
		t = NVR_MIN(t, next - now);	/* the due ones wait for a doorbell */
	if (ready > now)
		t = NVR_MIN(t, ready - now);
	if (kato)
		t = NVR_MIN(t, kato > now ? kato - now : 1000);
	for (uint32_t q = 0; q <= s->cfg.nr_io_queues; q++) {
		const struct sim_cq *cq = &s->cqs[q];

		if (cq->unsignalled && atomic_load_explicit(&cq->live, memory_order_relaxed)) {
			uint64_t d = coalesce_deadline(s, cq);

			t = NVR_MIN(t, d > now ? d - now : 1000);
		}
	}
	t = NVR_MIN(t, nvr_sim_hostile_sleep_max(s));
	return t ? t : 1000;
}

void *nvr_sim_worker(void *arg)
{
	struct nvr_sim *s = arg;
	uint64_t idle_since = 0, spin_ns = (uint64_t)s->cfg.spin_us * 1000, loop = 0;

#ifdef NVR_SCHED_MODEL
	/* On the virtual clock a spin never ends (time moves only when every
	 * actor waits): the model's device sleeps at once. */
	spin_ns = 0;
#endif

	while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
		uint64_t now = sim_now();
		unsigned int work = 0;
		bool pending;
		uint32_t k;

		s->now = now;
		/* In model mode the DMA lock is taken in the device lock's
		 * step, and the device lock released in the DMA lock's
		 * (nvr_mutex_lock_next()): one scheduling point each way. */
		nvr_mutex_lock(&s->lock);
		sim_dma_rdlock_next(s);
		if (nvr_sim_ready(s, now)) {
			/*
			 * After shutdown processing completes nothing more is
			 * fetched, but commands already fetched still complete
			 * when their time comes: a host must wait for them
			 * before it frees its queues (NVMe 1.4, 7.6.2).
			 */
			if (!shut_down(s, now)) {
				for (uint32_t q = 0; q <= s->cfg.nr_io_queues; q++)
					if (atomic_load_explicit(&s->sqs[q].live,
								 memory_order_relaxed))
						work += process_sq(s, &s->sqs[q], now);
				nvr_sim_kato_check(s, now);
			}
			if (s->nr_pend)
				work += run_pending(s, now);
			nvr_sim_raise_due(s, now);
			nvr_sim_hostile_tick(s, now);
		}
		/* Also while disabled: what a buggy device still owes. */
		nvr_sim_race_tick(s, now);
		pending = s->nr_pend != 0;	/* read under the lock: reset writes it */
		sim_dma_unlock(s);
		nvr_mutex_unlock_next(&s->lock);
		/* For a torn_sample window: has the device anything left to raise? */
		loop++;
		if (work || pending)
			atomic_store_explicit(&s->busy_loop, loop, memory_order_relaxed);
		atomic_store_explicit(&s->loop_done, loop, memory_order_release);

		if (work) {
			idle_since = 0;
			continue;
		}
		if (!idle_since)
			idle_since = now;
		if (now - idle_since < spin_ns) {
			nvr_cpu_relax();
			continue;
		}

		/* Sleep. Pairs with nvr_sim_kick(): either the host sees us sleeping
		 * and wakes us, or has_work() sees its doorbell (all seq_cst). */
		k = atomic_load(&s->kick);
		atomic_store_explicit(&s->sleeping, 1, memory_order_seq_cst);
		nvr_mutex_lock(&s->lock);
		if (!has_work(s, now) && !atomic_load(&s->stop)) {
			uint64_t t = sleep_for(s, now);

			nvr_mutex_unlock(&s->lock);
			atomic_fetch_add_explicit(&s->st_sleeps, 1, memory_order_relaxed);
			nvr_futex_wait(&s->kick, k, t);
		} else {
			nvr_mutex_unlock(&s->lock);
		}
		atomic_store(&s->sleeping, 0);
		idle_since = 0;
	}
	return NULL;
}
