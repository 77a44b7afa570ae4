/* SPDX-License-Identifier: MIT */
/*
 * A scripted NVMe device for the fuzz harnesses: a transport whose register
 * file is just enough for nvr_ctrl_open() (CSTS.RDY follows CC.EN at once,
 * CC.SHN completes at once) and whose admin queue is served synchronously,
 * inside the doorbell write, by a callback that decides what the device says.
 * The host code under test (lib/host/ctrl.c, lib/host/queue.c) is the real one; only
 * the device is made up, so that every byte it writes can come from the
 * fuzzer, and a run never waits on a thread or a clock.
 *
 * I/O queue doorbells are counted and otherwise ignored: a harness writes
 * the I/O CQEs itself.
 */
#ifndef NVR_FUZZ_FDEV_H
#define NVR_FUZZ_FDEV_H

#include <stddef.h>
#include <stdint.h>

#include <nvmerace/wire.h>

#include "dev/transport.h"

#define FDEV_MAX_MAPS 32

struct fdev;

/*
 * Answer one admin command: fill @cqe's DW0, DW1 and status (its phase tag is
 * set afterwards; CID, SQ ID and SQ head are the device's honest values) and
 * write any data through fdev_ptr(). Called inside the host's doorbell write.
 */
typedef void (*fdev_answer_fn)(struct fdev *d, const struct nvr_sqe *sqe, struct nvr_cqe *cqe,
			       void *arg);

struct fdev_map {
	uint64_t iova;
	uint8_t *vaddr;
	size_t len;
};

struct fdev {
	struct nvr_transport t;
	uint64_t cap;
	uint32_t vs;
	/* Bits ORed into every CSTS read but RDY, which follows CC.EN; all ones
	 * reads as all ones (a device that fell off the bus). */
	uint32_t csts_or;
	uint32_t cc, aqa;
	uint64_t asq, acq;
	uint16_t sq_head, cq_tail;
	uint8_t phase;
	struct fdev_map maps[FDEV_MAX_MAPS];
	unsigned int nr_maps;
	fdev_answer_fn answer;
	void *arg;
	uint64_t admin_cmds;
	uint64_t io_doorbells;
	uint64_t bad_doorbells;	/* admin SQ tails beyond the queue, or SQEs not mapped */
};

/* A device with @cap and @vs whose admin commands @fn answers. */
void fdev_init(struct fdev *d, uint64_t cap, uint32_t vs, fdev_answer_fn fn, void *arg);

/* The host memory behind [@iova, @iova + @len), or NULL when it is not all mapped. */
void *fdev_ptr(struct fdev *d, uint64_t iova, size_t len);

#endif
