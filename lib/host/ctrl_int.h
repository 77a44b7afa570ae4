/* SPDX-License-Identifier: MIT */
/* The controller's insides, shared by ctrl.c (bring-up, admin, reset) and
 * ctrl_queues.c (I/O queue pairs, shadow doorbells, coalescing). */
#ifndef NVR_HOST_CTRL_INT_H
#define NVR_HOST_CTRL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/dma.h>

#include "sched/shim.h"

#define ADMIN_DEPTH 64
#define ADMIN_TIMEOUT_MS 5000

struct nvr_sq;
struct nvr_cq;

struct nvr_ctrl {
	struct nvr_transport *t;
	uint64_t cap;
	uint32_t timeout_ms;	/* CAP.TO */
	uint32_t db_stride;
	bool enabled;
	struct nvr_mutex admin_lock;
	char why[256];		/* what went wrong at bring-up, for nvr_ctrl_open()'s @msg */
	uint16_t max_qid;	/* size of the tables below, minus one */
	struct nvr_sq **sqs;
	struct nvr_cq **cqs;
	struct nvr_dma_buf idbuf;
	struct nvr_ctrl_info info;
	/* Doorbell Buffer Config: shadow doorbells (page 0), EventIdx (page 1). */
	struct nvr_dma_buf dbbuf;
	bool dbbuf_on;
	struct nvr_dbbuf_policy dbbuf_policy;
	bool sq_overcommit;	/* I/O SQs refill by SQHD (nvr_ctrl_set_sq_overcommit()) */
};

/* The doorbell register of queue @qid (its CQ head when @cq). */
uint32_t nvr_ctrl_db_off(const struct nvr_ctrl *ctrl, uint16_t qid, bool cq);
/* Queue memory and state: Return: 0 or -errno. */
int nvr_ctrl_alloc_cq(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t depth, int vector,
		      struct nvr_cq **out);
int nvr_ctrl_alloc_sq(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t depth, struct nvr_cq *cq,
		      struct nvr_sq **out);
void nvr_ctrl_free_cq(struct nvr_cq *cq);
void nvr_ctrl_free_sq(struct nvr_sq *sq);

#endif
