/* SPDX-License-Identifier: MIT */
/* The front end: one cmd_<name>() per subcommand, and what they share. */
#ifndef NVR_CMD_H
#define NVR_CMD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses, as nvmerace(1) documents them. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* expectations not met, anomalies found, data mismatch */
	EXIT_USAGE = 2,		/* bad arguments or bad input files */
	EXIT_ENV = 3,		/* environment or device error */
	EXIT_INTERRUPTED = 130,	/* SIGINT or SIGTERM */
};

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_identify(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_explore(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_bind(int argc, char **argv);
int cmd_unbind(int argc, char **argv);
int cmd_monitor(int argc, char **argv);

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

/* --device, --bind, --force, --write-range (cmd/device.c). */
struct nvr_transport;
struct nvr_run_opts;
struct device_opts {
	const char *bdf;	/* NULL: the simulator */
	bool bind, force;
	uint32_t write_nsid;	/* 0: no --write-range, real-device I/O is read only */
	uint64_t write_start, write_end;
	char addr[16];		/* bdf, normalised */
	char orig[64];		/* the driver before --bind */
	bool bound_here;
};

/* Parse NSID:START-END into @d; prints what is wrong. */
bool device_parse_write_range(const char *s, struct device_opts *d);
/*
 * The device options as getopt returns them ('D', 'b', 'f', 'W' with @arg):
 * 1 when @ch was one and is taken into @d, 0 when it is not a device option,
 * -1 when its argument is bad (already said).
 */
int device_getopt(int ch, const char *arg, struct device_opts *d);
/* Refuse a controller in use unless @force, then bind it to vfio-pci. Returns an exit status. */
int device_bind(const char *bdf, bool force, char *orig, size_t origlen);
/* Open d->bdf through VFIO (binding it first with --bind); *t NULL without --device. */
int device_open(struct device_opts *d, struct nvr_transport **t);
/* Release @t and give a device bound by --bind back to its driver. Returns an exit status. */
int device_close(struct device_opts *d, struct nvr_transport *t);
void device_run_opts(const struct device_opts *d, struct nvr_transport *t, struct nvr_run_opts *o);

/* signals.c: set by the first SIGINT or SIGTERM once signals_install() ran. */
extern _Atomic int stop_requested;
void signals_install(void);
/*
 * Run @fn on a second signal, just before exiting 130 without teardown: it
 * must be async-signal-safe (raw write(2)s: a terminal escape).
 * Return: 0, or -1 when the table is full.
 */
int signals_on_emergency(void (*fn)(void));
/* While @on, a second signal does not exit: the teardown must finish (--bind). */
void signals_hold(bool on);

#endif
