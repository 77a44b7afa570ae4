// SPDX-License-Identifier: MIT
/* races: { keep_dbbuf_on_reset: true, ... }: the race knobs of lib/dev/sim/races.c. */
#include "scenario/scenario_int.h"

_Static_assert(NVR_RACE_NR <= SC_MAX_KEYS, "race maps are read with nvr_sc_map_of()");

bool nvr_sc_races(struct sc_ctx *c, yaml_node_t *n, const char *where, bool *val, bool *set)
{
	struct sc_key keys[NVR_RACE_NR];
	yaml_node_t *v[NVR_RACE_NR];
	bool ok = true, b;

	for (int r = 0; r < NVR_RACE_NR; r++)
		keys[r] = (struct sc_key){ nvr_sim_race_name(r), false };
	if (!nvr_sc_map_of(c, n, "races", where, "race knob", keys, NVR_RACE_NR, v))
		return false;
	for (int r = 0; r < NVR_RACE_NR; r++) {
		if (!v[r])
			continue;
		if (!nvr_sc_bool(c, v[r], keys[r].name, &b)) {
			ok = false;
			continue;
		}
		val[r] = b;
		if (set)
			set[r] = true;
	}
	return ok;
}
