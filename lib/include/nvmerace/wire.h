/* SPDX-License-Identifier: MIT */
/*
 * The NVMe wire formats nvmerace needs that libnvme 1.3 does not provide:
 * the 64-byte submission queue entry and the 16-byte completion queue entry
 * (NVMe 1.4, section 4.2 and 4.6). Register offsets and bit fields, identify
 * structures and status codes come from libnvme's <nvme/types.h>.
 */
#ifndef NVMERACE_WIRE_H
#define NVMERACE_WIRE_H

#include <assert.h>
#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nvmerace assumes a little-endian host: NVMe structures are little-endian"
#endif

struct nvr_sqe {
	uint8_t opcode;
	uint8_t flags;		/* FUSE bits 1:0, PSDT bits 7:6 (0: PRPs) */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
static_assert(sizeof(struct nvr_sqe) == 64, "an SQE is 64 bytes (NVMe 1.4, 4.2)");

struct nvr_cqe {
	uint32_t dw0;		/* command specific */
	uint32_t dw1;
	uint16_t sqhd;		/* SQ head pointer as the controller consumed it */
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* bit 0: phase tag; 15:1: status field */
};
static_assert(sizeof(struct nvr_cqe) == 16, "a CQE is 16 bytes (NVMe 1.4, 4.6)");

/* The status field of a CQE without its phase tag: SC 7:0, SCT 10:8, CRD 12:11, M 13, DNR 14. */
#define NVR_CQE_STATUS(cqe_status) ((uint16_t)((cqe_status) >> 1))
#define NVR_STATUS(sct, sc) ((uint16_t)(((sct) << 8) | (sc)))
#define NVR_STATUS_SC(st) ((st) & 0xff)
#define NVR_STATUS_SCT(st) (((st) >> 8) & 0x7)
#define NVR_STATUS_DNR 0x4000

/* Command Dword 10/11 fields of Create I/O CQ and SQ (NVMe 1.4, 5.3 and 5.4). */
#define NVR_QUEUE_PC 0x1	/* physically contiguous */
#define NVR_CQ_IEN 0x2		/* interrupts enabled */

#endif
