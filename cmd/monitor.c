// SPDX-License-Identifier: MIT
/*
 * nvmerace monitor: a live view of a running scenario. This file has the
 * command, the terminal and the keys; monitor_draw.c draws (the two are the
 * only files that include curses); numbers and lines come from
 * monitor_fmt.c, frames from monitor_run.c.
 *
 * Two threads of ours: this one draws, and a runner thread calls
 * nvr_run_row() for each row (the actors and the device are threads it
 * starts). The runner's progress callback, on the runner's thread about
 * every 100 ms, copies the ledger's snapshot, each queue's latency histogram
 * and the newest anomaly records into a frame and swaps it in under a lock
 * only the two of us take; this thread swaps the newest out and draws it.
 * The actors never see that lock: the data path only ever pays for the
 * ledger's snapshot, which the runner takes for its progress callback anyway.
 *
 * The terminal is restored on every way out: q, SIGINT, SIGTERM and SIGHUP
 * (the run is stopped cleanly and the summary printed on the normal screen),
 * an exit() from anywhere (atexit), and a crash (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, SIGABRT: the saved terminal modes and the terminal's own "leave
 * the full-screen mode" string are written back before the signal kills us).
 */
#include <curses.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "nvmerace.h"
#include "cmd.h"
#include "explore.h"
#include "monitor.h"
#include "monitor_step.h"
#include "monitor_ui.h"

static const char usage[] =
	"usage: nvmerace monitor [options] [FILE]\n"
	"\n"
	"Runs scenario FILE (each row of its matrix in turn) on the simulated controller,\n"
	"a real one with --device, or one over NVMe/TCP with --target, and shows its\n"
	"queues, vectors, latency and anomalies live. Without FILE it shows an idle\n"
	"controller: one queue pair on vector 1, one read, then nothing.\n"
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
	"  -o, --only NAME[/ROW] run only this scenario (or row); may be repeated\n"
	"  -d, --duration MS     stop each row after MS milliseconds\n"
	"  -S, --set PATH=VALUE  override a scenario field, as 'nvmerace run' does\n"
	"  -v, --verbose         log what the library does, to a standard error that is\n"
	"                        not the display (2>FILE)\n"
	"      --schedule FILE   model mode: replay the schedule FILE on one row (--only)\n"
	"                        and step through it (see EXPLORE in nvmerace(1))\n"
	"      --steps N         with --schedule, without a terminal: print the pane at\n"
	"                        the start and after each of N steps, then the verdict\n"
	"      --keys KEYS       with --schedule, without a terminal: the same for each\n"
	"                        key of KEYS (the letters below)\n"
	"  -h, --help            this text\n"
	"\n"
	"keys with --schedule: n (Right, Space) one step, s (Down) to the next step\n"
	"that matters, a to the first anomaly, e (End) to the end, b (Left) one step\n"
	"back, p (Up) back to the previous step that matters, g (Home) the start,\n"
	"q quit\n"
	"\n"
	"keys: q quit, p pause/resume the display, Tab or Left/Right change pane,\n"
	"Up/Down select a queue, vector or anomaly, Enter show the anomaly's detail,\n"
	"f choose a fault knob, i inject it once (simulator; the summary lists each,\n"
	"and a row with one cannot be replayed), ? help\n"
	"\n"
	"exit status: 0 all expectations met, 1 some not met, 2 usage or scenario error,\n"
	"3 environment or device error, 130 stopped by SIGINT, SIGTERM or SIGHUP\n";

/* --- the terminal, restored on every way out --- */

static volatile sig_atomic_t g_curses_on;
static struct termios g_tios;
static bool g_have_tios;
static char g_leave[256];	/* the terminal's strings to leave full-screen mode */
static size_t g_leave_len;

/* Async-signal-safe: what endwin() does, from saved strings (also the emergency hook). */
static void restore_raw(void)
{
	if (!g_curses_on)
		return;
	if (g_leave_len && write(STDOUT_FILENO, g_leave, g_leave_len) < 0)
		g_leave_len = 0;
	if (g_have_tios)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_tios);
	g_curses_on = 0;
}

/* The terminal went away: stop as on a first SIGINT (there is no one to ask twice). */
static void on_hangup(int sig)
{
	(void)sig;
	atomic_store(&stop_requested, 1);
}

static void on_fatal_signal(int sig)
{
	/* SA_RESETHAND: raising it again kills us the default way. */
	restore_raw();
	raise(sig);
}

static void leave_curses(void)
{
	if (!g_curses_on)
		return;
	endwin();
	g_curses_on = 0;
}

static void add_leave(const char *cap)
{
	char *s = tigetstr(cap);
	size_t n;

	if (!s || s == (char *)-1)
		return;
	n = strlen(s);
	if (g_leave_len + n < sizeof(g_leave)) {
		memcpy(g_leave + g_leave_len, s, n);
		g_leave_len += n;
	}
}

/*
 * SIGINT and SIGTERM as every command that holds a device takes them
 * (cmd/signals.c): the first stops the run, a second restores the terminal
 * and exits, unless --bind holds it for the teardown. SIGHUP stops too; a
 * crash restores the terminal and dies of its signal.
 */
static void install_signals(bool hold)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;

	signals_install();
	signals_on_emergency(restore_raw);
	signals_hold(hold);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_hangup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (size_t i = 0; i < NVR_ARRAY_SIZE(fatal); i++)
		sigaction(fatal[i], &sa, NULL);
}

static bool start_curses(struct ui *u)
{
	const char *nc = getenv("NO_COLOR");

	g_have_tios = tcgetattr(STDIN_FILENO, &g_tios) == 0;
	if (!newterm(NULL, stdout, stdin))
		return false;
	g_curses_on = 1;
	atexit(leave_curses);
	add_leave("sgr0");
	add_leave("cnorm");
	add_leave("rmkx");
	add_leave("rmcup");
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	timeout(100);		/* the display refreshes at about 10 Hz */
	/* Colours when the terminal has them and NO_COLOR (no-color.org) is not set. */
	u->color = has_colors() && !(nc && *nc);
	if (u->color) {
		start_color();
		use_default_colors();
		init_pair(C_TITLE, COLOR_CYAN, -1);
		init_pair(C_BAD, COLOR_RED, -1);
		init_pair(C_GOOD, COLOR_GREEN, -1);
		init_pair(C_WARN, COLOR_YELLOW, -1);
	}
	return true;
}
/* --- keys --- */

static void move_sel(struct ui *u, int by)
{
	const struct mon_frame *f = u->v.cur;
	uint32_t n = u->focus == P_QUEUES ? f->st.nr_queues :
		     u->focus == P_VECTORS ? f->st.nr_vectors : f->nr_recent;
	int64_t s = (int64_t)u->sel[u->focus] + by;

	if (!n)
		return;
	s = s < 0 ? 0 : s >= n ? n - 1 : s;
	u->sel[u->focus] = (uint32_t)s;
	if (u->focus == P_LOG) {
		u->sel_rec = f->nr_records - 1 - (uint64_t)s;
		u->follow = s == 0;
	}
}

static void note(struct ui *u, const char *text)
{
	snprintf(u->note, sizeof(u->note), "%s", text);
	u->note_until_ns = nvr_now_ns() + 2000000000ull;
}

/* Return false to quit. */
static bool key(struct mon *m, struct ui *u, int ch)
{
	char buf[160];

	u->note[0] = '\0';
	if (ch == 'q' || ch == 'Q')
		return false;
	if (u->help || u->detail) {
		/* A box is open: Esc, Enter or its own key closes it. */
		if (ch == 27 || ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == '?')
			u->help = u->detail = false;
		return true;
	}
	switch (ch) {
	case 'p':
	case ' ':
		u->v.paused = !u->v.paused;
		break;
	case '?':
		u->help = true;
		break;
	case '\t':
	case KEY_RIGHT:
		u->focus = (u->focus + 1) % P_NR;
		break;
	case KEY_BTAB:
	case KEY_LEFT:
		u->focus = (u->focus + P_NR - 1) % P_NR;
		break;
	case KEY_UP:
	case 'k':
		move_sel(u, -1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(u, 1);
		break;
	case KEY_PPAGE:
		move_sel(u, -10);
		break;
	case KEY_NPAGE:
		move_sel(u, 10);
		break;
	case KEY_HOME:
		move_sel(u, -MON_RECENT);
		break;
	case KEY_END:
		move_sel(u, MON_RECENT);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (u->focus == P_LOG && u->v.cur->nr_recent) {
			u->shown = u->v.cur->recent[u->sel[P_LOG]];
			u->detail = true;
		}
		break;
	case 'f':
		if (m->nr_faults)
			u->fault = (u->fault + 1) % m->nr_faults;
		break;
	case 'i':
		if (!m->nr_faults) {
			note(u, "faults are injected into the simulator only");
		} else if (u->v.done || u->v.cur->final) {
			note(u, "the run is over: nothing to inject into");
		} else {
			mon_inject(m, m->faults[u->fault]);
			snprintf(buf, sizeof(buf), "injecting one %s: the device fires it at its "
				 "next chance",
				 nvr_sim_fault_name((enum nvr_sim_fault)m->faults[u->fault]));
			note(u, buf);
		}
		break;
	default:
		break;
	}
	return true;
}

/* --- the command --- */

struct mon_cfg {
	struct run_inputs in;
	const char *file;
	const char *schedule;	/* --schedule: step through it (model mode) */
	char *keys;		/* --steps, --keys: batch */
};

enum { OPT_SCHEDULE = 0x200, OPT_STEPS, OPT_KEYS };

/* --steps N, --keys KEYS: the keys to press in batch mode. */
static int batch_keys(struct mon_cfg *c, int ch, const char *arg)
{
	char *end;
	unsigned long n;

	free(c->keys);
	c->keys = NULL;
	if (ch == OPT_KEYS) {
		if (strspn(arg, STEP_KEYS) != strlen(arg)) {
			warnx("--keys '%s': the keys are the letters %s", arg, STEP_KEYS);
			return EXIT_USAGE;
		}
		c->keys = strdup(arg);
	} else {
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || n > 100000 || arg[0] == '-') {
			warnx("--steps '%s': a number of steps, 0 to 100000", arg);
			return EXIT_USAGE;
		}
		c->keys = calloc(n + 1, 1);
		if (c->keys)
			memset(c->keys, 'n', n);
	}
	if (!c->keys)
		err(EXIT_ENV, "out of memory");
	return 0;
}

static int parse_args(int argc, char **argv, struct mon_cfg *c)
{
	static const struct option opts[] = {
		INPUT_LONGOPTS,
		{ "schedule", required_argument, NULL, OPT_SCHEDULE },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "keys", required_argument, NULL, OPT_KEYS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, INPUT_SHORTOPTS "h", opts, NULL)) != -1) {
		int taken = inputs_getopt(ch, optarg, &c->in);

		if (taken < 0)
			return EXIT_USAGE;
		if (taken)
			continue;
		switch (ch) {
		case OPT_SCHEDULE:
			c->schedule = optarg;
			break;
		case OPT_STEPS:
		case OPT_KEYS:
			if (batch_keys(c, ch, optarg))
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(usage, stdout);
			return finish_stdout(EXIT_OK) == EXIT_OK ? -1 : EXIT_ENV;
		default:
			return usage_error(usage);
		}
	}
	if (argc - optind > 1) {
		warnx("one scenario file at most; 'nvmerace run' takes several");
		return usage_error(usage);
	}
	if (!inputs_finish(&c->in))
		return usage_error(usage);
	if (c->keys && !c->schedule) {
		warnx("--steps and --keys step through a schedule: give --schedule FILE");
		return EXIT_USAGE;
	}
	if (c->schedule && (c->in.dev.bdf || c->in.dev.target || c->in.duration_ms ||
			    optind >= argc)) {
		warnx("--schedule replays a row of a scenario FILE on the simulator "
		      "(no --device, --target or --duration)");
		return EXIT_USAGE;
	}
	if (c->in.verbose && isatty(STDERR_FILENO) && !c->keys) {
		warnx("--verbose would write over the display: "
		      "send standard error to a file (2>FILE)");
		return EXIT_USAGE;
	}
	c->file = optind < argc ? argv[optind] : NULL;
	return 0;
}

static int summary(struct mon *m, bool signalled)
{
	int status = EXIT_OK;

	printf("nvmerace monitor: seed %" PRIu64 "\n", m->seed);
	for (size_t i = 0; i < m->rep.n; i++)
		report_line(stdout, &m->rep.e[i]);
	report_failures(stdout, &m->rep, "nvmerace");
	mon_print_injected(m, stdout);
	report_totals(stdout, &m->rep);
	for (size_t i = 0; i < m->rep.n; i++) {
		if (m->rep.e[i].res.verdict == NVR_ERROR)
			status = EXIT_ENV;
		else if (m->rep.e[i].res.verdict == NVR_FAIL && status == EXIT_OK)
			status = EXIT_FAILED;
	}
	if (signalled)
		status = 130;
	return finish_stdout(status);
}

/* Run the rows with the display on; the terminal is ours until it returns. */
static int monitor(struct mon *m, struct ui *u)
{
	sigset_t block, old;
	pthread_t runner;
	int ret;

	if (!start_curses(u)) {
		warnx("cannot drive the terminal '%s' (see TERM); 'nvmerace run' works without one",
		      getenv("TERM") ? getenv("TERM") : "");
		return EXIT_ENV;
	}
	/* Signals are ours to take here, never the runner's or the actors'. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGTSTP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	ret = pthread_create(&runner, NULL, mon_runner, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		leave_curses();
		warnx("cannot start the runner: %s", strerror(ret));
		return EXIT_ENV;
	}

	for (;;) {
		int ch;

		mon_take(m, &u->v);
		if (atomic_load(&stop_requested))
			break;
		mon_draw(m, u);
		ch = getch();
		if (ch != ERR && !key(m, u, ch))
			break;
	}
	atomic_store(&m->stop, 1);
	if (!u->v.done) {
		erase();
		mvaddstr(0, 0, "stopping: outstanding commands drain, then the device is disabled");
		refresh();
	}
	pthread_join(runner, NULL);
	leave_curses();
	return summary(m, atomic_load(&stop_requested) != 0);
}

/* Draw the pane at v->pos: its text, line by line, the help line last. */
static void draw_step(struct step_view *v, const struct nvr_step_state *s)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int y = 0;

	erase();
	if (f) {
		step_pane(f, v, s);
		fclose(f);
	}
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line && y < LINES - 1;
	     line = strtok_r(NULL, "\n", &save))
		mvaddnstr(y++, 0, line, COLS);
	attron(A_REVERSE);
	mvaddnstr(LINES - 1, 0, step_help, COLS);
	attroff(A_REVERSE);
	refresh();
	free(text);
}

static int step_key_of(int ch)
{
	switch (ch) {
	case KEY_RIGHT: case ' ':
		return 'n';
	case KEY_DOWN:
		return 's';
	case KEY_LEFT: case KEY_BACKSPACE:
		return 'b';
	case KEY_UP:
		return 'p';
	case KEY_HOME:
		return 'g';
	case KEY_END:
		return 'e';
	default:
		return ch;
	}
}

/* Step through a schedule on the terminal: each position is one replay. */
static int stepping(struct step_view *v)
{
	struct nvr_step_state *s = malloc(sizeof(*s));
	struct ui u = { 0 };
	int ret = 0;

	if (!s)
		err(EXIT_ENV, "out of memory");
	if (!start_curses(&u)) {
		free(s);
		warnx("cannot drive the terminal '%s' (see TERM); --steps N works without one",
		      getenv("TERM") ? getenv("TERM") : "");
		return EXIT_ENV;
	}
	/* Wake up now and then to see a signal; replay only when the position moved. */
	timeout(200);
	for (uint64_t shown = UINT64_MAX; !atomic_load(&stop_requested);) {
		int ch;

		if (shown != v->pos) {
			ret = nvr_stepper_states(v->st, &v->pos, 1, s);
			if (ret)
				break;
			shown = v->pos;
			draw_step(v, s);
		}
		ch = step_key_of(getch());
		if (ch == 'q')
			break;
		if (ch == ERR)
			continue;
		if (ch != KEY_RESIZE)
			step_key(v, ch);
		if (shown == v->pos) {
			draw_step(v, s);	/* the note, or the new size */
		} else {
			mvaddnstr(LINES - 1, 0, "replaying the schedule...", COLS);
			clrtoeol();
			refresh();
		}
	}
	leave_curses();
	free(s);
	if (ret) {
		warnx("cannot step through the schedule: %s", strerror(-ret));
		return EXIT_ENV;
	}
	printf("nvmerace monitor: %s, schedule %s, left at step %" PRIu64 "/%" PRIu64 "\n",
	       v->name, v->schedule, v->pos, v->total);
	ret = step_verdict(v, stdout);
	return finish_stdout(atomic_load(&stop_requested) ? EXIT_INTERRUPTED : ret);
}

/* monitor --schedule: the model binary replays the row and steps through it. */
static int monitor_schedule(struct mon *m, struct mon_cfg *c)
{
	struct nvr_run_opts o = { .seed = m->seed };
	struct nvr_stepper *st = NULL;
	struct step_view v;
	char why[320], name[160];
	const struct nvr_row *row;
	int ret;

	if (m->nr_rows != 1) {
		warnx("--schedule replays one row; choose it with --only NAME/ROW");
		return EXIT_USAGE;
	}
	if (!c->keys && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		warnx("stepping needs a terminal; without one give --steps N or --keys KEYS");
		return EXIT_USAGE;
	}
	row = &m->scn->rows[m->rows[0]];
	snprintf(name, sizeof(name), "%s%s%s", m->scn->name, row->name[0] ? "/" : "", row->name);
	ret = nvr_stepper_open(m->scn, m->rows[0], &o, c->schedule, &st, why, sizeof(why));
	if (ret == -EINVAL && why[0]) {
		warnx("%s", why);
		return EXIT_USAGE;
	}
	if (ret == -ENOTSUP) {
		warnx("stepping through a schedule needs the model build (make model)");
		return EXIT_ENV;
	}
	if (ret) {
		warnx("cannot replay '%s': %s", c->schedule, strerror(-ret));
		return ret == -ENOENT || ret == -EACCES ? EXIT_USAGE : EXIT_ENV;
	}
	step_view_init(&v, st, name, c->schedule);
	/* Signals end the stepping and restore the terminal (nothing to drain). */
	install_signals(false);
	if (c->keys)
		ret = finish_stdout(step_batch(&v, c->keys, stdout));
	else
		ret = stepping(&v);
	nvr_stepper_close(st);
	return ret;
}

/* The header names a real controller as Identify does: address, model, serial. */
static void name_device(struct mon *m, const char *addr)
{
	struct nvr_ctrl *ctrl = NULL;

	if (nvr_ctrl_open(m->transport, 1, &ctrl, NULL, 0) == 0)
		snprintf(m->device, sizeof(m->device), "%s: %s (SN %s)", addr,
			 nvr_ctrl_info(ctrl)->model, nvr_ctrl_info(ctrl)->serial);
	else
		snprintf(m->device, sizeof(m->device), "%s", addr);
	nvr_ctrl_close(ctrl);
}

int cmd_monitor(int argc, char **argv)
{
	struct mon_cfg c = { 0 };
	struct mon *m;
	struct ui u = { .follow = true };
	struct nvr_run_opts dev_opts = { 0 };
	int ret, closed;

	/* The arguments as given (getopt reorders them), for the model binary. */
	char **av = calloc((size_t)argc + 2, sizeof(*av));

	if (!av)
		err(EXIT_ENV, "out of memory");
	av[0] = "nvmerace";
	for (int i = 0; i < argc; i++)
		if (!(av[i + 1] = strdup(i ? argv[i] : "monitor")))
			err(EXIT_ENV, "out of memory");
	ret = parse_args(argc, argv, &c);
	/* A schedule replays the row with the seed it was run with; the model binary does it. */
	if (!ret && c.schedule && !c.in.have_seed)
		ret = explore_schedule_seed(c.schedule, &c.in.seed);
	if (!ret && c.schedule)
		ret = explore_exec_model(av);
	for (int i = 0; i < argc; i++)
		free(av[i + 1]);
	free(av);
	if (ret) {
		free(c.keys);
		return ret < 0 ? EXIT_OK : ret;
	}
	m = malloc(sizeof(*m));
	if (!m || mon_init(m, &u.v, c.in.seed))
		err(EXIT_ENV, "out of memory");
	/* The scenario first: its errors come before any device is touched. */
	ret = mon_load(m, c.file, &c.in);
	if (!ret && c.schedule) {
		ret = monitor_schedule(m, &c);
		goto out;
	}
	if (!ret && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		warnx("the monitor needs a terminal on standard input and output; "
		      "'nvmerace run' works without one");
		ret = EXIT_USAGE;
	}
	if (ret)
		goto out;
	/* Signals stop the run from here on; a device bound here is given back. */
	install_signals(c.in.dev.bind);
	ret = device_open(&c.in.dev, &m->transport);
	if (ret)
		goto out;
	if (m->transport) {
		device_run_opts(&c.in.dev, m->transport, &dev_opts);
		m->write_ok = dev_opts.write_ok;
		m->write_start = dev_opts.write_start;
		m->write_end = dev_opts.write_end;
		m->nr_faults = 0;	/* a real controller takes no fault by hand */
		name_device(m, device_name(&c.in.dev));
	}
	ret = monitor(m, &u);
	closed = device_close(&c.in.dev, m->transport);
	if (closed && !ret)
		ret = closed;
out:
	mon_release(m, &u.v);
	free(m);
	free(c.keys);
	return ret;
}
