/* SPDX-License-Identifier: MIT */
/* Small helpers of the library that a front end may use too. */
#ifndef NVMERACE_UTIL_H
#define NVMERACE_UTIL_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define NVR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NVR_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NVR_MAX(a, b) ((a) > (b) ? (a) : (b))
#define NVR_ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))

#ifdef NVR_SCHED_MODEL
/**
 * nvr_sched_now() - the model build's clock (lib/sched/shim.h)
 *
 * Return: the scheduler's virtual time inside a model run, CLOCK_MONOTONIC outside.
 */
uint64_t nvr_sched_now(void);
/**
 * nvr_sched_yield() - the model build's yield: a scheduling point
 *
 * Return: nothing.
 */
void nvr_sched_yield(void);
/**
 * nvr_sched_sleep() - the model build's sleep on the virtual clock
 * @ns: how long
 *
 * Return: nothing.
 */
void nvr_sched_sleep(uint64_t ns);
/**
 * nvr_sched_spin() - the model build's nap of a spin that waits for another
 * actor: 1 us, or until the next thing another actor does when none did
 * anything since the nap began (see lib/sched/sched.c advance()).
 *
 * Return: nothing.
 */
void nvr_sched_spin(void);
#endif

/**
 * nvr_now_ns() - the monotonic clock.
 *
 * Return: CLOCK_MONOTONIC in nanoseconds; in the model build (make model),
 * the scheduler's virtual clock during a model run.
 */
static inline uint64_t nvr_now_ns(void)
{
	struct timespec ts;

#ifdef NVR_SCHED_MODEL
	(void)ts;
	return nvr_sched_now();
#endif

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/**
 * nvr_cpu_relax() - tell the CPU this is a spin-wait loop.
 *
 * Return: nothing.
 */
static inline void nvr_cpu_relax(void)
{
#if defined(NVR_SCHED_MODEL)
	/* A spin is where another actor gets its turn; a yield would not let
	 * the virtual clock move (it moves when every actor waits): a 1 us nap. */
	nvr_sched_sleep(1000);
#elif defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/**
 * nvr_spin_idle() - a spin-wait for what another actor does (a completion,
 * a free slot), never for the clock: nvr_cpu_relax(), except that in the
 * model build a nap in which nobody else did anything lasts until somebody
 * does, instead of 1 us (each spin of an idle waiter was a step).
 *
 * Return: nothing.
 */
static inline void nvr_spin_idle(void)
{
#if defined(NVR_SCHED_MODEL)
	nvr_sched_spin();
#else
	nvr_cpu_relax();
#endif
}

#endif
