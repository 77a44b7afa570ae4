// SPDX-License-Identifier: MIT
/*
 * sysfs: drivers, classes, IOMMU groups and binding. See pci_use.c for
 * whether a function's block devices are in use, pci_list.c for the libpci scan.
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

#include <pci/pci.h>

#include <nvmerace/pci.h>

#include "base/util.h"
#include "dev/pci_int.h"

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
int nvr_pci_link_name(const char *path, char *out, size_t len)
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
	if (nvr_pci_link_name(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf),
			      drv, len))
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
	if (nvr_pci_link_name(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group",
					   bdf), name, sizeof(name)))
		return -ENOENT;
	g = strtol(name, &end, 10);
	if (*end || g < 0 || g > INT_MAX)
		return -ENOENT;
	*group = (int)g;
	return 0;
}

int nvr_pci_read_line(const char *path, char *buf, size_t len)
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

int nvr_pci_class(const char *bdf, uint32_t *cls)
{
	char p[PATH_MAX], line[32], *end;
	unsigned long v;

	*cls = 0;
	if (!device_exists(bdf))
		return -ENODEV;
	if (nvr_pci_read_line(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/class", bdf),
			      line, sizeof(line)))
		return -EIO;
	errno = 0;
	v = strtoul(line, &end, 16);
	if (errno || end == line || *end || v > 0xffffff)
		return -EIO;
	*cls = (uint32_t)v;
	return 0;
}

static void quiet(char *msg, ...)
{
	(void)msg;
}

/*
 * "SATA controller, AHCI 1.0" from pci.ids, or "" when libpci does not know
 * the class. Under a fake root its pci.ids is the one in /usr/share/misc.
 */
static void class_name(uint32_t cls, char *out, size_t len)
{
	char p[PATH_MAX], name[96], progif[96];
	struct pci_access *pacc = pci_alloc();
	int flags = PCI_LOOKUP_NO_NUMBERS;

	out[0] = '\0';
	if (!pacc)
		return;
	pacc->warning = quiet;
	pacc->debug = quiet;
	if (root_dir[0]) {
		char *ids = strdup(nvr_pci_path(p, sizeof(p), "/usr/share/misc/pci.ids"));

		if (!ids) {
			pci_cleanup(pacc);
			return;
		}
		pci_set_name_list_path(pacc, ids, 1);
		flags |= PCI_LOOKUP_NO_HWDB;
	}
	if (pci_lookup_name(pacc, name, sizeof(name), PCI_LOOKUP_CLASS | flags, cls >> 8)) {
		if (pci_lookup_name(pacc, progif, sizeof(progif), PCI_LOOKUP_PROGIF | flags,
				    cls >> 8, cls & 0xff))
			snprintf(out, len, "%s, %s", name, progif);
		else
			snprintf(out, len, "%s", name);
	}
	pci_cleanup(pacc);
}

int nvr_pci_check_nvme(const char *bdf, char *msg, size_t len)
{
	char drv[64], name[200];
	uint32_t cls;
	int ret = nvr_pci_class(bdf, &cls);

	if (ret == -ENODEV) {
		snprintf(msg, len, "no PCI device %s: see 'nvmerace list'", bdf);
		return ret;
	}
	if (!ret && cls == NVR_PCI_CLASS_NVME)
		return 0;
	nvr_pci_driver(bdf, drv, sizeof(drv));
	if (ret) {
		snprintf(msg, len, "%s has no readable PCI class, driver %s: nvmerace takes only "
			 "NVM Express I/O controllers (class 0x%06x)", bdf,
			 drv[0] ? drv : "none", NVR_PCI_CLASS_NVME);
		return -ENOTSUP;
	}
	class_name(cls, name, sizeof(name));
	snprintf(msg, len, "%s is not an NVMe controller: class 0x%06x%s%s%s, driver %s. "
		 "nvmerace takes only NVM Express I/O controllers (class 0x%06x), "
		 "and --force does not change that", bdf, cls, name[0] ? " (" : "", name,
		 name[0] ? ")" : "", drv[0] ? drv : "none", NVR_PCI_CLASS_NVME);
	return -ENOTSUP;
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

	orig[0] = '\0';
	ret = nvr_pci_check_nvme(bdf, msg, len);
	if (ret)
		return ret;
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
	char p[PATH_MAX], drv[64], why[NVR_PCI_MSG];
	int ret;

	ret = nvr_pci_check_nvme(bdf, why, sizeof(why));
	if (ret) {
		if (msg)
			snprintf(msg, len, "%s", why);
		return ret;
	}
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
	return nvr_pci_read_line(state_path(p, sizeof(p), bdf), drv, len);
}

void nvr_pci_forget(const char *bdf)
{
	char p[PATH_MAX];

	unlink(state_path(p, sizeof(p), bdf));
}
