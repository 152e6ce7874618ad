#!/usr/bin/env bash
# Parse+order throughput of gotrace: runs `gotrace stats TRACE` several
# times and prints the fastest wall time, MB/s (trace bytes / 1e6 / wall),
# the CPU time of that run (user+sys, all threads) and the largest peak RSS.
# Optionally counts instructions with callgrind (repeatable even on a busy
# machine, unlike wall time).
#
#   bench/throughput.sh [options] TRACE...
#
# Options:
#   --runs N        runs per trace (default 5); wall is the minimum
#   --callgrind     also run once under valgrind --tool=callgrind and print
#                   the instruction count, in total and per thread (slow:
#                   roughly 5 s per 10 MB of trace)
#   --build         cargo build --release -p gotrace-cli first
#
# Environment:
#   GOTRACE   gotrace binary (default: ${CARGO_TARGET_DIR:-target}/release/gotrace)
#
# Wall time on a shared machine is noisy: other work stretches it, never
# shrinks it, so the minimum of several runs is the figure to quote.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

runs=5 cg=0 build=0
traces=()
while [ $# -gt 0 ]; do
    case $1 in
        --runs) [ $# -ge 2 ] || die "--runs needs N"; runs=$2; shift ;;
        --runs=*) runs=${1#*=} ;;
        --callgrind) cg=1 ;;
        --build) build=1 ;;
        -h|--help) usage 0 ;;
        -*) note "unknown option $1"; usage 2 >&2 ;;
        *) traces+=("$1") ;;
    esac
    shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer, not '$runs'"
[ ${#traces[@]} -gt 0 ] || usage 2 >&2
for t in "${traces[@]}"; do [ -f "$t" ] && [ -r "$t" ] || die "no such trace file: $t"; done
ensure_time

GOTRACE=${GOTRACE:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/gotrace}
if [ $build = 1 ] || [ ! -x "$GOTRACE" ]; then
    note "cargo build --release -p gotrace-cli"
    (cd "$REPO_ROOT" && cargo build --release -p gotrace-cli) || die "build failed"
fi
[ -x "$GOTRACE" ] || die "no gotrace binary at $GOTRACE (set GOTRACE=...)"
if [ $cg = 1 ]; then command -v valgrind >/dev/null || die "--callgrind needs valgrind"; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gotrace-throughput.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

rev=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
dirty=$(git -C "$REPO_ROOT" status --porcelain -- crates/trace crates/wire 2>/dev/null | head -1) || dirty=
if [ -n "$dirty" ]; then rev="$rev+dirty"; fi
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cpus  load $(cut -d' ' -f1-3 /proc/loadavg)  rev $rev  runs=$runs"
echo "# $GOTRACE"
printf '%-28s %9s | %8s %8s %8s %8s\n' trace MB "wall s" "MB/s" "cpu s" "MiB RSS"
for t in "${traces[@]}"; do
    bytes=$(fsize "$t")
    cat "$t" >/dev/null # warm the page cache
    best= best_cpu= rss=0
    for ((r = 1; r <= runs; r++)); do
        t0=$(now)
        /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$GOTRACE" stats "$t" >/dev/null 2>"$tmp/err" ||
            { cat "$tmp/err" >&2; die "gotrace stats $t failed"; }
        t1=$(now)
        read -r u s m <"$tmp/time"
        w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        [ "$m" -gt "$rss" ] && rss=$m
        if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$w best_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
        fi
    done
    printf '%-28s %9.1f | %8s %8.1f %8s %8.1f\n' "${t##*/}" "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" \
        "$best" "$(awk -v b="$bytes" -v w="$best" 'BEGIN { print (w > 0) ? b / 1e6 / w : 0 }')" \
        "$best_cpu" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')"
    if [ $cg = 1 ]; then
        valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$tmp/cg.out" \
            "$GOTRACE" stats "$t" >/dev/null 2>"$tmp/cg.err" || { tail "$tmp/cg.err" >&2; die "callgrind failed"; }
        total=$(awk '/Collected :/ { print $NF }' "$tmp/cg.err")
        printf '  callgrind: %s instructions (%.1f per byte)' "$total" "$(awk -v i="$total" -v b="$bytes" 'BEGIN { print i / b }')"
        for f in "$tmp"/cg.out-*; do
            n=$(awk '/^summary:/ { print $2 }' "$f")
            printf '; thread %s: %s' "${f##*-}" "$n"
        done
        echo
        rm -f "$tmp"/cg.out*
    fi
done
