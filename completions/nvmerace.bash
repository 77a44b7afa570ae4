# SPDX-License-Identifier: MIT
# bash completion for nvmerace(1): subcommands, each one's options, scenario
# files, the rows of the files already on the line (for --only), and the PCI
# addresses 'nvmerace list' prints (for --device, bind, unbind).

_nvmerace_cmd()
{
	local c=${COMP_WORDS[0]}

	case $c in
	*/*) [ -x "$c" ] && { printf '%s' "$c"; return; } ;;
	esac
	printf 'nvmerace'
}

# The controllers 'nvmerace list' found, by address.
_nvmerace_bdfs()
{
	"$(_nvmerace_cmd)" list 2>/dev/null |
		grep -oE '\b[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]\b' | sort -u
}

# The rows of the scenario files on the line: NAME and NAME/ROW, from
# 'nvmerace run --list', which prints "NAME/ROW<tab>FILE" per row.
_nvmerace_rows()
{
	local w files=()

	for w in "${COMP_WORDS[@]:2}"; do
		case $w in
		*.yaml | *.yml) [ -f "$w" ] && files+=("$w") ;;
		esac
	done
	[ ${#files[@]} -gt 0 ] || return 0
	"$(_nvmerace_cmd)" run --list "${files[@]}" 2>/dev/null | cut -f1 |
		while IFS= read -r w; do
			w=${w%/}
			printf '%s\n%s\n' "${w%%/*}" "$w"
		done | sort -u
}

_nvmerace_files()
{
	local cur=$1

	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -f -X '!*.yaml' -- "$cur") $(compgen -f -X '!*.yml' -- "$cur")
		   $(compgen -d -- "$cur"))
}

_nvmerace()
{
	local cur prev sub opts i
	local cmds='help version identify run explore list bind unbind monitor'

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --opt=value: bash splits it into '--opt' '=' 'value'.
	if [ "$cur" = = ]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		cur=
	elif [ "$prev" = = ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	sub=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) sub=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$sub" ]; then
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return 0
	fi

	case $prev in
	-D | --device)
		COMPREPLY=($(compgen -W "$(_nvmerace_bdfs)" -- "$cur"))
		return 0 ;;
	-o | --only)
		COMPREPLY=($(compgen -W "$(_nvmerace_rows)" -- "$cur"))
		return 0 ;;
	--lba-size)
		COMPREPLY=($(compgen -W '512 4096' -- "$cur"))
		return 0 ;;
	-j | --json | -J | --junit)
		if [ "$sub" = run ] || [ "$sub" = explore ]; then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
			return 0
		fi ;;
	-s | --seed | -r | --repeat | -d | --duration | -S | --set | -W | --write-range | \
	--target | --hostnqn | --bound | --budget | --shard | --jobs | --steps)
		return 0 ;;
	--strategy)
		COMPREPLY=($(compgen -W 'random pct dfs' -- "$cur"))
		return 0 ;;
	--sched)
		COMPREPLY=($(compgen -W 'os model' -- "$cur"))
		return 0 ;;
	--keys)
		# monitor --schedule: the stepping keys, as a string.
		COMPREPLY=($(compgen -W 'n s a e b p g' -- "$cur"))
		return 0 ;;
	--schedule | --schedule-out | --timeline)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	esac

	case $sub in
	help) opts="$cmds" ;;
	version) opts='--help' ;;
	identify) opts='--device --bind --force --target --hostnqn --hdr-digest --data-digest
		      --json --lba-size --verbose --help' ;;
	run)
		opts='--device --bind --force --target --hostnqn --hdr-digest --data-digest
		      --write-range --seed --repeat --duration --set --only --list --json --junit
		      --quiet --verbose --sched --schedule --schedule-out --timeline
		      --timeline-shared --help' ;;
	explore)
		opts='--only --strategy --seed --bound --budget --steps --shard --jobs --schedule-out
		      --timeline --timeline-shared --set --list --json --junit --quiet --verbose --help' ;;
	monitor)
		opts='--device --bind --force --target --hostnqn --hdr-digest --data-digest
		      --write-range --seed --only --duration --set --schedule --steps --keys
		      --help' ;;
	list) opts='--json --help' ;;
	bind) opts='--force --help' ;;
	unbind) opts='--help' ;;
	*) return 0 ;;
	esac

	case $cur in
	-*)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return 0 ;;
	esac
	case $sub in
	help) COMPREPLY=($(compgen -W "$cmds" -- "$cur")) ;;
	run | explore | monitor) _nvmerace_files "$cur" ;;
	bind | unbind) COMPREPLY=($(compgen -W "$(_nvmerace_bdfs)" -- "$cur")) ;;
	esac
	return 0
}

complete -F _nvmerace nvmerace
