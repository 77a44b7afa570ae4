/* SPDX-License-Identifier: MIT */
/*
 * Where a queue keeps its detector's state: an opaque pointer the queue code
 * hands to the hooks of detect/hooks.h. The ledger sets it when it follows a
 * queue and clears it when it stops; it never sees the queue's insides.
 */
#ifndef NVR_HOST_QUEUE_HOOK_H
#define NVR_HOST_QUEUE_HOOK_H

struct nvr_sq;
struct nvr_cq;
struct nvr_lsq;
struct nvr_lcq;

/**
 * nvr_sq_set_ledger() - give @sq the ledger state its hooks report to.
 * @sq: the queue; set before traffic starts, cleared after it stopped.
 * @s: the state, or NULL to stop reporting.
 *
 * Return: nothing.
 */
void nvr_sq_set_ledger(struct nvr_sq *sq, struct nvr_lsq *s);

/**
 * nvr_cq_set_ledger() - the same for a CQ.
 * @cq: the queue.
 * @c: the state, or NULL.
 *
 * Return: nothing.
 */
void nvr_cq_set_ledger(struct nvr_cq *cq, struct nvr_lcq *c);

#endif
