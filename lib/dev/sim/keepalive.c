// SPDX-License-Identifier: MIT
/*
 * Keep Alive (NVMe 1.4, 5.16 Keep Alive command, 5.21.1.15 Keep Alive Timer,
 * 7.12 Keep Alive). Identify KAS says the timer counts in 100 ms units; Set
 * Features KATO (in ms, rounded up to that) starts it, and every Keep Alive
 * command restarts it. When it runs out the controller has lost its host: it
 * records the reason, sets CSTS.CFS and stops processing commands.
 *
 * Keep Alive completes after cfg.keep_alive_us, the way a fabrics controller
 * answers after a round trip: long enough for a host that tears down its
 * admin queue without waiting to have the completion arrive after it.
 */
#include <nvme/types.h>

#include "dev/sim/internal.h"

#define KAS_MS 100

uint16_t nvr_sim_keep_alive(struct nvr_sim *s, uint64_t now)
{
	uint32_t kato = atomic_load_explicit(&s->kato_ms, memory_order_relaxed);

	atomic_fetch_add_explicit(&s->ka_count, 1, memory_order_relaxed);
	atomic_store_explicit(&s->ka_last_ns, now, memory_order_relaxed);
	if (kato)
		atomic_store_explicit(&s->ka_deadline_ns, now + kato * 1000000ull,
				      memory_order_relaxed);
	return 0;
}

uint16_t nvr_sim_kato_feature(struct nvr_sim *s, bool set, uint32_t cdw11, uint32_t *dw0)
{
	if (set) {
		/* Rounded up to the KAS granularity; 0 turns the timer off. */
		uint32_t kato = (cdw11 + KAS_MS - 1) / KAS_MS * KAS_MS;
		uint64_t now = sim_now();

		atomic_store(&s->kato_ms, kato);
		atomic_store(&s->ka_last_ns, now);
		atomic_store(&s->ka_deadline_ns, kato ? now + kato * 1000000ull : 0);
	}
	*dw0 = atomic_load(&s->kato_ms);
	return 0;
}

void nvr_sim_kato_check(struct nvr_sim *s, uint64_t now)
{
	uint64_t due = atomic_load_explicit(&s->ka_deadline_ns, memory_order_relaxed);

	if (!due || now < due || atomic_load(&s->state) != SIM_ENABLED)
		return;
	atomic_store(&s->ka_deadline_ns, 0);
	nvr_sim_fatal(s, SIM_FATAL_KATO);
}

uint64_t nvr_sim_kato_deadline(struct nvr_sim *s)
{
	return atomic_load_explicit(&s->ka_deadline_ns, memory_order_relaxed);
}

void nvr_sim_kato_reset(struct nvr_sim *s)
{
	atomic_store(&s->kato_ms, 0);
	atomic_store(&s->ka_deadline_ns, 0);
}
