// SPDX-License-Identifier: MIT
/*
 * What bind and --bind refuse, against fake sysfs and /proc trees: a
 * function that is not an NVMe controller (refused before any sysfs file is
 * written, --force or not), a controller whose block devices back the root
 * filesystem, are mounted through LVM, or are swap, and one whose IOMMU group
 * holds a NIC that the host drives. Each refusal has a twin that passes.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <nvmerace/pci.h>
#include "fake_root.h"
#include "suite_main.h"

#define NVME "0000:03:00.0"
#define NIC "0000:03:00.1"
#define SATA "0000:00:1f.2"
#define DEVS "/sys/devices/pci0000:00/"

static char rootdev[32];	/* the fake root's st_dev: "the root filesystem" */

/* @rel holds @value and a newline. */
static void putln(const char *rel, const char *value)
{
	char text[256];

	snprintf(text, sizeof(text), "%s\n", value);
	put(rel, text);
}

/* The whole content of @rel, into @buf. */
static const char *get(const char *rel, char *buf, size_t len)
{
	char p[PATH_MAX * 2];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	f = fopen(p, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void path2(char *out, size_t len, const char *a, const char *b)
{
	snprintf(out, len, "%s%s", a, b);
}

/* A PCI function of class @cls on driver @drv ("" for none) in IOMMU group @group. */
static void function(const char *bdf, const char *cls, const char *drv, const char *group)
{
	char dev[256], p[512], t[256];

	path2(dev, sizeof(dev), DEVS, bdf);
	mkpath(dev);
	snprintf(p, sizeof(p), "%s/class", dev);
	putln(p, cls);
	snprintf(p, sizeof(p), "%s/driver_override", dev);
	put(p, "(null)\n");
	path2(p, sizeof(p), "/sys/bus/pci/devices/", bdf);
	link_to(p, dev);
	if (drv[0]) {
		snprintf(t, sizeof(t), "/sys/bus/pci/drivers/%s", drv);
		snprintf(p, sizeof(p), "%s/unbind", t);
		put(p, "");
		snprintf(p, sizeof(p), "%s/driver", dev);
		link_to(p, t);
	}
	snprintf(t, sizeof(t), "/sys/kernel/iommu_groups/%s", group);
	snprintf(p, sizeof(p), "%s/iommu_group", dev);
	link_to(p, t);
	snprintf(p, sizeof(p), "%s/devices/%s", t, bdf);
	link_to(p, dev);
}

/* Block device @name ("MAJ:MIN" @majmin) at sysfs directory @dir, linked from /sys/block. */
static void disk(const char *dir, const char *name, const char *majmin)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/dev", dir);
	putln(p, majmin);
	snprintf(p, sizeof(p), "%s/holders", dir);
	mkpath(p);
	snprintf(p, sizeof(p), "/sys/block/%s", name);
	link_to(p, dir);
}

static void partition(const char *disk_dir, const char *name, const char *majmin)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s/dev", disk_dir, name);
	putln(p, majmin);
	snprintf(p, sizeof(p), "%s/%s/partition", disk_dir, name);
	put(p, "1\n");
	snprintf(p, sizeof(p), "%s/%s/holders", disk_dir, name);
	mkpath(p);
}

#define NVME_DISK DEVS NVME "/nvme/nvme0/nvme0n1"
#define SATA_DISK DEVS SATA "/ata1/host0/target0:0:0/0:0:0:0/block/sda"

static const char *const fake_devs[] = { "259:0", "259:1", "259:2", "259:3", "259:9", "8:0",
					 "8:1", "9:127", "252:0", "252:1" };

/*
 * The machine: an NVMe controller NVME (nvme0n1, partitions p1-p3) sharing
 * IOMMU group 12 with a NIC, and a SATA controller SATA (sda, sda1) in group 3.
 * Nothing is mounted and there is no swap; the vfio-pci driver is loaded.
 */
static void setup(void)
{
	struct stat st;

	snprintf(root, sizeof(root), "/tmp/nvr-bind-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	ck_assert_int_eq(stat(root, &st), 0);
	snprintf(rootdev, sizeof(rootdev), "%u:%u", major(st.st_dev), minor(st.st_dev));
	/* The fake devices must not be the host's /tmp by chance. */
	for (unsigned int i = 0; i < sizeof(fake_devs) / sizeof(fake_devs[0]); i++)
		ck_assert_str_ne(rootdev, fake_devs[i]);

	function(NVME, "0x010802", "nvme", "12");
	function(NIC, "0x020000", "", "12");
	function(SATA, "0x010601", "ahci", "3");
	mkpath("/sys/bus/pci/drivers/vfio-pci");
	put("/sys/bus/pci/drivers_probe", "");
	disk(NVME_DISK, "nvme0n1", "259:0");
	partition(NVME_DISK, "nvme0n1p1", "259:1");
	partition(NVME_DISK, "nvme0n1p2", "259:2");
	partition(NVME_DISK, "nvme0n1p3", "259:3");
	disk(SATA_DISK, "sda", "8:0");
	partition(SATA_DISK, "sda1", "8:1");
	put("/proc/self/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n");
	put("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
	put("/usr/share/misc/pci.ids",
	    "C 01  Mass storage controller\n"
	    "\t06  SATA controller\n"
	    "\t\t01  AHCI 1.0\n"
	    "\t08  Non-Volatile memory controller\n"
	    "\t\t02  NVM Express\n"
	    "C 02  Network controller\n"
	    "\t00  Ethernet controller\n");
	nvr_pci_set_root(root);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	nvr_pci_set_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

/* No sysfs attribute of @bdf or of the PCI bus was written. */
static void assert_untouched(const char *bdf, const char *drv)
{
	char buf[64], p[256];

	snprintf(p, sizeof(p), DEVS "%s/driver_override", bdf);
	ck_assert_str_eq(get(p, buf, sizeof(buf)), "(null)\n");
	snprintf(p, sizeof(p), "/sys/bus/pci/drivers/%s/unbind", drv);
	ck_assert_str_eq(get(p, buf, sizeof(buf)), "");
	ck_assert_str_eq(get("/sys/bus/pci/drivers_probe", buf, sizeof(buf)), "");
}

START_TEST(test_sata_holding_root_refused_untouched)
{
	char msg[NVR_PCI_MSG], orig[32], drv[32], names[4][32];
	struct nvr_pci_refusal r;
	struct nvr_pci_use use;

	/* sda1 is the root filesystem: the walk finds it whatever the driver. */
	putln(SATA_DISK "/sda1/dev", rootdev);
	ck_assert_uint_eq(nvr_pci_block_devices(SATA, names, 4), 1);
	ck_assert_str_eq(names[0], "sda");
	ck_assert_int_eq(nvr_pci_in_use(SATA, &use), 0);
	ck_assert_uint_eq(use.n, 1);
	ck_assert_str_eq(use.why[0], "sda1 backs the root filesystem");

	/* Refused by its class first, with and without --force. */
	ck_assert_int_eq(nvr_pci_check_nvme(SATA, msg, sizeof(msg)), -ENOTSUP);
	ck_assert_str_eq(msg, SATA " is not an NVMe controller: class 0x010601 (SATA controller, "
			 "AHCI 1.0), driver ahci. nvmerace takes only NVM Express I/O "
			 "controllers (class 0x010802), and --force does not change that");
	ck_assert_int_eq(nvr_pci_may_bind(SATA, false, &r), -ENOTSUP);
	ck_assert_str_eq(r.msg, msg);
	ck_assert_int_eq(nvr_pci_may_bind(SATA, true, &r), -ENOTSUP);
	ck_assert_str_eq(r.msg, msg);

	/* The library itself will not write a thing for it: bind, nor unbind. */
	ck_assert_int_eq(nvr_pci_bind_vfio(SATA, orig, sizeof(orig), msg, sizeof(msg)), -ENOTSUP);
	ck_assert_ptr_nonnull(strstr(msg, "class 0x010601"));
	ck_assert_int_eq(nvr_pci_restore(SATA, "ahci", msg, sizeof(msg)), -ENOTSUP);
	assert_untouched(SATA, "ahci");
	ck_assert_int_eq(nvr_pci_driver(SATA, drv, sizeof(drv)), 0);
	ck_assert_str_eq(drv, "ahci");

	/* No such device says so, by the same path. */
	ck_assert_int_eq(nvr_pci_may_bind("0000:09:00.0", true, &r), -ENODEV);
	ck_assert_ptr_nonnull(strstr(r.msg, "no PCI device 0000:09:00.0"));
}
END_TEST

/* The twin: an NVMe controller passes the class check, and binding writes sysfs. */
START_TEST(test_nvme_class_passes_and_binds)
{
	char msg[NVR_PCI_MSG], orig[32], buf[64];
	struct nvr_pci_refusal r;
	uint32_t cls;

	ck_assert_int_eq(nvr_pci_class(NVME, &cls), 0);
	ck_assert_uint_eq(cls, 0x010802);
	ck_assert_int_eq(nvr_pci_check_nvme(NVME, msg, sizeof(msg)), 0);
	ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), 0);
	ck_assert_uint_eq(r.use.n + r.group.n, 0);
	/* The fake kernel does not move the driver link: vfio-pci "did not take" it. */
	ck_assert_int_eq(nvr_pci_bind_vfio(NVME, orig, sizeof(orig), msg, sizeof(msg)), -EIO);
	ck_assert_str_eq(orig, "nvme");
	ck_assert_str_eq(get("/sys/bus/pci/drivers/nvme/unbind", buf, sizeof(buf)), NVME);
	ck_assert_str_eq(get("/sys/bus/pci/drivers_probe", buf, sizeof(buf)), NVME);
}
END_TEST

START_TEST(test_group_with_nic_in_use)
{
	struct nvr_pci_refusal r;

	/* The NIC on e1000e with eth0 up: refused without --force, named. */
	function(NIC, "0x020000", "e1000e", "12");
	put(DEVS NIC "/net/eth0/operstate", "up\n");
	ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), -EBUSY);
	ck_assert_uint_eq(r.use.n, 0);
	ck_assert_uint_eq(r.group.n, 1);
	ck_assert_str_eq(r.group.why[0], NIC " (class 0x020000) is in IOMMU group 12 and bound to "
			 "e1000e, network interface eth0 (up)");
	ck_assert_int_eq(nvr_pci_may_bind(NVME, true, &r), 0);
	ck_assert_uint_eq(r.group.n, 1);	/* what --force overrode */

	/* Bound is what counts: an interface that is down is the host's still. */
	put(DEVS NIC "/net/eth0/operstate", "down\n");
	ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), -EBUSY);
	ck_assert_str_eq(r.group.why[0], NIC " (class 0x020000) is in IOMMU group 12 and bound to "
			 "e1000e, network interface eth0 (down)");
}
END_TEST

/* The twins: the same group with the NIC released (no driver, vfio-pci, pci-stub). */
START_TEST(test_group_with_nic_released)
{
	static const char *const drivers[] = { "vfio-pci", "pci-stub", "pcieport" };
	struct nvr_pci_refusal r;

	ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), 0);	/* no driver (setup) */
	ck_assert_uint_eq(r.group.n, 0);
	for (unsigned int i = 0; i < 3; i++) {
		function(NIC, "0x020000", drivers[i], "12");
		ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), 0);
		ck_assert_uint_eq(r.group.n, 0);
	}
}
END_TEST

START_TEST(test_nvme_holding_root)
{
	struct nvr_pci_refusal r;

	/* By the root's device number (stat("/")). */
	putln(NVME_DISK "/nvme0n1p2/dev", rootdev);
	ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), -EBUSY);
	ck_assert_uint_eq(r.use.n, 1);
	ck_assert_str_eq(r.use.why[0], "nvme0n1p2 backs the root filesystem");
	ck_assert_int_eq(nvr_pci_may_bind(NVME, true, &r), 0);

	/* By the mount on "/" (btrfs reports an anonymous device, but its source). */
	put(NVME_DISK "/nvme0n1p2/dev", "259:2\n");
	put("/proc/self/mountinfo", "25 1 0:33 / / rw - btrfs /dev/nvme0n1p2 rw\n");
	ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), -EBUSY);
	ck_assert_uint_eq(r.use.n, 1);
	ck_assert_str_eq(r.use.why[0], "nvme0n1p2 backs the root filesystem");

	/* The twin: the root is on the SATA disk. */
	put("/proc/self/mountinfo", "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
	ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), 0);
	ck_assert_uint_eq(r.use.n, 0);
}
END_TEST

/* nvme0n1p1 -> dm-0 (LVM vg0-data, mounted on /data) -> dm-1 (crypt, the root). */
static void lvm_on_p1(void)
{
	disk("/sys/devices/virtual/block/dm-0", "dm-0", "252:0");
	put("/sys/devices/virtual/block/dm-0/dm/name", "vg0-data\n");
	disk("/sys/devices/virtual/block/dm-1", "dm-1", "252:1");
	put("/sys/devices/virtual/block/dm-1/dm/name", "crypt\n");
	link_to(NVME_DISK "/nvme0n1p1/holders/dm-0", "/sys/devices/virtual/block/dm-0");
	link_to("/sys/devices/virtual/block/dm-0/holders/dm-1", "/sys/devices/virtual/block/dm-1");
}

START_TEST(test_lvm_holder_mounted)
{
	struct nvr_pci_use use;

	lvm_on_p1();
	put("/proc/self/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n"
				    "40 1 252:0 / /data rw - ext4 /dev/mapper/vg0-data rw\n");
	ck_assert_int_eq(nvr_pci_in_use(NVME, &use), 0);
	ck_assert_uint_eq(use.n, 3);
	ck_assert_str_eq(use.why[0],
			 "nvme0n1p1 is held by dm-0 (device mapper (LVM, dm-crypt, multipath))");
	ck_assert_str_eq(use.why[1], "dm-0 (vg0-data), on nvme0n1p1, is mounted on /data");
	ck_assert_str_eq(use.why[2], "dm-0 (vg0-data), on nvme0n1p1, is held by dm-1 "
			 "(device mapper (LVM, dm-crypt, multipath))");

	/* The holder's holder backs the root filesystem: found two levels up. */
	put("/proc/self/mountinfo", "25 1 252:1 / / rw - ext4 /dev/mapper/crypt rw\n");
	ck_assert_int_eq(nvr_pci_in_use(NVME, &use), 0);
	ck_assert_uint_eq(use.n, 3);
	ck_assert_str_eq(use.why[2], "dm-1 (crypt), on dm-0, backs the root filesystem");

	/* Mounted by its /dev/mapper name alone (no major:minor match). */
	put("/proc/self/mountinfo", "40 1 0:50 / /data rw - ext4 /dev/mapper/vg0-data rw\n");
	ck_assert_int_eq(nvr_pci_in_use(NVME, &use), 0);
	ck_assert_uint_eq(use.n, 3);
	ck_assert_str_eq(use.why[1], "dm-0 (vg0-data), on nvme0n1p1, is mounted on /data");
}
END_TEST

/* The twin: the same volumes, no longer holding the partition. */
START_TEST(test_lvm_released)
{
	struct nvr_pci_use use;
	char p[PATH_MAX * 2];

	lvm_on_p1();
	put("/proc/self/mountinfo", "40 1 252:0 / /data rw - ext4 /dev/mapper/vg0-data rw\n");
	snprintf(p, sizeof(p), "%s" NVME_DISK "/nvme0n1p1/holders/dm-0", root);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(nvr_pci_in_use(NVME, &use), 0);
	ck_assert_uint_eq(use.n, 0);
}
END_TEST

/* nvme0n1p2 in md127, whose partition md127p1 is mounted; the twin unmounts it. */
START_TEST(test_md_partition_mounted)
{
	struct nvr_pci_use use;

	disk("/sys/devices/virtual/block/md127", "md127", "9:127");
	partition("/sys/devices/virtual/block/md127", "md127p1", "259:9");
	link_to(NVME_DISK "/nvme0n1p2/holders/md127", "/sys/devices/virtual/block/md127");
	put("/proc/self/mountinfo", "41 1 259:9 / /srv rw - ext4 /dev/md127p1 rw\n");
	ck_assert_int_eq(nvr_pci_in_use(NVME, &use), 0);
	ck_assert_uint_eq(use.n, 2);
	ck_assert_str_eq(use.why[0], "nvme0n1p2 is held by md127 (md RAID)");
	ck_assert_str_eq(use.why[1], "md127p1, on nvme0n1p2, is mounted on /srv");
	put("/proc/self/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n");
	ck_assert_int_eq(nvr_pci_in_use(NVME, &use), 0);
	ck_assert_uint_eq(use.n, 1);	/* held still: md is using it */
	ck_assert_str_eq(use.why[0], "nvme0n1p2 is held by md127 (md RAID)");
}
END_TEST

START_TEST(test_swap_on_partition)
{
	struct nvr_pci_refusal r;

	put("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n"
			   "/dev/nvme0n1p3  partition\t1048572\t0\t-2\n");
	ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), -EBUSY);
	ck_assert_uint_eq(r.use.n, 1);
	ck_assert_str_eq(r.use.why[0], "nvme0n1p3 is used as swap");
	/* The twin: swapoff. */
	put("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
	ck_assert_int_eq(nvr_pci_may_bind(NVME, false, &r), 0);
	ck_assert_uint_eq(r.use.n, 0);
}
END_TEST

static Suite *bind_suite(void)
{
	Suite *s = suite_create("bind");
	TCase *tc = tcase_create("fake-sysfs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sata_holding_root_refused_untouched);
	tcase_add_test(tc, test_nvme_class_passes_and_binds);
	tcase_add_test(tc, test_group_with_nic_in_use);
	tcase_add_test(tc, test_group_with_nic_released);
	tcase_add_test(tc, test_nvme_holding_root);
	tcase_add_test(tc, test_lvm_holder_mounted);
	tcase_add_test(tc, test_lvm_released);
	tcase_add_test(tc, test_md_partition_mounted);
	tcase_add_test(tc, test_swap_on_partition);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(bind_suite());
}
