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

# Two shards of a random exploration (budget 4: runs 0, 2 and 1, 3).
for k in 1 2; do
	"$nvr" explore -q --seed 5 --budget 4 --shard "$k/2" \
		--only shadow-doorbells/barrier-none --only concurrent-pollers/mutex \
		--json "$tmp/shard-$k.json" scenarios/shadow-doorbells.yaml \
		scenarios/concurrent-pollers.yaml >"$tmp/out-$k" 2>&1 ||
		{ bad "shard $k/2 exited $?: $(cat "$tmp/out-$k")"; exit 1; }
done

sh "$merge" "$tmp"/shard-*.json >"$tmp/merged" 2>&1
st=$?
[ $st -eq 0 ] && ok || bad "merge of two good shards exited $st: $(cat "$tmp/merged")"
grep -q '^caught	shadow-doorbells/barrier-none	2 shards' "$tmp/merged" && ok ||
	bad "barrier-none not caught in: $(cat "$tmp/merged")"
grep -q '^clean	concurrent-pollers/mutex	2 shards	4 schedules' "$tmp/merged" && ok ||
	bad "mutex not clean with 4 schedules in: $(cat "$tmp/merged")"
sh "$merge" -j "$tmp"/shard-*.json | jq -e 'length == 2' >/dev/null && ok ||
	bad "-j does not print the two rows as JSON"

# A clean row a shard broke.
jq '(.scenarios[] | select(.row == "mutex")) |= (.verdict = "fail" | .sched.found = true)' \
	"$tmp/shard-2.json" >"$tmp/broken.json"
sh "$merge" "$tmp/shard-1.json" "$tmp/broken.json" >"$tmp/merged" 2>&1
st=$?
[ $st -eq 1 ] && grep -q '^FAIL	concurrent-pollers/mutex' "$tmp/merged" && ok ||
	bad "a broken shard merged to status $st: $(cat "$tmp/merged")"

# A bug row neither shard caught (each says not reproduced).
for k in 1 2; do
	jq '(.scenarios[] | select(.row == "barrier-none")) |=
		(.verdict = "not_reproduced" | .sched.found = false)' \
		"$tmp/shard-$k.json" >"$tmp/norep-$k.json"
done
sh "$merge" "$tmp"/norep-*.json >"$tmp/merged" 2>&1
st=$?
[ $st -eq 1 ] && grep -q '^NOT CAUGHT	shadow-doorbells/barrier-none' "$tmp/merged" && ok ||
	bad "an uncaught bug row merged to status $st: $(cat "$tmp/merged")"

# An interrupted shard decides nothing.
jq '(.scenarios[] | select(.row == "mutex")) |= (.interrupted = true)' \
	"$tmp/shard-2.json" >"$tmp/int.json"
sh "$merge" "$tmp/shard-1.json" "$tmp/int.json" >"$tmp/merged" 2>&1
st=$?
[ $st -eq 1 ] && grep -q '^INTERRUPTED	concurrent-pollers/mutex' "$tmp/merged" && ok ||
	bad "an interrupted shard merged to status $st: $(cat "$tmp/merged")"

sh "$merge" >/dev/null 2>&1
st=$?
[ $st -eq 2 ] && ok || bad "no report: status $st, expected 2"
echo '{' >"$tmp/torn.json"
sh "$merge" "$tmp/torn.json" >/dev/null 2>&1
st=$?
[ $st -eq 2 ] && ok || bad "a torn report: status $st, expected 2"

echo "explore-merge: $pass passed, $fails failed"
[ $fails -eq 0 ]
