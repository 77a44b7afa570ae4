// SPDX-License-Identifier: MIT
/*
 * The shared objects a run touches: each address gets a number on first
 * use (the trace and its hash see numbers), and a name when set-up labels
 * it (the timeline and the monitor see names; names are never hashed).
 * Split from sched.c, which decides the steps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"

int nvr_sched_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	/* x4: a whole row's trace (10^4-10^5 events) is copied less often. */
	while (n < need)
		n *= 4;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static size_t obj_slot(const void *addr, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)addr * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (cap - 1);
}

static void set_idname(struct nvr_sched *S, uint32_t id, const char *name)
{
	size_t i = id - 1000, cap = S->idnamecap;

	if (nvr_sched_grow((void **)&S->idname, &S->idnamecap, i + 1, sizeof(*S->idname))) {
		S->err = -ENOMEM;
		return;
	}
	memset(S->idname + cap, 0, (S->idnamecap - cap) * sizeof(*S->idname));
	snprintf(S->idname[i], sizeof(S->idname[i]), "%s", name);
}

/* Labels first; any other address gets the next number, kept in an open-addressing table. */
uint32_t nvr_sched_obj_id(struct nvr_sched *S, const void *addr)
{
	const struct nvr_sched_prog *p = S->prog;
	size_t i;

	for (int k = 0; k < p->nr_labels; k++)
		if ((const char *)p->ctx + p->labels[k].offset == addr)
			return (uint32_t)k + 1;
	if (2 * (S->nobj + 1) > S->objcap) {
		size_t cap = S->objcap ? 2 * S->objcap : 64;
		__typeof__(S->obj) t = calloc(cap, sizeof(*t));

		if (!t) {
			S->err = -ENOMEM;
			return 0;
		}
		for (size_t k = 0; k < S->objcap; k++) {
			if (!S->obj[k].addr)
				continue;
			for (i = obj_slot(S->obj[k].addr, cap); t[i].addr; i = (i + 1) & (cap - 1))
				;
			t[i] = S->obj[k];
		}
		free(S->obj);
		S->obj = t;
		S->objcap = cap;
	}
	for (i = obj_slot(addr, S->objcap); S->obj[i].addr; i = (i + 1) & (S->objcap - 1))
		if (S->obj[i].addr == addr)
			return S->obj[i].id;
	S->obj[i].addr = addr;
	S->obj[i].id = 1000 + (uint32_t)S->nobj++;
	if (S->lhcap)
		for (size_t k = obj_slot(addr, S->lhcap); S->lhash[k]; k = (k + 1) & (S->lhcap - 1))
			if (S->label[S->lhash[k] - 1].addr == addr) {
				set_idname(S, S->obj[i].id, S->label[S->lhash[k] - 1].name);
				break;
			}
	return S->obj[i].id;
}

/* The number of the object at @addr, 0 when the run has not touched it. */
uint32_t nvr_sched_obj_find(const struct nvr_sched *S, const void *addr)
{
	const struct nvr_sched_prog *p = S->prog;

	for (int k = 0; k < p->nr_labels; k++)
		if ((const char *)p->ctx + p->labels[k].offset == addr)
			return (uint32_t)k + 1;
	if (!S->objcap)
		return 0;
	for (size_t i = obj_slot(addr, S->objcap); S->obj[i].addr; i = (i + 1) & (S->objcap - 1))
		if (S->obj[i].addr == addr)
			return S->obj[i].id;
	return 0;
}

/* Index label @k (0-based) by its address; it replaces an older label of the address. */
static void label_index(uint32_t *h, size_t cap, const struct nvr_sched_name_ent *label, size_t k)
{
	size_t i;

	for (i = obj_slot(label[k].addr, cap); h[i]; i = (i + 1) & (cap - 1))
		if (label[h[i] - 1].addr == label[k].addr)
			break;
	h[i] = (uint32_t)k + 1;
}

/*
 * Names do not enter the trace or its hash: an object keeps its number, and
 * the number its name, given before or after its first use. A later name for
 * the same address (memory used again) replaces the earlier one. Labels are
 * indexed by address: a row names some hundred words (the MSI-X table's), and
 * every new object looks its name up.
 */
void nvr_sched_name(struct nvr_sched *S, const void *addr, const char *name)
{
	uint32_t id;

	if (nvr_sched_grow((void **)&S->label, &S->labelcap, S->nlabel + 1, sizeof(*S->label))) {
		S->err = -ENOMEM;
		return;
	}
	if (2 * (S->nlabel + 1) > S->lhcap) {
		size_t cap = S->lhcap ? 2 * S->lhcap : 256;
		uint32_t *h = calloc(cap, sizeof(*h));

		if (!h) {
			S->err = -ENOMEM;
			return;
		}
		for (size_t k = 0; k < S->nlabel; k++)
			label_index(h, cap, S->label, k);
		free(S->lhash);
		S->lhash = h;
		S->lhcap = cap;
	}
	S->label[S->nlabel].addr = addr;
	snprintf(S->label[S->nlabel].name, NVR_SCHED_NAME_MAX, "%s", name);
	label_index(S->lhash, S->lhcap, S->label, S->nlabel++);
	id = nvr_sched_obj_find(S, addr);
	if (id >= 1000)
		set_idname(S, id, name);
}
