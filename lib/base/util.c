// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/util.h"
#include "sched/shim.h"

int nvr_futex_wait(_Atomic uint32_t *addr, uint32_t val, uint64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;

#ifdef NVR_SCHED_MODEL
	(void)ts;
	(void)tsp;
	return nvr_futex_wait32(addr, val, timeout_ns ? timeout_ns : UINT64_MAX);
#endif

	if (timeout_ns) {
		ts.tv_sec = (time_t)(timeout_ns / 1000000000ull);
		ts.tv_nsec = (long)(timeout_ns % 1000000000ull);
		tsp = &ts;
	}
	if (syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0) < 0)
		return -errno;
	return 0;
}

void nvr_futex_wake(_Atomic uint32_t *addr, int count)
{
#ifdef NVR_SCHED_MODEL
	(void)count;
	nvr_futex_wake32(addr);
	return;
#endif
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

void nvr_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

#ifdef NVR_SCHED_MODEL
	nvr_vsleep_ns(ns);
	return;
#endif
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void nvr_rng_seed(struct nvr_rng *rng, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t nvr_rng_next(struct nvr_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t nvr_rng_range(struct nvr_rng *rng, uint64_t lo, uint64_t hi)
{
	uint64_t span;

	if (hi <= lo)
		return lo;
	span = hi - lo + 1;
	if (span == 0)	/* the whole 64-bit range */
		return nvr_rng_next(rng);
	return lo + nvr_rng_next(rng) % span;
}
