// SPDX-License-Identifier: MIT
/* NVM command set I/O on a RAM-backed namespace (NVMe 1.4, section 6). */
#include <errno.h>
#include <string.h>
#include <nvme/types.h>

#include "dev/sim/internal.h"

#define GENERIC(sc) NVR_STATUS(NVME_SCT_GENERIC, sc)

static uint16_t read_write(struct nvr_sim *s, const struct nvr_sqe *sqe, bool write)
{
	uint64_t slba = sqe->cdw10 | (uint64_t)sqe->cdw11 << 32;
	uint64_t nlb = (sqe->cdw12 & 0xffff) + 1ull;
	uint64_t len = nlb << s->lba_shift;
	uint64_t mdts_bytes = s->cfg.mdts ? (4096ull << s->cfg.mdts) : 0;
	int ret;

	if (slba >= s->ns_blocks || nlb > s->ns_blocks - slba)
		return GENERIC(NVME_SC_LBA_RANGE) | NVR_STATUS_DNR;
	if (mdts_bytes && len > mdts_bytes)
		return GENERIC(NVME_SC_INVALID_FIELD) | NVR_STATUS_DNR;
	/* PRP1 dword aligned; later entries page aligned (NVMe 1.4, 4.3). */
	if (sqe->prp1 & 3)
		return GENERIC(NVME_SC_PRP_INVALID_OFFSET) | NVR_STATUS_DNR;
	ret = nvr_sim_dma_copy(s, sqe->prp1, sqe->prp2, s->ns + (slba << s->lba_shift), len, !write);
	if (ret == -EINVAL)
		return GENERIC(NVME_SC_PRP_INVALID_OFFSET) | NVR_STATUS_DNR;
	if (ret)
		return GENERIC(NVME_SC_DATA_XFER_ERROR);
	return GENERIC(NVME_SC_SUCCESS);
}

uint16_t nvr_sim_nvm(struct nvr_sim *s, const struct nvr_sqe *sqe, uint32_t *dw0)
{
	(void)dw0;
	if (sqe->nsid != 1)
		return GENERIC(NVME_SC_INVALID_NS) | NVR_STATUS_DNR;
	switch (sqe->opcode) {
	case nvme_cmd_flush:
		return GENERIC(NVME_SC_SUCCESS);	/* RAM is always durable enough */
	case nvme_cmd_read:
		return read_write(s, sqe, false);
	case nvme_cmd_write:
		return read_write(s, sqe, true);
	default:
		return GENERIC(NVME_SC_INVALID_OPCODE) | NVR_STATUS_DNR;
	}
}
