#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sh bench/monitor_overhead.sh [path/to/nvmerace]
#
# What the monitor costs a run: the same scenario row, the same seed, run
# BENCH_RUNS times with 'nvmerace run' (no display, no progress line), as
# many times with 'nvmerace run' in a 120x40 tmux pane, and as many under
# 'nvmerace monitor' in such a pane, interleaved so that a machine whose load
# changes treats all alike. The monitor's cost is its ratio to the run in tmux.
# commands/s of a run = its commands / its elapsed time, both from its
# summary line. Prints every run, the medians and their ratio. Not a test:
# the exit status is 0 whenever the figures were measured.
#
# Environment: BENCH_RUNS (5), BENCH_SCENARIO (scenarios/clean-soak.yaml),
# BENCH_ROW (coalescing), BENCH_SEED (1), BENCH_SET (PATH=VALUE overrides,
# space separated, given to both as --set; longer runs average out a load
# that changes).
set -eu

nvr=${1:-./nvmerace}
case $nvr in /*) ;; *) nvr=$(pwd)/$nvr ;; esac
runs=${BENCH_RUNS:-5}
scn=${BENCH_SCENARIO:-scenarios/clean-soak.yaml}
row=${BENCH_ROW:-coalescing}
seed=${BENCH_SEED:-1}
sets=
for kv in ${BENCH_SET:-}; do sets="$sets --set $kv"; done
command -v tmux >/dev/null 2>&1 || { echo "monitor_overhead: needs tmux" >&2; exit 2; }
[ -x "$nvr" ] || { echo "monitor_overhead: no binary '$nvr'; run 'make'" >&2; exit 2; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/nvr-monbench.XXXXXX")
sock=$dir/sock
cleanup() { tmux -S "$sock" kill-server >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
printf 'set -g default-terminal screen\nset -g status off\n' >"$dir/conf"
# A session that stays keeps one server for all the runs.
tmux -S "$sock" -f "$dir/conf" new-session -d -s keep "sleep 3600"
name=$(sed -n 's/^name: *//p' "$scn" | head -n 1)

# rate LINE: commands/s from a summary line "PASS  name/row  N cmds ... T.TTs".
rate() {
	printf '%s\n' "$1" | awk '{ for (i = 1; i <= NF; i++) { if ($i == "cmds") c = $(i - 1);
		if ($i ~ /^[0-9.]+s$/) t = $i } sub(/s$/, "", t); printf "%.0f\n", c / t }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

plain() {
	# shellcheck disable=SC2086  # $sets is a list of options
	"$nvr" run --seed "$seed" $sets --only "$name/$row" "$scn" 2>/dev/null |
		grep -E "^(PASS|FAIL) " | head -n 1
}

# The same 'nvmerace run', but in a tmux pane like the monitor's: a process
# started there is in a session (and a scheduler autogroup) of its own, and
# that alone changes what share of a loaded machine it gets.
in_tmux() {
	tmux -S "$sock" new-session -d -s c -x 120 -y 40 \
		"cd '$(pwd)' && '$nvr' run --seed $seed $sets --only '$name/$row' '$scn' 2>/dev/null; echo run-exit; sleep 600"
	n=6000
	until tmux -S "$sock" capture-pane -p -J -t c >"$dir/out" && grep -q '^run-exit' "$dir/out"; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "monitor_overhead: the run in tmux never finished" >&2; exit 1; }
		sleep 0.1
	done
	grep -E "^(PASS|FAIL) " "$dir/out" | head -n 1
	tmux -S "$sock" kill-session -t c
}

# One run under the monitor; the row's summary line once it has finished.
monitored() {
	tmux -S "$sock" new-session -d -s b -x 120 -y 40 \
		"cd '$(pwd)' && '$nvr' monitor --seed $seed $sets --only '$name/$row' '$scn' 2>/dev/null; echo monitor-exit; sleep 600"
	# The view stays when the row is done: wait for it (at most 10 minutes), then quit.
	n=6000
	until tmux -S "$sock" capture-pane -p -t b | grep -q '^finished '; do
		if tmux -S "$sock" capture-pane -p -t b | grep -q '^monitor-exit'; then
			echo "monitor_overhead: the monitor stopped early:" >&2
			tmux -S "$sock" capture-pane -p -t b >&2
			exit 1
		fi
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "monitor_overhead: the monitored run never finished" >&2; exit 1; }
		sleep 0.1
	done
	# The display thread's CPU time (the monitor's main thread: utime + stime).
	pane=$(tmux -S "$sock" display -p -t b '#{pane_pid}')
	pid=$(ps -o pid= --ppid "$pane" | awk 'NR == 1 { print $1 }')
	if [ -n "$pid" ] && [ -r "/proc/$pid/task/$pid/stat" ]; then
		ticks=$(sed 's/.*) //' "/proc/$pid/task/$pid/stat" | awk '{ print $12 + $13 }')
		life=$(ps -o etimes= -p "$pid" | tr -d ' ')
		echo "$ticks $(getconf CLK_TCK) $life" >"$dir/ui"
	fi
	tmux -S "$sock" send-keys -t b q
	n=600
	until tmux -S "$sock" capture-pane -p -J -t b >"$dir/out" && grep -q '^monitor-exit' "$dir/out"; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "monitor_overhead: no summary from the monitor" >&2; exit 1; }
		sleep 0.1
	done
	grep -E "^(PASS|FAIL) " "$dir/out" | head -n 1
	tmux -S "$sock" kill-session -t b
}

echo "monitor overhead: $name/$row, seed $seed,$sets $runs runs each, interleaved"
: >"$dir/plain"
: >"$dir/tmux"
: >"$dir/mon"
for i in $(seq "$runs"); do
	l=$(plain)
	r=$(rate "$l")
	echo "  run      $i: $r cmds/s   ($l)"
	echo "$r" >>"$dir/plain"
	l=$(in_tmux)
	r=$(rate "$l")
	echo "  run/tmux $i: $r cmds/s   ($l)"
	echo "$r" >>"$dir/tmux"
	l=$(monitored)
	r=$(rate "$l")
	ui=$(awk '{ printf "display thread %.2f s CPU in %d s", $1 / $2, $3 }' "$dir/ui" 2>/dev/null || true)
	echo "  monitor  $i: $r cmds/s   ($l) $ui"
	echo "$r" >>"$dir/mon"
done
p=$(median <"$dir/plain")
x=$(median <"$dir/tmux")
m=$(median <"$dir/mon")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "median commands/s: run $p, run in tmux $x, monitor in tmux $m"
echo "monitor / run in tmux = $(ratio "$m" "$x") (the monitor's cost); run in tmux / run = $(ratio "$x" "$p")"
