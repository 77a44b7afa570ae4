// SPDX-License-Identifier: MIT
/*
 * --device, --bind, --force and --write-range, shared by the commands that
 * drive a controller: opening a real device through VFIO (binding it for the
 * run and giving it back afterwards), or the simulator without --device.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/run.h>

#include "cmd.h"
#include "nvmerace.h"

int device_getopt(int ch, const char *arg, struct device_opts *d)
{
	switch (ch) {
	case 'D':
		d->bdf = arg;
		return 1;
	case 'b':
		d->bind = true;
		return 1;
	case 'f':
		d->force = true;
		return 1;
	case 'W':
		return device_parse_write_range(arg, d) ? 1 : -1;
	case OPT_TARGET:
		d->target = arg;
		return 1;
	case OPT_HOSTNQN:
		d->hostnqn = arg;
		return 1;
	case OPT_HDGST:
		d->hdgst = true;
		return 1;
	case OPT_DDGST:
		d->ddgst = true;
		return 1;
	default:
		return 0;
	}
}

bool device_parse_write_range(const char *s, struct device_opts *d)
{
	uint64_t nsid, start, end;
	char buf[128], *colon, *dash;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	dash = colon ? strchr(colon, '-') : NULL;
	if (!colon || !dash)
		goto bad;
	*colon = *dash = '\0';
	if (!parse_u64(buf, "namespace ID in --write-range", 1, 0xfffffffe, &nsid) ||
	    !parse_u64(colon + 1, "first LBA in --write-range", 0, UINT64_MAX, &start) ||
	    !parse_u64(dash + 1, "last LBA in --write-range", 0, UINT64_MAX, &end))
		return false;
	if (end < start) {
		warnx("invalid --write-range '%s': the last LBA is before the first", s);
		return false;
	}
	d->write_nsid = (uint32_t)nsid;
	d->write_start = start;
	d->write_end = end;
	return true;
bad:
	warnx("invalid --write-range '%s': expected NSID:START-END (LBAs, inclusive), e.g. 1:0-2047",
	      s);
	return false;
}

static void print_uses(const char *bdf, const struct nvr_pci_use *use,
		       const struct nvr_pci_use *group)
{
	if (use->n) {
		warnx("%s is in use; refusing to take it from the kernel:", bdf);
		for (unsigned int i = 0; i < use->n; i++)
			fprintf(stderr, "  %s\n", use->why[i]);
		fprintf(stderr, "Unmount, swapoff or stop what holds it first, or pass --force "
				"(the data on it is at stake).\n");
	}
	if (group->n) {
		warnx("%s shares its IOMMU group with devices the host uses; refusing to take it:",
		      bdf);
		for (unsigned int i = 0; i < group->n; i++)
			fprintf(stderr, "  %s\n", group->why[i]);
		fprintf(stderr, "VFIO opens a group only when every device in it is released from "
				"the host. Release them first, or pass --force to bind this "
				"controller anyway (the others are left alone).\n");
	}
}

int device_bind(const char *bdf, bool force, char *orig, size_t origlen)
{
	struct nvr_pci_refusal r;
	char msg[NVR_ENV_MSG];
	int ret;

	/* Reads only; a function that is not NVMe is refused whatever --force says. */
	ret = nvr_pci_may_bind(bdf, force, &r);
	if (ret == -EBUSY) {
		print_uses(bdf, &r.use, &r.group);
		return EXIT_ENV;
	}
	if (ret) {
		warnx("%s", r.msg);
		return EXIT_ENV;
	}
	if (r.use.n || r.group.n)
		warnx("%s is in use, and --force was given: taking it anyway", bdf);
	ret = nvr_pci_bind_vfio(bdf, orig, origlen, msg, sizeof(msg));
	if (ret) {
		warnx("cannot bind %s to vfio-pci: %s", bdf, msg);
		return EXIT_ENV;
	}
	return EXIT_OK;
}

/*
 * The host NQN: --hostnqn, else /etc/nvme/hostnqn as nvme-cli reads it, else
 * one made from /etc/machine-id (the same on every run of this host).
 */
static int host_nqn(struct device_opts *d)
{
	char id[64] = "";
	FILE *f;

	if (d->hostnqn) {
		snprintf(d->nqn, sizeof(d->nqn), "%s", d->hostnqn);
		return EXIT_OK;
	}
	f = fopen("/etc/nvme/hostnqn", "r");
	if (f) {
		if (fgets(d->nqn, sizeof(d->nqn), f))
			d->nqn[strcspn(d->nqn, " \t\r\n")] = '\0';
		fclose(f);
		if (d->nqn[0])
			return EXIT_OK;
	}
	f = fopen("/etc/machine-id", "r");
	if (f) {
		if (!fgets(id, sizeof(id), f))
			id[0] = '\0';
		fclose(f);
	}
	id[strcspn(id, " \t\r\n")] = '\0';
	if (strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32) {
		warnx("no host NQN: pass --hostnqn (neither /etc/nvme/hostnqn nor /etc/machine-id "
		      "gives one)");
		return EXIT_USAGE;
	}
	snprintf(d->nqn, sizeof(d->nqn),
		 "nqn.2014-08.org.nvmexpress:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12,
		 id + 16, id + 20);
	return EXIT_OK;
}

static int target_open(struct device_opts *d, struct nvr_transport **t)
{
	struct nvr_tcp_opts o = { .hostnqn = d->nqn, .hdgst = d->hdgst, .ddgst = d->ddgst };
	char msg[NVR_ENV_MSG];
	int ret = host_nqn(d);

	if (ret)
		return ret;
	ret = nvr_tcp_open(d->target, &o, t, msg, sizeof(msg));
	if (ret) {
		warnx("cannot connect to %s: %s", d->target, msg);
		return ret == -EINVAL ? EXIT_USAGE : EXIT_ENV;
	}
	return EXIT_OK;
}

const char *device_name(const struct device_opts *d)
{
	return d->target ? d->target : d->bdf ? d->addr : "sim";
}

int device_open(struct device_opts *d, struct nvr_transport **t)
{
	char msg[NVR_ENV_MSG];
	int ret;

	*t = NULL;
	if (d->target)
		return target_open(d, t);
	if (!d->bdf)
		return EXIT_OK;
	if (nvr_pci_parse_bdf(d->bdf, d->addr)) {
		warnx("invalid PCI address '%s': expected DDDD:BB:DD.F, e.g. 0000:01:00.0", d->bdf);
		return EXIT_USAGE;
	}
	if (d->bind) {
		ret = device_bind(d->addr, d->force, d->orig, sizeof(d->orig));
		if (ret)
			return ret;
		d->bound_here = strcmp(d->orig, "vfio-pci") != 0;
	}
	ret = nvr_vfio_open(d->addr, t, msg, sizeof(msg));
	if (ret) {
		warnx("cannot open %s: %s", d->addr, msg);
		device_close(d, NULL);
		return ret == -EINVAL ? EXIT_USAGE : EXIT_ENV;
	}
	return EXIT_OK;
}

int device_close(struct device_opts *d, struct nvr_transport *t)
{
	char msg[NVR_ENV_MSG];

	nvr_transport_destroy(t);
	if (!d->bound_here)
		return EXIT_OK;
	d->bound_here = false;
	if (nvr_pci_restore(d->addr, d->orig, msg, sizeof(msg))) {
		warnx("cannot give %s back to %s: %s", d->addr, d->orig[0] ? d->orig : "its driver",
		      msg);
		return EXIT_ENV;
	}
	return EXIT_OK;
}

/* Give the runner the device and the write range (namespace 1 is the one scenarios use). */
void device_run_opts(const struct device_opts *d, struct nvr_transport *t,
		     struct nvr_run_opts *o)
{
	o->transport = t;
	if (t && d->write_nsid == 1) {
		o->write_ok = true;
		o->write_start = d->write_start;
		o->write_end = d->write_end;
	}
}
