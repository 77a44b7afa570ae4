/* SPDX-License-Identifier: MIT */
/*
 * What the queue and interrupt code report, as they report it: the
 * interface the host layer declares and the detector (lib/detect/ledger.c)
 * implements. The host never includes a detector header; each queue carries
 * an opaque pointer to its ledger state (NULL: not followed, no call made),
 * set through host/queue_hook.h, and the detector never reads the queue's
 * insides (it has the state accessors of <nvmerace/queue.h>).
 */
#ifndef NVR_HOST_HOOKS_H
#define NVR_HOST_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/queue.h>

struct nvr_ledger;
struct nvr_cqe;

/* Per-SQ and per-CQ state; the queue code calls the inline hooks on it. */
struct nvr_lsq;
struct nvr_lcq;
/* Returns @cid, so that nvr_sq_submit() ends in a tail call to it. */
int nvr_ledger_submitted(struct nvr_lsq *s, uint16_t cid);
/* Returns false when this CQE (slot, pass) was already consumed: a duplicate consumption. */
bool nvr_ledger_consume(struct nvr_lcq *c, uint16_t slot, uint32_t pass, uint16_t cid,
			enum nvr_reaper who);
void nvr_ledger_completed(struct nvr_lsq *s, struct nvr_lcq *c, uint16_t cid, enum nvr_reaper who);
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
