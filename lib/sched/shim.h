/* SPDX-License-Identifier: MIT */
/*
 * The sync-and-memory shim: every access to memory that both the host and
 * the (simulated) device touch, and every lock, wake-up, sleep and clock read
 * between their threads, goes through these calls.
 *
 * Normal build: each call is the C11 atomic, pthread or clock call it names,
 * static inline, so it costs exactly what the bare call costs.
 *
 * Model build (-DNVR_SCHED_MODEL, `make model`, objects in build/model/): each
 * call is a scheduling point of the deterministic scheduler (lib/sched/sched.c)
 * when the calling thread is one of its actors, and the plain call otherwise
 * (set-up code before a model run). The scheduler runs one actor at a time,
 * models x86-TSO store buffers (a store is buffered, a load sees the caller's
 * own newest buffered store first, a full fence, a seq_cst RMW and every lock
 * or wake-up operation wait for the caller's buffer to drain), keeps virtual
 * time, and lets a strategy choose every step. See sched.h.
 *
 * The calls: nvr_ld*, nvr_st*, nvr_xchg*, nvr_fadd*, nvr_cas* (shared words),
 * nvr_ld_block/nvr_st_block (queue entries), nvr_fence; nvr_mutex_*;
 * nvr_event_* (an eventfd: signal, wait, wait on any of N); nvr_futex_wait32/
 * nvr_futex_wake32; nvr_vsleep_ns, nvr_vclock_ns (the clock timeouts use);
 * nvr_thread_spawn/join; nvr_yield.
 *
 * Memory orders: x86-TSO gives every plain load acquire and every plain store
 * release semantics, so in the model relaxed, acquire and release loads are
 * the same load and relaxed and release stores the same buffered store; a
 * seq_cst store is a store followed by a full fence (what compilers emit:
 * mov+mfence or xchg). Only a seq_cst fence is a full fence; an acquire or
 * release fence orders nothing TSO does not already order, and is a compiler
 * barrier in both builds.
 *
 * The layouts of struct nvr_mutex, nvr_event and nvr_thread differ between
 * the builds: never link objects of both builds into one program (the test
 * suites that use the model compile only their own file with it and use the
 * parts of the library that do not take these types).
 */
#ifndef NVR_SCHED_SHIM_H
#define NVR_SCHED_SHIM_H

#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NVR_EVENT_MAX_ANY 64

/* Plain futex calls, shared by both builds (outside a model run). */
static inline int nvr_shim_futex_wait(_Atomic uint32_t *p, uint32_t val, uint64_t timeout_ns)
{
	struct timespec ts = { (time_t)(timeout_ns / 1000000000ull),
			       (long)(timeout_ns % 1000000000ull) };

	if (syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, val,
		    timeout_ns == UINT64_MAX ? NULL : &ts, NULL, 0) < 0 && errno == ETIMEDOUT)
		return -ETIMEDOUT;
	return 0;
}

static inline void nvr_shim_futex_wake(_Atomic uint32_t *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

/* Plain eventfd calls, shared by both builds (outside a model run). */
static inline void nvr_shim_efd_signal(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static inline int nvr_shim_efd_wait(const int *fd, int n, uint64_t timeout_ns, uint64_t *count)
{
	struct pollfd pf[NVR_EVENT_MAX_ANY];
	struct timespec ts = { (time_t)(timeout_ns / 1000000000ull),
			       (long)(timeout_ns % 1000000000ull) };

	if (n < 1 || n > NVR_EVENT_MAX_ANY)
		return -EINVAL;
	for (;;) {
		int r;

		for (int i = 0; i < n; i++)
			pf[i] = (struct pollfd){ .fd = fd[i], .events = POLLIN };
		r = ppoll(pf, (nfds_t)n, timeout_ns == UINT64_MAX ? NULL : &ts, NULL);
		if (r < 0 && errno == EINTR)
			continue;	/* a signal: wait again, the full time (a bound, not exact) */
		if (r < 0)
			return -errno;
		if (!r)
			return -ETIMEDOUT;
		for (int i = 0; i < n; i++)
			if ((pf[i].revents & POLLIN) && read(fd[i], count, sizeof(*count)) == 8)
				return i;
	}
}

/* Wait until one of @n descriptors is readable (nothing is read). Return: its index, -ETIMEDOUT. */
static inline int nvr_shim_fd_wait(const int *fd, int n, uint64_t timeout_ns)
{
	struct pollfd pf[NVR_EVENT_MAX_ANY];
	struct timespec ts = { (time_t)(timeout_ns / 1000000000ull),
			       (long)(timeout_ns % 1000000000ull) };
	int r;

	if (n < 1 || n > NVR_EVENT_MAX_ANY)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		pf[i] = (struct pollfd){ .fd = fd[i], .events = POLLIN };
	do
		r = ppoll(pf, (nfds_t)n, timeout_ns == UINT64_MAX ? NULL : &ts, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (!r)
		return -ETIMEDOUT;
	for (int i = 0; i < n; i++)
		if (pf[i].revents)
			return i;
	return -EIO;
}

#ifdef NVR_SCHED_MODEL
/* The scheduler's entry points; see sched.c. Each falls back to the plain
 * operation when the caller is not an actor of a running model. */
struct nvr_mutex {
	uint32_t owner;		/* actor index + 1, 0: free */
	pthread_mutex_t os;	/* used outside a model run */
};
#define NVR_MUTEX_INITIALIZER { 0, PTHREAD_MUTEX_INITIALIZER }
/* The count inside a model run; the eventfd outside (an event is used in one or the other). */
struct nvr_event {
	uint64_t count;
	int fd;
};
struct nvr_thread {
	pthread_t th;
	int actor;		/* -1: a plain thread */
};

uint64_t nvr_sched_load(const void *p, unsigned int size);
void nvr_sched_store(void *p, unsigned int size, uint64_t v, bool seq_cst);
uint64_t nvr_sched_rmw(int op, void *p, unsigned int size, uint64_t a, uint64_t b);
void nvr_sched_fence(void);
void nvr_sched_mutex_lock(struct nvr_mutex *m);
int nvr_sched_mutex_trylock(struct nvr_mutex *m);
void nvr_sched_mutex_unlock(struct nvr_mutex *m);
void nvr_sched_mutex_lock_next(struct nvr_mutex *m);
void nvr_sched_mutex_unlock_next(struct nvr_mutex *m);
void nvr_sched_event_signal(struct nvr_event *e);
int nvr_sched_event_wait_any(struct nvr_event *const *ev, int n, uint64_t timeout_ns,
			     uint64_t *count);
int nvr_sched_futex_wait(_Atomic uint32_t *p, uint32_t val, uint64_t timeout_ns);
void nvr_sched_futex_wake(_Atomic uint32_t *p);
void nvr_sched_sleep(uint64_t ns);
void nvr_sched_spin(void);
uint64_t nvr_sched_now(void);
int nvr_sched_spawn(struct nvr_thread *t, void *(*fn)(void *), void *arg, const char *name);
int nvr_sched_join(struct nvr_thread *t);
void nvr_sched_yield(void);
int nvr_sched_poll(const int *fd, int n, uint64_t timeout_ns);
void nvr_sched_fd_changed(int fd);
void nvr_sched_hold(bool on);
void nvr_sched_label(const void *addr, const char *fmt, int n);
int nvr_event_init(struct nvr_event *e);
void nvr_event_destroy(struct nvr_event *e);

enum { NVR_RMW_XCHG = 1, NVR_RMW_CAS, NVR_RMW_ADD };

#define NVR_SHIM_LD(bits)                                                                  \
	static inline uint##bits##_t nvr_ld##bits(const _Atomic uint##bits##_t *p,         \
						   memory_order mo)                         \
	{                                                                                  \
		(void)mo;                                                                  \
		return (uint##bits##_t)nvr_sched_load((const void *)p, bits / 8);         \
	}
#define NVR_SHIM_ST(bits)                                                                  \
	static inline void nvr_st##bits(_Atomic uint##bits##_t *p, uint##bits##_t v,      \
					memory_order mo)                                   \
	{                                                                                  \
		nvr_sched_store((void *)p, bits / 8, v, mo == memory_order_seq_cst);       \
	}
#define NVR_SHIM_RMW(bits)                                                                 \
	static inline uint##bits##_t nvr_xchg##bits(_Atomic uint##bits##_t *p,             \
						     uint##bits##_t v)                      \
	{                                                                                  \
		return (uint##bits##_t)nvr_sched_rmw(NVR_RMW_XCHG, (void *)p, bits / 8, v, 0); \
	}                                                                                  \
	static inline uint##bits##_t nvr_fadd##bits(_Atomic uint##bits##_t *p,             \
						     uint##bits##_t v)                      \
	{                                                                                  \
		return (uint##bits##_t)nvr_sched_rmw(NVR_RMW_ADD, (void *)p, bits / 8, v, 0); \
	}                                                                                  \
	static inline bool nvr_cas##bits(_Atomic uint##bits##_t *p, uint##bits##_t *expect, \
					 uint##bits##_t desired)                           \
	{                                                                                  \
		uint##bits##_t old = (uint##bits##_t)nvr_sched_rmw(NVR_RMW_CAS, (void *)p,    \
								  bits / 8, *expect, desired); \
		if (old == *expect)                                                        \
			return true;                                                       \
		*expect = old;                                                             \
		return false;                                                              \
	}

static inline void nvr_fence(memory_order mo)
{
	if (mo == memory_order_seq_cst)
		nvr_sched_fence();
	else
		atomic_signal_fence(mo);
}

static inline void nvr_mutex_init(struct nvr_mutex *m)
{
	m->owner = 0;
	pthread_mutex_init(&m->os, NULL);
}

static inline void nvr_mutex_destroy(struct nvr_mutex *m)
{
	pthread_mutex_destroy(&m->os);
}

static inline void nvr_mutex_lock(struct nvr_mutex *m)
{
	nvr_sched_mutex_lock(m);
}

/* Return: 0, or -EBUSY when another thread holds @m. */
static inline int nvr_mutex_trylock(struct nvr_mutex *m)
{
	return nvr_sched_mutex_trylock(m);
}

static inline void nvr_mutex_unlock(struct nvr_mutex *m)
{
	nvr_sched_mutex_unlock(m);
}

/* See the normal build's nvr_mutex_lock_next(). */
static inline void nvr_mutex_lock_next(struct nvr_mutex *m)
{
	nvr_sched_mutex_lock_next(m);
}

static inline void nvr_mutex_unlock_next(struct nvr_mutex *m)
{
	nvr_sched_mutex_unlock_next(m);
}

static inline void nvr_event_signal(struct nvr_event *e)
{
	nvr_sched_event_signal(e);
}

static inline int nvr_event_wait_any(struct nvr_event *const *ev, int n, uint64_t timeout_ns,
				     uint64_t *count)
{
	return nvr_sched_event_wait_any(ev, n, timeout_ns, count);
}

static inline int nvr_futex_wait32(_Atomic uint32_t *p, uint32_t val, uint64_t timeout_ns)
{
	return nvr_sched_futex_wait(p, val, timeout_ns);
}

static inline void nvr_futex_wake32(_Atomic uint32_t *p)
{
	nvr_sched_futex_wake(p);
}

static inline void nvr_vsleep_ns(uint64_t ns)
{
	nvr_sched_sleep(ns);
}

static inline uint64_t nvr_vclock_ns(void)
{
	return nvr_sched_now();
}

static inline int nvr_thread_spawn(struct nvr_thread *t, void *(*fn)(void *), void *arg,
				   const char *name)
{
	return nvr_sched_spawn(t, fn, arg, name);
}

static inline int nvr_thread_join(struct nvr_thread *t)
{
	return nvr_sched_join(t);
}

static inline void nvr_yield(void)
{
	nvr_sched_yield();
}

static inline int nvr_fd_wait_any(const int *fd, int n, uint64_t timeout_ns)
{
	return nvr_sched_poll(fd, n, timeout_ns);
}

static inline void nvr_explore_hold(bool on)
{
	nvr_sched_hold(on);
}

/*
 * Under the hold, let the other actors run until each blocks: a yield gives
 * way at the yielder's next step, and the default schedule then runs the
 * others in turn (actor order after the caller), each until it blocks.
 */
static inline void nvr_explore_settle(void)
{
	nvr_sched_yield();
	nvr_sched_yield();
}

/* Name the shared word at @addr in timelines: @fmt with one %d for @n. */
static inline void nvr_shim_label(const void *addr, const char *fmt, int n)
{
	nvr_sched_label(addr, fmt, n);
}

/* Before a system call that tells another actor (an eventfd write): the stores go first. */
static inline void nvr_shim_drain(void)
{
	nvr_sched_fence();
}

/*
 * After an eventfd read, write or close of @fd that nvr_fd_wait_any() may be
 * waiting on: the scheduler polls again only the waiters on that descriptor.
 */
static inline void nvr_shim_fd_changed(int fd)
{
	nvr_sched_fd_changed(fd);
}

#else /* the normal build: the plain calls */

struct nvr_mutex {
	pthread_mutex_t os;
};
#define NVR_MUTEX_INITIALIZER { PTHREAD_MUTEX_INITIALIZER }
struct nvr_event {
	int fd;			/* an eventfd: VFIO and epoll can take it */
};
struct nvr_thread {
	pthread_t th;
};

#define NVR_SHIM_LD(bits)                                                                  \
	static inline uint##bits##_t nvr_ld##bits(const _Atomic uint##bits##_t *p,         \
						   memory_order mo)                         \
	{                                                                                  \
		return atomic_load_explicit((_Atomic uint##bits##_t *)p, mo);              \
	}
#define NVR_SHIM_ST(bits)                                                                  \
	static inline void nvr_st##bits(_Atomic uint##bits##_t *p, uint##bits##_t v,      \
					memory_order mo)                                   \
	{                                                                                  \
		atomic_store_explicit(p, v, mo);                                           \
	}
#define NVR_SHIM_RMW(bits)                                                                 \
	static inline uint##bits##_t nvr_xchg##bits(_Atomic uint##bits##_t *p,             \
						     uint##bits##_t v)                      \
	{                                                                                  \
		return atomic_exchange(p, v);                                              \
	}                                                                                  \
	static inline uint##bits##_t nvr_fadd##bits(_Atomic uint##bits##_t *p,             \
						     uint##bits##_t v)                      \
	{                                                                                  \
		return atomic_fetch_add(p, v);                                             \
	}                                                                                  \
	static inline bool nvr_cas##bits(_Atomic uint##bits##_t *p, uint##bits##_t *expect, \
					 uint##bits##_t desired)                           \
	{                                                                                  \
		return atomic_compare_exchange_strong(p, expect, desired);                 \
	}

static inline void nvr_fence(memory_order mo)
{
	atomic_thread_fence(mo);
}

static inline void nvr_mutex_init(struct nvr_mutex *m)
{
	pthread_mutex_init(&m->os, NULL);
}

static inline void nvr_mutex_destroy(struct nvr_mutex *m)
{
	pthread_mutex_destroy(&m->os);
}

static inline void nvr_mutex_lock(struct nvr_mutex *m)
{
	pthread_mutex_lock(&m->os);
}

static inline int nvr_mutex_trylock(struct nvr_mutex *m)
{
	return pthread_mutex_trylock(&m->os) ? -EBUSY : 0;
}

static inline void nvr_mutex_unlock(struct nvr_mutex *m)
{
	pthread_mutex_unlock(&m->os);
}

/*
 * nvr_mutex_lock() right after the caller's own nvr_mutex_lock() of another
 * mutex, nvr_mutex_unlock() right after its own nvr_mutex_unlock() of
 * another, with no shared access between, where neither mutex is ever
 * try-locked: the same calls, but in model mode this one is taken in the
 * previous one's step (when it can be) instead of being a scheduling point
 * of its own. No schedule's outcome is lost: another actor's step between the
 * two could as well come before the first or after the second.
 */
static inline void nvr_mutex_lock_next(struct nvr_mutex *m)
{
	pthread_mutex_lock(&m->os);
}

static inline void nvr_mutex_unlock_next(struct nvr_mutex *m)
{
	pthread_mutex_unlock(&m->os);
}

/* Return: 0, or -errno when no eventfd could be made. */
static inline int nvr_event_init(struct nvr_event *e)
{
	e->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return e->fd < 0 ? -errno : 0;
}

static inline void nvr_event_destroy(struct nvr_event *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

/* An eventfd write of 1. */
static inline void nvr_event_signal(struct nvr_event *e)
{
	nvr_shim_efd_signal(e->fd);
}

/*
 * Wait until one of @n events has a non-zero count, at most @timeout_ns
 * (UINT64_MAX: no limit), and take that count (an eventfd read) into *count.
 * Return: the index of the event, or -ETIMEDOUT, or -errno.
 */
static inline int nvr_event_wait_any(struct nvr_event *const *ev, int n, uint64_t timeout_ns,
				     uint64_t *count)
{
	int fd[NVR_EVENT_MAX_ANY];

	if (n < 1 || n > NVR_EVENT_MAX_ANY)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		fd[i] = ev[i]->fd;
	return nvr_shim_efd_wait(fd, n, timeout_ns, count);
}

/* Sleep while *p holds @val (futex): 0 when woken (perhaps spuriously), or -ETIMEDOUT. */
static inline int nvr_futex_wait32(_Atomic uint32_t *p, uint32_t val, uint64_t timeout_ns)
{
	return nvr_shim_futex_wait(p, val, timeout_ns);
}

static inline void nvr_futex_wake32(_Atomic uint32_t *p)
{
	nvr_shim_futex_wake(p);
}

static inline void nvr_vsleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* The clock every timeout and latency is measured on: CLOCK_MONOTONIC here,
 * the scheduler's virtual clock in the model build. */
static inline uint64_t nvr_vclock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int nvr_thread_spawn(struct nvr_thread *t, void *(*fn)(void *), void *arg,
				   const char *name)
{
	(void)name;
	return -pthread_create(&t->th, NULL, fn, arg);
}

static inline int nvr_thread_join(struct nvr_thread *t)
{
	return -pthread_join(t->th, NULL);
}

static inline void nvr_yield(void)
{
	sched_yield();
}

/*
 * Wait until one of @n descriptors is readable, at most @timeout_ns
 * (UINT64_MAX: no limit); nothing is read. Model: a scheduling point.
 * Return: the index of a readable one, -ETIMEDOUT or -errno.
 */
static inline int nvr_fd_wait_any(const int *fd, int n, uint64_t timeout_ns)
{
	return nvr_shim_fd_wait(fd, n, timeout_ns);
}

/*
 * Model: while held, the scheduler takes its default step everywhere (a
 * choice of one: no strategy spends preemptions or delays there, dfs does
 * not branch): a row's set-up and teardown are not what is explored.
 * Normal build: nothing.
 */
static inline void nvr_explore_hold(bool on)
{
	(void)on;
}

/*
 * Model mode, under the hold: let every other actor run until it blocks
 * before the caller goes on (the runner, after starting the interrupt
 * handlers of sched.handlers_first). Normal build: nothing.
 */
static inline void nvr_explore_settle(void)
{
}

/*
 * Name the shared word at @addr ("sq1.tail": @fmt with one %d for @n) in the
 * timelines of model mode; set-up code calls it once per object. Normal
 * build: nothing (no instruction is emitted).
 */
static inline void nvr_shim_label(const void *addr, const char *fmt, int n)
{
	(void)addr;
	(void)fmt;
	(void)n;
}

/* A system call is a full barrier already: nothing to do outside the model. */
static inline void nvr_shim_drain(void)
{
}

static inline void nvr_shim_fd_changed(int fd)
{
	(void)fd;
}

#endif /* NVR_SCHED_MODEL */

/*
 * nvr_ld8/16/32/64(p, mo): load a shared word (relaxed, acquire or seq_cst).
 * nvr_st8/16/32/64(p, v, mo): store a shared word (relaxed, release or seq_cst).
 * nvr_xchgN, nvr_faddN, nvr_casN (N = 8, 16, 32, 64): seq_cst read-modify-writes
 * (x86 locked instructions); nvr_cas* is a strong compare-and-swap that
 * writes the value it found to *expect when it fails.
 */
NVR_SHIM_LD(8)
NVR_SHIM_LD(16)
NVR_SHIM_LD(32)
NVR_SHIM_LD(64)
NVR_SHIM_ST(8)
NVR_SHIM_ST(16)
NVR_SHIM_ST(32)
NVR_SHIM_ST(64)
NVR_SHIM_RMW(8)
NVR_SHIM_RMW(16)
NVR_SHIM_RMW(32)
NVR_SHIM_RMW(64)

/*
 * nvr_ld_block/nvr_st_block: copy @n bytes (a multiple of 4, 4-byte aligned)
 * from or to shared memory, such as a 64-byte SQ entry or a 16-byte CQ entry.
 * Normal build: memcpy. Model: one 8-byte access per aligned 8 bytes (4 at
 * the edges), each a step, which is what a copy loop does on x86: another
 * actor can see a half-written entry, never a torn 4-byte word.
 */
static inline void nvr_ld_block(void *dst, const void *src, size_t n)
{
#ifdef NVR_SCHED_MODEL
	for (size_t i = 0; i < n;) {
		unsigned int w = (!(((uintptr_t)src + i) & 7) && n - i >= 8) ? 8 : 4;
		uint64_t v = nvr_sched_load((const char *)src + i, w);

		memcpy((char *)dst + i, &v, w);
		i += w;
	}
#else
	memcpy(dst, src, n);
#endif
}

static inline void nvr_st_block(void *dst, const void *src, size_t n)
{
#ifdef NVR_SCHED_MODEL
	for (size_t i = 0; i < n;) {
		unsigned int w = (!(((uintptr_t)dst + i) & 7) && n - i >= 8) ? 8 : 4;
		uint64_t v = 0;

		memcpy(&v, (const char *)src + i, w);
		nvr_sched_store((char *)dst + i, w, v, false);
		i += w;
	}
#else
	memcpy(dst, src, n);
#endif
}

/*
 * Like an eventfd read with a timeout: wait until @e's count is non-zero and
 * take it all. Return: the count, or -ETIMEDOUT (or -errno).
 */
static inline int64_t nvr_event_wait(struct nvr_event *e, uint64_t timeout_ns)
{
	uint64_t count = 0;
	int ret = nvr_event_wait_any(&e, 1, timeout_ns, &count);

	return ret < 0 ? ret : (int64_t)count;
}

#endif
