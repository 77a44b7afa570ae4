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

#include "internal.h"

static struct nvr_sim *to_sim(struct nvr_transport *t)
{
	return (struct nvr_sim *)t;
}

/* Write @target's eventfd. Return false when nothing is attached. */
static bool deliver(struct nvr_sim *s, uint16_t target)
{
	struct sim_vector *v = &s->vec[target];
	int efd = atomic_load_explicit(&v->efd, memory_order_acquire);
	uint64_t one = 1;

	if (efd < 0 || write(efd, &one, sizeof(one)) != sizeof(one))
		return false;
	atomic_fetch_add_explicit(&v->delivered, 1, memory_order_relaxed);
	if (!v->new_cqe)
		atomic_fetch_add_explicit(&v->unjustified, 1, memory_order_relaxed);
	v->new_cqe = false;
	atomic_fetch_add_explicit(&s->st_irqs, 1, memory_order_relaxed);
	return true;
}

/*
 * Where entry @vector's message goes: the host vector its data names, when the
 * address is an interrupt address; -1 when the message cannot be delivered.
 */
static int route(struct nvr_sim *s, uint16_t vector)
{
	const struct sim_vector *v = &s->vec[vector];
	uint32_t lo = atomic_load_explicit(&v->addr_lo, memory_order_acquire);
	uint32_t hi = atomic_load_explicit(&v->addr_hi, memory_order_acquire);
	uint32_t data = atomic_load_explicit(&v->data, memory_order_acquire) & 0xffff;

	if (hi || (lo & 0xfff00000) != 0xfee00000 || data >= s->cfg.nr_vectors)
		return -1;
	return (int)data;
}

int sim_msix_write(struct nvr_transport *t, unsigned int vector, unsigned int dword,
		   uint32_t value)
{
	struct nvr_sim *s = to_sim(t);
	struct sim_vector *v;

	if (vector >= s->cfg.nr_vectors || dword > 2)
		return -EINVAL;
	v = &s->vec[vector];
	/* One dword at a time, as a CPU writes the table: a device that samples
	 * the entry between two writes sees it torn. */
	atomic_store_explicit(dword == 0 ? &v->addr_lo : dword == 1 ? &v->addr_hi : &v->data, value,
			      memory_order_release);
	nvr_journal_add(&s->journal, NVR_JEV_REG_WRITE, 0, 0x10000 + vector * 16 + dword * 4, value,
			0);
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
void sim_raise(struct nvr_sim *s, uint16_t vector, bool io)
{
	struct sim_vector *v;
	uint16_t target = vector;
	bool delivered;

	if (vector >= s->cfg.nr_vectors)
		return;
	v = &s->vec[vector];
	atomic_fetch_add_explicit(&v->raised, 1, memory_order_relaxed);
	if (io && sim_fault(s, NVR_FAULT_DROP_IRQ, &v->rng)) {
		atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
		sim_journal(s, NVR_JEV_FAULT, 0, NVR_FAULT_DROP_IRQ, vector, 0);
		return;
	}
	if (atomic_load_explicit(&v->masked, memory_order_acquire)) {
		if (s->cfg.no_pba) {
			atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
			sim_journal(s, NVR_JEV_IRQ_RAISE, 0, vector, 0, 2);
		} else {
			atomic_store(&v->pending, true);	/* fires on unmask */
			atomic_fetch_add_explicit(&v->pended, 1, memory_order_relaxed);
			sim_journal(s, NVR_JEV_IRQ_RAISE, 0, vector, 0, 1);
		}
		return;
	}
	{
		int to = route(s, vector);

		if (to < 0) {
			atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
			sim_journal(s, NVR_JEV_IRQ_RAISE, 0, vector, 0, 3);
			return;
		}
		target = (uint16_t)to;
	}
	if (io && sim_fault(s, NVR_FAULT_MISROUTE_IRQ, &v->rng)) {
		target = other_vector(s, target);
		sim_journal(s, NVR_JEV_FAULT, 0, NVR_FAULT_MISROUTE_IRQ, vector, target);
	}
	delivered = deliver(s, target);
	if (!delivered || target != vector)
		atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
	sim_journal(s, NVR_JEV_IRQ_RAISE, 0, vector, delivered, target);
	if (io && delivered && sim_fault(s, NVR_FAULT_SPURIOUS_IRQ, &v->rng)) {
		sim_journal(s, NVR_JEV_FAULT, 0, NVR_FAULT_SPURIOUS_IRQ, target, 0);
		deliver(s, target);	/* nothing new behind this one */
	}
}

int sim_irq_set(struct nvr_transport *t, unsigned int vector, int efd)
{
	struct nvr_sim *s = to_sim(t);

	if (vector >= s->cfg.nr_vectors)
		return -EINVAL;
	/* Under the lock, so that no delivery is half way through the old fd. */
	pthread_mutex_lock(&s->lock);
	atomic_store_explicit(&s->vec[vector].efd, efd, memory_order_release);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int sim_irq_trigger(struct nvr_transport *t, unsigned int vector)
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
	return write(efd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

int sim_irq_mask(struct nvr_transport *t, unsigned int vector, bool masked)
{
	struct nvr_sim *s = to_sim(t);
	struct sim_vector *v;

	if (vector >= s->cfg.nr_vectors)
		return -EINVAL;
	v = &s->vec[vector];
	pthread_mutex_lock(&s->lock);
	atomic_store(&v->masked, masked);
	nvr_journal_add(&s->journal, NVR_JEV_IRQ_MASK, 0, vector, masked, 0);
	/* Unmasking a vector with its pending bit set delivers it now, to
	 * wherever the entry points at that moment. */
	if (!masked && atomic_exchange(&v->pending, false)) {
		int to = route(s, (uint16_t)vector);
		bool delivered = to >= 0 && deliver(s, (uint16_t)to);

		if (!delivered || to != (int)vector)
			atomic_fetch_add_explicit(&v->lost, 1, memory_order_relaxed);
		nvr_journal_add(&s->journal, NVR_JEV_IRQ_RAISE, 0, vector, delivered,
				(uint32_t)(to < 0 ? 0xffff : to));
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}
