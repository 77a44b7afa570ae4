/* SPDX-License-Identifier: MIT */
/* Inside the NVMe/TCP transport: shared by bridge.c (registers, properties,
 * the transport's ops) and bridge_queue.c (SQs, CQs, the receiver). */
#ifndef NVR_TCP_BRIDGE_INT_H
#define NVR_TCP_BRIDGE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/tcp/bridge.h"
#include "dev/tcp/fabrics.h"
#include "dev/transport.h"

#define MAX_QID 64
#define NR_VECTORS 64
#define ADMIN_SQSIZE 32u	/* nvmet's admin queue (NVME_AQ_DEPTH) */
#define ADMIN_LIMIT 30u		/* host admin commands in flight at most; one more for properties */
#define ADMIN_CIDS 256u		/* the admin connection's CID range */
#define PROP_CID0 240u		/* Property Get/Set use CIDs 240..255 in turn */
#define PROP_CIDS 16u
#define ADMIN_INLINE 8192u
#define DEFAULT_TIMEOUT_MS 10000u
#define NR_LATE 64u
#define MAX_NSID 16u
/* Invalid Queue Identifier: SCT 1 (command specific), SC 1, Do Not Retry. */
#define QID_INVALID (NVR_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID) | NVME_SC_DNR)

struct bcmd {
	bool busy;
	uint8_t opcode;
	uint8_t cns;
	uint32_t nsid;
	void *buf;
};

struct bsq {
	pthread_mutex_t lock;		/* the connection and what follows */
	struct nvr_tcp_conn *conn;	/* NULL: no such queue */
	uint32_t gen;			/* bumped when conn changes */
	uint16_t qid, cqid, size;
	uint64_t iova;			/* the host's ring */
	uint16_t head, tail;		/* head: the next SQE to take */
	uint16_t inflight, limit;
	struct bcmd *cmds;		/* [ncids] */
	uint16_t ncids;
	bool dead;			/* the connection failed: polled no more */
};

struct bcq {
	bool live, ien;
	uint16_t size, tail, vector;
	uint8_t phase;
	uint64_t iova;
};

struct bmap {
	uint64_t iova;
	void *vaddr;
	size_t len;
};

struct tcpt {
	struct nvr_transport t;
	char urlstr[512];
	struct nvr_tcp_url url;
	char hostnqn[NVR_TCP_NQN_MAX + 1];
	uint8_t hostid[16];
	uint32_t kato_ms, timeout_ms;
	bool hdgst, ddgst;
	uint16_t cntlid;
	bool no_disconnect;		/* the target refused Fabrics Disconnect once */
	uint32_t ioccsz;		/* Identify Controller, snooped */
	uint32_t lba[MAX_NSID + 1];	/* Identify Namespace, snooped; 0: unknown */
	uint32_t aqa, stride, cc;
	uint64_t asq, acq;

	struct bsq sq[MAX_QID + 1];
	pthread_mutex_t cq_lock;	/* every CQ, and the mappings below */
	struct bcq cq[MAX_QID + 1];
	struct bmap *maps;
	size_t nr_maps, cap_maps;
	_Atomic int efd[NR_VECTORS];

	pthread_t rx;
	bool has_rx;
	int wake;			/* eventfd: the receiver looks again */
	atomic_bool stop;
	atomic_bool admin_rx_off;	/* nothing reads the admin connection (nvr_tcp_admin_rx) */

	pthread_mutex_t prop_lock;	/* one property access at a time */
	pthread_mutex_t prop_mx;	/* the answer below */
	pthread_cond_t prop_cond;
	uint16_t prop_cid;
	uint32_t prop_seq;
	bool prop_done;
	struct nvr_cqe prop_cqe;

	_Atomic int fatal;		/* the admin connection's -errno, 0 while fine */
	atomic_bool fatal_claim;	/* the first to see it writes fatal_why, then fatal */
	char fatal_why[480];
	char last_why[160];		/* the last property that got no answer */

	pthread_mutex_t late_lock;
	struct nvr_tcp_late late[NR_LATE];
	unsigned int nr_late, late_total;
};

static inline struct tcpt *to_tcpt(struct nvr_transport *t)
{
	return (struct tcpt *)t;
}

/* Write 1 to eventfd @fd (-1: nothing). */
void nvr_tcpb_poke(int fd);
/* The admin connection broke with @err: the controller is gone for this host. */
void nvr_tcpb_fatal(struct tcpt *tt, int err, const char *why);
/* Close queue @q's connection; @abort completes what it held as aborted. Under q->lock. */
void nvr_tcpb_close_queue(struct tcpt *tt, struct bsq *q, bool abort);
/* Take what the host queued in @q, as far as the target has room. Under q->lock. */
void nvr_tcpb_fetch(struct tcpt *tt, struct bsq *q);
/* The receiver thread. */
void *nvr_tcpb_rx_main(void *arg);

#endif
