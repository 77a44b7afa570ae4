// SPDX-License-Identifier: MIT
/*
 * Whether taking a PCI function from the kernel would pull the floor from
 * under the host: its block devices (whatever their driver), their
 * partitions and holders (md, dm, LVM) followed up, mounts, swap and the root
 * filesystem; and the other devices of its IOMMU group that host drivers have.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <nvmerace/pci.h>

#include "dev/pci_int.h"
#include "base/util.h"

#define HOLDER_DEPTH 8		/* dm on md on a partition is 3; a cycle stops here */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool device_exists(const char *bdf)
{
	char p[PATH_MAX];

	return access(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s", bdf), F_OK) == 0;
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

/* Is block device @name below @bdf, directly or as a native multipath head over it? */
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
		if (de->d_name[0] == '.' || strlen(de->d_name) >= 32)
			continue;
		if (block_of(bdf, de->d_name))
			snprintf(names[n++], 32, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, n, 32, cmp_name);
	return n;
}

static void add_use(struct nvr_pci_use *use, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One sentence more, unless it is there already (a disk seen through two holders). */
static void add_use(struct nvr_pci_use *use, const char *fmt, ...)
{
	char s[sizeof(use->why[0])];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	for (unsigned int i = 0; i < use->n; i++)
		if (!strcmp(use->why[i], s))
			return;
	if (use->n < NVR_PCI_MAX_USES)
		memcpy(use->why[use->n++], s, sizeof(s));
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

/* What one walk looks for: the root filesystem's device, as "MAJ:MIN". */
struct walk {
	struct nvr_pci_use *use;
	char rootdev[32];
};

/*
 * How a device is named in a sentence: "nvme0n1p1"; a holder, with its
 * device mapper name, and what it sits on: "dm-0 (vg0-data), on nvme0n1p1,".
 */
static void label(char *out, size_t len, const char *name, const char *dir, const char *on)
{
	char p[PATH_MAX + 16], dm[128] = "";

	if (!on) {
		snprintf(out, len, "%s", name);
		return;
	}
	snprintf(p, sizeof(p), "%s/dm/name", dir);
	nvr_pci_read_line(p, dm, sizeof(dm));
	snprintf(out, len, "%s%s%s%s, on %s,", name, dm[0] ? " (" : "", dm, dm[0] ? ")" : "", on);
}

static void check_disk(struct walk *w, const char *name, const char *dir, const char *on,
		       int depth);

/* Mounts, swap, the root filesystem and holders of block device @name at sysfs @dir. */
static void check_dev(struct walk *w, const char *name, const char *dir, const char *on, int depth)
{
	char p[PATH_MAX + 64], dev[32] = "", line[4096], who[160], devpath[64], dm[128] = "";
	bool is_root;
	struct dirent *de;
	FILE *f;
	DIR *d;

	label(who, sizeof(who), name, dir, on);
	snprintf(p, sizeof(p), "%s/dev", dir);
	nvr_pci_read_line(p, dev, sizeof(dev));
	snprintf(p, sizeof(p), "%s/dm/name", dir);
	nvr_pci_read_line(p, dm, sizeof(dm));
	snprintf(devpath, sizeof(devpath), "/dev/%s", name);
	is_root = dev[0] && !strcmp(dev, w->rootdev);

	/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE SOURCE SUPEROPTS */
	f = fopen(nvr_pci_path(p, sizeof(p), "/proc/self/mountinfo"), "re");
	while (f && fgets(line, sizeof(line), f)) {
		char majmin[32], mnt[1024], src[1024] = "", mapper[160];
		const char *dash = strstr(line, " - ");

		if (sscanf(line, "%*s %*s %31s %*s %1023s", majmin, mnt) != 2)
			continue;
		if (dash)
			sscanf(dash + 3, "%*s %1023s", src);
		snprintf(mapper, sizeof(mapper), "/dev/mapper/%s", dm);
		if ((!dev[0] || strcmp(majmin, dev)) && strcmp(src, devpath) &&
		    (!dm[0] || strcmp(src, mapper)))
			continue;
		if (!strcmp(mnt, "/"))
			is_root = true;
		else
			add_use(w->use, "%s is mounted on %s", who, mnt);
	}
	if (f)
		fclose(f);
	if (is_root)
		add_use(w->use, "%s backs the root filesystem", who);

	f = fopen(nvr_pci_path(p, sizeof(p), "/proc/swaps"), "re");
	while (f && fgets(line, sizeof(line), f)) {
		char file[1024];

		if (sscanf(line, "%1023s", file) == 1 && !strcmp(file, devpath))
			add_use(w->use, "%s is used as swap", who);
	}
	if (f)
		fclose(f);

	snprintf(p, sizeof(p), "%s/holders", dir);
	d = opendir(p);
	while (d && (de = readdir(d))) {
		char hdir[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (!on)
			add_use(w->use, "%s is held by %s (%s)", name, de->d_name,
				holder_kind(de->d_name));
		else
			add_use(w->use, "%s is held by %s (%s)", who, de->d_name,
				holder_kind(de->d_name));
		/* Then what the holder and its partitions are for: LVM's root, a RAID. */
		if (depth < HOLDER_DEPTH) {
			nvr_pci_path(hdir, sizeof(hdir), "/sys/block/%s", de->d_name);
			check_disk(w, de->d_name, hdir, name, depth + 1);
		}
	}
	if (d)
		closedir(d);
}

/* @name and its partitions: subdirectories of @dir with a "partition" attribute. */
static void check_disk(struct walk *w, const char *name, const char *dir, const char *on,
		       int depth)
{
	struct dirent *de;
	DIR *d;

	check_dev(w, name, dir, on, depth);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char part[PATH_MAX + 300], attr[PATH_MAX + 320];

		if (de->d_name[0] == '.' || strncmp(de->d_name, name, strlen(name)))
			continue;
		snprintf(part, sizeof(part), "%s/%s", dir, de->d_name);
		snprintf(attr, sizeof(attr), "%s/partition", part);
		if (access(attr, F_OK) == 0)
			check_dev(w, de->d_name, part, on, depth);
	}
	if (d)
		closedir(d);
}

int nvr_pci_in_use(const char *bdf, struct nvr_pci_use *use)
{
	char names[NVR_PCI_MAX_NS][32], p[PATH_MAX];
	struct walk w = { .use = use };
	struct stat st;
	unsigned int n;

	memset(use, 0, sizeof(*use));
	if (!device_exists(bdf))
		return -ENODEV;
	/* The root filesystem's device; under a fake root, the fake root's. */
	if (stat(nvr_pci_path(p, sizeof(p), "/"), &st) == 0)
		snprintf(w.rootdev, sizeof(w.rootdev), "%u:%u", major(st.st_dev), minor(st.st_dev));
	n = nvr_pci_block_devices(bdf, names, NVR_PCI_MAX_NS);
	for (unsigned int i = 0; i < n; i++)
		check_disk(&w, names[i], nvr_pci_path(p, sizeof(p), "/sys/block/%s", names[i]),
			   NULL, 0);
	return 0;
}

/* Drivers that leave a device to VFIO's use of the group (driver_managed_dma in the kernel). */
static bool vfio_friendly(const char *drv)
{
	size_t n = strlen(drv);

	return !drv[0] || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport") ||
	       (n >= 8 && !strcmp(drv + n - 8, "vfio-pci"));
}

/* ", network interface eth0 (up), eth1 (down)" for a network device; "" for others. */
static void interfaces(const char *bdf, char *out, size_t len)
{
	char p[PATH_MAX], state[32];
	struct dirent *de;
	size_t off = 0;
	int k = 0;
	DIR *d = opendir(nvr_pci_path(p, sizeof(p), "/sys/bus/pci/devices/%s/net", bdf));

	out[0] = '\0';
	while (d && (de = readdir(d)) && off < len) {
		if (de->d_name[0] == '.')
			continue;
		if (nvr_pci_read_line(nvr_pci_path(p, sizeof(p),
						   "/sys/bus/pci/devices/%s/net/%s/operstate",
						   bdf, de->d_name), state, sizeof(state)))
			snprintf(state, sizeof(state), "unknown");
		off += (size_t)snprintf(out + off, len - off, "%s%s (%s)",
					k++ ? ", " : ", network interface ", de->d_name, state);
	}
	if (d)
		closedir(d);
}

int nvr_pci_group_in_use(const char *bdf, struct nvr_pci_use *use)
{
	char peers[NVR_PCI_MAX_PEERS][NVR_BDF_LEN];
	unsigned int n;
	int group;

	memset(use, 0, sizeof(*use));
	if (!device_exists(bdf))
		return -ENODEV;
	if (nvr_pci_iommu_group(bdf, &group) || nvr_pci_group_devices(group, peers,
								      NVR_PCI_MAX_PEERS, &n))
		return 0;
	for (unsigned int i = 0; i < NVR_MIN(n, (unsigned int)NVR_PCI_MAX_PEERS); i++) {
		char drv[64], nets[128];
		struct nvr_pci_use blk;
		uint32_t cls = 0;

		if (!strcmp(peers[i], bdf) || nvr_pci_driver(peers[i], drv, sizeof(drv)) ||
		    vfio_friendly(drv))
			continue;
		nvr_pci_class(peers[i], &cls);
		interfaces(peers[i], nets, sizeof(nets));
		add_use(use, "%s (class 0x%06x) is in IOMMU group %d and bound to %s%s", peers[i],
			cls, group, drv, nets);
		if (nvr_pci_in_use(peers[i], &blk))
			continue;
		for (unsigned int j = 0; j < blk.n; j++)
			add_use(use, "%s: %s", peers[i], blk.why[j]);
	}
	return 0;
}

int nvr_pci_may_bind(const char *bdf, bool force, struct nvr_pci_refusal *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = nvr_pci_check_nvme(bdf, r->msg, sizeof(r->msg));
	if (ret)
		return ret;
	nvr_pci_in_use(bdf, &r->use);
	nvr_pci_group_in_use(bdf, &r->group);
	return (r->use.n || r->group.n) && !force ? -EBUSY : 0;
}
