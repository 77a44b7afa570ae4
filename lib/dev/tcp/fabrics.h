/* SPDX-License-Identifier: MIT */
/*
 * An NVMe over Fabrics controller reached over NVMe/TCP: the Fabrics commands
 * (Connect, Property Get/Set, Disconnect; NVMe over Fabrics 1.1, chapter 3),
 * controller bring-up and shutdown through properties, Identify, Number of
 * Queues and Keep Alive, and synchronous admin and I/O commands. One TCP
 * connection per queue (conn.h).
 *
 * Not yet wired into lib/ctrl or the runner: this is the transport's own
 * layer, with its own tests (tests/check_tcp*.c).
 */
#ifndef NVR_TCP_FABRICS_H
#define NVR_TCP_FABRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#define NVR_TCP_DEFAULT_PORT "4420"
/* An NQN is at most 223 bytes (NVMe 1.4, 7.9). */
#define NVR_TCP_NQN_MAX 223

struct nvr_tcp_ctrl;

/* tcp://HOST[:PORT]/SUBSYSNQN, HOST a name, an IPv4 address or [an IPv6 address]. */
struct nvr_tcp_url {
	char host[256];
	char port[6];
	char subnqn[NVR_TCP_NQN_MAX + 1];
};

/**
 * nvr_tcp_url_parse() - split a target URL.
 * @why: on error, a sentence saying what is wrong; @why_len bytes.
 * Return: 0, or -EINVAL with @why filled.
 */
int nvr_tcp_url_parse(const char *url, struct nvr_tcp_url *u, char *why, size_t why_len);

struct nvr_tcp_ctrl_opts {
	uint16_t nr_io_queues;	/* I/O queues to connect; 0: none */
	uint16_t io_depth;	/* entries per I/O queue; 0: 32 */
	uint32_t timeout_ms;	/* each command and socket wait; 0: 10000 */
	bool hdgst, ddgst;	/* ask for digests */
	uint8_t hostid[16];	/* all zero: derived from the host NQN */
};

/**
 * nvr_tcp_ctrl_connect() - connect to a controller and bring it up.
 * @url: tcp://HOST[:PORT]/SUBSYSNQN.
 * @hostnqn: this host's NQN.
 * @kato_ms: Keep Alive Timeout for Connect, in ms (0: none; nvmet rounds up to seconds).
 * @o: options, or NULL.
 * @out: the controller.
 * @msg: filled with why it failed (never left empty then); @len bytes.
 *
 * Connects the admin queue (controller ID 0xFFFF: dynamic), reads CAP and VS,
 * enables the controller (CC.EN with IOSQES 6 and IOCQES 4) and waits for
 * CSTS.RDY within CAP.TO, reads Identify Controller, asks for the I/O queues
 * with Number of Queues and connects each with the controller ID.
 * Return: 0; -EINVAL (bad URL or NQN), -ECONNREFUSED (Connect refused: the
 * status is in @msg), -ETIMEDOUT (CSTS.RDY never came, or no answer),
 * -ENODEV (CSTS.CFS), or a connection error (conn.h).
 */
int nvr_tcp_ctrl_connect(const char *url, const char *hostnqn, uint32_t kato_ms,
			 const struct nvr_tcp_ctrl_opts *o, struct nvr_tcp_ctrl **out, char *msg,
			 size_t len);

/* The Host Identifier: the UUID of a uuid-style host NQN, else bytes hashed from the NQN. */
void nvr_tcp_hostid(const char *hostnqn, uint8_t id[16]);

struct nvr_tcp_connect_args {
	uint16_t qid;		/* 0: the admin queue, controller ID 0xFFFF (dynamic) */
	uint16_t depth;		/* entries: SQSIZE is depth - 1 */
	uint16_t cntlid;	/* for an I/O queue: the admin queue's controller */
	uint16_t cid;		/* the Connect command's CID */
	uint32_t kato_ms;	/* for the admin queue */
	uint32_t timeout_ms;
	const char *subnqn, *hostnqn;
	uint8_t hostid[16];
};

/**
 * nvr_tcp_fabrics_connect() - the Fabrics Connect command (Fabrics 1.1, 3.3)
 * on a fresh connection with nothing outstanding.
 * @cntlid: the controller ID from DW0.
 * @msg: why it failed; @len bytes.
 * Return: 0; -ECONNREFUSED (a status, in @msg), or the connection's -errno.
 */
int nvr_tcp_fabrics_connect(struct nvr_tcp_conn *c, const struct nvr_tcp_connect_args *a,
			    uint16_t *cntlid, char *msg, size_t len);

/**
 * nvr_tcp_ctrl_close() - Disconnect the I/O queues (where the target supports
 * it), shut the controller down with CC.SHN unless the admin queue saw an
 * error (closed, terminated, timed out), close every connection and free.
 * NULL is fine.
 */
void nvr_tcp_ctrl_close(struct nvr_tcp_ctrl *ctrl);

/**
 * nvr_tcp_admin() - run one admin command and wait for its completion.
 * @sqe: the command; the CID is chosen here.
 * @buf, @len, @dir: its data.
 * @cqe: the completion; its status is data, not the return value.
 * Return: 0 when a completion came, or the connection's -errno.
 */
int nvr_tcp_admin(struct nvr_tcp_ctrl *ctrl, struct nvr_sqe *sqe, void *buf, uint32_t len,
		  enum nvr_tcp_dir dir, struct nvr_cqe *cqe);

/* The same on I/O queue @qid (1 .. nr_io_queues). -EINVAL for another qid. */
int nvr_tcp_io(struct nvr_tcp_ctrl *ctrl, uint16_t qid, struct nvr_sqe *sqe, void *buf,
	       uint32_t len, enum nvr_tcp_dir dir, struct nvr_cqe *cqe);

/**
 * nvr_tcp_prop_get() / nvr_tcp_prop_set() - Property Get/Set (Fabrics 1.1, 3.4, 3.5).
 * @off: the register's offset (CAP 0x0, VS 0x8, CC 0x14, CSTS 0x1c).
 * @size: 4 or 8.
 * @status: the completion's status field (0 on success).
 * Return: 0 when a completion came, or the connection's -errno.
 */
int nvr_tcp_prop_get(struct nvr_tcp_ctrl *ctrl, uint32_t off, unsigned int size, uint64_t *val,
		     uint16_t *status);
int nvr_tcp_prop_set(struct nvr_tcp_ctrl *ctrl, uint32_t off, unsigned int size, uint64_t val,
		     uint16_t *status);

/* Keep Alive (NVMe 1.4, 5.16). Return: as nvr_tcp_admin(); *@status the status. */
int nvr_tcp_keep_alive(struct nvr_tcp_ctrl *ctrl, uint16_t *status);

/**
 * nvr_tcp_ctrl_shutdown() - CC.SHN normal, then wait for CSTS.SHST complete
 * within CAP.TO (or @timeout_ms when larger).
 * Return: 0, -ETIMEDOUT, or the connection's -errno.
 */
int nvr_tcp_ctrl_shutdown(struct nvr_tcp_ctrl *ctrl, uint32_t timeout_ms);

/* CC.EN = 0, then wait for CSTS.RDY = 0. Return: 0, -ETIMEDOUT, or -errno. */
int nvr_tcp_ctrl_disable(struct nvr_tcp_ctrl *ctrl);

/**
 * nvr_tcp_disconnect() - the Fabrics Disconnect command on I/O queue @qid
 * (Fabrics 1.1, 3.2; not every target has it: Linux nvmet 6.1 answers
 * Invalid Opcode). The queue's connection is closed afterwards either way.
 * Return: 0 when a completion came (*@status says whether it was accepted).
 */
int nvr_tcp_disconnect(struct nvr_tcp_ctrl *ctrl, uint16_t qid, uint16_t *status);

struct nvr_tcp_ctrl_info {
	uint16_t cntlid;	/* from Connect's DW0 */
	uint64_t cap;
	uint32_t vs;
	uint16_t nr_io_queues;	/* connected */
	uint32_t kato_ms;	/* what Connect asked for */
	uint32_t ioccsz, iorcsz; /* Identify, in 16-byte units */
	uint8_t *id_ctrl;	/* the 4096-byte Identify Controller data */
};

const struct nvr_tcp_ctrl_info *nvr_tcp_ctrl_info(const struct nvr_tcp_ctrl *ctrl);

/* Queue @qid's connection (0: admin), for its error, FES and statistics; NULL if none. */
struct nvr_tcp_conn *nvr_tcp_ctrl_conn(struct nvr_tcp_ctrl *ctrl, uint16_t qid);

#endif
