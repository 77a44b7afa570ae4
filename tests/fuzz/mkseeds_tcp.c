// SPDX-License-Identifier: MIT
/*
 * Writes the seeds of the tcp_pdu harness (make fuzz-seeds): one valid PDU of
 * each type, in each direction that receives it, with and without digests and
 * with a coarse alignment, each behind the harness's two parameter bytes.
 *
 * usage: mkseeds_tcp DIR   (writes DIR/tcp_pdu/)
 */
#include <err.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dev/tcp/pdu.h"

struct shape {
	const char *name;
	uint8_t type, flags;
	bool controller;	/* the receiving side */
	uint32_t data_len;
};

static const struct shape shapes[] = {
	{ "icreq", NVR_TCP_ICREQ, 0, true, 0 },
	{ "icresp", NVR_TCP_ICRESP, 0, false, 0 },
	{ "cmd", NVR_TCP_CMD, 0, true, 0 },
	{ "cmd-data", NVR_TCP_CMD, 0, true, 1024 },
	{ "rsp", NVR_TCP_RSP, 0, false, 0 },
	{ "h2c", NVR_TCP_H2C_DATA, NVR_TCP_F_DATA_LAST, true, 512 },
	{ "c2h", NVR_TCP_C2H_DATA, 0, false, 512 },
	{ "c2h-success", NVR_TCP_C2H_DATA, NVR_TCP_F_DATA_LAST | NVR_TCP_F_DATA_SUCCESS, false,
	  64 },
	{ "r2t", NVR_TCP_R2T, 0, false, 0 },
	{ "c2h-term", NVR_TCP_C2H_TERM, 0, false, 24 },
	{ "h2c-term", NVR_TCP_H2C_TERM, 0, true, 72 },
};

int main(int argc, char **argv)
{
	static uint8_t out[2 + 4096], data[2048];
	char dir[512], path[600];

	if (argc != 2)
		errx(2, "usage: mkseeds_tcp DIR");
	snprintf(dir, sizeof(dir), "%s/tcp_pdu", argv[1]);
	mkdir(dir, 0755);
	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);
	for (unsigned int s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		const struct shape *sh = &shapes[s];
		/* Byte 0: digests (bits 1:0), decode as controller (2), PDA choice 3 = 7 (4:3). */
		for (unsigned int v = 0; v < 3; v++) {
			uint8_t dg = v == 1 ? 3 : 0, pda = v == 2 ? 3 : 0;
			struct nvr_tcp_params enc = { .hdgst = dg & 1, .ddgst = dg & 2,
						      .controller = !sh->controller,
						      .hpda = pda ? 7 : 0, .cpda = pda ? 7 : 0 };
			uint8_t psh[120] = { 0 };
			uint32_t psh_len = sh->type <= NVR_TCP_ICRESP ? 120
					   : sh->type == NVR_TCP_CMD ? 64 : 16;
			long n;
			FILE *f;

			if (sh->type == NVR_TCP_ICRESP)
				psh[5] = 0x20;				/* MAXH2CDATA 8192 */
			if (sh->type == NVR_TCP_H2C_DATA || sh->type == NVR_TCP_C2H_DATA)
				memcpy(psh + 8, &sh->data_len, 4);	/* DATAL */
			if (sh->type == NVR_TCP_R2T)
				psh[9] = 0x10;				/* R2TL 4096 */
			if (sh->type == NVR_TCP_C2H_TERM || sh->type == NVR_TCP_H2C_TERM)
				psh[0] = NVR_TCP_FES_INVALID_HEADER;
			out[0] = (uint8_t)(dg | (sh->controller ? 4 : 0) | pda << 3 | 1 << 5);
			out[1] = 2;					/* MAXH2CDATA 8192 */
			n = nvr_tcp_pdu_encode(out + 2, sizeof(out) - 2, sh->type, sh->flags, psh,
					       psh_len, sh->data_len ? data : NULL, sh->data_len,
					       &enc);
			if (n < 0)
				errx(1, "%s: cannot encode", sh->name);
			snprintf(path, sizeof(path), "%s/%s-%u", dir, sh->name, v);
			f = fopen(path, "wb");
			if (!f || fwrite(out, 1, (size_t)n + 2, f) != (size_t)n + 2 || fclose(f))
				err(1, "cannot write '%s'", path);
		}
	}
	return 0;
}
