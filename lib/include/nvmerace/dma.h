/* SPDX-License-Identifier: MIT */
/* IOVA-contiguous host buffers the device may read and write. */
#ifndef NVMERACE_DMA_H
#define NVMERACE_DMA_H

#include <stddef.h>
#include <stdint.h>

struct nvr_transport;

struct nvr_dma_buf {
	void *vaddr;
	uint64_t iova;
	size_t len;		/* rounded up to the page size */
	struct nvr_transport *t;
};

#define NVR_PAGE_SIZE 4096u
#define NVR_HUGE_SIZE (2u << 20)	/* buffers this large try hugepages first */

/**
 * nvr_dma_alloc() - allocate zeroed, page-aligned memory and map it for DMA.
 * @t: the transport that maps it.
 * @len: bytes wanted; rounded up to NVR_PAGE_SIZE (to NVR_HUGE_SIZE when it
 *       is at least that and hugepages are free).
 * @buf: filled on success.
 *
 * Return: 0, or -ENOMEM, -ENOSPC (IOVA space exhausted) or the transport's error.
 */
int nvr_dma_alloc(struct nvr_transport *t, size_t len, struct nvr_dma_buf *buf);

/**
 * nvr_dma_free() - unmap and release a buffer; a zeroed @buf is allowed.
 * @buf: the buffer; cleared on return.
 *
 * Return: nothing.
 */
void nvr_dma_free(struct nvr_dma_buf *buf);

#endif
