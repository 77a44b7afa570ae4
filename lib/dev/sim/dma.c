// SPDX-License-Identifier: MIT
/*
 * The simulated device's view of host memory: an IOVA table like an IOMMU's.
 * Every device access goes through nvr_sim_dma_ptr(); an access outside a live
 * mapping is journalled as a DMA fault and not performed, so a device that
 * writes a CQE into a freed queue is caught instead of corrupting the host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev/sim/internal.h"

#define PAGE 4096u

static struct nvr_sim *to_sim(struct nvr_transport *t)
{
	return (struct nvr_sim *)t;
}

/* Index of the last mapping whose IOVA is <= @iova, or -1. */
static int find_map(const struct nvr_sim *s, uint64_t iova)
{
	int lo = 0, hi = (int)s->nr_maps - 1, found = -1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (s->maps[mid].iova <= iova) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

/* Called with dma_lock held for reading (the worker holds it per batch). */
void *nvr_sim_dma_ptr(struct nvr_sim *s, uint64_t iova, uint64_t len, bool write)
{
	int i = find_map(s, iova);

	if (likely(i >= 0)) {
		const struct sim_map *m = &s->maps[i];
		uint64_t off = iova - m->iova;

		if (off < m->len && len <= m->len - off)
			return m->vaddr + off;
	}
	atomic_fetch_add_explicit(&s->st_dma_faults, 1, memory_order_relaxed);
	sim_journal(s, NVR_JEV_DMA_FAULT, 0, iova, (uint32_t)len, write);
	return NULL;
}

void *nvr_sim_ring_ptr_slow(struct nvr_sim *s, struct sim_ring_map *c, uint64_t base,
			    uint64_t off, uint64_t len, bool write)
{
	uint8_t *p = nvr_sim_dma_ptr(s, base + off, len, write);
	int i;

	if (!p)
		return NULL;
	i = find_map(s, base);
	if (i >= 0 && base - s->maps[i].iova < s->maps[i].len) {
		*c = (struct sim_ring_map){ .gen = s->maps_gen, .base = base,
					    .len = s->maps[i].len - (base - s->maps[i].iova),
					    .vaddr = s->maps[i].vaddr + (base - s->maps[i].iova) };
	}
	return p;
}

static int copy_chunk(struct nvr_sim *s, uint64_t iova, uint8_t *buf, uint64_t len, bool to_host)
{
	uint8_t *p = nvr_sim_dma_ptr(s, iova, len, to_host);

	if (!p)
		return -EFAULT;
	if (to_host)
		memcpy(p, buf, len);
	else
		memcpy(buf, p, len);
	return 0;
}

/*
 * Move @len bytes between @buf and the host memory described by PRP1/PRP2
 * (NVMe 1.4, 4.3): PRP1 may start inside a page; PRP2 is the second page when
 * the transfer spans exactly two, otherwise a PRP list whose last entry chains
 * to the next list page.
 */
int nvr_sim_dma_copy(struct nvr_sim *s, uint64_t prp1, uint64_t prp2, void *buf, uint64_t len,
		 bool to_host)
{
	uint8_t *b = buf;
	uint64_t first = NVR_MIN(len, PAGE - (prp1 & (PAGE - 1)));
	uint64_t list, left;
	unsigned int idx;

	if (copy_chunk(s, prp1, b, first, to_host))
		return -EFAULT;
	b += first;
	left = len - first;
	if (!left)
		return 0;
	if (left <= PAGE) {
		if (prp2 & (PAGE - 1))
			return -EINVAL;
		return copy_chunk(s, prp2, b, left, to_host);
	}

	if (prp2 & 7)
		return -EINVAL;
	list = prp2;
	idx = (unsigned int)((list & (PAGE - 1)) / 8);
	list &= ~(uint64_t)(PAGE - 1);
	while (left) {
		uint64_t *entries = nvr_sim_dma_ptr(s, list, PAGE, false);
		uint64_t entry, n;

		if (!entries)
			return -EFAULT;
		entry = entries[idx];
		if (idx == PAGE / 8 - 1 && left > PAGE) {
			/* The last entry of a full list page chains to the next page. */
			if (entry & (PAGE - 1))
				return -EINVAL;
			list = entry;
			idx = 0;
			continue;
		}
		if (entry & (PAGE - 1))
			return -EINVAL;
		n = NVR_MIN(left, (uint64_t)PAGE);
		if (copy_chunk(s, entry, b, n, to_host))
			return -EFAULT;
		b += n;
		left -= n;
		idx++;
	}
	return 0;
}

int nvr_sim_dma_map(struct nvr_transport *t, void *vaddr, uint64_t iova, size_t len)
{
	struct nvr_sim *s = to_sim(t);
	int ret = 0, i;

	if (!len || (iova & (PAGE - 1)) || iova + len < iova)
		return -EINVAL;
	sim_dma_wrlock(s);
	i = find_map(s, iova);
	/* Refuse overlaps, like VFIO_IOMMU_MAP_DMA does (-EEXIST). */
	if ((i >= 0 && s->maps[i].iova + s->maps[i].len > iova) ||
	    (i + 1 < (int)s->nr_maps && s->maps[i + 1].iova < iova + len)) {
		ret = -EEXIST;
		goto out;
	}
	if (s->nr_maps == s->maps_cap) {
		uint32_t cap = s->maps_cap ? s->maps_cap * 2 : 64;
		struct sim_map *m = realloc(s->maps, cap * sizeof(*m));

		if (!m) {
			ret = -ENOMEM;
			goto out;
		}
		s->maps = m;
		s->maps_cap = cap;
	}
	memmove(&s->maps[i + 2], &s->maps[i + 1], (s->nr_maps - (uint32_t)(i + 1)) * sizeof(*s->maps));
	s->maps[i + 1] = (struct sim_map){ .iova = iova, .len = len, .vaddr = vaddr };
	s->nr_maps++;
	s->maps_gen++;
out:
	sim_dma_unlock(s);
	return ret;
}

int nvr_sim_dma_unmap(struct nvr_transport *t, uint64_t iova, size_t len)
{
	struct nvr_sim *s = to_sim(t);
	int ret = -ENOENT, i;

	/* Taking the write side waits for the worker's batch: no device
	 * access to this range is in flight once we return. */
	sim_dma_wrlock(s);
	i = find_map(s, iova);
	if (i >= 0 && s->maps[i].iova == iova && s->maps[i].len == len) {
		memmove(&s->maps[i], &s->maps[i + 1], (s->nr_maps - (uint32_t)i - 1) * sizeof(*s->maps));
		s->nr_maps--;
		s->maps_gen++;
		ret = 0;
	}
	sim_dma_unlock(s);
	return ret;
}
