/* SPDX-License-Identifier: MIT */
/*
 * Model programs shared by check_litmus, check_sched and bench_sched: the
 * classic litmus tests, tiny programs whose schedule counts are known, and
 * "seed 004 in miniature". Compiled with -DNVR_SCHED_MODEL.
 *
 * A litmus program records the outcome of each run as a bit in ctx->seen
 * and fails (check() returns 1) on the outcome it calls forbidden.
 */
#ifndef NVR_TESTS_SCHED_PROGS_H
#define NVR_TESTS_SCHED_PROGS_H

#include <stddef.h>
#include <string.h>

#include "sched/sched.h"
#include "sched/shim.h"

#define RLX memory_order_relaxed

struct lit {
	_Atomic uint32_t x, y;
	uint32_t r[4];
	int fence;		/* 1: mfence in P0 and P1; 2: P0 only; 3: stores are xchg */
	int code;		/* this run's outcome */
	int forbidden;
	uint32_t seen;		/* outcomes reached, one bit each */
};

static const struct nvr_sched_label lit_labels[] = {
	{ offsetof(struct lit, x), "x" },
	{ offsetof(struct lit, y), "y" },
};

static inline void lit_reset(void *ctx)
{
	struct lit *c = ctx;

	atomic_store(&c->x, 0);
	atomic_store(&c->y, 0);
	memset(c->r, 0, sizeof(c->r));
}

static inline void lit_fence(struct lit *c, int p)
{
	if (c->fence == 1 || (c->fence == 2 && p == 0))
		nvr_fence(memory_order_seq_cst);
}

static inline void lit_st(struct lit *c, _Atomic uint32_t *p, uint32_t v)
{
	if (c->fence == 3)
		nvr_xchg32(p, v);
	else
		nvr_st32(p, v, RLX);
}

static inline int lit_record(struct lit *c, int code)
{
	c->code = code;
	c->seen |= 1u << code;
	return code == c->forbidden;
}

/* SB: P0: x=1; r0=y || P1: y=1; r1=x. Outcome r0 + 2*r1; relaxed: (0,0). */
static inline void sb_actor(void *ctx, int i)
{
	struct lit *c = ctx;

	lit_st(c, i ? &c->y : &c->x, 1);
	lit_fence(c, i);
	c->r[i] = nvr_ld32(i ? &c->x : &c->y, RLX);
}

static inline int sb_check(void *ctx, const struct nvr_sched_run *run)
{
	struct lit *c = ctx;

	(void)run;
	return lit_record(c, (int)(c->r[0] + 2 * c->r[1]));
}

/* R: P0: x=1; y=1 || P1: y=2; r0=x. Outcome r0 + 2*(y==2); relaxed: r0=0, y=2. */
static inline void r_actor(void *ctx, int i)
{
	struct lit *c = ctx;

	if (!i) {
		nvr_st32(&c->x, 1, RLX);
		nvr_st32(&c->y, 1, RLX);
	} else {
		nvr_st32(&c->y, 2, RLX);
		lit_fence(c, i);
		c->r[0] = nvr_ld32(&c->x, RLX);
	}
}

static inline int r_check(void *ctx, const struct nvr_sched_run *run)
{
	struct lit *c = ctx;

	(void)run;
	return lit_record(c, (int)(c->r[0] + 2 * (atomic_load(&c->y) == 2)));
}

/* MP: P0: x=1; y=1 || P1: r0=y; r1=x. Outcome r0 + 2*r1; forbidden r0=1, r1=0. */
static inline void mp_actor(void *ctx, int i)
{
	struct lit *c = ctx;

	if (!i) {
		nvr_st32(&c->x, 1, RLX);
		nvr_st32(&c->y, 1, RLX);
	} else {
		c->r[0] = nvr_ld32(&c->y, RLX);
		c->r[1] = nvr_ld32(&c->x, RLX);
	}
}

static inline int mp_check(void *ctx, const struct nvr_sched_run *run)
{
	struct lit *c = ctx;

	(void)run;
	return lit_record(c, (int)(c->r[0] + 2 * c->r[1]));
}

/* LB: P0: r0=x; y=1 || P1: r1=y; x=1. Outcome r0 + 2*r1; forbidden (1,1). */
static inline void lb_actor(void *ctx, int i)
{
	struct lit *c = ctx;

	c->r[i] = nvr_ld32(i ? &c->y : &c->x, RLX);
	nvr_st32(i ? &c->x : &c->y, 1, RLX);
}

static inline int lb_check(void *ctx, const struct nvr_sched_run *run)
{
	struct lit *c = ctx;

	(void)run;
	return lit_record(c, (int)(c->r[0] + 2 * c->r[1]));
}

/*
 * IRIW: P0: x=1 || P1: y=1 || P2: r0=x; r1=y || P3: r2=y; r3=x.
 * Outcome r0 + 2*r1 + 4*r2 + 8*r3; forbidden 1,0,1,0 (code 5).
 */
static inline void iriw_actor(void *ctx, int i)
{
	struct lit *c = ctx;

	switch (i) {
	case 0:
		nvr_st32(&c->x, 1, RLX);
		break;
	case 1:
		nvr_st32(&c->y, 1, RLX);
		break;
	case 2:
		c->r[0] = nvr_ld32(&c->x, RLX);
		c->r[1] = nvr_ld32(&c->y, RLX);
		break;
	default:
		c->r[2] = nvr_ld32(&c->y, RLX);
		c->r[3] = nvr_ld32(&c->x, RLX);
		break;
	}
}

static inline int iriw_check(void *ctx, const struct nvr_sched_run *run)
{
	struct lit *c = ctx;

	(void)run;
	return lit_record(c, (int)(c->r[0] + 2 * c->r[1] + 4 * c->r[2] + 8 * c->r[3]));
}

/* 2+2W: P0: x=2; y=1 || P1: y=2; x=1. Outcome (x-1) + 2*(y-1); forbidden x=2, y=2. */
static inline void w22_actor(void *ctx, int i)
{
	struct lit *c = ctx;

	nvr_st32(i ? &c->y : &c->x, 2, RLX);
	nvr_st32(i ? &c->x : &c->y, 1, RLX);
}

static inline int w22_check(void *ctx, const struct nvr_sched_run *run)
{
	struct lit *c = ctx;

	(void)run;
	return lit_record(c, (int)(atomic_load(&c->x) - 1 + 2 * (atomic_load(&c->y) - 1)));
}

/* S: P0: x=2; y=1 || P1: r0=y; x=1. Outcome r0 + 2*(x==2); forbidden r0=1, x=2. */
static inline void s_actor(void *ctx, int i)
{
	struct lit *c = ctx;

	if (!i) {
		nvr_st32(&c->x, 2, RLX);
		nvr_st32(&c->y, 1, RLX);
	} else {
		c->r[0] = nvr_ld32(&c->y, RLX);
		nvr_st32(&c->x, 1, RLX);
	}
}

static inline int s_check(void *ctx, const struct nvr_sched_run *run)
{
	struct lit *c = ctx;

	(void)run;
	return lit_record(c, (int)(c->r[0] + 2 * (atomic_load(&c->x) == 2)));
}

static inline struct nvr_sched_prog lit_prog(const char *name, int n, struct lit *c,
					     void (*actor)(void *, int),
					     int (*check)(void *, const struct nvr_sched_run *))
{
	struct nvr_sched_prog p = {
		.name = name, .nr_actors = n, .actor = actor, .reset = lit_reset,
		.check = check, .ctx = c, .labels = lit_labels, .nr_labels = 2,
		.actor_name = { "P0", "P1", "P2", "P3" },
	};

	return p;
}

/*
 * Seed 004 in miniature (shadow doorbells, NVMe 1.4 5.7). The device is
 * polling (EventIdx 0xffff: no MMIO needed). The host stores the shadow SQ
 * tail, then reads EventIdx to decide whether to ring MMIO. The device, going
 * idle, stores EventIdx = its head, then reads the shadow tail once more and
 * sleeps until an MMIO doorbell if it saw nothing new. Without a full fence
 * on both sides both reads can see the old values (the SB pattern): the host
 * does not ring, the device sleeps, the command is stranded and the host's
 * 1 s (virtual) completion timeout fires.
 */
struct mini004 {
	_Atomic uint32_t shadow_tail, event_idx, stop;
	struct nvr_event doorbell, completion;
	int fence;		/* 1: full fence on both sides; 2: host side only */
	int stranded, processed;
};

static const struct nvr_sched_label mini004_labels[] = {
	{ offsetof(struct mini004, shadow_tail), "shadow_tail" },
	{ offsetof(struct mini004, event_idx), "event_idx" },
	{ offsetof(struct mini004, stop), "stop" },
	{ offsetof(struct mini004, doorbell), "doorbell" },
	{ offsetof(struct mini004, completion), "completion" },
};

static inline void mini004_reset(void *ctx)
{
	struct mini004 *c = ctx;

	atomic_store(&c->shadow_tail, 0);
	atomic_store(&c->event_idx, 0xffff);
	atomic_store(&c->stop, 0);
	c->doorbell.count = 0;
	c->completion.count = 0;
	c->stranded = c->processed = 0;
}

static inline void mini004_actor(void *ctx, int i)
{
	struct mini004 *c = ctx;
	uint32_t head = 0;

	if (i == 0) {
		/* host: submit one command */
		nvr_st32(&c->shadow_tail, 1, memory_order_release);
		if (c->fence)
			nvr_fence(memory_order_seq_cst);
		if (nvr_ld32(&c->event_idx, RLX) == head)
			nvr_event_signal(&c->doorbell);
		if (nvr_event_wait(&c->completion, 1000000000ull) < 0)
			c->stranded = 1;
		nvr_st32(&c->stop, 1, RLX);
		nvr_event_signal(&c->doorbell);
		return;
	}
	/* device */
	for (;;) {
		if (nvr_ld32(&c->shadow_tail, memory_order_acquire) != head) {
			c->processed = 1;
			nvr_event_signal(&c->completion);
			return;
		}
		if (nvr_ld32(&c->stop, RLX))
			return;
		nvr_st32(&c->event_idx, head, RLX);
		if (c->fence == 1)
			nvr_fence(memory_order_seq_cst);
		if (nvr_ld32(&c->shadow_tail, memory_order_acquire) != head)
			continue;
		nvr_event_wait(&c->doorbell, UINT64_MAX);
	}
}

static inline int mini004_check(void *ctx, const struct nvr_sched_run *run)
{
	struct mini004 *c = ctx;

	return c->stranded || run->status != NVR_SCHED_DONE;
}

static inline struct nvr_sched_prog mini004_prog(struct mini004 *c)
{
	struct nvr_sched_prog p = {
		.name = "mini004", .nr_actors = 2, .actor = mini004_actor,
		.reset = mini004_reset, .check = mini004_check, .ctx = c,
		.labels = mini004_labels, .nr_labels = 5,
		.actor_name = { "host", "device" },
	};

	nvr_event_init(&c->doorbell);
	nvr_event_init(&c->completion);
	return p;
}

/*
 * Seed 000 in miniature: an ISR and a timeout poller reap the same CQ of two
 * entries. The device posts entry 0, raises the interrupt, and 10 us
 * (virtual) later posts entry 1 and raises it again; the poller makes two
 * passes 10 us apart; the ISR waits up to 1 ms for each interrupt.
 * Policies: 0 none (no lock: both can consume one entry, a duplicate),
 * 1 trylock (the ISR gives up when the poller holds the lock, though the
 * poller may already be past the entry: stranded), 2 mutex, 3 cas (clean).
 */
struct mini000 {
	_Atomic uint32_t entry[2];	/* the phase word of each CQE */
	_Atomic uint32_t head;
	struct nvr_mutex lock;
	struct nvr_event irq;
	int policy;
	int reaped[2];
};

static const struct nvr_sched_label mini000_labels[] = {
	{ offsetof(struct mini000, entry[0]), "cqe0" },
	{ offsetof(struct mini000, entry[1]), "cqe1" },
	{ offsetof(struct mini000, head), "head" },
	{ offsetof(struct mini000, lock), "cq_lock" },
	{ offsetof(struct mini000, irq), "irq" },
};

static inline void mini000_reset(void *ctx)
{
	struct mini000 *c = ctx;

	atomic_store(&c->entry[0], 0);
	atomic_store(&c->entry[1], 0);
	atomic_store(&c->head, 0);
	c->lock.owner = 0;
	c->irq.count = 0;
	c->reaped[0] = c->reaped[1] = 0;
}

static inline void mini000_reap_loop(struct mini000 *c)
{
	for (;;) {
		uint32_t h = nvr_ld32(&c->head, memory_order_acquire);

		if (h >= 2 || !nvr_ld32(&c->entry[h], memory_order_acquire))
			return;
		if (c->policy == 3) {
			if (nvr_cas32(&c->head, &h, h + 1))
				c->reaped[h]++;
			continue;
		}
		c->reaped[h]++;
		nvr_st32(&c->head, h + 1, memory_order_release);
	}
}

static inline void mini000_reap(struct mini000 *c)
{
	if (c->policy == 1 && nvr_mutex_trylock(&c->lock))
		return;		/* the holder will reap it (it may not) */
	if (c->policy == 2)
		nvr_mutex_lock(&c->lock);
	mini000_reap_loop(c);
	if (c->policy == 1 || c->policy == 2)
		nvr_mutex_unlock(&c->lock);
}

static inline void mini000_actor(void *ctx, int i)
{
	struct mini000 *c = ctx;

	switch (i) {
	case 0:		/* device */
		nvr_st32(&c->entry[0], 1, memory_order_release);
		nvr_event_signal(&c->irq);
		nvr_vsleep_ns(10000);
		nvr_st32(&c->entry[1], 1, memory_order_release);
		nvr_event_signal(&c->irq);
		break;
	case 1:		/* isr */
		for (int k = 0; k < 2; k++)
			if (nvr_event_wait(&c->irq, 1000000) > 0)
				mini000_reap(c);
		break;
	default:	/* timeout poller */
		mini000_reap(c);
		nvr_vsleep_ns(10000);
		mini000_reap(c);
		break;
	}
}

/* 1: a duplicate, 2: a stranded entry, 0: each reaped once. */
static inline int mini000_verdict(const struct mini000 *c)
{
	if (c->reaped[0] > 1 || c->reaped[1] > 1)
		return 1;
	if (!c->reaped[0] || !c->reaped[1])
		return 2;
	return 0;
}

static inline int mini000_check(void *ctx, const struct nvr_sched_run *run)
{
	return run->status != NVR_SCHED_DONE || mini000_verdict(ctx) != 0;
}

static inline struct nvr_sched_prog mini000_prog(struct mini000 *c)
{
	struct nvr_sched_prog p = {
		.name = "mini000", .nr_actors = 3, .actor = mini000_actor,
		.reset = mini000_reset, .check = mini000_check, .ctx = c,
		.labels = mini000_labels, .nr_labels = 5,
		.actor_name = { "device", "isr", "poller" },
	};

	nvr_mutex_init(&c->lock);
	nvr_event_init(&c->irq);
	return p;
}

/*
 * Seeds 002/003 in miniature: the host moves an MSI-X entry (address, then
 * data: two MMIO writes) while the device raises that vector and samples the
 * entry. The table lives in the device: each MMIO write, and the device's
 * sample of the entry, happen under the device's register lock (as in the
 * simulator), so one write is atomic but two are not. Unmasked (policy 0)
 * the device can sample between the two writes: a torn message. With the mask
 * (policy 1) the host masks the entry, writes both words and unmasks; a
 * device that finds the entry masked sets the pending bit and waits for the
 * unmask: never torn, and the interrupt is not lost.
 */
struct mini002 {
	_Atomic uint32_t addr, data, mask, pending;
	struct nvr_mutex regs;
	int policy;
	uint32_t got_addr, got_data;
};

static const struct nvr_sched_label mini002_labels[] = {
	{ offsetof(struct mini002, addr), "msix_addr" },
	{ offsetof(struct mini002, data), "msix_data" },
	{ offsetof(struct mini002, mask), "msix_mask" },
	{ offsetof(struct mini002, pending), "pba" },
	{ offsetof(struct mini002, regs), "regs" },
};

static inline void mini002_reset(void *ctx)
{
	struct mini002 *c = ctx;

	atomic_store(&c->addr, 0xa0);
	atomic_store(&c->data, 0xd0);
	atomic_store(&c->mask, 0);
	atomic_store(&c->pending, 0);
	c->regs.owner = 0;
	c->got_addr = c->got_data = 0;
}

static inline void mini002_mmio(struct mini002 *c, _Atomic uint32_t *reg, uint32_t v)
{
	nvr_mutex_lock(&c->regs);
	nvr_st32(reg, v, memory_order_relaxed);
	nvr_mutex_unlock(&c->regs);
}

static inline void mini002_actor(void *ctx, int i)
{
	struct mini002 *c = ctx;

	if (!i) {		/* host: move the vector */
		if (c->policy)
			mini002_mmio(c, &c->mask, 1);
		mini002_mmio(c, &c->addr, 0xa1);
		mini002_mmio(c, &c->data, 0xd1);
		if (c->policy) {
			mini002_mmio(c, &c->mask, 0);
			nvr_futex_wake32(&c->mask);
		}
		return;
	}
	/* device: raise the vector once */
	for (;;) {
		nvr_mutex_lock(&c->regs);
		if (!nvr_ld32(&c->mask, memory_order_relaxed))
			break;
		nvr_st32(&c->pending, 1, memory_order_relaxed);
		nvr_mutex_unlock(&c->regs);
		nvr_futex_wait32(&c->mask, 1, UINT64_MAX);
	}
	nvr_st32(&c->pending, 0, memory_order_relaxed);
	c->got_addr = nvr_ld32(&c->addr, memory_order_relaxed);
	c->got_data = nvr_ld32(&c->data, memory_order_relaxed);
	nvr_mutex_unlock(&c->regs);
}

static inline int mini002_check(void *ctx, const struct nvr_sched_run *run)
{
	struct mini002 *c = ctx;

	return run->status != NVR_SCHED_DONE || (c->got_addr == 0xa1) != (c->got_data == 0xd1);
}

static inline struct nvr_sched_prog mini002_prog(struct mini002 *c)
{
	struct nvr_sched_prog p = {
		.name = "mini002", .nr_actors = 2, .actor = mini002_actor,
		.reset = mini002_reset, .check = mini002_check, .ctx = c,
		.labels = mini002_labels, .nr_labels = 5,
		.actor_name = { "host", "device" },
	};

	nvr_mutex_init(&c->regs);
	return p;
}

/*
 * Seed 001 in miniature: the host has a Keep Alive outstanding that the
 * device answers 1.8 s (virtual) later, by writing a CQE into host memory.
 * async (policy 0): the host shuts down at 1 s without waiting and unmaps the
 * CQ: the device's write lands after the teardown. drain (policy 1): the host
 * waits for the outstanding completion (up to 5 s) before it unmaps. The
 * model's clock jumps from deadline to deadline, so the run takes well under
 * a millisecond of wall time.
 */
struct mini001 {
	_Atomic uint32_t mapped, cqe;
	struct nvr_event done;
	int policy;
	int after_teardown;
};

static const struct nvr_sched_label mini001_labels[] = {
	{ offsetof(struct mini001, mapped), "cq_mapped" },
	{ offsetof(struct mini001, cqe), "cqe" },
	{ offsetof(struct mini001, done), "completion" },
};

static inline void mini001_reset(void *ctx)
{
	struct mini001 *c = ctx;

	atomic_store(&c->mapped, 1);
	atomic_store(&c->cqe, 0);
	c->done.count = 0;
	c->after_teardown = 0;
}

static inline void mini001_actor(void *ctx, int i)
{
	struct mini001 *c = ctx;

	if (!i) {		/* host: shut down */
		nvr_vsleep_ns(1000000000ull);
		if (c->policy)
			nvr_event_wait(&c->done, 5000000000ull);
		nvr_st32(&c->mapped, 0, memory_order_release);
		return;
	}
	/* device: answer the Keep Alive */
	nvr_vsleep_ns(1800000000ull);
	if (!nvr_ld32(&c->mapped, memory_order_acquire))
		c->after_teardown = 1;	/* the IOMMU would fault: DMA after teardown */
	else
		nvr_st32(&c->cqe, 1, memory_order_release);
	nvr_event_signal(&c->done);
}

static inline int mini001_check(void *ctx, const struct nvr_sched_run *run)
{
	return run->status != NVR_SCHED_DONE || ((struct mini001 *)ctx)->after_teardown;
}

static inline struct nvr_sched_prog mini001_prog(struct mini001 *c)
{
	struct nvr_sched_prog p = {
		.name = "mini001", .nr_actors = 2, .actor = mini001_actor,
		.reset = mini001_reset, .check = mini001_check, .ctx = c,
		.labels = mini001_labels, .nr_labels = 3,
		.actor_name = { "host", "device" },
	};

	nvr_event_init(&c->done);
	return p;
}

#endif
