// SPDX-License-Identifier: MIT
/* The scripted device of the fuzz harnesses; see fdev.h. */
#include <errno.h>
#include <string.h>
#include <nvme/types.h>

#include "fdev.h"

#define DOORBELL_BASE 0x1000u
#define CSTS_RDY (NVME_CSTS_RDY_MASK << NVME_CSTS_RDY_SHIFT)

static struct fdev *to_fdev(struct nvr_transport *t)
{
	return (struct fdev *)t;
}

void *fdev_ptr(struct fdev *d, uint64_t iova, size_t len)
{
	for (unsigned int i = 0; i < d->nr_maps; i++) {
		const struct fdev_map *m = &d->maps[i];

		if (iova >= m->iova && iova - m->iova <= m->len && len <= m->len - (iova - m->iova))
			return m->vaddr + (iova - m->iova);
	}
	return NULL;
}

static uint32_t csts(const struct fdev *d)
{
	uint32_t v = d->csts_or & ~(uint32_t)CSTS_RDY;

	if (d->csts_or == 0xffffffff)
		return 0xffffffff;
	if (NVME_CC_EN(d->cc))
		v |= CSTS_RDY;
	if (NVME_CC_SHN(d->cc)) {
		v &= ~(uint32_t)(NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT);
		v |= (d->csts_or & (NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT)) ?
			     d->csts_or & (NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT) :
			     NVME_CSTS_SHST_CMPLT << NVME_CSTS_SHST_SHIFT;
	}
	return v;
}

static uint32_t fdev_read32(struct nvr_transport *t, uint32_t off)
{
	struct fdev *d = to_fdev(t);

	switch (off) {
	case NVME_REG_CAP:
		return (uint32_t)d->cap;
	case NVME_REG_CAP + 4:
		return (uint32_t)(d->cap >> 32);
	case NVME_REG_VS:
		return d->vs;
	case NVME_REG_CC:
		return d->cc;
	case NVME_REG_CSTS:
		return csts(d);
	case NVME_REG_AQA:
		return d->aqa;
	default:
		return 0;
	}
}

static uint64_t fdev_read64(struct nvr_transport *t, uint32_t off)
{
	struct fdev *d = to_fdev(t);

	switch (off) {
	case NVME_REG_ASQ:
		return d->asq;
	case NVME_REG_ACQ:
		return d->acq;
	default:
		return fdev_read32(t, off) | (uint64_t)fdev_read32(t, off + 4) << 32;
	}
}

/* Serve the admin SQ up to @tail, posting one CQE per command. */
static void admin_doorbell(struct fdev *d, uint32_t tail)
{
	uint16_t sq_depth = (uint16_t)((d->aqa & 0xfff) + 1);
	uint16_t cq_depth = (uint16_t)(((d->aqa >> 16) & 0xfff) + 1);

	if (!NVME_CC_EN(d->cc) || tail >= sq_depth) {
		d->bad_doorbells++;
		return;
	}
	while (d->sq_head != tail) {
		const struct nvr_sqe *p = fdev_ptr(d, d->asq + (uint64_t)d->sq_head * 64, 64);
		struct nvr_cqe cqe = { 0 }, *slot;
		struct nvr_sqe sqe;

		slot = fdev_ptr(d, d->acq + (uint64_t)d->cq_tail * 16, 16);
		if (!p || !slot) {
			d->bad_doorbells++;
			return;
		}
		sqe = *p;
		d->sq_head = (uint16_t)(d->sq_head + 1 == sq_depth ? 0 : d->sq_head + 1);
		d->admin_cmds++;
		if (d->answer)
			d->answer(d, &sqe, &cqe, d->arg);
		cqe.sqhd = d->sq_head;
		cqe.sqid = 0;
		cqe.cid = sqe.cid;
		cqe.status = (uint16_t)((cqe.status & ~1u) | d->phase);
		*slot = cqe;
		if (++d->cq_tail == cq_depth) {
			d->cq_tail = 0;
			d->phase ^= 1;
		}
	}
}

static void fdev_write32(struct nvr_transport *t, uint32_t off, uint32_t val)
{
	struct fdev *d = to_fdev(t);
	uint32_t stride = 4u << NVME_CAP_DSTRD(d->cap);

	switch (off) {
	case NVME_REG_CC:
		if (NVME_CC_EN(val) && !NVME_CC_EN(d->cc)) {
			/* Enabling takes the admin queue as AQA, ASQ, ACQ say (7.6.1). */
			d->sq_head = 0;
			d->cq_tail = 0;
			d->phase = 1;
		}
		d->cc = val;
		return;
	case NVME_REG_AQA:
		d->aqa = val;
		return;
	case NVME_REG_ASQ:
		d->asq = (d->asq & ~0xffffffffull) | val;
		return;
	case NVME_REG_ASQ + 4:
		d->asq = (d->asq & 0xffffffffull) | (uint64_t)val << 32;
		return;
	case NVME_REG_ACQ:
		d->acq = (d->acq & ~0xffffffffull) | val;
		return;
	case NVME_REG_ACQ + 4:
		d->acq = (d->acq & 0xffffffffull) | (uint64_t)val << 32;
		return;
	}
	if (off == DOORBELL_BASE)
		admin_doorbell(d, val);
	else if (off > DOORBELL_BASE && (off - DOORBELL_BASE) % stride == 0)
		d->io_doorbells++;
}

static void fdev_write64(struct nvr_transport *t, uint32_t off, uint64_t val)
{
	fdev_write32(t, off, (uint32_t)val);
	fdev_write32(t, off + 4, (uint32_t)(val >> 32));
}

static int fdev_dma_map(struct nvr_transport *t, void *vaddr, uint64_t iova, size_t len)
{
	struct fdev *d = to_fdev(t);

	if (d->nr_maps == FDEV_MAX_MAPS)
		return -ENOSPC;
	d->maps[d->nr_maps++] = (struct fdev_map){ .iova = iova, .vaddr = vaddr, .len = len };
	return 0;
}

static int fdev_dma_unmap(struct nvr_transport *t, uint64_t iova, size_t len)
{
	struct fdev *d = to_fdev(t);

	for (unsigned int i = 0; i < d->nr_maps; i++) {
		if (d->maps[i].iova == iova && d->maps[i].len == len) {
			d->maps[i] = d->maps[--d->nr_maps];
			return 0;
		}
	}
	return -ENOENT;
}

static int fdev_irq_set(struct nvr_transport *t, unsigned int vector, int efd)
{
	(void)t;
	(void)vector;
	(void)efd;
	return 0;
}

static int fdev_irq_trigger(struct nvr_transport *t, unsigned int vector)
{
	(void)t;
	(void)vector;
	return -EOPNOTSUPP;
}

static int fdev_irq_mask(struct nvr_transport *t, unsigned int vector, bool masked)
{
	(void)t;
	(void)vector;
	(void)masked;
	return -EOPNOTSUPP;
}

static int fdev_msix_write(struct nvr_transport *t, unsigned int vector, unsigned int dword,
			   uint32_t value)
{
	(void)t;
	(void)vector;
	(void)dword;
	(void)value;
	return -EOPNOTSUPP;
}

static int fdev_reset(struct nvr_transport *t)
{
	to_fdev(t)->cc = 0;
	return 0;
}

static void fdev_destroy(struct nvr_transport *t)
{
	(void)t;	/* the harness owns it */
}

static const struct nvr_transport_ops fdev_ops = {
	.read32 = fdev_read32,
	.read64 = fdev_read64,
	.write32 = fdev_write32,
	.write64 = fdev_write64,
	.dma_map = fdev_dma_map,
	.dma_unmap = fdev_dma_unmap,
	.irq_set = fdev_irq_set,
	.irq_trigger = fdev_irq_trigger,
	.irq_mask = fdev_irq_mask,
	.msix_write = fdev_msix_write,
	.reset = fdev_reset,
	.destroy = fdev_destroy,
};

void fdev_init(struct fdev *d, uint64_t cap, uint32_t vs, fdev_answer_fn fn, void *arg)
{
	memset(d, 0, sizeof(*d));
	d->t.ops = &fdev_ops;
	d->t.kind = "fuzz";
	d->t.nr_vectors = 17;
	atomic_init(&d->t.iova_next, 0x100000ull);
	d->t.iova_end = 1ull << 40;
	d->cap = cap;
	d->vs = vs;
	d->answer = fn;
	d->arg = arg;
	d->phase = 1;
}
