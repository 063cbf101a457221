# SPDX-License-Identifier: MIT
# bash completion for fauxtcp-client and fauxtcp-server.
# Installed once under each name (bash-completion loads a command's file by
# its name). The option lists are checked against each daemon's --help by
# tests/cli/cli.sh, so a flag added to config/config.c's table fails the
# tests until it is added here too.

_fauxtcp_client_opts='-l --local -r --remote -c --config -4 --ipv4-only --iface
	--handshake-packet --idle-timeout --heal-timeout --resolve-interval --max-conns --busy-poll --pcap
	--log-level --check -h --help -V --version'
_fauxtcp_server_opts='-l --local -r --remote -c --config -4 --ipv4-only --tun
	--tun-local --tun-peer --tun-local6 --tun-peer6 --mode --iface
	--handshake-packet --no-manage-rules --manage-rules --set-forwarding
	--no-conntrack-ack --conntrack-ack --idle-timeout --max-conns --busy-poll --pcap
	--log-level -h --help -V --version'

_fauxtcp()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' opts
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	case ${COMP_WORDS[0]##*/} in
	fauxtcp-server) opts=$_fauxtcp_server_opts ;;
	*) opts=$_fauxtcp_client_opts ;;
	esac
	case $prev in
	-c | --config | --pcap | --handshake-packet)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--iface)
		mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")
		return ;;
	--mode)
		mapfile -t COMPREPLY < <(compgen -W 'tun raw' -- "$cur")
		return ;;
	--log-level)
		mapfile -t COMPREPLY < <(compgen -W 'error warn info debug trace' -- "$cur")
		return ;;
	-l | --local | -r | --remote | --tun | --tun-local | --tun-peer | --tun-local6 | \
		--tun-peer6 | --idle-timeout | --heal-timeout | --resolve-interval | --max-conns | --busy-poll)
		COMPREPLY=()
		return ;;
	esac
	# "NAME status -l ADDR": the report of a running daemon.
	if [ "$COMP_CWORD" -gt 1 ] && [ "${COMP_WORDS[1]}" = status ]; then
		opts='-l --local -c --config'
	elif [ "$COMP_CWORD" = 1 ] && [[ $cur != -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W status -- "$cur")
		return
	fi
	mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
}
complete -F _fauxtcp fauxtcp-client fauxtcp-server
