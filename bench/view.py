#!/usr/bin/env python3
"""Viewer benchmark: time from start to the first timeline frame's data,
server peak RSS, and tile latency while zooming, for `gotrace view` and
(optionally) the reference `go tool trace`.

  bench/view.py [--no-ref] [--gotrace BIN] TRACE...

Ours: start `gotrace view --no-browser`, poll /api/status until the index
is ready, then fetch /api/meta and one /api/tiles request for the rows the
UI's first frame shows. Zooming: 24 steps of 2x into the middle, each one
/api/tiles request for those rows (as the UI batches them); latency per
request, p50/p95/max.

Reference: start the trace tool with -http, poll / until it serves (it
listens only after parsing and splitting), then fetch the first range's
/jsontrace?view=proc, which is what its first frame needs.

Peak RSS is the server's VmHWM. The reference needs ~170x the trace size
(1.9 GB for 10 MB; past 17 GB for 100 MB), so it is killed once its RSS
passes --ref-max-rss (default 8 GiB) and reported as such.
Standard library only.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(url, timeout=600):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def poll(url, proc, deadline):
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            return get(url, timeout=5)
        except Exception:
            time.sleep(0.01)
    raise RuntimeError("timeout")


def ours(binary, trace, timeout, pages=False):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.time()
    p = subprocess.Popen([binary, "view", "--no-browser", "--http", f"127.0.0.1:{port}", trace],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import json
        while True:
            st = json.loads(poll(base + "/api/status", p, t0 + timeout))
            if st.get("error"):
                raise RuntimeError(st["error"])
            if st["ready"]:
                break
            time.sleep(0.01)
        meta = json.loads(get(base + "/api/meta"))
        rows = ["counter:goroutines", "counter:heap", "gc", "stw", "sweep", "assist"]
        rows += [f"proc:{i}" for i in range(len(meta["procs"]))]
        if meta["logs"]:
            rows.append("logs")
        if meta["samples"]:
            rows.append("cpu")
        dur = meta["duration"]
        q = ",".join(rows)
        get(f"{base}/api/tiles?rows={q}&start=0&end={dur}&px=2800")
        first = time.time() - t0
        lat = []
        for step in range(24):
            w = max(dur >> step, 1000)
            a = dur // 2 - w // 2
            t = time.time()
            get(f"{base}/api/tiles?rows={q}&start={a - w // 2}&end={a + w + w // 2}&px=2800")
            lat.append((time.time() - t) * 1e3)
        lat.sort()
        out = {"first": first, "rss": hwm(p.pid), "p50": lat[len(lat) // 2],
               "p95": lat[int((len(lat) - 1) * 0.95)], "max": lat[-1]}
        if pages:
            # The analysis pages start their passes on the first request.
            t = time.time()
            while True:
                st = json.loads(poll(base + "/api/pages/status", p, t + timeout))
                if st.get("ready"):
                    break
                time.sleep(0.05)
            get(base + "/api/pages/goroutine-groups")
            out["pages"] = time.time() - t
            out["pages_rss"] = hwm(p.pid)
        return out
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()


def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reference(go, trace, timeout, max_rss):
    tool = subprocess.run([go, "tool", "-n", "trace"], capture_output=True, text=True,
                          check=True).stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, BROWSER="true")
    t0 = time.time()
    p = subprocess.Popen([tool, f"-http=127.0.0.1:{port}", trace], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    killed = []

    def watchdog():
        while p.poll() is None:
            if rss(p.pid) > max_rss:
                killed.append(rss(p.pid))
                p.kill()
                return
            time.sleep(0.2)

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        html = poll(base + "/", p, t0 + timeout).decode()
        m = re.search(r"/trace\?view=proc&amp;start=(\d+)&amp;end=(\d+)", html) or \
            re.search(r"/trace\?view=proc&start=(\d+)&end=(\d+)", html)
        q = f"view=proc&start={m.group(1)}&end={m.group(2)}" if m else "view=proc"
        get(f"{base}/jsontrace?{q}", timeout=timeout)
        first = time.time() - t0
        if killed:
            raise RuntimeError("killed")
        return {"first": first, "rss": hwm(p.pid)}
    except Exception as e:
        if killed:
            raise RuntimeError(f"killed at {killed[0] / 2**30:.1f} GiB RSS after {time.time() - t0:.0f} s")
        raise e
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("traces", nargs="+")
    ap.add_argument("--no-ref", action="store_true")
    ap.add_argument("--gotrace", default=os.path.join(ROOT, "target/release/gotrace"))
    ap.add_argument("--go", default=os.environ.get("GO", os.path.expanduser("~/.cache/go-1.27.3/bin/go")))
    ap.add_argument("--timeout", type=float, default=float(os.environ.get("REF_TIMEOUT", 600)))
    ap.add_argument("--ref-max-rss", type=float, default=8.0, help="GiB")
    ap.add_argument("--pages", action="store_true",
                    help="also time the analysis pages (goroutines, profiles, tasks, GC) after the "
                         "timeline: seconds from their first request to the goroutine table, and "
                         "the peak RSS after it")
    a = ap.parse_args()
    os.environ.setdefault("GOTOOLCHAIN", "local")
    os.environ.setdefault("GOPROXY", "off")
    print("trace\tsize MB\tours first frame s\tours peak RSS MiB\ttile p50 ms\ttile p95 ms\ttile max ms"
          "\tref first frame s\tref peak RSS MiB" + ("\tpages s\tpages peak RSS MiB" if a.pages else ""))
    for t in a.traces:
        size = os.path.getsize(t) / 1e6
        o = ours(a.gotrace, t, a.timeout, a.pages)
        r = None
        if not a.no_ref:
            try:
                r = reference(a.go, t, a.timeout, a.ref_max_rss * 2**30)
            except Exception as e:  # a timeout or an OOM kill
                print(f"reference on {t}: {e}", file=sys.stderr)
        ref = f"{r['first']:.2f}\t{r['rss'] / 2**20:.0f}" if r else "-\t-"
        print(f"{os.path.basename(t)}\t{size:.0f}\t{o['first']:.2f}\t{o['rss'] / 2**20:.0f}"
              f"\t{o['p50']:.1f}\t{o['p95']:.1f}\t{o['max']:.1f}\t{ref}"
              + (f"\t{o['pages']:.2f}\t{o['pages_rss'] / 2**20:.0f}" if a.pages else ""), flush=True)


if __name__ == "__main__":
    main()
