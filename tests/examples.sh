#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every example command of the README and the man pages against the built
# binary, in a temporary directory holding a copy of scenarios/, and check the
# exit status each documents (0 unless marked).
#
# What counts as an example:
#   README.md     a code-block line (4-space indent) starting with ./nvmerace or nvmerace;
#                 "exit status N" in its shell comment: N is expected.
#   man/*.[15]    a .B line starting with nvmerace in an EXAMPLES section, and a line
#                 starting with nvmerace between .EX and .EE anywhere (a trailing \e
#                 continues it); a roff comment line before it,
#                 .\" example: exit N    or    .\" example: skip REASON,
#                 sets the expected status or skips it.
# Commands that need real hardware (--device, --target, bind, unbind, list) or a terminal
# (monitor) are skipped with the reason, and so, when NVR_SANITIZE is set (a
# sanitizer build), are runs of every shipped scenario. Usage: tests/examples.sh BINARY
set -u
NVR_SANITIZE=${NVR_SANITIZE:-}
nvr=$(cd "$(dirname "${1:?usage: examples.sh BINARY}")" && pwd)/$(basename "$1")
src=$(pwd)
tmp=$(mktemp -d) || exit 3
trap 'rm -rf "$tmp"' EXIT

extract()
{
	awk '
	function emit(cmd) {
		gsub(/\\-/, "-", cmd); gsub(/\\e/, "\\", cmd); gsub(/\\\(aq/, "\047", cmd)
		gsub(/\\&/, "", cmd)
		st = mark != "" ? mark : "0"
		if (FILENAME ~ /README/ && match(cmd, /exit status [0-9]+/))
			st = substr(cmd, RSTART + 12, RLENGTH - 12)
		printf "%s:%d\t%s\t%s\n", FILENAME, start, st, cmd
		mark = ""
	}
	FNR == 1 { sect = ""; inex = 0; mark = ""; cont = "" }
	# README: indented code lines.
	FILENAME ~ /README/ {
		if ($0 ~ /^    (\.\/)?nvmerace( |$)/) { start = FNR; l = $0; sub(/^    /, "", l); emit(l) }
		next
	}
	/^\.SH / { sect = $2; next }
	/^\.\\" example: / { mark = $0; sub(/^\.\\" example: /, "", mark)
		sub(/^exit /, "", mark); next }
	/^\.EX/ { inex = 1; next }
	/^\.EE/ { inex = 0; next }
	cont != "" {
		l = $0; sub(/^[ \t]+/, "", l)
		if (l ~ /\\e$/) { sub(/[ \t]*\\e$/, " ", l); cont = cont l; next }
		l = cont l; cont = ""; emit(l); next
	}
	inex && /^nvmerace / {
		start = FNR
		if ($0 ~ /\\e$/) { cont = $0; sub(/[ \t]*\\e$/, " ", cont); next }
		emit($0); next
	}
	sect == "EXAMPLES" && /^\.B nvmerace / { start = FNR; l = $0; sub(/^\.B /, "", l); emit(l) }
	' README.md man/nvmerace.1 man/nvmerace-scenario.5
}

cp -r "$src/scenarios" "$tmp/"
extract >"$tmp/list" || exit 3
pass=0; fail=0; skip=0; n=0; tab=$(printf '\t')
: >"$tmp/done"
while IFS=$tab read -r where want cmd; do
	why=
	case " $cmd " in
	*" --device "* | *" -D "*) why="needs a controller bound to vfio-pci" ;;
	*" --target "*) why="needs an NVMe/TCP target (check_tcp_host and the QEMU tier run it)" ;;
	*nvmerace\ bind\ * | *nvmerace\ unbind\ *) why="binds a real PCI device" ;;
	*nvmerace\ list\ *) why="its output is the machine's PCI devices" ;;
	*nvmerace\ monitor\ *) why="needs a terminal (check_monitor runs it in tmux)" ;;
	esac
	# The buggy rows are caught by timing; a sanitizer build, slower between a
	# store and a load, catches shadow-doorbells/barrier-none less often (27 of 40
	# under ASan on a loaded machine, 40 of 40 plain). The plain build runs these.
	if [ -z "$why" ] && [ -n "$NVR_SANITIZE" ]; then
		case $cmd in
		*--list*) ;;
		*" run "*"scenarios/*.yaml"*)
			why="runs every shipped race, caught by timing: the plain build's make check runs it" ;;
		esac
	fi
	case $want in skip*) why=${want#skip }; want= ;; esac
	if [ -n "$why" ]; then
		echo "skip $where: $cmd: $why"
		skip=$((skip + 1))
		continue
	fi
	# ./nvmerace and nvmerace are the binary under test.
	run=$(printf '%s\n' "$cmd" | sed -e 's/^\(\.\/\)\{0,1\}nvmerace/"$NVR"/')
	# The same command twice (README and man page) runs once.
	got=$(awk -F '\t' -v c="$run" '$3 == c { print $1 "\t" $2; exit }' "$tmp/done")
	if [ -z "$got" ]; then
		n=$((n + 1)); out="$tmp/out.$n"
		got=$(cd "$tmp" && NVR=$nvr timeout 900 sh -c "$run" </dev/null >"$out" 2>&1; echo $?)
		printf '%s\t%s\t%s\n' "$got" "$out" "$run" >>"$tmp/done"
	else
		out=${got#*"$tab"}; got=${got%%"$tab"*}
	fi
	if [ "$got" = "$want" ]; then
		echo "ok   $where: $cmd"
		pass=$((pass + 1))
	else
		echo "FAIL $where: $cmd: exit status $got, documented $want"
		tail -n 15 "$out" | sed 's/^/     /'
		fail=$((fail + 1))
	fi
done <"$tmp/list"
[ $((pass + fail)) -gt 0 ] || { echo "examples: none found"; exit 1; }
echo "examples: $pass passed, $fail failed ($skip skipped)"
[ "$fail" = 0 ]
