// SPDX-License-Identifier: MIT
/*
 * The pieces of the VFIO transport and lib/dev/pci that need no device: PCI
 * address parsing, the IOVA window chosen from the IOMMU's ranges, the
 * memlock check, IOMMU groups and drivers in a fake sysfs tree, and the
 * in-use checks (mounts, swap, holders, native multipath) against fake
 * /proc and /sys/block. The real thing runs in the QEMU tier (tests/qemu).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvmerace/pci.h>
#include <nvmerace/vfio.h>

#include "fake_root.h"
#include "suite_main.h"

#define BDF "0000:01:00.0"


/*
 * A machine with controller BDF (nvme, IOMMU group 7 shared with 0000:01:00.1
 * on ahci) whose namespace nvme0n1 has partitions p1 and p2, and a second
 * controller 0000:02:00.0 behind native multipath (nvme1n1 -> nvme1c1n1).
 */
static void setup(void)
{
	const char *dev = "/sys/devices/pci0000:00/0000:00:01.0/" BDF;
	const char *dev2 = "/sys/devices/pci0000:00/0000:00:02.0/0000:02:00.0";

	snprintf(root, sizeof(root), "/tmp/nvr-fake-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	mkpath(dev);
	mkpath("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1");
	mkpath(dev2);
	mkpath("/sys/bus/pci/drivers/nvme");
	mkpath("/sys/bus/pci/drivers/ahci");
	mkpath("/sys/kernel/iommu_groups/7/devices");
	link_to("/sys/bus/pci/devices/" BDF, dev);
	link_to("/sys/bus/pci/devices/0000:01:00.1",
		"/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1");
	link_to("/sys/bus/pci/devices/0000:02:00.0", dev2);
	link_to("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/driver", "/sys/bus/pci/drivers/nvme");
	link_to("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/driver",
		"/sys/bus/pci/drivers/ahci");
	link_to("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/iommu_group",
		"/sys/kernel/iommu_groups/7");
	link_to("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/iommu_group",
		"/sys/kernel/iommu_groups/7");
	link_to("/sys/kernel/iommu_groups/7/devices/" BDF, dev);
	link_to("/sys/kernel/iommu_groups/7/devices/0000:01:00.1",
		"/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1");

	put("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/class", "0x010802\n");
	put("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/class", "0x010601\n");
	put("/sys/devices/pci0000:00/0000:00:02.0/0000:02:00.0/class", "0x010802\n");

	/* nvme0n1 with two partitions, under the controller. */
	put("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1/dev", "259:0\n");
	put("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1/nvme0n1p1/dev",
	    "259:1\n");
	put("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1/nvme0n1p1/partition",
	    "1\n");
	put("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1/nvme0n1p2/dev",
	    "259:2\n");
	put("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1/nvme0n1p2/partition",
	    "2\n");
	mkpath("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1/holders");
	mkpath("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1/nvme0n1p1/holders");
	mkpath("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1/nvme0n1p2/holders");
	link_to("/sys/block/nvme0n1", "/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1");

	/* nvme1n1 is a multipath head; its path device sits under 0000:02:00.0. */
	mkpath("/sys/devices/pci0000:00/0000:00:02.0/0000:02:00.0/nvme/nvme1/nvme1c1n1");
	put("/sys/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1/dev", "259:5\n");
	mkpath("/sys/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1/holders");
	link_to("/sys/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1/multipath/nvme1c1n1",
		"/sys/devices/pci0000:00/0000:00:02.0/0000:02:00.0/nvme/nvme1/nvme1c1n1");
	link_to("/sys/block/nvme1n1", "/sys/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1");

	put("/proc/self/mountinfo",
	    "22 1 0:21 / /proc rw - proc proc rw\n"
	    "25 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n");
	put("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
	nvr_pci_set_root(root);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	nvr_pci_set_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_bdf)
{
	char out[NVR_BDF_LEN];

	ck_assert_int_eq(nvr_pci_parse_bdf("0000:01:00.0", out), 0);
	ck_assert_str_eq(out, "0000:01:00.0");
	ck_assert_int_eq(nvr_pci_parse_bdf("3B:1f.7", out), 0);
	ck_assert_str_eq(out, "0000:3b:1f.7");
	ck_assert_int_eq(nvr_pci_parse_bdf("10000:01:00.0", out), -EINVAL);
	ck_assert_int_eq(nvr_pci_parse_bdf("01:20.0", out), -EINVAL);	/* device > 0x1f */
	ck_assert_int_eq(nvr_pci_parse_bdf("01:00.8", out), -EINVAL);	/* function > 7 */
	ck_assert_int_eq(nvr_pci_parse_bdf("01:00", out), -EINVAL);
	ck_assert_int_eq(nvr_pci_parse_bdf("01:00.0x", out), -EINVAL);
	ck_assert_int_eq(nvr_pci_parse_bdf("../../x", out), -EINVAL);
	ck_assert_int_eq(nvr_pci_parse_bdf("", out), -EINVAL);
}
END_TEST

START_TEST(test_iova_pick)
{
	/* x86 with an IOMMU: the MSI window 0xfee00000-0xfeefffff is reserved. */
	const struct nvr_iova_range x86[] = {
		{ 0, 0xfedfffff },
		{ 0xfef00000, (1ull << 48) - 1 },
	};
	const struct nvr_iova_range small[] = { { 0, 0x3fffff }, { 0x10000000, 0x10ffffff } };
	const struct nvr_iova_range whole[] = { { 0, UINT64_MAX } };
	const struct nvr_iova_range low[] = { { 0, 0xfffff } };	/* only below 1 MiB */
	uint64_t s, e;

	ck_assert_int_eq(nvr_iova_pick(x86, 2, 64 << 20, &s, &e), 0);
	ck_assert_uint_eq(s, 0xff000000);	/* 0xfef00000 aligned up to 2 MiB */
	ck_assert_uint_eq(e, 1ull << 48);
	/* The larger range wins, whatever the order. */
	ck_assert_int_eq(nvr_iova_pick(small, 2, 1 << 20, &s, &e), 0);
	ck_assert_uint_eq(s, 0x10000000);
	ck_assert_uint_eq(e, 0x11000000);
	/* Never below 1 MiB, never IOVA 0. */
	ck_assert_int_eq(nvr_iova_pick(whole, 1, 1 << 20, &s, &e), 0);
	ck_assert_uint_eq(s, 2 << 20);
	ck_assert_uint_eq(e, UINT64_MAX);
	ck_assert_int_eq(nvr_iova_pick(low, 1, 4096, &s, &e), -ENOSPC);
	/* Not enough room anywhere. */
	ck_assert_int_eq(nvr_iova_pick(small, 2, 64 << 20, &s, &e), -ENOSPC);
	/* No ranges reported (an old kernel): 48 bits from 2 MiB. */
	ck_assert_int_eq(nvr_iova_pick(NULL, 0, 64 << 20, &s, &e), 0);
	ck_assert_uint_eq(s, 2 << 20);
	ck_assert_uint_eq(e, 1ull << 48);
}
END_TEST

START_TEST(test_memlock)
{
	char msg[NVR_ENV_MSG] = "";

	ck_assert_int_eq(nvr_memlock_check(64 << 20, 8 << 20, 0, msg, sizeof(msg)), -ENOMEM);
	ck_assert_ptr_nonnull(strstr(msg, "8192 KiB"));
	ck_assert_ptr_nonnull(strstr(msg, "ulimit -l 65536"));
	ck_assert_int_eq(nvr_memlock_check(64 << 20, 8 << 20, 1, msg, sizeof(msg)), 0);
	ck_assert_int_eq(nvr_memlock_check(64 << 20, RLIM_INFINITY, 0, msg, sizeof(msg)), 0);
	ck_assert_int_eq(nvr_memlock_check(64 << 20, 64 << 20, 0, NULL, 0), 0);
}
END_TEST

START_TEST(test_driver_and_group)
{
	char drv[32], peers[4][NVR_BDF_LEN];
	unsigned int n;
	int g;

	ck_assert_int_eq(nvr_pci_driver(BDF, drv, sizeof(drv)), 0);
	ck_assert_str_eq(drv, "nvme");
	ck_assert_int_eq(nvr_pci_driver("0000:02:00.0", drv, sizeof(drv)), 0);
	ck_assert_str_eq(drv, "");	/* no driver */
	ck_assert_int_eq(nvr_pci_driver("0000:09:00.0", drv, sizeof(drv)), -ENODEV);
	ck_assert_int_eq(nvr_pci_iommu_group(BDF, &g), 0);
	ck_assert_int_eq(g, 7);
	ck_assert_int_eq(nvr_pci_iommu_group("0000:02:00.0", &g), -ENOENT);	/* no IOMMU */
	ck_assert_int_eq(g, -1);
	ck_assert_int_eq(nvr_pci_group_devices(7, peers, 4, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(peers[0], "0000:01:00.0");
	ck_assert_str_eq(peers[1], "0000:01:00.1");
	ck_assert_int_eq(nvr_pci_group_devices(8, peers, 4, &n), -ENOENT);
}
END_TEST

START_TEST(test_block_devices)
{
	char names[4][32];

	ck_assert_uint_eq(nvr_pci_block_devices(BDF, names, 4), 1);
	ck_assert_str_eq(names[0], "nvme0n1");
	/* Behind native multipath: found through the head's path devices. */
	ck_assert_uint_eq(nvr_pci_block_devices("0000:02:00.0", names, 4), 1);
	ck_assert_str_eq(names[0], "nvme1n1");
}
END_TEST

START_TEST(test_not_in_use)
{
	struct nvr_pci_use use;

	ck_assert_int_eq(nvr_pci_in_use(BDF, &use), 0);
	ck_assert_uint_eq(use.n, 0);
	ck_assert_int_eq(nvr_pci_in_use("0000:02:00.0", &use), 0);
	ck_assert_uint_eq(use.n, 0);
	ck_assert_int_eq(nvr_pci_in_use("0000:09:00.0", &use), -ENODEV);
}
END_TEST

START_TEST(test_mounted_root_swap_held)
{
	struct nvr_pci_use use;

	/* p1 is the root filesystem by its device number, p2 a mount by its source. */
	put("/proc/self/mountinfo",
	    "22 1 0:21 / /proc rw - proc proc rw\n"
	    "25 1 259:1 / / rw,relatime - ext4 /dev/root rw\n"
	    "30 25 0:40 / /data rw - btrfs /dev/nvme0n1p2 rw\n");
	ck_assert_int_eq(nvr_pci_in_use(BDF, &use), 0);
	ck_assert_uint_eq(use.n, 2);
	ck_assert_str_eq(use.why[0], "nvme0n1p1 backs the root filesystem");
	ck_assert_str_eq(use.why[1], "nvme0n1p2 is mounted on /data");

	put("/proc/self/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n");
	put("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n"
			   "/dev/nvme0n1p2  partition\t1048572\t0\t-2\n");
	ck_assert_int_eq(nvr_pci_in_use(BDF, &use), 0);
	ck_assert_uint_eq(use.n, 1);
	ck_assert_str_eq(use.why[0], "nvme0n1p2 is used as swap");

	put("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
	link_to("/sys/devices/pci0000:00/0000:00:01.0/" BDF "/nvme/nvme0/nvme0n1/nvme0n1p1/holders/dm-0",
		"/sys/devices/virtual/block/dm-0");
	link_to("/sys/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1/holders/md127",
		"/sys/devices/virtual/block/md127");
	ck_assert_int_eq(nvr_pci_in_use(BDF, &use), 0);
	ck_assert_uint_eq(use.n, 1);
	ck_assert_str_eq(use.why[0],
			 "nvme0n1p1 is held by dm-0 (device mapper (LVM, dm-crypt, multipath))");
	ck_assert_int_eq(nvr_pci_in_use("0000:02:00.0", &use), 0);
	ck_assert_uint_eq(use.n, 1);
	ck_assert_str_eq(use.why[0], "nvme1n1 is held by md127 (md RAID)");
}
END_TEST

START_TEST(test_vfio_open_messages)
{
	struct nvr_transport *t = (void *)1;
	char msg[NVR_ENV_MSG];

	ck_assert_int_eq(nvr_vfio_open("zz", &t, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(msg, "invalid PCI address 'zz'"));
	ck_assert_int_eq(nvr_vfio_open("0000:09:00.0", &t, msg, sizeof(msg)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(msg, "no PCI device 0000:09:00.0"));
	/* No IOMMU group: the IOMMU is off. */
	ck_assert_int_eq(nvr_vfio_open("0000:02:00.0", &t, msg, sizeof(msg)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(msg, "intel_iommu=on"));
	/* Bound to nvme, not vfio-pci. */
	ck_assert_int_eq(nvr_vfio_open(BDF, &t, msg, sizeof(msg)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(msg, "bound to nvme, not vfio-pci: run 'nvmerace bind "
					  "0000:01:00.0'"));
}
END_TEST

START_TEST(test_bind_without_vfio_pci)
{
	char orig[32], msg[NVR_ENV_MSG];

	/* The fake tree has no drivers/vfio-pci: the module is not loaded. */
	ck_assert_int_eq(nvr_pci_bind_vfio(BDF, orig, sizeof(orig), msg, sizeof(msg)), -ENOENT);
	ck_assert_str_eq(orig, "nvme");
	ck_assert_ptr_nonnull(strstr(msg, "modprobe vfio-pci"));
}
END_TEST

START_TEST(test_remember)
{
	char drv[32];

	ck_assert_int_eq(nvr_pci_recall(BDF, drv, sizeof(drv)), -ENOENT);
	mkpath("/run");
	ck_assert_int_eq(nvr_pci_remember(BDF, "nvme"), 0);
	ck_assert_int_eq(nvr_pci_recall(BDF, drv, sizeof(drv)), 0);
	ck_assert_str_eq(drv, "nvme");
	nvr_pci_forget(BDF);
	ck_assert_int_eq(nvr_pci_recall(BDF, drv, sizeof(drv)), -ENOENT);
}
END_TEST

static Suite *vfio_suite(void)
{
	Suite *s = suite_create("vfio");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_bdf);
	tcase_add_test(tc, test_iova_pick);
	tcase_add_test(tc, test_memlock);
	suite_add_tcase(s, tc);

	tc = tcase_create("fake-sysfs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_driver_and_group);
	tcase_add_test(tc, test_block_devices);
	tcase_add_test(tc, test_not_in_use);
	tcase_add_test(tc, test_mounted_root_swap_held);
	tcase_add_test(tc, test_vfio_open_messages);
	tcase_add_test(tc, test_bind_without_vfio_pci);
	tcase_add_test(tc, test_remember);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(vfio_suite());
}
