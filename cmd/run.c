// SPDX-License-Identifier: MIT
/* nvmerace run: run scenario files, report, and exit with the verdict. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "cmd.h"
#include "explore.h"
#include "nvmerace.h"
#include "report.h"

static const char usage[] =
	"usage: nvmerace run [options] FILE...\n"
	"\n"
	"Runs each scenario FILE (every row of its matrix) on the simulated controller,\n"
	"or on a real one with --device, and exits 0 when every expectation is met.\n"
	"\n"
	"  -D, --device BDF      run on the controller at PCI address BDF (vfio-pci)\n"
	"  -b, --bind            bind it to vfio-pci for the run, and back after\n"
	"  -f, --force           with --bind: take it even when its namespaces are in use\n"
	"  -W, --write-range NSID:START-END\n"
	"                        LBAs (inclusive) real-device writes may touch; without\n"
	"                        it real-device I/O is read only\n"
	"  -s, --seed N          seed every random choice (default: drawn and printed)\n"
	"  -r, --repeat N        run each row N times, with seeds N, N+1, ...\n"
	"  -d, --duration MS     stop each run after MS milliseconds\n"
	"  -S, --set PATH=VALUE  override a scenario field, e.g. actors.io.steps.0.submit.count=1000\n"
	"  -o, --only NAME[/ROW] run only this scenario (or row); may be repeated\n"
	"  -l, --list            print what would run, and exit\n"
	"  -j, --json FILE       write a JSON report\n"
	"  -J, --junit FILE      write a JUnit XML report\n"
	"  -q, --quiet           no progress line, no per-row lines\n"
	"  -v, --verbose         log what the library does\n"
	"      --sched MODE      os (threads, the default) or model (the deterministic\n"
	"                        scheduler, simulator only; see EXPLORE in nvmerace(1))\n"
	"      --schedule FILE   model mode: replay the schedule FILE\n"
	"      --schedule-out FILE  model mode: write the schedule run to FILE\n"
	"      --timeline FILE   model mode: write the schedule's timeline to FILE\n"
	"  -h, --help            this text\n"
	"\n"
	"SIGINT or SIGTERM stops cleanly and writes the report, marked interrupted;\n"
	"a second one exits at once.\n"
	"\n"
	"exit status: 0 all expectations met, 1 some not met, 2 usage or scenario error,\n"
	"3 environment or device error, 130 interrupted\n";

#define MAX_SETS 64
#define MAX_ONLY 64

/* On a second signal: wipe the progress line (it is only drawn on a terminal). */
static void clear_progress(void)
{
	if (write(STDERR_FILENO, "\r\033[K", 4) < 0)
		return;
}

struct run_cfg {
	uint64_t seed;
	uint64_t repeat;
	uint64_t duration_ms;
	bool have_duration;
	struct nvr_override sets[MAX_SETS];
	size_t nr_sets;
	const char *only[MAX_ONLY];
	size_t nr_only;
	bool list, quiet;
	const char *json, *junit;
	bool progress;
	struct device_opts dev;
	struct explore_cfg x;
	bool have_seed;
};

static const char explore_usage[] =
	"usage: nvmerace explore [options] FILE...\n"
	"\n"
	"Runs each row of each scenario FILE on the simulated controller under the\n"
	"deterministic scheduler, over many schedules: a row that expects a bug passes\n"
	"when a schedule catches it, a clean row when no explored schedule breaks an\n"
	"expectation. See EXPLORE in nvmerace(1).\n"
	"\n"
	"  -o, --only NAME[/ROW] explore only this scenario (or row); may be repeated\n"
	"      --strategy S      random (default), pct or dfs\n"
	"  -s, --seed N          the exploration's seed (random, pct; default: drawn)\n"
	"      --bound N         dfs: preemptions and store delays, each (default 1);\n"
	"                        pct: the depth (default 3)\n"
	"      --budget N        schedules at most (default: random, pct 20; dfs 2000)\n"
	"      --schedule-out FILE  write the deciding schedule to FILE\n"
	"      --timeline FILE   write the deciding schedule, shrunk, as a timeline\n"
	"  -S, --set PATH=VALUE  override a scenario field\n"
	"  -l, --list            print what would run, and exit\n"
	"  -j, --json FILE       write a JSON report (each row with \"sched\")\n"
	"  -J, --junit FILE      write a JUnit XML report\n"
	"  -q, --quiet           no per-row lines\n"
	"  -v, --verbose         log what the library does\n"
	"  -h, --help            this text\n"
	"\n"
	"exit status: 0 every row as expected, 1 some not, 2 usage or scenario error,\n"
	"3 environment error (no model build), 130 interrupted\n";

enum { OPT_SCHED = 0x100, OPT_SCHEDULE, OPT_SCHEDULE_OUT, OPT_TIMELINE, OPT_STRATEGY,
       OPT_BOUND, OPT_BUDGET };

static bool selected(const struct run_cfg *c, const char *name, const char *row)
{
	char full[128];

	if (!c->nr_only)
		return true;
	snprintf(full, sizeof(full), "%s/%s", name, row);
	for (size_t i = 0; i < c->nr_only; i++)
		if (!strcmp(c->only[i], name) || (row[0] && !strcmp(c->only[i], full)))
			return true;
	return false;
}

static void progress(const struct nvr_stats *st, void *arg)
{
	const char *name = arg;
	uint64_t an = 0;

	for (int c = 0; c < NVR_AN_NR; c++)
		an += st->anomalies[c];
	fprintf(stderr, "\r\033[K%s  %" PRIu64 " cmds  %" PRIu64 " anomalies  %.1fs", name,
		st->completed, an, (double)st->elapsed_ns / 1e9);
}

static bool parse_set(struct run_cfg *c, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		warnx("invalid --set '%s': expected PATH=VALUE", arg);
		return false;
	}
	if (c->nr_sets == MAX_SETS) {
		warnx("too many --set options (at most %d)", MAX_SETS);
		return false;
	}
	*eq = '\0';
	c->sets[c->nr_sets++] = (struct nvr_override){ .path = arg, .value = eq + 1 };
	return true;
}

static int parse_args(int argc, char **argv, struct run_cfg *c)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'D' },
		{ "bind", no_argument, NULL, 'b' },
		{ "force", no_argument, NULL, 'f' },
		{ "write-range", required_argument, NULL, 'W' },
		{ "seed", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "set", required_argument, NULL, 'S' },
		{ "only", required_argument, NULL, 'o' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "junit", required_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "sched", required_argument, NULL, OPT_SCHED },
		{ "schedule", required_argument, NULL, OPT_SCHEDULE },
		{ "schedule-out", required_argument, NULL, OPT_SCHEDULE_OUT },
		{ "timeline", required_argument, NULL, OPT_TIMELINE },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "bound", required_argument, NULL, OPT_BOUND },
		{ "budget", required_argument, NULL, OPT_BUDGET },
		{ NULL, 0, NULL, 0 },
	};
	const char *use = c->x.explore ? explore_usage : usage;
	bool have_seed = false;
	uint64_t v;
	int ch;

	c->repeat = 1;
	c->x.bound = -1;
	while ((ch = getopt_long(argc, argv, "D:bfW:s:r:d:S:o:lj:J:qvh", opts, NULL)) != -1) {
		int dev = device_getopt(ch, optarg, &c->dev);

		if (dev < 0)
			return EXIT_USAGE;
		if (dev)
			continue;
		switch (ch) {
		case 's':
			if (!parse_u64(optarg, "seed", 0, UINT64_MAX, &c->seed))
				return EXIT_USAGE;
			have_seed = true;
			break;
		case 'r':
			if (!parse_u64(optarg, "repeat count", 1, 1000000, &c->repeat))
				return EXIT_USAGE;
			break;
		case 'd':
			if (!parse_u64(optarg, "duration", 1, 86400000, &c->duration_ms))
				return EXIT_USAGE;
			c->have_duration = true;
			break;
		case 'S':
			if (!parse_set(c, optarg))
				return EXIT_USAGE;
			break;
		case 'o':
			if (c->nr_only == MAX_ONLY) {
				warnx("too many --only options (at most %d)", MAX_ONLY);
				return EXIT_USAGE;
			}
			c->only[c->nr_only++] = optarg;
			break;
		case 'l':
			c->list = true;
			break;
		case 'j':
			c->json = optarg;
			break;
		case 'J':
			c->junit = optarg;
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'v':
			setup_logging(true);
			break;
		case 'h':
			fputs(use, stdout);
			return finish_stdout(EXIT_OK) == EXIT_OK ? -1 : EXIT_ENV;
		case OPT_SCHED:
			if (strcmp(optarg, "os") && strcmp(optarg, "model")) {
				warnx("invalid --sched '%s': expected os or model", optarg);
				return EXIT_USAGE;
			}
			c->x.model = !strcmp(optarg, "model");
			break;
		case OPT_SCHEDULE:
			c->x.schedule_in = optarg;
			c->x.model = true;
			break;
		case OPT_SCHEDULE_OUT:
			c->x.schedule_out = optarg;
			break;
		case OPT_TIMELINE:
			c->x.timeline = optarg;
			break;
		case OPT_STRATEGY:
			if (!explore_parse_strategy(optarg, &c->x.strategy))
				return EXIT_USAGE;
			break;
		case OPT_BOUND:
			if (!parse_u64(optarg, "bound", 0, 64, &v))
				return EXIT_USAGE;
			c->x.bound = (int)v;
			break;
		case OPT_BUDGET:
			if (!parse_u64(optarg, "budget", 1, 100000000, &c->x.budget))
				return EXIT_USAGE;
			break;
		default:
			return usage_error(use);
		}
	}
	/* explore takes only its own options (and run's that make sense there). */
	if (c->x.explore && (c->dev.bdf || c->x.schedule_in || c->repeat != 1 ||
			     c->have_duration)) {
		warnx("explore takes no --device, --schedule, --repeat or --duration");
		return usage_error(use);
	}
	if (!c->x.explore && !c->x.model &&
	    (c->x.schedule_out || c->x.timeline)) {
		warnx("--schedule-out and --timeline need --sched model");
		return usage_error(use);
	}
	if (c->x.model && c->dev.bdf) {
		warnx("--sched model runs the simulator only: no --device");
		return usage_error(use);
	}
	if (!c->x.explore && (c->x.bound >= 0 || c->x.budget || c->x.strategy)) {
		warnx("--strategy, --bound and --budget are explore's options");
		return usage_error(use);
	}
	if (optind == argc) {
		warnx("no scenario files given");
		return usage_error(use);
	}
	if ((c->dev.bind || c->dev.force || c->dev.write_nsid) && !c->dev.bdf) {
		warnx("--bind, --force and --write-range need --device");
		return usage_error(use);
	}
	c->have_seed = have_seed;
	if (!have_seed && getrandom(&c->seed, sizeof(c->seed), 0) != sizeof(c->seed))
		c->seed = (uint64_t)time(NULL);
	c->seed &= 0xffffffffffffull;	/* short enough to type back */
	c->progress = !c->quiet && isatty(STDERR_FILENO);
	return 0;
}

/* Load every file before running any: a bad file stops the run before it starts. */
static int load_all(const struct run_cfg *c, char **files, int n, struct nvr_scenario **out)
{
	struct nvr_scenario *scns = calloc((size_t)n, sizeof(*scns));
	char msg[2048];
	int bad = 0;

	if (!scns)
		err(EXIT_ENV, "out of memory");
	for (int i = 0; i < n; i++) {
		int ret = nvr_scenario_load(files[i], c->sets, c->nr_sets, &scns[i], msg, sizeof(msg));

		if (ret) {
			fprintf(stderr, "%s\n", msg);
			bad = EXIT_USAGE;
		}
	}
	if (bad) {
		free(scns);
		return bad;
	}
	*out = scns;
	return 0;
}

static int run_one(const struct run_cfg *c, const struct nvr_scenario *scn, uint32_t row,
		   uint64_t seed, struct nvr_transport *t, struct report *rep)
{
	struct nvr_run_opts o = { .seed = seed, .stop = &stop_requested };
	struct nvr_result *res = calloc(1, sizeof(*res));
	char name[128];

	if (!res)
		return -ENOMEM;
	device_run_opts(&c->dev, t, &o);
	snprintf(name, sizeof(name), "%s%s%s", scn->name, scn->nr_rows && scn->rows[row].name[0] ? "/" : "",
		 scn->nr_rows ? scn->rows[row].name : "");
	if (c->progress) {
		o.progress = progress;
		o.progress_arg = name;
	}
	if (c->x.model) {
		struct nvr_explore_result er;

		o.progress = NULL;	/* virtual time: a progress line says nothing */
		explore_row(&c->x, scn, row, &o, res, &er);
		report_add(rep, scn->file, res);
		rep->e[rep->n - 1].has_sched = true;
		rep->e[rep->n - 1].sched = er;
		snprintf(rep->e[rep->n - 1].schedule_file, sizeof(rep->e[rep->n - 1].schedule_file),
			 "%s", c->x.schedule_out ? c->x.schedule_out : "");
		if (!c->quiet) {
			report_line(stdout, &rep->e[rep->n - 1]);
			explore_line(stdout, &er);
			fflush(stdout);
		}
		free(res);
		return 0;
	}
	nvr_run_row(scn, row, &o, res);
	if (c->progress)
		fputs("\r\033[K", stderr);
	report_add(rep, scn->file, res);
	if (!c->quiet) {
		report_line(stdout, &rep->e[rep->n - 1]);
		fflush(stdout);
	}
	free(res);
	return 0;
}

static int run_main(int argc, char **argv, bool explore)
{
	struct run_cfg c = { .x.explore = explore, .x.model = explore };
	struct nvr_scenario *scns = NULL;
	struct report rep = { 0 };
	struct nvr_transport *t = NULL;
	int nfiles, ret, status = EXIT_OK;
	/* The arguments as given (parse_args() cuts --set in two), for the model binary. */
	char **av = calloc((size_t)argc + 2, sizeof(*av));

	if (!av)
		err(EXIT_ENV, "out of memory");
	av[0] = "nvmerace-model";
	for (int i = 0; i < argc; i++)
		if (!(av[i + 1] = strdup(argv[i])))
			err(EXIT_ENV, "out of memory");
	ret = parse_args(argc, argv, &c);
	/* A schedule file replays the row with the seed it was run with. */
	if (!ret && c.x.schedule_in && !c.have_seed)
		ret = explore_schedule_seed(c.x.schedule_in, &c.seed);
	/* Normal build: the model binary takes over with the same arguments. */
	if (!ret && c.x.model && !c.list)
		ret = explore_exec_model(av);
	for (int i = 0; i < argc; i++)
		free(av[i + 1]);
	free(av);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	nfiles = argc - optind;
	ret = load_all(&c, argv + optind, nfiles, &scns);
	if (ret)
		return ret;

	if (c.list) {
		for (int i = 0; i < nfiles; i++)
			for (uint32_t r = 0; r < NVR_MAX(scns[i].nr_rows, 1u); r++) {
				const char *row = scns[i].nr_rows ? scns[i].rows[r].name : "";

				if (selected(&c, scns[i].name, row))
					printf("%s%s%s\t%s\n", scns[i].name, row[0] ? "/" : "", row,
					       scns[i].file);
			}
		free(scns);
		return finish_stdout(EXIT_OK);
	}

	signals_install();
	if (c.progress)
		signals_on_emergency(clear_progress);
	/* A device bound by --bind must go back to its driver: no hasty exit then. */
	signals_hold(c.dev.bind);
	ret = device_open(&c.dev, &t);
	if (ret) {
		free(scns);
		return ret;
	}
	if (!c.quiet)
		fprintf(stderr, "nvmerace: seed %" PRIu64 "\n", c.seed);
	for (int i = 0; i < nfiles && !stop_requested; i++) {
		if (c.have_duration)
			scns[i].duration_ns = c.duration_ms * 1000000ull;
		for (uint32_t r = 0; r < NVR_MAX(scns[i].nr_rows, 1u) && !stop_requested; r++) {
			const char *row = scns[i].nr_rows ? scns[i].rows[r].name : "";

			if (!selected(&c, scns[i].name, row))
				continue;
			for (uint64_t k = 0; k < c.repeat && !stop_requested; k++)
				if (run_one(&c, &scns[i], r, c.seed + k, t, &rep))
					err(EXIT_ENV, "out of memory");
		}
	}

	if (device_close(&c.dev, t))
		status = EXIT_ENV;
	/* A signal between rows (or in a row's teardown) interrupts the run too. */
	if (stop_requested)
		rep.interrupted = true;
	if (!c.quiet)
		report_failures(stdout, &rep, "nvmerace");
	report_totals(stdout, &rep);
	for (size_t i = 0; i < rep.n; i++) {
		if (rep.e[i].res.verdict == NVR_ERROR)
			status = EXIT_ENV;
		else if (rep.e[i].res.verdict == NVR_FAIL && status == EXIT_OK)
			status = EXIT_FAILED;
	}
	if (c.nr_only && !rep.n) {
		warnx("--only matched no scenario or row");
		status = EXIT_USAGE;
	}
	if (c.json && (ret = report_json(&rep, c.json))) {
		warnx("cannot write '%s': %s", c.json, strerror(-ret));
		status = EXIT_ENV;
	}
	if (c.junit && (ret = report_junit(&rep, c.junit))) {
		warnx("cannot write '%s': %s", c.junit, strerror(-ret));
		status = EXIT_ENV;
	}
	if (rep.interrupted)
		status = EXIT_INTERRUPTED;
	report_release(&rep);
	free(scns);
	return finish_stdout(status);
}

int cmd_run(int argc, char **argv)
{
	return run_main(argc, argv, false);
}

int cmd_explore(int argc, char **argv)
{
	return run_main(argc, argv, true);
}
