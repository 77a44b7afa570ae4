/* SPDX-License-Identifier: MIT */
/* The VFIO transport's state, shared by vfio.c and vfio_iommufd.c only. */
#ifndef NVR_VFIO_INT_H
#define NVR_VFIO_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmerace/pci.h>
#include <nvmerace/vfio.h>

#include "dev/transport.h"

/* Pinned memory a run may map: queues, PRP lists and data buffers. */
#define NVR_VFIO_MEMLOCK_WANT (64ull << 20)

struct vfio_dev {
	struct nvr_transport t;	/* first: the transport is the device */
	char bdf[NVR_BDF_LEN];
	int container;		/* type1: /dev/vfio/vfio */
	int group;		/* type1: /dev/vfio/N */
	int iommufd;		/* iommufd: /dev/iommu, else -1 */
	uint32_t ioas;
	int dev;		/* the device fd */
	volatile uint8_t *bar;	/* BAR0 mmapped, or NULL: pread/pwrite */
	size_t bar_size;
	uint64_t bar_off;	/* region offsets in the device fd */
	uint64_t cfg_off;
	bool can_reset;
	pthread_mutex_t irq_lock;
	bool msix_on;
	unsigned int nr_msix;
	unsigned int nr_enabled;	/* the vectors MSI-X was enabled with */
	int *efds;		/* the eventfd on each vector, -1: none */
};

/*
 * iommufd (Linux 6.6+: /dev/iommu and /dev/vfio/devices/vfioN). Returns
 * -EOPNOTSUPP when the kernel does not offer it for this device, so that
 * the caller uses the type1 container instead.
 */
int nvr_iommufd_open(struct vfio_dev *v, char *msg, size_t len);
int nvr_iommufd_ranges(struct vfio_dev *v, struct nvr_iova_range *r, unsigned int max,
		       unsigned int *n);
int nvr_iommufd_map(struct vfio_dev *v, void *vaddr, uint64_t iova, size_t len);
int nvr_iommufd_unmap(struct vfio_dev *v, uint64_t iova, size_t len);
void nvr_iommufd_close(struct vfio_dev *v);

#endif
