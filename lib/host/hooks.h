/* SPDX-License-Identifier: MIT */
/*
 * What the queue and interrupt code report, as they report it: the
 * interface the host layer declares and the detector (lib/detect/ledger.c)
 * implements. The host never includes a detector header; each queue carries
 * an opaque pointer to its ledger state (NULL: not followed, no call made),
 * set through host/queue_hook.h, and the detector never reads the queue's
 * insides (it has the state accessors of <nvmerace/queue.h>).
 *
 * The command hooks' common case is inline here, so that reaping with a
 * ledger saves no register across a call: the detector's per-queue state
 * begins with the fields these read (NVR_LSQ_HOT_FIELDS, NVR_LCQ_HOT_FIELDS,
 * declared here and nowhere else); the rare cases stay out of line.
 */
#ifndef NVR_HOST_HOOKS_H
#define NVR_HOST_HOOKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/hist.h>
#include <nvmerace/queue.h>

#include "base/clock.h"
#include "base/util.h"

struct nvr_ledger;
struct nvr_cqe;

/*
 * Per-SQ and per-CQ state; the queue code calls the inline hooks on it.
 * t_submit, submits, completes: per CID, when it was last submitted, how
 * often, how often completed. submitted: submissions (the completions are
 * lat.count). slot_pass: per CQ slot, pass + 1 of its last consumption;
 * by: CQEs consumed per reaper kind.
 */
#define NVR_LSQ_HOT_FIELDS                                                                 \
	_Atomic uint64_t *t_submit;                                                        \
	_Atomic uint32_t *submits;                                                         \
	_Atomic uint32_t *completes;                                                       \
	_Atomic uint64_t submitted;                                                        \
	_Atomic uint64_t last_progress_ns;                                                 \
	struct nvr_hist lat

#define NVR_LCQ_HOT_FIELDS                                                                 \
	_Atomic uint32_t *slot_pass;                                                       \
	int vector;                                                                        \
	_Atomic uint64_t by[NVR_REAP_NR]

struct nvr_lsq;
struct nvr_lcq;

struct nvr_lsq_hot {
	NVR_LSQ_HOT_FIELDS;
};

struct nvr_lcq_hot {
	NVR_LCQ_HOT_FIELDS;
};

/* Returns @cid, so that nvr_sq_submit() ends in a tail call to it. */
int nvr_ledger_submitted(struct nvr_lsq *s, uint16_t cid);
/* Returns false when this CQE (slot, pass) was already consumed: a duplicate consumption. */
bool nvr_ledger_consume(struct nvr_lcq *c, uint16_t slot, uint32_t pass, uint16_t cid,
			enum nvr_reaper who);
void nvr_ledger_completed(struct nvr_lsq *s, struct nvr_lcq *c, uint16_t cid, enum nvr_reaper who);
/* A CQ's pass count, as nvr_ledger_consume() gets it: the head word's top 15 bits. */
#define NVR_LEDGER_PASS_MASK 0x7fffu
/*
 * Or'ed into the pass: the reaper claimed the entry (moved the head past it)
 * before this consumption, so a later pass of its slot may already be
 * consumed by the time it gets here (reap_cas()).
 */
#define NVR_LEDGER_CLAIMED (1u << 31)
/*
 * nvr_ledger_consume()'s rare cases: the slot's last consumption @was (pass
 * + 1) is not the pass before @pass. The same pass: a duplicate consumption
 * (returns false). A later one: a reaper that read the entry a wrap late,
 * its slot already taken again; where it had not claimed the entry first
 * (NVR_LEDGER_CLAIMED), whoever moved the head past the slot consumed it
 * too, a duplicate (returns false); where it had, a late but unique
 * consumption (returns true). An earlier one, or the pass count's wrap:
 * nothing wrong (returns true). And an interrupt-driven CQ's CQE taken by a
 * poller or a sweep (returns true).
 */
bool nvr_ledger_consumed_twice(struct nvr_lcq *c, uint16_t slot, uint32_t pass, uint16_t cid,
			       uint32_t was);
bool nvr_ledger_consumed_by_other(struct nvr_lcq *c, uint16_t slot, uint16_t cid,
				  enum nvr_reaper who);

/* nvr_ledger_submitted(), inline; @now from nvr_clock_ns(). */
static inline int nvr_ledger_submitted_at(struct nvr_lsq *s_, uint16_t cid, uint64_t now)
{
	struct nvr_lsq_hot *s = (struct nvr_lsq_hot *)(void *)s_;

	atomic_store_explicit(&s->t_submit[cid], now, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->submits[cid], 1, memory_order_release);
	atomic_fetch_add_explicit(&s->submitted, 1, memory_order_relaxed);
	return cid;
}

/* nvr_ledger_consume(), inline. */
static inline bool nvr_ledger_consume_inl(struct nvr_lcq *c_, uint16_t slot, uint32_t pass,
					  uint16_t cid, enum nvr_reaper who)
{
	struct nvr_lcq_hot *c = (struct nvr_lcq_hot *)(void *)c_;
	uint32_t p = pass & NVR_LEDGER_PASS_MASK;
	uint32_t was = atomic_exchange_explicit(&c->slot_pass[slot], p + 1, memory_order_relaxed);

	/* was: the pass before this one (p + 1 - 1), or none yet. */
	if (unlikely(was != p) && was && !nvr_ledger_consumed_twice(c_, slot, pass, cid, was))
		return false;
	atomic_fetch_add_explicit(&c->by[who], 1, memory_order_relaxed);
	if (likely(who == NVR_REAP_IRQ || c->vector < 0))
		return true;
	return nvr_ledger_consumed_by_other(c_, slot, cid, who);
}

/* nvr_ledger_completed(), inline; @now from nvr_clock_ns(), read once per reap. */
static inline void nvr_ledger_completed_at(struct nvr_lsq *s_, uint16_t cid, uint64_t now)
{
	struct nvr_lsq_hot *s = (struct nvr_lsq_hot *)(void *)s_;

	nvr_hist_add(&s->lat, now - atomic_load_explicit(&s->t_submit[cid], memory_order_relaxed));
	/* The latency histogram's count is the SQ's completions: no counter of its own. */
	atomic_fetch_add_explicit(&s->completes[cid], 1, memory_order_release);
	atomic_store_explicit(&s->last_progress_ns, now, memory_order_relaxed);
}
/* A CQE that named no outstanding command. @s may be NULL (unknown SQ ID, or an SQ
 * the ledger does not follow). */
void nvr_ledger_bad_cqe(struct nvr_lcq *c, struct nvr_lsq *s, const struct nvr_cqe *cqe,
			uint16_t slot);
/* A CQE completed an outstanding command but its SQHD is beyond the SQ: not believed. */
void nvr_ledger_bad_sqhd(struct nvr_lcq *c, const struct nvr_cqe *cqe, uint16_t slot,
			 uint16_t sq_depth);
/* A CQE whose phase tag is wrong: a later entry is valid while this one is not. */
void nvr_ledger_wrong_phase(struct nvr_lcq *c, uint16_t slot, uint16_t cid);

/*
 * A handler woke on @vector: @count interrupts read from its eventfd, @reaped
 * CQEs consumed by this wake. @serviced is false when the handler returned
 * without reaping (it could not get the CQ, as the try-lock design does).
 */
void nvr_ledger_irq_wake(struct nvr_ledger *l, unsigned int vector, uint64_t count,
			 unsigned int reaped, bool serviced, uint64_t woke_ns);
/* The host fired @vector itself (a spurious interrupt on purpose). */
void nvr_ledger_irq_triggered(struct nvr_ledger *l, unsigned int vector);
void nvr_ledger_irq_repointed(struct nvr_ledger *l, unsigned int vector);
/*
 * An MSI-X entry moved from or to @vector. Migration is asynchronous (tglx,
 * seed 003): an interrupt sent before the move may arrive on the old vector
 * after it, and find its CQE already reaped by the new vector's handler. On
 * real hardware an empty wake on either vector within the missed-interrupt
 * grace of a move is that, not a spurious interrupt, and it stands for a CQE
 * the sweep took on the other vector, not missed; the simulator's truth needs
 * no such allowance.
 */
void nvr_ledger_irq_moved(struct nvr_ledger *l, unsigned int vector);

#endif
