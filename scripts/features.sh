#!/usr/bin/env bash
# Fails when building the function alone (the demo, `cargo lambda watch`) or the CLI alone would resolve a shared
# dependency with other features than the whole workspace with its tests does (each with the `unify` feature, as
# the Makefile builds them): each such difference compiles that crate, and everything above it, twice. The cure is
# a line in hack/Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
features() {
	cargo tree "$@" --prefix none -f '{p}|{f}' | sed 's/ (\*)$//; s/ (proc-macro)$//' | grep '|' |
		awk -F'|' '{ split($1, a, " "); print a[1] " " a[2] "|" $2 }' | sort -u
}
all=$(mktemp); one=$(mktemp); trap 'rm -f "$all" "$one"' EXIT
unify="--features connect-user-resource/unify"
features --workspace $unify -e normal,build,dev > "$all"
status=0
for selection in "-p connect-user-resource" "-p connect-user-resource -p lambda-harness" "-p connect-users"; do
	features $selection $unify -e normal,build > "$one"
	diff=$(join -t'|' "$one" "$all" | awk -F'|' '$2 != $3 { print "  " $1 ": " $2 " here, " $3 " in the workspace" }')
	if [ -n "$diff" ]; then
		echo "cargo build $selection resolves features unlike the workspace (add them to hack/Cargo.toml):"; echo "$diff"; status=1
	fi
done
[ $status = 0 ] && echo "features: one set for every build"
exit $status
