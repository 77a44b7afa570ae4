/* SPDX-License-Identifier: MIT */
/*
 * The transport: the only way host-side code (ctrl, queue, irq) reaches a
 * device. Two implementations share it: the simulated controller (lib/sim)
 * and VFIO. Queues and shadow doorbells live in ordinary host memory in both
 * cases; the transport only carries register accesses, DMA mappings,
 * interrupt vectors and reset.
 */
#ifndef NVR_TRANSPORT_H
#define NVR_TRANSPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nvr_transport;

/*
 * Where an MSI-X message goes on the simulated platform, which is x86-like
 * (Intel SDM vol. 3A, 11.11): the Message Address is 0xFEExxxxx with the
 * destination ID, a CPU, in bits 19:12, and the Message Data carries the
 * vector on that CPU in bits 7:0. Each destination has NVR_MSI_VECS_PER_DEST
 * vectors, so host vector N is vector N % 4 of destination N / 4. An entry
 * sampled between its address and data writes names a third host vector: the
 * new CPU with the old vector (seed 003).
 */
#define NVR_MSI_VECS_PER_DEST 4u

static inline uint32_t nvr_msi_addr(unsigned int host_vector)
{
	return 0xfee00000u | (host_vector / NVR_MSI_VECS_PER_DEST) << 12;
}

static inline uint32_t nvr_msi_data(unsigned int host_vector)
{
	return host_vector % NVR_MSI_VECS_PER_DEST;
}

struct nvr_transport_ops {
	/* Register access at a BAR0 offset. */
	uint32_t (*read32)(struct nvr_transport *t, uint32_t off);
	uint64_t (*read64)(struct nvr_transport *t, uint32_t off);
	void (*write32)(struct nvr_transport *t, uint32_t off, uint32_t val);
	void (*write64)(struct nvr_transport *t, uint32_t off, uint64_t val);

	/* Make [vaddr, vaddr + len) reachable by the device at @iova. */
	int (*dma_map)(struct nvr_transport *t, void *vaddr, uint64_t iova, size_t len);
	int (*dma_unmap)(struct nvr_transport *t, uint64_t iova, size_t len);

	/* MSI-X vectors as eventfds. @efd -1 detaches the vector. */
	int (*irq_set)(struct nvr_transport *t, unsigned int vector, int efd);
	/* Fire @vector from the host side (a spurious interrupt, on purpose). */
	int (*irq_trigger)(struct nvr_transport *t, unsigned int vector);
	/* Set the vector control mask bit; -EOPNOTSUPP where the transport cannot. */
	int (*irq_mask)(struct nvr_transport *t, unsigned int vector, bool masked);
	/*
	 * Write one dword of MSI-X table entry @vector (PCI 3.0, 6.8.2.6):
	 * @dword 0 Message Address, 1 Message Upper Address, 2 Message Data.
	 * -EOPNOTSUPP where the host cannot write the table (vfio-pci owns it).
	 */
	int (*msix_write)(struct nvr_transport *t, unsigned int vector, unsigned int dword,
			  uint32_t value);
	/*
	 * Move MSI-X entry @vector's interrupt to CPU @cpu the way the host
	 * kernel does, through its IRQ affinity (msi_set_affinity() rewrites the
	 * entry, masked, or the IRTE under interrupt remapping). NULL where the
	 * host kernel does not own the entry (the simulator: its "kernel" is
	 * nvr_msix_move()).
	 */
	int (*irq_affinity)(struct nvr_transport *t, unsigned int vector, unsigned int cpu);
	/*
	 * Make [0, @count) the enabled vector set: vectors at or above @count
	 * must have no eventfd. NULL where the set is fixed (the simulator).
	 * Where the host kernel cannot resize it (msix_static) this disables
	 * MSI-X and enables it again: interrupts sent meanwhile are lost.
	 */
	int (*irq_resize)(struct nvr_transport *t, unsigned int count);

	/* Function level reset. */
	int (*reset)(struct nvr_transport *t);
	void (*destroy)(struct nvr_transport *t);
};

struct nvr_transport {
	const struct nvr_transport_ops *ops;
	const char *kind;	/* "sim" or "vfio" */
	unsigned int nr_vectors;
	/* vfio-pci reports VFIO_IRQ_INFO_NORESIZE (Linux before 6.5): the MSI-X
	 * vector set is sized when it is enabled, and growing it means disabling
	 * MSI-X and enabling it again. False: dynamic MSI-X, or the simulator. */
	bool msix_static;
	/* Next IOVA to hand out. IOVAs are never reused, so that a late device
	 * access to a freed buffer hits nothing rather than a new buffer. */
	_Atomic uint64_t iova_next;
	uint64_t iova_end;
};

static inline uint32_t nvr_reg_read32(struct nvr_transport *t, uint32_t off)
{
	return t->ops->read32(t, off);
}

static inline uint64_t nvr_reg_read64(struct nvr_transport *t, uint32_t off)
{
	return t->ops->read64(t, off);
}

static inline void nvr_reg_write32(struct nvr_transport *t, uint32_t off, uint32_t val)
{
	t->ops->write32(t, off, val);
}

static inline void nvr_reg_write64(struct nvr_transport *t, uint32_t off, uint64_t val)
{
	t->ops->write64(t, off, val);
}

/**
 * nvr_transport_destroy() - release a transport and its device.
 * @t: the transport; NULL is allowed.
 */
void nvr_transport_destroy(struct nvr_transport *t);

#endif
