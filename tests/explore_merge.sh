#!/bin/sh
# SPDX-License-Identifier: MIT
# contrib/explore-merge.sh, as a CI pipeline uses it: two shards of one
# exploration, each with its own JSON report, merged into one verdict per row.
# A bug row caught by a shard is caught, a clean row clean with the schedules
# summed; a shard that broke a clean row, a bug row no shard caught and an
# interrupted shard each fail the merge (exit 1); no report is a usage error.
# Usage: tests/explore_merge.sh BINARY (from the top of the tree).
set -u
nvr=${1:?usage: explore_merge.sh BINARY}
merge=contrib/explore-merge.sh
tmp=$(mktemp -d) || exit 3
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0

ok() { pass=$((pass + 1)); }
bad() { echo "explore-merge: FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS PATTERN WHAT REPORT...: the merge exits STATUS and prints PATTERN.
expect()
{
	want=$1 pat=$2 what=$3
	shift 3
	sh "$merge" "$@" >"$tmp/merged" 2>&1
	st=$?
	[ $st -eq "$want" ] && grep -q "$pat" "$tmp/merged" && ok ||
		bad "$what: status $st (expected $want): $(cat "$tmp/merged")"
}

# Two shards of a random exploration (budget 4: runs 0, 2 and 1, 3).
for k in 1 2; do
	"$nvr" explore -q --seed 5 --budget 4 --shard "$k/2" \
		--only shadow-doorbells/barrier-none --only concurrent-pollers/mutex \
		--json "$tmp/shard-$k.json" scenarios/shadow-doorbells.yaml \
		scenarios/concurrent-pollers.yaml >"$tmp/out-$k" 2>&1 ||
		{ bad "shard $k/2 exited $?: $(cat "$tmp/out-$k")"; exit 1; }
done

expect 0 '' "two good shards" "$tmp"/shard-*.json
grep -q '^caught	shadow-doorbells/barrier-none	2 shards' "$tmp/merged" && ok ||
	bad "barrier-none not caught in: $(cat "$tmp/merged")"
grep -q '^clean	concurrent-pollers/mutex	2 shards	4 schedules' "$tmp/merged" && ok ||
	bad "mutex not clean with 4 schedules in: $(cat "$tmp/merged")"
sh "$merge" -j "$tmp"/shard-*.json | jq -e 'length == 2' >/dev/null && ok ||
	bad "-j does not print the two rows as JSON"

# A clean row a shard broke.
jq '(.scenarios[] | select(.row == "mutex")) |= (.verdict = "fail" | .sched.found = true)' \
	"$tmp/shard-2.json" >"$tmp/broken.json"
expect 1 '^FAIL	concurrent-pollers/mutex' "a broken shard" "$tmp/shard-1.json" "$tmp/broken.json"

# A bug row neither shard caught (each says not reproduced).
for k in 1 2; do
	jq '(.scenarios[] | select(.row == "barrier-none")) |=
		(.verdict = "not_reproduced" | .sched.found = false)' \
		"$tmp/shard-$k.json" >"$tmp/norep-$k.json"
done
expect 1 '^NOT CAUGHT	shadow-doorbells/barrier-none' "an uncaught bug row" "$tmp"/norep-*.json

# An interrupted shard decides nothing.
jq '(.scenarios[] | select(.row == "mutex")) |= (.interrupted = true)' \
	"$tmp/shard-2.json" >"$tmp/int.json"
expect 1 '^INTERRUPTED	concurrent-pollers/mutex' "an interrupted shard" "$tmp/shard-1.json" \
	"$tmp/int.json"

expect 2 'usage' "no report"
echo '{' >"$tmp/torn.json"
expect 2 '' "a torn report" "$tmp/torn.json"

echo "explore-merge: $pass passed, $fails failed"
[ $fails -eq 0 ]
