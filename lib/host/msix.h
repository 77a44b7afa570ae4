/* SPDX-License-Identifier: MIT */
/*
 * Moving a queue's interrupt from one host vector to another while I/O
 * flows: the update styles seeds 002 (bhyve, D24593) and 003 (tglx on torn
 * MSI messages) argue about. The host vectors are those of the platform's
 * x86-like addressing (nvr_msi_addr()): a destination (CPU) and a vector.
 */
#ifndef NVR_MSIX_H
#define NVR_MSIX_H

#include "irq.h"

enum nvr_msix_update {
	/* Mask the entry, rewrite it, unmask (PCI 3.0, 6.8.2.9): an interrupt
	 * raised meanwhile waits in the PBA and goes to the new vector. */
	NVR_MSIX_MASK,
	/* Rewrite it unmasked, address then data: the device may sample the
	 * new destination with the old vector, a host vector nobody meant. */
	NVR_MSIX_UNMASKED,
	/* Linux msi_set_affinity() for unmaskable MSI: the new vector on the old
	 * CPU first, then the new CPU; with the old CPU's interrupts off, an
	 * interrupt that reached the intermediate vector is replayed on the
	 * new one. */
	NVR_MSIX_TWO_STEP,
	/* The VFIO way: the table is the kernel's; re-point the entry's
	 * eventfd to the new vector's (VFIO_DEVICE_SET_IRQS). */
	NVR_MSIX_EVENTFD,
	/* The two steps without setting up the intermediate vector or looking at
	 * its IRR, as Linux did before the fix: an interrupt sent between the
	 * steps reaches a vector nothing handles. Not offered in scenarios; the
	 * tests use it to show what the check is for. */
	NVR_MSIX_TWO_STEP_NOCHECK,
	NVR_MSIX_NR,
};

const char *nvr_msix_update_name(enum nvr_msix_update u);
int nvr_msix_update_by_name(const char *name);

struct nvr_msix_move_stats {
	uint64_t moves;
	uint64_t replays;	/* two-step: interrupts found on the intermediate vector */
};

/**
 * nvr_msix_move() - move MSI-X entry @entry's interrupts from host vector
 * @from to host vector @to, in style @how.
 * @irq: the interrupt state; the handler of @to is told to serve @entry
 *       before the entry changes, and the handler of @from keeps serving it
 *       (an interrupt sent before the move may still arrive there).
 * @entry: the MSI-X entry (the CQ's Interrupt Vector).
 * @from: the host vector it reaches now.
 * @to: the host vector it must reach.
 * @how: the update style.
 * @st: counts; may be NULL.
 *
 * Return: 0; -EINVAL for a vector out of range; -ERANGE when the two-step
 * style has no intermediate vector (the new vector does not exist on the old
 * CPU); -EOPNOTSUPP when the transport cannot write the table (vfio-pci: use
 * NVR_MSIX_EVENTFD); or an error from attaching a vector.
 */
int nvr_msix_move(struct nvr_irq *irq, unsigned int entry, unsigned int from, unsigned int to,
		  enum nvr_msix_update how, struct nvr_msix_move_stats *st);

#endif
