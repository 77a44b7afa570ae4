// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <nvmerace/dma.h>

#include "base/util.h"
#include "dev/transport.h"

int nvr_dma_alloc(struct nvr_transport *t, size_t len, struct nvr_dma_buf *buf)
{
	uint64_t iova;
	void *p;
	int ret;

	memset(buf, 0, sizeof(*buf));
	if (!len)
		return -EINVAL;
	/*
	 * Large buffers come from 2 MiB hugepages when the system has some
	 * free (fewer IOMMU and TLB entries); otherwise from anonymous memory,
	 * which VFIO_IOMMU_MAP_DMA pins (locks in RAM) for as long as it is mapped.
	 */
	p = MAP_FAILED;
	if (len >= NVR_HUGE_SIZE) {
		size_t hlen = NVR_ALIGN_UP(len, (size_t)NVR_HUGE_SIZE);

		p = mmap(NULL, hlen, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p != MAP_FAILED)
			len = hlen;
	}
	if (p == MAP_FAILED) {
		len = NVR_ALIGN_UP(len, (size_t)NVR_PAGE_SIZE);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
	}
	/* Claim the IOVA range; a failed mapping just leaves a hole. */
	iova = atomic_fetch_add(&t->iova_next, len);
	if (iova + len < iova || iova + len > t->iova_end) {
		munmap(p, len);
		return -ENOSPC;
	}

	ret = nvr_transport_dma_map(t, p, iova, len);
	if (ret) {
		munmap(p, len);
		return ret;
	}
	*buf = (struct nvr_dma_buf){ .vaddr = p, .iova = iova, .len = len, .t = t };
	return 0;
}

void nvr_dma_free(struct nvr_dma_buf *buf)
{
	if (!buf->vaddr)
		return;
	/* Unmap first: once the device can no longer reach it, the memory may go. */
	nvr_transport_dma_unmap(buf->t, buf->iova, buf->len);
	munmap(buf->vaddr, buf->len);
	memset(buf, 0, sizeof(*buf));
}
