#!/bin/sh
# SPDX-License-Identifier: MIT
# The exhaustive spaces of the seed races (issue 14, item 8): dfs over each
# correct design at a small bound, and over its buggy twin in the same space.
# Prints one line per row:
#   explore_space row=FILE/ROW bound=P,D size=SET schedules=N complete=yes|no
#     found=yes|no cpu_s=S
# size is what the row was cut to (sets_of below). A clean row's space must be
# complete and found=no; the buggy twin's found=yes says the space holds the bug.
# Usage: bench/explore_space.sh [BINARY]   (BINARY: build/model/nvmerace)
set -u
bin=${1:-build/model/nvmerace}
# What a row is cut to: one command, or two at QD 2; cmd1-lat0-hf: one
# command that the device completes as soon as it fetches it, the interrupt
# handlers waiting before the row starts (sched.handlers_first).
sets_of() {
	case $1 in
	cmd1) echo "sched.count=1" ;;
	cmd2-qd2) echo "actors.io.steps.0.submit.count=2 actors.io.steps.0.submit.qd=2" ;;
	cmd1-lat0-hf) echo "sched.count=1 device.sim.latency_us=0 sched.handlers_first=true" ;;
	esac
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# row, bound, size (--set ...), budget
while read -r row bound size budget; do
	f=scenarios/${row%/*}.yaml
	sets=""
	for s in $(sets_of "$size"); do
		sets="$sets --set $s"
	done
	# shellcheck disable=SC2086
	/usr/bin/env time -f %U -o "$tmp/t" "$bin" explore --strategy dfs --bound "$bound" \
		--seed 1 --budget "$budget" $sets --only "$row" --json "$tmp/j" "$f" \
		>"$tmp/out" 2>&1
	line=$(grep -m1 "^  sched:" "$tmp/out")
	n=$(echo "$line" | sed -n 's/.*, \([0-9]*\) schedules*[ ,].*/\1/p')
	case $line in *"space complete"*) c=yes ;; *) c=no ;; esac
	case $line in *", caught"* | *", broken"*) found=yes ;; *) found=no ;; esac
	echo "explore_space row=$row bound=$bound size=$size schedules=${n:--} complete=$c" \
		"found=$found cpu_s=$(tail -1 "$tmp/t")"
done <<ROWS
concurrent-pollers/mutex 1,0 cmd1 50000
concurrent-pollers/cas 1,0 cmd1 50000
concurrent-pollers/none 1,0 cmd1 50000
concurrent-pollers/trylock 2,0 cmd1 50000
shadow-doorbells/barrier-full 1,1 cmd2-qd2 50000
shadow-doorbells/barrier-full-spdk 1,1 cmd2-qd2 50000
shadow-doorbells/barrier-none 1,1 cmd2-qd2 50000
msix-reprogram/mask 1,0 cmd1-lat0-hf 50000
msix-reprogram/two-step 1,0 cmd1-lat0-hf 50000
msix-reprogram/unmasked 1,0 cmd1-lat0-hf 50000
msix-reprogram/mask 2,0 cmd1-lat0-hf 50000
msix-reprogram/two-step 2,0 cmd1-lat0-hf 50000
msix-reprogram/unmasked 2,0 cmd1-lat0-hf 50000
ROWS
