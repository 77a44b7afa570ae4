/* SPDX-License-Identifier: MIT */
/* The simulated controller's insides, shared by the files of lib/dev/sim. */
#ifndef NVR_SIM_INTERNAL_H
#define NVR_SIM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/sim.h>
#include <nvmerace/wire.h>

#include "base/util.h"
#include "dev/journal.h"
#include "dev/sim/truth.h"
#include "dev/transport.h"
#include "dev/truth.h"
#include "sched/shim.h"

struct sim_map {
	uint64_t iova;
	uint64_t len;
	uint8_t *vaddr;
};

/*
 * A queue ring's translation, kept between commands: valid while the IOVA
 * table is unchanged (maps_gen) and the ring is where it was, so that a ring
 * unmapped under the device still faults (nvr_sim_ring_ptr()).
 */
struct sim_ring_map {
	uint64_t gen;		/* maps_gen when filled; 0: empty */
	uint64_t base;		/* the ring's IOVA */
	uint64_t len;		/* bytes mapped from base on */
	uint8_t *vaddr;
};

struct sim_sq {
	_Atomic bool live;
	uint16_t qid;
	uint16_t cqid;
	uint32_t size;
	uint64_t base;		/* IOVA */
	struct sim_ring_map ring;
	uint32_t head;		/* next entry the device fetches */
	uint32_t tail_seen;	/* last tail the device acted on */
	_Atomic uint32_t db;	/* last tail written to the MMIO doorbell */
	/* Shadow doorbells (dbbuf.c): the device reads the tail from host
	 * memory, and only while active; an MMIO write (mmio_seq moves) makes
	 * it active, finding the shadow tail caught up makes it idle. */
	bool shadow;
	bool active;
	_Atomic uint32_t mmio_seq;	/* MMIO doorbell writes, ever */
	_Atomic uint32_t mmio_seen;	/* mmio_seq when it last looked (worker writes) */
	_Atomic uint64_t idles;	/* times it stopped looking */
	_Atomic bool waiting;	/* idle now: published for nvr_sim_sq_truth() */
	_Atomic uint32_t idle_head;	/* the head (= EventIdx) when it went idle */
	/* Commands fetched whose CQE is not posted yet: each holds one of the
	 * SQ's size request slots, as QEMU's NvmeRequest array of sq->size
	 * (worker.c). parked: out of slots, not looked at again until the host
	 * writes a new tail (the no_sq_restart knob of races.c). */
	uint32_t held;
	bool parked;
	_Atomic uint32_t *fetched;	/* per CID ground truth, 65536 entries each */
	_Atomic uint32_t *posted;
	/* Each queue draws from its own generator, so its sequence of choices
	 * depends on the seed and its own commands, not on how the worker
	 * interleaved queues. fp folds in every draw: equal seeds, equal fp. */
	struct nvr_rng rng;
	_Atomic uint64_t fp;
};

struct sim_cq {
	_Atomic bool live;
	uint16_t qid;
	uint16_t iv;
	bool ien;
	uint32_t size;
	uint64_t base;
	struct sim_ring_map ring;
	uint32_t tail;		/* next slot the device posts into */
	uint8_t phase;		/* phase tag of the current pass, starts at 1 */
	uint32_t head_seen;
	_Atomic uint32_t db;	/* last head written to the MMIO doorbell */
	bool shadow;		/* the head comes from the shadow doorbell */
	/* Full, asleep until an MMIO head doorbell (races.c); mmio_seq counts
	 * them, mmio_seen is the count when it fell asleep. */
	bool asleep;
	_Atomic uint32_t mmio_seq;
	uint32_t mmio_seen;
	uint32_t nr_sqs;	/* SQs that complete into it */
	uint32_t unsignalled;	/* CQEs posted since the last interrupt */
	uint64_t first_unsignalled_ns;
	struct nvr_rng rng;	/* for the CQE faults */
};

/* A completion waiting for its latency to pass, or for room in its CQ. */
struct sim_pending {
	uint64_t due_ns;
	uint16_t cqid;
	uint8_t flags;		/* SIM_POST_* */
	struct nvr_cqe cqe;
};

#define SIM_POST_FLIP_PHASE 0x1	/* fault: post with the previous pass's phase */
#define SIM_POST_FABRICATED 0x2	/* fault: not a real command's completion */
#define SIM_POST_GARBAGE 0x4	/* hostile: random bytes in every field but the phase */
#define SIM_POST_BAD_SQHD 0x8	/* hostile: an SQ Head Pointer beyond the SQ */
#define SIM_POST_STORM 0x10	/* hostile: post it again and again, past a full CQ */
#define SIM_POST_OVERRUN 0x20	/* hostile: post even though the CQ is full */
#define SIM_POST_HELD 0x40	/* a fetched command's own completion: posting frees its slot */

/* A flag as the shim's byte word: an _Atomic bool is one byte, and only 0 or 1 is stored. */
#define SIM_FLAG(b) ((_Atomic uint8_t *)(b))

struct sim_vector {
	_Atomic int efd;	/* -1: nothing attached: the host's side of vector N */
	/* The MSI-X table entry. Message Data selects the host vector a message
	 * reaches (as an APIC vector does); the address must be in the
	 * interrupt range 0xfeexxxxx or the message goes nowhere. The host
	 * writes them (nvr_sim_msix_write(), nvr_sim_irq_mask()) and the device
	 * samples them: shared words, through the shim (msix[N].addr, .addrhi,
	 * .data, .ctl and pba[N] in model timelines).
	 */
	_Atomic uint32_t addr_lo, addr_hi, data;
	_Atomic bool masked;	/* MSI-X vector control bit 0 (SIM_FLAG() for the shim) */
	_Atomic bool pending;	/* the PBA bit, a byte per bit here (SIM_FLAG() too) */
	bool coalesce_off;	/* Interrupt Vector Configuration CD bit */
	bool new_cqe;		/* a CQE was posted on one of its CQs since the last delivery */
	struct nvr_rng rng;	/* for the interrupt faults */
	/*
	 * A table update under way: the address written and the data not yet.
	 * An interrupt sampled meanwhile is held in flight until the data write
	 * (or SIM_TEAR_MAX_NS) tells whether it was torn: sent to neither the
	 * host vector the entry named before the update nor the one it names
	 * after. Under the device lock, but for half, read by the host.
	 */
	_Atomic bool half;
	uint64_t half_since;
	int pre_slot;		/* the host vector named before the address write; -1: none */
	bool inflight;
	int inflight_slot;
	bool inflight_justified;	/* new CQEs were behind the sample */
	/* The torn_sample fault holds the host's address write open until the
	 * device has sampled the entry. */
	_Atomic bool sampled;
	_Atomic uint64_t raised, delivered, unjustified, lost, pended;
	_Atomic uint64_t dropped_masked, torn, stray, nowhere;
};

/* Why the controller set CSTS.CFS (nvr_sim_fatal()). */
enum sim_fatal_reason {
	SIM_FATAL_NONE,
	SIM_FATAL_BAD_ENABLE,	/* CC.EN with a bad admin queue or CC field */
	SIM_FATAL_NOMEM,	/* no room to hold a completion */
	SIM_FATAL_SQ_GONE,	/* an SQE fetch from memory that is not mapped */
	SIM_FATAL_KATO,		/* the keep-alive timer ran out */
	SIM_FATAL_HOSTILE,	/* hostile.c: cfs_after */
};

enum sim_state {
	SIM_DISABLED,
	SIM_ENABLED,
	SIM_FATAL,
	SIM_HUNG,		/* hostile: stopped responding; registers frozen */
};

struct nvr_sim {
	struct nvr_transport t;
	struct nvr_dev_truth truth;	/* t.truth: the ledger's view of the journal and counters */
	struct nvr_sim_config cfg;

	/* Register file. Held by register writes and by the worker while it
	 * processes a batch, the way QEMU's big lock orders MMIO and queue work. */
	struct nvr_mutex lock;
	uint64_t cap;
	uint32_t vs;
	_Atomic uint32_t cc;
	_Atomic uint32_t csts_fixed;	/* CFS and SHST as last set */
	_Atomic bool fatal_rdy;	/* CSTS.RDY when CFS was set: it stays so */
	uint32_t aqa;
	uint64_t asq;
	uint64_t acq;
	_Atomic int state;
	_Atomic uint64_t ready_at_ns;
	_Atomic uint64_t shn_done_at_ns;	/* 0: no shutdown in progress */
	uint16_t nsqa, ncqa;	/* queues allocated by Set Features, 0-based */
	uint8_t coal_thr;	/* Interrupt Coalescing: aggregation threshold, 0-based */
	uint64_t coal_time_ns;	/* aggregation time; 0: none */
	_Atomic uint32_t fault_rate[NVR_FAULT_NR];
	_Atomic uint32_t fault_once[NVR_FAULT_NR];
	/* Some fault rate was ever set or a fault injected: until then no
	 * command looks at the table (one check per command). Never cleared. */
	_Atomic bool faults_armed;
	bool hostile_cqe;	/* a hostile knob that draws per CQE is on */
	bool hostile_fetch;	/* cfs_after or hang_after is on */
	bool nq_set;
	/* Keep Alive (keepalive.c): KATO in ms, 0: off; when it runs out. */
	_Atomic uint32_t kato_ms;
	_Atomic uint64_t ka_deadline_ns;
	_Atomic uint64_t ka_last_ns;
	_Atomic uint64_t ka_count;
	_Atomic uint32_t fatal_reason;	/* enum sim_fatal_reason; 0: none */
	/* Doorbell Buffer Config: IOVAs of the shadow doorbell and EventIdx pages. */
	_Atomic bool dbbuf_on;
	uint64_t dbbuf_db, dbbuf_ei;

	struct sim_sq *sqs;	/* [0, nr_io_queues] */
	struct sim_cq *cqs;
	struct sim_vector *vec;

	struct sim_pending *pend;
	uint32_t nr_pend;
	uint32_t pend_cap;

	/* DMA: the IOVA table, sorted by IOVA. The worker holds the read
	 * side for a whole batch; unmapping waits for the batch to end. */
#ifdef NVR_SCHED_MODEL
	struct nvr_mutex dma_lock;	/* the model has no rwlock: one at a time */
#else
	pthread_rwlock_t dma_lock;
#endif
	struct sim_map *maps;
	uint64_t maps_gen;	/* changed by every map and unmap (under dma_lock) */
	uint32_t nr_maps;
	uint32_t maps_cap;

	uint8_t *ns;		/* namespace backing store */
	uint64_t ns_blocks;
	uint8_t lba_shift;
	/* Built through casts to struct nvme_id_ctrl / nvme_id_ns: keep their alignment. */
	_Alignas(8) uint8_t id_ctrl[4096];
	_Alignas(8) uint8_t id_ns[4096];

	struct nvr_journal journal;

	/* The worker's loop time: what its journal events are stamped with (one
	 * clock read per loop, not per event). Worker only. */
	uint64_t now;

	/* The worker and how it is woken. */
	struct nvr_thread worker;
	bool worker_started;
	_Atomic bool stop;
	_Atomic uint32_t kick;
	_Atomic uint32_t sleeping;
	/* Worker loops completed, and the last one that had work or held
	 * completions back: a loop after both with neither means the device
	 * has nothing to raise until the host acts. */
	_Atomic uint64_t loop_done, busy_loop;

	_Atomic uint64_t st_commands, st_cqes, st_irqs, st_dma_faults, st_bad_db, st_sleeps;

	/* Hostile knobs (hostile.c): I/O commands fetched, for the count knobs;
	 * when the interrupt storm fires next (worker only); a generator. */
	_Atomic uint64_t io_fetched;
	_Atomic bool hostile_fired;
	uint64_t storm_next_ns;
	struct nvr_rng hostile_rng;

	/* races.c: completions owed to deleted SQs (complete_after_sq_delete). */
	struct sim_ghost *ghosts;
	uint32_t nr_ghosts;
};

/* The DMA table's lock: shared by the worker's batch, exclusive to (un)map. */
static inline void sim_dma_rdlock(struct nvr_sim *s)
{
#ifdef NVR_SCHED_MODEL
	nvr_mutex_lock(&s->dma_lock);
#else
	pthread_rwlock_rdlock(&s->dma_lock);
#endif
}

/* The worker's, right after it took the device lock (nvr_mutex_lock_next()). */
static inline void sim_dma_rdlock_next(struct nvr_sim *s)
{
#ifdef NVR_SCHED_MODEL
	nvr_mutex_lock_next(&s->dma_lock);
#else
	pthread_rwlock_rdlock(&s->dma_lock);
#endif
}

static inline void sim_dma_wrlock(struct nvr_sim *s)
{
#ifdef NVR_SCHED_MODEL
	nvr_mutex_lock(&s->dma_lock);
#else
	pthread_rwlock_wrlock(&s->dma_lock);
#endif
}

static inline void sim_dma_unlock(struct nvr_sim *s)
{
#ifdef NVR_SCHED_MODEL
	nvr_mutex_unlock(&s->dma_lock);
#else
	pthread_rwlock_unlock(&s->dma_lock);
#endif
}

static inline uint64_t sim_now(void)
{
	return nvr_now_ns();
}

/* Journal an event from the worker thread, stamped with its loop time. */
#define sim_journal(s, ...) nvr_journal_add_ts(&(s)->journal, (s)->now, __VA_ARGS__)

/* Should fault @f fire now? Draws from @rng, the stream of the queue or vector. */
bool nvr_sim_fault_fires(struct nvr_sim *s, enum nvr_sim_fault f, struct nvr_rng *rng);
/* Seed a queue's or vector's generator: the run's seed, the kind, the index. */
void nvr_sim_seed_stream(struct nvr_sim *s, struct nvr_rng *rng, uint64_t kind, uint32_t index);

/* dma.c */
void *nvr_sim_dma_ptr(struct nvr_sim *s, uint64_t iova, uint64_t len, bool write);
void *nvr_sim_ring_ptr_slow(struct nvr_sim *s, struct sim_ring_map *c, uint64_t base,
			    uint64_t off, uint64_t len, bool write);

/* nvr_sim_dma_ptr() of @len bytes at @off into the ring at @base, through @c. */
static inline void *nvr_sim_ring_ptr(struct nvr_sim *s, struct sim_ring_map *c, uint64_t base,
				     uint64_t off, uint64_t len, bool write)
{
	if (likely(c->gen == s->maps_gen && c->base == base && off < c->len &&
		   len <= c->len - off))
		return c->vaddr + off;
	return nvr_sim_ring_ptr_slow(s, c, base, off, len, write);
}
int nvr_sim_dma_copy(struct nvr_sim *s, uint64_t prp1, uint64_t prp2, void *buf, uint64_t len,
		 bool to_host);
int nvr_sim_dma_map(struct nvr_transport *t, void *vaddr, uint64_t iova, size_t len);
int nvr_sim_dma_unmap(struct nvr_transport *t, uint64_t iova, size_t len);

/* regs.c */
uint32_t nvr_sim_read32(struct nvr_transport *t, uint32_t off);
uint64_t nvr_sim_read64(struct nvr_transport *t, uint32_t off);
void nvr_sim_write32(struct nvr_transport *t, uint32_t off, uint32_t val);
void nvr_sim_write64(struct nvr_transport *t, uint32_t off, uint64_t val);
bool nvr_sim_ready(struct nvr_sim *s, uint64_t now);
void nvr_sim_fatal(struct nvr_sim *s, uint32_t reason);
void nvr_sim_kick(struct nvr_sim *s);

/* admin.c and nvm.c: execute one command, return its status field */
uint16_t nvr_sim_admin(struct nvr_sim *s, const struct nvr_sqe *sqe, uint32_t *dw0);
uint16_t nvr_sim_nvm(struct nvr_sim *s, const struct nvr_sqe *sqe, uint32_t *dw0);
void nvr_sim_build_identify(struct nvr_sim *s);

/* worker.c */
void *nvr_sim_worker(void *arg);
void nvr_sim_complete(struct nvr_sim *s, uint16_t cqid, const struct nvr_cqe *cqe, uint64_t due);
void nvr_sim_raise_due(struct nvr_sim *s, uint64_t now);
void nvr_sim_queues_reset(struct nvr_sim *s);
void nvr_sim_delete_sq(struct nvr_sim *s, struct sim_sq *sq);

/* keepalive.c */
uint16_t nvr_sim_keep_alive(struct nvr_sim *s, uint64_t now);
uint16_t nvr_sim_kato_feature(struct nvr_sim *s, bool set, uint32_t cdw11, uint32_t *dw0);
void nvr_sim_kato_check(struct nvr_sim *s, uint64_t now);
uint64_t nvr_sim_kato_deadline(struct nvr_sim *s);
void nvr_sim_kato_reset(struct nvr_sim *s);

/* dbbuf.c: shadow doorbells and EventIdx */
uint16_t nvr_sim_dbbuf_config(struct nvr_sim *s, const struct nvr_sqe *sqe);
void nvr_sim_dbbuf_queue(struct nvr_sim *s, uint16_t qid, bool cq);
void nvr_sim_dbbuf_reset(struct nvr_sim *s);
/* False while the SQ sleeps waiting for an MMIO doorbell; else its shadow tail. */
bool nvr_sim_dbbuf_sq_tail(struct nvr_sim *s, struct sim_sq *sq, uint32_t *tail);
bool nvr_sim_dbbuf_sq_pending(const struct sim_sq *sq);
/* The SQ is drained: publish EventIdx and stop looking unless the host went on. */
void nvr_sim_dbbuf_sq_idle(struct nvr_sim *s, struct sim_sq *sq);
bool nvr_sim_dbbuf_cq_head(struct nvr_sim *s, struct sim_cq *cq, uint32_t *head);

/* hostile.c: the hooks the other files call; each is a no-op when its knob is off. */
static inline uint64_t sim_hostile(const struct nvr_sim *s, enum nvr_sim_hostile h)
{
	return s->cfg.hostile[h];
}
/* SIM_POST_* flags for an I/O completion about to be queued on @cq. */
uint8_t nvr_sim_hostile_cqe_flags(struct nvr_sim *s, struct sim_cq *cq, uint16_t cid);
/* Rewrite @cqe as posted with hostile @flags; return true to skip the host's truth count. */
bool nvr_sim_hostile_mangle(struct nvr_sim *s, struct sim_cq *cq, struct nvr_cqe *cqe, uint8_t flags);
/* An I/O command was fetched: the count knobs may stop the controller now. */
void nvr_sim_hostile_fetched(struct nvr_sim *s);
/* The worker's loop, device lock held: the interrupt storm. */
void nvr_sim_hostile_tick(struct nvr_sim *s, uint64_t now);
/* The longest the worker may sleep (ns) with the storm on; UINT64_MAX otherwise. */
uint64_t nvr_sim_hostile_sleep_max(struct nvr_sim *s);
/* When CSTS.RDY may follow CC.EN, given when it would. */
uint64_t nvr_sim_hostile_ready_at(struct nvr_sim *s, uint64_t at);
/* When a shutdown completes, given when it would. */
uint64_t nvr_sim_hostile_shutdown_at(struct nvr_sim *s, uint64_t at);
/* Mangle an Identify data buffer of CNS @cns about to be returned. */
void nvr_sim_hostile_identify(struct nvr_sim *s, uint32_t cns, uint8_t *buf);
/* Number of Queues' Dword 0, given what it would be. */
uint32_t nvr_sim_hostile_nr_queues(struct nvr_sim *s, uint32_t dw0);

/* abort.c: the Abort command. */
uint16_t nvr_sim_abort(struct nvr_sim *s, const struct nvr_sqe *sqe, uint32_t *dw0);

/* races.c: the race knobs' hooks; each keeps the rule while its knob is off. */
static inline bool sim_race(const struct nvr_sim *s, enum nvr_sim_race r)
{
	return s->cfg.races[r];
}
/* A reset clears Doorbell Buffer Config, unless keep_dbbuf_on_reset. */
void nvr_sim_race_dbbuf_reset(struct nvr_sim *s);
/* The SQ EventIdx to write when the SQ is drained. */
uint32_t nvr_sim_race_sq_eventidx(const struct nvr_sim *s, const struct sim_sq *sq);
/* The device read the shadow CQ head @head: publish it as CQ EventIdx. */
void nvr_sim_race_cq_eventidx(struct nvr_sim *s, struct sim_cq *cq, uint32_t head);
/* May the device read the shadow CQ head now (false: asleep until MMIO)? */
bool nvr_sim_race_cq_may_read(struct nvr_sim *s, struct sim_cq *cq);
/* An SQ is being deleted: complete_after_sq_delete takes its pending
 * completions away, to post them later into the CQ memory as it was. */
void nvr_sim_race_sq_delete(struct nvr_sim *s, struct sim_sq *sq);
/* CC.EN was cleared: complete_after_disable takes the pending completions away. */
void nvr_sim_race_disable(struct nvr_sim *s);
/* The worker's loop, device lock held: post what is owed. */
void nvr_sim_race_tick(struct nvr_sim *s, uint64_t now);
/* The SQ ran out of request slots with entries left: park it (no_sq_restart)? */
bool nvr_sim_race_sq_park(const struct nvr_sim *s);
/* Where a created SQ starts fetching (0, unless stale_queue_state). */
uint32_t nvr_sim_race_new_sq_head(const struct nvr_sim *s, const struct sim_sq *sq);
/* The CQ is full: publish EventIdx, barrier; the caller reads the head again. */
void nvr_sim_race_cq_full(struct nvr_sim *s, struct sim_cq *cq);

/* irq.c */
/* The device owes an interrupt on @vector; @io: for an I/O CQ (faults may apply). */
void nvr_sim_raise(struct nvr_sim *s, uint16_t vector, bool io);
int nvr_sim_irq_set(struct nvr_transport *t, unsigned int vector, int efd);
int nvr_sim_irq_trigger(struct nvr_transport *t, unsigned int vector);
int nvr_sim_irq_mask(struct nvr_transport *t, unsigned int vector, bool masked);
int nvr_sim_msix_write(struct nvr_transport *t, unsigned int vector, unsigned int dword,
		   uint32_t value);

#endif
