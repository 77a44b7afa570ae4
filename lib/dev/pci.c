// SPDX-License-Identifier: MIT
/*
 * sysfs and /proc: drivers, IOMMU groups, binding, and whether a
 * controller's namespaces are in use. See pci_list.c for the libpci scan.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvmerace/pci.h>

#include "base/util.h"

static char root_dir[PATH_MAX];

void nvr_pci_set_root(const char *root)
{
	snprintf(root_dir, sizeof(root_dir), "%s", root ? root : "");
}

const char *nvr_pci_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(buf, len, "%s", root_dir);

	va_start(ap, fmt);
	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return buf;
}

int nvr_pci_parse_bdf(const char *s, char out[NVR_BDF_LEN])
{
	unsigned int dom = 0, bus, dev, fn;
	int n = 0;

	if (!s || strlen(s) > 12)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return -EINVAL;
	if (sscanf(s, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) == 4 && !s[n] && n == 12)
		goto ok;
	dom = 0;
	n = 0;
	if (sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) == 3 && !s[n] && n == 7)
		goto ok;
	return -EINVAL;
ok:
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, NVR_BDF_LEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* The last component of the link at @path, or -errno. */
static int link_name(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *base;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	base = strrchr(buf, '/');
	snprintf(out, len, "%s", base ? base + 1 : buf);
	return 0;
}

static bool device_exists(const char *bdf)
{
	char p[PATH_MAX];

	return access(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s", bdf), F_OK) == 0;
}

int nvr_pci_driver(const char *bdf, char *drv, size_t len)
{
	char p[PATH_MAX];

	drv[0] = '\0';
	if (!device_exists(bdf))
		return -ENODEV;
	if (link_name(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf), drv, len))
		drv[0] = '\0';
	return 0;
}

int nvr_pci_iommu_group(const char *bdf, int *group)
{
	char p[PATH_MAX], name[32], *end;
	long g;

	*group = -1;
	if (!device_exists(bdf))
		return -ENODEV;
	if (link_name(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", bdf), name,
		      sizeof(name)))
		return -ENOENT;
	g = strtol(name, &end, 10);
	if (*end || g < 0 || g > INT_MAX)
		return -ENOENT;
	*group = (int)g;
	return 0;
}

static int cmp_bdf(const void *a, const void *b)
{
	return strcmp(a, b);
}

int nvr_pci_group_devices(int group, char (*bdfs)[NVR_BDF_LEN], unsigned int max, unsigned int *n)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d;

	*n = 0;
	d = opendir(nvr_pci_path(p, sizeof(p), "/sys/kernel/iommu_groups/%d/devices", group));
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		char bdf[NVR_BDF_LEN];

		if (de->d_name[0] == '.' || nvr_pci_parse_bdf(de->d_name, bdf))
			continue;
		if (*n < max)
			memcpy(bdfs[*n], bdf, NVR_BDF_LEN);
		(*n)++;
	}
	closedir(d);
	qsort(bdfs, NVR_MIN(*n, max), NVR_BDF_LEN, cmp_bdf);
	return 0;
}

/* Does the sysfs directory @path resolve to somewhere under device @bdf? */
static bool under_device(const char *path, const char *bdf)
{
	char real[PATH_MAX], needle[NVR_BDF_LEN + 2];

	if (!realpath(path, real))
		return false;
	snprintf(needle, sizeof(needle), "/%s/", bdf);
	return strstr(real, needle) != NULL;
}

/* Is block device @name a namespace of @bdf, directly or behind native multipath? */
static bool block_of(const char *bdf, const char *name)
{
	char p[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;

	if (under_device(nvr_pci_path(p, sizeof(p), "/sys/block/%s", name), bdf))
		return true;
	d = opendir(nvr_pci_path(p, sizeof(p), "/sys/block/%s/multipath", name));
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		found = under_device(nvr_pci_path(p, sizeof(p), "/sys/block/%s/multipath/%s", name,
						  de->d_name), bdf);
	}
	closedir(d);
	return found;
}

unsigned int nvr_pci_block_devices(const char *bdf, char (*names)[32], unsigned int max)
{
	char p[PATH_MAX];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(nvr_pci_path(p, sizeof(p), "/sys/block"));

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (strncmp(de->d_name, "nvme", 4) || strlen(de->d_name) >= 32)
			continue;
		if (block_of(bdf, de->d_name))
			snprintf(names[n++], 32, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, n, 32, cmp_bdf);
	return n;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		ret = -EIO;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return ret;
}

static void add_use(struct nvr_pci_use *use, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_use(struct nvr_pci_use *use, const char *fmt, ...)
{
	va_list ap;

	if (use->n >= NVR_PCI_MAX_USES)
		return;
	va_start(ap, fmt);
	vsnprintf(use->why[use->n++], sizeof(use->why[0]), fmt, ap);
	va_end(ap);
}

static const char *holder_kind(const char *h)
{
	if (!strncmp(h, "dm-", 3))
		return "device mapper (LVM, dm-crypt, multipath)";
	if (!strncmp(h, "md", 2))
		return "md RAID";
	if (!strncmp(h, "bcache", 6))
		return "bcache";
	return "another block device";
}

/* Mounts, swap and holders of one block device or partition, @dir its sysfs directory. */
static void check_part(struct nvr_pci_use *use, const char *name, const char *dir)
{
	char p[PATH_MAX], dev[32] = "", line[4096];
	struct dirent *de;
	FILE *f;
	DIR *d;

	snprintf(p, sizeof(p), "%s/holders", dir);
	d = opendir(p);
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				add_use(use, "%s is held by %s (%s)", name, de->d_name,
					holder_kind(de->d_name));
		closedir(d);
	}
	snprintf(p, sizeof(p), "%s/dev", dir);
	read_line(p, dev, sizeof(dev));

	/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE SOURCE SUPEROPTS */
	f = fopen(nvr_pci_path(p, sizeof(p), "/proc/self/mountinfo"), "re");
	while (f && fgets(line, sizeof(line), f)) {
		char majmin[32], mnt[1024], src[1024] = "";
		const char *dash = strstr(line, " - ");
		char devpath[64];

		if (sscanf(line, "%*s %*s %31s %*s %1023s", majmin, mnt) != 2)
			continue;
		if (dash)
			sscanf(dash + 3, "%*s %1023s", src);
		snprintf(devpath, sizeof(devpath), "/dev/%s", name);
		if ((dev[0] && !strcmp(majmin, dev)) || !strcmp(src, devpath)) {
			if (!strcmp(mnt, "/"))
				add_use(use, "%s backs the root filesystem", name);
			else
				add_use(use, "%s is mounted on %s", name, mnt);
		}
	}
	if (f)
		fclose(f);

	f = fopen(nvr_pci_path(p, sizeof(p), "/proc/swaps"), "re");
	while (f && fgets(line, sizeof(line), f)) {
		char file[1024], devpath[64];

		snprintf(devpath, sizeof(devpath), "/dev/%s", name);
		if (sscanf(line, "%1023s", file) == 1 && !strcmp(file, devpath))
			add_use(use, "%s is used as swap", name);
	}
	if (f)
		fclose(f);
}

int nvr_pci_in_use(const char *bdf, struct nvr_pci_use *use)
{
	char names[NVR_PCI_MAX_NS][32], p[PATH_MAX];
	unsigned int n;

	memset(use, 0, sizeof(*use));
	if (!device_exists(bdf))
		return -ENODEV;
	n = nvr_pci_block_devices(bdf, names, NVR_PCI_MAX_NS);
	for (unsigned int i = 0; i < n; i++) {
		struct dirent *de;
		DIR *d;

		nvr_pci_path(p, sizeof(p), "/sys/block/%s", names[i]);
		check_part(use, names[i], p);
		/* Partitions are subdirectories with a "partition" attribute. */
		d = opendir(p);
		while (d && (de = readdir(d))) {
			char part[PATH_MAX + 300], attr[PATH_MAX + 320];

			if (de->d_name[0] == '.' || strncmp(de->d_name, names[i], strlen(names[i])))
				continue;
			snprintf(part, sizeof(part), "%s/%s", p, de->d_name);
			snprintf(attr, sizeof(attr), "%s/partition", part);
			if (access(attr, F_OK) == 0)
				check_part(use, de->d_name, part);
		}
		if (d)
			closedir(d);
	}
	return 0;
}

static int write_attr(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return (size_t)n == strlen(val) ? 0 : -EIO;
}

int nvr_pci_bind_vfio(const char *bdf, char *orig, size_t origlen, char *msg, size_t len)
{
	char p[PATH_MAX], drv[64];
	int ret;

	ret = nvr_pci_driver(bdf, orig, origlen);
	if (ret) {
		snprintf(msg, len, "no PCI device %s: see 'nvmerace list'", bdf);
		return ret;
	}
	if (!strcmp(orig, "vfio-pci"))
		return 0;
	if (access(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/drivers/vfio-pci"), F_OK)) {
		snprintf(msg, len, "the vfio-pci driver is not loaded: run 'modprobe vfio-pci'");
		return -ENOENT;
	}
	ret = write_attr(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", bdf),
			 "vfio-pci");
	if (ret) {
		snprintf(msg, len, "cannot write %s: %s%s", p, strerror(-ret),
			 ret == -EACCES || ret == -EPERM ? " (binding needs root)" : "");
		return ret;
	}
	if (orig[0]) {
		ret = write_attr(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind",
					      bdf), bdf);
		if (ret) {
			snprintf(msg, len, "cannot unbind %s from %s: %s", bdf, orig, strerror(-ret));
			goto undo;
		}
	}
	ret = write_attr(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/drivers_probe"), bdf);
	nvr_pci_driver(bdf, drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci")) {
		snprintf(msg, len, "vfio-pci did not take %s (%s); see the kernel log (dmesg)", bdf,
			 ret ? strerror(-ret) : "no error reported");
		ret = ret ? ret : -EIO;
		goto undo;
	}
	return 0;
undo:
	nvr_pci_restore(bdf, orig, NULL, 0);
	return ret;
}

int nvr_pci_restore(const char *bdf, const char *orig, char *msg, size_t len)
{
	char p[PATH_MAX], drv[64];
	int ret;

	ret = nvr_pci_driver(bdf, drv, sizeof(drv));
	if (ret) {
		if (msg)
			snprintf(msg, len, "no PCI device %s", bdf);
		return ret;
	}
	/* Clear the override first, so that the probe below finds the old driver. */
	ret = write_attr(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", bdf),
			 "\n");
	if (ret) {
		if (msg)
			snprintf(msg, len, "cannot write %s: %s", p, strerror(-ret));
		return ret;
	}
	if (drv[0] && strcmp(drv, orig ? orig : "")) {
		ret = write_attr(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind",
					      bdf), bdf);
		if (ret) {
			if (msg)
				snprintf(msg, len, "cannot unbind %s from %s: %s", bdf, drv,
					 strerror(-ret));
			return ret;
		}
	}
	if (orig && orig[0]) {
		ret = write_attr(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/drivers/%s/bind", orig),
				 bdf);
		if (ret && ret != -EBUSY) {
			if (msg)
				snprintf(msg, len, "cannot bind %s back to %s: %s", bdf, orig,
					 strerror(-ret));
			return ret;
		}
	} else {
		write_attr(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/drivers_probe"), bdf);
	}
	return 0;
}

static const char *state_path(char *buf, size_t len, const char *bdf)
{
	return nvr_pci_path(buf, len, "/run/nvmerace/%s.driver", bdf);
}

int nvr_pci_remember(const char *bdf, const char *drv)
{
	char p[PATH_MAX];
	FILE *f;

	mkdir(nvr_pci_path(p, sizeof(p), "/run/nvmerace"), 0755);
	f = fopen(state_path(p, sizeof(p), bdf), "we");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", drv);
	return fclose(f) ? -errno : 0;
}

int nvr_pci_recall(const char *bdf, char *drv, size_t len)
{
	char p[PATH_MAX];

	drv[0] = '\0';
	return read_line(state_path(p, sizeof(p), bdf), drv, len);
}

void nvr_pci_forget(const char *bdf)
{
	char p[PATH_MAX];

	unlink(state_path(p, sizeof(p), bdf));
}
