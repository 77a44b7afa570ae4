// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "base/util.h"
#include "host/hooks.h"
#include "dev/transport.h"
#include "host/queue.h"
#include "host/queue_hook.h"

int nvr_sq_submit(struct nvr_sq *sq, struct nvr_sqe *sqe, void *ctx)
{
	uint16_t tail = sq->tail, next = (uint16_t)(tail + 1);
	uint16_t cid = tail;
	struct nvr_cmd *cmd = &sq->cmds[cid];

	/* A branch, not a conditional move: the wrap is once per trip round the ring. */
	if (unlikely(next == sq->depth))
		next = 0;
	if (unlikely(next == atomic_load_explicit(&sq->head, memory_order_acquire) ||
		     atomic_load_explicit(&sq->outstanding, memory_order_relaxed) >=
			     sq->max_outstanding))
		return -EBUSY;
	/* A CID is reused only once its previous command completed. The CID of
	 * the tail slot is free unless completions came out of order: then
	 * look further; outstanding < ncids guarantees the scan ends. */
	while (unlikely(nvr_ld8(&cmd->state, memory_order_acquire) != NVR_CMD_FREE)) {
		if (++cid == sq->ncids)
			cid = 0;
		cmd = &sq->cmds[cid];
	}
	cmd->ctx = ctx;
	nvr_st8(&cmd->state, NVR_CMD_OUTSTANDING, memory_order_relaxed);
	atomic_fetch_add_explicit(&sq->outstanding, 1, memory_order_relaxed);

	sqe->cid = cid;
	nvr_st_block(&sq->ring[tail], sqe, sizeof(*sqe));
	sq->tail = next;
	/* Last, as a tail call: the path without a ledger saves no register.
	 * The device cannot see the entry before the doorbell anyway. */
	if (unlikely(sq->lsq != NULL))
		return nvr_ledger_submitted_at(sq->lsq, cid, nvr_clock_ns());
	return cid;
}

void nvr_sq_ring(struct nvr_sq *sq)
{
	if (sq->tail == atomic_load_explicit(&sq->tail_rung, memory_order_relaxed))
		return;
	atomic_store_explicit(&sq->tail_rung, sq->tail, memory_order_relaxed);
	/* The SQE stores must be visible before the device sees the tail. The
	 * transport's write is a call the compiler cannot reorder across; on
	 * x86 stores are not reordered with older stores. For VFIO the MMIO
	 * write itself is ordered after normal stores (wmb before writel). */
	nvr_fence(memory_order_release);
	if (sq->shadow.db) {
		if (!nvr_shadow_update(&sq->shadow, sq->tail))
			return;
		nvr_fq_doorbell(sq->db_mmio, sq->db_write, sq->t, sq->db_off, sq->tail);
		nvr_shadow_rung(&sq->shadow, sq->tail);
		return;
	}
	nvr_fq_doorbell(sq->db_mmio, sq->db_write, sq->t, sq->db_off, sq->tail);
}

/* The CQ head doorbell: its shadow when there is one, MMIO when needed. */
static inline void cq_doorbell(struct nvr_cq *cq, uint16_t head)
{
	if (atomic_load_explicit(&cq->hold_head, memory_order_relaxed))
		return;	/* nvr_cq_release() writes it */
	if (cq->shadow.db) {
		if (!nvr_shadow_update(&cq->shadow, head))
			return;
		nvr_fq_doorbell(cq->db_mmio, cq->db_write, cq->t, cq->db_off, head);
		nvr_shadow_rung(&cq->shadow, head);
		return;
	}
	nvr_fq_doorbell(cq->db_mmio, cq->db_write, cq->t, cq->db_off, head);
}

/* Not cloned with fewer arguments: nvr_cq_reap() jumps to it as it is. */
#ifdef __clang__
#define NVR_NOIPA __attribute__((noinline))
#else
#define NVR_NOIPA __attribute__((noipa))
#endif

#define CID_FIRST_GAP_NS 2000

/* cid_first: the CID, read before the phase, with the gap a weak CPU opens. */
static uint32_t cid_early(struct nvr_cq *cq, uint16_t slot)
{
	uint32_t cid = atomic_load_explicit((_Atomic uint32_t *)&cq->ring[slot].cid,
					    memory_order_relaxed) & 0xffff;
	uint64_t until = nvr_now_ns() + CID_FIRST_GAP_NS;

	while (nvr_now_ns() < until)
		nvr_cpu_relax();
	return cid;
}

static inline uint32_t entry_dw3(struct nvr_cq *cq, uint16_t slot)
{
	return nvr_ld32((_Atomic uint32_t *)&cq->ring[slot].cid, memory_order_acquire);
}

/* The head word after consuming the entry at its head: past the last slot,
 * head 0, the phase flipped and one more pass (bits 31:17 wrap by themselves). */
static inline uint32_t hp_next(const struct nvr_cq *cq, uint32_t hp)
{
	uint32_t next = hp + 1;

	if (unlikely((uint16_t)next == cq->depth))
		next = ((hp & 0xffff0000u) + (1u << 17)) ^ (1u << 16);
	return next;
}

bool nvr_cq_pending(struct nvr_cq *cq)
{
	uint32_t hp = nvr_ld32(&cq->hp, memory_order_relaxed);

	return ((entry_dw3(cq, (uint16_t)hp) >> 16) & 1) == ((hp >> 16) & 1);
}

/*
 * Complete the command a consumed CQE names, once. @sq: the CQ's SQ. The CQ
 * knows the SQ that completes into it (queues are created in pairs): a CQE
 * naming any other SQ ID is spurious here, whatever that SQ is, so reaping
 * never asks the controller. @ledger, a constant: false leaves out the
 * ledger's hooks (a CQ without a ledger, reap_lean()); with it, @lcq (or
 * NULL) hears of a bad CQE or SQHD. *@now: the completion stamp, read from
 * the clock at the first CQE of a reap that completes a command of a followed
 * SQ (0 until then): one read per reap.
 */
static inline __attribute__((always_inline)) void
complete_cmd(struct nvr_cq *cq, struct nvr_sq *sq, struct nvr_lcq *lcq, const struct nvr_cqe *cqe,
	     uint16_t slot, bool ledger, uint64_t *now, nvr_cqe_fn fn, void *arg)
{
	uint8_t expect = NVR_CMD_OUTSTANDING;
	struct nvr_cmd *cmd;
	void *ctx;

	if (unlikely(!sq || sq->qid != cqe->sqid)) {
		sq = NULL;
		goto spurious;
	}
	if (unlikely(cqe->cid >= sq->ncids))
		goto spurious;
	cmd = &sq->cmds[cqe->cid];
	/* Claim the command first, so that two reapers racing on one CQE cannot
	 * both complete it; read its context before the CID can be reused. */
	if (unlikely(!nvr_cas8(&cmd->state, &expect, NVR_CMD_COMPLETING)))
		goto spurious;
	ctx = cmd->ctx;
	nvr_st8(&cmd->state, NVR_CMD_FREE, memory_order_release);
	/* A head beyond the SQ is not believed: the command did complete, but
	 * the SQ keeps the last head that made sense (a hostile device). */
	if (likely(cqe->sqhd < sq->depth))
		atomic_store_explicit(&sq->head, cqe->sqhd, memory_order_release);
	else if (ledger && lcq)
		nvr_ledger_bad_sqhd(lcq, cqe, slot, sq->depth);
	atomic_fetch_sub_explicit(&sq->outstanding, 1, memory_order_relaxed);
	if (ledger && likely(sq->lsq != NULL)) {
		if (!*now)
			*now = nvr_clock_ns();
		nvr_ledger_completed_at(sq->lsq, cqe->cid, *now);
	}
	if (likely(fn != NULL))
		fn(sq, cqe, ctx, arg);
	return;
spurious:
	atomic_fetch_add_explicit(&cq->spurious, 1, memory_order_relaxed);
	if (ledger && lcq)
		nvr_ledger_bad_cqe(lcq, sq ? sq->lsq : NULL, cqe, slot);
}

/*
 * Complete one consumed CQE in any reaper's name: the ledger's consumption
 * first (when one follows the CQ), then complete_cmd().
 */
static inline __attribute__((always_inline)) void
complete(struct nvr_cq *cq, const struct nvr_cqe *cqe, uint16_t slot, uint32_t pass, nvr_cqe_fn fn,
	 void *arg, enum nvr_reaper who, uint64_t *now)
{
	struct nvr_sq *sq = cq->sq;
	struct nvr_lcq *lcq = cq->lcq;

	if (lcq && !nvr_ledger_consume_inl(lcq, slot, pass, cqe->cid, who))
		return;	/* another reaper consumed this very CQE */
	complete_cmd(cq, sq, lcq, cqe, slot, true, now, fn, arg);
}

static inline void read_cqe(struct nvr_cqe *out, struct nvr_cqe *e, uint32_t dw3)
{
	/* The caller's acquire load of dw3 orders this copy after it. */
	nvr_ld_block(out, e, 12);
	out->cid = (uint16_t)dw3;
	out->status = (uint16_t)(dw3 >> 16);
}

/* The end of an exclusive reap that took @n CQEs: the head word, the counters
 * and the head doorbell. */
static inline __attribute__((always_inline)) void
reap_done(struct nvr_cq *cq, uint32_t hp, unsigned int n)
{
	nvr_st32(&cq->hp, hp, memory_order_relaxed);
	atomic_store_explicit(&cq->db_head, (uint16_t)hp, memory_order_relaxed);
	atomic_fetch_add_explicit(&cq->reaped, n, memory_order_relaxed);
	cq_doorbell(cq, (uint16_t)hp);
}

/* NVR_CLAIM_EXCLUSIVE: the caller has the CQ to itself. */
static inline __attribute__((always_inline)) unsigned int
reap_exclusive(struct nvr_cq *cq, unsigned int max, nvr_cqe_fn fn, void *arg, enum nvr_reaper who)
{
	uint32_t hp = nvr_ld32(&cq->hp, memory_order_relaxed);
	unsigned int n = 0;
	uint64_t now = 0;

	while (n < max) {
		uint16_t slot = (uint16_t)hp;
		uint32_t cid = unlikely(cq->cid_first) ? cid_early(cq, slot) : 0;
		uint32_t dw3 = entry_dw3(cq, slot);
		struct nvr_cqe cqe;

		if (((dw3 >> 16) & 1) != ((hp >> 16) & 1))
			break;
		if (unlikely(cq->cid_first))
			dw3 = (dw3 & 0xffff0000u) | cid;
		if (unlikely(cq->held))
			cq->held[slot] = dw3;
		read_cqe(&cqe, &cq->ring[slot], dw3);
		n++;
		complete(cq, &cqe, slot, hp >> 17, fn, arg, who, &now);
		hp = hp_next(cq, hp);
	}
	if (n)
		reap_done(cq, hp, n);
	return n;
}

/*
 * NVR_CLAIM_EXCLUSIVE on a CQ whose entries are read as they are (no early
 * CID read, no withheld head): reap_exclusive() without its per-entry checks
 * of those, same effects. @ledger, a constant: with it, @lcq (not NULL)
 * follows the CQ, its hooks inline (host/hooks.h) and the completion stamp
 * read once per reap; without it, @lcq is NULL and the hooks' tests and the
 * registers their calls need are left out. The hot path of every queue of a
 * run.
 */
static inline __attribute__((always_inline)) unsigned int
reap_loop(struct nvr_cq *cq, struct nvr_lcq *lcq, bool ledger, unsigned int max,
	  enum nvr_reaper who, nvr_cqe_fn fn, void *arg)
{
	uint32_t hp = nvr_ld32(&cq->hp, memory_order_relaxed);
	unsigned int n = 0;
	uint64_t now = 0;
	struct nvr_cqe cqe;

	while (n < max) {
		struct nvr_cqe *e = &cq->ring[(uint16_t)hp];
		uint32_t dw3 = nvr_ld32((_Atomic uint32_t *)&e->cid, memory_order_acquire);
		struct nvr_sq *sq = cq->sq;
		uint16_t slot = (uint16_t)hp;

		if ((dw3 ^ hp) & (1u << 16))
			break;
		read_cqe(&cqe, e, dw3);
		n++;
		if (ledger &&
		    unlikely(!nvr_ledger_consume_inl(lcq, slot, hp >> 17, cqe.cid, who))) {
			hp = hp_next(cq, hp);
			continue;	/* another reaper consumed this very CQE */
		}
		hp = hp_next(cq, hp);
		/* No stamp without a ledger. (NULL rather than an unused &now:
		 * with &now, gcc 12 spent one more instruction per reap in
		 * reap_plain(), by callgrind.) */
		complete_cmd(cq, sq, lcq, &cqe, slot, ledger, ledger ? &now : NULL, fn, arg);
	}
	if (!n)
		return 0;
	reap_done(cq, hp, n);
	return n;
}

/*
 * reap_loop() on a CQ without a ledger: the same effects (the claim by
 * compare-and-swap that catches two reapers on one CQE, the SQ head, the
 * outstanding count, the counters), without the hooks. nvr_cq_reap() takes
 * it when the CQ has no ledger and no race knob; a racy exclusion policy
 * takes it too and is caught as before, by the claim.
 */
static NVR_NOIPA unsigned int
reap_lean(struct nvr_cq *cq, unsigned int max, enum nvr_reaper who, enum nvr_claim claim,
	  nvr_cqe_fn fn, void *arg)
{
	(void)claim;	/* in the signature so that nvr_cq_reap() jumps here as it is */
	return reap_loop(cq, NULL, false, max, who, fn, arg);
}

/* reap_loop() with a ledger, compiled apart for a poller: the ledger's
 * per-reaper count and its interrupt test then cost nothing to decide. */
static NVR_NOIPA unsigned int
reap_plain(struct nvr_cq *cq, unsigned int max, enum nvr_reaper who, enum nvr_claim claim,
	   nvr_cqe_fn fn, void *arg)
{
	struct nvr_lcq *lcq = cq->lcq;

	/* The ledger let go between nvr_cq_reap()'s look and this one. */
	if (unlikely(!lcq))
		return reap_lean(cq, max, who, claim, fn, arg);
	if (likely(who == NVR_REAP_POLL))
		return reap_loop(cq, lcq, true, max, NVR_REAP_POLL, fn, arg);
	return reap_loop(cq, lcq, true, max, who, fn, arg);
}

/* Write the head doorbell for a lock-free queue: never backwards, never stale. */
static void ring_cq_cas(struct nvr_cq *cq)
{
	nvr_mutex_lock(&cq->db_lock);
	{
		uint16_t head = nvr_cq_head(cq);

		if (head != atomic_load_explicit(&cq->db_head, memory_order_relaxed)) {
			atomic_store_explicit(&cq->db_head, head, memory_order_relaxed);
			cq_doorbell(cq, head);
		}
	}
	nvr_mutex_unlock(&cq->db_lock);
}

/* NVR_CLAIM_CAS: each entry claimed by compare-and-swap of the head word. */
static unsigned int reap_cas(struct nvr_cq *cq, unsigned int max, nvr_cqe_fn fn, void *arg,
			     enum nvr_reaper who)
{
	unsigned int n = 0;
	uint64_t now = 0;

	while (n < max) {
		uint32_t hp = nvr_ld32(&cq->hp, memory_order_acquire);
		uint16_t slot = (uint16_t)hp;
		uint32_t dw3 = entry_dw3(cq, slot);
		struct nvr_cqe cqe;

		if (((dw3 >> 16) & 1) != ((hp >> 16) & 1))
			break;
		/* Copy first, then claim: once the head moves past the slot the
		 * device may reuse it, and only the claimer's copy counts. */
		read_cqe(&cqe, &cq->ring[slot], dw3);
		if (!nvr_cas32(&cq->hp, &hp, hp_next(cq, hp)))
			continue;	/* another reaper took it: look again */
		n++;
		complete(cq, &cqe, slot, hp >> 17 | NVR_LEDGER_CLAIMED, fn, arg, who, &now);
	}
	if (n) {
		atomic_fetch_add_explicit(&cq->reaped, n, memory_order_relaxed);
		ring_cq_cas(cq);
	}
	return n;
}

static __attribute__((noinline)) unsigned int
reap_checked(struct nvr_cq *cq, unsigned int max, enum nvr_reaper who, enum nvr_claim claim,
	     nvr_cqe_fn fn, void *arg)
{
	(void)claim;
	return reap_exclusive(cq, max, fn, arg, who);
}

unsigned int nvr_cq_reap(struct nvr_cq *cq, unsigned int max, enum nvr_reaper who,
			 enum nvr_claim claim, nvr_cqe_fn fn, void *arg)
{
	if (claim == NVR_CLAIM_CAS)
		return reap_cas(cq, max, fn, arg, who);
	if (likely(!cq->cid_first && !cq->held)) {
		if (likely(!cq->lcq))
			return reap_lean(cq, max, who, claim, fn, arg);
		return reap_plain(cq, max, who, claim, fn, arg);
	}
	return reap_checked(cq, max, who, claim, fn, arg);
}

/* Is there a CQE of this pass beyond the head? The device posts in order, so
 * then every stale-looking entry before it was posted with a wrong phase. */
static bool newer_entry_ahead(struct nvr_cq *cq, uint16_t head, uint8_t phase)
{
	for (uint32_t d = 1; d < cq->depth; d++) {
		uint32_t i = head + d;
		uint8_t want = i >= cq->depth ? phase ^ 1 : phase;

		if (((entry_dw3(cq, (uint16_t)(i % cq->depth)) >> 16) & 1) == want)
			return true;
	}
	return false;
}

/*
 * Take the head entry when it was posted with a wrong phase: report it,
 * repair it (with this pass's phase it reads as old on the next one, until the
 * device really rewrites the slot; the slot is ours until the doorbell
 * releases it) and complete it. @cas claims it by compare-and-swap.
 * Return: true when an entry was taken.
 */
static bool take_wrong_phase(struct nvr_cq *cq, nvr_cqe_fn fn, void *arg, bool cas)
{
	uint32_t hp = nvr_ld32(&cq->hp, memory_order_acquire);
	uint16_t slot = (uint16_t)hp;
	uint8_t phase = (hp >> 16) & 1;
	uint32_t dw3 = entry_dw3(cq, slot);
	uint64_t now = 0;
	struct nvr_cqe cqe;

	if (((dw3 >> 16) & 1) == phase || !newer_entry_ahead(cq, slot, phase))
		return false;
	/* The device may have written the head entry while we looked ahead:
	 * only an entry still stale after seeing a newer one is wrong. */
	dw3 = entry_dw3(cq, slot);
	if (((dw3 >> 16) & 1) == phase)
		return false;
	read_cqe(&cqe, &cq->ring[slot], dw3);
	if (cas) {
		if (!nvr_cas32(&cq->hp, &hp, hp_next(cq, hp)))
			return false;
	} else {
		nvr_st32(&cq->hp, hp_next(cq, hp), memory_order_seq_cst);
	}
	if (cq->lcq)
		nvr_ledger_wrong_phase(cq->lcq, slot, cqe.cid);
	atomic_store_explicit((_Atomic uint32_t *)&cq->ring[slot].cid,
			      (dw3 & ~(1u << 16)) | (uint32_t)phase << 16, memory_order_relaxed);
	atomic_fetch_add_explicit(&cq->reaped, 1, memory_order_relaxed);
	complete(cq, &cqe, slot, hp >> 17 | NVR_LEDGER_CLAIMED, fn, arg, NVR_REAP_SWEEP, &now);
	return true;
}

unsigned int nvr_cq_release(struct nvr_cq *cq, uint16_t *slot, uint32_t *was, uint32_t *now)
{
	unsigned int n = 0;
	uint16_t head;

	nvr_mutex_lock(&cq->lock);
	head = nvr_cq_head(cq);
	for (uint16_t s = cq->released; cq->held && s != head; s = (uint16_t)((s + 1) % cq->depth)) {
		uint32_t dw3 = entry_dw3(cq, s);

		if (dw3 != cq->held[s] && !n++) {
			*slot = s;
			*was = cq->held[s];
			*now = dw3;
		}
	}
	cq->released = head;
	atomic_store_explicit(&cq->hold_head, false, memory_order_relaxed);
	cq_doorbell(cq, head);
	atomic_store_explicit(&cq->hold_head, true, memory_order_relaxed);
	nvr_mutex_unlock(&cq->lock);
	return n;
}

static unsigned int sweep_exclusive(struct nvr_cq *cq, nvr_cqe_fn fn, void *arg)
{
	unsigned int n;

	nvr_mutex_lock(&cq->lock);
	n = reap_exclusive(cq, cq->depth, fn, arg, NVR_REAP_SWEEP);
	while (take_wrong_phase(cq, fn, arg, false)) {
		unsigned int m = reap_exclusive(cq, cq->depth, fn, arg, NVR_REAP_SWEEP);

		n += 1 + m;
		if (!m)
			cq_doorbell(cq, nvr_cq_head(cq));
	}
	nvr_mutex_unlock(&cq->lock);
	return n;
}

static unsigned int sweep_cas(struct nvr_cq *cq, nvr_cqe_fn fn, void *arg)
{
	unsigned int n = reap_cas(cq, cq->depth, fn, arg, NVR_REAP_SWEEP);

	while (take_wrong_phase(cq, fn, arg, true)) {
		n += 1 + reap_cas(cq, cq->depth, fn, arg, NVR_REAP_SWEEP);
		ring_cq_cas(cq);
	}
	return n;
}

unsigned int nvr_cq_sweep(struct nvr_cq *cq, enum nvr_claim claim, nvr_cqe_fn fn, void *arg)
{
	return claim == NVR_CLAIM_CAS ? sweep_cas(cq, fn, arg) : sweep_exclusive(cq, fn, arg);
}

void nvr_cq_get_stats(const struct nvr_cq *cq, struct nvr_cq_stats *st)
{
	st->reaped = atomic_load(&cq->reaped);
	st->spurious = atomic_load(&cq->spurious);
}

static void db_state(const struct nvr_shadow *sh, struct nvr_db_state *o)
{
	memset(o, 0, sizeof(*o));
	if (!sh->db)
		return;
	o->on = true;
	o->shadow = atomic_load_explicit(sh->db, memory_order_relaxed);
	o->eventidx = atomic_load_explicit(sh->ei, memory_order_relaxed);
	o->decided = atomic_load_explicit(&sh->decided, memory_order_relaxed);
	o->last_mmio = atomic_load_explicit(&sh->last_mmio, memory_order_relaxed);
	o->mmio = atomic_load_explicit(&sh->mmio, memory_order_relaxed);
	o->skipped = atomic_load_explicit(&sh->skipped, memory_order_relaxed);
}

void nvr_sq_get_state(const struct nvr_sq *sq, struct nvr_sq_state *out)
{
	out->qid = sq->qid;
	out->depth = sq->depth;
	out->cids = sq->ncids;
	out->tail_rung = atomic_load_explicit(&sq->tail_rung, memory_order_relaxed);
	out->head = atomic_load(&sq->head);
	db_state(&sq->shadow, &out->db);
}

void nvr_cq_get_state(const struct nvr_cq *cq, struct nvr_cq_state *out)
{
	out->qid = cq->qid;
	out->depth = cq->depth;
	out->vector = cq->vector;
	out->head = nvr_cq_head(cq);
	out->phase = nvr_cq_phase(cq);
	db_state(&cq->shadow, &out->db);
}

void nvr_sq_set_ledger(struct nvr_sq *sq, struct nvr_lsq *s)
{
	sq->lsq = s;
	nvr_sq_update_slow(sq);
}

void nvr_cq_set_ledger(struct nvr_cq *cq, struct nvr_lcq *c)
{
	cq->lcq = c;
	nvr_cq_update_slow(cq);
}

void nvr_sq_update_slow(struct nvr_sq *sq)
{
	bool shadow = __atomic_load_n(&sq->shadow.db, __ATOMIC_RELAXED) != NULL;

	sq->slow = (uint8_t)((sq->lsq ? NVR_SQ_SLOW_LEDGER : 0) | (shadow ? NVR_SQ_SLOW_SHADOW : 0));
}

int nvr_sq_ledger_submitted(struct nvr_sq *sq, uint16_t cid)
{
	uint64_t now = nvr_clock_ns();
	struct nvr_lsq *s = sq->lsq;	/* NULL if the ledger let go since the slow byte was read */

	if (unlikely(!s))
		return cid;
	return nvr_ledger_submitted_at(s, cid, now);
}

void nvr_cq_update_slow(struct nvr_cq *cq)
{
	cq->slow = cq->lcq || __atomic_load_n(&cq->shadow.db, __ATOMIC_RELAXED) ||
		   cq->held || atomic_load(&cq->hold_head) || cq->cid_first || !cq->sq;
}

void nvr_queue_set_doorbell(struct nvr_transport *t, uint32_t off, volatile uint32_t **mmio,
			    nvr_reg_write_fn *write)
{
	*write = t->ops->write32;
	*mmio = NULL;
	(void)off;
#ifndef NVR_SCHED_MODEL
	/* Where BAR0 is mapped a doorbell is one store (the model build keeps
	 * the transport's write, whatever the transport). */
	if (t->mmio && off + 4 <= t->mmio_size)
		*mmio = (volatile uint32_t *)(t->mmio + off);
#endif
}

int nvr_prp_fill(struct nvr_sqe *sqe, uint64_t iova, uint32_t len, uint64_t *list,
		 uint64_t list_iova)
{
	uint64_t first = NVR_PAGE_SIZE - (iova & (NVR_PAGE_SIZE - 1));
	uint64_t page, left;
	unsigned int i = 0;

	sqe->prp1 = iova;
	sqe->prp2 = 0;
	if (len <= first)
		return 0;
	page = iova + first;
	left = len - first;
	if (left <= NVR_PAGE_SIZE) {
		sqe->prp2 = page;
		return 0;
	}
	if (left > (uint64_t)NVR_PAGE_SIZE * (NVR_PAGE_SIZE / 8))
		return -E2BIG;
	while (left) {
		list[i++] = page;
		page += NVR_PAGE_SIZE;
		left = left > NVR_PAGE_SIZE ? left - NVR_PAGE_SIZE : 0;
	}
	sqe->prp2 = list_iova;
	return 0;
}

unsigned int nvr_sq_cancel_all(struct nvr_sq *sq, uint16_t status, nvr_cqe_fn fn, void *arg)
{
	unsigned int n = 0;

	for (uint16_t cid = 0; cid < sq->ncids; cid++) {
		struct nvr_cmd *cmd = &sq->cmds[cid];
		uint8_t expect = NVR_CMD_OUTSTANDING;
		struct nvr_cqe cqe = { .sqid = sq->qid, .cid = cid, .status = (uint16_t)(status << 1) };
		void *ctx;

		if (!atomic_compare_exchange_strong(&cmd->state, &expect, NVR_CMD_COMPLETING))
			continue;
		ctx = cmd->ctx;
		atomic_store_explicit(&cmd->state, NVR_CMD_FREE, memory_order_release);
		atomic_fetch_sub_explicit(&sq->outstanding, 1, memory_order_relaxed);
		if (sq->lsq)
			nvr_ledger_completed(sq->lsq, sq->cq ? sq->cq->lcq : NULL, cid, NVR_REAP_SWEEP);
		if (fn)
			fn(sq, &cqe, ctx, arg);
		n++;
	}
	return n;
}
