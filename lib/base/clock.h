/* SPDX-License-Identifier: MIT */
/*
 * A cheap monotonic clock for the data path: the TSC scaled to nanoseconds
 * (x86 with an invariant TSC), else CLOCK_MONOTONIC. The ledger stamps every
 * submission and completion with it, so it must cost a few instructions.
 */
#ifndef NVR_CLOCK_H
#define NVR_CLOCK_H

#include <stdint.h>

#include "base/util.h"

struct nvr_clock {
	uint64_t base_tsc;
	uint64_t base_ns;
	uint64_t mult;		/* ns per tick, 32.32 fixed point; 0: no usable TSC */
};

extern struct nvr_clock nvr_clock;

/* Calibrate once (about 2 ms); later calls do nothing. Thread safe. */
void nvr_clock_init(void);

/* nvr_now_ns() out of line: the TSC path of nvr_clock_ns()'s inline callers
 * then needs no stack frame for the struct timespec. */
uint64_t nvr_clock_slow_ns(void);

static inline uint64_t nvr_clock_ns(void)
{
#if defined(NVR_SCHED_MODEL)
	/* The ledger's stamps are on the virtual clock too. */
	return nvr_now_ns();
#elif defined(__x86_64__)
	if (likely(nvr_clock.mult)) {
		uint64_t d = __builtin_ia32_rdtsc() - nvr_clock.base_tsc;

		return nvr_clock.base_ns + (uint64_t)(((unsigned __int128)d * nvr_clock.mult) >> 32);
	}
	return nvr_clock_slow_ns();
#endif
	return nvr_now_ns();
}

#endif
