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
	/* The host kernel moves it, as when its IRQ affinity changes: on
	 * vfio-pci, /proc/irq/N/smp_affinity_list of the entry's interrupt
	 * (Linux's msi_set_affinity(): the entry rewritten masked, or the IRTE
	 * with interrupt remapping); the eventfd stays. On the simulator a
	 * "kernel" rewrites the entry as Linux's __pci_write_msi_msg() does:
	 * mask, address, upper address, data, unmask. */
	NVR_MSIX_AFFINITY,
	/* Grow the enabled vector set past the new vector, then shrink it back
	 * (VFIO_DEVICE_SET_IRQS); the entry keeps its eventfd. With
	 * VFIO_IRQ_INFO_NORESIZE each change disables and re-enables MSI-X: the
	 * lost-interrupt window dynamic MSI-X (Linux 6.5) closed. */
	NVR_MSIX_RESIZE,
	/* Unbind the entry (fd -1), then bind it to the new vector's eventfd:
	 * what the device sends in between goes nowhere. */
	NVR_MSIX_DETACH,
	/* The two steps without setting up the intermediate vector or looking at
	 * its IRR, as Linux did before the fix: an interrupt sent between the
	 * steps reaches a vector nothing handles. Not offered in scenarios; the
	 * tests use it to show what the check is for. */
	NVR_MSIX_TWO_STEP_NOCHECK,
	NVR_MSIX_NR,
};

const char *nvr_msix_update_name(enum nvr_msix_update u);
int nvr_msix_update_by_name(const char *name);

/* Can @u run where vfio-pci owns the MSI-X table (it writes no table entry)? */
bool nvr_msix_update_vfio(enum nvr_msix_update u);

struct nvr_msix_move_stats {
	uint64_t moves;
	uint64_t replays;	/* two-step: interrupts found on the intermediate vector */
	uint64_t resizes;	/* resize: grows and shrinks of the vector set */
	unsigned int spare;	/* resize: the vector added and removed (0: not chosen yet) */
};

/**
 * nvr_msix_move() - move MSI-X entry @entry's interrupts from host vector
 * @from to host vector @to, in style @how.
 * @irq: the interrupt state; the handler of @to is told to serve @entry
 *       before the entry changes, and the handler of @from keeps serving it
 *       (an interrupt sent before the move may still arrive there).
 * @entry: the MSI-X entry (the CQ's Interrupt Vector).
 * @from: the host vector it reaches now.
 * @to: the host vector it must reach (resize: the entry's interrupt stays;
 *      the moves shrink the enabled set below a spare vector above every
 *      attached one, then grow it to take the spare again, in turn).
 * @how: the update style.
 * @st: counts; may be NULL, except for resize, which keeps its spare there.
 *
 * Return: 0; -EINVAL for a vector out of range; -ERANGE when the two-step
 * style has no intermediate vector (the new vector does not exist on the old
 * CPU); -EOPNOTSUPP when the transport cannot write the table (vfio-pci: use
 * NVR_MSIX_EVENTFD); or an error from attaching a vector, from the host
 * kernel's affinity file or from resizing the vector set.
 */
int nvr_msix_move(struct nvr_irq *irq, unsigned int entry, unsigned int from, unsigned int to,
		  enum nvr_msix_update how, struct nvr_msix_move_stats *st);

#endif
