// SPDX-License-Identifier: MIT
/*
 * The MSI-X update styles. Each is the host code under test: the simulator
 * only decides when it samples the entry (and, with the torn_sample fault,
 * holds the host's address write open until it has).
 */
#include <errno.h>
#include <string.h>

#include "dev/transport.h"
#include "host/msix.h"

static const char *const update_names[NVR_MSIX_NR] = {
	[NVR_MSIX_MASK] = "mask",
	[NVR_MSIX_UNMASKED] = "unmasked",
	[NVR_MSIX_TWO_STEP] = "two-step",
	[NVR_MSIX_EVENTFD] = "eventfd",
	[NVR_MSIX_AFFINITY] = "affinity",
	[NVR_MSIX_RESIZE] = "resize",
	[NVR_MSIX_DETACH] = "detach",
	[NVR_MSIX_TWO_STEP_NOCHECK] = "two-step-nocheck",
};

const char *nvr_msix_update_name(enum nvr_msix_update u)
{
	return (unsigned int)u < NVR_MSIX_NR ? update_names[u] : "?";
}

int nvr_msix_update_by_name(const char *name)
{
	for (int i = 0; i < NVR_MSIX_NR; i++)
		if (!strcmp(name, update_names[i]))
			return i;
	return -1;
}

bool nvr_msix_update_vfio(enum nvr_msix_update u)
{
	return u == NVR_MSIX_EVENTFD || u == NVR_MSIX_AFFINITY || u == NVR_MSIX_RESIZE ||
	       u == NVR_MSIX_DETACH;
}

/*
 * The host kernel's move. Where it owns the table behind vfio-pci, through
 * the IRQ's affinity. On the simulator, as Linux's __pci_write_msi_msg()
 * writes an MSI-X entry since 5.14 ("PCI/MSI: Enforce that MSI-X table
 * entry is masked for update"): masked, every dword, unmasked.
 */
static int move_kernel(struct nvr_irq *irq, unsigned int entry, unsigned int to)
{
	int ret = nvr_irq_cpu_affinity(irq, entry, to / NVR_MSI_VECS_PER_DEST);

	if (ret != -EOPNOTSUPP)
		return ret;
	ret = nvr_irq_msix_mask(irq, entry, true);
	if (ret)
		return ret;
	ret = nvr_irq_msix_retarget(irq, entry, to);
	return nvr_irq_msix_mask(irq, entry, false) ?: ret;
}

/*
 * Shrink the enabled set below a spare vector, one above every vector in
 * use, then grow it to take the spare again, in turn. The entry keeps its
 * eventfd: only the set around it changes.
 */
static int move_resize(struct nvr_irq *irq, struct nvr_msix_move_stats *st)
{
	int ret;

	if (!st)
		return -EINVAL;
	if (!st->spare)
		st->spare = nvr_irq_efd_top(irq);
	if (st->spare >= nvr_irq_count(irq))
		return -ERANGE;
	ret = st->resizes % 2 ? nvr_irq_efd_grow(irq, st->spare) : nvr_irq_efd_shrink(irq, st->spare);
	if (!ret)
		st->resizes++;
	return ret;
}

static int move_masked(struct nvr_irq *irq, unsigned int entry, unsigned int to)
{
	int ret = nvr_irq_msix_mask(irq, entry, true);

	if (ret)
		return ret;
	ret = nvr_irq_msix_retarget(irq, entry, to);
	/* Unmask whatever happened: a pending interrupt fires now, to @to. */
	return nvr_irq_msix_mask(irq, entry, false) ?: ret;
}

/*
 * Linux's msi_set_affinity() for an MSI that cannot be masked (arch/x86/
 * kernel/apic/msi.c), with host vectors for (CPU, vector) pairs: from (c1, v1)
 * to (c2, v2) through (c1, v2). Each step changes one half of the message, so
 * a device that samples between the address and the data write reads either
 * the message before the step or the one after it, never a third.
 */
static int move_two_step(struct nvr_irq *irq, unsigned int entry, unsigned int from,
			 unsigned int to, bool check, struct nvr_msix_move_stats *st)
{
	unsigned int mid = from - from % NVR_MSI_VECS_PER_DEST + to % NVR_MSI_VECS_PER_DEST;
	uint64_t irr;
	bool owned;
	int ret;

	/* Same CPU or same vector: one half changes; a direct update is safe. */
	if (mid == from || mid == to)
		return nvr_irq_msix_retarget(irq, entry, to);
	if (!check) {
		ret = nvr_irq_msix_retarget(irq, entry, mid);
		return ret ? ret : nvr_irq_msix_retarget(irq, entry, to);
	}
	/* The intermediate vector must exist to take the interrupt. */
	ret = nvr_irq_efd_attach(irq, mid);
	if (ret == -EINVAL)
		return -ERANGE;
	if (ret && ret != -EBUSY)
		return ret;
	owned = false;
	for (unsigned int e = 0; e < 64 && !owned; e++)
		owned = nvr_irq_serves(irq, mid, e);
	/* Interrupts off on the old CPU: nothing handles the intermediate
	 * vector until its IRR has been looked at. */
	ret = nvr_irq_cpu_hold(irq, mid);
	if (ret)
		return ret;
	ret = nvr_irq_msix_retarget(irq, entry, mid);
	if (!ret)
		ret = nvr_irq_msix_retarget(irq, entry, to);
	/* Anything that reached the intermediate vector is replayed on the new
	 * one; if the vector belongs to someone, its handler sees it too (and
	 * finds nothing: the harmless spurious interrupt Linux accepts). */
	irr = nvr_irq_cpu_unhold(irq, mid, owned);
	if (irr) {
		if (st)
			st->replays++;
		ret = nvr_irq_cpu_replay(irq, to) ?: ret;
	}
	return ret;
}

int nvr_msix_move(struct nvr_irq *irq, unsigned int entry, unsigned int from, unsigned int to,
		  enum nvr_msix_update how, struct nvr_msix_move_stats *st)
{
	int ret;

	if (from == to)
		return 0;
	/* The new vector's handler takes the entry before any interrupt can
	 * reach it, as Linux installs the new vector before writing the message. */
	ret = nvr_irq_serve(irq, to, entry, true);
	if (ret)
		return ret;
	switch (how) {
	case NVR_MSIX_MASK:
		ret = move_masked(irq, entry, to);
		break;
	case NVR_MSIX_UNMASKED:
		/* The bug on purpose: address then data, unmasked. */
		ret = nvr_irq_msix_retarget(irq, entry, to);
		break;
	case NVR_MSIX_TWO_STEP:
	case NVR_MSIX_TWO_STEP_NOCHECK:
		ret = move_two_step(irq, entry, from, to, how == NVR_MSIX_TWO_STEP, st);
		break;
	case NVR_MSIX_EVENTFD:
		ret = nvr_irq_efd_bind(irq, entry, to);
		break;
	case NVR_MSIX_AFFINITY:
		ret = move_kernel(irq, entry, to);
		break;
	case NVR_MSIX_RESIZE:
		ret = move_resize(irq, st);
		break;
	case NVR_MSIX_DETACH:
		ret = nvr_irq_efd_unbind(irq, entry) ?: nvr_irq_efd_bind(irq, entry, to);
		break;
	default:
		ret = -EINVAL;
	}
	if (!ret && st)
		st->moves++;
	return ret;
}
