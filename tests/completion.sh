#!/bin/bash
# SPDX-License-Identifier: MIT
# The bash completion, called as bash calls it (COMP_WORDS, COMP_CWORD) for a
# few command lines; each case checks what COMPREPLY holds and lacks.
# Usage: tests/completion.sh BINARY. Runs in the source tree (scenarios/).
set -u
nvr=$(cd "$(dirname "${1:?usage: completion.sh BINARY}")" && pwd)/$(basename "$1")
tmp=$(mktemp -d) || exit 3
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=../completions/nvmerace.bash
. completions/nvmerace.bash
pass=0; fail=0

# A stand-in whose 'list' prints two controllers, as 'nvmerace list' does.
cat >"$tmp/nvmerace" <<'EOS'
#!/bin/sh
[ "$1" = list ] || exit 2
echo "0000:01:00.0  Samsung Electronics Co Ltd NVMe SSD Controller [144d:a80a]  nvme"
echo "0000:5e:00.1  Intel Corporation NVMe Datacenter SSD [8086:0a54]  vfio-pci"
EOS
chmod +x "$tmp/nvmerace"

# expect "WORDS" CWORD (WORDS split at spaces; @ is an empty word) "must contain" ["must not contain"]
expect()
{
	local words=$1 cword=$2 want=$3 nowant=${4:-} w got
	read -r -a COMP_WORDS <<<"$words"
	# '@' is the empty word the cursor is on (after a space).
	for w in "${!COMP_WORDS[@]}"; do
		[ "${COMP_WORDS[w]}" = @ ] && COMP_WORDS[w]=
	done
	COMP_CWORD=$cword
	COMPREPLY=()
	_nvmerace
	got=" ${COMPREPLY[*]} "
	for w in $want; do
		case $got in *" $w "*) ;; *)
			fail=$((fail + 1)); echo "completion: FAIL: '$words' at $cword: no '$w' in:$got"
			return ;;
		esac
	done
	for w in $nowant; do
		case $got in *" $w "*)
			fail=$((fail + 1)); echo "completion: FAIL: '$words' at $cword: '$w' in:$got"
			return ;;
		esac
	done
	pass=$((pass + 1))
}

expect "$nvr @" 1 "help version identify run explore list bind unbind monitor"
expect "$nvr r" 1 "run" "list monitor"
expect "$nvr --v" 1 "--version" "run"
expect "$nvr run --" 2 "--only --junit --json --seed --set --list --device" "--lba-size"
expect "$nvr identify --l" 2 "--lba-size" "--list"
expect "$nvr identify --lba-size @" 3 "512 4096"
expect "$nvr identify --t" 2 "--target"
expect "$nvr run --h" 2 "--hostnqn --help"
# A URL or an NQN is typed: nothing to offer (no files, no options).
expect "$nvr run --target @" 3 "" "--seed scenarios/clean-soak.yaml"
expect "$nvr monitor --" 2 "--only --seed --device" "--junit --repeat"
expect "$nvr monitor --s" 2 "--schedule --steps --seed --set" "--sched --schedule-out"
expect "$nvr monitor --keys @" 3 "n s a e b" "--schedule"
expect "$nvr help @" 2 "run monitor bind"
expect "$nvr explore --s" 2 "--strategy --shard --seed --schedule-out" "--sched --repeat"
expect "$nvr explore --strategy @" 3 "random pct dfs"
expect "$nvr explore --jobs @" 3 "" "scenarios/clean-soak.yaml"
expect "$nvr run scenarios/concurrent-p" 2 "scenarios/concurrent-pollers.yaml"
expect "$nvr run scenarios/" 2 "scenarios/clean-soak.yaml scenarios/msix-reprogram.yaml"
# Rows come from 'run --list' on the files on the line, before or after --only.
expect "$nvr run --only @ scenarios/concurrent-pollers.yaml" 3 \
	"concurrent-pollers concurrent-pollers/mutex concurrent-pollers/trylock" "clean-soak"
expect "$nvr run scenarios/clean-soak.yaml --only clean-soak/" 4 \
	"clean-soak/coalescing clean-soak/no-pba" "clean-soak concurrent-pollers/mutex"
expect "$nvr run --only = concurrent-pollers/n scenarios/concurrent-pollers.yaml" 4 \
	"concurrent-pollers/none" "concurrent-pollers/mutex"
expect "$nvr run --only @" 3 "" "concurrent-pollers"
# Addresses from 'nvmerace list'.
expect "$tmp/nvmerace bind @" 2 "0000:01:00.0 0000:5e:00.1"
expect "$tmp/nvmerace unbind 0000:5" 2 "0000:5e:00.1" "0000:01:00.0"
expect "$tmp/nvmerace run --device @" 3 "0000:01:00.0 0000:5e:00.1"
expect "$tmp/nvmerace identify -D 0000:0" 3 "0000:01:00.0"
echo "completion: $pass passed, $fail failed"
[ "$fail" = 0 ]
