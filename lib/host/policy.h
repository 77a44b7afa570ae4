/* SPDX-License-Identifier: MIT */
/*
 * Host policies at work: reaping and sweeping a CQ under an exclusion
 * policy. The policies themselves are <nvmerace/policy.h>.
 */
#ifndef NVR_POLICY_H
#define NVR_POLICY_H

#include <stdbool.h>

#include <nvmerace/policy.h>

#include "host/queue.h"

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
