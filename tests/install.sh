#!/bin/sh
# SPDX-License-Identifier: MIT
# make install puts exactly the expected files under DESTDIR, make uninstall
# removes every one of them, and the completions parse.
# Usage: tests/install.sh BINARY (the binary to install).
set -u
nvr=${1:?usage: install.sh BINARY}
tmp=$(mktemp -d) || exit 3
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "install: FAIL: $*"; }

make -s --no-print-directory install DESTDIR="$tmp" PREFIX=/usr INSTALL_BIN="$nvr" \
	>"$tmp.log" 2>&1 || { cat "$tmp.log"; ko "make install"; }
(cd "$tmp" && find . \( -type f -o -type l \) | sort) >"$tmp.got"
{
	echo ./usr/bin/nvmerace
	echo ./usr/libexec/nvmerace/nvmerace-model
	echo ./usr/share/bash-completion/completions/nvmerace
	echo ./usr/share/doc/nvmerace/LICENSE
	echo ./usr/share/man/man1/nvmerace.1
	echo ./usr/share/man/man5/nvmerace-scenario.5
	echo ./usr/share/nvmerace/nvmerace-report.schema.json
	for f in scenarios/*.yaml; do echo "./usr/share/nvmerace/scenarios/${f#scenarios/}"; done
	echo ./usr/share/zsh/vendor-completions/_nvmerace
} | sort >"$tmp.want"
if diff -u "$tmp.want" "$tmp.got"; then ok; else ko "installed files differ (- expected, + got)"; fi
[ -x "$tmp/usr/bin/nvmerace" ] && "$tmp/usr/bin/nvmerace" --version >/dev/null && ok ||
	ko "the installed binary does not run"
# The installed scenarios load.
"$tmp/usr/bin/nvmerace" run --list "$tmp"/usr/share/nvmerace/scenarios/*.yaml >/dev/null &&
	ok || ko "the installed scenarios do not load"
bash -n "$tmp/usr/share/bash-completion/completions/nvmerace" && ok || ko "bash -n"
if command -v zsh >/dev/null; then
	zsh -n "$tmp/usr/share/zsh/vendor-completions/_nvmerace" && ok || ko "zsh -n"
else
	echo "install: zsh -n skipped: zsh is not installed"
fi

make -s --no-print-directory uninstall DESTDIR="$tmp" PREFIX=/usr >"$tmp.log" 2>&1 ||
	{ cat "$tmp.log"; ko "make uninstall"; }
left=$(cd "$tmp" && find . ! -type d)
if [ -z "$left" ]; then ok; else ko "uninstall left: $left"; fi
[ ! -e "$tmp/usr/share/nvmerace" ] && [ ! -e "$tmp/usr/share/doc/nvmerace" ] && ok ||
	ko "uninstall left nvmerace's directories"
rm -f "$tmp.log" "$tmp.got" "$tmp.want"
echo "install: $pass passed, $fail failed"
[ "$fail" = 0 ]
