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
#include <unistd.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "cmd.h"
#include "explore.h"
#include "retry.h"
#include "nvmerace.h"
#include "report.h"

static const char run_usage[] =
	"usage: nvmerace run [options] FILE...\n"
	"\n"
	"Runs each scenario FILE (every row of its matrix; '-' reads standard input)\n"
	"on the simulated controller, a real one with --device, or one over NVMe/TCP\n"
	"with --target, and exits 0 when every expectation is met. Each failure ends\n"
	"with the command that replays it.\n"
	"\n"
	"  -D, --device BDF      run on the controller at PCI address BDF (vfio-pci)\n"
	"  -b, --bind            bind it to vfio-pci for the run, and back after\n"
	"  -f, --force           with --bind: take it even when its namespaces are in use\n"
	"      --target URL      run on the controller at tcp://HOST[:PORT]/SUBSYSNQN\n"
	"      --hostnqn NQN     this host's NQN for --target (default: /etc/nvme/hostnqn,\n"
	"                        else one made from /etc/machine-id)\n"
	"      --hdr-digest      with --target: ask for CRC32C header digests\n"
	"      --data-digest     with --target: ask for CRC32C data digests\n"
	"  -W, --write-range NSID:START-END\n"
	"                        LBAs (inclusive) real-device writes may touch; without\n"
	"                        it real-device I/O is read only\n"
	"  -s, --seed N          seed every random choice, N decimal below 2^48\n"
	"                        (default: drawn and printed)\n"
	"  -r, --repeat N        run each row N times, with seeds N, N+1, ...\n"
	"  -d, --duration MS     stop each run after MS milliseconds\n"
	"  -S, --set PATH=VALUE  override a scenario field, e.g. actors.io.steps.0.submit.count=1000\n"
	"  -o, --only NAME[/ROW] run only this scenario (or row); may be repeated\n"
	"  -l, --list            print what would run, and exit\n"
	"  -j, --json FILE       write a JSON report (- for standard output)\n"
	"  -J, --junit FILE      write a JUnit XML report (- for standard output)\n"
	"  -q, --quiet           no progress line, no per-row lines\n"
	"      --strict          on a real controller, a row that did not reproduce\n"
	"                        the bug it expects fails the run (exit 1)\n"
	"  -v, --verbose         log the bring-up, the queues and each row's start and end\n"
	"      --sched MODE      os (threads, the default) or model (the deterministic\n"
	"                        scheduler, simulator only; see EXPLORE in nvmerace(1))\n"
	"      --schedule FILE   model mode: replay the schedule FILE\n"
	"      --schedule-out FILE  model mode: write the schedule run to FILE\n"
	"      --timeline FILE   model mode: write the schedule's timeline to FILE\n"
	"      --timeline-shared only the steps that matter in it: shared objects,\n"
	"                        wake-ups, preemptions, delayed stores\n"
	"  -h, --help            this text\n"
	"\n"
	"SIGINT or SIGTERM stops cleanly and writes the report, marked interrupted;\n"
	"a second one exits at once.\n"
	"\n"
	"exit status: 0 all expectations met (a bug the device did not reproduce\n"
	"included, unless --strict), 1 some not met, 2 usage or scenario error,\n"
	"3 environment or device error, 130 interrupted\n";

/* On a second signal: wipe the progress line (it is only drawn on a terminal). */
static void clear_progress(void)
{
	if (write(STDERR_FILENO, "\r\033[K", 4) < 0)
		return;
}

struct run_cfg {
	struct run_inputs in;
	uint64_t repeat;
	bool list, quiet, strict;
	const char *json, *junit;
	FILE *human;		/* stdout, or stderr when a report goes to stdout */
	bool progress;
	char **files;
	int nfiles;
	struct explore_cfg x;
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
	"  -s, --seed N          the row's and the exploration's seed (default: drawn)\n"
	"      --bound P[,D]     dfs: P preemptions and D store delays (default 1;\n"
	"                        one number: both); pct: the depth (default 3)\n"
	"      --budget N        schedules at most (default: random, pct 20; dfs 2000)\n"
	"      --steps N         a schedule still running after N steps is a hang\n"
	"                        (default 20000000)\n"
	"      --shard K/N       explore only part K of N: a CI engine's N parallel jobs\n"
	"                        cover the exploration together\n"
	"      --jobs N          run N local worker processes, merged into one report\n"
	"      --schedule-out FILE  write the deciding schedule to FILE\n"
	"      --timeline FILE   write the deciding schedule, shrunk, as a timeline\n"
	"      --timeline-shared only the steps that matter in it: shared objects,\n"
	"                        wake-ups, preemptions, delayed stores\n"
	"  -S, --set PATH=VALUE  override a scenario field\n"
	"  -l, --list            print what would run, and exit\n"
	"  -j, --json FILE       write a JSON report, each row with \"sched\" (- for stdout)\n"
	"  -J, --junit FILE      write a JUnit XML report (- for standard output)\n"
	"  -q, --quiet           no per-row lines\n"
	"  -v, --verbose         log each row's start and end\n"
	"  -h, --help            this text\n"
	"\n"
	"exit status: 0 every row as expected, 1 some not, 2 usage or scenario error,\n"
	"3 environment error (no model build), 130 interrupted\n";

enum { OPT_SCHED = 0x200, OPT_SCHEDULE, OPT_SCHEDULE_OUT, OPT_TIMELINE, OPT_STRATEGY,
       OPT_BOUND, OPT_BUDGET, OPT_STEPS, OPT_SHARD, OPT_JOBS, OPT_TIMELINE_SHARED };

/* The model-mode options; 1 when @ch was one, 0 when not, -1 when bad (said). */
static int explore_getopt(int ch, const char *arg, struct explore_cfg *x)
{
	uint64_t v;

	switch (ch) {
	case OPT_SCHED:
		if (strcmp(arg, "os") && strcmp(arg, "model")) {
			warnx("invalid --sched '%s': expected os or model", arg);
			return -1;
		}
		x->model = !strcmp(arg, "model");
		return 1;
	case OPT_SCHEDULE:
		x->schedule_in = arg;
		x->model = true;
		return 1;
	case OPT_SCHEDULE_OUT:
		x->schedule_out = arg;
		return 1;
	case OPT_TIMELINE:
		x->timeline = arg;
		return 1;
	case OPT_TIMELINE_SHARED:
		x->timeline_shared = true;
		return 1;
	case OPT_STRATEGY:
		return explore_parse_strategy(arg, &x->strategy) ? 1 : -1;
	case OPT_BOUND:
		return explore_parse_bound(arg, x) ? 1 : -1;
	case OPT_BUDGET:
		return parse_u64(arg, "budget", 1, 100000000, &x->budget) ? 1 : -1;
	case OPT_STEPS:
		return parse_u64(arg, "steps", 100, 1000000000, &x->steps) ? 1 : -1;
	case OPT_SHARD:
		return explore_parse_shard(arg, x) ? 1 : -1;
	case OPT_JOBS:
		if (!parse_u64(arg, "jobs", 1, 256, &v))
			return -1;
		x->jobs = (unsigned int)v;
		return 1;
	default:
		return 0;
	}
}

/* Which options go together with model mode; prints what is wrong. */
static bool explore_check(const struct run_cfg *c)
{
	const struct explore_cfg *x = &c->x;
	uint64_t budget;

	if (x->explore && (c->in.dev.bdf || c->in.dev.target || x->schedule_in ||
			   c->repeat != 1 || c->in.duration_ms)) {
		warnx("explore takes no --device, --target, --schedule, --repeat or --duration");
		return false;
	}
	if (x->timeline_shared && !x->timeline) {
		warnx("--timeline-shared filters --timeline FILE: give both");
		return false;
	}
	if (!x->model && (x->schedule_out || x->timeline)) {
		warnx("--schedule-out and --timeline need --sched model");
		return false;
	}
	if (x->model && (c->in.dev.bdf || c->in.dev.target)) {
		warnx("--sched model runs the simulator only: no --device or --target");
		return false;
	}
	if (!x->explore && (x->bound >= 0 || x->budget || x->steps || x->strategy || x->shard_n ||
			    x->jobs)) {
		warnx("--strategy, --bound, --budget, --steps, --shard and --jobs are explore's options");
		return false;
	}
	/* random and pct split the budget's runs: each part needs one at least. */
	budget = x->budget ? x->budget : 20;
	if (x->strategy != NVR_EXPLORE_DFS &&
	    (uint64_t)NVR_MAX(x->shard_n, 1u) * NVR_MAX(x->jobs, 1u) > budget) {
		warnx("--shard and --jobs split the %" PRIu64 " runs of --budget into more parts "
		      "than runs", budget);
		return false;
	}
	return true;
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

static int parse_args(int argc, char **argv, struct run_cfg *c)
{
	static const struct option opts[] = {
		INPUT_LONGOPTS,
		{ "repeat", required_argument, NULL, 'r' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "junit", required_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "strict", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "sched", required_argument, NULL, OPT_SCHED },
		{ "schedule", required_argument, NULL, OPT_SCHEDULE },
		{ "schedule-out", required_argument, NULL, OPT_SCHEDULE_OUT },
		{ "timeline", required_argument, NULL, OPT_TIMELINE },
		{ "timeline-shared", no_argument, NULL, OPT_TIMELINE_SHARED },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "bound", required_argument, NULL, OPT_BOUND },
		{ "budget", required_argument, NULL, OPT_BUDGET },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = c->x.explore ? explore_usage : run_usage;
	int ch;

	c->repeat = 1;
	c->x.bound = -1;
	c->x.delay_bound = -1;
	while ((ch = getopt_long(argc, argv, INPUT_SHORTOPTS "r:lj:J:qh", opts, NULL)) != -1) {
		int taken = inputs_getopt(ch, optarg, &c->in);

		if (!taken)
			taken = explore_getopt(ch, optarg, &c->x);

		if (taken < 0)
			return EXIT_USAGE;
		if (taken)
			continue;
		switch (ch) {
		case 'r':
			if (!parse_u64(optarg, "repeat count", 1, 1000000, &c->repeat))
				return EXIT_USAGE;
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
		case 'T':
			c->strict = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return finish_stdout(EXIT_OK) == EXIT_OK ? -1 : EXIT_ENV;
		default:
			return usage_error(usage);
		}
	}
	if (optind == argc) {
		warnx("no scenario files given");
		return usage_error(usage);
	}
	if (!inputs_finish(&c->in) || !explore_check(c))
		return usage_error(usage);
	if (c->in.have_seed && c->repeat - 1 > SEED_MAX - c->in.seed) {
		warnx("--seed %" PRIu64 " --repeat %" PRIu64 " runs seeds past %" PRIu64
		      " (48 bits)", c->in.seed, c->repeat, SEED_MAX);
		return EXIT_USAGE;
	}
	/* A drawn seed leaves room for the repeats. */
	if (!c->in.have_seed && c->in.seed > SEED_MAX - (c->repeat - 1))
		c->in.seed = SEED_MAX - (c->repeat - 1);
	c->files = argv + optind;
	c->nfiles = argc - optind;
	c->progress = !c->quiet && isatty(STDERR_FILENO);
	if (!report_path_ok(c->json, "JSON") || !report_path_ok(c->junit, "JUnit"))
		return EXIT_USAGE;
	if (c->json && c->junit && !strcmp(c->json, c->junit)) {
		warnx("--json and --junit cannot both go to '%s'", c->json);
		return EXIT_USAGE;
	}
	c->human = stdout;
	if ((c->json && !strcmp(c->json, "-")) || (c->junit && !strcmp(c->junit, "-")))
		c->human = stderr;
	return 0;
}

/* Load every file before running any: a bad file stops the run before it starts. */
static int load_all(const struct run_cfg *c, struct nvr_scenario **out)
{
	struct nvr_scenario *scns = calloc((size_t)c->nfiles, sizeof(*scns));
	int bad = 0;

	if (!scns)
		err(EXIT_ENV, "out of memory");
	for (int i = 0; i < c->nfiles; i++)
		if (inputs_load(&c->in, c->files[i], &scns[i]))
			bad = EXIT_USAGE;
	if (bad) {
		free(scns);
		return bad;
	}
	*out = scns;
	return 0;
}

static uint32_t nr_rows(const struct nvr_scenario *scn)
{
	return NVR_MAX(scn->nr_rows, 1u);
}

static const char *row_name(const struct nvr_scenario *scn, uint32_t r)
{
	return scn->nr_rows ? scn->rows[r].name : "";
}

/* --only that selects nothing: say so, with the names it could have been. */
static int only_matched_nothing(const struct run_cfg *c, const struct nvr_scenario *scns)
{
	warnx("--only matched no scenario or row; the names are:");
	for (int i = 0; i < c->nfiles; i++) {
		fprintf(stderr, "  %s\n", scns[i].name);
		for (uint32_t r = 0; r < scns[i].nr_rows; r++)
			fprintf(stderr, "  %s/%s\n", scns[i].name, scns[i].rows[r].name);
	}
	return EXIT_USAGE;
}

static bool any_selected(const struct run_cfg *c, const struct nvr_scenario *scns)
{
	for (int i = 0; i < c->nfiles; i++)
		for (uint32_t r = 0; r < nr_rows(&scns[i]); r++)
			if (inputs_selected(&c->in, scns[i].name, row_name(&scns[i], r)))
				return true;
	return false;
}

/* A row the interruption kept from running: the command that would run it. */
static void not_run_replay(const struct run_cfg *c, int file, struct report_entry *e)
{
	char name[160];

	snprintf(name, sizeof(name), "%s%s%s", e->res.scenario, e->res.row[0] ? "/" : "",
		 e->res.row);
	replay_format(e->replay, sizeof(e->replay), &c->in, c->files[file], name, e->res.seed);
}

static int run_one(const struct run_cfg *c, const struct nvr_scenario *scn, int file,
		   uint32_t row, uint64_t seed, struct nvr_transport *t, struct report *rep)
{
	struct nvr_run_opts o = { .seed = seed, .stop = &stop_requested };
	struct nvr_result *res = calloc(1, sizeof(*res));
	struct nvr_explore_result er;
	struct report_entry *e;
	char name[160];

	if (!res)
		return -ENOMEM;
	device_run_opts(&c->in.dev, t, &o);
	snprintf(name, sizeof(name), "%s%s%s", scn->name, row_name(scn, row)[0] ? "/" : "",
		 row_name(scn, row));
	if (c->progress) {
		o.progress = progress;
		o.progress_arg = name;
	}
	if (c->in.verbose)
		fprintf(stderr, "nvmerace: info: %s: starting, seed %" PRIu64 "\n", name, seed);
	if (c->x.model) {
		o.progress = NULL;	/* virtual time: a progress line says nothing */
		explore_row(&c->x, scn, row, &o, res, &er);
	} else {
		nvr_run_row(scn, row, &o, res);
	}
	if (c->progress)
		fputs("\r\033[K", stderr);
	if (c->in.verbose)
		fprintf(stderr, "nvmerace: info: %s: %s after %.3f s, %" PRIu64 " commands\n", name,
			nvr_verdict_name(res->verdict), (double)res->elapsed_ns / 1e9,
			res->stats.completed);
	if (report_add(rep, scn->file, res)) {
		free(res);
		return -ENOMEM;
	}
	report_expect(rep, scn->nr_rows ? &scn->rows[row] : NULL);
	e = &rep->e[rep->n - 1];
	if (replay_format(e->replay, sizeof(e->replay), &c->in, c->files[file], name, seed))
		warnx("%s: the replay line would be longer than %zu bytes", name,
		      sizeof(e->replay) - 1);
	if (c->x.model) {
		e->has_sched = true;
		e->sched = er;
		if (explore_replay(e->replay, sizeof(e->replay), &c->x, &er))
			warnx("%s: the replay line would be longer than %zu bytes", name,
			      sizeof(e->replay) - 1);
	}
	/* The threads missed a host design's race: the explorer chooses the schedule. */
	if (!c->x.model && retry_wanted(&c->in, scn, row, res) &&
	    retry_in_model(&c->in, c->files[file], e) == -ENOENT)
		warnx("%s: no model build to explore the row with (make model)", name);
	if (!c->quiet) {
		report_line(c->human, e);
		if (e->has_sched)
			explore_line(c->human, &e->sched);
		fflush(c->human);
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
	int ret, status = EXIT_OK;
	/* The arguments as given (parse_args() cuts --set in two), for the model binary. */
	char **av = calloc((size_t)argc + 2, sizeof(*av));

	if (!av)
		err(EXIT_ENV, "out of memory");
	/* Its messages start "nvmerace:" too; main() renamed argv[0] for getopt. */
	av[0] = "nvmerace";
	for (int i = 0; i < argc; i++)
		if (!(av[i + 1] = strdup(i ? argv[i] : explore ? "explore" : "run")))
			err(EXIT_ENV, "out of memory");

	/* The command line as given, for the JSON report: getopt reorders argv. */
	clock_gettime(CLOCK_REALTIME, &rep.start);
	rep.argv = calloc((size_t)argc + 1, sizeof(*rep.argv));
	if (!rep.argv)
		err(EXIT_ENV, "out of memory");
	memcpy(rep.argv, argv, (size_t)argc * sizeof(*argv));
	rep.argv[0] = explore ? "explore" : "run";	/* main() renamed it for getopt */
	rep.argc = argc;
	ret = parse_args(argc, argv, &c);
	/* A schedule file replays the row with the seed it was run with. */
	if (!ret && c.x.schedule_in && !c.in.have_seed)
		ret = explore_schedule_seed(c.x.schedule_in, &c.in.seed);
	/* Normal build: the model binary takes over with the same arguments. */
	if (!ret && c.x.model && !c.list)
		ret = explore_exec_model(av);
	for (int i = 0; i < argc; i++)
		free(av[i + 1]);
	free(av);
	if (ret) {
		report_release(&rep);
		return ret < 0 ? EXIT_OK : ret;
	}
	rep.bdf = c.in.dev.bdf;
	rep.target = c.in.dev.target;
	ret = load_all(&c, &scns);
	if (ret) {
		report_release(&rep);
		return ret;
	}
	if (c.in.nr_only && !any_selected(&c, scns)) {
		ret = only_matched_nothing(&c, scns);
		free(scns);
		report_release(&rep);
		return ret;
	}

	if (c.list) {
		for (int i = 0; i < c.nfiles; i++)
			for (uint32_t r = 0; r < nr_rows(&scns[i]); r++) {
				const char *row = row_name(&scns[i], r);

				if (inputs_selected(&c.in, scns[i].name, row))
					printf("%s%s%s\t%s\n", scns[i].name, row[0] ? "/" : "", row,
					       c.files[i]);
			}
		free(scns);
		report_release(&rep);
		return finish_stdout(EXIT_OK);
	}

	signals_install();
	if (c.progress)
		signals_on_emergency(clear_progress);
	/* A device bound by --bind must go back to its driver: no hasty exit then. */
	signals_hold(c.in.dev.bind);
	ret = device_open(&c.in.dev, &t);
	if (ret) {
		free(scns);
		report_release(&rep);
		return ret;
	}
	if (!c.quiet)
		fprintf(stderr, "nvmerace: seed %" PRIu64 "\n", c.in.seed);
	/* After an interruption the rows left are reported as not run. */
	for (int i = 0; i < c.nfiles; i++) {
		for (uint32_t r = 0; r < nr_rows(&scns[i]); r++) {
			const char *row = row_name(&scns[i], r);
			const struct nvr_row *rw = scns[i].nr_rows ? &scns[i].rows[r] : NULL;

			if (!inputs_selected(&c.in, scns[i].name, row))
				continue;
			/* A row none of whose repeats started: one not-run entry for them all. */
			if (stop_requested) {
				if (report_add_not_run(&rep, scns[i].file, scns[i].name, row, c.in.seed))
					err(EXIT_ENV, "out of memory");
				report_expect(&rep, rw);
				not_run_replay(&c, i, &rep.e[rep.n - 1]);
				continue;
			}
			for (uint64_t k = 0; k < c.repeat && !stop_requested; k++)
				if (run_one(&c, &scns[i], i, r, c.in.seed + k, t, &rep))
					err(EXIT_ENV, "out of memory");
		}
	}

	if (device_close(&c.in.dev, t))
		status = EXIT_ENV;
	/* A signal between rows (or in a row's teardown) interrupts the run too. */
	if (stop_requested)
		rep.interrupted = true;
	if (!c.quiet)
		report_failures(c.human, &rep, "nvmerace");
	report_totals(c.human, &rep);
	for (size_t i = 0; i < rep.n; i++) {
		if (rep.e[i].res.verdict == NVR_ERROR)
			status = EXIT_ENV;
		else if (rep.e[i].res.verdict == NVR_FAIL && status == EXIT_OK)
			status = EXIT_FAILED;
		else if (rep.e[i].res.not_reproduced && c.strict && status == EXIT_OK)
			status = EXIT_FAILED;
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
