/* SPDX-License-Identifier: MIT */
/*
 * Moving a queue's interrupt from one host vector to another while I/O
 * flows: the update styles seeds 002 (bhyve, D24593) and 003 (tglx on torn
 * MSI messages) argue about. The host vectors are those of the platform's
 * x86-like addressing (nvr_msi_addr()): a destination (CPU) and a vector.
 */
#ifndef NVR_MSIX_H
#define NVR_MSIX_H

#include <nvmerace/policy.h>

#include "host/irq.h"

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
