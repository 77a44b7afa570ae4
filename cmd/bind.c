// SPDX-License-Identifier: MIT
/* nvmerace bind / unbind: give a controller to vfio-pci, and back. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "nvmerace.h"
#include "cmd.h"

static const char bind_usage[] =
	"usage: nvmerace bind [--force] BDF\n"
	"\n"
	"Binds the controller at PCI address BDF to vfio-pci (driver_override) and\n"
	"remembers its driver for 'nvmerace unbind'. Refuses (exit status 3) a\n"
	"function that is not an NVMe controller (PCI class 0x010802), --force or not;\n"
	"one whose block devices or partitions are mounted, used as swap, held by\n"
	"md/dm/LVM (followed up) or back the root filesystem; and one whose IOMMU\n"
	"group holds a device bound to a host driver.\n"
	"\n"
	"  -f, --force         take it even when it or its IOMMU group is in use\n"
	"  -h, --help          this text\n";

static const char unbind_usage[] =
	"usage: nvmerace unbind BDF\n"
	"\n"
	"Takes the controller at BDF from vfio-pci and gives it back to the driver it\n"
	"had before 'nvmerace bind' (or lets the kernel choose). Refuses a function\n"
	"that is not an NVMe controller (exit status 3).\n"
	"\n"
	"  -h, --help          this text\n";

static int parse(int argc, char **argv, const char *usage, bool *force, char bdf[NVR_BDF_LEN])
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, force ? "fh" : "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!force)
				return usage_error(usage);
			*force = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return finish_stdout(EXIT_OK) == EXIT_OK ? -1 : EXIT_ENV;
		default:
			return usage_error(usage);
		}
	}
	if (optind == argc) {
		warnx("no PCI address given");
		return usage_error(usage);
	}
	if (optind + 1 != argc) {
		warnx("unexpected argument '%s'", argv[optind + 1]);
		return usage_error(usage);
	}
	if (nvr_pci_parse_bdf(argv[optind], bdf)) {
		warnx("invalid PCI address '%s': expected DDDD:BB:DD.F, e.g. 0000:01:00.0",
		      argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_bind(int argc, char **argv)
{
	char bdf[NVR_BDF_LEN], orig[64], was[64];
	bool force = false;
	int ret = parse(argc, argv, bind_usage, &force, bdf);

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	/* Keep what an earlier bind remembered: that is the real original. */
	if (nvr_pci_recall(bdf, was, sizeof(was)))
		was[0] = '\0';
	ret = device_bind(bdf, force, orig, sizeof(orig));
	if (ret)
		return ret;
	if (strcmp(orig, "vfio-pci") && (ret = nvr_pci_remember(bdf, orig)))
		warnx("bound, but cannot remember the original driver '%s': %s", orig,
		      strerror(-ret));
	printf("%s: bound to vfio-pci (was %s)\n", bdf,
	       !strcmp(orig, "vfio-pci") && was[0] ? was : orig[0] ? orig : "no driver");
	return finish_stdout(EXIT_OK);
}

int cmd_unbind(int argc, char **argv)
{
	char bdf[NVR_BDF_LEN], orig[64], drv[64], msg[NVR_ENV_MSG];
	int ret = parse(argc, argv, unbind_usage, NULL, bdf);

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	/* nvmerace gives back only what it could have taken. */
	if (nvr_pci_check_nvme(bdf, msg, sizeof(msg))) {
		warnx("%s", msg);
		return EXIT_ENV;
	}
	if (nvr_pci_driver(bdf, drv, sizeof(drv))) {
		warnx("no PCI device %s: see 'nvmerace list'", bdf);
		return EXIT_ENV;
	}
	if (strcmp(drv, "vfio-pci")) {
		warnx("%s is bound to %s, not vfio-pci: nothing to do", bdf,
		      drv[0] ? drv : "no driver");
		return EXIT_ENV;
	}
	if (nvr_pci_recall(bdf, orig, sizeof(orig)))
		orig[0] = '\0';
	if (nvr_pci_restore(bdf, orig, msg, sizeof(msg))) {
		warnx("cannot take %s from vfio-pci: %s", bdf, msg);
		return EXIT_ENV;
	}
	nvr_pci_forget(bdf);
	nvr_pci_driver(bdf, drv, sizeof(drv));
	printf("%s: unbound from vfio-pci, now %s\n", bdf, drv[0] ? drv : "no driver");
	return finish_stdout(EXIT_OK);
}
