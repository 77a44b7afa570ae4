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
#include "log.h"

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

static int keepalive(struct nvr_tcp_ctrl *ctrl, uint32_t kato_ms, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		struct timespec ts = {.tv_sec = kato_ms / 2000,
				      .tv_nsec = (long)(kato_ms / 2 % 1000) * 1000000};
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
	struct nvr_tcp_ctrl_opts o = {.timeout_ms = 10000};
	struct nvr_tcp_ctrl *ctrl;
	uint32_t kato = 0;
	int ret;

	if (argc < 4 || (strcmp(argv[1], "identify") && argc < 5)) {
		fprintf(stderr, "usage: tcp_probe identify|keepalive|expire URL HOSTNQN [KATO_MS "
				"[COUNT]]\n");
		return 2;
	}
	nvr_log_set_sink(sink, NULL, NVR_LOG_WARN);
	if (argc >= 5)
		kato = (uint32_t)strtoul(argv[4], NULL, 0);
	else
		kato = 10000;
	ret = nvr_tcp_ctrl_connect(argv[2], argv[3], kato, &o, &ctrl);
	if (ret) {
		fprintf(stderr, "tcp_probe: cannot connect to '%s': %s\n", argv[2], strerror(-ret));
		return 3;
	}
	if (!strcmp(argv[1], "identify"))
		ret = identify(ctrl);
	else if (!strcmp(argv[1], "keepalive"))
		ret = keepalive(ctrl, kato, argc >= 6 ? (unsigned int)atoi(argv[5]) : 4);
	else if (!strcmp(argv[1], "expire"))
		ret = expire(ctrl, kato);
	else
		ret = 2;
	nvr_tcp_ctrl_close(ctrl);
	return ret;
}
