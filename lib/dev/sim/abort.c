// SPDX-License-Identifier: MIT
/*
 * Abort (NVMe 1.4, 5.1): Dword 10 names the SQ (bits 15:0) and the CID
 * (bits 31:16). This controller can abort a command whose completion it
 * still holds back (for its latency); one it has completed already, or never
 * fetched, is not aborted. Dword 0 bit 0 of Abort's completion: 0 when the
 * command was aborted, 1 when it was not. An aborted command completes once,
 * with Command Abort Requested. The race knobs of races.c break that.
 */
#include <nvme/types.h>

#include "internal.h"

uint16_t nvr_sim_abort(struct nvr_sim *s, const struct nvr_sqe *sqe, uint32_t *dw0)
{
	uint16_t sqid = sqe->cdw10 & 0xffff, cid = (uint16_t)(sqe->cdw10 >> 16);

	*dw0 = 1;	/* not aborted */
	if (!sqid || sqid > s->cfg.nr_io_queues)
		return 0;
	for (uint32_t i = 0; i < s->nr_pend; i++) {
		struct sim_pending *p = &s->pend[i];
		struct nvr_cqe cqe;

		if (p->cqe.sqid != sqid || p->cqe.cid != cid || (p->flags & SIM_POST_FABRICATED))
			continue;
		*dw0 = 0;
		if (sim_race(s, NVR_RACE_ABORT_SAYS_ABORTED))
			return 0;	/* the command goes on as if nothing was said */
		cqe = p->cqe;
		cqe.status = (uint16_t)(NVR_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_REQ) << 1);
		if (sim_race(s, NVR_RACE_ABORT_COMPLETES_TWICE)) {
			nvr_sim_complete(s, p->cqid, &cqe, 0);
			return 0;	/* and the held completion comes too */
		}
		/* Now, in its place: the heap keeps its order (0 is the least). */
		p->cqe.status = cqe.status;
		p->due_ns = 0;
		while (i && s->pend[(i - 1) / 2].due_ns > 0) {
			struct sim_pending t = s->pend[(i - 1) / 2];

			s->pend[(i - 1) / 2] = s->pend[i];
			s->pend[i] = t;
			i = (i - 1) / 2;
		}
		return 0;
	}
	return 0;
}
