/* SPDX-License-Identifier: MIT */
/*
 * Shadow doorbells, host side (Doorbell Buffer Config, NVMe 1.4, 5.7).
 *
 * With a doorbell buffer the host writes each new SQ tail or CQ head into a
 * shadow slot in its own memory and reads the controller's EventIdx for that
 * doorbell; it writes the MMIO doorbell only when the new value passes
 * EventIdx. The store of the shadow value and the load of EventIdx are a
 * store-load pair: without a full barrier between them the load may be
 * satisfied before the store is visible (x86 keeps stores in a store buffer),
 * and host and controller may each conclude that the other will act. That is
 * seed 004 (Linux commit "Bugfix for handling of shadow doorbell buffer"),
 * and the policy below lets a scenario run either side of the fix.
 */
#ifndef NVR_DBBUF_H
#define NVR_DBBUF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/policy.h>

/* One doorbell's shadow slot and EventIdx, and what writing it cost. */
struct nvr_shadow {
	_Atomic uint32_t *db;	/* NULL: no doorbell buffer, ring MMIO every time */
	_Atomic uint32_t *ei;
	struct nvr_dbbuf_policy policy;
	bool always_mmio;	/* write the shadow, ring MMIO regardless (admin queue) */
	_Atomic uint64_t mmio;	/* updates that rang the MMIO doorbell */
	_Atomic uint64_t skipped;	/* updates that EventIdx said need not */
	_Atomic uint32_t last_mmio;	/* the value the MMIO doorbell last got */
	/* The last value whose update is over: skipped, or its MMIO write done.
	 * While it differs from *db the host is between the two. */
	_Atomic uint32_t decided;
};

/*
 * The two need-event formulas. They differ exactly when EventIdx equals the
 * new value: Linux (like virtio's vring_need_event) does not ring, SPDK does.
 * With a controller that writes EventIdx as the last value it has seen, the
 * SPDK case rings for nothing; a controller that wrote "the value that must
 * be reached" would stall under the Linux formula.
 */
static inline bool nvr_need_event_linux(uint16_t ei, uint16_t new_val, uint16_t old)
{
	return (uint16_t)(new_val - ei - 1) < (uint16_t)(new_val - old);
}

static inline bool nvr_need_event_spdk(uint16_t ei, uint16_t new_val, uint16_t old)
{
	return (uint16_t)(new_val - ei) <= (uint16_t)(new_val - old);
}

bool nvr_need_event(enum nvr_need_event f, uint16_t ei, uint16_t new_val, uint16_t old);

/**
 * nvr_shadow_update() - publish a new doorbell value in the shadow slot.
 * @sh: the doorbell's shadow; sh->db must be set.
 * @value: the new SQ tail or CQ head.
 *
 * Stores @value, then (under the FULL barrier policy only) a full barrier,
 * then reads EventIdx and applies the need-event formula.
 *
 * Return: true when the caller must also write the MMIO doorbell.
 */
bool nvr_shadow_update(struct nvr_shadow *sh, uint16_t value);

/* After the MMIO write nvr_shadow_update() asked for. */
static inline void nvr_shadow_rung(struct nvr_shadow *sh, uint16_t value)
{
	atomic_store_explicit(&sh->decided, value, memory_order_relaxed);
}

#endif
