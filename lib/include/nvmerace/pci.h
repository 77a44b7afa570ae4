/* SPDX-License-Identifier: MIT */
/*
 * PCI discovery and the device's place in the system: libpci for names,
 * sysfs for the driver, the IOMMU group, binding (driver_override) and the
 * namespaces' block devices; /proc for mounts and swap. Everything is looked
 * for under a root directory that the unit tests point at a fake tree.
 */
#ifndef NVMERACE_PCI_H
#define NVMERACE_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NVR_BDF_LEN 16		/* "0000:00:00.0" and its NUL, with room */
#define NVR_PCI_MAX_USES 16
#define NVR_PCI_MAX_PEERS 16
#define NVR_PCI_MAX_NS 16
#define NVR_PCI_MSG 512		/* room for nvr_pci_check_nvme()'s message */

/**
 * nvr_pci_parse_bdf() - check and normalise a PCI address.
 * @s: "DDDD:BB:DD.F" or "BB:DD.F" (hex; the domain defaults to 0000).
 * @out: the address with its domain, lowercase.
 * Return: 0, or -EINVAL.
 */
int nvr_pci_parse_bdf(const char *s, char out[NVR_BDF_LEN]);

/**
 * nvr_pci_set_root() - look for /sys, /proc and /dev under @root instead of "/"
 * @root: the unit tests' fake tree; NULL or "" restores the real root
 *
 * Return: nothing. Not thread safe.
 */
void nvr_pci_set_root(const char *root);

/**
 * nvr_pci_path() - a path under the current root
 * @buf: filled
 * @len: its size
 * @fmt: the path ("/sys/..."), printf style
 *
 * Return: @buf.
 */
const char *nvr_pci_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * nvr_pci_driver() - the driver @bdf is bound to.
 * @drv: its name, "" when no driver has it.
 * Return: 0, or -ENODEV when there is no such device.
 */
int nvr_pci_driver(const char *bdf, char *drv, size_t len);

/**
 * nvr_pci_iommu_group() - the IOMMU group of @bdf.
 * Return: 0; -ENODEV (no such device); -ENOENT (no group: no IOMMU, or it is off).
 */
int nvr_pci_iommu_group(const char *bdf, int *group);

/**
 * nvr_pci_group_devices() - the devices in IOMMU group @group, sorted.
 * @bdfs: filled with up to @max addresses; @n: how many there are in all.
 * Return: 0, or -ENOENT when the group does not exist.
 */
int nvr_pci_group_devices(int group, char (*bdfs)[NVR_BDF_LEN], unsigned int max,
			  unsigned int *n);

#define NVR_PCI_CLASS_NVME 0x010802	/* mass storage, non-volatile memory, NVM Express */

/**
 * nvr_pci_class() - the 24-bit class code of @bdf (its sysfs "class").
 * Return: 0, -ENODEV (no such device), -EIO (unreadable).
 */
int nvr_pci_class(const char *bdf, uint32_t *cls);

/**
 * nvr_pci_check_nvme() - is @bdf an NVM Express I/O controller (class 0x010802)?
 * @msg: when it is not, a sentence naming its class (and the class's name
 *       from pci.ids when libpci knows it) and its driver.
 * Nothing here is overridden by --force: nvmerace binds NVMe controllers only.
 * Return: 0; -ENODEV (no such device); -ENOTSUP (another class, @msg filled).
 */
int nvr_pci_check_nvme(const char *bdf, char *msg, size_t len);

/* Why a controller must not be taken from the kernel: one sentence per use. */
struct nvr_pci_use {
	unsigned int n;
	char why[NVR_PCI_MAX_USES][192];
};

/**
 * nvr_pci_in_use() - is any block device below the function at @bdf in use?
 * @use: a sentence for each block device or partition that backs the root
 *       filesystem, is mounted, used as swap or held by another block device
 *       (md, dm, LVM, bcache), and, following the holders up, for each of
 *       those that is mounted, swap or the root filesystem.
 *
 * Every block device whose sysfs directory lies below the function counts,
 * whatever its driver (nvme, ahci, virtio_blk...), and the heads of native
 * NVMe multipath whose paths do. Mounts are /proc/self/mountinfo's (by
 * major:minor and by source), swap is /proc/swaps, the root filesystem's
 * device is stat("/")'s st_dev and the mount on "/".
 * Return: 0 (use->n says whether it is in use), -ENODEV.
 */
int nvr_pci_in_use(const char *bdf, struct nvr_pci_use *use);

/**
 * nvr_pci_group_in_use() - the other devices in @bdf's IOMMU group that the host uses.
 * @use: a sentence for each device bound to a host driver, anything but
 *       vfio-pci (or a vfio-pci variant), pci-stub and pcieport (bridges,
 *       which VFIO accepts in a group); it names the device, its class, its
 *       driver, its network interfaces and whether they are up, and then its
 *       block devices' uses as nvr_pci_in_use() finds them.
 *
 * Being bound to a host driver is what counts, not whether an interface is
 * up: VFIO opens a group only when every device in it is released, so using
 * this controller means taking each of them from the host.
 * Return: 0 (also when there is no IOMMU group), -ENODEV.
 */
int nvr_pci_group_in_use(const char *bdf, struct nvr_pci_use *use);

/* Why nvr_pci_may_bind() said no, or what --force overrode. */
struct nvr_pci_refusal {
	char msg[NVR_PCI_MSG];		/* no such device, or not NVMe */
	struct nvr_pci_use use;		/* nvr_pci_in_use() */
	struct nvr_pci_use group;	/* nvr_pci_group_in_use() */
};

/**
 * nvr_pci_may_bind() - may @bdf be taken from the kernel for vfio-pci?
 * @force: take it even when it or its IOMMU group is in use (--force); never
 *         when it is not an NVMe controller.
 * @r: why not; with @force, r->use and r->group list what was overridden.
 * Reads only: call it before nvr_pci_bind_vfio().
 * Return: 0; -ENODEV (no such device, r->msg); -ENOTSUP (not NVMe, r->msg);
 * -EBUSY (in use, or its group is, and no @force: r->use and r->group).
 */
int nvr_pci_may_bind(const char *bdf, bool force, struct nvr_pci_refusal *r);

/**
 * nvr_pci_block_devices() - the block devices below a device
 * @bdf: the device
 * @names: filled with names such as "nvme0n1" or "sda", sorted
 * @max: room in @names
 *
 * Return: how many were found (at most @max are filled).
 */
unsigned int nvr_pci_block_devices(const char *bdf, char (*names)[32], unsigned int max);

/**
 * nvr_pci_bind_vfio() - give @bdf to vfio-pci through driver_override.
 * @orig: the driver it had ("" for none), to restore later.
 * @msg: what went wrong and what to do.
 *
 * Refuses a function that is not an NVMe controller (nvr_pci_check_nvme())
 * before writing anything. Then writes "vfio-pci" to driver_override, unbinds
 * the current driver and asks the kernel to probe again. Does nothing when
 * vfio-pci already has it. The in-use checks are the caller's (--force).
 * Return: 0; -ENOTSUP (not NVMe); -ENOENT (vfio-pci not loaded); -ENODEV;
 * -EACCES; -EIO.
 */
int nvr_pci_bind_vfio(const char *bdf, char *orig, size_t origlen, char *msg, size_t len);

/**
 * nvr_pci_restore() - take @bdf from vfio-pci and give it back to @orig.
 * @orig: the driver to bind, or "" for whatever the kernel picks.
 * Refuses a function that is not an NVMe controller (-ENOTSUP), like
 * nvr_pci_bind_vfio(). Clears driver_override.
 * Return: 0, or a negative errno with @msg filled.
 */
int nvr_pci_restore(const char *bdf, const char *orig, char *msg, size_t len);

/*
 * The original driver of a device bound with 'nvmerace bind', remembered
 * in /run/nvmerace/BDF.driver until 'nvmerace unbind'.
 */
/**
 * nvr_pci_remember() - remember the driver @bdf had before it was bound to vfio-pci
 * @bdf: the device
 * @drv: its driver, "" for none
 *
 * Return: 0, or a negative errno when the file cannot be written.
 */
int nvr_pci_remember(const char *bdf, const char *drv);

/**
 * nvr_pci_recall() - the driver remembered for @bdf
 * @bdf: the device
 * @drv: filled
 * @len: its size
 *
 * Return: 0, or a negative errno (-ENOENT when nothing is remembered).
 */
int nvr_pci_recall(const char *bdf, char *drv, size_t len);

/**
 * nvr_pci_forget() - forget what was remembered for @bdf
 * @bdf: the device
 *
 * Return: nothing.
 */
void nvr_pci_forget(const char *bdf);

struct nvr_pci_ns {
	char name[32];		/* block device, "nvme0n1" */
	uint64_t bytes;
};

struct nvr_pci_ctrl {
	char bdf[NVR_BDF_LEN];
	uint16_t vendor, device;
	char vendor_name[64];
	char device_name[128];
	char driver[32];
	int group;		/* -1: no IOMMU group */
	unsigned int nr_peers;	/* other devices in the group */
	char peers[NVR_PCI_MAX_PEERS][NVR_BDF_LEN];
	unsigned int nr_ns;
	struct nvr_pci_ns ns[NVR_PCI_MAX_NS];
	struct nvr_pci_use use;
	struct nvr_pci_use group_use;	/* nvr_pci_group_in_use() */
};

/**
 * nvr_pci_list() - the NVMe controllers (class 0x010802) on the system.
 * @out: a malloc'd array, sorted by address; free() it.
 * @n: its length.
 * Return: 0, -ENOMEM, or -EIO when libpci cannot scan.
 */
int nvr_pci_list(struct nvr_pci_ctrl **out, unsigned int *n);

#endif
