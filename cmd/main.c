// SPDX-License-Identifier: MIT
/* nvmerace: the subcommand table and the code every subcommand shares. */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmerace.h"
#include "cmd.h"

struct command {
	const char *name;
	const char *prog;	/* the prefix getopt's messages get */
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "help", "nvmerace: help", cmd_help, "show the commands, or one command's usage" },
	{ "version", "nvmerace: version", cmd_version, "print the version" },
	{ "identify", "nvmerace: identify", cmd_identify,
	  "bring a controller up and print what Identify says" },
	{ "run", "nvmerace: run", cmd_run, "run scenario files and check their expectations" },
	{ "explore", "nvmerace: explore", cmd_explore,
	  "run scenario rows over many schedules of the model scheduler" },
	{ "list", "nvmerace: list", cmd_list,
	  "list the NVMe controllers, their drivers and IOMMU groups" },
	{ "bind", "nvmerace: bind", cmd_bind, "give a controller to vfio-pci" },
	{ "unbind", "nvmerace: unbind", cmd_unbind, "give a controller back to its driver" },
	{ "monitor", "nvmerace: monitor", cmd_monitor,
	  "run a scenario with a live view of queues, vectors, anomalies" },
};

static const char main_usage[] =
	"usage: nvmerace <command> [options] [args]\n"
	"       nvmerace --version | --help\n"
	"\n"
	"commands:\n";

static const char help_usage[] =
	"usage: nvmerace help [COMMAND]\n"
	"\n"
	"Without COMMAND, lists the commands; with one, prints its options\n"
	"(as 'nvmerace COMMAND --help' does).\n";

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
	/* "help help", "help --help", and "help" as a command's --help. */
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(help_usage, stdout);
		return finish_stdout(EXIT_OK);
	}
	if (argc > 2) {
		warnx("help takes one command name");
		fputs(help_usage, stderr);
		return EXIT_USAGE;
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

int main(int argc, char **argv)
{
	const struct command *c;

	setup_logging(false);
	if (argc < 2) {
		warnx("no command given");
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
	/* getopt names argv[0] in its messages: "nvmerace: run: unrecognized option". */
	argv[1] = (char *)c->prog;
	return c->fn(argc - 1, argv + 1);
}
