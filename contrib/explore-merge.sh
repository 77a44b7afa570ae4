#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Merge the JSON reports of the shards of one exploration (nvmerace explore
# --shard K/N --json shard-K.json, one per CI job) into one verdict per row:
#   caught      a row expecting a bug: some shard's schedule caught it
#   clean       a clean row: no shard's schedule broke it
#   NOT CAUGHT  a row expecting a bug that no shard caught
#   FAIL        a clean row a shard broke, or a shard's error
#   INTERRUPTED no shard decided the row and one was interrupted (signal)
# with the schedules summed and, for dfs, whether every shard's part of the
# bounded space was complete. Prints a table, writes the merged rows as JSON
# to standard output with -j, and exits 0 when every row is caught or clean,
# 1 otherwise, 2 on a usage error. Needs jq.
#
#   contrib/explore-merge.sh [-j] shard-*.json
set -eu

json=false
if [ "${1:-}" = "-j" ]; then
	json=true
	shift
fi
if [ $# -eq 0 ]; then
	echo "usage: explore-merge.sh [-j] REPORT.json..." >&2
	exit 2
fi

merged=$(jq -s '
	[ .[] | .scenarios[] ]
	| group_by(.name + "/" + (.row // ""))
	| map({
		row: (.[0].name + (if (.[0].row // "") == "" then "" else "/" + .[0].row end)),
		shards: length,
		schedules: (map(.sched.schedules // 0) | add),
		complete: all(.[]; .sched.complete // false),
		found: any(.[]; .sched.found // false),
		broken: any(.[]; (.verdict == "fail" and (.interrupted | not)) or
				 .verdict == "error"),
		interrupted: any(.[]; .interrupted // false),
		expects_bug: any(.[]; .verdict == "not_reproduced" or
				     (.verdict == "pass" and (.sched.found // false)))
	  })
	| map(. + { verdict: (if .broken then "FAIL"
			      elif .found and .expects_bug then "caught"
			      elif .interrupted then "INTERRUPTED"
			      elif .expects_bug then "NOT CAUGHT"
			      else "clean" end) })' "$@") || exit 2

if $json; then
	printf '%s\n' "$merged"
else
	printf '%s\n' "$merged" | jq -r '.[] | "\(.verdict)\t\(.row)\t\(.shards) shards\t\(.schedules) schedules\(if .complete then " (complete)" else "" end)"'
fi
printf '%s\n' "$merged" | jq -e 'all(.[]; .verdict == "caught" or .verdict == "clean")' >/dev/null
