#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sh tests/kerneldoc.sh [HEADER...]  (run by 'make check'; default: the public API)
#
# Every function a public header declares has a kernel-doc comment right
# above it (/** name() - ...) with a Return: line.
set -eu
[ $# -gt 0 ] || set -- lib/include/nvmerace/*.h
awk '
FNR == 1 { doc = ""; indoc = 0 }
/^\/\*\*/ { indoc = 1; doc = "" }
indoc { doc = doc $0 "\n"; if ($0 ~ /\*\//) { indoc = 0; keep = 1; next } ; next }
/^(static inline )?[a-z_].*[ *](nvr_[a-z0-9_]+)\(/ {
	match($0, /nvr_[a-z0-9_]+\(/)
	name = substr($0, RSTART, RLENGTH - 1)
	if (doc == "" || index(doc, name "()") == 0 || doc !~ /Return:/) {
		printf "%s:%d: %s() has no kernel-doc with a Return: line\n", FILENAME, FNR, name
		bad++
	}
	doc = ""; next
}
/^$/ { next }
/^\/\*/ { doc = ""; next }
{ if ($0 !~ /^[ \t]/ && $0 !~ /^\}/) doc = "" }
END { if (bad) { printf "kerneldoc: %d public functions without kernel-doc\n", bad; exit 1 }
      print "kerneldoc: every public function documented" }
' "$@"
