/* SPDX-License-Identifier: MIT */
/* The front end: one cmd_<name>() per subcommand, and what they share. */
#ifndef NVR_CMD_H
#define NVR_CMD_H

#include <stdbool.h>
#include <stdint.h>

/* Exit statuses, as nvmerace(1) documents them. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* expectations not met, anomalies found, data mismatch */
	EXIT_USAGE = 2,		/* bad arguments or bad input files */
	EXIT_ENV = 3,		/* environment or device error */
};

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_identify(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* Print @usage to stderr and return EXIT_USAGE. */
int usage_error(const char *usage);

/*
 * Parse an unsigned decimal (or 0x hex) number in [min, max]; on error print
 * "invalid <what> '<s>': <reason>" and return false.
 */
bool parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out);

/* Flush stdout and report a write error; returns @status or EXIT_ENV. */
int finish_stdout(int status);

/* Route library messages to stderr, prefixed with the program name. */
void setup_logging(bool verbose);

#endif
