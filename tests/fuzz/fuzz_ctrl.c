// SPDX-License-Identifier: MIT
/*
 * Fuzz harness: everything the host decodes of what the controller says while
 * it is brought up: CAP, VS, CSTS, Identify Controller, the Active Namespace
 * list, Identify Namespace, the Number of Queues granted, and the statuses of
 * every admin command, through the real nvr_ctrl_open(), then one I/O queue
 * pair created and deleted, a shutdown and a close.
 *
 * The input is the device's script, read in the order the host asks (see
 * fdev.h; bytes past the end read as zeros):
 *   CAP (8), VS (4), CSTS bits (4), I/O queues asked (1), the queue pair's
 *   depth (2) and vector (1); then for each admin command, in order: the
 *   status field (2), DW0 (4), and for an Identify its data: a length (2,
 *   at most 4096) and that many bytes, the rest of the page zero.
 *
 * Promises checked besides not crashing: nvr_ctrl_open() fails only with
 * the errors it documents, refuses CAP.MQES only when the spec reserves the
 * value, and on success its decoded strings are terminated and printable and
 * its counts are in range; every DMA mapping is released by nvr_ctrl_close().
 */
#include <errno.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/dma.h>

#include "base/util.h"
#include "fdev.h"
#include "fuzz.h"

struct script {
	struct fuzz_in in;
	unsigned int answers;
	bool nq_65536;	/* a Number of Queues grant had a half of 0xffff */
};

static void answer(struct fdev *d, const struct nvr_sqe *sqe, struct nvr_cqe *cqe, void *arg)
{
	struct script *sc = arg;

	sc->answers++;
	cqe->status = (uint16_t)(fuzz_u16(&sc->in) << 1);
	cqe->dw0 = fuzz_u32(&sc->in);
	if (sqe->opcode == nvme_admin_set_features && (sqe->cdw10 & 0xff) == NVME_FEAT_FID_NUM_QUEUES &&
	    !(cqe->status >> 1 & 0x7ff) &&
	    ((cqe->dw0 & 0xffff) == 0xffff || cqe->dw0 >> 16 == 0xffff))
		sc->nq_65536 = true;
	if (sqe->opcode == nvme_admin_identify) {
		uint8_t *page = fdev_ptr(d, sqe->prp1, NVR_PAGE_SIZE);
		uint16_t len = fuzz_u16(&sc->in);

		if (len > NVR_PAGE_SIZE)
			len = NVR_PAGE_SIZE;
		/* The host gave one page: a device writes it whole. */
		FUZZ_ASSERT(page);
		fuzz_take(&sc->in, page, len);
		memset(page + len, 0, NVR_PAGE_SIZE - len);
	}
}

static void check_string(const char *s, size_t size)
{
	size_t len = strnlen(s, size);

	FUZZ_ASSERT(len < size);
	for (size_t i = 0; i < len; i++)
		FUZZ_ASSERT(s[i] >= 0x20 && s[i] < 0x7f);
	/* Identify strings are space padded: the padding is not part of them. */
	FUZZ_ASSERT(!len || s[len - 1] != ' ');
}

static void check_info(const struct nvr_ctrl_info *in, uint64_t cap)
{
	check_string(in->model, sizeof(in->model));
	check_string(in->serial, sizeof(in->serial));
	check_string(in->firmware, sizeof(in->firmware));
	FUZZ_ASSERT(in->mqes == NVME_CAP_MQES(cap) + 1u);
	FUZZ_ASSERT(in->mdts_bytes == 0 || in->mdts_bytes == NVR_PAGE_SIZE << in->mdts);
	/* Number of Queues: 0's based counts (NVMe 1.4, 5.21.1.7); 65536 is refused. */
	FUZZ_ASSERT(in->nr_sq >= 1 && in->nr_sq <= 65535);
	FUZZ_ASSERT(in->nr_cq >= 1 && in->nr_cq <= 65535);
	FUZZ_ASSERT(in->nr_ns <= NVR_ARRAY_SIZE(in->ns));
	for (uint32_t i = 0; i < in->nr_ns; i++) {
		uint32_t b = in->ns[i].lba_size;

		FUZZ_ASSERT(in->ns[i].nsid != 0);
		FUZZ_ASSERT(b == 0 || (b >= 512 && b <= 65536 && !(b & (b - 1))));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script sc = { .answers = 0 };
	struct nvr_ctrl *ctrl = NULL;
	struct fdev d;
	uint16_t nr_io, depth, st;
	uint64_t cap;
	uint32_t vs;
	char why[256];
	int vector, ret;

	fuzz_in_init(&sc.in, data, size);
	cap = fuzz_u64(&sc.in);
	vs = fuzz_u32(&sc.in);
	fdev_init(&d, cap, vs, answer, &sc);
	d.csts_or = fuzz_u32(&sc.in);
	nr_io = (uint16_t)(1 + fuzz_u8(&sc.in) % 4);
	depth = fuzz_u16(&sc.in) % 1025;
	vector = (int)fuzz_u8(&sc.in) % 20 - 1;

	why[0] = '\0';
	ret = nvr_ctrl_open(&d.t, nr_io, &ctrl, why, sizeof(why));
	FUZZ_ASSERT(ret == 0 || ret == -ETIMEDOUT || ret == -EIO || ret == -EPROTO ||
		    ret == -ENODEV || ret == -ENOMEM);
	/* CAP.MQES 0 is reserved; every other value is a queue size. A grant
	 * of 65536 queues (0xffff, 0's based) is refused: no queue ID reaches it. */
	FUZZ_ASSERT(ret != -EPROTO || NVME_CAP_MQES(cap) == 0 || sc.nq_65536);
	if (ret) {
		FUZZ_ASSERT(!ctrl);
		FUZZ_ASSERT(why[0]);	/* a failure always says why */
		FUZZ_ASSERT(d.nr_maps == 0);
		return 0;
	}
	check_info(nvr_ctrl_info(ctrl), cap);

	ret = nvr_ctrl_create_qpair(ctrl, 1, depth, vector, &st);
	FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -EREMOTEIO || ret == -ETIMEDOUT ||
		    ret == -EIO);
	FUZZ_ASSERT(ret != -EREMOTEIO || (st & 0x7ff));
	if (!ret) {
		FUZZ_ASSERT(nvr_ctrl_sq(ctrl, 1) && nvr_ctrl_cq(ctrl, 1));
		ret = nvr_ctrl_delete_qpair(ctrl, 1, &st);
		FUZZ_ASSERT(ret == 0 || ret == -EREMOTEIO || ret == -ETIMEDOUT || ret == -EIO);
	} else {
		FUZZ_ASSERT(!nvr_ctrl_sq(ctrl, 1) && !nvr_ctrl_cq(ctrl, 1));
	}
	/* A shutdown that never completes must time out, not hang. */
	ret = nvr_ctrl_shutdown(ctrl, 2);
	FUZZ_ASSERT(ret == 0 || ret == -ETIMEDOUT || ret == -EIO || ret == -ENODEV);
	nvr_ctrl_close(ctrl);
	FUZZ_ASSERT(d.nr_maps == 0);
	return 0;
}
