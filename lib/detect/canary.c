// SPDX-License-Identifier: MIT
/* Canary pages: see canary.h. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/dma.h>

#include "base/clock.h"
#include "detect/canary.h"
#include "detect/ledger.h"

#define MAX_CANARIES 16

struct canary {
	struct nvr_dma_buf buf;
	char what[128];
	uint32_t stride;
	uint64_t released_ns, until_ns;
	bool reported;
};

struct nvr_canaries {
	struct nvr_ledger *l;
	pthread_mutex_t lock;
	uint32_t nr;
	struct canary c[MAX_CANARIES];
};

int nvr_canaries_create(struct nvr_ledger *l, struct nvr_canaries **out)
{
	struct nvr_canaries *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return -ENOMEM;
	cs->l = l;
	pthread_mutex_init(&cs->lock, NULL);
	*out = cs;
	return 0;
}

/* Unmap it and tell the ledger what was there: the IOMMU takes over. */
static void retire(struct nvr_canaries *cs, struct nvr_dma_buf *buf, const char *what)
{
	uint64_t iova = buf->iova, len = buf->len;

	nvr_dma_free(buf);
	if (len)
		nvr_ledger_freed(cs->l, iova, len, what);
}

/*
 * The device's stores and ours meet here; the pattern was written before the
 * release and only the device writes after it, so a relaxed load of each word
 * sees either the pattern or the device's value.
 */
static void check_one(struct nvr_canaries *cs, struct canary *c, uint64_t now)
{
	const _Atomic uint32_t *w = c->buf.vaddr;
	char slot[80] = "";

	if (c->reported)
		return;
	for (uint64_t off = 0; off < c->buf.len; off += 4) {
		uint32_t v = atomic_load_explicit(&w[off / 4], memory_order_relaxed);

		if (v == nvr_canary_word(off))
			continue;
		if (c->stride) {
			uint64_t idx = (off % 4096) / c->stride;

			/* Doorbell Buffer Config: shadow doorbells, then EventIdx. */
			snprintf(slot, sizeof(slot), ", queue %llu's %s %s slot",
				 (unsigned long long)(idx / 2), idx & 1 ? "CQ head" : "SQ tail",
				 off < 4096 ? "shadow doorbell" : "EventIdx");
		}
		c->reported = true;
		nvr_ledger_report(cs->l, NVR_AN_DMA_AFTER_TEARDOWN, -1, -1, -1,
				  "the device wrote 0x%08x at +0x%llx (IOVA 0x%llx%s) of %s, "
				  "%.3f ms after the host released it; a canary pattern was there",
				  v, (unsigned long long)off, (unsigned long long)(c->buf.iova + off),
				  slot, c->what, (double)(now - c->released_ns) / 1e6);
		return;
	}
}

int nvr_canary_keep(struct nvr_canaries *cs, struct nvr_dma_buf *buf, const char *what,
		    uint32_t stride, uint64_t linger_ns)
{
	struct canary *c;
	_Atomic uint32_t *w = buf->vaddr;

	if (!buf->len)
		return 0;
	if (!linger_ns) {
		retire(cs, buf, what);
		return 0;
	}
	pthread_mutex_lock(&cs->lock);
	if (cs->nr == MAX_CANARIES) {
		pthread_mutex_unlock(&cs->lock);
		retire(cs, buf, what);
		return -ENOMEM;
	}
	c = &cs->c[cs->nr];
	memset(c, 0, sizeof(*c));
	/* The pattern before the release is published: the device may write
	 * the moment the host stops owning the memory. */
	for (uint64_t off = 0; off < buf->len; off += 4)
		atomic_store_explicit(&w[off / 4], nvr_canary_word(off), memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	c->buf = *buf;
	memset(buf, 0, sizeof(*buf));
	snprintf(c->what, sizeof(c->what), "%s", what);
	c->stride = stride;
	c->released_ns = nvr_clock_ns();
	c->until_ns = c->released_ns + linger_ns;
	cs->nr++;
	pthread_mutex_unlock(&cs->lock);
	return 0;
}

void nvr_canaries_check(struct nvr_canaries *cs)
{
	uint64_t now;

	if (!cs)
		return;
	now = nvr_clock_ns();
	pthread_mutex_lock(&cs->lock);
	for (uint32_t i = 0; i < cs->nr; i++) {
		struct canary *c = &cs->c[i];

		if (!c->buf.len)
			continue;
		check_one(cs, c, now);
		if (now >= c->until_ns)
			retire(cs, &c->buf, c->what);
	}
	pthread_mutex_unlock(&cs->lock);
}

void nvr_canaries_destroy(struct nvr_canaries *cs)
{
	if (!cs)
		return;
	pthread_mutex_lock(&cs->lock);
	for (uint32_t i = 0; i < cs->nr; i++) {
		check_one(cs, &cs->c[i], nvr_clock_ns());
		retire(cs, &cs->c[i].buf, cs->c[i].what);
	}
	pthread_mutex_unlock(&cs->lock);
	pthread_mutex_destroy(&cs->lock);
	free(cs);
}
