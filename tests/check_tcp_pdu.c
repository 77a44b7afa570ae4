// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP PDUs alone (lib/dev/tcp/pdu.c): CRC32C against its published
 * check value, encode/decode round trips for every type with and without
 * digests, every truncation refused as short, and one mutation per field
 * refused with the error that names it.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev/tcp/pdu.h"

#include "suite_main.h"

#define BUF 9000

START_TEST(crc32c_vectors)
{
	const char *s = "123456789";
	uint8_t zeros[32] = { 0 };

	/* The CRC-32C check value (Castagnoli; RFC 3720, B.4). */
	ck_assert_uint_eq(nvr_tcp_crc32c(0, s, 9), 0xE3069283u);
	ck_assert_uint_eq(nvr_tcp_crc32c(nvr_tcp_crc32c(0, s, 4), s + 4, 5), 0xE3069283u);
	ck_assert_uint_eq(nvr_tcp_crc32c(0, s, 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros. */
	ck_assert_uint_eq(nvr_tcp_crc32c(0, zeros, sizeof(zeros)), 0x8A9136AAu);
}
END_TEST

START_TEST(err_names)
{
	for (int a = 0; a < NVR_TCP_E_NR; a++) {
		ck_assert_ptr_nonnull(nvr_tcp_err_str(a));
		ck_assert_int_gt(strlen(nvr_tcp_err_str(a)), 1);
		for (int b = 0; b < a; b++)
			ck_assert_str_ne(nvr_tcp_err_str(a), nvr_tcp_err_str(b));
	}
	ck_assert_str_eq(nvr_tcp_err_str(NVR_TCP_E_NR), "unknown NVMe/TCP error");
}
END_TEST

struct shape {
	uint8_t type;
	bool controller;	/* the decoding side */
	uint32_t data_len;
};

static const struct shape shapes[] = {
	{ NVR_TCP_ICREQ, 3, 0 },	{ NVR_TCP_ICRESP, 0, 0 },
	{ NVR_TCP_CMD, 3, 0 },	{ NVR_TCP_CMD, 3, 1 },
	{ NVR_TCP_CMD, 3, 4096 },	{ NVR_TCP_RSP, 0, 0 },
	{ NVR_TCP_H2C_DATA, 3, 1 },	{ NVR_TCP_H2C_DATA, 3, 8192 },
	{ NVR_TCP_C2H_DATA, 0, 3 }, { NVR_TCP_C2H_DATA, 0, 4096 },
	{ NVR_TCP_R2T, 0, 0 },	{ NVR_TCP_C2H_TERM, 0, 24 },
	{ NVR_TCP_H2C_TERM, 3, 0 },
};

/* A valid PSH for @type, with data fields that agree with @data_len. */
static size_t psh_of(uint8_t type, uint32_t data_len, uint8_t *psh)
{
	memset(psh, 0, 120);
	switch (type) {
	case NVR_TCP_ICREQ:
		return 120;
	case NVR_TCP_ICRESP:
		psh[4] = 0x00, psh[5] = 0x20;	/* MAXH2CDATA 8192 */
		return 120;
	case NVR_TCP_CMD:
		psh[0] = 0x02;
		return 64;
	case NVR_TCP_RSP:
		return 16;
	case NVR_TCP_H2C_DATA:
	case NVR_TCP_C2H_DATA:
		memcpy(psh + 8, &data_len, 4);
		return 16;
	case NVR_TCP_R2T:
		psh[8] = 1;
		return 16;
	default:
		psh[0] = NVR_TCP_FES_PDU_SEQUENCE;
		return 16;
	}
}

static long build(const struct shape *sh, const struct nvr_tcp_params *p, uint8_t *buf,
		  uint8_t *data)
{
	uint8_t psh[120];
	size_t n = psh_of(sh->type, sh->data_len, psh);
	struct nvr_tcp_params enc = *p;

	enc.controller = !sh->controller;
	for (uint32_t i = 0; i < sh->data_len; i++)
		data[i] = (uint8_t)(i * 13 + 5);
	return nvr_tcp_pdu_encode(buf, BUF, sh->type,
				  sh->type == NVR_TCP_C2H_DATA ? NVR_TCP_F_DATA_LAST : 0, psh, n,
				  sh->data_len ? data : NULL, sh->data_len, &enc);
}

static struct nvr_tcp_params params(int variant, bool controller)
{
	return (struct nvr_tcp_params){ .hdgst = variant & 1, .ddgst = variant & 2,
					.hpda = variant & 4 ? 7 : 0, .cpda = variant & 4 ? 3 : 0,
					.maxh2cdata = 8192, .max_data = 8192,
					.controller = controller };
}

/* Encode then decode: the same fields, the same data, every digest/alignment variant. */
START_TEST(round_trip)
{
	const struct shape *sh = &shapes[_i];
	uint8_t *buf = malloc(BUF), *data = malloc(BUF);

	for (int v = 0; v < 8; v++) {
		struct nvr_tcp_params p = params(v, sh->controller);
		long n = build(sh, &p, buf, data);
		uint32_t align = ((sh->controller ? p.cpda : p.hpda) + 1u) * 4;
		struct nvr_tcp_pdu pdu;
		enum nvr_tcp_err e;

		ck_assert_int_gt(n, 0);
		e = nvr_tcp_pdu_decode(buf, (size_t)n, &p, &pdu);
		ck_assert_msg(e == NVR_TCP_OK, "type %#x variant %d: %s", sh->type, v,
			      nvr_tcp_err_str(e));
		ck_assert_uint_eq(pdu.type, sh->type);
		ck_assert_uint_eq(pdu.plen, (uint32_t)n);
		ck_assert_uint_eq(pdu.data_len, sh->data_len);
		if (sh->data_len) {
			ck_assert(!memcmp(pdu.data, data, sh->data_len));
			ck_assert(pdu.data + pdu.data_len <= buf + n);
			if (sh->type != NVR_TCP_C2H_TERM && sh->type != NVR_TCP_H2C_TERM)
				ck_assert_uint_eq(pdu.pdo % align, 0);
		}
		/* Every shorter buffer is refused as short, and nothing is read past it. */
		for (long k = 0; k < n; k++) {
			uint8_t *cut = malloc((size_t)k + 1);

			memcpy(cut, buf, (size_t)k);
			ck_assert_int_eq(nvr_tcp_pdu_decode(cut, (size_t)k, &p, &pdu),
					 NVR_TCP_E_SHORT);
			free(cut);
			if (k > 200)
				k += 97;	/* large data: sample the cuts */
		}
	}
	free(buf);
	free(data);
}
END_TEST

/* One field changed after encoding, and the error that must name it. */
static const struct mutation {
	const char *what;
	uint8_t type;
	int digests;	/* bit 0 header, bit 1 data */
	unsigned int at;
	uint8_t xor;
	enum nvr_tcp_err want;
} mutations[] = {
	{ "unknown type", NVR_TCP_RSP, 0, 0, 0x0a, NVR_TCP_E_TYPE },
	{ "type only a host sends", NVR_TCP_RSP, 0, 0, 0x05 ^ 0x04, NVR_TCP_E_DIRECTION },
	{ "hlen", NVR_TCP_RSP, 0, 2, 0x01, NVR_TCP_E_HLEN },
	{ "plen of a response", NVR_TCP_RSP, 0, 4, 0x08, NVR_TCP_E_PLEN },
	{ "plen huge", NVR_TCP_C2H_DATA, 0, 7, 0x01, NVR_TCP_E_PLEN },
	{ "pdo inside the header", NVR_TCP_C2H_DATA, 0, 3, 24 ^ 16, NVR_TCP_E_PDO },
	{ "pdo misaligned", NVR_TCP_C2H_DATA, 0, 3, 24 ^ 26, NVR_TCP_E_PDO },
	{ "pdo past plen", NVR_TCP_C2H_DATA, 0, 3, 24 ^ 200, NVR_TCP_E_PDO },
	{ "datal", NVR_TCP_C2H_DATA, 0, 16, 0x01, NVR_TCP_E_DATAL },
	{ "success without last", NVR_TCP_C2H_DATA, 0, 1,
	  NVR_TCP_F_DATA_LAST | NVR_TCP_F_DATA_SUCCESS, NVR_TCP_E_FLAGS },
	{ "hdgst flag not negotiated", NVR_TCP_RSP, 0, 1, NVR_TCP_F_HDGST, NVR_TCP_E_FLAGS },
	{ "hdgst flag missing", NVR_TCP_RSP, 3, 1, NVR_TCP_F_HDGST, NVR_TCP_E_FLAGS },
	{ "ddgst flag missing", NVR_TCP_C2H_DATA, 2, 1, NVR_TCP_F_DDGST, NVR_TCP_E_FLAGS },
	{ "header digest", NVR_TCP_RSP, 3, 24, 0x10, NVR_TCP_E_HDGST },
	{ "header bit under digest", NVR_TCP_RSP, 3, 12, 0x10, NVR_TCP_E_HDGST },
	{ "data digest", NVR_TCP_C2H_DATA, 3, 40, 0x01, NVR_TCP_E_DDGST },
	{ "r2t length 0", NVR_TCP_R2T, 0, 16, 0x01, NVR_TCP_E_DATAL },
	{ "icresp pfv", NVR_TCP_ICRESP, 0, 8, 0x01, NVR_TCP_E_ICRESP },
	{ "icresp maxh2cdata", NVR_TCP_ICRESP, 0, 13, 0x20, NVR_TCP_E_ICRESP },
	{ "icresp cpda", NVR_TCP_ICRESP, 0, 10, 0x20, NVR_TCP_E_ICRESP },
	{ "icresp plen", NVR_TCP_ICRESP, 0, 4, 0x01, NVR_TCP_E_PLEN },
};

START_TEST(mutate)
{
	const struct mutation *m = &mutations[_i];
	struct nvr_tcp_params p = params(m->digests, false);
	struct shape sh = { .type = m->type, .data_len = m->type == NVR_TCP_C2H_DATA ? 16 : 0 };
	uint8_t *buf = calloc(1, BUF), *data = malloc(BUF);
	struct nvr_tcp_pdu pdu;
	long n = build(&sh, &p, buf, data);
	enum nvr_tcp_err e;

	ck_assert_int_gt(n, 0);
	ck_assert_uint_lt(m->at, (unsigned int)n);
	ck_assert_int_eq(nvr_tcp_pdu_decode(buf, (size_t)n, &p, &pdu), NVR_TCP_OK);
	buf[m->at] ^= m->xor;
	/* The whole buffer is given: a length may only be checked, never trusted. */
	e = nvr_tcp_pdu_decode(buf, BUF, &p, &pdu);
	ck_assert_msg(e == m->want, "%s: %s, expected %s", m->what, nvr_tcp_err_str(e),
		      nvr_tcp_err_str(m->want));
	free(buf);
	free(data);
}
END_TEST

START_TEST(encode_refuses)
{
	struct nvr_tcp_params p = params(0, false);
	uint8_t buf[256], psh[64] = { 0 }, data[8] = { 0 };

	ck_assert_int_eq(nvr_tcp_pdu_encode(buf, sizeof(buf), NVR_TCP_RSP, 0, psh, 15, NULL, 0, &p),
			 -EINVAL);
	ck_assert_int_eq(nvr_tcp_pdu_encode(buf, sizeof(buf), 0x0b, 0, psh, 16, NULL, 0, &p),
			 -EINVAL);
	ck_assert_int_eq(nvr_tcp_pdu_encode(buf, sizeof(buf), NVR_TCP_RSP, 0, psh, 16, data, 8, &p),
			 -EINVAL);
	ck_assert_int_eq(nvr_tcp_pdu_encode(buf, 71, NVR_TCP_CMD, 0, psh, 64, NULL, 0, &p),
			 -ENOSPC);
	p.cpda = 255;	/* PDO would pass 255 */
	ck_assert_int_eq(nvr_tcp_pdu_encode(buf, sizeof(buf), NVR_TCP_CMD, 0, psh, 64, data, 8, &p),
			 -EINVAL);
}
END_TEST

/* Before ICResp nothing is negotiated: only ICResp and a TermReq may come. */
START_TEST(before_icresp)
{
	struct nvr_tcp_params none = { 0 };
	struct nvr_tcp_ch ch = { .type = NVR_TCP_C2H_DATA, .hlen = 24, .plen = 24 + 512 };

	ck_assert_int_eq(nvr_tcp_hdr_check(&ch, &none), NVR_TCP_E_PLEN);
	ch = (struct nvr_tcp_ch){ .type = NVR_TCP_ICRESP, .hlen = 128, .plen = 128 };
	ck_assert_int_eq(nvr_tcp_hdr_check(&ch, &none), NVR_TCP_OK);
	ch = (struct nvr_tcp_ch){ .type = NVR_TCP_C2H_TERM, .hlen = 24, .plen = 24 + 129 };
	ck_assert_int_eq(nvr_tcp_hdr_check(&ch, &none), NVR_TCP_E_PLEN);
	ch.plen = 24 + 128;
	ck_assert_int_eq(nvr_tcp_hdr_check(&ch, &none), NVR_TCP_OK);
}
END_TEST

static Suite *pdu_suite(void)
{
	Suite *s = suite_create("tcp_pdu");
	TCase *tc = tcase_create("codec");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, crc32c_vectors);
	tcase_add_test(tc, err_names);
	tcase_add_loop_test(tc, round_trip, 0, (int)(sizeof(shapes) / sizeof(shapes[0])));
	tcase_add_loop_test(tc, mutate, 0, (int)(sizeof(mutations) / sizeof(mutations[0])));
	tcase_add_test(tc, encode_refuses);
	tcase_add_test(tc, before_icresp);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(pdu_suite());
}
