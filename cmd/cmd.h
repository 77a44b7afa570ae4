/* SPDX-License-Identifier: MIT */
/* The front end: one cmd_<name>() per subcommand, and what they share. */
#ifndef NVR_CMD_H
#define NVR_CMD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmerace/scenario.h>

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
	const char *bdf;	/* NULL: the simulator (or --target) */
	const char *target;	/* --target tcp://HOST[:PORT]/SUBSYSNQN; NULL: none */
	const char *hostnqn;	/* --hostnqn; NULL: /etc/nvme/hostnqn, else from machine-id */
	bool hdgst, ddgst;	/* --hdr-digest, --data-digest: CRC32C digests over NVMe/TCP */
	char nqn[224];		/* the host NQN used */
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
/* Open d->bdf through VFIO (binding it first with --bind), or d->target over NVMe/TCP;
 * *t NULL without either. */
int device_open(struct device_opts *d, struct nvr_transport **t);
/* Release @t and give a device bound by --bind back to its driver. Returns an exit status. */
int device_close(struct device_opts *d, struct nvr_transport *t);
void device_run_opts(const struct device_opts *d, struct nvr_transport *t, struct nvr_run_opts *o);
/* How reports name the device: the address, the target URL, or "sim". */
const char *device_name(const struct device_opts *d);

/* Long-only options: codes past any letter. */
/* Long-only options shared through INPUT_LONGOPTS; a command's own start at 0x200. */
enum { OPT_TARGET = 0x100, OPT_HOSTNQN, OPT_HDGST, OPT_DDGST };

/* Device options for getopt_long: the long options, then their short letters. */
#define DEVICE_LONGOPTS \
	{ "device", required_argument, NULL, 'D' }, \
	{ "bind", no_argument, NULL, 'b' }, \
	{ "force", no_argument, NULL, 'f' }, \
	{ "target", required_argument, NULL, OPT_TARGET }, \
	{ "hostnqn", required_argument, NULL, OPT_HOSTNQN }, \
	{ "hdr-digest", no_argument, NULL, OPT_HDGST }, \
	{ "data-digest", no_argument, NULL, OPT_DDGST }
#define DEVICE_SHORTOPTS "D:bf"
#define WRITE_RANGE_LONGOPT { "write-range", required_argument, NULL, 'W' }
/* --bind and --force need --device, --write-range --device or --target, --hostnqn
 * and the digests --target, and --device and --target exclude each other; prints
 * what is wrong. */
bool device_check(const struct device_opts *d);

/*
 * options.c: what run and monitor share. Seeds are decimal and at most 48
 * bits, short enough to type back; a drawn seed is too.
 */
#define SEED_MAX UINT64_C(0xffffffffffff)
#define MAX_SETS 64
#define MAX_ONLY 64
struct run_inputs {
	struct device_opts dev;
	uint64_t seed;
	bool have_seed;
	uint64_t duration_ms;	/* 0: as the scenario says */
	struct nvr_override sets[MAX_SETS];	/* --set PATH=VALUE, in order */
	size_t nr_sets;
	const char *only[MAX_ONLY];	/* NAME or NAME/ROW */
	size_t nr_only;
	bool verbose;
};
#define INPUT_LONGOPTS \
	DEVICE_LONGOPTS, WRITE_RANGE_LONGOPT, \
	{ "seed", required_argument, NULL, 's' }, \
	{ "duration", required_argument, NULL, 'd' }, \
	{ "set", required_argument, NULL, 'S' }, \
	{ "only", required_argument, NULL, 'o' }, \
	{ "verbose", no_argument, NULL, 'v' }
#define INPUT_SHORTOPTS DEVICE_SHORTOPTS "W:s:d:S:o:v"

/* Parse a decimal seed in [0, SEED_MAX]; prints what is wrong. */
bool parse_seed(const char *s, uint64_t *out);
/* A random seed in [0, SEED_MAX]. */
uint64_t seed_draw(void);
/* Like device_getopt() for the options of INPUT_LONGOPTS. --set writes into @arg. */
int inputs_getopt(int ch, char *arg, struct run_inputs *in);
/* The checks between options, and the seed drawn when none was given. */
bool inputs_finish(struct run_inputs *in);
/* Does --only select scenario @name's row @row ("" for a scenario without rows)? */
bool inputs_selected(const struct run_inputs *in, const char *name, const char *row);
/* Load @file ("-": standard input) with the --set overrides and --duration. Exit status. */
int inputs_load(const struct run_inputs *in, const char *file, struct nvr_scenario *out);
/* Print each line of @msg to stderr, prefixed "nvmerace: ". */
void print_lines(const char *msg);

/*
 * replay.c: the command that runs row @name of @file again as it ran, every
 * word shell-quoted, into @buf. Return 0, or -ENAMETOOLONG (@buf emptied).
 */
int replay_format(char *buf, size_t len, const struct run_inputs *in, const char *file,
		  const char *name, uint64_t seed);

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
