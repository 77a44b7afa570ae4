/* SPDX-License-Identifier: MIT */
/*
 * One NVMe/TCP connection: one queue (admin or I/O) of one host. It connects,
 * exchanges ICReq/ICResp, sends command capsules (with in-capsule data, or
 * answering the controller's R2Ts with H2CData), and receives responses and
 * C2HData. Every socket wait is bounded (poll); a PDU arriving in pieces is
 * reassembled across calls; the peer closing the connection, a termination
 * request and a malformed PDU are each reported as such.
 *
 * A connection is not thread safe: one caller at a time (the queue above it
 * serialises submit and receive, like a PCIe queue's SQ and CQ locks).
 */
#ifndef NVR_TCP_CONN_H
#define NVR_TCP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pdu.h"

struct nvr_tcp_conn;

struct nvr_tcp_conn_opts {
	uint32_t timeout_ms;	/* connect, ICResp, each send; 0: 10000 */
	bool hdgst, ddgst;	/* ask for header / data digests (off by default) */
	uint16_t depth;		/* CIDs this queue uses: 0 .. depth-1; 0: 32 */
	uint32_t inline_max;	/* in-capsule data limit for writes; 0: none */
	uint32_t max_data;	/* largest data part accepted in one PDU; 0: 1 MiB */
};

/* Which way a command's data goes. */
enum nvr_tcp_dir {
	NVR_TCP_DIR_NONE,
	NVR_TCP_DIR_H2C,	/* host to controller: a write, Connect, Property Set */
	NVR_TCP_DIR_C2H,	/* controller to host: a read, Identify */
};

struct nvr_tcp_conn_stats {
	uint64_t pdus_rx, pdus_tx;
	uint64_t bytes_rx, bytes_tx;
	uint64_t r2t, h2c_data, c2h_data;
	uint64_t resp_unknown_cid;	/* CapsuleResp for a CID not outstanding */
	uint64_t stray;			/* completions nvr_tcp_conn_exec() dropped */
};

/**
 * nvr_tcp_conn_open() - connect to @host:@port and initialise the connection.
 * @host: a numeric IPv4/IPv6 address or a name.
 * @port: the service, e.g. "4420".
 * @o: options; NULL for the defaults.
 * @out: the connection.
 * @msg: filled with why it failed (never left empty then); @len bytes.
 *
 * Return: 0; -ETIMEDOUT (no connection or no ICResp in time), -ECONNREFUSED,
 * -ECONNRESET (closed by the peer), -EPROTO (a bad ICResp), -ENOMEM, or
 * another -errno.
 */
int nvr_tcp_conn_open(const char *host, const char *port, const struct nvr_tcp_conn_opts *o,
		      struct nvr_tcp_conn **out, char *msg, size_t len);

/* Close the socket and free everything; NULL is fine. */
void nvr_tcp_conn_close(struct nvr_tcp_conn *c);

/**
 * nvr_tcp_conn_submit() - send one command capsule.
 * @sqe: the command; its CID must be below the depth and not outstanding.
 *       The data pointer is overwritten with the transport's SGL descriptor.
 * @buf: the data buffer (kept until the command completes), or NULL.
 * @len: its length.
 * @dir: which way the data goes.
 *
 * Writes of at most inline_max bytes go in the capsule; longer ones wait for
 * the controller's R2T, which nvr_tcp_conn_recv() answers.
 * Return: 0; -EINVAL (CID out of range), -EBUSY (CID outstanding), or the
 * connection's error (see nvr_tcp_conn_recv()).
 */
int nvr_tcp_conn_submit(struct nvr_tcp_conn *c, struct nvr_sqe *sqe, void *buf, uint32_t len,
			enum nvr_tcp_dir dir);

/**
 * nvr_tcp_conn_recv() - receive until one completion arrives.
 * @cqe: the completion: a CapsuleResp, or one made from a C2HData with
 *       DATA_SUCCESS (status 0, SQ head 0).
 * @timeout_ms: how long to wait for it.
 *
 * R2Ts met on the way are answered with H2CData; C2HData lands in the
 * command's buffer. A CapsuleResp for a CID that is not outstanding is still
 * returned (the host decides what it means) and counted.
 * Return: 0; -ETIMEDOUT (nothing complete in time; a partly received PDU is
 * kept for the next call), -ECONNRESET (the peer closed the connection),
 * -ECONNABORTED (a C2HTermReq: see nvr_tcp_conn_fes()), -EPROTO (a PDU that
 * breaks the protocol; an H2CTermReq was sent), -EIO. After any error but
 * -ETIMEDOUT the connection is dead and returns the same error again.
 */
int nvr_tcp_conn_recv(struct nvr_tcp_conn *c, struct nvr_cqe *cqe, uint32_t timeout_ms);

/**
 * nvr_tcp_conn_exec() - submit one command and wait for its completion.
 *
 * For a connection with nothing else outstanding: completions for other CIDs
 * are dropped and counted as stray.
 * Return: as nvr_tcp_conn_submit() and nvr_tcp_conn_recv().
 */
int nvr_tcp_conn_exec(struct nvr_tcp_conn *c, struct nvr_sqe *sqe, void *buf, uint32_t len,
		      enum nvr_tcp_dir dir, struct nvr_cqe *cqe, uint32_t timeout_ms);

/* Forget an outstanding command (its timeout expired); its buffer is no longer touched. */
void nvr_tcp_conn_abandon(struct nvr_tcp_conn *c, uint16_t cid);

/* The socket, to wait on with poll() beside other queues. */
int nvr_tcp_conn_fd(const struct nvr_tcp_conn *c);

/* What ICResp granted. */
const struct nvr_tcp_params *nvr_tcp_conn_params(const struct nvr_tcp_conn *c);

/* The last error's class, and a sentence with its details ("" when none). */
enum nvr_tcp_err nvr_tcp_conn_err(const struct nvr_tcp_conn *c);
const char *nvr_tcp_conn_why(const struct nvr_tcp_conn *c);

/* The Fatal Error Status of the peer's termination request; 0 when none came. */
uint16_t nvr_tcp_conn_fes(const struct nvr_tcp_conn *c);

void nvr_tcp_conn_get_stats(const struct nvr_tcp_conn *c, struct nvr_tcp_conn_stats *st);

/* Set the in-capsule limit for writes once it is known (IOCCSZ for I/O queues). */
void nvr_tcp_conn_set_inline(struct nvr_tcp_conn *c, uint32_t inline_max);

#endif
