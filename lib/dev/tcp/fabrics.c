// SPDX-License-Identifier: MIT
/*
 * An NVMe over Fabrics controller over NVMe/TCP: Connect (Fabrics 1.1, 3.3),
 * Property Get/Set (3.4, 3.5) in place of register MMIO, bring-up and
 * shutdown as NVMe 1.4, 7.6 describes them, and synchronous commands.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nvme/types.h>

#include <nvmerace/log.h>
#include "fabrics.h"

#define ADMIN_DEPTH 32u			/* Linux's NVME_AQ_DEPTH */
#define ADMIN_INLINE 8192u		/* Fabrics: the admin queue takes 8 KiB in capsule */
#define DEFAULT_TIMEOUT_MS 10000u
#define DEFAULT_IO_DEPTH 32u
#define FCTYPE_OFF 4			/* byte 4 of a Fabrics command: fctype */
#define PROP_SIZE_8 0x1			/* Property attribute: an 8-byte property */

static_assert(sizeof(struct nvmf_connect_data) == 1024, "Connect data is 1024 bytes");

struct tq {
	struct nvr_tcp_conn *conn;
	pthread_mutex_t lock;
	uint16_t next_cid;
	uint16_t depth;
};

struct nvr_tcp_ctrl {
	struct nvr_tcp_url url;
	char hostnqn[NVR_TCP_NQN_MAX + 1];
	struct nvr_tcp_ctrl_opts o;
	struct nvr_tcp_ctrl_info info;
	struct tq admin;
	struct tq *io;		/* [0] is qid 1 */
	bool enabled;
	char why[400];		/* why bring-up failed, for nvr_tcp_ctrl_connect()'s @msg */
};

/* Say why: kept for the caller of nvr_tcp_ctrl_connect(), and logged. */
static void __attribute__((format(printf, 2, 3))) why(struct nvr_tcp_ctrl *ctrl,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctrl->why, sizeof(ctrl->why), fmt, ap);
	va_end(ap);
	nvr_debug("%s", ctrl->why);
}

int nvr_tcp_url_parse(const char *url, struct nvr_tcp_url *u, char *why, size_t why_len)
{
	const char *p = url, *host, *host_end, *port = NULL, *port_end = NULL, *nqn;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(p, "tcp://", 6)) {
		snprintf(why, why_len, "'%s' is not a tcp://HOST[:PORT]/SUBSYSNQN URL", url);
		return -EINVAL;
	}
	p += 6;
	if (*p == '[') {
		host = ++p;
		host_end = strchr(p, ']');
		if (!host_end) {
			snprintf(why, why_len, "'%s': no ']' after the IPv6 address", url);
			return -EINVAL;
		}
		p = host_end + 1;
		if (*p && *p != ':' && *p != '/') {
			snprintf(why, why_len, "'%s': ':' or '/' expected after ']'", url);
			return -EINVAL;
		}
	} else {
		host = p;
		host_end = p + strcspn(p, ":/");
		p = host_end;
	}
	if (host_end == host) {
		snprintf(why, why_len, "'%s': no host", url);
		return -EINVAL;
	}
	if (*p == ':') {
		port = ++p;
		port_end = p + strcspn(p, "/");
		p = port_end;
	}
	nqn = *p == '/' ? p + 1 : p;
	if (!*nqn || *p != '/') {
		snprintf(why, why_len, "'%s': no subsystem NQN (tcp://HOST[:PORT]/SUBSYSNQN)", url);
		return -EINVAL;
	}
	n = (size_t)(host_end - host);
	if (n >= sizeof(u->host)) {
		snprintf(why, why_len, "'%s': the host is longer than %zu bytes", url,
			 sizeof(u->host) - 1);
		return -EINVAL;
	}
	memcpy(u->host, host, n);
	if (port) {
		unsigned long v = 0;
		const char *q;

		for (q = port; q < port_end && isdigit((unsigned char)*q) && v <= 65535; q++)
			v = v * 10 + (unsigned long)(*q - '0');
		if (q != port_end || port == port_end || v == 0 || v > 65535) {
			snprintf(why, why_len, "'%s': bad port '%.*s' (1 to 65535)", url,
				 (int)(port_end - port), port);
			return -EINVAL;
		}
		snprintf(u->port, sizeof(u->port), "%lu", v);
	} else {
		snprintf(u->port, sizeof(u->port), "%s", NVR_TCP_DEFAULT_PORT);
	}
	if (strlen(nqn) > NVR_TCP_NQN_MAX) {
		snprintf(why, why_len, "'%s': the NQN is longer than %d bytes", url,
			 NVR_TCP_NQN_MAX);
		return -EINVAL;
	}
	for (const char *q = nqn; *q; q++) {
		if (!isgraph((unsigned char)*q)) {
			snprintf(why, why_len, "'%s': the NQN has a blank or control character",
				 url);
			return -EINVAL;
		}
	}
	snprintf(u->subnqn, sizeof(u->subnqn), "%s", nqn);
	return 0;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void nvr_tcp_hostid(const char *nqn, uint8_t id[16])
{
	const char *u = strstr(nqn, ":uuid:");
	unsigned int i = 0;

	if (u) {
		for (u += 6; *u && i < 32; u++) {
			if (*u == '-')
				continue;
			if (!isxdigit((unsigned char)*u))
				break;
			int v = isdigit((unsigned char)*u) ? *u - '0' : tolower(*u) - 'a' + 10;

			id[i / 2] = (uint8_t)(id[i / 2] << 4 | v);
			i++;
		}
		if (i == 32)
			return;
	}
	for (i = 0; i < 4; i++) {
		uint32_t crc = nvr_tcp_crc32c(i, nqn, strlen(nqn));

		memcpy(id + 4 * i, &crc, sizeof(crc));
	}
}

static int tq_exec(struct tq *q, struct nvr_sqe *sqe, void *buf, uint32_t len,
		   enum nvr_tcp_dir dir, struct nvr_cqe *cqe, uint32_t timeout_ms)
{
	int ret;

	pthread_mutex_lock(&q->lock);
	sqe->cid = q->next_cid;
	q->next_cid = (uint16_t)((q->next_cid + 1) % q->depth);
	ret = nvr_tcp_conn_exec(q->conn, sqe, buf, len, dir, cqe, timeout_ms);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int tq_open(struct nvr_tcp_ctrl *ctrl, struct tq *q, uint16_t depth, uint32_t inline_max)
{
	struct nvr_tcp_conn_opts co = { .timeout_ms = ctrl->o.timeout_ms, .hdgst = ctrl->o.hdgst,
					.ddgst = ctrl->o.ddgst, .depth = depth,
					.inline_max = inline_max };
	int ret = nvr_tcp_conn_open(ctrl->url.host, ctrl->url.port, &co, &q->conn, ctrl->why,
				    sizeof(ctrl->why));

	if (ret)
		return ret;
	pthread_mutex_init(&q->lock, NULL);
	q->depth = depth;
	return 0;
}

static void tq_close(struct tq *q)
{
	if (!q->conn)
		return;
	nvr_tcp_conn_close(q->conn);
	pthread_mutex_destroy(&q->lock);
	q->conn = NULL;
}

int nvr_tcp_fabrics_connect(struct nvr_tcp_conn *c, const struct nvr_tcp_connect_args *a,
			    uint16_t *cntlid, char *msg, size_t len)
{
	struct nvmf_connect_data *data = calloc(1, sizeof(*data));
	struct nvr_sqe sqe = { .opcode = nvme_admin_fabrics, .nsid = nvme_fabrics_type_connect,
			       .cid = a->cid };
	struct nvr_cqe cqe;
	uint16_t st;
	int ret;

	if (!data)
		return -ENOMEM;
	memcpy(data->hostid, a->hostid, sizeof(data->hostid));
	data->cntlid = a->qid ? a->cntlid : 0xffff;
	memcpy(data->subsysnqn, a->subnqn, strnlen(a->subnqn, NVR_TCP_NQN_MAX));
	memcpy(data->hostnqn, a->hostnqn, strnlen(a->hostnqn, NVR_TCP_NQN_MAX));
	sqe.cdw10 = (uint32_t)a->qid << 16;		/* RECFMT 0, QID */
	sqe.cdw11 = (uint32_t)(a->depth - 1);		/* SQSIZE, 0-based; CATTR 0 */
	sqe.cdw12 = a->kato_ms;
	ret = nvr_tcp_conn_exec(c, &sqe, data, sizeof(*data), NVR_TCP_DIR_H2C, &cqe, a->timeout_ms);
	free(data);
	if (ret) {
		snprintf(msg, len, "%s", nvr_tcp_conn_why(c)[0] ? nvr_tcp_conn_why(c) :
			 strerror(-ret));
		return ret;
	}
	st = NVR_CQE_STATUS(cqe.status);
	if (st & 0x7ff) {
		/* SCT 1: 0x80 incompatible format, 0x81 busy, 0x82 bad parameters, 0x84 host. */
		snprintf(msg, len, "nvme-tcp: Connect of queue %u to '%s' refused: status %#x "
			 "(SCT %u SC %#x)", a->qid, a->subnqn, st, NVR_STATUS_SCT(st),
			 NVR_STATUS_SC(st));
		return -ECONNREFUSED;
	}
	if (cntlid)
		*cntlid = (uint16_t)cqe.dw0;
	return 0;
}

/* Connect @q as queue @qid (Fabrics 1.1, 3.3); the controller ID comes back in DW0. */
static int fabrics_connect(struct nvr_tcp_ctrl *ctrl, struct tq *q, uint16_t qid, uint32_t kato)
{
	struct nvr_tcp_connect_args a = { .qid = qid, .depth = q->depth, .cntlid = ctrl->info.cntlid,
					  .kato_ms = kato, .subnqn = ctrl->url.subnqn,
					  .hostnqn = ctrl->hostnqn, .timeout_ms = ctrl->o.timeout_ms };
	uint16_t cntlid;
	int ret;

	memcpy(a.hostid, ctrl->o.hostid, sizeof(a.hostid));
	pthread_mutex_lock(&q->lock);
	a.cid = q->next_cid;
	q->next_cid = (uint16_t)((q->next_cid + 1) % q->depth);
	ret = nvr_tcp_fabrics_connect(q->conn, &a, &cntlid, ctrl->why, sizeof(ctrl->why));
	pthread_mutex_unlock(&q->lock);
	if (ret)
		return ret;
	if (!qid)
		ctrl->info.cntlid = cntlid;
	return 0;
}

static int prop_status(int ret, const struct nvr_cqe *cqe, uint16_t *status)
{
	if (status)
		*status = ret ? 0xffff : NVR_CQE_STATUS(cqe->status);
	return ret;
}

int nvr_tcp_prop_get(struct nvr_tcp_ctrl *ctrl, uint32_t off, unsigned int size, uint64_t *val,
		     uint16_t *status)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_fabrics,
			       .nsid = nvme_fabrics_type_property_get };
	struct nvr_cqe cqe;
	int ret;

	sqe.cdw10 = size == 8 ? PROP_SIZE_8 : 0;
	sqe.cdw11 = off;
	ret = tq_exec(&ctrl->admin, &sqe, NULL, 0, NVR_TCP_DIR_NONE, &cqe, ctrl->o.timeout_ms);
	if (!ret)
		*val = size == 8 ? (uint64_t)cqe.dw1 << 32 | cqe.dw0 : cqe.dw0;
	return prop_status(ret, &cqe, status);
}

int nvr_tcp_prop_set(struct nvr_tcp_ctrl *ctrl, uint32_t off, unsigned int size, uint64_t val,
		     uint16_t *status)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_fabrics,
			       .nsid = nvme_fabrics_type_property_set };
	struct nvr_cqe cqe;
	int ret;

	sqe.cdw10 = size == 8 ? PROP_SIZE_8 : 0;
	sqe.cdw11 = off;
	sqe.cdw12 = (uint32_t)val;
	sqe.cdw13 = (uint32_t)(val >> 32);
	ret = tq_exec(&ctrl->admin, &sqe, NULL, 0, NVR_TCP_DIR_NONE, &cqe, ctrl->o.timeout_ms);
	return prop_status(ret, &cqe, status);
}

static int prop_get32(struct nvr_tcp_ctrl *ctrl, uint32_t off, uint32_t *val)
{
	uint64_t v = 0;
	uint16_t st;
	int ret = nvr_tcp_prop_get(ctrl, off, 4, &v, &st);

	if (!ret && st) {
		why(ctrl, "nvme-tcp: Property Get %#x failed: status %#x", off, st);
		ret = -EIO;
	}
	*val = (uint32_t)v;
	return ret;
}

static int prop_set32(struct nvr_tcp_ctrl *ctrl, uint32_t off, uint32_t val)
{
	uint16_t st;
	int ret = nvr_tcp_prop_set(ctrl, off, 4, val, &st);

	if (!ret && st) {
		why(ctrl, "nvme-tcp: Property Set %#x = %#x failed: status %#x", off, val, st);
		ret = -EIO;
	}
	return ret;
}

/* Wait until (CSTS & @mask) == @want within CAP.TO (500 ms units) or @min_ms. */
static int wait_csts(struct nvr_tcp_ctrl *ctrl, uint32_t mask, uint32_t want, uint32_t min_ms,
		     const char *what)
{
	uint64_t limit = NVR_TCP_MAX64((uint64_t)NVME_CAP_TO(ctrl->info.cap) * 500u, min_ms);
	uint64_t deadline = now_ms() + limit;
	uint32_t csts, pause = 1;

	for (;;) {
		int ret = prop_get32(ctrl, NVME_REG_CSTS, &csts);

		if (ret)
			return ret;
		if ((csts & mask) == want)
			return 0;
		if (NVME_CSTS_CFS(csts) && !(mask & ((uint32_t)NVME_CSTS_CFS_MASK
						     << NVME_CSTS_CFS_SHIFT))) {
			why(ctrl, "nvme-tcp: CSTS.CFS set while waiting for %s", what);
			return -ENODEV;
		}
		if (now_ms() >= deadline) {
			why(ctrl, "nvme-tcp: %s did not come within %llu ms (CSTS %#x)", what,
				(unsigned long long)limit, csts);
			return -ETIMEDOUT;
		}
		sleep_ms(pause);
		pause = pause < 16 ? pause * 2 : pause;
	}
}

static int enable(struct nvr_tcp_ctrl *ctrl)
{
	uint32_t cc = 1u << NVME_CC_EN_SHIFT | 6u << NVME_CC_IOSQES_SHIFT |
		      4u << NVME_CC_IOCQES_SHIFT;
	int ret = prop_set32(ctrl, NVME_REG_CC, cc);

	if (ret)
		return ret;
	ctrl->enabled = true;
	return wait_csts(ctrl, 1u << NVME_CSTS_RDY_SHIFT, 1u << NVME_CSTS_RDY_SHIFT, 0,
			 "CSTS.RDY after CC.EN");
}

int nvr_tcp_ctrl_disable(struct nvr_tcp_ctrl *ctrl)
{
	int ret = prop_set32(ctrl, NVME_REG_CC, 0);

	if (ret)
		return ret;
	ctrl->enabled = false;
	return wait_csts(ctrl, 1u << NVME_CSTS_RDY_SHIFT, 0, 0, "CSTS.RDY cleared after CC.EN 0");
}

int nvr_tcp_ctrl_shutdown(struct nvr_tcp_ctrl *ctrl, uint32_t timeout_ms)
{
	uint32_t cc;
	int ret = prop_get32(ctrl, NVME_REG_CC, &cc);

	if (ret)
		return ret;
	cc &= ~((uint32_t)NVME_CC_SHN_MASK << NVME_CC_SHN_SHIFT);
	cc |= (uint32_t)NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT;
	ret = prop_set32(ctrl, NVME_REG_CC, cc);
	if (ret)
		return ret;
	return wait_csts(ctrl, (uint32_t)NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT,
			 (uint32_t)NVME_CSTS_SHST_CMPLT << NVME_CSTS_SHST_SHIFT, timeout_ms,
			 "CSTS.SHST complete after CC.SHN");
}

int nvr_tcp_admin(struct nvr_tcp_ctrl *ctrl, struct nvr_sqe *sqe, void *buf, uint32_t len,
		  enum nvr_tcp_dir dir, struct nvr_cqe *cqe)
{
	return tq_exec(&ctrl->admin, sqe, buf, len, dir, cqe, ctrl->o.timeout_ms);
}

int nvr_tcp_io(struct nvr_tcp_ctrl *ctrl, uint16_t qid, struct nvr_sqe *sqe, void *buf,
	       uint32_t len, enum nvr_tcp_dir dir, struct nvr_cqe *cqe)
{
	if (!qid || qid > ctrl->info.nr_io_queues || !ctrl->io[qid - 1].conn)
		return -EINVAL;
	return tq_exec(&ctrl->io[qid - 1], sqe, buf, len, dir, cqe, ctrl->o.timeout_ms);
}

int nvr_tcp_keep_alive(struct nvr_tcp_ctrl *ctrl, uint16_t *status)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_keep_alive };
	struct nvr_cqe cqe;
	int ret = nvr_tcp_admin(ctrl, &sqe, NULL, 0, NVR_TCP_DIR_NONE, &cqe);

	return prop_status(ret, &cqe, status);
}

int nvr_tcp_disconnect(struct nvr_tcp_ctrl *ctrl, uint16_t qid, uint16_t *status)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_fabrics, .nsid = nvme_fabrics_type_disconnect };
	struct nvr_cqe cqe;
	struct tq *q;
	int ret;

	if (!qid || qid > ctrl->info.nr_io_queues || !ctrl->io[qid - 1].conn)
		return -EINVAL;
	q = &ctrl->io[qid - 1];
	ret = tq_exec(q, &sqe, NULL, 0, NVR_TCP_DIR_NONE, &cqe, ctrl->o.timeout_ms);
	tq_close(q);
	return prop_status(ret, &cqe, status);
}

static int identify_and_queues(struct nvr_tcp_ctrl *ctrl)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_identify, .cdw10 = NVME_IDENTIFY_CNS_CTRL };
	struct nvme_id_ctrl *id;
	struct nvr_cqe cqe;
	uint16_t want = ctrl->o.nr_io_queues, granted;
	int ret;

	ctrl->info.id_ctrl = calloc(1, sizeof(*id));
	if (!ctrl->info.id_ctrl)
		return -ENOMEM;
	id = (struct nvme_id_ctrl *)ctrl->info.id_ctrl;
	ret = nvr_tcp_admin(ctrl, &sqe, id, sizeof(*id), NVR_TCP_DIR_C2H, &cqe);
	if (ret)
		return ret;
	if (NVR_CQE_STATUS(cqe.status) & 0x7ff) {
		why(ctrl, "nvme-tcp: Identify Controller failed: status %#x",
			NVR_CQE_STATUS(cqe.status));
		return -EIO;
	}
	ctrl->info.ioccsz = id->ioccsz;
	ctrl->info.iorcsz = id->iorcsz;
	if (!want)
		return 0;

	sqe = (struct nvr_sqe){ .opcode = nvme_admin_set_features,
				.cdw10 = NVME_FEAT_FID_NUM_QUEUES,
				.cdw11 = (uint32_t)(want - 1) << 16 | (uint32_t)(want - 1) };
	ret = nvr_tcp_admin(ctrl, &sqe, NULL, 0, NVR_TCP_DIR_NONE, &cqe);
	if (ret)
		return ret;
	if (NVR_CQE_STATUS(cqe.status) & 0x7ff) {
		why(ctrl, "nvme-tcp: Number of Queues failed: status %#x",
			NVR_CQE_STATUS(cqe.status));
		return -EIO;
	}
	/* NSQA in 15:0, NCQA in 31:16, both 0-based. */
	granted = (uint16_t)NVR_TCP_MIN64((cqe.dw0 & 0xffff) + 1u, (cqe.dw0 >> 16) + 1u);
	ctrl->info.nr_io_queues = (uint16_t)NVR_TCP_MIN64(granted, want);
	return 0;
}

static int connect_io(struct nvr_tcp_ctrl *ctrl)
{
	uint16_t n = ctrl->info.nr_io_queues;
	/* IOCCSZ counts 16-byte units of the whole capsule, the 64-byte SQE included. */
	uint32_t inline_max = ctrl->info.ioccsz > 4 ? (ctrl->info.ioccsz - 4) * 16 : 0;

	if (!n)
		return 0;
	ctrl->io = calloc(n, sizeof(*ctrl->io));
	if (!ctrl->io)
		return -ENOMEM;
	for (uint16_t qid = 1; qid <= n; qid++) {
		struct tq *q = &ctrl->io[qid - 1];
		int ret = tq_open(ctrl, q, ctrl->o.io_depth, inline_max);

		if (!ret)
			ret = fabrics_connect(ctrl, q, qid, 0);
		if (ret)
			return ret;
	}
	return 0;
}

int nvr_tcp_ctrl_connect(const char *url, const char *hostnqn, uint32_t kato_ms,
			 const struct nvr_tcp_ctrl_opts *o, struct nvr_tcp_ctrl **out, char *msg,
			 size_t len)
{
	struct nvr_tcp_ctrl *ctrl;
	uint32_t vs;
	int ret;

	*out = NULL;
	ctrl = calloc(1, sizeof(*ctrl));
	if (!ctrl)
		return -ENOMEM;
	ret = nvr_tcp_url_parse(url, &ctrl->url, msg, len);
	if (ret) {
		free(ctrl);
		return ret;
	}
	if (!hostnqn || !*hostnqn || strlen(hostnqn) > NVR_TCP_NQN_MAX) {
		snprintf(msg, len, "the host NQN must have 1 to %d bytes", NVR_TCP_NQN_MAX);
		free(ctrl);
		return -EINVAL;
	}
	snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", hostnqn);
	if (o)
		ctrl->o = *o;
	if (!ctrl->o.timeout_ms)
		ctrl->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!ctrl->o.io_depth)
		ctrl->o.io_depth = DEFAULT_IO_DEPTH;
	if (!memcmp(ctrl->o.hostid, (uint8_t[16]){ 0 }, 16))
		nvr_tcp_hostid(ctrl->hostnqn, ctrl->o.hostid);
	ctrl->info.kato_ms = kato_ms;

	ret = tq_open(ctrl, &ctrl->admin, ADMIN_DEPTH, ADMIN_INLINE);
	if (!ret)
		ret = fabrics_connect(ctrl, &ctrl->admin, 0, kato_ms);
	if (!ret)
		ret = nvr_tcp_prop_get(ctrl, NVME_REG_CAP, 8, &ctrl->info.cap, NULL);
	if (!ret)
		ret = prop_get32(ctrl, NVME_REG_VS, &vs);
	if (!ret) {
		ctrl->info.vs = vs;
		ret = enable(ctrl);
	}
	if (!ret)
		ret = identify_and_queues(ctrl);
	if (!ret)
		ret = connect_io(ctrl);
	if (ret) {
		struct nvr_tcp_conn *c = ctrl->admin.conn;

		if (!ctrl->why[0] && c && nvr_tcp_conn_err(c))
			snprintf(ctrl->why, sizeof(ctrl->why), "%s", nvr_tcp_conn_why(c));
		for (uint16_t i = 0; !ctrl->why[0] && ctrl->io && i < ctrl->info.nr_io_queues; i++)
			if (ctrl->io[i].conn && nvr_tcp_conn_err(ctrl->io[i].conn))
				snprintf(ctrl->why, sizeof(ctrl->why), "%s",
					 nvr_tcp_conn_why(ctrl->io[i].conn));
		snprintf(msg, len, "%s", ctrl->why[0] ? ctrl->why : strerror(-ret));
		nvr_tcp_ctrl_close(ctrl);
		return ret;
	}
	*out = ctrl;
	return 0;
}

void nvr_tcp_ctrl_close(struct nvr_tcp_ctrl *ctrl)
{
	if (!ctrl)
		return;
	for (uint16_t i = 0; ctrl->io && i < ctrl->info.nr_io_queues; i++) {
		uint16_t st;

		if (ctrl->io[i].conn)
			nvr_tcp_disconnect(ctrl, (uint16_t)(i + 1), &st);
	}
	/*
	 * No shutdown after any error on the admin queue: a target that closed the
	 * connection (keep-alive expiry) or terminated it cannot take one, and one
	 * that stalled would hold close() for CAP.TO of timed-out Property Gets.
	 */
	if (ctrl->admin.conn && ctrl->enabled && !nvr_tcp_conn_err(ctrl->admin.conn))
		nvr_tcp_ctrl_shutdown(ctrl, 0);
	tq_close(&ctrl->admin);
	free(ctrl->io);
	free(ctrl->info.id_ctrl);
	free(ctrl);
}

const struct nvr_tcp_ctrl_info *nvr_tcp_ctrl_info(const struct nvr_tcp_ctrl *ctrl)
{
	return &ctrl->info;
}

struct nvr_tcp_conn *nvr_tcp_ctrl_conn(struct nvr_tcp_ctrl *ctrl, uint16_t qid)
{
	if (!qid)
		return ctrl->admin.conn;
	if (qid > ctrl->info.nr_io_queues || !ctrl->io)
		return NULL;
	return ctrl->io[qid - 1].conn;
}
