// SPDX-License-Identifier: MIT
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"

struct nvr_clock nvr_clock;

__attribute__((noinline)) uint64_t nvr_clock_slow_ns(void)
{
	return nvr_now_ns();
}
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* An invariant TSC runs at a constant rate in every P- and C-state. */
static __attribute__((unused)) int tsc_invariant(void)
{
	char line[4096];
	FILE *f = fopen("/proc/cpuinfo", "r");
	int ok = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			ok = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
			break;
		}
	fclose(f);
	return ok;
}

static void calibrate(void)
{
	/* The model build's clock is virtual: no TSC to calibrate against it. */
#if defined(__x86_64__) && !defined(NVR_SCHED_MODEL)
	uint64_t t0, n0, t1, n1;

	if (!tsc_invariant())
		return;
	n0 = nvr_now_ns();
	t0 = __builtin_ia32_rdtsc();
	do
		n1 = nvr_now_ns();
	while (n1 - n0 < 2000000);
	t1 = __builtin_ia32_rdtsc();
	if (t1 <= t0)
		return;
	nvr_clock.base_tsc = t1;
	nvr_clock.base_ns = n1;
	nvr_clock.mult = (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0));
#endif
}

void nvr_clock_init(void)
{
	pthread_once(&once, calibrate);
}
