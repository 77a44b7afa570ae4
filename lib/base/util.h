/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the host side and the simulated device. */
#ifndef NVR_UTIL_H
#define NVR_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <nvmerace/util.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Sleep on *addr while it still holds @val, at most @timeout_ns (0: no limit). */
int nvr_futex_wait(_Atomic uint32_t *addr, uint32_t val, uint64_t timeout_ns);
void nvr_futex_wake(_Atomic uint32_t *addr, int count);

void nvr_sleep_ns(uint64_t ns);

/* A small, fast, seedable random generator (xoshiro256** by Blackman and Vigna). */
struct nvr_rng {
	uint64_t s[4];
};
void nvr_rng_seed(struct nvr_rng *rng, uint64_t seed);
uint64_t nvr_rng_next(struct nvr_rng *rng);
/* A value uniformly drawn from [lo, hi]. */
uint64_t nvr_rng_range(struct nvr_rng *rng, uint64_t lo, uint64_t hi);

#endif
