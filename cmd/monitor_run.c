// SPDX-License-Identifier: MIT
/* nvmerace monitor: the scenario, the runner thread and the frames it hands over. */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "monitor.h"

/* The idle view: a controller with one queue pair, quiet until the user quits. */
static const char idle_yaml[] =
	"name: idle\n"
	"description: one I/O queue pair on vector 1; one read, then nothing until you quit\n"
	"queues: [ { id: 1, depth: 64, vector: 1 } ]\n"
	"actors:\n"
	"  - name: io\n"
	"    steps:\n"
	"      - submit: { queue: 1, op: read, qd: 1, count: 1 }\n"
	"      - sleep: { ms: 86400000 }\n"
	"  - name: isr\n"
	"    steps: [ { reap: { queue: 1, wake: irq } } ]\n";

int mon_init(struct mon *m, struct mon_view *v, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	memset(v, 0, sizeof(*v));
	m->seed = seed;
	atomic_init(&m->stop, 0);
	atomic_init(&m->inject, -1);
	pthread_mutex_init(&m->lock, NULL);
	/* Three frames: the runner fills one, one waits, the display draws one. */
	m->scn = calloc(1, sizeof(*m->scn));
	m->back = calloc(1, sizeof(*m->back));
	m->ready = calloc(1, sizeof(*m->ready));
	v->cur = calloc(1, sizeof(*v->cur));
	return m->scn && m->back && m->ready && v->cur ? 0 : -ENOMEM;
}

void mon_release(struct mon *m, struct mon_view *v)
{
	report_release(&m->rep);
	pthread_mutex_destroy(&m->lock);
	free(v->cur);
	free(m->ready);
	free(m->back);
	free(m->scn);
	v->cur = m->ready = m->back = NULL;
	m->scn = NULL;
}

static bool mon_selected(const struct mon *m, uint32_t r)
{
	return inputs_selected(&m->in, m->scn->name, m->scn->rows[r].name);
}

int mon_load(struct mon *m, const char *file, const struct run_inputs *in)
{
	char msg[2048];
	int ret;

	static const struct run_inputs none;

	m->in = in ? *in : none;
	m->file = file;
	if (file && !strcmp(file, "-")) {
		warnx("the monitor reads keys from standard input: give it a scenario file");
		return EXIT_USAGE;
	}
	if (file) {
		ret = inputs_load(&m->in, file, m->scn);
		if (ret)
			return ret;
	} else {
		ret = nvr_scenario_parse(idle_yaml, sizeof(idle_yaml) - 1, "(idle view)",
					 m->in.sets, m->in.nr_sets, m->scn, msg, sizeof(msg));
		if (ret) {
			print_lines(msg);
			return EXIT_USAGE;
		}
		if (m->in.duration_ms)
			m->scn->duration_ns = m->in.duration_ms * 1000000ull;
	}
	m->nr_rows = 0;
	for (uint32_t r = 0; r < m->scn->nr_rows && m->nr_rows < MON_MAX_ROWS; r++)
		if (mon_selected(m, r))
			m->rows[m->nr_rows++] = r;
	if (!m->nr_rows) {
		warnx("--only matched no row of scenario '%s'; the names are:", m->scn->name);
		fprintf(stderr, "  %s\n", m->scn->name);
		for (uint32_t r = 0; r < m->scn->nr_rows; r++)
			fprintf(stderr, "  %s/%s\n", m->scn->name, m->scn->rows[r].name);
		return EXIT_USAGE;
	}
	/* The knobs the scenario turns (in any row run), else every one. */
	m->nr_faults = 0;
	for (int f = 0; f < NVR_FAULT_NR; f++) {
		bool knob = m->scn->sim.fault_rate[f] != 0;

		for (uint32_t r = 0; r < m->nr_rows; r++) {
			const struct nvr_row *row = &m->scn->rows[m->rows[r]];

			knob |= row->set_fault[f] && row->fault_rate[f];
		}
		if (knob)
			m->faults[m->nr_faults++] = f;
	}
	if (!m->nr_faults)
		for (int f = 0; f < NVR_FAULT_NR; f++)
			m->faults[m->nr_faults++] = f;
	snprintf(m->device, sizeof(m->device), "simulator: %s (SN %s)", m->scn->sim.model,
		 m->scn->sim.serial);
	return 0;
}

/*
 * On the runner's thread, about every 100 ms and once at the end of a row:
 * the ledger and the device are alive here, and nowhere else for us.
 */
static void on_progress(const struct nvr_stats *st, void *arg)
{
	struct mon *m = arg;
	struct mon_frame *f = m->back;
	int fault = atomic_exchange(&m->inject, -1);

	if (fault >= 0 && m->sim) {
		nvr_sim_inject(m->sim, (enum nvr_sim_fault)fault);
		m->injected++;
		if (m->nr_inj < MON_MAX_INJECTED)
			m->inj[m->nr_inj++] = (struct mon_injection){
				.pos = m->pos, .t_ns = st->elapsed_ns, .fault = fault };
		else
			m->inj_lost = true;
	}
	f->t_ns = nvr_now_ns();
	f->row = m->pos;
	f->final = false;
	f->st = *st;
	mon_rates_update(&m->rates, f->t_ns, st, f);
	for (uint32_t i = 0; i < st->nr_queues; i++)
		if (!m->ledger || nvr_ledger_queue_latency(m->ledger, st->q[i].qid, &f->lat[i]))
			memset(&f->lat[i], 0, sizeof(f->lat[i]));
	f->nr_records = 0;
	f->nr_recent = m->ledger ? nvr_ledger_recent(m->ledger, f->recent, MON_RECENT,
						     &f->nr_records) :
				   0;
	f->injected = m->injected;

	pthread_mutex_lock(&m->lock);
	m->back = m->ready;
	m->ready = f;
	m->ready_seq++;
	pthread_mutex_unlock(&m->lock);
}

/*
 * The row's replay line, unless it cannot replay it: the idle view has no
 * file, and the runner takes no fault schedule, so a fault injected by hand
 * (at a time the user chose) cannot be injected again.
 */
/* NAME/ROW, or NAME for a scenario without a matrix. */
static void row_name(const struct mon *m, uint32_t pos, char *buf, size_t len)
{
	const char *row = m->scn->rows[m->rows[pos]].name;

	snprintf(buf, len, "%s%s%s", m->scn->name, row[0] ? "/" : "", row);
}

static void mon_replay(struct mon *m, struct report_entry *e)
{
	char name[160];

	e->replay[0] = '\0';
	if (!m->file || m->injected)
		return;
	row_name(m, m->pos, name, sizeof(name));
	replay_format(e->replay, sizeof(e->replay), &m->in, m->file, name, m->seed);
}

void mon_print_injected(const struct mon *m, FILE *f)
{
	if (!m->nr_inj)
		return;
	fprintf(f, "\nfaults injected by hand (the rows they hit cannot be replayed: "
		   "a run takes no fault schedule):\n");
	for (uint32_t i = 0; i < m->nr_inj; i++) {
		char name[160];

		row_name(m, m->inj[i].pos, name, sizeof(name));
		fprintf(f, "  %s at %.3f ms: %s\n", name, (double)m->inj[i].t_ns / 1e6,
			nvr_sim_fault_name((enum nvr_sim_fault)m->inj[i].fault));
	}
	if (m->inj_lost)
		fprintf(f, "  (and more, not kept)\n");
}

void *mon_runner(void *arg)
{
	struct mon *m = arg;
	struct nvr_result *res = malloc(sizeof(*res));

	for (m->pos = 0; res && m->pos < m->nr_rows && !atomic_load(&m->stop); m->pos++) {
		struct nvr_run_opts o = {
			.seed = m->seed,
			.stop = &m->stop,
			.progress = on_progress,
			.progress_arg = m,
			.live_sim = &m->sim,
			.live_ledger = &m->ledger,
			.recent = MON_RECENT,
			.transport = m->transport,
			.write_ok = m->write_ok,
			.write_start = m->write_start,
			.write_end = m->write_end,
		};

		mon_rates_reset(&m->rates);
		m->injected = 0;
		nvr_run_row(m->scn, m->rows[m->pos], &o, res);
		pthread_mutex_lock(&m->lock);
		if (report_add(&m->rep, m->scn->file, res))
			atomic_store(&m->stop, 1);
		else
			mon_replay(m, &m->rep.e[m->rep.n - 1]);
		pthread_mutex_unlock(&m->lock);
	}
	if (!res)
		warnx("out of memory");
	pthread_mutex_lock(&m->lock);
	m->done = true;
	pthread_mutex_unlock(&m->lock);
	free(res);
	return NULL;
}

void mon_take(struct mon *m, struct mon_view *v)
{
	pthread_mutex_lock(&m->lock);
	if (m->ready_seq != v->seq && !v->paused) {
		struct mon_frame *f = v->cur;

		v->cur = m->ready;
		m->ready = f;
		v->seq = m->ready_seq;
	}
	/*
	 * The runner publishes a row's last frame before it adds the row's
	 * result, under this lock: a frame whose row has a result, with no
	 * newer frame waiting, is that row's final one.
	 */
	if (m->rep.n > v->cur->row && m->ready_seq == v->seq)
		v->cur->final = true;
	for (; v->nr_done < m->rep.n && v->nr_done < MON_MAX_ROWS; v->nr_done++) {
		v->verdict[v->nr_done] = m->rep.e[v->nr_done].res.verdict;
		snprintf(v->reason[v->nr_done], sizeof(v->reason[0]), "%s",
			 m->rep.e[v->nr_done].res.reason);
	}
	v->done = m->done;
	pthread_mutex_unlock(&m->lock);
}

void mon_inject(struct mon *m, int f)
{
	atomic_store(&m->inject, f);
}
