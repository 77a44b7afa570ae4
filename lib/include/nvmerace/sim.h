/* SPDX-License-Identifier: MIT */
/*
 * The simulated NVMe 1.4 controller: the device side, on its own thread.
 * It is reached only through the transport it returns, like a real function
 * behind VFIO, so the host code cannot tell the two apart.
 */
#ifndef NVMERACE_SIM_H
#define NVMERACE_SIM_H

#include <stdbool.h>
#include <stdint.h>

struct nvr_transport;
struct nvr_sim;

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

/**
 * nvr_sim_fault_name() - the scenario file's name for a fault knob
 * @f: the knob
 *
 * Return: its name; "?" out of range.
 */
const char *nvr_sim_fault_name(enum nvr_sim_fault f);

/**
 * nvr_sim_fault_by_name() - the fault knob a name stands for
 * @name: as in a scenario file
 *
 * Return: the knob, or -1 for an unknown name.
 */
int nvr_sim_fault_by_name(const char *name);

/*
 * Hostile knobs: the device misbehaves the way real broken firmware does,
 * beyond one bad event. Unlike the faults above they may stop the controller
 * altogether. Each value is a rate (1 in N CQEs; 0: never), a count (after N
 * I/O commands; 0: never) or a switch (0 or 1), as nvr_sim_hostile_kind()
 * says. lib/dev/sim/hostile.c has each one's rule and where the device breaks it.
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

/**
 * nvr_sim_hostile_name() - the scenario file's name for a hostile knob
 * @h: the knob
 *
 * Return: its name; "?" out of range.
 */
const char *nvr_sim_hostile_name(enum nvr_sim_hostile h);

/**
 * nvr_sim_hostile_by_name() - the hostile knob a name stands for
 * @name: as in a scenario file
 *
 * Return: the knob, or -1 for an unknown name.
 */
int nvr_sim_hostile_by_name(const char *name);

/**
 * nvr_sim_hostile_kind() - what a hostile knob's value means
 * @h: the knob
 *
 * Return: NVR_HOSTILE_RATE, NVR_HOSTILE_COUNT or NVR_HOSTILE_SWITCH.
 */
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
	NVR_RACE_NO_SQ_RESTART,	/* an SQ out of request slots is not fetched from again */
	NVR_RACE_NR,
};

/**
 * nvr_sim_race_name() - the scenario file's name for a race knob.
 * @r: the knob.
 *
 * Return: its name, or "?" for no knob.
 */
const char *nvr_sim_race_name(enum nvr_sim_race r);

/**
 * nvr_sim_race_by_name() - the race knob a name stands for.
 * @name: as a scenario file writes it.
 *
 * Return: the knob, or -1.
 */
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
 *
 * Return: nothing.
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

/**
 * nvr_sim_of() - the simulator behind a transport
 * @t: the transport, or NULL
 *
 * Return: the simulator, or NULL when @t is not one.
 */
struct nvr_sim *nvr_sim_of(struct nvr_transport *t);

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
/**
 * nvr_sim_get_stats() - the simulated device's counters
 * @s: the simulator
 * @st: filled
 *
 * Return: nothing.
 */
void nvr_sim_get_stats(struct nvr_sim *s, struct nvr_sim_stats *st);

/**
 * nvr_sim_set_fault_rate() - change a fault rate of a running device
 * @s: the simulator
 * @f: the knob; out of range is ignored
 * @rate: 1 in @rate events; 0: never
 *
 * Return: nothing.
 */
void nvr_sim_set_fault_rate(struct nvr_sim *s, enum nvr_sim_fault f, uint32_t rate);

/**
 * nvr_sim_inject() - make a fault fire once, at the next chance
 * @s: the simulator
 * @f: the knob; out of range is ignored
 *
 * Return: nothing.
 */
void nvr_sim_inject(struct nvr_sim *s, enum nvr_sim_fault f);

#endif
