/* SPDX-License-Identifier: MIT */
/*
 * The NVMe/TCP transport: the host driver's PCIe-shaped contract (registers,
 * queues in host memory, doorbells, vectors) carried over NVMe/TCP, so that
 * one host (lib/host, the ledger, the runner) drives both transports.
 *
 *  registers   CAP, VS, CC and CSTS are Property Get/Set on the admin
 *              connection; AQA, ASQ and ACQ stay here (Fabrics has none).
 *  SQ doorbell the SQEs between the last tail and the new one are taken from
 *              the host's SQ and sent as command capsules, their PRP data
 *              found through the mappings the host made (dma_map). Create
 *              I/O CQ/SQ and Delete I/O SQ/CQ are answered here: an I/O SQ
 *              is a connection, opened and Fabrics-Connected with the
 *              controller ID on Create, closed on Delete.
 *  completions one receiver thread writes each CapsuleResp into the host's CQ
 *              with the phase tag, SQ head = how far this side has taken the
 *              SQ, and writes the CQ's vector eventfd (interrupts enabled).
 *              The CID, status and DW0 are the target's.
 *  teardown    a completion whose CQ is gone or no longer mapped has nowhere
 *              to go: it is counted and kept for the run's ledger
 *              (dma_after_teardown, "a completion after teardown"). The
 *              host stops the admin connection's receive before it frees
 *              the admin queue (nvr_tcp_admin_rx()).
 *  fatal       the target closing the admin connection (keep-alive expiry:
 *              nvmet sets CSTS.CFS and ends the association), a termination
 *              request or a broken PDU: CSTS then reads with CFS set, CAP as
 *              all ones, and nvr_tcp_fatal() says what happened.
 *
 * What only exists on PCIe is not emulated: MSI-X table writes and masks,
 * shadow doorbells (Doorbell Buffer Config goes to the target, which says
 * whether it has them), reset. Rows that need them skip.
 */
#ifndef NVR_TCP_BRIDGE_H
#define NVR_TCP_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmerace/tcp.h>

struct nvr_transport;

/* Is @t the NVMe/TCP transport? */
bool nvr_transport_is_tcp(const struct nvr_transport *t);

/* One completion that came for a queue already torn down. */
struct nvr_tcp_late {
	uint16_t qid, cid;
	uint16_t status;
	uint8_t opcode;		/* of the command, as it was sent */
	uint64_t t_ns;		/* when (CLOCK_MONOTONIC) */
};

/**
 * nvr_tcp_late() - take the completions that came after their queue was torn down.
 * @out: up to @max, oldest first; those beyond are counted in the return value.
 * Return: how many came since the last call.
 */
unsigned int nvr_tcp_late(struct nvr_transport *t, struct nvr_tcp_late *out, unsigned int max);

/**
 * nvr_tcp_connect_kato() - the Keep Alive Timeout the admin queue's Connect carries.
 * @kato_ms: in ms, 0 for none (Linux nvmet rounds it up to whole seconds).
 *
 * Over Fabrics a controller's KATO comes with its admin queue's Connect
 * (cdw12). When @kato_ms differs from the current association's, or that
 * association has ended, a new one starts now: its connections closed, a new
 * admin connection, Connect with @kato_ms, a new controller ID. Call it with
 * the controller disabled and no I/O queue, before bring-up.
 * Return: 0, or -errno when no new association could be made (CSTS then
 * reads CFS and the transport's why() says why).
 */
int nvr_tcp_connect_kato(struct nvr_transport *t, uint32_t kato_ms);

/**
 * nvr_tcp_admin_rx() - stop (@on false) or restart receiving on the admin connection.
 *
 * A host tearing down stops its admin queue before it frees it (Linux:
 * nvme_tcp_stop_queue(), then the admin tag set goes): once this returns with
 * @on false, nothing reads the admin connection, so a command answered from
 * then on is taken only after the restart. A command still outstanding when
 * the host freed the admin queue is then answered into a queue that is gone
 * (nvr_tcp_late()), however fast the target answered. Property Get and Set
 * wait for the restart. No-op on other transports.
 */
void nvr_tcp_admin_rx(struct nvr_transport *t, bool on);

#endif
