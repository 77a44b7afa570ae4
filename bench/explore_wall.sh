#!/bin/sh
# SPDX-License-Identifier: MIT
# Wall time per seed race in model mode (issue 14, item 8): `explore --seed S`
# for S in 1..N on each seed race's buggy row; prints one line per row:
#   explore_wall_ms bin=BINARY row=FILE/ROW caught=C/N median=MS max=MS cpu_median=MS
#     schedules_until_found=MED/MAX inproc_median=MS inproc_max=MS
# cpu_median is the command's task-clock (perf stat, "-" without perf): less
# sensitive to a loaded machine than the wall time, which the target is about.
# inproc is the row's own wall time in the exploring process, from its start to
# its verdict (the JSON report's sched.wall_ms): the whole command less the
# process start(s), the scenario's parsing and the report.
# Usage: [ROWS='FILE/ROW ...'] bench/explore_wall.sh [BINARY] [N]   (BINARY: build/model/nvmerace)
set -u
bin=${1:-build/model/nvmerace}
n=${2:-20}
rows=${ROWS:-"concurrent-pollers/none concurrent-pollers/trylock shadow-doorbells/barrier-none
keep-alive-shutdown/async msix-reprogram/unmasked msix-reprogram/no-pba"}
perf=$(command -v perf)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $rows; do
	f=scenarios/${r%/*}.yaml
	: >"$tmp/ms"
	: >"$tmp/cpu"
	: >"$tmp/sch"
	: >"$tmp/in"
	caught=0
	s=1
	while [ "$s" -le "$n" ]; do
		if [ -n "$perf" ]; then
			# The command's own elapsed time and task-clock, without perf's start-up.
			perf stat -x, -e task-clock,duration_time -o "$tmp/time" -- \
				"$bin" explore "$f" --only "$r" --seed "$s" --json "$tmp/j" \
				>"$tmp/out" 2>&1
			awk -F, '/task-clock/ {printf "%d\n", $1 * 1000}' "$tmp/time" >>"$tmp/cpu"
			awk -F, '/duration_time/ {printf "%d\n", $1 / 1000}' "$tmp/time" >>"$tmp/ms"
		else
			t0=$(date +%s%N)
			"$bin" explore "$f" --only "$r" --seed "$s" --json "$tmp/j" >"$tmp/out" 2>&1
			t1=$(date +%s%N)
			echo $(((t1 - t0) / 1000)) >>"$tmp/ms"
		fi
		sed -n 's/.*"wall_ms": *\([0-9.]*\).*/\1/p' "$tmp/j" | awk '{printf "%d\n", $1 * 1000}' \
			>>"$tmp/in"
		if grep -q "^  sched:.* caught" "$tmp/out"; then
			caught=$((caught + 1))
			sed -n 's/^  sched:[^,]*, \([0-9]*\) schedules*,.*/\1/p' "$tmp/out" >>"$tmp/sch"
		fi
		s=$((s + 1))
	done
	med=$(sort -n "$tmp/ms" | awk '{a[NR]=$1} END {printf "%.1f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)/1000}')
	max=$(sort -n "$tmp/ms" | tail -1 | awk '{printf "%.1f", $1/1000}')
	cpu=$(sort -n "$tmp/cpu" | awk '{a[NR]=$1} END {if (!NR) print "-"; else printf "%.1f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)/1000}')
	smed=$(sort -n "$tmp/sch" | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "-"}')
	smax=$(sort -n "$tmp/sch" | tail -1)
	inmed=$(sort -n "$tmp/in" | awk '{a[NR]=$1} END {if (!NR) print "-"; else printf "%.1f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)/1000}')
	inmax=$(sort -n "$tmp/in" | tail -1 | awk '{printf "%.1f", $1/1000}')
	echo "explore_wall_ms bin=$bin row=$r caught=$caught/$n median=$med max=$max cpu_median=$cpu" \
		"schedules_until_found=$smed/${smax:--} inproc_median=$inmed inproc_max=${inmax:--}"
done
