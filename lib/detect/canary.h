/* SPDX-License-Identifier: MIT */
/*
 * Canary pages: host evidence of DMA after teardown that needs no device
 * truth. Memory the device must no longer touch (a reset controller's old
 * shadow doorbell pages, a deleted queue's rings, a completed command's
 * buffers) stays mapped for a linger window, filled with a pattern; any
 * change is reported as dma_after_teardown naming the memory, what it
 * belonged to and how long after its release the change was seen. When the
 * window ends the memory is unmapped and the ledger is told its name, so
 * that on the simulator a later access is caught by the IOMMU table and
 * named just the same.
 */
#ifndef NVR_CANARY_H
#define NVR_CANARY_H

#include <stdint.h>

struct nvr_canaries;
struct nvr_dma_buf;
struct nvr_ledger;

int nvr_canaries_create(struct nvr_ledger *l, struct nvr_canaries **out);
/* The final check, then every canary is unmapped; NULL is allowed. */
void nvr_canaries_destroy(struct nvr_canaries *cs);

/**
 * nvr_canary_keep() - watch released memory.
 * @cs: the set.
 * @buf: the memory, still mapped; taken over (cleared on return).
 * @what: what it held, for the report ("the shadow doorbell page").
 * @stride: when not 0, the memory is a doorbell page with this stride:
 *          reports name the queue and doorbell of the slot that changed.
 * @linger_ns: how long to keep watching; 0: unmap at once.
 *
 * Return: 0, or -ENOMEM (the memory is then unmapped at once).
 */
int nvr_canary_keep(struct nvr_canaries *cs, struct nvr_dma_buf *buf, const char *what,
		    uint32_t stride, uint64_t linger_ns);

/* Check every canary; unmap those whose window has passed. From one thread. */
void nvr_canaries_check(struct nvr_canaries *cs);

/* The pattern word at byte offset @off of a canary. */
static inline uint32_t nvr_canary_word(uint64_t off)
{
	return 0xca5a0000u ^ (uint32_t)(off >> 2);
}

#endif
