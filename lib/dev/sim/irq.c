// SPDX-License-Identifier: MIT
/*
 * MSI-X as the simulated function has it: a table of vectors with a mask bit
 * each and a Pending Bit Array (PCI Local Bus 3.0, 6.8.2). Delivering a vector
 * means writing the eventfd bound to it, as VFIO's irqfd path does. Every
 * raise, mask, unmask and delivery goes into the journal, and each vector
 * keeps the device's truth: raised, delivered, unjustified, lost.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "dev/sim/internal.h"

static struct nvr_sim *to_sim(struct nvr_transport *t)
{
	return (struct nvr_sim *)t;
}

/* An update left half done this long is taken as done: a host that writes
 * an address and never its data does not hold the interrupt forever. */
#define SIM_TEAR_MAX_NS 100000000ull
#define SIM_WINDOW_MAX_NS 1000000ull	/* torn_sample: how long a write is held open */

/*
 * Write host vector @target's eventfd. @justified: new CQEs are behind it.
 * @stray: the message is not one the entry's table update meant (torn, or
 * misrouted by a fault), so it justifies nothing where it lands. Return
 * false when nothing is attached.
 */
static bool deliver(struct nvr_sim *s, uint16_t target, bool justified, bool stray)
{
	struct sim_vector *v = &s->vec[target];
	int efd = atomic_load_explicit(&v->efd, memory_order_acquire);
	uint64_t one = 1;

	if (efd < 0)
		return false;
	/* Count before the write: the host may wake and ask at once. */
	atomic_fetch_add_explicit(&v->delivered, 1, memory_order_relaxed);
	if (!justified || stray)
		atomic_fetch_add_explicit(&v->unjustified, 1, memory_order_relaxed);
	if (stray)
		atomic_fetch_add_explicit(&v->stray, 1, memory_order_relaxed);
	/* The message is a posted write after the CQEs: they reach memory first. */
	nvr_shim_drain();
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return false;
	nvr_shim_fd_changed(efd);
	atomic_fetch_add_explicit(&s->st_irqs, 1, memory_order_relaxed);
	return true;
}

/* Does an interrupt of entry @v now have new CQEs behind it? It uses them up. */
static bool take_justified(struct sim_vector *v)
{
	bool j = v->new_cqe;

	v->new_cqe = false;
	return j;
}

/*
 * Where entry @vector's message goes now: the host vector its destination
 * and vector name (see nvr_msi_addr()), or -1 when it names none.
 */
static int route(struct nvr_sim *s, uint16_t vector)
{
	const struct sim_vector *v = &s->vec[vector];
	uint32_t lo = nvr_ld32(&v->addr_lo, memory_order_acquire);
	uint32_t hi = nvr_ld32(&v->addr_hi, memory_order_acquire);
	uint32_t data = nvr_ld32(&v->data, memory_order_acquire) & 0xffff;
	uint32_t slot = ((lo >> 12) & 0xff) * NVR_MSI_VECS_PER_DEST + data;

	if (hi || (lo & 0xfff00000) != 0xfee00000 || data >= NVR_MSI_VECS_PER_DEST ||
	    slot >= s->cfg.nr_vectors)
		return -1;
	return (int)slot;
}

/* Has the update of @v been half done for longer than any host takes? */
static bool tear_expired(const struct nvr_sim *s, const struct sim_vector *v)
{
	/* s->now is the worker's loop time: it may be older than half_since. */
	return s->now > v->half_since && s->now - v->half_since > SIM_TEAR_MAX_NS;
}

/*
 * The update is over: deliver what was sampled half way. It was torn when it
 * names neither what the entry named before the update nor what it names
 * now. With the device lock held.
 */
static void resolve(struct nvr_sim *s, uint16_t vector)
{
	struct sim_vector *v = &s->vec[vector];
	int post = route(s, vector), to = v->inflight_slot;
	bool torn = to != v->pre_slot && to != post, delivered;

	v->inflight = false;
	if (torn) {
		atomic_fetch_add_explicit(&v->torn, 1, memory_order_relaxed);
		nvr_journal_add(&s->journal, NVR_JEV_FAULT, 0, NVR_FAULT_TORN_SAMPLE, vector,
				(uint32_t)(to < 0 ? 0xffff : to));
	}
	delivered = to >= 0 && deliver(s, (uint16_t)to, v->inflight_justified, torn);
	/* Undelivered or torn, its CQEs are still owed an interrupt. */
	if (!delivered || torn)
		v->new_cqe |= v->inflight_justified;
	if (!delivered || torn)
		atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
	if (!delivered)
		atomic_fetch_add_explicit(&v->nowhere, 1, memory_order_relaxed);
	nvr_journal_add(&s->journal, NVR_JEV_IRQ_RAISE, 0, vector, delivered,
			(uint32_t)(to < 0 ? 0xffff : to));
}

/*
 * The torn_sample window: wait until the device has raised an interrupt on
 * @v, or has nothing left to raise until the host acts (at QD 1 the next
 * completion may wait for this very host), or 1 ms has passed.
 */
static void hold_window(struct nvr_sim *s, struct sim_vector *v)
{
	uint64_t end = sim_now() + SIM_WINDOW_MAX_NS;
	uint64_t from = atomic_load_explicit(&s->loop_done, memory_order_acquire);

	while (!atomic_load(&v->sampled) && sim_now() < end) {
		uint64_t done = atomic_load_explicit(&s->loop_done, memory_order_acquire);
		uint64_t busy = atomic_load_explicit(&s->busy_loop, memory_order_relaxed);

		if (done >= from + 2 && done >= busy + 2)
			break;
		/* Sleep, not spin: the device needs the CPU to raise. */
		nvr_sim_kick(s);
		nvr_sleep_ns(5000);
	}
}

int nvr_sim_msix_write(struct nvr_transport *t, unsigned int vector, unsigned int dword,
		   uint32_t value)
{
	struct nvr_sim *s = to_sim(t);
	struct sim_vector *v;
	bool window = false;

	if (vector >= s->cfg.nr_vectors || dword > 2)
		return -EINVAL;
	v = &s->vec[vector];
	/*
	 * One dword at a time, as a CPU writes the table. The device samples
	 * the entry under its lock, so each sample is one consistent reading of
	 * the registers (the bhyve fix) -- but between two writes it may read
	 * an entry whose address is new and whose data is old.
	 */
	nvr_mutex_lock(&s->lock);
	if (dword < 2) {
		if (!atomic_load(&v->half)) {
			v->pre_slot = route(s, (uint16_t)vector);
			v->half_since = sim_now();
		}
		nvr_st32(dword ? &v->addr_hi : &v->addr_lo, value, memory_order_release);
		atomic_store(&v->half, true);
	} else {
		nvr_st32(&v->data, value, memory_order_release);
		atomic_store(&v->half, false);
		if (v->inflight)
			resolve(s, (uint16_t)vector);
	}
	/*
	 * torn_sample breaks no rule of the device's: it widens the window a
	 * real one hits by chance. The host's write does not return until the
	 * device has raised an interrupt on the entry (or 1 ms has passed), so
	 * the host's next write comes after it. After an address write, an
	 * unmasked entry is sampled half-written; a masked one is not sampled
	 * at all, its interrupt waits in the PBA (PCI 3.0, 6.8.2.9) -- or, with
	 * no PBA, is lost.
	 */
	if (nvr_sim_fault_fires(s, NVR_FAULT_TORN_SAMPLE, &v->rng)) {
		atomic_store(&v->sampled, false);
		window = true;
	}
	nvr_journal_add(&s->journal, NVR_JEV_REG_WRITE, 0, 0x10000 + vector * 16 + dword * 4, value,
			0);
	nvr_mutex_unlock(&s->lock);
	if (window)
		hold_window(s, v);
	return 0;
}

/* Some other vector with an eventfd attached, or @vector itself if none. */
static uint16_t other_vector(struct nvr_sim *s, uint16_t vector)
{
	for (uint32_t i = 1; i < s->cfg.nr_vectors; i++) {
		uint16_t v = (uint16_t)((vector + i) % s->cfg.nr_vectors);

		if (v && atomic_load(&s->vec[v].efd) >= 0)
			return v;
	}
	return vector;
}

/* Called by the worker with the device lock held. */
void nvr_sim_raise(struct nvr_sim *s, uint16_t vector, bool io)
{
	struct sim_vector *v;
	uint16_t target = vector;
	bool delivered, misrouted = false;
	int to;

	if (vector >= s->cfg.nr_vectors)
		return;
	v = &s->vec[vector];
	atomic_fetch_add_explicit(&v->raised, 1, memory_order_relaxed);
	atomic_store(&v->sampled, true);	/* ends a torn_sample window */
	if (io && nvr_sim_fault_fires(s, NVR_FAULT_DROP_IRQ, &v->rng)) {
		atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
		sim_journal(s, NVR_JEV_FAULT, 0, NVR_FAULT_DROP_IRQ, vector, 0);
		return;
	}
	if (nvr_ld8(SIM_FLAG(&v->masked), memory_order_acquire)) {
		if (s->cfg.no_pba) {
			atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&v->dropped_masked, 1, memory_order_relaxed);
			sim_journal(s, NVR_JEV_IRQ_RAISE, 0, vector, 0, 2);
		} else {
			/* The PBA bit: fires on unmask. */
			nvr_st8(SIM_FLAG(&v->pending), 1, memory_order_seq_cst);
			atomic_fetch_add_explicit(&v->pended, 1, memory_order_relaxed);
			sim_journal(s, NVR_JEV_IRQ_RAISE, 0, vector, 0, 1);
		}
		return;
	}
	/* An update left half done for long is over, as far as the device can tell. */
	if (v->inflight && tear_expired(s, v))
		resolve(s, vector);
	if (atomic_load(&v->half) && !tear_expired(s, v)) {
		/* Sampled mid-update: in flight until the update ends. Two
		 * samples of one half-written entry send one message. */
		if (!v->inflight) {
			v->inflight = true;
			v->inflight_slot = route(s, vector);
			v->inflight_justified = false;
		}
		v->inflight_justified |= take_justified(v);
		return;
	}
	to = route(s, vector);
	if (to < 0) {
		atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&v->nowhere, 1, memory_order_relaxed);
		sim_journal(s, NVR_JEV_IRQ_RAISE, 0, vector, 0, 3);
		return;
	}
	target = (uint16_t)to;
	if (io && nvr_sim_fault_fires(s, NVR_FAULT_MISROUTE_IRQ, &v->rng)) {
		uint16_t other = other_vector(s, target);

		misrouted = other != target;
		target = other;
		sim_journal(s, NVR_JEV_FAULT, 0, NVR_FAULT_MISROUTE_IRQ, vector, target);
	}
	if (misrouted) {
		delivered = deliver(s, target, false, true);
	} else {
		bool j = take_justified(v);

		delivered = deliver(s, target, j, false);
		v->new_cqe |= j && !delivered;
	}
	if (!delivered || misrouted)
		atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
	if (!delivered)
		atomic_fetch_add_explicit(&v->nowhere, 1, memory_order_relaxed);
	sim_journal(s, NVR_JEV_IRQ_RAISE, 0, vector, delivered, target);
	if (io && delivered && nvr_sim_fault_fires(s, NVR_FAULT_SPURIOUS_IRQ, &v->rng)) {
		sim_journal(s, NVR_JEV_FAULT, 0, NVR_FAULT_SPURIOUS_IRQ, target, 0);
		deliver(s, target, false, false);	/* nothing new behind this one */
	}
}

int nvr_sim_irq_set(struct nvr_transport *t, unsigned int vector, int efd)
{
	struct nvr_sim *s = to_sim(t);

	if (vector >= s->cfg.nr_vectors)
		return -EINVAL;
	/* Under the lock, so that no delivery is half way through the old fd. */
	nvr_mutex_lock(&s->lock);
	atomic_store_explicit(&s->vec[vector].efd, efd, memory_order_release);
	nvr_mutex_unlock(&s->lock);
	return 0;
}

int nvr_sim_irq_trigger(struct nvr_transport *t, unsigned int vector)
{
	struct nvr_sim *s = to_sim(t);
	int efd;
	uint64_t one = 1;

	if (vector >= s->cfg.nr_vectors)
		return -EINVAL;
	/* Like VFIO's DATA_NONE trigger: the host fires it, the device is not involved. */
	efd = atomic_load(&s->vec[vector].efd);
	if (efd < 0)
		return -ENODEV;
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	nvr_shim_fd_changed(efd);
	return 0;
}

int nvr_sim_irq_mask(struct nvr_transport *t, unsigned int vector, bool masked)
{
	struct nvr_sim *s = to_sim(t);
	struct sim_vector *v;

	if (vector >= s->cfg.nr_vectors)
		return -EINVAL;
	v = &s->vec[vector];
	nvr_mutex_lock(&s->lock);
	nvr_st8(SIM_FLAG(&v->masked), masked, memory_order_seq_cst);
	nvr_journal_add(&s->journal, NVR_JEV_IRQ_MASK, 0, vector, masked, 0);
	/* Unmasking a vector with its pending bit set delivers it now, to
	 * wherever the entry points at that moment. */
	if (!masked && nvr_xchg8(SIM_FLAG(&v->pending), 0)) {
		int to = route(s, (uint16_t)vector);
		bool j = take_justified(v);
		bool delivered = to >= 0 && deliver(s, (uint16_t)to, j, false);

		v->new_cqe |= j && !delivered;
		if (!delivered) {
			atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&v->nowhere, 1, memory_order_relaxed);
		}
		nvr_journal_add(&s->journal, NVR_JEV_IRQ_RAISE, 0, vector, delivered,
				(uint32_t)(to < 0 ? 0xffff : to));
	}
	nvr_mutex_unlock(&s->lock);
	return 0;
}
