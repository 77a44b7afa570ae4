// SPDX-License-Identifier: MIT
/* nvmerace identify: bring a controller up and print what Identify says. */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "nvmerace.h"
#include "cmd.h"

static const char usage[] =
	"usage: nvmerace identify [--device BDF [--bind [--force]] | --target URL [--hostnqn NQN]\n"
	"                         [--hdr-digest] [--data-digest]] [--json] [--lba-size 512|4096]\n"
	"                         [--verbose]\n"
	"\n"
	"Brings the controller up (the built-in simulated controller, a real one\n"
	"with --device, or one over NVMe/TCP with --target) and prints its model,\n"
	"serial, firmware, version, MQES, queue counts and namespaces.\n"
	"\n"
	"  -D, --device BDF    the controller at PCI address BDF, bound to vfio-pci\n"
	"  -b, --bind          bind it to vfio-pci for the command, and back after\n"
	"  -f, --force         with --bind: take it even when its namespaces are in use\n"
	"      --target URL    the controller at tcp://HOST[:PORT]/SUBSYSNQN (NVMe/TCP)\n"
	"      --hostnqn NQN   this host's NQN for --target (default: /etc/nvme/hostnqn,\n"
	"                      else one made from /etc/machine-id)\n"
	"      --hdr-digest    with --target: ask for CRC32C header digests\n"
	"      --data-digest   with --target: ask for CRC32C data digests\n"
	"  -j, --json          print JSON instead of text\n"
	"      --lba-size N    the simulated namespace's LBA size (512 or 4096)\n"
	"  -v, --verbose       log what the library does\n"
	"  -h, --help          this text\n";

static volatile sig_atomic_t got_signal;

/* With --bind, a signal waits until the device is given back (a second of work at most). */
static void on_signal(int sig)
{
	got_signal = sig;
}

static void print_text(const struct nvr_ctrl_info *in, const char *device)
{
	printf("device:      %s\n", device);
	printf("model:       %s\n", in->model);
	printf("serial:      %s\n", in->serial);
	printf("firmware:    %s\n", in->firmware);
	printf("version:     %u.%u.%u\n", in->version >> 16, (in->version >> 8) & 0xff,
	       in->version & 0xff);
	printf("vid:         0x%04x\n", in->vid);
	printf("mqes:        %u\n", in->mqes);
	printf("mdts:        %u (%u bytes)\n", in->mdts, in->mdts_bytes);
	printf("io queues:   %u sq, %u cq\n", in->nr_sq, in->nr_cq);
	printf("namespaces:  %u\n", in->nr_ns);
	for (uint32_t i = 0; i < in->nr_ns; i++)
		printf("  nsid %u: %" PRIu64 " blocks of %u bytes\n", in->ns[i].nsid,
		       in->ns[i].nsze, in->ns[i].lba_size);
}

static int print_json(const struct nvr_ctrl_info *in, const char *device)
{
	struct json_object *o = json_object_new_object(), *nss = json_object_new_array();
	char ver[32];
	int ret;

	snprintf(ver, sizeof(ver), "%u.%u.%u", in->version >> 16, (in->version >> 8) & 0xff,
		 in->version & 0xff);
	json_object_object_add(o, "device", json_object_new_string(device));
	json_object_object_add(o, "model", json_object_new_string(in->model));
	json_object_object_add(o, "serial", json_object_new_string(in->serial));
	json_object_object_add(o, "firmware", json_object_new_string(in->firmware));
	json_object_object_add(o, "version", json_object_new_string(ver));
	json_object_object_add(o, "vid", json_object_new_int(in->vid));
	json_object_object_add(o, "ssvid", json_object_new_int(in->ssvid));
	json_object_object_add(o, "mqes", json_object_new_int(in->mqes));
	json_object_object_add(o, "mdts", json_object_new_int(in->mdts));
	json_object_object_add(o, "mdts_bytes", json_object_new_int64(in->mdts_bytes));
	json_object_object_add(o, "nn", json_object_new_int64(in->nn));
	json_object_object_add(o, "io_sq", json_object_new_int(in->nr_sq));
	json_object_object_add(o, "io_cq", json_object_new_int(in->nr_cq));
	for (uint32_t i = 0; i < in->nr_ns; i++) {
		struct json_object *ns = json_object_new_object();

		json_object_object_add(ns, "nsid", json_object_new_int64(in->ns[i].nsid));
		json_object_object_add(ns, "nsze", json_object_new_int64((int64_t)in->ns[i].nsze));
		json_object_object_add(ns, "lba_size", json_object_new_int64(in->ns[i].lba_size));
		json_object_array_add(nss, ns);
	}
	json_object_object_add(o, "namespaces", nss);
	ret = puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ret < 0 ? -1 : 0;
}

int cmd_identify(int argc, char **argv)
{
	static const struct option opts[] = {
		DEVICE_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "lba-size", required_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct device_opts dev = { 0 };
	char why[256];
	struct nvr_sim_config cfg;
	struct nvr_transport *t;
	struct nvr_ctrl *ctrl;
	bool json = false;
	uint64_t v;
	int c, ret, status;

	nvr_sim_config_init(&cfg);
	while ((c = getopt_long(argc, argv, DEVICE_SHORTOPTS "jvh", opts, NULL)) != -1) {
		if (device_getopt(c, optarg, &dev))
			continue;	/* no --write-range here: never -1 */
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'L':
			if (!parse_u64(optarg, "LBA size", 512, 4096, &v))
				return EXIT_USAGE;
			if (v != 512 && v != 4096) {
				warnx("invalid LBA size '%s': must be 512 or 4096", optarg);
				return EXIT_USAGE;
			}
			cfg.lba_size = (uint32_t)v;
			break;
		case 'v':
			setup_logging(true);
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

	if (!device_check(&dev))
		return usage_error(usage);
	if (dev.bind) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	if (dev.bdf || dev.target) {
		status = device_open(&dev, &t);
		if (status)
			return status;
	} else {
		ret = nvr_sim_create(&cfg, &t);
		if (ret) {
			warnx("cannot start the simulated controller: %s", strerror(-ret));
			return EXIT_ENV;
		}
	}
	ret = nvr_ctrl_open(t, 1, &ctrl, why, sizeof(why));
	if (ret) {
		warnx("cannot bring up the controller: %s", why);
		device_close(&dev, t);
		return EXIT_ENV;
	}
	if (json)
		ret = print_json(nvr_ctrl_info(ctrl), device_name(&dev));
	else
		print_text(nvr_ctrl_info(ctrl), device_name(&dev));
	nvr_ctrl_close(ctrl);
	status = device_close(&dev, t);
	if (got_signal)
		status = 130;
	return finish_stdout(status);
}
