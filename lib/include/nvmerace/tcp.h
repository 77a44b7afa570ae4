/* SPDX-License-Identifier: MIT */
/*
 * An NVMe over Fabrics controller reached over NVMe/TCP, as a transport for
 * nvr_ctrl_open() and a run: tcp://HOST[:PORT]/SUBSYSNQN.
 */
#ifndef NVMERACE_TCP_H
#define NVMERACE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nvr_transport;

struct nvr_tcp_opts {
	const char *hostnqn;	/* this host's NQN (required) */
	uint32_t kato_ms;	/* Keep Alive Timeout in the admin Connect; 0: none */
	uint32_t timeout_ms;	/* connect, ICResp, Connect, Property Get/Set; 0: 10000 */
	bool hdgst, ddgst;	/* ask for header / data digests */
};

/**
 * nvr_tcp_open() - connect the admin queue of an NVMe/TCP controller.
 * @url: tcp://HOST[:PORT]/SUBSYSNQN (port 4420 by default).
 * @o: options; o->hostnqn is required.
 * @out: the transport; the controller is not enabled yet (nvr_ctrl_open() does it).
 * @msg: filled with why it failed (never left empty then).
 * @len: room in @msg.
 *
 * Opens one TCP connection, exchanges ICReq/ICResp and sends Fabrics Connect
 * for the admin queue (dynamic controller ID). I/O queues get their own
 * connections when the host creates them.
 * Return: 0; -EINVAL (bad URL or NQN), -ECONNREFUSED (no listener, or the
 * target refused Connect), -ETIMEDOUT, -EPROTO (the target broke the
 * protocol), -ECONNRESET, -ECONNABORTED, -ENOMEM.
 */
int nvr_tcp_open(const char *url, const struct nvr_tcp_opts *o, struct nvr_transport **out,
		 char *msg, size_t len);

/**
 * nvr_tcp_fatal() - why an NVMe/TCP controller is gone, if it is.
 * @t: a transport; any kind.
 *
 * Return: a sentence ("the target closed the admin connection ..."), or NULL
 * while the admin connection is fine or @t is not NVMe/TCP.
 */
const char *nvr_tcp_fatal(struct nvr_transport *t);

/**
 * nvr_tcp_target() - the URL an NVMe/TCP transport was opened with.
 * @t: a transport; any kind.
 *
 * Return: the URL, or NULL when @t is not NVMe/TCP.
 */
const char *nvr_tcp_target(const struct nvr_transport *t);

#endif
