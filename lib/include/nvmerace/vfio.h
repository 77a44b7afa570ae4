/* SPDX-License-Identifier: MIT */
/*
 * The VFIO transport: a real NVMe controller bound to vfio-pci, reached
 * through the legacy type1 container (or iommufd where the kernel has it).
 * BAR0 is mmapped for register access, host buffers are mapped for DMA with
 * VFIO_IOMMU_MAP_DMA, MSI-X vectors are eventfds (VFIO_DEVICE_SET_IRQS), and
 * reset is VFIO_DEVICE_RESET (a function level reset).
 *
 * Every failure of the environment comes back as a negative errno and a
 * sentence that says what is missing and what to do about it.
 */
#ifndef NVMERACE_VFIO_H
#define NVMERACE_VFIO_H

#include <stddef.h>
#include <stdint.h>

struct nvr_transport;

/* Room for an environment error message. */
#define NVR_ENV_MSG 768

/**
 * nvr_vfio_open() - open the controller at @bdf (bound to vfio-pci) as a transport.
 * @bdf: the PCI address, "0000:01:00.0" or "01:00.0".
 * @out: the transport; nvr_transport_destroy() releases it (DMA unmapped,
 *       vectors released, BAR unmapped, the group given back).
 * @msg: filled with what went wrong and how to fix it; may be NULL.
 * @len: size of @msg.
 *
 * Enables memory space and bus mastering in the command register (the
 * device's DMA goes nowhere without it).
 *
 * Return: 0; -EINVAL (bad address); -ENODEV (no such device, no IOMMU group:
 * no IOMMU); -ENOENT (the vfio modules are not loaded, or the device is not
 * bound to vfio-pci); -EACCES (no permission on /dev/vfio/N); -EBUSY (the
 * group is not viable, or another process has it); -ENOMEM (memlock limit);
 * -ENOTSUP (the kernel lacks what is needed); other errnos from ioctls.
 */
int nvr_vfio_open(const char *bdf, struct nvr_transport **out, char *msg, size_t len);

/**
 * nvr_vfio_backend() - the transport's IOMMU backend
 * @t: the transport
 *
 * Return: "type1" or "iommufd", or NULL when @t is not VFIO.
 */
const char *nvr_vfio_backend(struct nvr_transport *t);

/* --- pieces with no device behind them, exposed for the unit tests --- */

struct nvr_iova_range {
	uint64_t start;
	uint64_t end;		/* inclusive, as VFIO reports it */
};

/**
 * nvr_iova_pick() - choose the IOVA window buffers are handed out from.
 * @r: the usable ranges the IOMMU reported; @n of them (0: all of 48 bits).
 * @min_len: the least room wanted.
 * @start: the first IOVA to hand out (aligned to 2 MiB, never 0).
 * @end: one past the last.
 *
 * Picks the largest range; IOVAs below 1 MiB are never used, so that a
 * zeroed address in a command can never reach a live buffer.
 * Return: 0, or -ENOSPC when no range has @min_len bytes.
 */
int nvr_iova_pick(const struct nvr_iova_range *r, unsigned int n, uint64_t min_len,
		  uint64_t *start, uint64_t *end);

/**
 * nvr_memlock_check() - is the locked-memory limit enough for @want bytes of DMA?
 * @want: bytes the run will map.
 * @limit: RLIMIT_MEMLOCK's soft limit (RLIM_INFINITY allowed).
 * @cap_ipc_lock: whether the process has CAP_IPC_LOCK (the limit does not apply).
 * @msg: what to do when it is not; may be NULL. @len: its size.
 * Return: 0, or -ENOMEM.
 */
int nvr_memlock_check(uint64_t want, uint64_t limit, int cap_ipc_lock, char *msg, size_t len);

#endif
