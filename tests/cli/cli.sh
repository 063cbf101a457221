#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line as a user meets it, no root needed: the exact one-line
# errors of both daemons (each hint once), and that the bash completion
# and the INI man page cover the option table that --help prints.
# Usage: cli.sh CLIENT SERVER
set -u
client=$1 server=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
tmp_dir=$(mktemp -d)
trap 'rm -rf "$tmp_dir"' EXIT
result() { # NAME RC [DETAIL]
	if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1${3:+: $3}"; fail=$((fail + 1)); fi
}
# exact NAME EXPECTED CMD...: stderr is exactly EXPECTED and the exit is 2.
exact() {
	local name=$1 want=$2 got rc
	shift 2
	got=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ "$got" = "$want" ] && [ $rc -eq 2 ]
	result "$name" $? "exit $rc, got '$got'"
}

exact "unknown short option, hint once" "fauxtcp-client: unknown option '-x' (see --help)" "$client" -x
exact "unknown long option, hint once" "fauxtcp-server: unknown option '--bogus' (see --help)" "$server" --bogus
exact "both required flags missing" \
	"fauxtcp-client: missing --local IP:PORT and --remote HOST:PORT (or local = and remote = in [client])" "$client"
exact "did you mean an option" \
	"fauxtcp-client: unknown option '--remtoe' (did you mean --remote?)" "$client" --remtoe x:1
exact "did you mean: only the server's options" \
	"fauxtcp-server: unknown option '--chek' (see --help)" "$server" --chek
exact "did you mean the subcommand" \
	"fauxtcp-client: unknown subcommand 'stauts' (did you mean 'status'?)" "$client" stauts -l 127.0.0.1:1

# The bash completion offers exactly the flags --help lists, per daemon.
completion=$top/completion/fauxtcp.bash
complete_words() { # WORD...: the completions of the last word
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _fauxtcp; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$completion" "$@" | sort -u
}
for daemon in "$client" "$server"; do
	name=$(basename "$daemon")
	# "  -l, --local IP:PORT  ..." and "      --iface NAME  ...": the flags.
	"$daemon" --help | grep -E '^ +-' | sed -E 's/^ +//; s/  .*//; s/ [A-Z|a-z:]+$//; s/, /\n/' |
		sort -u >"$tmp_dir/help.$name"
	complete_words "$name" - >"$tmp_dir/comp.$name"
	diff -u "$tmp_dir/help.$name" "$tmp_dir/comp.$name" >"$tmp_dir/diff.$name"
	result "completion offers every flag of $name --help, and no other" $? "$(cat "$tmp_dir/diff.$name")"
done
[ "$(complete_words fauxtcp-client sta)" = status ]
result "completion: the status subcommand" $?
[ "$(complete_words fauxtcp-server --mode r)" = raw ]
result "completion: --mode's values" $?

# scripts/test: a first argument that is not a directory goes to ctest.
bdir=$(cd "$(dirname "$client")" && pwd)
runs() { # NAME CMD...: exit 0 and ctest's listing
	local name=$1 out
	shift
	out=$("$@" 2>&1)
	[ $? -eq 0 ] && grep -q "Total Tests" <<<"$out"
	result "$name" $? "$(head -3 <<<"$out")"
}
runs "scripts/test -N -E X (ctest arguments only)" env FAUXTCP_BUILD="$bdir" "$top/scripts/test" -N -E X
runs "scripts/test DIR -N" "$top/scripts/test" "$bdir" -N -R cli
runs "scripts/test --build DIR -N" "$top/scripts/test" --build "$bdir" -N -R cli

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
