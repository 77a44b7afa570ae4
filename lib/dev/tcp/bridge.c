// SPDX-License-Identifier: MIT
/*
 * The NVMe/TCP transport (bridge.h): the host's registers, SQs, CQs and
 * vectors carried over one NVMe/TCP connection per queue.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <nvme/types.h>

#include <nvmerace/log.h>

#include "dev/tcp/bridge_int.h"

/* Property Get (@set false) or Set on the admin connection (Fabrics 1.1, 3.4, 3.5). */
static int prop(struct tcpt *tt, bool set, uint32_t off, unsigned int size, uint64_t *val)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_fabrics,
			       .nsid = set ? nvme_fabrics_type_property_set :
					     nvme_fabrics_type_property_get };
	struct bsq *q = &tt->sq[0];
	struct timespec dl;
	int ret = 0;

	if (atomic_load(&tt->fatal))
		return atomic_load(&tt->fatal);
	sqe.cdw10 = size == 8 ? 1 : 0;
	sqe.cdw11 = off;
	sqe.cdw12 = (uint32_t)*val;
	sqe.cdw13 = (uint32_t)(*val >> 32);
	pthread_mutex_lock(&tt->prop_lock);
	pthread_mutex_lock(&tt->prop_mx);
	tt->prop_seq++;
	tt->prop_cid = (uint16_t)(PROP_CID0 + tt->prop_seq % PROP_CIDS);
	tt->prop_done = false;
	sqe.cid = tt->prop_cid;
	pthread_mutex_unlock(&tt->prop_mx);

	pthread_mutex_lock(&q->lock);
	if (q->conn)
		ret = nvr_tcp_conn_submit(q->conn, &sqe, NULL, 0, NVR_TCP_DIR_NONE);
	else
		ret = -ENOTCONN;
	if (ret && ret != -ENOTCONN)
		nvr_tcpb_fatal(tt, ret, nvr_tcp_conn_why(q->conn));
	pthread_mutex_unlock(&q->lock);
	if (ret)
		goto out;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += tt->timeout_ms / 1000;
	dl.tv_nsec += (long)(tt->timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&tt->prop_mx);
	while (!tt->prop_done && !atomic_load(&tt->fatal) && !ret)
		ret = -pthread_cond_timedwait(&tt->prop_cond, &tt->prop_mx, &dl);
	if (tt->prop_done) {
		ret = NVR_CQE_STATUS(tt->prop_cqe.status) & 0x7ff ? -EIO : 0;
		*val = (uint64_t)tt->prop_cqe.dw1 << 32 | tt->prop_cqe.dw0;
	} else if (atomic_load(&tt->fatal)) {
		ret = atomic_load(&tt->fatal);
	}
	tt->prop_done = true;	/* a late answer is dropped */
	pthread_mutex_unlock(&tt->prop_mx);
	if (ret == -ETIMEDOUT) {
		pthread_mutex_lock(&q->lock);
		if (q->conn)
			nvr_tcp_conn_abandon(q->conn, sqe.cid);
		pthread_mutex_unlock(&q->lock);
		snprintf(tt->last_why, sizeof(tt->last_why),
			 "nvme-tcp: Property %s %#x: no answer within %u ms", set ? "Set" : "Get",
			 off, tt->timeout_ms);
		nvr_debug("%s", tt->last_why);	/* nvr_ctrl_open() tells (why op) */
	}
out:
	pthread_mutex_unlock(&tt->prop_lock);
	return ret;
}

static int open_admin(struct tcpt *tt, const struct nvr_tcp_opts *o, char *msg, size_t len)
{
	struct nvr_tcp_conn_opts co = { .timeout_ms = tt->timeout_ms, .hdgst = o->hdgst,
					.ddgst = o->ddgst, .depth = ADMIN_CIDS,
					.inline_max = ADMIN_INLINE };
	struct nvr_tcp_connect_args a = { .qid = 0, .depth = ADMIN_SQSIZE, .kato_ms = o->kato_ms,
					  .subnqn = tt->url.subnqn, .hostnqn = tt->hostnqn,
					  .timeout_ms = tt->timeout_ms, .cid = 0 };
	struct bsq *q = &tt->sq[0];
	int ret;

	memcpy(a.hostid, tt->hostid, sizeof(a.hostid));
	ret = nvr_tcp_conn_open(tt->url.host, tt->url.port, &co, &q->conn, msg, len);
	if (ret)
		return ret;
	ret = nvr_tcp_fabrics_connect(q->conn, &a, &tt->cntlid, msg, len);
	if (ret)
		return ret;
	q->cmds = calloc(ADMIN_CIDS, sizeof(*q->cmds));
	if (!q->cmds)
		return -ENOMEM;
	q->ncids = ADMIN_CIDS;
	q->limit = ADMIN_LIMIT;
	q->qid = 0;
	q->cqid = 0;
	nvr_debug("nvme-tcp: %s: admin queue connected, controller ID %u, KATO %u ms",
		  tt->urlstr, tt->cntlid, o->kato_ms);
	return 0;
}

/*
 * The controller is gone (the target ended the association) and the host
 * resets it (CC.EN to 0): as a Fabrics host does, start a new association,
 * a new admin connection with a new controller ID. The I/O connections of the
 * old one are closed; the host creates its queues again after bring-up.
 */
static int reconnect(struct tcpt *tt)
{
	struct nvr_tcp_opts o = { .kato_ms = tt->kato_ms, .hdgst = tt->hdgst, .ddgst = tt->ddgst };
	char msg[400];
	int ret;

	for (unsigned int q = 1; q <= MAX_QID; q++) {
		pthread_mutex_lock(&tt->sq[q].lock);
		nvr_tcpb_close_queue(tt, &tt->sq[q], false);
		pthread_mutex_unlock(&tt->sq[q].lock);
	}
	pthread_mutex_lock(&tt->sq[0].lock);
	nvr_tcpb_close_queue(tt, &tt->sq[0], false);
	ret = open_admin(tt, &o, msg, sizeof(msg));
	if (ret)
		nvr_tcpb_close_queue(tt, &tt->sq[0], false);
	atomic_store(&tt->admin_rx_off, false);
	pthread_mutex_unlock(&tt->sq[0].lock);
	if (ret) {
		nvr_warn("nvme-tcp: %s: no new association: %s", tt->urlstr, msg);
		nvr_tcpb_fatal(tt, ret, msg);
		return ret;
	}
	tt->last_why[0] = '\0';
	tt->cc = 0;	/* a new controller: disabled */
	atomic_store(&tt->fatal, 0);
	atomic_store(&tt->fatal_claim, false);
	nvr_info("nvme-tcp: %s: a new association, controller ID %u, KATO %u ms", tt->urlstr,
		 tt->cntlid, tt->kato_ms);
	return 0;
}

static uint64_t get(struct tcpt *tt, uint32_t off, unsigned int size)
{
	uint64_t v = 0;
	int ret = prop(tt, false, off, size, &v);

	if (!ret)
		return v;
	if (off == NVME_REG_CSTS && atomic_load(&tt->fatal))
		/* The association is gone: nvmet set CFS before it closed the
		 * connection; no controller is ready for this host any more. */
		return (uint32_t)NVME_CSTS_CFS_MASK << NVME_CSTS_CFS_SHIFT;
	return size == 8 ? ~0ull : 0xffffffffu;
}

static uint32_t tcp_read32(struct nvr_transport *t, uint32_t off)
{
	struct tcpt *tt = to_tcpt(t);

	switch (off) {
	case NVME_REG_CAP:
	case NVME_REG_VS:
	case NVME_REG_CC:
	case NVME_REG_CSTS:
		return (uint32_t)get(tt, off, 4);
	case NVME_REG_CAP + 4:
		return (uint32_t)(get(tt, NVME_REG_CAP, 8) >> 32);
	case NVME_REG_AQA:
		return tt->aqa;
	}
	return 0;
}

static uint64_t tcp_read64(struct nvr_transport *t, uint32_t off)
{
	struct tcpt *tt = to_tcpt(t);
	uint64_t v;

	switch (off) {
	case NVME_REG_CAP:
		v = get(tt, off, 8);
		if (v != ~0ull)
			tt->stride = 4u << NVME_CAP_DSTRD(v);
		return v;
	case NVME_REG_ASQ:
		return tt->asq;
	case NVME_REG_ACQ:
		return tt->acq;
	}
	return (uint64_t)tcp_read32(t, off + 4) << 32 | tcp_read32(t, off);
}

/* CC.EN 0 to 1: the admin queue the host described in AQA, ASQ and ACQ. */
static void admin_queues(struct tcpt *tt)
{
	struct bsq *q = &tt->sq[0];

	pthread_mutex_lock(&tt->cq_lock);
	tt->cq[0] = (struct bcq){ .live = true, .iova = tt->acq, .phase = 1, .ien = true,
				  .size = (uint16_t)(((tt->aqa >> 16) & 0xfff) + 1) };
	pthread_mutex_unlock(&tt->cq_lock);
	pthread_mutex_lock(&q->lock);
	q->iova = tt->asq;
	q->size = (uint16_t)((tt->aqa & 0xfff) + 1);
	q->head = q->tail = 0;
	pthread_mutex_unlock(&q->lock);
}

static void doorbell(struct tcpt *tt, uint32_t off, uint32_t val)
{
	uint32_t idx = (off - 0x1000u) / (tt->stride ? tt->stride : 4u);
	struct bsq *q;

	if (idx & 1 || idx / 2 > MAX_QID)
		return;		/* a CQ head: the host's business over TCP */
	q = &tt->sq[idx / 2];
	pthread_mutex_lock(&q->lock);
	if (q->conn && q->size && val < q->size) {
		q->tail = (uint16_t)val;
		nvr_tcpb_fetch(tt, q);
	}
	pthread_mutex_unlock(&q->lock);
}

static void tcp_write32(struct nvr_transport *t, uint32_t off, uint32_t val)
{
	struct tcpt *tt = to_tcpt(t);
	uint64_t v = val;

	if (off >= 0x1000u) {
		doorbell(tt, off, val);
		return;
	}
	switch (off) {
	case NVME_REG_CC:
		if (!NVME_CC_EN(val) && atomic_load(&tt->fatal) && reconnect(tt))
			return;
		if (NVME_CC_EN(val) && !NVME_CC_EN(tt->cc))
			admin_queues(tt);
		tt->cc = val;
		if (prop(tt, true, off, 4, &v))
			nvr_debug("nvme-tcp: Property Set CC %#x: %s", val, strerror(EIO));
		return;
	case NVME_REG_AQA:
		tt->aqa = val;
		return;
	}
}

static void tcp_write64(struct nvr_transport *t, uint32_t off, uint64_t val)
{
	struct tcpt *tt = to_tcpt(t);

	if (off == NVME_REG_ASQ)
		tt->asq = val;
	else if (off == NVME_REG_ACQ)
		tt->acq = val;
	else
		tcp_write32(t, off, (uint32_t)val);
}

static int tcp_dma_map(struct nvr_transport *t, void *vaddr, uint64_t iova, size_t len)
{
	struct tcpt *tt = to_tcpt(t);
	int ret = 0;

	pthread_mutex_lock(&tt->cq_lock);
	if (tt->nr_maps == tt->cap_maps) {
		size_t cap = tt->cap_maps ? tt->cap_maps * 2 : 32;
		struct bmap *m = realloc(tt->maps, cap * sizeof(*m));

		if (m) {
			tt->maps = m;
			tt->cap_maps = cap;
		} else {
			ret = -ENOMEM;
		}
	}
	if (!ret)
		tt->maps[tt->nr_maps++] = (struct bmap){ .iova = iova, .vaddr = vaddr, .len = len };
	pthread_mutex_unlock(&tt->cq_lock);
	return ret;
}

static int tcp_dma_unmap(struct nvr_transport *t, uint64_t iova, size_t len)
{
	struct tcpt *tt = to_tcpt(t);
	bool admin_cq;
	int ret = -ENOENT;

	pthread_mutex_lock(&tt->cq_lock);
	admin_cq = tt->cq[0].live && tt->cq[0].iova >= iova && tt->cq[0].iova - iova < len;
	for (size_t i = 0; i < tt->nr_maps; i++) {
		if (tt->maps[i].iova == iova && tt->maps[i].len == len) {
			tt->maps[i] = tt->maps[--tt->nr_maps];
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&tt->cq_lock);
	if (admin_cq) {
		struct bsq *q = &tt->sq[0];

		pthread_mutex_lock(&q->lock);
		nvr_debug("nvme-tcp: the admin CQ is gone with %u commands sent and unanswered, "
			  "%u not yet taken from the SQ", q->inflight,
			  q->size ? (uint16_t)((q->tail - q->head + q->size) % q->size) : 0);
		pthread_mutex_unlock(&q->lock);
	}
	return ret;
}

static int tcp_irq_set(struct nvr_transport *t, unsigned int vector, int efd)
{
	struct tcpt *tt = to_tcpt(t);

	if (vector >= NR_VECTORS)
		return -EINVAL;
	atomic_store(&tt->efd[vector], efd);
	return 0;
}

/* A spurious interrupt on purpose is the host's doing: the same over any transport. */
static int tcp_irq_trigger(struct nvr_transport *t, unsigned int vector)
{
	struct tcpt *tt = to_tcpt(t);

	if (vector >= NR_VECTORS)
		return -EINVAL;
	nvr_tcpb_poke(atomic_load(&tt->efd[vector]));
	return 0;
}

static void tcp_destroy(struct nvr_transport *t)
{
	struct tcpt *tt = to_tcpt(t);

	if (tt->has_rx) {
		atomic_store(&tt->stop, true);
		nvr_tcpb_poke(tt->wake);
		pthread_join(tt->rx, NULL);
	}
	for (unsigned int q = 0; q <= MAX_QID; q++) {
		nvr_tcpb_close_queue(tt, &tt->sq[q], false);
		pthread_mutex_destroy(&tt->sq[q].lock);
	}
	if (tt->wake >= 0)
		close(tt->wake);
	pthread_mutex_destroy(&tt->cq_lock);
	pthread_mutex_destroy(&tt->prop_lock);
	pthread_mutex_destroy(&tt->prop_mx);
	pthread_cond_destroy(&tt->prop_cond);
	pthread_mutex_destroy(&tt->late_lock);
	free(tt->maps);
	free(tt);
}

static const char *tcp_why(struct nvr_transport *t)
{
	struct tcpt *tt = to_tcpt(t);

	if (atomic_load(&tt->fatal))
		return tt->fatal_why;
	return tt->last_why[0] ? tt->last_why : NULL;
}

static const struct nvr_transport_ops tcp_ops = {
	.read32 = tcp_read32,
	.read64 = tcp_read64,
	.write32 = tcp_write32,
	.write64 = tcp_write64,
	.dma_map = tcp_dma_map,
	.dma_unmap = tcp_dma_unmap,
	.irq_set = tcp_irq_set,
	.irq_trigger = tcp_irq_trigger,
	.why = tcp_why,
	.destroy = tcp_destroy,
};

bool nvr_transport_is_tcp(const struct nvr_transport *t)
{
	return t && t->ops == &tcp_ops;
}

const char *nvr_tcp_target(const struct nvr_transport *t)
{
	return nvr_transport_is_tcp(t) ? ((const struct tcpt *)t)->urlstr : NULL;
}

const char *nvr_tcp_fatal(struct nvr_transport *t)
{
	if (!nvr_transport_is_tcp(t) || !atomic_load(&to_tcpt(t)->fatal))
		return NULL;
	return to_tcpt(t)->fatal_why;
}

int nvr_tcp_connect_kato(struct nvr_transport *t, uint32_t kato_ms)
{
	struct tcpt *tt = to_tcpt(t);

	if (!nvr_transport_is_tcp(t))
		return 0;
	if (kato_ms == tt->kato_ms && !atomic_load(&tt->fatal))
		return 0;
	tt->kato_ms = kato_ms;
	return reconnect(tt);
}

void nvr_tcp_admin_rx(struct nvr_transport *t, bool on)
{
	struct tcpt *tt = to_tcpt(t);

	if (!nvr_transport_is_tcp(t))
		return;
	/* The receiver reads a connection under its lock: once this has the
	 * lock, the admin connection is not being read and will not be. */
	pthread_mutex_lock(&tt->sq[0].lock);
	atomic_store(&tt->admin_rx_off, !on);
	pthread_mutex_unlock(&tt->sq[0].lock);
	nvr_tcpb_poke(tt->wake);
}

unsigned int nvr_tcp_late(struct nvr_transport *t, struct nvr_tcp_late *out, unsigned int max)
{
	struct tcpt *tt = to_tcpt(t);
	unsigned int n;

	if (!nvr_transport_is_tcp(t))
		return 0;
	pthread_mutex_lock(&tt->late_lock);
	n = tt->late_total;
	memcpy(out, tt->late, sizeof(*out) * (tt->nr_late < max ? tt->nr_late : max));
	tt->nr_late = 0;
	tt->late_total = 0;
	pthread_mutex_unlock(&tt->late_lock);
	return n;
}

int nvr_tcp_open(const char *url, const struct nvr_tcp_opts *o, struct nvr_transport **out,
		 char *msg, size_t len)
{
	struct tcpt *tt;
	int ret;

	*out = NULL;
	tt = calloc(1, sizeof(*tt));
	if (!tt) {
		snprintf(msg, len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	tt->wake = -1;
	pthread_mutex_init(&tt->cq_lock, NULL);
	pthread_mutex_init(&tt->prop_lock, NULL);
	pthread_mutex_init(&tt->prop_mx, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);	/* the deadline's clock */
		pthread_cond_init(&tt->prop_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_mutex_init(&tt->late_lock, NULL);
	for (unsigned int q = 0; q <= MAX_QID; q++)
		pthread_mutex_init(&tt->sq[q].lock, NULL);
	for (unsigned int v = 0; v < NR_VECTORS; v++)
		atomic_init(&tt->efd[v], -1);
	tt->t.ops = &tcp_ops;
	tt->t.kind = "tcp";
	tt->t.nr_vectors = NR_VECTORS;
	atomic_init(&tt->t.iova_next, 1ull << 20);
	tt->t.iova_end = 1ull << 47;

	ret = nvr_tcp_url_parse(url, &tt->url, msg, len);
	if (ret)
		goto err;
	if (!o || !o->hostnqn || !*o->hostnqn || strlen(o->hostnqn) > NVR_TCP_NQN_MAX) {
		snprintf(msg, len, "the host NQN must have 1 to %d bytes", NVR_TCP_NQN_MAX);
		ret = -EINVAL;
		goto err;
	}
	snprintf(tt->urlstr, sizeof(tt->urlstr), "%s", url);
	snprintf(tt->hostnqn, sizeof(tt->hostnqn), "%s", o->hostnqn);
	nvr_tcp_hostid(tt->hostnqn, tt->hostid);
	tt->kato_ms = o->kato_ms;
	tt->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	tt->hdgst = o->hdgst;
	tt->ddgst = o->ddgst;
	tt->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (tt->wake < 0) {
		ret = -errno;
		snprintf(msg, len, "eventfd: %s", strerror(-ret));
		goto err;
	}
	ret = open_admin(tt, o, msg, len);
	if (ret)
		goto err;
	ret = -pthread_create(&tt->rx, NULL, nvr_tcpb_rx_main, tt);
	tt->has_rx = !ret;
	if (ret) {
		snprintf(msg, len, "cannot start the receiver thread: %s", strerror(-ret));
		goto err;
	}
	*out = &tt->t;
	return 0;
err:
	tcp_destroy(&tt->t);
	return ret;
}
