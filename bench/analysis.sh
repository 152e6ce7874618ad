#!/usr/bin/env bash
# The whole goroutine/task/region analysis, gotrace against the reference,
# side by side on the same trace files: wall time, peak RSS, ratios.
#
#   bench/analysis.sh [options] TRACE...
#
# Ours is the hidden `gotrace summary` (one pass building every goroutine,
# task and region summary, then the /goroutines, /usertasks and
# /userregions tables), or with --cmd goroutines `gotrace goroutines`.
# The reference is `go tool trace -pprof=sched`: the cheapest way to make
# it read and analyse a whole trace (it parses everything into memory and
# runs its goroutine analysis) without starting its web server.
#
# Options:
#   --runs N        run each side N times: fastest wall time, largest RSS
#                   (default 3 for ours, 1 for the reference)
#   --ref-runs N    reference runs (default 1; it takes ~40 s at 100 MB)
#   --ref-max-mb M  skip the reference on traces larger than M MB (default
#                   500: at 1 GB it needs more memory than this machine has)
#   --no-ref        never run the reference
#   --cmd NAME      gotrace subcommand to time: summary (default),
#                   goroutines, tasks, regions
#   --build         cargo build --release --bin gotrace first
#
# Environment: GOTRACE (binary; default $CARGO_TARGET_DIR or target/
# release/gotrace), GO (default ~/.cache/go-1.27.3/bin/go), REF_TIMEOUT
# (seconds, default 600).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

runs=3 ref_runs=1 ref_max_mb=500 run_ref=1 cmd=summary build=0
traces=()
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift ;;
        --ref-runs) ref_runs=$2; shift ;;
        --ref-max-mb) ref_max_mb=$2; shift ;;
        --no-ref) run_ref=0 ;;
        --cmd) cmd=$2; shift ;;
        --build) build=1 ;;
        -h|--help) usage 0 ;;
        -*) note "unknown option $1"; usage 2 >&2 ;;
        *) traces+=("$1") ;;
    esac
    shift
done
[ ${#traces[@]} -gt 0 ] || usage 2 >&2
for n in "$runs" "$ref_runs" "$ref_max_mb"; do
    [[ $n =~ ^[0-9]+$ ]] || die "not a number: $n"
done
case $cmd in summary|goroutines|tasks|regions) ;; *) die "--cmd wants summary, goroutines, tasks or regions" ;; esac
for t in "${traces[@]}"; do [ -r "$t" ] || die "no such trace file: $t"; done

ensure_time
GOTRACE=${GOTRACE:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/gotrace}
if [ $build = 1 ] || [ ! -x "$GOTRACE" ]; then
    (cd "$REPO_ROOT" && cargo build --release --bin gotrace) || die "cargo build failed"
fi
[ -x "$GOTRACE" ] || die "no gotrace binary at $GOTRACE (set GOTRACE=...)"
refbin=
if [ $run_ref = 1 ]; then
    ensure_go
    # The trace tool binary itself (`go tool -n trace` builds it if needed),
    # so the go command's startup and build are not measured.
    refbin=$("$GO" tool -n trace 2>/dev/null | tail -1) || refbin=
    [ -x "$refbin" ] || refbin="$GO tool trace"
fi
REF_TIMEOUT=${REF_TIMEOUT:-600}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gotrace-analysis.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# measure N CMD... -> W (fastest wall s), R (largest max RSS KiB), S (ok|fail)
measure() {
    local n=$1 i w r rc
    shift
    W= R=0 S=ok
    for ((i = 0; i < n; i++)); do
        rc=0
        /usr/bin/time -f '%e %M' -o "$tmp/time" timeout -k 5 "$REF_TIMEOUT" "$@" >/dev/null 2>"$tmp/err" || rc=$?
        if [ $rc != 0 ]; then
            S="fail($rc)"
            sed 's/^/    /' "$tmp/err" | tail -3 >&2
            return
        fi
        read -r w r < <(tail -1 "$tmp/time")
        [ "$r" -gt "$R" ] && R=$r
        if [ -z "$W" ] || awk -v a="$w" -v b="$W" 'BEGIN { exit !(a < b) }'; then W=$w; fi
    done
}

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cpus  load $(cut -d' ' -f1-3 /proc/loadavg)  rev $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
echo "# ours: $GOTRACE $cmd TRACE   (min wall of $runs)"
[ $run_ref = 1 ] && echo "# ref:  $refbin -pprof=sched TRACE   ($("$GO" version | awk '{ print $3 }'), min wall of $ref_runs)"
fmt="%-28s %8s | %8s %9s | %8s %9s | %8s %9s\n"
# shellcheck disable=SC2059
printf "$fmt" trace MB "ours s" "ours MiB" "ref s" "ref MiB" "speedup" "RSS ratio"
for t in "${traces[@]}"; do
    mb=$(awk -v b="$(fsize "$t")" 'BEGIN { printf "%.0f", b / 1e6 }')
    cat "$t" >/dev/null # page cache
    measure "$runs" "$GOTRACE" "$cmd" "$t"
    ow=$W orss=$R ost=$S
    rw=- rmib=- sp=- rr=-
    if [ $run_ref = 1 ] && [ "$mb" -le "$ref_max_mb" ]; then
        measure "$ref_runs" $refbin -pprof=sched "$t"
        if [ "$S" = ok ]; then
            rw=$W rmib=$(mib "$R")
            if [ "$ost" = ok ]; then
                sp=$(awk -v a="$rw" -v b="$ow" 'BEGIN { printf "%.1fx", a / b }')
                rr=$(awk -v a="$R" -v b="$orss" 'BEGIN { printf "1/%.0f", a / b }')
            fi
        else
            rw=$S
        fi
    elif [ $run_ref = 1 ]; then
        rw=skipped
        echo "reference: skipped for ${t##*/} (${mb} MB > --ref-max-mb $ref_max_mb: it runs out of memory)" >&2
    fi
    [ "$ost" = ok ] || ow=$ost
    # shellcheck disable=SC2059
    printf "$fmt" "${t##*/}" "$mb" "$ow" "$(mib "$orss")" "$rw" "$rmib" "$sp" "$rr"
done
