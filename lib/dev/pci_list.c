// SPDX-License-Identifier: MIT
/* The NVMe controllers on the system, found and named by libpci. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pci/pci.h>

#include <nvmerace/pci.h>

#include "base/util.h"

#define NVME_CLASS 0x0108	/* mass storage, non-volatile memory */
#define NVME_PROG_IF 0x02	/* NVM Express */

static int cmp_ctrl(const void *a, const void *b)
{
	return strcmp(((const struct nvr_pci_ctrl *)a)->bdf, ((const struct nvr_pci_ctrl *)b)->bdf);
}

static uint64_t block_bytes(const char *name)
{
	char p[PATH_MAX];
	unsigned long long sectors = 0;
	FILE *f = fopen(nvr_pci_path(p, sizeof(p), "/sys/block/%s/size", name), "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &sectors) != 1)
		sectors = 0;
	fclose(f);
	return (uint64_t)sectors * 512;
}

static void describe(struct pci_access *pacc, struct pci_dev *d, struct nvr_pci_ctrl *c)
{
	char names[NVR_PCI_MAX_NS][32];
	char peers[NVR_PCI_MAX_PEERS + 1][NVR_BDF_LEN];
	unsigned int n;

	snprintf(c->bdf, sizeof(c->bdf), "%04x:%02x:%02x.%x", d->domain, d->bus, d->dev, d->func);
	c->vendor = d->vendor_id;
	c->device = d->device_id;
	if (!pci_lookup_name(pacc, c->vendor_name, sizeof(c->vendor_name), PCI_LOOKUP_VENDOR,
			     d->vendor_id))
		snprintf(c->vendor_name, sizeof(c->vendor_name), "vendor %04x", d->vendor_id);
	if (!pci_lookup_name(pacc, c->device_name, sizeof(c->device_name), PCI_LOOKUP_DEVICE,
			     d->vendor_id, d->device_id))
		snprintf(c->device_name, sizeof(c->device_name), "device %04x", d->device_id);
	nvr_pci_driver(c->bdf, c->driver, sizeof(c->driver));
	if (nvr_pci_iommu_group(c->bdf, &c->group) == 0 &&
	    nvr_pci_group_devices(c->group, peers, NVR_ARRAY_SIZE(peers), &n) == 0) {
		for (unsigned int i = 0; i < NVR_MIN(n, (unsigned int)NVR_ARRAY_SIZE(peers)); i++)
			if (strcmp(peers[i], c->bdf) && c->nr_peers < NVR_PCI_MAX_PEERS)
				memcpy(c->peers[c->nr_peers++], peers[i], NVR_BDF_LEN);
	}
	n = nvr_pci_block_devices(c->bdf, names, NVR_PCI_MAX_NS);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(c->ns[i].name, sizeof(c->ns[i].name), "%s", names[i]);
		c->ns[i].bytes = block_bytes(names[i]);
	}
	c->nr_ns = n;
	nvr_pci_in_use(c->bdf, &c->use);
	nvr_pci_group_in_use(c->bdf, &c->group_use);
}

int nvr_pci_list(struct nvr_pci_ctrl **out, unsigned int *n)
{
	struct pci_access *pacc;
	struct nvr_pci_ctrl *v = NULL;
	unsigned int cnt = 0, cap = 0;

	*out = NULL;
	*n = 0;
	pacc = pci_alloc();
	if (!pacc)
		return -ENOMEM;
	pci_init(pacc);
	pci_scan_bus(pacc);
	for (struct pci_dev *d = pacc->devices; d; d = d->next) {
		pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS);
		if (d->device_class != NVME_CLASS || pci_read_byte(d, PCI_CLASS_PROG) != NVME_PROG_IF)
			continue;
		if (cnt == cap) {
			struct nvr_pci_ctrl *nv = realloc(v, (cap ? cap * 2 : 4) * sizeof(*v));

			if (!nv) {
				free(v);
				pci_cleanup(pacc);
				return -ENOMEM;
			}
			v = nv;
			cap = cap ? cap * 2 : 4;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		v[cnt].group = -1;
		describe(pacc, d, &v[cnt]);
		cnt++;
	}
	pci_cleanup(pacc);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_ctrl);
	*out = v;
	*n = cnt;
	return 0;
}
