/* SPDX-License-Identifier: MIT */
/*
 * Host policies, all in one place: the driver designs the seed documents
 * argue about. A scenario picks one per run; the correct ones must come out
 * clean and the buggy ones must be caught. Each enum has an explicit UNSET
 * (-1): what a scenario or a row that does not choose carries, so that a
 * row can change one policy and inherit the others.
 */
#ifndef NVMERACE_POLICY_H
#define NVMERACE_POLICY_H

/*
 * How the reapers of one CQ (an interrupt handler, a timeout poller, a dump
 * poller) exclude each other: seed 000 (FreeBSD D36924).
 */
enum nvr_cq_lock {
	NVR_CQ_LOCK_UNSET = -1,	/* a scenario or row that says nothing */
	NVR_CQ_LOCK_MUTEX,	/* a lock around reaping: correct, can wait */
	NVR_CQ_LOCK_NONE,	/* nothing: an entry consumed twice, the head moved backwards */
	NVR_CQ_LOCK_TRYLOCK,	/* FreeBSD's in_isr: a reaper that cannot get the CQ
				 * returns at once, and an interrupt's CQE may wait
				 * for the next timeout (stranded) */
	NVR_CQ_LOCK_CAS,	/* lock-free: claim each entry by CAS on the head word */
	NVR_CQ_LOCK_NR,
};

/**
 * nvr_cq_lock_name() - the scenario file's name for a CQ exclusion policy
 * @l: the policy
 *
 * Return: "mutex", "none", "trylock", "cas"; "?" out of range.
 */
const char *nvr_cq_lock_name(enum nvr_cq_lock l);

/**
 * nvr_cq_lock_by_name() - the CQ exclusion policy a name stands for
 * @name: as in a scenario file
 *
 * Return: the policy, or -1 for an unknown name.
 */
int nvr_cq_lock_by_name(const char *name);

/*
 * Shadow doorbells (Doorbell Buffer Config, NVMe 1.4, 5.7): how the host
 * orders its shadow store and EventIdx load (seed 004), and which need-event
 * formula it applies.
 */
enum nvr_dbbuf_barrier {
	NVR_DBBUF_BARRIER_UNSET = -1,	/* a scenario or row that says nothing */
	NVR_DBBUF_BARRIER_FULL,	/* mb() between the shadow store and the EventIdx load */
	NVR_DBBUF_BARRIER_NONE,	/* the bug: nothing orders them */
};

enum nvr_need_event {
	NVR_NEED_EVENT_UNSET = -1,	/* a scenario or row that says nothing */
	NVR_NEED_EVENT_LINUX,	/* (u16)(new - ei - 1) < (u16)(new - old): ei in [old, new) */
	NVR_NEED_EVENT_SPDK,	/* (u16)(new - ei) <= (u16)(new - old): ei in [old, new] */
};

struct nvr_dbbuf_policy {
	enum nvr_dbbuf_barrier barrier;
	enum nvr_need_event need_event;
};

/**
 * nvr_dbbuf_barrier_name() - the scenario file's name for a shadow doorbell barrier policy
 * @b: the policy
 *
 * Return: "none" for NVR_DBBUF_BARRIER_NONE, else "full".
 */
const char *nvr_dbbuf_barrier_name(enum nvr_dbbuf_barrier b);

/**
 * nvr_need_event_name() - the scenario file's name for a need-event formula
 * @f: the formula
 *
 * Return: "spdk" for NVR_NEED_EVENT_SPDK, else "linux".
 */
const char *nvr_need_event_name(enum nvr_need_event f);

/*
 * Moving a queue's interrupt from one host vector to another while I/O
 * flows: the update styles seeds 002 and 003 argue about.
 */
enum nvr_msix_update {
	NVR_MSIX_UNSET = -1,	/* a scenario or row that says nothing */
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

/**
 * nvr_msix_update_name() - the scenario file's name for an MSI-X update style
 * @u: the style
 *
 * Return: "mask", "unmasked", "two-step", "eventfd", ...; "?" out of range.
 */
const char *nvr_msix_update_name(enum nvr_msix_update u);

/**
 * nvr_msix_update_by_name() - the MSI-X update style a name stands for
 * @name: as in a scenario file
 *
 * Return: the style, or -1 for an unknown name.
 */
int nvr_msix_update_by_name(const char *name);

/*
 * When the submitter may reuse an SQ entry (device race 12, QEMU 9529aa6bb4d1).
 * The CQE's SQ Head Pointer says which entries the device has fetched; a
 * fetched command may still be in flight.
 */
enum nvr_sq_refill {
	NVR_SQ_REFILL_UNSET = -1,	/* a scenario or row that says nothing */
	/* CIDs are SQ slots: at most depth - 1 commands in flight, whatever
	 * SQHD says (Linux, SPDK, libvfn). */
	NVR_SQ_REFILL_CID,
	/* Refill as SQHD frees entries, with CIDs from a space of twice the
	 * depth: more commands in flight than the SQ holds (over-commit),
	 * which the spec allows and a device must keep fetching through. */
	NVR_SQ_REFILL_SQHD,
};

/* How the host resets the controller in a reset step (device races 1 and 7). */
enum nvr_reset_how {
	NVR_RESET_UNSET = -1,	/* a scenario or row that says nothing */
	NVR_RESET_DISABLE,	/* CC.EN = 0, wait for CSTS.RDY = 0 (NVMe 1.4, 7.3.2) */
	NVR_RESET_SHUTDOWN,	/* CC.SHN = 01b under I/O, wait for CSTS.SHST = 10b, then CC.EN = 0 */
	NVR_RESET_FLR,		/* a PCIe Function Level Reset (VFIO_DEVICE_RESET) */
};

/* How keep-alive and teardown share the admin queue (seed 001). */
enum nvr_ka_policy {
	NVR_KA_UNSET = -1,	/* a scenario or row that says nothing */
	NVR_KA_SYNC,		/* teardown waits for the keep-alive in flight: the fix */
	NVR_KA_ASYNC,		/* fire and forget; teardown does not wait: the bug */
	NVR_KA_CANCELLED,	/* one keep-alive, then none: the timer runs out */
};

#endif
