/* SPDX-License-Identifier: MIT */
/*
 * The simulated NVMe 1.4 controller: the device side, on its own thread.
 * It is reached only through the transport it returns, like a real function
 * behind VFIO, so the host code cannot tell the two apart.
 */
#ifndef NVR_SIM_H
#define NVR_SIM_H

#include <stdbool.h>
#include <stdint.h>

struct nvr_transport;
struct nvr_journal;

/*
 * Fault knobs: each breaks one rule of the spec on purpose. A rate N makes the
 * fault fire on one event in N on average (0: never), drawn from the seeded
 * generator, so a seed replays the same faults. Faults apply to I/O queues
 * and their vectors only; the admin queue stays honest.
 */
enum nvr_sim_fault {
	NVR_FAULT_DROP_CQE,	/* a command completes but no CQE is posted (4.6) */
	NVR_FAULT_DUP_CQE,	/* the same CQE is posted twice (4.6: one completion per command) */
	NVR_FAULT_BOGUS_CID,	/* an extra CQE names a CID the host never submitted */
	NVR_FAULT_FLIP_PHASE,	/* a CQE is posted with the phase tag of the previous pass (4.6.1) */
	NVR_FAULT_DROP_IRQ,	/* an interrupt owed for new CQEs is never sent (7.5) */
	NVR_FAULT_SPURIOUS_IRQ,	/* an interrupt is sent with no new CQE behind it */
	NVR_FAULT_MISROUTE_IRQ,	/* the interrupt goes to another vector than the CQ's IV */
	/* The device raises an interrupt right after a host write to an MSI-X
	 * entry, before the host's next one: between an address and a data
	 * write it samples an unmasked entry half-written (PCI 3.0, 6.8.2.9:
	 * software must mask an entry to update it). The rate applies to table
	 * writes; the write is held until the interrupt is raised (1 ms at most). */
	NVR_FAULT_TORN_SAMPLE,
	NVR_FAULT_NR,
};

const char *nvr_sim_fault_name(enum nvr_sim_fault f);
/* The fault named @name, or -1. */
int nvr_sim_fault_by_name(const char *name);

/*
 * Hostile knobs: the device misbehaves the way real broken firmware does,
 * beyond one bad event. Unlike the faults above they may stop the controller
 * altogether. Each value is a rate (1 in N CQEs; 0: never), a count (after N
 * I/O commands; 0: never) or a switch (0 or 1), as nvr_sim_hostile_kind()
 * says. lib/sim/hostile.c has each one's rule and where the device breaks it.
 */
enum nvr_sim_hostile {
	NVR_HOSTILE_GARBAGE_CQE,	/* rate: a CQE with random bytes in every field */
	NVR_HOSTILE_CQE_STORM,		/* rate: a CQE posted over and over, past a full CQ */
	NVR_HOSTILE_BAD_SQHD,		/* rate: a CQE whose SQ Head Pointer is beyond the SQ */
	NVR_HOSTILE_IRQ_STORM,		/* switch: I/O vectors fire continuously */
	NVR_HOSTILE_NEVER_READY,	/* switch: CSTS.RDY never follows CC.EN */
	NVR_HOSTILE_CFS_AFTER,		/* count: CSTS.CFS once N I/O commands were fetched */
	NVR_HOSTILE_HANG_AFTER,		/* count: stops responding once N were fetched */
	NVR_HOSTILE_BAD_IDENTIFY,	/* switch: unterminated strings, absurd counts */
	NVR_HOSTILE_SHUTDOWN_HANGS,	/* switch: CC.SHN never reaches SHST complete */
	NVR_HOSTILE_NR,
};

enum nvr_sim_hostile_kind {
	NVR_HOSTILE_RATE,
	NVR_HOSTILE_COUNT,
	NVR_HOSTILE_SWITCH,
};

const char *nvr_sim_hostile_name(enum nvr_sim_hostile h);
/* The knob named @name, or -1. */
int nvr_sim_hostile_by_name(const char *name);
enum nvr_sim_hostile_kind nvr_sim_hostile_kind(enum nvr_sim_hostile h);

/*
 * Race knobs: the device-side races of the catalog (README, "The device on
 * trial"). Each reproduces one public device bug in a race window a correct
 * host drives it through; lib/sim/races.c says which rule each breaks and
 * where the bug was found. All are switches, off by default.
 */
enum nvr_sim_race {
	NVR_RACE_KEEP_DBBUF_ON_RESET,	/* Doorbell Buffer Config survives CC.EN = 0 */
	NVR_RACE_EVENTIDX_IS_WAIT,	/* SQ EventIdx = the tail it waits for, not the one it saw */
	NVR_RACE_NO_CQ_EVENTIDX,	/* never writes CQ EventIdx */
	NVR_RACE_CQ_EVENTIDX_AT_TAIL,	/* a full CQ's EventIdx = its tail */
	NVR_RACE_STALE_QUEUE_STATE,	/* a re-created SQ starts where the deleted one stopped */
	NVR_RACE_COMPLETE_AFTER_SQ_DELETE,	/* commands in flight complete after Delete SQ */
	NVR_RACE_COMPLETE_AFTER_DISABLE,	/* ... and after CC.EN = 0 */
	NVR_RACE_CQ_OVERRUN,		/* posts into CQ slots the host has not released */
	NVR_RACE_ABORT_COMPLETES_TWICE,	/* an aborted command also completes normally */
	NVR_RACE_ABORT_SAYS_ABORTED,	/* Abort says aborted; the command completes anyway */
	NVR_RACE_NR,
};

const char *nvr_sim_race_name(enum nvr_sim_race r);
/* The knob named @name, or -1. */
int nvr_sim_race_by_name(const char *name);

struct nvr_sim_config {
	uint64_t ns_bytes;	/* namespace 1 capacity; RAM backed, touched lazily */
	uint32_t lba_size;	/* 512 or 4096 */
	uint16_t mqes;		/* CAP.MQES: largest queue size minus one */
	uint16_t nr_io_queues;	/* I/O SQ/CQ pairs offered by Set Features */
	uint16_t nr_vectors;	/* MSI-X table size */
	uint8_t dstrd;		/* CAP.DSTRD: doorbell stride is 4 << dstrd bytes */
	uint8_t cap_to;		/* CAP.TO in 500 ms units */
	uint8_t mdts;		/* Identify MDTS, a power of two of 4 KiB pages */
	uint32_t ready_delay_us;	/* CC.EN to CSTS.RDY, both ways */
	uint32_t shutdown_us;	/* CC.SHN to CSTS.SHST complete */
	uint32_t latency_min_us;	/* I/O completion latency, drawn uniformly */
	uint32_t latency_max_us;
	uint32_t spin_us;	/* how long an idle worker spins before it sleeps */
	uint32_t keep_alive_us;	/* a Keep Alive command completes this long after its fetch */
	uint64_t seed;		/* for every random choice the device makes */
	uint32_t journal_size;	/* events kept in the journal ring, a power of two */
	uint32_t fault_rate[NVR_FAULT_NR];	/* 1 in N events; 0: never */
	/* An interrupt raised while its vector is masked is dropped instead of
	 * set pending: no Pending Bit Array, the bhyve bug (PCI 3.0, 6.8.2.9). */
	bool no_pba;
	uint64_t hostile[NVR_HOSTILE_NR];	/* see enum nvr_sim_hostile; 0: off */
	bool races[NVR_RACE_NR];	/* see enum nvr_sim_race */
	char model[41];
	char serial[21];
	char firmware[9];
};

/**
 * nvr_sim_config_init() - the defaults: 256 MiB of 512-byte LBAs, 16 queue
 * pairs of up to 1024 entries, 17 vectors, ready at once, no added latency.
 * @cfg: filled in.
 */
void nvr_sim_config_init(struct nvr_sim_config *cfg);

/**
 * nvr_sim_create() - start a simulated controller.
 * @cfg: its configuration, copied.
 * @out: the transport that reaches it; nvr_transport_destroy() stops it.
 *
 * Return: 0, -EINVAL for a bad configuration, -ENOMEM, or a thread error.
 */
int nvr_sim_create(const struct nvr_sim_config *cfg, struct nvr_transport **out);

/* The simulator behind @t, or NULL when @t is not a simulator. */
struct nvr_sim *nvr_sim_of(struct nvr_transport *t);

/* The device journal: ground truth for the ledger. */
struct nvr_journal *nvr_sim_journal(struct nvr_sim *s);

struct nvr_sim_stats {
	uint64_t commands;	/* commands fetched from any SQ */
	uint64_t cqes;		/* CQEs posted */
	uint64_t irqs;		/* interrupts delivered to an eventfd */
	uint64_t dma_faults;	/* device accesses outside a live mapping */
	uint64_t bad_doorbells;	/* doorbell writes the spec calls invalid */
	uint64_t sleeps;	/* times the worker went to sleep */
	/* What the host left behind: read them after a teardown. */
	uint32_t live_maps;	/* DMA mappings still in the IOVA table */
	uint32_t attached_vectors;	/* vectors with an eventfd bound */
	bool enabled;		/* CC.EN is set */
	bool hostile_fired;	/* a count or switch knob has taken effect (cfs, hang...) */
};
void nvr_sim_get_stats(struct nvr_sim *s, struct nvr_sim_stats *st);

/* Change the fault rates of a running device. */
void nvr_sim_set_fault_rate(struct nvr_sim *s, enum nvr_sim_fault f, uint32_t rate);
/* Make fault @f fire once, at the next chance. */
void nvr_sim_inject(struct nvr_sim *s, enum nvr_sim_fault f);

/*
 * Ground truth for the ledger. Counts are since the SQ was created: how many
 * times the device fetched an SQE with @cid from SQ @sqid, and how many CQEs
 * it posted for such commands (a duplicated CQE counts twice; a fabricated
 * CQE with a bogus CID does not count). Return false for an unknown SQ.
 */
bool nvr_sim_cid_truth(struct nvr_sim *s, uint16_t sqid, uint16_t cid, uint32_t *fetched,
		       uint32_t *posted);

struct nvr_sim_vec_truth {
	uint64_t raised;	/* the device owed an interrupt on this vector */
	uint64_t delivered;	/* interrupts written to this vector's eventfd */
	uint64_t unjustified;	/* of those, with no new CQE on this vector's CQs behind them */
	uint64_t lost;		/* raised here but never delivered here (dropped, masked
				 * without PBA, misrouted elsewhere, no eventfd) */
	uint64_t pending;	/* raised while masked, left pending */
	uint64_t dropped_masked;	/* of lost: raised while masked, with no PBA to keep it */
	uint64_t torn;		/* of lost: sampled half-updated, sent where neither the old
				 * nor the new message points */
	uint64_t nowhere;	/* of lost: the message named no host vector with an eventfd */
	uint64_t stray;		/* as a host vector: torn messages that landed here */
	bool masked;
	bool pba;		/* the pending bit now */
};
void nvr_sim_vec_truth(struct nvr_sim *s, uint16_t vector, struct nvr_sim_vec_truth *out);

/* True while the completion of CID @cid of SQ @sqid waits in the device
 * (for its latency, or for room in its CQ): slow, not lost. */
bool nvr_sim_cid_pending(struct nvr_sim *s, uint16_t sqid, uint16_t cid);

/* Keep Alive as the device sees it. */
struct nvr_sim_ka_truth {
	uint32_t kato_ms;	/* 0: the timer is off */
	uint64_t keep_alives;	/* Keep Alive commands executed */
	uint64_t last_ns;	/* when the last one came (or the timer started) */
	bool expired;		/* CSTS.CFS was set because the timer ran out */
};
void nvr_sim_ka_truth(struct nvr_sim *s, struct nvr_sim_ka_truth *out);

/* What the device thinks of an SQ with shadow doorbells. */
struct nvr_sim_sq_truth {
	bool shadow;		/* Doorbell Buffer Config applies to it */
	bool waiting;		/* drained and asleep: only an MMIO doorbell wakes it */
	uint32_t idle_head;	/* where it stopped, the EventIdx it wrote */
	uint32_t mmio_tail;	/* the last tail written to the MMIO doorbell */
	uint64_t mmio_writes;	/* MMIO doorbell writes to it, ever */
	bool mmio_unseen;	/* an MMIO doorbell came that it has not acted on yet */
	uint64_t idles;		/* times it went to sleep */
};
/* Return false for an unknown SQ. */
bool nvr_sim_sq_truth(struct nvr_sim *s, uint16_t sqid, struct nvr_sim_sq_truth *out);

/* A hash of every random draw the device made for SQ @sqid's commands
 * (completion latencies): equal seeds and equal commands give equal values. */
uint64_t nvr_sim_sq_fingerprint(struct nvr_sim *s, uint16_t sqid);

/* Direct access to the namespace backing store, for data verification. */
int nvr_sim_ns_read(struct nvr_sim *s, uint64_t offset, void *buf, uint64_t len);

#endif
