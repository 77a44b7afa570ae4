// SPDX-License-Identifier: MIT
/*
 * The replay line: the one command that runs a row again exactly as it ran,
 * with every input that shaped it (file, row, seed, each --set, --duration,
 * the device and its write range), each word quoted for a POSIX shell.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

struct line {
	char *buf;
	size_t len, pos;
	bool over;
};

static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->pos, l->len - l->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= l->len - l->pos)
		l->over = true;
	else
		l->pos += (size_t)n;
}

/* One word, quoted unless every byte is one a shell never interprets. */
static void word(struct line *l, const char *w)
{
	static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789_-+=.,/:@%";

	put(l, " ");
	if (*w && strspn(w, safe) == strlen(w)) {
		put(l, "%s", w);
		return;
	}
	put(l, "'");
	for (; *w; w++)
		if (*w == '\'')
			put(l, "'\\''");
		else
			put(l, "%c", *w);
	put(l, "'");
}

int replay_format(char *buf, size_t len, const struct run_inputs *in, const char *file,
		  const char *name, uint64_t seed)
{
	struct line l = { .buf = buf, .len = len };
	char tmp[1024];

	put(&l, "nvmerace run");
	if (in->dev.target) {
		word(&l, "--target");
		word(&l, in->dev.target);
		if (in->dev.hostnqn) {
			word(&l, "--hostnqn");
			word(&l, in->dev.hostnqn);
		}
		if (in->dev.hdgst)
			word(&l, "--hdr-digest");
		if (in->dev.ddgst)
			word(&l, "--data-digest");
	}
	if (in->dev.target && in->dev.write_nsid) {
		snprintf(tmp, sizeof(tmp), "%" PRIu32 ":%" PRIu64 "-%" PRIu64,
			 in->dev.write_nsid, in->dev.write_start, in->dev.write_end);
		word(&l, "--write-range");
		word(&l, tmp);
	}
	if (in->dev.bdf) {
		word(&l, "--device");
		word(&l, in->dev.bdf);
		if (in->dev.bind)
			word(&l, "--bind");
		if (in->dev.write_nsid) {
			snprintf(tmp, sizeof(tmp), "%" PRIu32 ":%" PRIu64 "-%" PRIu64,
				 in->dev.write_nsid, in->dev.write_start, in->dev.write_end);
			word(&l, "--write-range");
			word(&l, tmp);
		}
	}
	snprintf(tmp, sizeof(tmp), "%" PRIu64, seed);
	word(&l, "--seed");
	word(&l, tmp);
	if (in->duration_ms) {
		snprintf(tmp, sizeof(tmp), "%" PRIu64, in->duration_ms);
		word(&l, "--duration");
		word(&l, tmp);
	}
	for (size_t i = 0; i < in->nr_sets; i++) {
		snprintf(tmp, sizeof(tmp), "%s=%s", in->sets[i].path, in->sets[i].value);
		word(&l, "--set");
		word(&l, tmp);
	}
	word(&l, "--only");
	word(&l, name);
	/* "-" reads the scenario from standard input: feed it the same text. */
	if (file[0] == '-' && file[1])
		put(&l, " --");
	word(&l, file);
	if (l.over) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}
