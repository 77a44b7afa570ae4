// SPDX-License-Identifier: MIT
/*
 * A test front end for the NVMe/TCP host library (lib/dev/tcp), run in the
 * QEMU tier's guest against the kernel's nvmet. Not the nvmerace CLI: that
 * gets --target once the transport is wired into the host.
 *
 *   tcp_probe identify URL HOSTNQN [KATO_MS]
 *                                        Identify Controller, one "key: value" a line,
 *                                        then a Keep Alive (KATO 10 s unless given:
 *                                        nvmet refuses Keep Alive when KATO is 0)
 *   tcp_probe io URL HOSTNQN           on I/O queue 1, namespace 1: 64 KiB written at
 *                                        LBA 0 (past the in-capsule limit: R2T and
 *                                        H2CData) and 4 KiB after it (in the capsule),
 *                                        both read back (C2HData) and compared
 *   tcp_probe keepalive URL HOSTNQN KATO_MS COUNT
 *                                        COUNT Keep Alives, one every KATO/2:
 *                                        the controller must stay up
 *   tcp_probe expire URL HOSTNQN KATO_MS
 *                                        no command at all: the target must end the
 *                                        controller and close the connection
 *
 * Exit status 0 when what the mode expects happened, 1 when not, 2 on usage,
 * 3 when the connection could not be made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nvme/types.h>

#include "dev/tcp/fabrics.h"
#include <nvmerace/log.h>

static void sink(enum nvr_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	fprintf(stderr, "tcp_probe: %s\n", msg);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A space-padded Identify string without its padding. */
static void field(const char *key, const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || !s[n - 1]))
		n--;
	printf("%s: %.*s\n", key, (int)n, s);
}

static int identify(struct nvr_tcp_ctrl *ctrl)
{
	const struct nvr_tcp_ctrl_info *info = nvr_tcp_ctrl_info(ctrl);
	const struct nvme_id_ctrl *id = (const void *)info->id_ctrl;
	uint64_t csts = 0;
	uint16_t st = 0xffff;

	field("mn", id->mn, sizeof(id->mn));
	field("sn", id->sn, sizeof(id->sn));
	field("fr", id->fr, sizeof(id->fr));
	printf("mdts: %u\nnn: %u\ncntlid: %#x\nvs: %#x\nkas: %u\nioccsz: %u\n", id->mdts, id->nn,
	       info->cntlid, info->vs, id->kas, info->ioccsz);
	printf("subnqn: %.256s\n", id->subnqn);
	if (nvr_tcp_keep_alive(ctrl, &st) || st) {
		printf("keep-alive: failed (status %#x)\n", st);
		return 1;
	}
	if (nvr_tcp_prop_get(ctrl, NVME_REG_CSTS, 4, &csts, &st) || st || !(csts & 1)) {
		printf("csts: %#llx (not ready)\n", (unsigned long long)csts);
		return 1;
	}
	printf("keep-alive: ok\ncsts: %#llx\n", (unsigned long long)csts);
	return 0;
}

/* One command on I/O queue 1; 0 when it completed with success. */
static int io1(struct nvr_tcp_ctrl *ctrl, uint8_t op, uint64_t lba, uint32_t nlb, void *buf,
	       uint32_t len)
{
	struct nvr_sqe sqe = { .opcode = op, .nsid = 1, .cdw10 = (uint32_t)lba,
			       .cdw11 = (uint32_t)(lba >> 32), .cdw12 = nlb - 1 };
	struct nvr_cqe cqe;
	int ret = nvr_tcp_io(ctrl, 1, &sqe, buf, len,
			     op == nvme_cmd_write ? NVR_TCP_DIR_H2C : NVR_TCP_DIR_C2H, &cqe);

	if (ret || NVR_CQE_STATUS(cqe.status)) {
		printf("io: %s of %u bytes at LBA %llu: %s, status %#x\n",
		       op == nvme_cmd_write ? "write" : "read", len, (unsigned long long)lba,
		       ret ? strerror(-ret) : "completed", NVR_CQE_STATUS(cqe.status));
		return 1;
	}
	return 0;
}

static int io(struct nvr_tcp_ctrl *ctrl)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_identify, .nsid = 1,
			       .cdw10 = NVME_IDENTIFY_CNS_NS };
	const uint32_t big = 64u << 10, small = 4096;
	uint8_t *w = malloc(big + small), *r = calloc(1, big + small);
	struct nvr_tcp_conn_stats st;
	struct nvme_id_ns ns;
	struct nvr_cqe cqe;
	uint32_t lbads;
	int ret = 1;

	if (!w || !r)
		goto out;
	if (nvr_tcp_admin(ctrl, &sqe, &ns, sizeof(ns), NVR_TCP_DIR_C2H, &cqe) ||
	    NVR_CQE_STATUS(cqe.status)) {
		printf("io: Identify Namespace 1 failed\n");
		goto out;
	}
	lbads = 1u << ns.lbaf[ns.flbas & 0xf].ds;
	for (uint32_t i = 0; i < big + small; i++)
		w[i] = (uint8_t)(i * 7 + (i >> 12));
	if (io1(ctrl, nvme_cmd_write, 0, big / lbads, w, big) ||
	    io1(ctrl, nvme_cmd_write, big / lbads, small / lbads, w + big, small) ||
	    io1(ctrl, nvme_cmd_read, 0, (big + small) / lbads, r, big + small))
		goto out;
	if (memcmp(w, r, big + small)) {
		printf("io: the data read back differs from what was written\n");
		goto out;
	}
	nvr_tcp_conn_get_stats(nvr_tcp_ctrl_conn(ctrl, 1), &st);
	printf("io: %u B LBAs; 64 KiB written through %llu R2T and %llu H2CData, 4 KiB in the "
	       "capsule, 68 KiB read back in %llu C2HData: equal\n",
	       lbads, (unsigned long long)st.r2t, (unsigned long long)st.h2c_data,
	       (unsigned long long)st.c2h_data);
	ret = st.r2t ? 0 : 1;
out:
	free(w);
	free(r);
	return ret;
}

static int keepalive(struct nvr_tcp_ctrl *ctrl, uint32_t kato_ms, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		struct timespec ts = { .tv_sec = kato_ms / 2000,
				       .tv_nsec = (long)(kato_ms / 2 % 1000) * 1000000 };
		uint16_t st = 0xffff;
		int ret;

		nanosleep(&ts, NULL);
		ret = nvr_tcp_keep_alive(ctrl, &st);
		if (ret || st) {
			printf("keep-alive %u: %s, status %#x\n", i + 1,
			       ret ? strerror(-ret) : "ok", st);
			return 1;
		}
	}
	printf("keep-alive: %u sent every %u ms, all completed, controller up\n", count,
	       kato_ms / 2);
	return 0;
}

static int expire(struct nvr_tcp_ctrl *ctrl, uint32_t kato_ms)
{
	struct nvr_tcp_conn *admin = nvr_tcp_ctrl_conn(ctrl, 0);
	uint64_t t0 = now_ms();
	struct nvr_cqe cqe;
	/* nvmet rounds KATO up to whole seconds; wait well past it. */
	int ret = nvr_tcp_conn_recv(admin, &cqe, kato_ms * 4 + 15000);

	if (ret == -ECONNRESET && nvr_tcp_conn_err(admin) == NVR_TCP_E_CLOSED) {
		printf(
		    "expired: the target closed the admin connection after %llu ms (KATO %u ms)\n",
		    (unsigned long long)(now_ms() - t0), kato_ms);
		return 0;
	}
	printf("expired: no: %s (%s)\n", strerror(-ret), nvr_tcp_conn_why(admin));
	return 1;
}

int main(int argc, char **argv)
{
	struct nvr_tcp_ctrl_opts o = { .timeout_ms = 10000, .nr_io_queues = 1 };
	struct nvr_tcp_ctrl *ctrl;
	char msg[512];
	uint32_t kato = 0;
	int ret;

	if (argc < 4 || (strcmp(argv[1], "identify") && strcmp(argv[1], "io") && argc < 5)) {
		fprintf(stderr, "usage: tcp_probe identify|io|keepalive|expire URL HOSTNQN "
				"[KATO_MS [COUNT]]\n");
		return 2;
	}
	nvr_log_set_sink(sink, NULL, NVR_LOG_WARN);
	if (argc >= 5)
		kato = (uint32_t)strtoul(argv[4], NULL, 0);
	else
		kato = 10000;
	ret = nvr_tcp_ctrl_connect(argv[2], argv[3], kato, &o, &ctrl, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "tcp_probe: cannot connect to '%s': %s\n", argv[2], msg);
		return 3;
	}
	if (!strcmp(argv[1], "identify"))
		ret = identify(ctrl);
	else if (!strcmp(argv[1], "io"))
		ret = io(ctrl);
	else if (!strcmp(argv[1], "keepalive"))
		ret = keepalive(ctrl, kato, argc >= 6 ? (unsigned int)atoi(argv[5]) : 4);
	else if (!strcmp(argv[1], "expire"))
		ret = expire(ctrl, kato);
	else
		ret = 2;
	nvr_tcp_ctrl_close(ctrl);
	return ret;
}
