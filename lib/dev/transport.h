/* SPDX-License-Identifier: MIT */
/*
 * The transport: the only way host-side code (ctrl, queue, irq) reaches a
 * device. Two implementations share it: the simulated controller (lib/dev/sim)
 * and VFIO. Queues and shadow doorbells live in ordinary host memory in both
 * cases; the transport only carries register accesses, DMA mappings,
 * interrupt vectors and reset.
 */
#ifndef NVR_TRANSPORT_H
#define NVR_TRANSPORT_H

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmerace/transport.h>

struct nvr_dev_truth;

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
	 * The CPUs the host kernel delivers entry @vector's interrupt to (its
	 * effective affinity), read only. NULL where no host interrupt carries
	 * the entry (the simulator).
	 */
	int (*irq_cpus)(struct nvr_transport *t, unsigned int vector, cpu_set_t *set);
	/*
	 * Make [0, @count) the enabled vector set: vectors at or above @count
	 * must have no eventfd. NULL where the set is fixed (the simulator).
	 * Where the host kernel cannot resize it (msix_static) this disables
	 * MSI-X and enables it again: interrupts sent meanwhile are lost.
	 */
	int (*irq_resize)(struct nvr_transport *t, unsigned int count);

	/* Function level reset. */
	int (*reset)(struct nvr_transport *t);
	/* Why the device stopped answering, in the transport's words; NULL: no idea. */
	const char *(*why)(struct nvr_transport *t);
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
	/* ops->reset is a Function Level Reset that works here (vfio-pci:
	 * VFIO_DEVICE_FLAGS_RESET; the simulator: always). */
	bool can_flr;
	/* Next IOVA to hand out. IOVAs are never reused, so that a late device
	 * access to a freed buffer hits nothing rather than a new buffer. */
	_Atomic uint64_t iova_next;
	uint64_t iova_end;
	/* The device's own account of what it did (dev/truth.h); NULL: none
	 * (real hardware). */
	const struct nvr_dev_truth *truth;
	/* BAR0 mapped where a register write is one store (VFIO), and its
	 * size; NULL: every register access goes through ops. */
	volatile uint8_t *mmio;
	uint32_t mmio_size;
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

/*
 * The rest of the contract. Every op but the register accesses and destroy
 * may be left NULL by a transport that cannot do it; the wrapper then says
 * -EOPNOTSUPP. Code outside lib/dev calls these, never t->ops directly.
 */

/**
 * nvr_transport_dma_map() - make [@vaddr, @vaddr + @len) reachable by the device at @iova.
 * @t: the transport.
 * @vaddr: host memory, page aligned.
 * @iova: where the device will see it.
 * @len: bytes, a multiple of the page size.
 *
 * Return: 0, -EOPNOTSUPP, or the transport's error.
 */
static inline int nvr_transport_dma_map(struct nvr_transport *t, void *vaddr, uint64_t iova,
					size_t len)
{
	return t->ops->dma_map ? t->ops->dma_map(t, vaddr, iova, len) : -EOPNOTSUPP;
}

/**
 * nvr_transport_dma_unmap() - take a mapping away from the device.
 * @t: the transport.
 * @iova: as mapped.
 * @len: as mapped.
 *
 * Return: 0, -EOPNOTSUPP, or the transport's error.
 */
static inline int nvr_transport_dma_unmap(struct nvr_transport *t, uint64_t iova, size_t len)
{
	return t->ops->dma_unmap ? t->ops->dma_unmap(t, iova, len) : -EOPNOTSUPP;
}

/**
 * nvr_transport_irq_set() - bind MSI-X vector @vector to eventfd @efd.
 * @t: the transport.
 * @vector: the vector.
 * @efd: the eventfd; -1 detaches the vector.
 *
 * Return: 0, -EOPNOTSUPP, or the transport's error.
 */
static inline int nvr_transport_irq_set(struct nvr_transport *t, unsigned int vector, int efd)
{
	return t->ops->irq_set ? t->ops->irq_set(t, vector, efd) : -EOPNOTSUPP;
}

/**
 * nvr_transport_irq_trigger() - fire @vector from the host side.
 * @t: the transport.
 * @vector: the vector.
 *
 * Return: 0, -EOPNOTSUPP, or the transport's error.
 */
static inline int nvr_transport_irq_trigger(struct nvr_transport *t, unsigned int vector)
{
	return t->ops->irq_trigger ? t->ops->irq_trigger(t, vector) : -EOPNOTSUPP;
}

/**
 * nvr_transport_irq_mask() - set or clear the vector control mask bit of @vector.
 * @t: the transport.
 * @vector: the vector.
 * @masked: the new mask bit.
 *
 * Return: 0; -EOPNOTSUPP where the transport cannot (vfio-pci has no MSI-X mask).
 */
static inline int nvr_transport_irq_mask(struct nvr_transport *t, unsigned int vector,
					 bool masked)
{
	return t->ops->irq_mask ? t->ops->irq_mask(t, vector, masked) : -EOPNOTSUPP;
}

/**
 * nvr_transport_msix_write() - write one dword of MSI-X table entry @vector.
 * @t: the transport.
 * @vector: the entry.
 * @dword: 0 Message Address, 1 Message Upper Address, 2 Message Data.
 * @value: what to write.
 *
 * Return: 0; -EOPNOTSUPP where the host cannot write the table (vfio-pci owns it).
 */
static inline int nvr_transport_msix_write(struct nvr_transport *t, unsigned int vector,
					   unsigned int dword, uint32_t value)
{
	return t->ops->msix_write ? t->ops->msix_write(t, vector, dword, value) : -EOPNOTSUPP;
}

/**
 * nvr_transport_irq_affinity() - move entry @vector's interrupt to CPU @cpu
 * through the host kernel's IRQ affinity.
 * @t: the transport.
 * @vector: the entry.
 * @cpu: the CPU.
 *
 * Return: 0; -EOPNOTSUPP where the host kernel does not own the entry (the simulator).
 */
static inline int nvr_transport_irq_affinity(struct nvr_transport *t, unsigned int vector,
					     unsigned int cpu)
{
	return t->ops->irq_affinity ? t->ops->irq_affinity(t, vector, cpu) : -EOPNOTSUPP;
}

/**
 * nvr_transport_irq_cpus() - the CPUs entry @vector's interrupt is delivered to
 * @t: the transport.
 * @vector: the entry.
 * @set: set to the CPUs.
 *
 * Return: 0; -ENOENT when the entry has no host interrupt (no eventfd); -EOPNOTSUPP
 * where no host interrupt carries the entry (the simulator).
 */
static inline int nvr_transport_irq_cpus(struct nvr_transport *t, unsigned int vector,
					 cpu_set_t *set)
{
	return t->ops->irq_cpus ? t->ops->irq_cpus(t, vector, set) : -EOPNOTSUPP;
}

/**
 * nvr_transport_irq_resize() - make [0, @count) the enabled vector set.
 * @t: the transport.
 * @count: the vectors enabled from now on; those at or above have no eventfd.
 *
 * Return: 0 (also where the set is fixed: the simulator), or the transport's error.
 */
static inline int nvr_transport_irq_resize(struct nvr_transport *t, unsigned int count)
{
	return t->ops->irq_resize ? t->ops->irq_resize(t, count) : 0;
}

/**
 * nvr_transport_reset() - a function level reset.
 * @t: the transport.
 *
 * Return: 0, -EOPNOTSUPP, or the transport's error.
 */
static inline int nvr_transport_reset(struct nvr_transport *t)
{
	return t->ops->reset ? t->ops->reset(t) : -EOPNOTSUPP;
}

/**
 * nvr_transport_why() - why the device stopped answering, as the transport saw it.
 * @t: the transport.
 *
 * A connection closed by an NVMe/TCP target, a property that got no answer.
 * Return: a sentence, or NULL when the transport knows nothing more.
 */
static inline const char *nvr_transport_why(struct nvr_transport *t)
{
	return t->ops->why ? t->ops->why(t) : NULL;
}

#endif
