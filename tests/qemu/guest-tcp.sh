# NVMe/TCP checks of the QEMU tier's guest, sourced by guest-init.sh (which
# defines ok, bad, skip, show and idctrl): the kernel's target nvmet on
# 127.0.0.1:4420, our host library through tcp_probe, the kernel's host
# through nvme-cli as the cross-check for Identify, and keep-alive against a
# real controller both ways (kept alive; expired by the target).
TNQN=nqn.2026-12.org.nvmerace:tcp
TURL=tcp://127.0.0.1:4420/$TNQN
THOST=nqn.2014-08.org.nvmexpress:uuid:0f5a3c1e-7d2b-4c8a-9e61-2b4d6f8a0c13
# tcpid KEY: a "key: value" line of tcp_probe identify
tcpid() { sed -n "s/^$1: //p" /tmp/tid | head -1; }

if [ -f /lib/modules/load-tcp ] && [ -x /usr/bin/tcp_probe ]; then
	(cd /lib/modules && grep -v '^#' load-tcp | while read -r _ f args; do
		insmod "$f" $args 2>/dev/null; done)
	if sh /share/nvmet-setup.sh "$TNQN" > /tmp/o 2>&1; then
		ok tcp-target "$(tail -1 /tmp/o)"
	else
		bad tcp-target "nvmet-setup.sh failed"; show /tmp/o
	fi

	if tcp_probe identify "$TURL" "$THOST" > /tmp/tid 2>&1; then
		ok tcp-identify "mn '$(tcpid mn)' cntlid $(tcpid cntlid) vs $(tcpid vs) ioccsz $(tcpid ioccsz); $(tcpid keep-alive) keep-alive"
	else
		bad tcp-identify "tcp_probe identify failed"; show /tmp/tid
	fi

	if tcp_probe io "$TURL" "$THOST" > /tmp/o 2>&1; then
		ok tcp-io "$(grep '^io:' /tmp/o)"
	else
		bad tcp-io "write/read round trip failed"; show /tmp/o
	fi

	# The kernel's own NVMe/TCP host against the same subsystem.
	tdev=
	if nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$TNQN" --hostnqn="${THOST%?}0" > /tmp/o 2>&1; then
		for d in /sys/class/nvme/nvme*; do
			[ "$(cat "$d/transport" 2>/dev/null)" = tcp ] && tdev=/dev/${d##*/}
		done
	fi
	if [ -n "$tdev" ] && nvme id-ctrl "$tdev" > /tmp/kid 2>&1; then
		diff=""
		[ "$(tcpid mn)" = "$(idctrl mn)" ] || diff="$diff mn"
		[ "$(tcpid sn)" = "$(idctrl sn)" ] || diff="$diff sn"
		[ "$(tcpid fr)" = "$(idctrl fr)" ] || diff="$diff fr"
		[ "$(tcpid mdts)" = "$(idctrl mdts)" ] || diff="$diff mdts"
		[ "$(tcpid nn)" = "$(idctrl nn)" ] || diff="$diff nn"
		[ "$(tcpid subnqn)" = "$(idctrl subnqn)" ] || diff="$diff subnqn"
		if [ -z "$diff" ] && [ -n "$(idctrl mn)" ]; then
			ok tcp-identify-vs-kernel "mn, sn, fr, mdts, nn, subnqn equal nvme-cli's over $tdev"
		else
			bad tcp-identify-vs-kernel "differs from nvme-cli's in:$diff"; show /tmp/tid; show /tmp/kid
		fi
		nvme disconnect -n "$TNQN" > /dev/null 2>&1
	else
		bad tcp-identify-vs-kernel "nvme connect -t tcp or id-ctrl failed"; show /tmp/o; show /tmp/kid
	fi

	# Keep-alive: sent in time, the controller stays; none at all, nvmet ends it.
	if tcp_probe keepalive "$TURL" "$THOST" 2000 4 > /tmp/o 2>&1; then
		ok tcp-keepalive "$(cat /tmp/o)"
	else
		bad tcp-keepalive "a controller kept alive went away"; show /tmp/o
	fi
	dmesg -c > /dev/null 2>&1
	if tcp_probe expire "$TURL" "$THOST" 1000 > /tmp/o 2>&1; then
		ok tcp-kato-expires "$(grep "^expired" /tmp/o); kernel: $(dmesg | grep -o 'keep-alive timer ([0-9]*.*expired!' | head -1)"
	else
		bad tcp-kato-expires "the target did not end the controller"; show /tmp/o
	fi
	sh /share/nvmet-setup.sh --remove "$TNQN" > /dev/null 2>&1
else
	skip tcp "no nvmet modules (build-guest-tcp.sh) or no tcp_probe in the guest"
fi
