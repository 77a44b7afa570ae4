// SPDX-License-Identifier: MIT
/*
 * MSI-X as the simulated function has it: a table of vectors with a mask bit
 * each and a Pending Bit Array (PCI Local Bus 3.0, 6.8.2). Delivering a vector
 * means writing the eventfd bound to it, as VFIO's irqfd path does.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "internal.h"

static struct nvr_sim *to_sim(struct nvr_transport *t)
{
	return (struct nvr_sim *)t;
}

static bool deliver(struct nvr_sim *s, uint16_t vector)
{
	int efd = atomic_load_explicit(&s->vec[vector].efd, memory_order_acquire);
	uint64_t one = 1;

	if (efd < 0)
		return false;
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return false;
	atomic_fetch_add_explicit(&s->st_irqs, 1, memory_order_relaxed);
	return true;
}

void sim_raise(struct nvr_sim *s, uint16_t vector)
{
	struct sim_vector *v;
	bool delivered = false;

	if (vector >= s->cfg.nr_vectors)
		return;
	v = &s->vec[vector];
	if (atomic_load_explicit(&v->masked, memory_order_acquire))
		atomic_store(&v->pending, true);	/* fires on unmask */
	else
		delivered = deliver(s, vector);
	nvr_journal_add(&s->journal, NVR_JEV_IRQ_RAISE, 0, vector, delivered, 0);
}

int sim_irq_set(struct nvr_transport *t, unsigned int vector, int efd)
{
	struct nvr_sim *s = to_sim(t);

	if (vector >= s->cfg.nr_vectors)
		return -EINVAL;
	atomic_store_explicit(&s->vec[vector].efd, efd, memory_order_release);
	return 0;
}

int sim_irq_trigger(struct nvr_transport *t, unsigned int vector)
{
	struct nvr_sim *s = to_sim(t);

	if (vector >= s->cfg.nr_vectors)
		return -EINVAL;
	return deliver(s, (uint16_t)vector) ? 0 : -ENODEV;
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
	/* Unmasking a vector with its pending bit set delivers it now. */
	if (!masked && atomic_exchange(&v->pending, false)) {
		bool delivered = deliver(s, (uint16_t)vector);

		nvr_journal_add(&s->journal, NVR_JEV_IRQ_RAISE, 0, vector, delivered, 1);
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}
