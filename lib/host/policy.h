/* SPDX-License-Identifier: MIT */
/*
 * Host policies: the driver designs the seed documents argue about. A
 * scenario picks one per run; the correct ones must come out clean and the
 * buggy ones must be caught.
 */
#ifndef NVR_POLICY_H
#define NVR_POLICY_H

#include <stdbool.h>

#include "detect/ledger.h"
#include "queue.h"

/*
 * How the reapers of one CQ (an interrupt handler, a timeout poller, a dump
 * poller) exclude each other: seed 000 (FreeBSD D36924).
 */
enum nvr_cq_lock {
	NVR_CQ_LOCK_MUTEX,	/* a lock around reaping: correct, can wait */
	NVR_CQ_LOCK_NONE,	/* nothing: an entry consumed twice, the head moved backwards */
	NVR_CQ_LOCK_TRYLOCK,	/* FreeBSD's in_isr: a reaper that cannot get the CQ
				 * returns at once, and an interrupt's CQE may wait
				 * for the next timeout (stranded) */
	NVR_CQ_LOCK_CAS,	/* lock-free: claim each entry by CAS on the head word */
	NVR_CQ_LOCK_NR,
};

const char *nvr_cq_lock_name(enum nvr_cq_lock l);
int nvr_cq_lock_by_name(const char *name);

/**
 * nvr_policy_reap() - reap @cq under exclusion policy @lock.
 * @cq: the queue.
 * @lock: the policy.
 * @who: who reaps, for the ledger.
 * @fn: completion callback, @arg its argument.
 * @serviced: false when the reaper gave up without looking (try-lock failed).
 * Return: CQEs consumed.
 */
unsigned int nvr_policy_reap(struct nvr_cq *cq, enum nvr_cq_lock lock, enum nvr_reaper who,
			     nvr_cqe_fn fn, void *arg, bool *serviced);

/* The timeout sweep under @lock. */
unsigned int nvr_policy_sweep(struct nvr_cq *cq, enum nvr_cq_lock lock, nvr_cqe_fn fn, void *arg);

#endif
