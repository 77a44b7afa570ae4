/* SPDX-License-Identifier: MIT */
/*
 * The controller, host side: bring-up, the admin queue, identify, I/O queue
 * creation and deletion, shutdown and disable. It talks to the device only
 * through its transport, so it is the same code for a real and a simulated
 * controller.
 */
#ifndef NVMERACE_CTRL_H
#define NVMERACE_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmerace/dma.h>
#include <nvmerace/policy.h>
#include <nvmerace/queue.h>
#include <nvmerace/wire.h>

struct nvr_ctrl;
struct nvr_transport;
struct nvr_dbbuf_policy;

/* What Identify said, decoded into plain strings and numbers. */
struct nvr_ctrl_info {
	char model[41];
	char serial[21];
	char firmware[9];
	uint16_t vid;
	uint16_t ssvid;
	uint32_t version;	/* VS register */
	uint32_t mqes;		/* CAP.MQES + 1: entries in the largest queue, up to 65536 */
	uint8_t dstrd;
	uint8_t cap_to;
	uint8_t mdts;
	uint32_t mdts_bytes;	/* 0: no limit */
	uint32_t nr_sq;		/* I/O SQs allocated by Set Features, 1..65535 */
	uint32_t nr_cq;
	uint32_t nn;
	uint16_t oacs;
	uint16_t kas;
	uint32_t nr_ns;		/* active namespaces found */
	struct {
		uint32_t nsid;
		uint64_t nsze;
		uint32_t lba_size;
	} ns[16];
};

/**
 * nvr_ctrl_open() - bring a controller up and identify it.
 * @t: its transport; the controller borrows it.
 * @nr_io_queues: I/O queue pairs to ask for (Set Features, Number of Queues).
 * @out: the controller.
 * @msg: filled with what went wrong when it fails (never left empty then);
 *       may be NULL.
 * @len: size of @msg.
 *
 * Disables the controller, sets up the admin queue, enables it and waits for
 * CSTS.RDY within CAP.TO, then Identify controller, namespaces, and Number of
 * Queues. Return: 0; -ETIMEDOUT when RDY never came; -EIO when CSTS.CFS was
 * set or an admin command failed; -EPROTO when the device answered with
 * nonsense; -ENODEV when its registers read all ones; -ENOMEM.
 */
int nvr_ctrl_open(struct nvr_transport *t, uint16_t nr_io_queues, struct nvr_ctrl **out,
		  char *msg, size_t len);

/**
 * nvr_ctrl_close() - disable the controller and free everything of it.
 * @ctrl: the controller, half-opened or not; NULL is allowed.
 *
 * Return: nothing; the transport, borrowed, is left to its owner.
 */
void nvr_ctrl_close(struct nvr_ctrl *ctrl);

/**
 * nvr_ctrl_info() - what Identify said.
 * @ctrl: the controller.
 *
 * Return: the decoded Identify data, valid until nvr_ctrl_close().
 */
const struct nvr_ctrl_info *nvr_ctrl_info(const struct nvr_ctrl *ctrl);

/**
 * nvr_ctrl_transport() - the transport the controller borrowed.
 * @ctrl: the controller.
 *
 * Return: the transport given to nvr_ctrl_open().
 */
struct nvr_transport *nvr_ctrl_transport(const struct nvr_ctrl *ctrl);

/**
 * nvr_ctrl_sq() - a submission queue by its ID.
 * @ctrl: the controller.
 * @qid: the queue ID; the admin SQ is 0.
 *
 * Return: the SQ, or NULL when no SQ with @qid exists now.
 */
struct nvr_sq *nvr_ctrl_sq(const struct nvr_ctrl *ctrl, uint16_t qid);

/**
 * nvr_ctrl_cq() - a completion queue by its ID.
 * @ctrl: the controller.
 * @qid: the queue ID; the admin CQ is 0.
 *
 * Return: the CQ, or NULL when no CQ with @qid exists now.
 */
struct nvr_cq *nvr_ctrl_cq(const struct nvr_ctrl *ctrl, uint16_t qid);

/**
 * nvr_ctrl_max_qid() - the largest queue ID this host side can use.
 * @ctrl: the controller.
 *
 * Return: the number of I/O queue pairs asked for at nvr_ctrl_open().
 */
uint16_t nvr_ctrl_max_qid(const struct nvr_ctrl *ctrl);

/**
 * nvr_ctrl_admin() - run one admin command and wait for it, polling.
 * @ctrl: the controller.
 * @sqe: the command (CID is chosen here).
 * @cqe: the completion, with its status as data.
 * @timeout_ms: how long to wait.
 *
 * Return: 0 when a completion arrived (whatever its status), -ETIMEDOUT,
 * -EIO when the controller reported a fatal status, -EBUSY.
 */
int nvr_ctrl_admin(struct nvr_ctrl *ctrl, struct nvr_sqe *sqe, struct nvr_cqe *cqe,
		   unsigned int timeout_ms);

/**
 * nvr_ctrl_set_sq_overcommit() - how I/O SQs created from now on reuse entries.
 * @ctrl: the controller.
 * @on: true: refill as the CQEs' SQ Head Pointer frees entries, with CIDs from
 *      a space of twice the depth, so that more commands can be in flight
 *      than the SQ has entries (QEMU 9529aa6bb4d1); false (the default): a
 *      CID stands for an SQ slot, at most depth - 1 commands in flight.
 *
 * Return: nothing.
 */
void nvr_ctrl_set_sq_overcommit(struct nvr_ctrl *ctrl, bool on);

/**
 * nvr_ctrl_create_qpair() - create an I/O CQ and an SQ that completes into it.
 * @ctrl: the controller.
 * @qid: the queue ID for both.
 * @depth: entries in each.
 * @vector: the CQ's MSI-X vector, or -1 for a polled CQ (IEN clear).
 * @status: the NVMe status of the failing command when the device refused (as data).
 *
 * Return: 0; -EINVAL for arguments out of range; -EREMOTEIO when the device
 * refused (see @status); or a transport error.
 */
int nvr_ctrl_create_qpair(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t depth, int vector,
			  uint16_t *status);

/* An admin command's completion, delivered by whoever reaps the admin CQ. */
struct nvr_admin_cb {
	void (*fn)(struct nvr_admin_cb *cb, const struct nvr_cqe *cqe);
};

/**
 * nvr_ctrl_admin_async() - submit an admin command and return at once.
 * @ctrl: the controller.
 * @sqe: the command; its CID is set here.
 * @cb: called, from nvr_ctrl_admin_poll() or from another admin command's
 *      wait, when the completion is reaped; must live until then.
 *
 * Return: the CID; -EBUSY when the admin SQ is full; -ENODEV once the admin
 * queue was freed (nvr_ctrl_admin_free()).
 */
int nvr_ctrl_admin_async(struct nvr_ctrl *ctrl, struct nvr_sqe *sqe, struct nvr_admin_cb *cb);

/**
 * nvr_ctrl_admin_poll() - reap the admin CQ, calling each command's callback.
 * @ctrl: the controller.
 *
 * Return: the number of completions taken.
 */
unsigned int nvr_ctrl_admin_poll(struct nvr_ctrl *ctrl);

/**
 * nvr_ctrl_admin_free() - tear down the admin queue: unmap its memory from
 * the device and free it, whatever the device is doing. Admin commands fail
 * with -ENODEV afterwards. A host that does this before the controller has
 * finished with the queue is what seed 001 is about: a completion the device
 * writes later is caught as DMA after teardown.
 * @ctrl: the controller.
 *
 * Return: nothing; the admin queue is gone.
 */
void nvr_ctrl_admin_free(struct nvr_ctrl *ctrl);

/**
 * nvr_ctrl_set_coalescing() - set Interrupt Coalescing (Set Features, FID 08h).
 * @ctrl: the controller.
 * @thr: the aggregation threshold, 0-based (0: one completion per interrupt).
 * @time: the aggregation time, in 100 microsecond units.
 * @status: the command's status (as data).
 *
 * Return: 0; -EREMOTEIO when the device refused it (see @status); or an
 * admin command's error.
 */
int nvr_ctrl_set_coalescing(struct nvr_ctrl *ctrl, uint8_t thr, uint8_t time, uint16_t *status);

/**
 * nvr_ctrl_dbbuf_enable() - turn on shadow doorbells (Doorbell Buffer Config).
 * @ctrl: the controller; best before I/O starts, queues created before and
 *        after are covered.
 * @policy: how the host orders its shadow store and EventIdx load, and which
 *          need-event formula it applies (lib/host/dbbuf.h).
 * @status: the command's status when the device refused it.
 *
 * Return: 0; -EOPNOTSUPP when Identify OACS does not offer it; -EREMOTEIO
 * with @status set; or an admin or allocation error.
 */
int nvr_ctrl_dbbuf_enable(struct nvr_ctrl *ctrl, const struct nvr_dbbuf_policy *policy,
			  uint16_t *status);

/**
 * nvr_ctrl_delete_qpair() - delete the I/O SQ and CQ with @qid.
 * Return: 0, -ENOENT, -EREMOTEIO (device refused; @status), or a transport error.
 */
int nvr_ctrl_delete_qpair(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t *status);
/* What nvr_ctrl_delete_qpair_keep() hands back. */
struct nvr_qpair_gone {
	nvr_cqe_fn fn;		/* in: completes the commands the deletion aborted */
	void *arg;
	/* in: called once they are, before the queues' memory goes (NULL: none) */
	void (*detach)(void *arg, struct nvr_sq *sq, struct nvr_cq *cq);
	struct nvr_dma_buf sq_mem, cq_mem;	/* out: the rings, still mapped */
	uint32_t left;		/* out: commands with no CQE once Delete SQ was done, completed
				 * by the host as aborted by the deletion */
};
/**
 * nvr_ctrl_delete_qpair_keep() - nvr_ctrl_delete_qpair(), keeping the rings.
 * @ctrl: the controller.
 * @qid: the queue pair.
 * @status: the failing command's status, when one failed.
 * @g: in: how to complete what the deletion aborted; out: the rings, handed
 *     over still mapped instead of freed (as far as each queue was deleted),
 *     and how many commands had no CQE once Delete I/O SQ was done: the
 *     deletion aborted them (NVMe 1.4, 5.6), the host completes them with
 *     "Command Aborted due to SQ Deletion" through @g->fn.
 *
 * Return: as nvr_ctrl_delete_qpair().
 */
int nvr_ctrl_delete_qpair_keep(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t *status,
			       struct nvr_qpair_gone *g);

/**
 * nvr_ctrl_shutdown() - normal shutdown (CC.SHN = 01b), wait for SHST complete.
 * Return: 0, or -ETIMEDOUT.
 */
int nvr_ctrl_shutdown(struct nvr_ctrl *ctrl, unsigned int timeout_ms);

/**
 * nvr_ctrl_disable() - clear CC.EN and wait for CSTS.RDY to clear.
 * Return: 0, or -ETIMEDOUT.
 */
int nvr_ctrl_disable(struct nvr_ctrl *ctrl);

/* What nvr_ctrl_reset() takes and hands back. */
struct nvr_reset_gone {
	/* in: completes the commands the reset cancelled (no CQE will come) */
	nvr_cqe_fn fn;
	void *arg;
	/* in: called for each I/O queue pair before its memory goes (NULL: none) */
	void (*detach)(void *arg, struct nvr_sq *sq, struct nvr_cq *cq);
	/* in: room for the CQ rings by queue ID (NULL: freed); out: handed over */
	struct nvr_dma_buf *cq_mem;
	uint16_t nr_cq_mem;
	struct nvr_dma_buf dbbuf;	/* out: the Doorbell Buffer Config pages */
	uint32_t cancelled;		/* out: commands the reset cancelled */
	/* in: CC.EN = 0 (NVR_RESET_DISABLE, also UNSET), a normal shutdown
	 * first (NVR_RESET_SHUTDOWN), or a Function Level Reset (NVR_RESET_FLR:
	 * -EOPNOTSUPP where the transport has none) */
	enum nvr_reset_how how;
};

/**
 * nvr_ctrl_reset() - reset the controller (CC.EN = 0, then 1; or as @g->how
 * says) and bring the admin queue up again; every I/O queue and shadow
 * doorbell is gone.
 * @ctrl: an open controller; nothing may submit meanwhile.
 * @g: once CSTS.RDY is 0, the commands still outstanding are completed as
 *     aborted (Command Abort Requested) through g->fn; the Doorbell Buffer
 *     Config pages and the CQ rings are handed over still mapped (a device
 *     that is not done with them may still write there).
 *
 * Return: 0, or -errno (-ETIMEDOUT when CSTS.RDY did not follow CC.EN).
 */
int nvr_ctrl_reset(struct nvr_ctrl *ctrl, struct nvr_reset_gone *g);

/**
 * nvr_ctrl_csts() - read the Controller Status register.
 * @ctrl: the controller.
 *
 * Return: CSTS as the device reports it now (all ones when it is gone).
 */
uint32_t nvr_ctrl_csts(struct nvr_ctrl *ctrl);

/**
 * nvr_status_str() - name an NVMe status.
 * @status: the Status Field of a CQE (without the phase tag).
 *
 * Return: a human-readable string from libnvme's table; never NULL.
 */
const char *nvr_status_str(uint16_t status);

/**
 * nvr_sqe_rw() - build a Read or Write command.
 * @sqe: the command, zeroed here; its PRPs are left for the caller.
 * @opcode: nvme_cmd_read or nvme_cmd_write.
 * @nsid: the namespace.
 * @slba: the first LBA.
 * @nlb: the number of logical blocks (1-based).
 *
 * Return: nothing.
 */
void nvr_sqe_rw(struct nvr_sqe *sqe, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb);

#endif
