// SPDX-License-Identifier: MIT
/*
 * x86-TSO store buffers, the operational model of Owens, Sarkar and Sewell,
 * "A better x86 memory model: x86-TSO" (TPHOLs 2009):
 *
 *  - each actor has a FIFO buffer of (address, size, value) stores;
 *  - a store enters the buffer; memory is the real memory and a store reaches
 *    it only when the scheduler chooses that actor's flush step, which writes
 *    the oldest entry;
 *  - a load is composed byte by byte from the actor's own newest buffered
 *    store covering that byte, else memory (store forwarding);
 *  - a full fence, a locked RMW and the lock, unlock, signal and wait
 *    operations are enabled only when the buffer is empty (sched.c).
 *
 * Only the scheduler's running thread touches memory through here (the
 * scheduler runs one actor at a time and hands over under its lock), so the
 * accesses are relaxed atomics: plain in effect, and race-free for TSan.
 */
#include <string.h>

#include "sched_int.h"

uint64_t nvr_mem_rd(const void *p, unsigned int size)
{
	switch (size) {
	case 1:
		return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
	case 2:
		return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
	case 4:
		return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
	default:
		return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	}
}

void nvr_mem_wr(void *p, unsigned int size, uint64_t v)
{
	switch (size) {
	case 1:
		__atomic_store_n((uint8_t *)p, (uint8_t)v, __ATOMIC_RELAXED);
		break;
	case 2:
		__atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED);
		break;
	case 4:
		__atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED);
		break;
	default:
		__atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
		break;
	}
}

static const struct nvr_sb_ent *ent(const struct nvr_actor *a, unsigned int i)
{
	return &a->sb[(a->sb_head + i) % NVR_SCHED_SB_MAX];
}

/* Values are kept as the little-endian bytes of the word (x86, aarch64). */
uint64_t nvr_tso_load(const struct nvr_actor *a, const void *p, unsigned int size, bool *fwd)
{
	uint64_t v = nvr_mem_rd(p, size);
	uintptr_t lo = (uintptr_t)p, hi = lo + size;
	uint8_t b[8];

	*fwd = false;
	if (!a->sb_n)
		return v;
	memcpy(b, &v, sizeof(b));
	/* Oldest to newest, so that the newest store to a byte wins. */
	for (unsigned int i = 0; i < a->sb_n; i++) {
		const struct nvr_sb_ent *e = ent(a, i);
		uintptr_t elo = (uintptr_t)e->addr, ehi = elo + e->size;
		uint8_t eb[8];

		if (ehi <= lo || elo >= hi)
			continue;
		memcpy(eb, &e->val, sizeof(eb));
		for (uintptr_t x = (elo > lo ? elo : lo); x < (ehi < hi ? ehi : hi); x++)
			b[x - lo] = eb[x - elo];
		*fwd = true;
	}
	v = 0;
	memcpy(&v, b, size);
	return v;
}

/* The caller has checked that the buffer has room (a store is enabled only then). */
void nvr_tso_push(struct nvr_actor *a, void *p, unsigned int size, uint64_t v)
{
	struct nvr_sb_ent *e = &a->sb[(a->sb_head + a->sb_n) % NVR_SCHED_SB_MAX];

	e->addr = p;
	e->size = (uint8_t)size;
	e->val = v;
	e->delayed = false;
	a->sb_n++;
}

const struct nvr_sb_ent *nvr_tso_head(const struct nvr_actor *a)
{
	return a->sb_n ? ent(a, 0) : NULL;
}

void nvr_tso_flush(struct nvr_actor *a)
{
	struct nvr_sb_ent *e = &a->sb[a->sb_head];

	nvr_mem_wr(e->addr, e->size, e->val);
	a->sb_head = (a->sb_head + 1) % NVR_SCHED_SB_MAX;
	a->sb_n--;
}
