// SPDX-License-Identifier: MIT
/*
 * The VFIO transport, legacy type1 container (and iommufd, see vfio_iommufd.c).
 *
 * The order follows the kernel's Documentation/driver-api/vfio.rst: open the
 * container, check the API, open the group, check that it is viable, attach
 * it to the container, pick the IOMMU model, then get the device fd. DMA
 * mappings live in the container; closing it drops them all.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <nvmerace/log.h>
#include <nvmerace/pci.h>
#include <nvmerace/vfio.h>

#include "base/util.h"
#include "dev/procirq.h"
#include "dev/transport.h"
#include "dev/vfio_int.h"

#define MiB ((uint64_t)1024 * 1024)

static void say(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!msg || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

int nvr_iova_pick(const struct nvr_iova_range *r, unsigned int n, uint64_t min_len,
		  uint64_t *start, uint64_t *end)
{
	const uint64_t align = 2 * MiB, floor = 1 * MiB;
	uint64_t best_s = 0, best_e = 0;

	if (!n) {
		*start = align;
		*end = 1ull << 48;
		return 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t s = NVR_MAX(r[i].start, floor), e;

		/* Ranges are inclusive; the window's end is exclusive. */
		if (r[i].end < s || s > UINT64_MAX - align)
			continue;
		e = r[i].end == UINT64_MAX ? UINT64_MAX : r[i].end + 1;
		s = NVR_ALIGN_UP(s, align);
		if (s >= e)
			continue;
		if (e - s > best_e - best_s) {
			best_s = s;
			best_e = e;
		}
	}
	if (best_e - best_s < min_len || !best_e)
		return -ENOSPC;
	*start = best_s;
	*end = best_e;
	return 0;
}

int nvr_memlock_check(uint64_t want, uint64_t limit, int cap_ipc_lock, char *msg, size_t len)
{
	if (cap_ipc_lock || limit == (uint64_t)RLIM_INFINITY || limit >= want)
		return 0;
	say(msg, len,
	    "the locked-memory limit is %" PRIu64 " KiB and DMA buffers need about %" PRIu64
	    " MiB pinned: raise it ('ulimit -l %" PRIu64 "' in the shell that runs nvmerace, or "
	    "'memlock' in /etc/security/limits.conf, or LimitMEMLOCK= for a service), or run "
	    "with CAP_IPC_LOCK (root)",
	    limit / 1024, (want + MiB - 1) / MiB, (want + MiB - 1) / MiB * 1024);
	return -ENOMEM;
}

/* Does this process have CAP_IPC_LOCK (bit 14 of CapEff)? */
static int have_ipc_lock(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> 14) & 1;
}

static inline struct vfio_dev *to_vfio(struct nvr_transport *t)
{
	return (struct vfio_dev *)t;
}

/* --- registers: volatile accesses to the mmapped BAR, else pread/pwrite --- */

static uint32_t vf_read32(struct nvr_transport *t, uint32_t off)
{
	struct vfio_dev *v = to_vfio(t);
	uint32_t val = ~0u;

	if (off + 4 > v->bar_size)
		return ~0u;
	if (v->bar)
		return *(volatile uint32_t *)(v->bar + off);
	if (pread(v->dev, &val, 4, (off_t)(v->bar_off + off)) != 4)
		return ~0u;
	return val;
}

static void vf_write32(struct nvr_transport *t, uint32_t off, uint32_t val)
{
	struct vfio_dev *v = to_vfio(t);

	if (off + 4 > v->bar_size)
		return;
	if (v->bar) {
		/*
		 * A doorbell must not reach the device before the SQEs (or the
		 * CQ head's consumption) it announces: Linux's wmb() before
		 * writel(). On x86 a store is never reordered with an older
		 * store, and BAR0 is mapped uncached, so the CPU orders this
		 * store after every normal store before it (Intel SDM vol. 3A,
		 * 8.2.2 and 11.3); only the compiler could move them, and the
		 * fence below (with the volatile access) stops it. Elsewhere a
		 * real store barrier would be needed: nvr_vfio_open() refuses
		 * to run on other architectures.
		 */
		atomic_signal_fence(memory_order_seq_cst);
		*(volatile uint32_t *)(v->bar + off) = val;
		return;
	}
	if (pwrite(v->dev, &val, 4, (off_t)(v->bar_off + off)) != 4)
		nvr_debug("vfio %s: register write at 0x%x failed", v->bdf, off);
}

/* 64-bit registers as two dwords, low first (NVMe 1.4, 3.1: 32-bit access is allowed). */
static uint64_t vf_read64(struct nvr_transport *t, uint32_t off)
{
	uint64_t lo = vf_read32(t, off);

	return lo | (uint64_t)vf_read32(t, off + 4) << 32;
}

static void vf_write64(struct nvr_transport *t, uint32_t off, uint64_t val)
{
	vf_write32(t, off, (uint32_t)val);
	vf_write32(t, off + 4, (uint32_t)(val >> 32));
}

/* --- DMA --- */

static int vf_dma_map(struct nvr_transport *t, void *vaddr, uint64_t iova, size_t len)
{
	struct vfio_dev *v = to_vfio(t);
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = len,
	};

	if (v->iommufd >= 0)
		return nvr_iommufd_map(v, vaddr, iova, len);
	if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &m) < 0) {
		int e = errno;

		nvr_err("vfio %s: cannot map %zu bytes at IOVA 0x%" PRIx64 ": %s%s", v->bdf, len, iova,
			strerror(e), e == ENOMEM ? " (the locked-memory limit? see ulimit -l)" : "");
		return -e;
	}
	return 0;
}

static int vf_dma_unmap(struct nvr_transport *t, uint64_t iova, size_t len)
{
	struct vfio_dev *v = to_vfio(t);
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = len };

	if (v->iommufd >= 0)
		return nvr_iommufd_unmap(v, iova, len);
	return ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &u) < 0 ? -errno : 0;
}

/* --- MSI-X --- */

static int set_irqs(struct vfio_dev *v, uint32_t flags, unsigned int start, unsigned int count,
		    const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + (fds ? count * sizeof(int) : 0);
	struct vfio_irq_set *s = calloc(1, sz);
	int ret = 0;

	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)sz;
	s->flags = flags | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = VFIO_PCI_MSIX_IRQ_INDEX;
	s->start = start;
	s->count = count;
	if (fds)
		memcpy(s->data, fds, count * sizeof(int));
	if (ioctl(v->dev, VFIO_DEVICE_SET_IRQS, s) < 0)
		ret = -errno;
	free(s);
	return ret;
}

/*
 * Enable MSI-X with vectors [0, @count) and the eventfds of v->efds, after
 * disabling it when it is on: the way a user grows (or shrinks) the set when
 * the kernel reports VFIO_IRQ_INFO_NORESIZE. Between the two calls the
 * function has no MSI-X: what it sends meanwhile is lost. Under irq_lock.
 */
static int reenable(struct vfio_dev *v, unsigned int count)
{
	int ret;

	if (v->msix_on) {
		ret = set_irqs(v, VFIO_IRQ_SET_DATA_NONE, 0, 0, NULL);
		if (ret)
			return ret;
		v->msix_on = false;
	}
	ret = set_irqs(v, VFIO_IRQ_SET_DATA_EVENTFD, 0, count, v->efds);
	if (ret)
		return ret;
	v->msix_on = true;
	v->nr_enabled = count;
	return 0;
}

/*
 * Before Linux 6.5 vfio-pci sizes MSI-X once, when it is enabled, and a
 * vector beyond that size cannot be attached later. So the first attach
 * enables every vector the device has, with eventfds only where asked; a
 * set shrunk since (vf_irq_resize()) grows again when a vector past it is
 * attached: at once with dynamic MSI-X, by disabling and enabling MSI-X
 * again without.
 */
static int vf_irq_set(struct nvr_transport *t, unsigned int vector, int efd)
{
	struct vfio_dev *v = to_vfio(t);
	int ret;

	if (vector >= v->nr_msix)
		return -EINVAL;
	pthread_mutex_lock(&v->irq_lock);
	if (!v->msix_on) {
		if (efd < 0) {
			ret = 0;	/* nothing attached, nothing to detach */
			goto out;
		}
		for (unsigned int i = 0; i < v->nr_msix; i++)
			v->efds[i] = -1;
		v->efds[vector] = efd;
		ret = set_irqs(v, VFIO_IRQ_SET_DATA_EVENTFD, 0, v->nr_msix, v->efds);
		if (ret) {
			v->efds[vector] = -1;
			nvr_err("vfio %s: cannot enable MSI-X (%u vectors): %s", v->bdf, v->nr_msix,
				strerror(-ret));
			goto out;
		}
		v->msix_on = true;
		v->nr_enabled = v->nr_msix;
		goto out;
	}
	if (vector >= v->nr_enabled && efd < 0) {
		v->efds[vector] = -1;	/* not enabled: nothing is bound there */
		ret = 0;
		goto out;
	}
	if (vector >= v->nr_enabled && v->t.msix_static) {
		int old = v->efds[vector];

		v->efds[vector] = efd;
		ret = reenable(v, vector + 1);
		if (ret)
			v->efds[vector] = old;
		goto out;
	}
	ret = set_irqs(v, VFIO_IRQ_SET_DATA_EVENTFD, vector, 1, &efd);
	if (!ret) {
		v->efds[vector] = efd;
		if (efd >= 0 && vector >= v->nr_enabled)
			v->nr_enabled = vector + 1;
	}
out:
	pthread_mutex_unlock(&v->irq_lock);
	return ret;
}

static int vf_irq_trigger(struct nvr_transport *t, unsigned int vector)
{
	struct vfio_dev *v = to_vfio(t);

	if (vector >= v->nr_msix)
		return -EINVAL;
	if (!v->msix_on)
		return -ENODEV;
	return set_irqs(v, VFIO_IRQ_SET_DATA_NONE, vector, 1, NULL);
}

static int vf_irq_resize(struct nvr_transport *t, unsigned int count)
{
	struct vfio_dev *v = to_vfio(t);
	int ret = 0;

	if (!count || count > v->nr_msix)
		return -EINVAL;
	pthread_mutex_lock(&v->irq_lock);
	for (unsigned int i = count; i < v->nr_msix; i++)
		if (v->efds[i] >= 0)
			ret = -EBUSY;
	/* With dynamic MSI-X a detached vector is freed already (fd -1). */
	if (!ret && v->msix_on && count != v->nr_enabled)
		ret = v->t.msix_static ? reenable(v, count) : 0;
	if (!ret && !v->t.msix_static)
		v->nr_enabled = count;
	pthread_mutex_unlock(&v->irq_lock);
	return ret;
}

static int vf_irq_affinity(struct nvr_transport *t, unsigned int vector, unsigned int cpu)
{
	struct vfio_dev *v = to_vfio(t);

	return nvr_proc_irq_affinity("/proc", v->bdf, vector, cpu, NULL);
}

static int vf_irq_cpus(struct nvr_transport *t, unsigned int vector, cpu_set_t *set)
{
	return nvr_proc_irq_cpus("/proc", to_vfio(t)->bdf, vector, set, NULL);
}

/* --- config space, reset, teardown --- */

static int cfg_rw(struct vfio_dev *v, bool write, uint32_t off, void *buf, size_t len)
{
	ssize_t n = write ? pwrite(v->dev, buf, len, (off_t)(v->cfg_off + off)) :
			    pread(v->dev, buf, len, (off_t)(v->cfg_off + off));

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/* Memory space on, bus mastering on: without the latter the device's DMA is blocked. */
static int enable_bus_master(struct vfio_dev *v)
{
	uint16_t cmd;
	int ret = cfg_rw(v, false, PCI_COMMAND, &cmd, sizeof(cmd));

	if (ret)
		return ret;
	if ((cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) ==
	    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
		return 0;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	return cfg_rw(v, true, PCI_COMMAND, &cmd, sizeof(cmd));
}

static int vf_reset(struct nvr_transport *t)
{
	struct vfio_dev *v = to_vfio(t);

	if (!v->can_reset)
		return -EOPNOTSUPP;
	if (ioctl(v->dev, VFIO_DEVICE_RESET) < 0)
		return -errno;
	/* The reset restores config space as vfio saved it; make sure DMA is allowed. */
	return enable_bus_master(v);
}

static void vf_destroy(struct nvr_transport *t)
{
	struct vfio_dev *v = to_vfio(t);

	if (v->dev >= 0 && v->msix_on)
		set_irqs(v, VFIO_IRQ_SET_DATA_NONE, 0, 0, NULL);
	if (v->bar)
		munmap((void *)v->bar, v->bar_size);
	if (v->dev >= 0)
		close(v->dev);
	/* Closing the group and the container drops every DMA mapping. */
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	nvr_iommufd_close(v);
	pthread_mutex_destroy(&v->irq_lock);
	free(v->efds);
	free(v);
}

static const struct nvr_transport_ops vfio_ops = {
	.read32 = vf_read32,
	.read64 = vf_read64,
	.write32 = vf_write32,
	.write64 = vf_write64,
	.dma_map = vf_dma_map,
	.dma_unmap = vf_dma_unmap,
	.irq_set = vf_irq_set,
	.irq_trigger = vf_irq_trigger,
	.irq_affinity = vf_irq_affinity,
	.irq_cpus = vf_irq_cpus,
	.irq_resize = vf_irq_resize,
	/* No irq_mask: vfio-pci has no mask for MSI-X vectors (VFIO_IRQ_SET_ACTION_MASK
	 * is INTx only). No msix_write: vfio-pci owns the MSI-X table, and writes from
	 * userspace are virtualised away. The wrappers say -EOPNOTSUPP. */
	.reset = vf_reset,
	.destroy = vf_destroy,
};

const char *nvr_vfio_backend(struct nvr_transport *t)
{
	if (!t || t->ops != &vfio_ops)
		return NULL;
	return to_vfio(t)->iommufd >= 0 ? "iommufd" : "type1";
}

/* The usable IOVA ranges from VFIO_IOMMU_GET_INFO's capability chain. */
static int iova_ranges(struct vfio_dev *v, struct nvr_iova_range *r, unsigned int max,
		       unsigned int *n)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info *info;
	uint32_t off;

	*n = 0;
	if (ioctl(v->container, VFIO_IOMMU_GET_INFO, &probe) < 0)
		return -errno;
	if (!(probe.flags & VFIO_IOMMU_INFO_CAPS) || probe.argsz <= sizeof(probe))
		return 0;	/* an old kernel: no ranges reported */
	info = calloc(1, probe.argsz);
	if (!info)
		return -ENOMEM;
	info->argsz = probe.argsz;
	if (ioctl(v->container, VFIO_IOMMU_GET_INFO, info) < 0) {
		free(info);
		return -errno;
	}
	for (off = info->cap_offset; off && off + sizeof(struct vfio_info_cap_header) <= info->argsz;) {
		struct vfio_info_cap_header *h = (void *)((char *)info + off);

		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *c = (void *)h;

			for (uint32_t i = 0; i < c->nr_iovas && *n < max; i++) {
				if ((char *)&c->iova_ranges[i + 1] > (char *)info + info->argsz)
					break;
				r[*n].start = c->iova_ranges[i].start;
				r[(*n)++].end = c->iova_ranges[i].end;
			}
		}
		if (h->next <= off)
			break;
		off = h->next;
	}
	free(info);
	return 0;
}

/* "group 5 is not viable: ..., also in it: 0000:00:1f.2 (ahci), ..." */
static void not_viable(const char *bdf, int group, char *msg, size_t len)
{
	char peers[NVR_PCI_MAX_PEERS][NVR_BDF_LEN];
	unsigned int n = 0;
	size_t off;

	say(msg, len,
	    "IOMMU group %d of %s is not viable: every device in a group must be bound to "
	    "vfio-pci or to no driver. In the group:", group, bdf);
	nvr_pci_group_devices(group, peers, NVR_PCI_MAX_PEERS, &n);
	for (unsigned int i = 0; msg && i < NVR_MIN(n, (unsigned int)NVR_PCI_MAX_PEERS); i++) {
		char drv[32];

		nvr_pci_driver(peers[i], drv, sizeof(drv));
		off = strlen(msg);
		if (off + 1 < len)
			snprintf(msg + off, len - off, " %s (%s)", peers[i], drv[0] ? drv : "no driver");
	}
	off = msg ? strlen(msg) : 0;
	if (msg && off + 1 < len)
		snprintf(msg + off, len - off, "; unbind the others (nvmerace unbind, or "
			 "echo BDF > /sys/bus/pci/devices/BDF/driver/unbind)");
}

static int open_type1(struct vfio_dev *v, int group, char *msg, size_t len)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char p[PATH_MAX];
	int ret;

	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->container < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			say(msg, len, "/dev/vfio/vfio does not exist: load the vfio modules "
				      "('modprobe vfio-pci')");
		else
			say(msg, len, "cannot open /dev/vfio/vfio: %s%s", strerror(-ret),
			    ret == -EACCES ? " (run as root)" : "");
		return ret;
	}
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
		say(msg, len, "this kernel's VFIO has no type1v2 IOMMU support");
		return -ENOTSUP;
	}
	snprintf(p, sizeof(p), "/dev/vfio/%d", group);
	v->group = open(p, O_RDWR | O_CLOEXEC);
	if (v->group < 0) {
		ret = -errno;
		if (ret == -EACCES || ret == -EPERM)
			say(msg, len, "no permission on %s: run as root, or give your user the "
				      "device (chown USER %s)", p, p);
		else if (ret == -EBUSY)
			say(msg, len, "%s is busy: another process (another nvmerace, QEMU) has "
				      "IOMMU group %d open", p, group);
		else if (ret == -ENOENT)
			say(msg, len, "%s does not exist: is %s bound to vfio-pci? "
				      "(nvmerace bind %s)", p, v->bdf, v->bdf);
		else
			say(msg, len, "cannot open %s: %s", p, strerror(-ret));
		return ret;
	}
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &st) < 0) {
		ret = -errno;
		say(msg, len, "cannot get the status of IOMMU group %d: %s", group, strerror(-ret));
		return ret;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		not_viable(v->bdf, group, msg, len);
		return -EBUSY;
	}
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) < 0 ||
	    ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		ret = -errno;
		say(msg, len, "cannot set up the IOMMU for group %d: %s", group, strerror(-ret));
		return ret;
	}
	v->dev = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, v->bdf);
	if (v->dev < 0) {
		ret = -errno;
		say(msg, len, "cannot get %s from its group: %s", v->bdf, strerror(-ret));
		return ret;
	}
	return 0;
}

static int map_bar0(struct vfio_dev *v, char *msg, size_t len)
{
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	void *p;

	if (ioctl(v->dev, VFIO_DEVICE_GET_REGION_INFO, &bar) < 0 ||
	    ioctl(v->dev, VFIO_DEVICE_GET_REGION_INFO, &cfg) < 0) {
		say(msg, len, "cannot get the regions of %s: %s", v->bdf, strerror(errno));
		return -errno;
	}
	if (bar.size < 0x1000 + 8) {
		say(msg, len, "BAR0 of %s has %llu bytes: too small for an NVMe controller", v->bdf,
		    (unsigned long long)bar.size);
		return -ENODEV;
	}
	v->bar_size = bar.size;
	v->bar_off = bar.offset;
	v->cfg_off = cfg.offset;
	if (bar.flags & VFIO_REGION_INFO_FLAG_MMAP) {
		p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, v->dev, (off_t)bar.offset);
		if (p != MAP_FAILED) {
			v->bar = p;
			/* Doorbells of queues then store here directly (vf_write32()'s
			 * ordering argument holds for them too). */
			v->t.mmio = p;
			v->t.mmio_size = (uint32_t)NVR_MIN(bar.size, UINT32_MAX);
		}
		else
			nvr_debug("vfio %s: BAR0 mmap failed (%s); using pread/pwrite", v->bdf,
				  strerror(errno));
	}
	return 0;
}

int nvr_vfio_open(const char *bdf_in, struct nvr_transport **out, char *msg, size_t len)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	struct nvr_iova_range ranges[16];
	unsigned int nr = 0;
	struct vfio_dev *v;
	struct rlimit rl;
	uint64_t s, e;
	char drv[64];
	int group, ret;

	*out = NULL;
	say(msg, len, "unknown error");
#if !defined(__x86_64__)
	/* vf_write32() relies on x86 store ordering for its doorbells. */
	say(msg, len, "the VFIO transport runs on x86-64 only: its doorbell writes rely on x86 "
		      "store ordering");
	return -ENOTSUP;
#endif
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->container = v->group = v->dev = v->iommufd = -1;
	pthread_mutex_init(&v->irq_lock, NULL);
	if (nvr_pci_parse_bdf(bdf_in, v->bdf)) {
		say(msg, len, "invalid PCI address '%s': expected DDDD:BB:DD.F, e.g. 0000:01:00.0",
		    bdf_in);
		ret = -EINVAL;
		goto err;
	}
	ret = nvr_pci_driver(v->bdf, drv, sizeof(drv));
	if (ret) {
		say(msg, len, "no PCI device %s: see 'nvmerace list'", v->bdf);
		goto err;
	}
	ret = nvr_pci_iommu_group(v->bdf, &group);
	if (ret) {
		say(msg, len, "%s has no IOMMU group: the IOMMU is off or absent. Enable VT-d/AMD-Vi "
			      "in the firmware and boot with intel_iommu=on (or amd_iommu=on)", v->bdf);
		ret = -ENODEV;
		goto err;
	}
	if (strcmp(drv, "vfio-pci")) {
		if (drv[0])
			say(msg, len, "%s is bound to %s, not vfio-pci: run 'nvmerace bind %s', or "
				      "pass --bind", v->bdf, drv, v->bdf);
		else
			say(msg, len, "%s is bound to no driver: run 'nvmerace bind %s', or pass "
				      "--bind", v->bdf, v->bdf);
		ret = -ENOENT;
		goto err;
	}
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		ret = nvr_memlock_check(NVR_VFIO_MEMLOCK_WANT, rl.rlim_cur, have_ipc_lock(), msg, len);
		if (ret)
			goto err;
	}
	ret = nvr_iommufd_open(v, msg, len);
	if (ret == -EOPNOTSUPP)
		ret = open_type1(v, group, msg, len);
	if (ret)
		goto err;

	if (ioctl(v->dev, VFIO_DEVICE_GET_INFO, &di) < 0 || !(di.flags & VFIO_DEVICE_FLAGS_PCI)) {
		say(msg, len, "%s is not a PCI device to VFIO", v->bdf);
		ret = -ENODEV;
		goto err;
	}
	v->can_reset = di.flags & VFIO_DEVICE_FLAGS_RESET;
	v->t.can_flr = v->can_reset;
	ret = map_bar0(v, msg, len);
	if (ret)
		goto err;
	if (ioctl(v->dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0 || !ii.count) {
		say(msg, len, "%s has no MSI-X vectors", v->bdf);
		ret = -ENODEV;
		goto err;
	}
	v->nr_msix = ii.count;
	v->t.msix_static = ii.flags & VFIO_IRQ_INFO_NORESIZE;
	v->efds = calloc(ii.count, sizeof(int));
	if (!v->efds) {
		ret = -ENOMEM;
		goto err;
	}
	ret = enable_bus_master(v);
	if (ret) {
		say(msg, len, "cannot enable bus mastering on %s: %s", v->bdf, strerror(-ret));
		goto err;
	}
	if (v->iommufd < 0)
		ret = iova_ranges(v, ranges, NVR_ARRAY_SIZE(ranges), &nr);
	else
		ret = nvr_iommufd_ranges(v, ranges, NVR_ARRAY_SIZE(ranges), &nr);
	if (ret || nvr_iova_pick(ranges, nr, 64 * MiB, &s, &e)) {
		say(msg, len, "the IOMMU reports no usable IOVA range of 64 MiB for %s", v->bdf);
		ret = -ENOSPC;
		goto err;
	}
	v->t.ops = &vfio_ops;
	v->t.kind = "vfio";
	v->t.nr_vectors = v->nr_msix;
	atomic_init(&v->t.iova_next, s);
	v->t.iova_end = e;
	nvr_debug("vfio %s: %s, BAR0 %zu bytes%s, %u MSI-X vectors, IOVA 0x%" PRIx64 "-0x%" PRIx64,
		  v->bdf, v->iommufd >= 0 ? "iommufd" : "type1v2", v->bar_size,
		  v->bar ? " mmapped" : "", v->nr_msix, s, e);
	say(msg, len, "ok");
	*out = &v->t;
	return 0;
err:
	vf_destroy(&v->t);
	return ret;
}
