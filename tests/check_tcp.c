// SPDX-License-Identifier: MIT
/*
 * The NVMe/TCP host (lib/dev/tcp) against a scripted target on 127.0.0.1
 * (tests/tcp_target.h). A well-behaved target: bring-up, Keep Alive, writes
 * in the capsule and through R2T, reads through C2HData, shutdown, with and
 * without digests, all clean. A misbehaving one: every case ends within its
 * timeout with the named error, and no descriptor is left open (memory: the
 * ASan build).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include <nvmerace/log.h>
#include "tcp_target.h"

#include "suite_main.h"

#define LONG_MS 20000u	/* generous: a sanitizer build on a loaded machine */
#define STALL_MS 300u	/* for the cases that must time out */

static struct nvr_tcp_ctrl *connect_ok(struct tt *t, bool digests, uint32_t timeout_ms,
				       uint32_t kato_ms)
{
	struct nvr_tcp_ctrl_opts o = { .nr_io_queues = 2, .timeout_ms = timeout_ms,
				       .hdgst = digests, .ddgst = digests };
	struct nvr_tcp_ctrl *ctrl;
	char msg[512];
	int ret = nvr_tcp_ctrl_connect(t->url, TT_HOSTNQN, kato_ms, &o, &ctrl, msg, sizeof(msg));

	ck_assert_msg(ret == 0, "connect: %s (%s)", strerror(-ret), msg);
	return ctrl;
}

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static uint16_t rw(struct nvr_tcp_ctrl *ctrl, uint16_t qid, uint8_t op, uint32_t lba, void *buf,
		   uint32_t len, int *ret)
{
	struct nvr_sqe sqe = { .opcode = op, .nsid = 1, .cdw10 = lba, .cdw12 = len / 512 - 1 };
	struct nvr_cqe cqe = { .status = 0xffff };

	*ret = nvr_tcp_io(ctrl, qid, &sqe, buf, len,
			  op == nvme_cmd_write ? NVR_TCP_DIR_H2C : NVR_TCP_DIR_C2H, &cqe);
	return NVR_CQE_STATUS(cqe.status);
}

/* Bring-up, Keep Alive, I/O both ways on both queues, shutdown; digests off and on. */
START_TEST(well_behaved)
{
	bool digests = _i;
	int fds = tt_nr_fds(), ret;
	struct tt *t = tt_start(TT_OK, 0);
	struct nvr_tcp_ctrl *ctrl = connect_ok(t, digests, LONG_MS, 5000);
	const struct nvr_tcp_ctrl_info *info = nvr_tcp_ctrl_info(ctrl);
	const struct nvme_id_ctrl *id = (const void *)info->id_ctrl;
	uint8_t *w = malloc(20480), *r = malloc(20480);
	struct nvr_tcp_conn_stats st;
	uint64_t csts = 0;
	uint16_t status = 0xffff;

	ck_assert_uint_eq(info->cntlid, TT_CNTLID);
	ck_assert_uint_eq(info->vs, 0x10400);
	ck_assert_uint_eq(info->cap & 0xffff, 63);
	ck_assert_uint_eq(info->nr_io_queues, 2);
	ck_assert_uint_eq(atomic_load(&t->kato_ms), 5000);
	ck_assert_uint_eq(atomic_load(&t->connects), 3);
	ck_assert(!memcmp(id->mn, "nvmerace scripted target", 24));
	ck_assert_uint_eq(nvr_tcp_conn_params(nvr_tcp_ctrl_conn(ctrl, 1))->hdgst, digests);

	ck_assert_int_eq(nvr_tcp_keep_alive(ctrl, &status), 0);
	ck_assert_uint_eq(status, 0);
	ck_assert_uint_eq(atomic_load(&t->keep_alives), 1);
	ck_assert_int_eq(nvr_tcp_prop_get(ctrl, NVME_REG_CSTS, 4, &csts, &status), 0);
	ck_assert_uint_eq(csts & 1, 1);

	/* 20 KiB through R2T (three H2CData of at most 8 KiB), 2 KiB in the capsule. */
	fill(w, 20480, 1);
	ck_assert_uint_eq(rw(ctrl, 1, nvme_cmd_write, 0, w, 20480, &ret), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert_uint_eq(rw(ctrl, 2, nvme_cmd_write, 64, w + 1024, 2048, &ret), 0);
	ck_assert_int_eq(ret, 0);
	memset(r, 0, 20480);
	ck_assert_uint_eq(rw(ctrl, 2, nvme_cmd_read, 0, r, 20480, &ret), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert(!memcmp(r, w, 20480));
	ck_assert_uint_eq(rw(ctrl, 1, nvme_cmd_read, 64, r, 2048, &ret), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert(!memcmp(r, w + 1024, 2048));
	/* A status is data: LBA out of range comes back as a completion. */
	ck_assert_uint_eq(rw(ctrl, 1, nvme_cmd_read, 200, r, 512, &ret) & 0x7ff,
			  NVME_SC_LBA_RANGE);
	ck_assert_int_eq(ret, 0);

	nvr_tcp_conn_get_stats(nvr_tcp_ctrl_conn(ctrl, 1), &st);
	ck_assert_uint_eq(st.r2t, 1);
	ck_assert_uint_eq(st.h2c_data, 3);
	nvr_tcp_conn_get_stats(nvr_tcp_ctrl_conn(ctrl, 2), &st);
	ck_assert_uint_eq(st.c2h_data, 5);	/* 20 KiB in 4 KiB PDUs */
	ck_assert_uint_eq(st.r2t, 0);
	ck_assert_uint_eq(st.stray + st.resp_unknown_cid, 0);

	nvr_tcp_ctrl_close(ctrl);
	/* Disconnect on both I/O queues, then CC.SHN answered with SHST complete. */
	ck_assert_uint_eq(atomic_load(&t->disconnects), 2);
	tt_stop(t);
	free(w);
	free(r);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

/* Answers that are unusual but valid must pass too. */
START_TEST(valid_variants)
{
	static const enum tt_mode modes[] = { TT_SUCCESS_FLAG, TT_BYTEWISE, TT_SPURIOUS_RESP };
	enum tt_mode mode = modes[_i];
	int fds = tt_nr_fds(), ret;
	struct tt *t = tt_start(mode, nvme_admin_identify);
	struct nvr_tcp_ctrl *ctrl = connect_ok(t, false, LONG_MS, 0);
	struct nvr_sqe sqe = { .opcode = nvme_admin_identify, .cdw10 = NVME_IDENTIFY_CNS_CTRL };
	struct nvr_tcp_conn_stats st;
	struct nvr_cqe cqe = { .status = 0xffff };
	uint8_t *id = calloc(1, 4096);

	tt_arm(t);
	ret = nvr_tcp_admin(ctrl, &sqe, id, 4096, NVR_TCP_DIR_C2H, &cqe);
	ck_assert_msg(ret == 0, "%s", nvr_tcp_conn_why(nvr_tcp_ctrl_conn(ctrl, 0)));
	ck_assert_uint_eq(cqe.cid, sqe.cid);
	ck_assert_uint_eq(NVR_CQE_STATUS(cqe.status), 0);
	ck_assert(!memcmp(id, nvr_tcp_ctrl_info(ctrl)->id_ctrl, 4096));
	ck_assert(!atomic_load(&t->armed));	/* the misbehaviour did happen */
	nvr_tcp_conn_get_stats(nvr_tcp_ctrl_conn(ctrl, 0), &st);
	ck_assert_uint_eq(st.stray, mode == TT_SPURIOUS_RESP);
	ck_assert_uint_eq(st.resp_unknown_cid, mode == TT_SPURIOUS_RESP);
	nvr_tcp_ctrl_close(ctrl);
	tt_stop(t);
	free(id);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

enum via { KEEP_ALIVE, IDENTIFY, READ_8K, WRITE_8K };

static const struct bad_case {
	enum tt_mode mode;
	enum via via;
	bool digests;
	int ret;
	enum nvr_tcp_err err;
} bad_cases[] = {
	{ TT_STALL, KEEP_ALIVE, false, -ETIMEDOUT, NVR_TCP_E_TIMEOUT },
	{ TT_TRUNC_STALL, KEEP_ALIVE, false, -ETIMEDOUT, NVR_TCP_E_TIMEOUT },
	{ TT_CLOSE, KEEP_ALIVE, false, -ECONNRESET, NVR_TCP_E_CLOSED },
	{ TT_CLOSE_MID, KEEP_ALIVE, false, -ECONNRESET, NVR_TCP_E_CLOSED },
	{ TT_BAD_HLEN, KEEP_ALIVE, false, -EPROTO, NVR_TCP_E_HLEN },
	{ TT_BAD_PLEN, KEEP_ALIVE, false, -EPROTO, NVR_TCP_E_PLEN },
	{ TT_UNKNOWN_TYPE, KEEP_ALIVE, false, -EPROTO, NVR_TCP_E_TYPE },
	{ TT_BAD_HDGST, KEEP_ALIVE, true, -EPROTO, NVR_TCP_E_HDGST },
	{ TT_TERM, KEEP_ALIVE, false, -ECONNABORTED, NVR_TCP_E_TERM },
	{ TT_STALL, IDENTIFY, false, -ETIMEDOUT, NVR_TCP_E_TIMEOUT },
	{ TT_CLOSE_MID, IDENTIFY, false, -ECONNRESET, NVR_TCP_E_CLOSED },
	{ TT_BAD_PDO, IDENTIFY, false, -EPROTO, NVR_TCP_E_PDO },
	{ TT_BAD_DATAL, IDENTIFY, false, -EPROTO, NVR_TCP_E_DATAL },
	{ TT_DATAO_RANGE, IDENTIFY, false, -EPROTO, NVR_TCP_E_DATAO },
	{ TT_BAD_DDGST, IDENTIFY, true, -EPROTO, NVR_TCP_E_DDGST },
	{ TT_WRONG_CID, IDENTIFY, false, -EPROTO, NVR_TCP_E_CID },
	{ TT_SUCCESS_EARLY, READ_8K, false, -EPROTO, NVR_TCP_E_DATAL },
	{ TT_R2T_RANGE, WRITE_8K, false, -EPROTO, NVR_TCP_E_DATAO },
	{ TT_STALL, WRITE_8K, false, -ETIMEDOUT, NVR_TCP_E_TIMEOUT },
};

static int run_via(struct nvr_tcp_ctrl *ctrl, enum via via, uint8_t *buf)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_identify, .cdw10 = NVME_IDENTIFY_CNS_CTRL };
	struct nvr_cqe cqe;
	uint16_t st;
	int ret;

	switch (via) {
	case KEEP_ALIVE:
		return nvr_tcp_keep_alive(ctrl, &st);
	case IDENTIFY:
		return nvr_tcp_admin(ctrl, &sqe, buf, 4096, NVR_TCP_DIR_C2H, &cqe);
	case READ_8K:
		rw(ctrl, 1, nvme_cmd_read, 0, buf, 8192, &ret);
		return ret;
	case WRITE_8K:
		rw(ctrl, 1, nvme_cmd_write, 0, buf, 8192, &ret);
		return ret;
	}
	return -EINVAL;
}

static const uint8_t via_opcode[] = { nvme_admin_keep_alive, nvme_admin_identify, nvme_cmd_read,
				      nvme_cmd_write };

/* Each misbehaviour ends in its named error within the timeout, and leaks nothing. */
START_TEST(misbehaving)
{
	const struct bad_case *bc = &bad_cases[_i];
	uint32_t timeout = bc->ret == -ETIMEDOUT ? STALL_MS : LONG_MS;
	int fds = tt_nr_fds(), ret;
	struct tt *t = tt_start(bc->mode, via_opcode[bc->via]);
	struct nvr_tcp_ctrl *ctrl = connect_ok(t, bc->digests, timeout, 30000);
	struct nvr_tcp_conn *conn = nvr_tcp_ctrl_conn(ctrl, bc->via >= READ_8K ? 1 : 0);
	uint8_t *buf = calloc(1, 8192);

	tt_arm(t);
	ret = run_via(ctrl, bc->via, buf);
	ck_assert_msg(ret == bc->ret, "case %d: %d (%s), expected %d", _i, ret,
		      nvr_tcp_conn_why(conn), bc->ret);
	ck_assert_msg(nvr_tcp_conn_err(conn) == bc->err, "case %d: '%s', expected '%s'", _i,
		      nvr_tcp_conn_why(conn), nvr_tcp_err_str(bc->err));
	ck_assert(strstr(nvr_tcp_conn_why(conn), nvr_tcp_err_str(bc->err)));
	if (bc->err == NVR_TCP_E_TERM)
		ck_assert_uint_eq(nvr_tcp_conn_fes(conn), NVR_TCP_FES_PDU_SEQUENCE);
	/* A dead connection says so again, at once; a timeout leaves it usable. */
	if (bc->ret != -ETIMEDOUT)
		ck_assert_int_eq(run_via(ctrl, bc->via, buf), bc->ret);
	nvr_tcp_ctrl_close(ctrl);
	tt_stop(t);
	free(buf);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

/* ICResp the host must refuse: the connect fails with -EPROTO and says why. */
START_TEST(bad_icresp)
{
	static const enum tt_mode modes[] = { TT_ICRESP_PFV, TT_ICRESP_MAXH2C, TT_ICRESP_NODGST };
	struct nvr_tcp_ctrl_opts o = { .timeout_ms = LONG_MS, .hdgst = true };
	int fds = tt_nr_fds();
	struct tt *t = tt_start(modes[_i], 0);
	struct nvr_tcp_ctrl *ctrl = (void *)1;

	char msg[512] = "";

	ck_assert_int_eq(nvr_tcp_ctrl_connect(t->url, TT_HOSTNQN, 0, &o, &ctrl, msg, sizeof(msg)),
			 -EPROTO);
	ck_assert_ptr_null(ctrl);
	ck_assert_msg(strstr(msg, nvr_tcp_err_str(NVR_TCP_E_ICRESP)), "%s", msg);
	tt_stop(t);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

/*
 * Keep-alive expiry as the host sees it: the target ends the controller and
 * closes the connection; the host reports a connection closed by the peer.
 */
START_TEST(kato_expiry)
{
	int fds = tt_nr_fds();
	struct tt *t = tt_start(TT_KATO, 0xff);
	struct nvr_tcp_ctrl *ctrl = connect_ok(t, false, LONG_MS, 200);
	struct nvr_tcp_conn *admin = nvr_tcp_ctrl_conn(ctrl, 0);
	struct nvr_cqe cqe;
	uint16_t st;

	tt_arm(t);
	/* Nothing is outstanding: the only thing that can come is the close. */
	ck_assert_int_eq(nvr_tcp_conn_recv(admin, &cqe, 60000), -ECONNRESET);
	ck_assert_int_eq(nvr_tcp_conn_err(admin), NVR_TCP_E_CLOSED);
	ck_assert_uint_eq(atomic_load(&t->closed_by_kato), 1);
	ck_assert_int_eq(nvr_tcp_keep_alive(ctrl, &st), -ECONNRESET);
	nvr_tcp_ctrl_close(ctrl);
	tt_stop(t);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

/*
 * A PDU that stops half way: the receive times out, keeps what came, and the
 * next receive completes the same PDU once the rest arrives.
 */
START_TEST(split_resumed)
{
	int fds = tt_nr_fds();
	struct tt *t = tt_start(TT_SPLIT, nvme_admin_keep_alive);
	struct nvr_tcp_ctrl *ctrl = connect_ok(t, _i, LONG_MS, 30000);
	struct nvr_tcp_conn *admin = nvr_tcp_ctrl_conn(ctrl, 0);
	struct nvr_sqe sqe = { .opcode = nvme_admin_keep_alive, .cid = 17 };
	struct nvr_tcp_conn_stats before, after;
	struct nvr_cqe cqe;

	tt_arm(t);
	nvr_tcp_conn_get_stats(admin, &before);
	ck_assert_int_eq(nvr_tcp_conn_submit(admin, &sqe, NULL, 0, NVR_TCP_DIR_NONE), 0);
	/* Ten bytes come (on a loaded machine, maybe only after a few tries); no more. */
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(nvr_tcp_conn_recv(admin, &cqe, STALL_MS), -ETIMEDOUT);
		ck_assert_int_eq(nvr_tcp_conn_err(admin), NVR_TCP_E_TIMEOUT);
		if (strstr(nvr_tcp_conn_why(admin), "started PDU"))
			break;
	}
	ck_assert_msg(strstr(nvr_tcp_conn_why(admin), "started PDU"), "%s",
		      nvr_tcp_conn_why(admin));
	tt_resume(t);
	ck_assert_int_eq(nvr_tcp_conn_recv(admin, &cqe, LONG_MS), 0);
	ck_assert_uint_eq(cqe.cid, 17);
	ck_assert_uint_eq(NVR_CQE_STATUS(cqe.status), 0);
	nvr_tcp_conn_get_stats(admin, &after);
	ck_assert_uint_eq(after.pdus_rx - before.pdus_rx, 1);
	ck_assert_uint_eq(atomic_load(&t->keep_alives), 1);
	nvr_tcp_ctrl_close(ctrl);
	tt_stop(t);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

/* The same host over IPv6 loopback, named as tcp://[::1]:PORT/NQN. */
START_TEST(ipv6_loopback)
{
	int fds = tt_nr_fds(), s = socket(AF_INET6, SOCK_STREAM, 0);
	struct nvr_tcp_ctrl *ctrl;
	struct tt *t;
	uint16_t st = 0xffff;

	if (s < 0) {
		/* A kernel without IPv6: the URL form is still covered by url_good. */
		ck_assert_int_eq(errno, EAFNOSUPPORT);
		return;
	}
	close(s);
	t = tt_start_af(TT_OK, 0, AF_INET6);
	ck_assert(!strncmp(t->url, "tcp://[::1]:", 12));
	ctrl = connect_ok(t, false, LONG_MS, 30000);
	ck_assert_int_eq(nvr_tcp_keep_alive(ctrl, &st), 0);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(nvr_tcp_ctrl_info(ctrl)->nr_io_queues, 2);
	nvr_tcp_ctrl_close(ctrl);
	tt_stop(t);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

/* Keep Alive on a controller connected without KATO: a status, not an error. */
START_TEST(keep_alive_without_kato)
{
	struct tt *t = tt_start(TT_OK, 0);
	struct nvr_tcp_ctrl *ctrl = connect_ok(t, false, LONG_MS, 0);
	uint16_t st = 0;

	ck_assert_int_eq(nvr_tcp_keep_alive(ctrl, &st), 0);
	ck_assert_uint_eq(st & 0x7ff, NVME_SC_KAT_INVALID);
	ck_assert_uint_eq(atomic_load(&t->keep_alives), 0);
	nvr_tcp_ctrl_close(ctrl);
	tt_stop(t);
}
END_TEST

START_TEST(refused)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fds = tt_nr_fds(), s = socket(AF_INET, SOCK_STREAM, 0);
	struct nvr_tcp_ctrl *ctrl;
	char url[128];

	/* A port that was free a moment ago and has no listener. */
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u/%s", ntohs(a.sin_port), TT_NQN);
	char msg[512] = "";

	ck_assert_int_eq(nvr_tcp_ctrl_connect(url, TT_HOSTNQN, 0, NULL, &ctrl, msg, sizeof(msg)),
			 -ECONNREFUSED);
	ck_assert_msg(strstr(msg, "cannot connect"), "%s", msg);
	ck_assert_int_eq(nvr_tcp_ctrl_connect(url, "", 0, NULL, &ctrl, msg, sizeof(msg)), -EINVAL);
	ck_assert_msg(strstr(msg, "host NQN"), "%s", msg);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

START_TEST(url_good)
{
	struct nvr_tcp_url u;
	char why[256];

	ck_assert_int_eq(nvr_tcp_url_parse("tcp://127.0.0.1/nqn.a:b", &u, why, sizeof(why)), 0);
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert_str_eq(u.port, "4420");
	ck_assert_str_eq(u.subnqn, "nqn.a:b");
	ck_assert_int_eq(nvr_tcp_url_parse("TCP://[::1]:4421/n", &u, why, sizeof(why)), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_str_eq(u.port, "4421");
	ck_assert_int_eq(nvr_tcp_url_parse("tcp://target.lab:00065/n/x", &u, why, sizeof(why)), 0);
	ck_assert_str_eq(u.host, "target.lab");
	ck_assert_str_eq(u.port, "65");
	ck_assert_str_eq(u.subnqn, "n/x");
}
END_TEST

static const struct {
	const char *url, *why;
} bad_urls[] = {
	{ "http://h/n", "is not a tcp://" },
	{ "tcp:///n", "no host" },
	{ "tcp://h", "no subsystem NQN" },
	{ "tcp://h/", "no subsystem NQN" },
	{ "tcp://h:4420", "no subsystem NQN" },
	{ "tcp://h:0/n", "bad port '0'" },
	{ "tcp://h:65536/n", "bad port '65536'" },
	{ "tcp://h:12a/n", "bad port '12a'" },
	{ "tcp://h:/n", "bad port ''" },
	{ "tcp://[::1/n", "no ']'" },
	{ "tcp://[::1]x/n", "':' or '/' expected" },
	{ "tcp://[]/n", "no host" },
	{ "tcp://h/n q", "blank or control" },
};

START_TEST(url_bad)
{
	struct nvr_tcp_url u;
	char why[256] = "";

	ck_assert_int_eq(nvr_tcp_url_parse(bad_urls[_i].url, &u, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, bad_urls[_i].why), "'%s': '%s'", bad_urls[_i].url, why);
}
END_TEST

START_TEST(url_long_nqn)
{
	char url[400], why[512];
	struct nvr_tcp_url u;

	snprintf(url, sizeof(url), "tcp://h/%0*d", NVR_TCP_NQN_MAX, 0);
	ck_assert_int_eq(nvr_tcp_url_parse(url, &u, why, sizeof(why)), 0);
	snprintf(url, sizeof(url), "tcp://h/%0*d", NVR_TCP_NQN_MAX + 1, 0);
	ck_assert_int_eq(nvr_tcp_url_parse(url, &u, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "longer than 223"));
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc;

	tc = tcase_create("well-behaved");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, well_behaved, 0, 2);
	tcase_add_loop_test(tc, valid_variants, 0, 3);
	tcase_add_test(tc, ipv6_loopback);
	suite_add_tcase(s, tc);

	tc = tcase_create("misbehaving");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, misbehaving, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_loop_test(tc, bad_icresp, 0, 3);
	tcase_add_test(tc, kato_expiry);
	tcase_add_test(tc, keep_alive_without_kato);
	tcase_add_loop_test(tc, split_resumed, 0, 2);
	tcase_add_test(tc, refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("url");
	tcase_add_test(tc, url_good);
	tcase_add_loop_test(tc, url_bad, 0, (int)(sizeof(bad_urls) / sizeof(bad_urls[0])));
	tcase_add_test(tc, url_long_nqn);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(tcp_suite());
}
