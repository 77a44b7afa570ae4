// SPDX-License-Identifier: MIT
/*
 * The shim's entry points in the model build (see shim.h): each announces an
 * operation to the scheduler when the caller is an actor of a running model,
 * and is the plain call otherwise (set-up code before a run).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

/* This file implements the model build's entry points: it sees the model's layouts. */
#ifndef NVR_SCHED_MODEL
#define NVR_SCHED_MODEL
#endif
#include "shim.h"
#include "sched_int.h"

uint64_t nvr_sched_load(const void *p, unsigned int size)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a)
		return nvr_mem_rd(p, size);
	return nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_LOAD, .size = (uint8_t)size,
						   .addr = (void *)p });
}

void nvr_sched_store(void *p, unsigned int size, uint64_t v, bool seq_cst)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a) {
		nvr_mem_wr(p, size, v);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return;
	}
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_STORE, .size = (uint8_t)size,
					    .addr = p, .a = v });
	if (seq_cst)
		nvr_sched_fence();
}

uint64_t nvr_sched_rmw(int op, void *p, unsigned int size, uint64_t a, uint64_t b)
{
	struct nvr_actor *me = nvr_sched_self();
	uint64_t old;

	if (!me) {
		/* Outside a run nothing else runs model code: a fenced read-modify-write. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		old = nvr_mem_rd(p, size);
		if (op == NVR_RMW_XCHG)
			nvr_mem_wr(p, size, a);
		else if (op == NVR_RMW_ADD)
			nvr_mem_wr(p, size, old + a);
		else if (old == a)
			nvr_mem_wr(p, size, b);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return old;
	}
	return nvr_sched_op(me, &(struct nvr_sched_op){ .kind = NVR_EV_RMW, .size = (uint8_t)size,
						    .rmw = (uint8_t)op, .addr = p, .a = a,
						    .b = b });
}

void nvr_sched_fence(void)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return;
	}
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_FENCE });
}

void nvr_sched_mutex_lock(struct nvr_mutex *m)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a) {
		pthread_mutex_lock(&m->os);
		return;
	}
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_LOCK, .addr = m });
}

int nvr_sched_mutex_trylock(struct nvr_mutex *m)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a)
		return pthread_mutex_trylock(&m->os) ? -EBUSY : 0;
	return (int)nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_TRYLOCK, .addr = m });
}

void nvr_sched_mutex_unlock(struct nvr_mutex *m)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a) {
		pthread_mutex_unlock(&m->os);
		return;
	}
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_UNLOCK, .addr = m });
}

void nvr_sched_mutex_lock_next(struct nvr_mutex *m)
{
	struct nvr_actor *a = nvr_sched_self();
	const struct nvr_sched_op op = { .kind = NVR_EV_LOCK, .addr = m };

	if (!a) {
		pthread_mutex_lock(&m->os);
		return;
	}
	if (!nvr_sched_op_next(a, &op))
		nvr_sched_op(a, &op);
}

void nvr_sched_mutex_unlock_next(struct nvr_mutex *m)
{
	struct nvr_actor *a = nvr_sched_self();
	const struct nvr_sched_op op = { .kind = NVR_EV_UNLOCK, .addr = m };

	if (!a) {
		pthread_mutex_unlock(&m->os);
		return;
	}
	if (!nvr_sched_op_next(a, &op))
		nvr_sched_op(a, &op);
}

int nvr_event_init(struct nvr_event *e)
{
	e->count = 0;
	e->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return e->fd < 0 ? -errno : 0;
}

void nvr_event_destroy(struct nvr_event *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

void nvr_sched_event_signal(struct nvr_event *e)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a) {
		nvr_shim_efd_signal(e->fd);
		return;
	}
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_SIGNAL, .addr = e });
}

static uint64_t deadline(const struct nvr_sched *S, uint64_t ns)
{
	return ns > UINT64_MAX - S->now ? UINT64_MAX : S->now + ns;
}

static uint64_t deadline_now(struct nvr_actor *a, uint64_t ns)
{
	uint64_t t;

	pthread_mutex_lock(&a->S->lock);
	t = deadline(a->S, ns);
	pthread_mutex_unlock(&a->S->lock);
	return t;
}

int nvr_sched_event_wait_any(struct nvr_event *const *ev, int n, uint64_t timeout_ns,
			     uint64_t *count)
{
	struct nvr_actor *a = nvr_sched_self();
	int fd[NVR_EVENT_MAX_ANY];
	uint64_t v;

	if (n < 1 || n > NVR_EVENT_MAX_ANY)
		return -EINVAL;
	if (!a) {
		for (int i = 0; i < n; i++)
			fd[i] = ev[i]->fd;
		return nvr_shim_efd_wait(fd, n, timeout_ns, count);
	}
	v = nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_WAIT, .addr = (void *)ev,
						.a = (uint64_t)n,
						.deadline = deadline_now(a, timeout_ns) });
	if (v == (uint64_t)-ETIMEDOUT)
		return -ETIMEDOUT;
	*count = v >> 8;
	return (int)(v & 0xff);
}

int nvr_sched_futex_wait(_Atomic uint32_t *p, uint32_t val, uint64_t timeout_ns)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a)
		return nvr_shim_futex_wait(p, val, timeout_ns);
	return nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_FUTEX_WAIT, .size = 4,
						   .addr = (void *)p, .a = val,
						   .deadline = deadline_now(a, timeout_ns) }) ==
			       (uint64_t)-ETIMEDOUT ?
		       -ETIMEDOUT :
		       0;
}

/* A wake-up enables nothing in the model (a futex wait waits for the word), but it drains. */
void nvr_sched_futex_wake(_Atomic uint32_t *p)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a) {
		nvr_shim_futex_wake(p);
		return;
	}
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_FUTEX_WAKE, .addr = (void *)p });
}

void nvr_sched_sleep(uint64_t ns)
{
	struct nvr_actor *a = nvr_sched_self();
	if (!a) {
		struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
		return;
	}
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_SLEEP, .deadline = deadline_now(a, ns) });
}

void nvr_sched_spin(void)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a) {
		sched_yield();
		return;
	}
	/* A sleep of 1 us; .b marks it a spin (advance() in sched.c). */
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_SLEEP, .b = 1,
						.deadline = deadline_now(a, 1000) });
}

uint64_t nvr_sched_now(void)
{
	struct nvr_actor *a = nvr_sched_self();
	struct timespec ts;
	uint64_t t;

	if (a) {
		/* The clock moves only when every actor is blocked: reading it is local. */
		pthread_mutex_lock(&a->S->lock);
		t = a->S->now;
		pthread_mutex_unlock(&a->S->lock);
		return t;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int nvr_sched_spawn(struct nvr_thread *t, void *(*fn)(void *), void *arg, const char *name)
{
	struct nvr_actor *a = nvr_sched_self();
	int ret;

	t->actor = -1;
	if (!a)
		return -pthread_create(&t->th, NULL, fn, arg);
	pthread_mutex_lock(&a->S->lock);
	ret = nvr_sched_start(a->S, fn, arg, -1, name);
	if (!ret)
		t->actor = a->S->nr - 1;
	pthread_mutex_unlock(&a->S->lock);
	return ret;
}

int nvr_sched_join(struct nvr_thread *t)
{
	struct nvr_actor *a = nvr_sched_self();

	if (t->actor < 0)
		return -pthread_join(t->th, NULL);
	if (!a)
		return -EINVAL;
	/* The controller joins the pthread at the end of the run. */
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_JOIN, .target = t->actor });
	return 0;
}

void nvr_sched_hold(bool on)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a)
		return;
	pthread_mutex_lock(&a->S->lock);
	a->S->hold = on;
	pthread_mutex_unlock(&a->S->lock);
}

void nvr_sched_yield(void)
{
	struct nvr_actor *a = nvr_sched_self();

	if (!a) {
		sched_yield();
		return;
	}
	nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_YIELD });
}

int nvr_sched_poll(const int *fd, int n, uint64_t timeout_ns)
{
	struct nvr_actor *a = nvr_sched_self();
	uint64_t v;

	if (n < 1 || n > NVR_EVENT_MAX_ANY)
		return -EINVAL;
	if (!a)
		return nvr_shim_fd_wait(fd, n, timeout_ns);
	v = nvr_sched_op(a, &(struct nvr_sched_op){ .kind = NVR_EV_POLL, .addr = (void *)fd,
						.a = (uint64_t)n,
						.deadline = deadline_now(a, timeout_ns) });
	return v == (uint64_t)-ETIMEDOUT ? -ETIMEDOUT : (int)v;
}

void nvr_sched_label(const void *addr, const char *fmt, int n)
{
	struct nvr_actor *a = nvr_sched_self();
	char name[NVR_SCHED_NAME_MAX];

	if (!a)
		return;	/* outside a run nothing is traced */
	/* @fmt is a literal at every call site (nvr_shim_label()), with one %d. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(name, sizeof(name), fmt, n);
#pragma GCC diagnostic pop
	pthread_mutex_lock(&a->S->lock);
	nvr_sched_name(a->S, addr, name);
	pthread_mutex_unlock(&a->S->lock);
}
