// SPDX-License-Identifier: MIT
/*
 * The iommufd backend of the VFIO transport (Linux 6.6 and later): the
 * device's character device /dev/vfio/devices/vfioN is bound to an iommufd
 * and attached to an IO address space (IOAS) that holds the DMA mappings.
 *
 * UNTESTED: Debian 12's kernels (6.1) have no iommufd and no VFIO device
 * cdev, so this path never ran here; nvr_iommufd_open() falls back to the
 * type1 container when any step fails, and NVMERACE_VFIO=type1 forces the
 * container. The uAPI is declared here because Debian 12's linux-libc-dev
 * (6.1) lacks <linux/iommufd.h>; the layouts follow the kernel's
 * include/uapi/linux/iommufd.h and vfio.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

#include <nvmerace/log.h>

#include "dev/vfio_int.h"

#define IOMMUFD_TYPE ';'

struct nvr_iommu_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};

struct nvr_iommu_iova_range {
	uint64_t start;
	uint64_t last;
};

struct nvr_iommu_ioas_iova_ranges {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	uint64_t allowed_iovas;
	uint64_t out_iova_alignment;
};

struct nvr_iommu_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	uint64_t user_va;
	uint64_t length;
	uint64_t iova;
};

struct nvr_iommu_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	uint64_t iova;
	uint64_t length;
};

struct nvr_vfio_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
};

struct nvr_vfio_attach_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pt_id;
};

#define NVR_IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)
#define NVR_IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, 0x84)
#define NVR_IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, 0x85)
#define NVR_IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, 0x86)
#define NVR_IOAS_MAP_FIXED_IOVA (1u << 0)
#define NVR_IOAS_MAP_WRITEABLE (1u << 1)
#define NVR_IOAS_MAP_READABLE (1u << 2)
#define NVR_VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#define NVR_VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

/* The vfioN name of @bdf's VFIO device cdev, from sysfs. */
static int cdev_name(const char *bdf, char *out, size_t len)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/vfio-dev", bdf));
	int ret = -ENOENT;

	if (!d)
		return -ENOENT;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(out, len, "%s", de->d_name);
			ret = 0;
			break;
		}
	closedir(d);
	return ret;
}

int nvr_iommufd_open(struct vfio_dev *v, char *msg, size_t len)
{
	struct nvr_iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct nvr_vfio_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct nvr_vfio_attach_pt at = { .argsz = sizeof(at) };
	const char *force = getenv("NVMERACE_VFIO");
	char name[NAME_MAX + 1], p[PATH_MAX];

	(void)msg;
	(void)len;
	if (force && !strcmp(force, "type1"))
		return -EOPNOTSUPP;
	if (access("/dev/iommu", F_OK) || cdev_name(v->bdf, name, sizeof(name)))
		return -EOPNOTSUPP;
	snprintf(p, sizeof(p), "/dev/vfio/devices/%s", name);
	v->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	v->dev = open(p, O_RDWR | O_CLOEXEC);
	if (v->iommufd < 0 || v->dev < 0)
		goto fallback;
	bind.iommufd = v->iommufd;
	if (ioctl(v->dev, NVR_VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0 ||
	    ioctl(v->iommufd, NVR_IOMMU_IOAS_ALLOC, &alloc) < 0)
		goto fallback;
	v->ioas = alloc.out_ioas_id;
	at.pt_id = v->ioas;
	if (ioctl(v->dev, NVR_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) < 0)
		goto fallback;
	nvr_debug("vfio %s: iommufd, IOAS %u", v->bdf, v->ioas);
	return 0;
fallback:
	nvr_debug("vfio %s: iommufd set-up failed (%s); using the type1 container", v->bdf,
		  strerror(errno));
	nvr_iommufd_close(v);
	if (v->dev >= 0)
		close(v->dev);
	v->dev = -1;
	return -EOPNOTSUPP;
}

int nvr_iommufd_ranges(struct vfio_dev *v, struct nvr_iova_range *r, unsigned int max,
		       unsigned int *n)
{
	struct nvr_iommu_iova_range buf[16];
	struct nvr_iommu_ioas_iova_ranges q = {
		.size = sizeof(q), .ioas_id = v->ioas, .num_iovas = 16,
		.allowed_iovas = (uintptr_t)buf,
	};

	*n = 0;
	if (ioctl(v->iommufd, NVR_IOMMU_IOAS_IOVA_RANGES, &q) < 0)
		return -errno;
	for (uint32_t i = 0; i < q.num_iovas && i < 16 && *n < max; i++) {
		r[*n].start = buf[i].start;
		r[(*n)++].end = buf[i].last;
	}
	return 0;
}

int nvr_iommufd_map(struct vfio_dev *v, void *vaddr, uint64_t iova, size_t len)
{
	struct nvr_iommu_ioas_map m = {
		.size = sizeof(m), .ioas_id = v->ioas, .user_va = (uintptr_t)vaddr,
		.length = len, .iova = iova,
		.flags = NVR_IOAS_MAP_FIXED_IOVA | NVR_IOAS_MAP_READABLE | NVR_IOAS_MAP_WRITEABLE,
	};

	return ioctl(v->iommufd, NVR_IOMMU_IOAS_MAP, &m) < 0 ? -errno : 0;
}

int nvr_iommufd_unmap(struct vfio_dev *v, uint64_t iova, size_t len)
{
	struct nvr_iommu_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = v->ioas, .iova = iova, .length = len,
	};

	return ioctl(v->iommufd, NVR_IOMMU_IOAS_UNMAP, &u) < 0 ? -errno : 0;
}

void nvr_iommufd_close(struct vfio_dev *v)
{
	if (v->iommufd >= 0)
		close(v->iommufd);
	v->iommufd = -1;
}
