// SPDX-License-Identifier: MIT
#include <string.h>

#include "host/policy.h"

static const char *const cq_lock_names[NVR_CQ_LOCK_NR] = {
	[NVR_CQ_LOCK_MUTEX] = "mutex",
	[NVR_CQ_LOCK_NONE] = "none",
	[NVR_CQ_LOCK_TRYLOCK] = "trylock",
	[NVR_CQ_LOCK_CAS] = "cas",
};

const char *nvr_cq_lock_name(enum nvr_cq_lock l)
{
	return (unsigned int)l < NVR_CQ_LOCK_NR ? cq_lock_names[l] : "?";
}

int nvr_cq_lock_by_name(const char *name)
{
	for (int i = 0; i < NVR_CQ_LOCK_NR; i++)
		if (!strcmp(name, cq_lock_names[i]))
			return i;
	return -1;
}

unsigned int nvr_policy_reap(struct nvr_cq *cq, enum nvr_cq_lock lock, enum nvr_reaper who,
			     nvr_cqe_fn fn, void *arg, bool *serviced)
{
	unsigned int n;

	*serviced = true;
	switch (lock) {
	case NVR_CQ_LOCK_NONE:
		/* The bug on purpose: nothing keeps two reapers apart. */
		return nvr_cq_reap(cq, cq->depth, who, NVR_CLAIM_EXCLUSIVE, fn, arg);
	case NVR_CQ_LOCK_TRYLOCK:
		if (nvr_mutex_trylock(&cq->lock)) {
			*serviced = false;
			return 0;
		}
		break;
	case NVR_CQ_LOCK_CAS:
		return nvr_cq_reap(cq, cq->depth, who, NVR_CLAIM_CAS, fn, arg);
	default:
		nvr_mutex_lock(&cq->lock);
		break;
	}
	/* A per-call limit after the eventfd was read loses the wakeup for
	 * what is left (SPDK 7406eb0dc0): the fix drains until empty. */
	n = nvr_cq_reap(cq, who == NVR_REAP_IRQ && cq->irq_limit ? cq->irq_limit : cq->depth, who,
			NVR_CLAIM_EXCLUSIVE, fn, arg);
	/* Stopped at the limit with CQEs left: not serviced, as far as they go. */
	if (who == NVR_REAP_IRQ && cq->irq_limit && n == cq->irq_limit && nvr_cq_pending(cq))
		*serviced = false;
	nvr_mutex_unlock(&cq->lock);
	return n;
}

unsigned int nvr_policy_sweep(struct nvr_cq *cq, enum nvr_cq_lock lock, nvr_cqe_fn fn, void *arg)
{
	/* The sweep is the timeout handler: it waits for the lock whatever the
	 * handlers do, except on a lock-free queue, where it claims by CAS. */
	return nvr_cq_sweep(cq, lock == NVR_CQ_LOCK_CAS ? NVR_CLAIM_CAS : NVR_CLAIM_EXCLUSIVE, fn,
			    arg);
}
