#!/usr/bin/env bash
# Seeds the fuzz corpora: Go's FuzzReader corpus (testdata/fuzz), Go's
# conformance cases converted to wire bytes, and our own corpus traces.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cache=${GOTRACE_GO_CACHE:-$HOME/.cache}
goroot=$(GOTOOLCHAIN=local "$cache/go-1.27.3/bin/go" env GOROOT)
(cd "$root" && cargo build -q --release --bin gotrace)
for t in wire order text; do mkdir -p "$here/corpus/$t"; done
python3 - "$goroot/src/internal/trace/testdata/fuzz/FuzzReader" "$here/corpus/order" <<'PY'
import os, re, sys
src, dst = sys.argv[1], sys.argv[2]
def unquote(s):
    out, i = bytearray(), 0
    simple = {'a': 7, 'b': 8, 'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11, '\\': 92, '"': 34}
    while i < len(s):
        c = s[i]
        if c != '\\':
            out += c.encode(); i += 1; continue
        e = s[i + 1]
        if e in simple: out.append(simple[e]); i += 2
        elif e == 'x': out.append(int(s[i + 2:i + 4], 16)); i += 4
        elif e == 'u': out += chr(int(s[i + 2:i + 6], 16)).encode(); i += 6
        elif e == 'U': out += chr(int(s[i + 2:i + 10], 16)).encode(); i += 10
        else: out.append(int(s[i + 1:i + 4], 8)); i += 4
    return bytes(out)
for name in os.listdir(src):
    text = open(os.path.join(src, name)).read()
    m = re.search(r'\[\]byte\("(.*)"\)', text, re.S)
    if m:
        open(os.path.join(dst, 'go-' + name), 'wb').write(unquote(m.group(1)))
PY
for t in "$goroot"/src/internal/trace/testdata/tests/*.test; do
	n=$(basename "$t" .test)
	"$root/target/release/gotrace" text-to-wire "$t" "$here/corpus/order/conf-$n"
	cp "$here/corpus/order/conf-$n" "$here/corpus/wire/conf-$n"
	sed -n '/^-- trace --$/,$p' "$t" | tail -n +2 >"$here/corpus/text/$n"
done
for f in "$goroot"/src/internal/trace/internal/tracev1/testdata/*; do
	cp "$f" "$here/corpus/order/v1-$(basename "$f")"
done
for f in "$root"/corpus/traces/*/*.trace; do
	v=$(basename "$(dirname "$f")")
	cp "$f" "$here/corpus/order/$v-$(basename "$f")"
	cp "$f" "$here/corpus/wire/$v-$(basename "$f")"
done
ls "$here/corpus/"* | wc -l
