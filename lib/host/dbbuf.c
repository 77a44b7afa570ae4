// SPDX-License-Identifier: MIT
/* Shadow doorbells: the host's half of the EventIdx protocol. See dbbuf.h. */
#include "host/dbbuf.h"
#include "sched/shim.h"

bool nvr_need_event(enum nvr_need_event f, uint16_t ei, uint16_t new_val, uint16_t old)
{
	return f == NVR_NEED_EVENT_SPDK ? nvr_need_event_spdk(ei, new_val, old) :
					  nvr_need_event_linux(ei, new_val, old);
}

/* A counter bumped without a locked instruction: a locked add is itself a
 * full barrier on x86 and would hide the reordering under test. Exclusive
 * writers per doorbell keep it exact (the CQ policies that allow several
 * reapers may lose a count, never correctness). */
static void bump(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

bool nvr_shadow_update(struct nvr_shadow *sh, uint16_t value)
{
	uint16_t old = (uint16_t)nvr_ld32(sh->db, memory_order_relaxed);
	uint16_t ei;

	/* Release: the SQEs (or the consumed CQEs) before the value naming them. */
	nvr_st32(sh->db, value, memory_order_release);
	/*
	 * Order the shadow store before the EventIdx load. A release store and
	 * an acquire or relaxed load may pass each other (store-load is the one
	 * reordering x86 does); only a full barrier stops it. The controller
	 * writes EventIdx and then reads the shadow slot, with its own barrier.
	 */
	if (sh->policy.barrier == NVR_DBBUF_BARRIER_FULL)
		nvr_fence(memory_order_seq_cst);
	ei = (uint16_t)nvr_ld32(sh->ei, memory_order_relaxed);
	if (sh->always_mmio || nvr_need_event(sh->policy.need_event, ei, value, old)) {
		bump(&sh->mmio);
		atomic_store_explicit(&sh->last_mmio, value, memory_order_relaxed);
		return true;
	}
	bump(&sh->skipped);
	atomic_store_explicit(&sh->decided, value, memory_order_relaxed);
	return false;
}

const char *nvr_dbbuf_barrier_name(enum nvr_dbbuf_barrier b)
{
	return b == NVR_DBBUF_BARRIER_NONE ? "none" : "full";
}

const char *nvr_need_event_name(enum nvr_need_event f)
{
	return f == NVR_NEED_EVENT_SPDK ? "spdk" : "linux";
}
