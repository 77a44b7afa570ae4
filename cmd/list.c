// SPDX-License-Identifier: MIT
/* nvmerace list: the NVMe controllers on this machine and whether they can be taken. */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "nvmerace.h"
#include "cmd.h"

static const char usage[] =
	"usage: nvmerace list [--json]\n"
	"\n"
	"Lists the NVMe controllers (PCI class 0x010802): address, vendor and device\n"
	"names, driver, IOMMU group and the other devices in it, namespaces, whether\n"
	"they are mounted, used as swap or held, and which devices of the group host\n"
	"drivers have (then bind and --bind refuse them without --force).\n"
	"\n"
	"  -j, --json          print JSON instead of text\n"
	"  -h, --help          this text\n";

static void print_text(const struct nvr_pci_ctrl *c, unsigned int n)
{
	if (!n)
		printf("no NVMe controllers found\n");
	for (unsigned int i = 0; i < n; i++) {
		printf("%s  %s %s [%04x:%04x]\n", c[i].bdf, c[i].vendor_name, c[i].device_name,
		       c[i].vendor, c[i].device);
		printf("  driver:      %s\n", c[i].driver[0] ? c[i].driver : "(none)");
		if (c[i].group < 0) {
			printf("  iommu group: none (no IOMMU: VFIO cannot use it)\n");
		} else {
			printf("  iommu group: %d", c[i].group);
			for (unsigned int j = 0; j < c[i].nr_peers; j++)
				printf("%s%s", j ? ", " : " (also: ", c[i].peers[j]);
			printf("%s\n", c[i].nr_peers ? ")" : "");
		}
		for (unsigned int j = 0; j < c[i].nr_ns; j++)
			printf("  namespace:   %s, %" PRIu64 " bytes\n", c[i].ns[j].name,
			       c[i].ns[j].bytes);
		for (unsigned int j = 0; j < c[i].use.n; j++)
			printf("  in use:      %s\n", c[i].use.why[j]);
		for (unsigned int j = 0; j < c[i].group_use.n; j++)
			printf("  group use:   %s\n", c[i].group_use.why[j]);
	}
}

static int print_json(const struct nvr_pci_ctrl *c, unsigned int n)
{
	struct json_object *arr = json_object_new_array();
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object(), *peers = json_object_new_array();
		struct json_object *nss = json_object_new_array(), *uses = json_object_new_array();
		char id[16];

		json_object_object_add(o, "address", json_object_new_string(c[i].bdf));
		snprintf(id, sizeof(id), "%04x:%04x", c[i].vendor, c[i].device);
		json_object_object_add(o, "id", json_object_new_string(id));
		json_object_object_add(o, "vendor", json_object_new_string(c[i].vendor_name));
		json_object_object_add(o, "device", json_object_new_string(c[i].device_name));
		json_object_object_add(o, "driver", c[i].driver[0] ?
					json_object_new_string(c[i].driver) : NULL);
		json_object_object_add(o, "iommu_group", c[i].group >= 0 ?
					json_object_new_int(c[i].group) : NULL);
		for (unsigned int j = 0; j < c[i].nr_peers; j++)
			json_object_array_add(peers, json_object_new_string(c[i].peers[j]));
		json_object_object_add(o, "group_peers", peers);
		for (unsigned int j = 0; j < c[i].nr_ns; j++) {
			struct json_object *ns = json_object_new_object();

			json_object_object_add(ns, "name", json_object_new_string(c[i].ns[j].name));
			json_object_object_add(ns, "bytes",
					       json_object_new_int64((int64_t)c[i].ns[j].bytes));
			json_object_array_add(nss, ns);
		}
		json_object_object_add(o, "namespaces", nss);
		for (unsigned int j = 0; j < c[i].use.n; j++)
			json_object_array_add(uses, json_object_new_string(c[i].use.why[j]));
		json_object_object_add(o, "in_use", uses);
		uses = json_object_new_array();
		for (unsigned int j = 0; j < c[i].group_use.n; j++)
			json_object_array_add(uses, json_object_new_string(c[i].group_use.why[j]));
		json_object_object_add(o, "group_in_use", uses);
		json_object_array_add(arr, o);
	}
	ret = puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return ret < 0 ? -1 : 0;
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvr_pci_ctrl *ctrls;
	unsigned int n;
	bool json = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return finish_stdout(EXIT_OK);
		default:
			return usage_error(usage);
		}
	}
	if (optind != argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		return usage_error(usage);
	}
	ret = nvr_pci_list(&ctrls, &n);
	if (ret) {
		warnx("cannot scan the PCI bus: %s", strerror(-ret));
		return EXIT_ENV;
	}
	if (json)
		print_json(ctrls, n);
	else
		print_text(ctrls, n);
	free(ctrls);
	return finish_stdout(EXIT_OK);
}
