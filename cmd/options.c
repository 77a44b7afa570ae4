// SPDX-License-Identifier: MIT
/*
 * The options run and monitor share (and identify's device options): one
 * parser for --seed, --set, --duration and --only, the seed default, the
 * checks between them, and reading a scenario from a file or standard input.
 */
#include <err.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "nvmerace.h"
#include "cmd.h"
#include <nvmerace/scenario.h>

int usage_error(const char *usage)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}

bool parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *digits = s;
	unsigned long long v;
	int base = 10;
	char *end;

	/* Decimal or 0x hex, never octal: "010" is ten. */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
	}
	if (!(base == 16 ? isxdigit((unsigned char)*digits) : isdigit((unsigned char)*digits))) {
		warnx("invalid %s '%s': not a number", what, s);
		return false;
	}
	errno = 0;
	v = strtoull(digits, &end, base);
	if (*end) {
		warnx("invalid %s '%s': not a number", what, s);
		return false;
	}
	if (errno == ERANGE || v > max) {
		warnx("invalid %s '%s': too large (at most %" PRIu64 ")", what, s, max);
		return false;
	}
	if (v < min) {
		warnx("invalid %s '%s': too small (at least %" PRIu64 ")", what, s, min);
		return false;
	}
	*out = v;
	return true;
}

int finish_stdout(int status)
{
	if (fflush(stdout) || ferror(stdout) || fclose(stdout)) {
		warn("cannot write to standard output");
		return EXIT_ENV;
	}
	return status;
}

static void log_to_stderr(enum nvr_log_level level, const char *msg, void *arg)
{
	static const char *const prefix[] = { "error", "warning", "info", "debug" };

	(void)arg;
	fprintf(stderr, "nvmerace: %s: %s\n", prefix[level], msg);
}

void setup_logging(bool verbose)
{
	nvr_log_set_sink(log_to_stderr, NULL, verbose ? NVR_LOG_DEBUG : NVR_LOG_WARN);
}

bool parse_seed(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || strspn(s, "0123456789") != strlen(s)) {
		warnx("invalid seed '%s': not a decimal number", s);
		return false;
	}
	for (const char *p = s; *p; p++) {
		if (v > (SEED_MAX - (uint64_t)(*p - '0')) / 10) {
			warnx("invalid seed '%s': too large (at most %" PRIu64 ", 48 bits)", s,
			      SEED_MAX);
			return false;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return true;
}

uint64_t seed_draw(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), 0) != sizeof(s))
		s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	return s & SEED_MAX;
}

static bool parse_set(struct run_inputs *in, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		warnx("invalid --set '%s': expected PATH=VALUE", arg);
		return false;
	}
	if (in->nr_sets == MAX_SETS) {
		warnx("too many --set options (at most %d)", MAX_SETS);
		return false;
	}
	*eq = '\0';
	in->sets[in->nr_sets++] = (struct nvr_override){ .path = arg, .value = eq + 1 };
	return true;
}

int inputs_getopt(int ch, char *arg, struct run_inputs *in)
{
	int dev = device_getopt(ch, arg, &in->dev);

	if (dev)
		return dev;
	switch (ch) {
	case 's':
		if (!parse_seed(arg, &in->seed))
			return -1;
		in->have_seed = true;
		return 1;
	case 'd':
		if (!parse_u64(arg, "duration", 1, 86400000, &in->duration_ms))
			return -1;
		return 1;
	case 'S':
		return parse_set(in, arg) ? 1 : -1;
	case 'o':
		if (in->nr_only == MAX_ONLY) {
			warnx("too many --only options (at most %d)", MAX_ONLY);
			return -1;
		}
		in->only[in->nr_only++] = arg;
		return 1;
	case 'v':
		setup_logging(true);
		in->verbose = true;
		return 1;
	default:
		return 0;
	}
}

bool device_check(const struct device_opts *d)
{
	if (d->bdf && d->target) {
		warnx("--device and --target name two controllers: give one");
		return false;
	}
	if ((d->bind || d->force) && !d->bdf) {
		warnx("--bind and --force need --device");
		return false;
	}
	if (d->write_nsid && !d->bdf && !d->target) {
		warnx("--write-range needs --device or --target");
		return false;
	}
	if (d->hostnqn && !d->target) {
		warnx("--hostnqn needs --target");
		return false;
	}
	if ((d->hdgst || d->ddgst) && !d->target) {
		warnx("%s needs --target", d->hdgst ? "--hdr-digest" : "--data-digest");
		return false;
	}
	return true;
}

bool inputs_finish(struct run_inputs *in)
{
	if (!device_check(&in->dev))
		return false;
	if (!in->have_seed)
		in->seed = seed_draw();
	return true;
}

bool inputs_selected(const struct run_inputs *in, const char *name, const char *row)
{
	char full[160];

	if (!in->nr_only)
		return true;
	snprintf(full, sizeof(full), "%s/%s", name, row);
	for (size_t i = 0; i < in->nr_only; i++)
		if (!strcmp(in->only[i], name) || (row[0] && !strcmp(in->only[i], full)))
			return true;
	return false;
}

void print_lines(const char *msg)
{
	while (*msg) {
		size_t n = strcspn(msg, "\n");

		fprintf(stderr, "nvmerace: %.*s\n", (int)n, msg);
		msg += n;
		if (*msg)
			msg++;
	}
}

/* Read all of standard input; return 0 or -errno. */
static int slurp_stdin(char **buf, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *b = malloc(cap);
	ssize_t r;

	if (!b)
		return -ENOMEM;
	while ((r = read(STDIN_FILENO, b + n, cap - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(b);
			return (int)r;
		}
		n += (size_t)r;
		if (n == cap) {
			char *nb = cap < (64u << 20) ? realloc(b, cap * 2) : NULL;

			if (!nb) {
				free(b);
				return -EFBIG;
			}
			b = nb;
			cap *= 2;
		}
	}
	*buf = b;
	*len = n;
	return 0;
}

int inputs_load(const struct run_inputs *in, const char *file, struct nvr_scenario *out)
{
	static bool stdin_taken;
	char msg[2048], *buf = NULL;
	size_t len = 0;
	int ret;

	if (strcmp(file, "-")) {
		ret = nvr_scenario_load(file, in->sets, in->nr_sets, out, msg, sizeof(msg));
	} else if (stdin_taken) {
		warnx("'-' (standard input) given twice");
		return EXIT_USAGE;
	} else {
		stdin_taken = true;
		ret = slurp_stdin(&buf, &len);
		if (ret) {
			warnx("cannot read standard input: %s", strerror(-ret));
			return EXIT_USAGE;
		}
		ret = nvr_scenario_parse(buf, len, "<stdin>", in->sets, in->nr_sets, out, msg,
					 sizeof(msg));
		free(buf);
	}
	if (ret) {
		print_lines(msg);
		return EXIT_USAGE;
	}
	if (in->duration_ms)
		out->duration_ns = in->duration_ms * 1000000ull;
	return 0;
}
