// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "dma.h"
#include "transport.h"
#include "util.h"

int nvr_dma_alloc(struct nvr_transport *t, size_t len, struct nvr_dma_buf *buf)
{
	uint64_t iova;
	void *p;
	int ret;

	memset(buf, 0, sizeof(*buf));
	if (!len)
		return -EINVAL;
	len = NVR_ALIGN_UP(len, (size_t)NVR_PAGE_SIZE);
	/* Claim the IOVA range first; a failed mapping just leaves a hole. */
	iova = atomic_fetch_add(&t->iova_next, len);
	if (iova + len < iova || iova + len > t->iova_end)
		return -ENOSPC;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;

	ret = t->ops->dma_map(t, p, iova, len);
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
	buf->t->ops->dma_unmap(buf->t, buf->iova, buf->len);
	munmap(buf->vaddr, buf->len);
	memset(buf, 0, sizeof(*buf));
}
