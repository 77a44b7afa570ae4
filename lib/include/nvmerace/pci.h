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

/* Why a controller must not be taken from the kernel: one sentence per use. */
struct nvr_pci_use {
	unsigned int n;
	char why[NVR_PCI_MAX_USES][192];
};

/**
 * nvr_pci_in_use() - is any namespace of the controller at @bdf in use?
 * @use: a sentence for each namespace or partition that is mounted (the root
 *       filesystem said so), used as swap, or held by md, dm or LVM.
 *
 * Looks at the block devices the kernel's nvme driver made for the
 * controller (also behind native multipath), /proc/self/mountinfo,
 * /proc/swaps and the holders directories.
 * Return: 0 (use->n says whether it is in use), -ENODEV.
 */
int nvr_pci_in_use(const char *bdf, struct nvr_pci_use *use);

/**
 * nvr_pci_block_devices() - the block devices of a controller's namespaces
 * @bdf: the controller
 * @names: filled with names such as "nvme0n1"
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
 * Writes "vfio-pci" to driver_override, unbinds the current driver and asks
 * the kernel to probe again. Does nothing when vfio-pci already has it.
 * Return: 0; -ENOENT (vfio-pci not loaded); -ENODEV; -EACCES; -EIO.
 */
int nvr_pci_bind_vfio(const char *bdf, char *orig, size_t origlen, char *msg, size_t len);

/**
 * nvr_pci_restore() - take @bdf from vfio-pci and give it back to @orig.
 * @orig: the driver to bind, or "" for whatever the kernel picks.
 * Clears driver_override. Return: 0, or a negative errno with @msg filled.
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
};

/**
 * nvr_pci_list() - the NVMe controllers (class 0x010802) on the system.
 * @out: a malloc'd array, sorted by address; free() it.
 * @n: its length.
 * Return: 0, -ENOMEM, or -EIO when libpci cannot scan.
 */
int nvr_pci_list(struct nvr_pci_ctrl **out, unsigned int *n);

#endif
