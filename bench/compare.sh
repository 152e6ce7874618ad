#!/usr/bin/env bash
# Run gotrace and the reference `go tool trace` side by side on the same
# trace files and print wall time, peak RSS, input MB/s and ours/ref ratios.
#
#   bench/compare.sh [options] TRACE...
#
# Options:
#   --no-ref       don't run the reference (go tool trace)
#   --no-ours      don't run gotrace (e.g. while it doesn't build yet)
#   --runs N       run every command N times; report the fastest wall time
#                  and the largest peak RSS (default 1)
#   --pairs A,B    run only these pairs (default: all but the optional
#                  ones; --list shows them)
#   --list         list the pairs and their commands, then exit
#   --tsv FILE     also append one tab-separated line per run to FILE
#   --build        run `cargo build --release --bin gotrace` even if the
#                  binary exists (it is always built when missing)
#   --ref-via-go   time `go tool trace ...` itself (adds the go command's
#                  startup) instead of the trace tool binary it runs
#
# Environment:
#   GOTRACE        gotrace binary (default: target/release/gotrace in the repo)
#   GO             go binary for the reference (default:
#                  $GOTRACE_GO_CACHE/go-1.27.3/bin/go, installed when missing)
#   REF_TIMEOUT    seconds after which a reference run is killed and
#                  reported as "timeout" (default 600)
#   OURS_TIMEOUT   the same for gotrace runs (default 600)
#
# Every command runs with stdout to /dev/null (unless its template sends it
# elsewhere) and stderr to a log that is shown when the command fails.
# Wall time is measured around the run; peak RSS is GNU time's %M.
# MB/s = trace file size / 1e6 / wall seconds.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# ---------------------------------------------------------------------------
# The pairs. `pair NAME OURS REF` registers one comparison. OURS and REF are
# shell command templates in which {ours}, {ref} and {trace} are replaced by
# the shell-quoted gotrace binary, reference command and trace file. An empty
# template means that side has no equivalent ("-" in the table).
# `pair --optional NAME OURS REF` registers a pair that only runs when
# named with --pairs (for expensive ones).
PAIRS=()
declare -A OURS_CMD=() REF_CMD=() OPTIONAL=()
pair() {
    local opt=0
    if [ "$1" = --optional ]; then opt=1; shift; fi
    PAIRS+=("$1"); OURS_CMD[$1]=$2; REF_CMD[$1]=$3; OPTIONAL[$1]=$opt
}

# Note: -d=footprint decodes the wire format only (internal/trace/raw: no
# ordering, no validation), so it is a lower bound for Go's parse cost;
# -d=parsed runs the full reader (trace.NewReader: ordering + validation)
# and prints every event.
pair parse+order '{ours} stats {trace}'           '{ref} -d=footprint {trace}'
pair dump        '{ours} dump {trace} >/dev/null' '{ref} -d=parsed {trace} >/dev/null'
# The scheduler-latency profile: Go reads the whole trace into memory and
# builds its goroutine summary first. Optional: the reference's RSS is
# ~85x the trace size (865 MiB for 10 MB, 8-10 GB for 100 MB), so a 1 GB
# trace would exhaust this machine (use --no-ref there).
pair --optional pprof-sched '{ours} -pprof=sched {trace} >/dev/null' '{ref} -pprof=sched {trace} >/dev/null'

# ---------------------------------------------------------------------------

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

run_ours=1 run_ref=1 runs=1 tsv= build=0 via_go=0 list=0 only=
traces=()
while [ $# -gt 0 ]; do
    case $1 in
        --no-ref) run_ref=0 ;;
        --no-ours) run_ours=0 ;;
        --runs) [ $# -ge 2 ] || die "--runs needs N"; runs=$2; shift ;;
        --runs=*) runs=${1#*=} ;;
        --pairs) [ $# -ge 2 ] || die "--pairs needs a list"; only=$2; shift ;;
        --pairs=*) only=${1#*=} ;;
        --tsv) [ $# -ge 2 ] || die "--tsv needs FILE"; tsv=$2; shift ;;
        --tsv=*) tsv=${1#*=} ;;
        --build) build=1 ;;
        --ref-via-go) via_go=1 ;;
        --list) list=1 ;;
        -h|--help) usage 0 ;;
        --) shift; traces+=("$@"); break ;;
        -*) note "unknown option $1"; usage 2 >&2 ;;
        *) traces+=("$1") ;;
    esac
    shift
done

if [ $list = 1 ]; then
    for p in "${PAIRS[@]}"; do
        o=
        [ "${OPTIONAL[$p]}" = 1 ] && o=" (optional)"
        printf '%s%s\n  ours: %s\n  ref:  %s\n' "$p" "$o" "${OURS_CMD[$p]:--}" "${REF_CMD[$p]:--}"
    done
    exit 0
fi

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer, not '$runs'"
[ ${#traces[@]} -gt 0 ] || usage 2 >&2
[ $run_ours = 1 ] || [ $run_ref = 1 ] || die "--no-ours and --no-ref together leave nothing to run"
for t in "${traces[@]}"; do [ -f "$t" ] && [ -r "$t" ] || die "no such trace file: $t"; done

selected=()
if [ -n "$only" ]; then
    IFS=, read -r -a want <<<"$only"
    for w in "${want[@]}"; do
        [ -n "${OURS_CMD[$w]+x}" ] || die "unknown pair '$w' (have: ${PAIRS[*]})"
        selected+=("$w")
    done
else
    for p in "${PAIRS[@]}"; do
        [ "${OPTIONAL[$p]}" = 1 ] || selected+=("$p")
    done
fi

REF_TIMEOUT=${REF_TIMEOUT:-600}
OURS_TIMEOUT=${OURS_TIMEOUT:-600}
[[ $REF_TIMEOUT =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "REF_TIMEOUT must be seconds"
[[ $OURS_TIMEOUT =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "OURS_TIMEOUT must be seconds"

ensure_time
command -v timeout >/dev/null || die "timeout (coreutils) not found"

# --- gotrace ---------------------------------------------------------------
ours_q=
if [ $run_ours = 1 ]; then
    if [ -n "${GOTRACE:-}" ]; then
        [ -x "$GOTRACE" ] || die "GOTRACE=$GOTRACE is not an executable file"
    else
        GOTRACE=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/gotrace
        if [ $build = 1 ] || [ ! -x "$GOTRACE" ]; then
            note "cargo build --release --bin gotrace"
            (cd "$REPO_ROOT" && cargo build --release --bin gotrace) ||
                die "cargo build --release --bin gotrace failed; set GOTRACE=... or use --no-ours to measure only the reference"
            [ -x "$GOTRACE" ] || die "cargo build succeeded but $GOTRACE is missing (CARGO_TARGET_DIR?)"
        fi
    fi
    ours_q=$(printf '%q' "$GOTRACE")
fi

# --- reference -------------------------------------------------------------
ref_q=
if [ $run_ref = 1 ]; then
    ensure_go
    if [ $via_go = 1 ]; then
        ref_q="$(printf '%q' "$GO") tool trace"
    else
        # Since Go 1.24 the trace tool is built on first use and cached;
        # `go tool -n trace` builds it (if needed) and prints its path, so
        # build time never ends up in a measurement.
        refbin=$("$GO" tool -n trace 2>/dev/null | tail -1) || refbin=
        if [ -n "$refbin" ] && [ -x "$refbin" ]; then
            ref_q=$(printf '%q' "$refbin")
        else
            note "could not resolve the trace tool binary; timing '$GO tool trace'"
            ref_q="$(printf '%q' "$GO") tool trace"
        fi
    fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gotrace-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# timeout(1) runs in its own process group, so ^C does not reach it: pass
# INT/TERM on to the running measurement (timeout forwards it to the
# command), then stop.
CUR=
on_signal() {
    if [ -n "$CUR" ]; then
        local c
        for c in $(pgrep -P "$CUR" 2>/dev/null); do kill -TERM "$c" 2>/dev/null || true; done
        wait "$CUR" 2>/dev/null || true
    fi
    note "interrupted"
    exit 130
}
trap on_signal INT TERM

# expand TEMPLATE TRACE -> command line
expand() {
    local c=$1 tq
    tq=$(printf '%q' "$2")
    c=${c//\{ours\}/$ours_q}
    c=${c//\{ref\}/$ref_q}
    c=${c//\{trace\}/$tq}
    printf '%s' "$c"
}

# measure CMD LIMIT -> M_WALL (s), M_RSS (KiB), M_STATUS (ok|timeout|fail:N)
measure() {
    local cmd=$1 limit=$2 rc=0 t0 t1
    t0=$(now)
    /usr/bin/time -f '%e %M' -o "$tmp/time" \
        timeout -k 5 "$limit" bash -c "exec $cmd" >/dev/null 2>"$tmp/stderr" &
    CUR=$!
    wait "$CUR" || rc=$?
    CUR=
    t1=$(now)
    M_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    M_RSS=$(awk 'NF >= 2 && $1 ~ /^[0-9.]+$/ { r = $2 } END { print r + 0 }' "$tmp/time")
    case $rc in
        0) M_STATUS=ok ;;
        124|137) M_STATUS=timeout ;;
        *) M_STATUS=fail:$rc ;;
    esac
    if [ "$M_STATUS" != ok ]; then
        {
            echo "--- $M_STATUS after ${M_WALL}s: $cmd"
            tail -n 5 "$tmp/stderr" | sed 's/^/    /'
        } >&2
    fi
}

rev=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
if [ -n "$tsv" ]; then
    [ -s "$tsv" ] || printf 'date\trev\ttrace\tbytes\tpair\tside\trun\twall_s\tmaxrss_kib\tmb_per_s\tstatus\tcommand\n' >"$tsv"
fi

# bench SIDE PAIR TRACE BYTES TEMPLATE LIMIT -> B_WALL B_RSS B_STATUS
# (fastest wall, largest RSS, first non-ok status over --runs runs)
bench() {
    local side=$1 p=$2 t=$3 bytes=$4 tmpl=$5 limit=$6 cmd r
    B_WALL= B_RSS=0 B_STATUS=ok
    cmd=$(expand "$tmpl" "$t")
    for ((r = 1; r <= runs; r++)); do
        measure "$cmd" "$limit"
        if [ -n "$tsv" ]; then
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n' \
                "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$rev" "$t" "$bytes" "$p" "$side" "$r" \
                "$M_WALL" "$M_RSS" "$(awk -v b="$bytes" -v w="$M_WALL" 'BEGIN { printf("%.2f", (w > 0) ? b / 1e6 / w : 0) }')" \
                "$M_STATUS" "$cmd" >>"$tsv"
        fi
        [ "$M_RSS" -gt "$B_RSS" ] && B_RSS=$M_RSS
        if [ "$M_STATUS" != ok ]; then
            B_STATUS=$M_STATUS B_WALL=$M_WALL
            break # a failure or timeout is not worth repeating
        fi
        if [ -z "$B_WALL" ] || awk -v a="$M_WALL" -v b="$B_WALL" 'BEGIN { exit !(a < b) }'; then
            B_WALL=$M_WALL
        fi
    done
}

# --- table -----------------------------------------------------------------
tw=5
for t in "${traces[@]}"; do b=${t##*/}; [ ${#b} -gt $tw ] && tw=${#b}; done
pw=4
for p in "${selected[@]}"; do [ ${#p} -gt $pw ] && pw=${#p}; done

row_fmt="%-${pw}s  %-${tw}s %8s | %9s %9s %8s | %9s %9s %8s | %8s %8s\n"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cpus  repo rev $rev  runs=$runs (min wall, max RSS)"
[ $run_ours = 1 ] && echo "# ours: $GOTRACE"
[ $run_ref = 1 ] && echo "# ref:  $ref_q  ($("$GO" version | awk '{ print $3 }'))"
# shellcheck disable=SC2059
printf "$row_fmt" pair trace "MB" "ours s" "ours MiB" "ours MB/s" "ref s" "ref MiB" "ref MB/s" "s ratio" "RSS ratio"
# shellcheck disable=SC2059
printf "$row_fmt" "" "" "" "" "(RSS)" "" "" "(RSS)" "" "ours/ref" "ours/ref"

# ratio A B -> A/B with two decimals, or "-"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf("%.2f", a / b); else printf("-") }'; }

# fmt_side WALL RSS STATUS BYTES -> three cells
fmt_side() {
    local w=$1 r=$2 s=$3 b=$4
    if [ "$s" = skip ]; then
        printf '%s\t%s\t%s\n' - - -
    elif [ "$s" != ok ]; then
        printf '%s\t%s\t%s\n' "${s/fail:/FAIL:}" "$(awk -v r="$r" 'BEGIN { if (r > 0) printf("%.1f", r / 1024); else printf("-") }')" -
    else
        awk -v w="$w" -v r="$r" -v b="$b" 'BEGIN { printf("%.3f\t%.1f\t%.1f\n", w, r / 1024, (w > 0) ? b / 1e6 / w : 0) }'
    fi
}

failures=0
for t in "${traces[@]}"; do
    bytes=$(fsize "$t")
    cat "$t" >/dev/null # warm the page cache so neither side pays for disk reads
    for p in "${selected[@]}"; do
        ow= orss=0 ost=skip rw= rrss=0 rst=skip
        if [ $run_ours = 1 ] && [ -n "${OURS_CMD[$p]}" ]; then
            bench ours "$p" "$t" "$bytes" "${OURS_CMD[$p]}" "$OURS_TIMEOUT"
            ow=$B_WALL orss=$B_RSS ost=$B_STATUS
        fi
        if [ $run_ref = 1 ] && [ -n "${REF_CMD[$p]}" ]; then
            bench ref "$p" "$t" "$bytes" "${REF_CMD[$p]}" "$REF_TIMEOUT"
            rw=$B_WALL rrss=$B_RSS rst=$B_STATUS
        fi
        case $ost in ok|skip) ;; *) failures=$((failures + 1)) ;; esac
        case $rst in ok|skip) ;; *) failures=$((failures + 1)) ;; esac
        IFS=$'\t' read -r c1 c2 c3 < <(fmt_side "$ow" "$orss" "$ost" "$bytes")
        IFS=$'\t' read -r c4 c5 c6 < <(fmt_side "$rw" "$rrss" "$rst" "$bytes")
        tr=- mr=-
        if [ "$ost" = ok ] && [ "$rst" = ok ]; then
            tr=$(ratio "$ow" "$rw")
            mr=$(ratio "$orss" "$rrss")
        fi
        # shellcheck disable=SC2059
        printf "$row_fmt" "$p" "${t##*/}" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b/1e6 }')" \
            "$c1" "$c2" "$c3" "$c4" "$c5" "$c6" "$tr" "$mr"
    done
done

[ $failures = 0 ] || { note "$failures run(s) failed or timed out"; exit 1; }
