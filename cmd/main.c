// SPDX-License-Identifier: MIT
/* nvmerace: the subcommand table and the code every subcommand shares. */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nvmerace.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "help", cmd_help, "show the commands, or one command's usage" },
	{ "version", cmd_version, "print the version" },
	{ "identify", cmd_identify, "bring a controller up and print what Identify says" },
	{ "run", cmd_run, "run scenario files and check their expectations" },
	{ "explore", cmd_explore, "run scenario rows over many schedules of the model scheduler" },
	{ "list", cmd_list, "list the NVMe controllers, their drivers and IOMMU groups" },
	{ "bind", cmd_bind, "give a controller to vfio-pci" },
	{ "unbind", cmd_unbind, "give a controller back to its driver" },
	{ "monitor", cmd_monitor, "run a scenario with a live view of queues, vectors, anomalies" },
};

static const char main_usage[] =
	"usage: nvmerace <command> [options] [args]\n"
	"       nvmerace --version | --help\n"
	"\n"
	"commands:\n";

static void print_commands(FILE *f)
{
	fputs(main_usage, f);
	for (size_t i = 0; i < NVR_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'nvmerace <command> --help' shows a command's options; see nvmerace(1).\n", f);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NVR_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int cmd_help(int argc, char **argv)
{
	const struct command *c;
	char *sub[] = { NULL, "--help", NULL };

	if (argc < 2) {
		print_commands(stdout);
		return finish_stdout(EXIT_OK);
	}
	c = find_command(argv[1]);
	if (!c) {
		warnx("unknown command '%s'", argv[1]);
		return EXIT_USAGE;
	}
	sub[0] = argv[1];
	return c->fn(2, sub);
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("nvmerace %s\n", NVR_VERSION);
	return finish_stdout(EXIT_OK);
}

int usage_error(const char *usage)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}

bool parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!*s || *s == '-' || *s == '+') {
		warnx("invalid %s '%s': not a number", what, s);
		return false;
	}
	v = strtoull(s, &end, 0);
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

int main(int argc, char **argv)
{
	const struct command *c;

	setup_logging(false);
	if (argc < 2) {
		print_commands(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv + 1);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(1, argv + 1);
	c = find_command(argv[1]);
	if (!c) {
		warnx("unknown command '%s'; see 'nvmerace help'", argv[1]);
		return EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
