// Command loadgen produces Go execution traces of a chosen size for
// benchmarking gotrace against `go tool trace`.
//
// It runs a mixed workload -- an HTTP server with many concurrent clients
// on 127.0.0.1, sync.Mutex/RWMutex/Cond contention, channel pipelines with
// select, small file I/O and other syscalls, sleeps and timers, goroutine
// churn and allocation-heavy GC churn -- and annotates every request with
// runtime/trace tasks, regions and logs. The trace is written through a
// byte-counting writer; once the counter reaches -size the trace is
// stopped, flushed, and the program exits.
//
// All network traffic stays on the loopback interface and every loop stops
// when the target size (or -timeout) is reached.
//
// Usage:
//
//	loadgen -o load-10MB.trace -size 10MB [-procs 2] [-clients 32]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	outFlag     = flag.String("o", "trace.out", "output trace `file`")
	sizeFlag    = flag.String("size", "10MB", "stop tracing once this many `bytes` were written (suffixes: B, KB, MB, GB = powers of 1000; KiB, MiB, GiB = powers of 1024)")
	procsFlag   = flag.Int("procs", 2, "GOMAXPROCS")
	clientsFlag = flag.Int("clients", 32, "number of concurrent HTTP client goroutines")
	lockersFlag = flag.Int("lockers", 8, "number of goroutines contending on mutexes")
	seedFlag    = flag.Int64("seed", 1, "random seed")
	timeoutFlag = flag.Duration("timeout", time.Hour, "give up (exit status 2, trace kept) if the size is not reached within this time; 0 = never")
	cpuFlag     = flag.Bool("cpusamples", true, "run the CPU profiler while tracing so the trace carries CPU samples")
	quietFlag   = flag.Bool("q", false, "no progress output")
	mixFlag     = flag.String("mix", "all", "comma-separated workload `components`: all, http, lock, chan, spawn, sys, gc, timer")
)

// countingWriter counts the bytes that the runtime's trace writer has
// handed to it. The trace reader goroutine is its only writer; the main
// goroutine polls n.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

var sizeRE = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*$`)

// parseSize parses "10MB", "1.5GiB", "4096", "100mb", ...
func parseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("bad size %q", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q: %v", s, err)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1e3, "kb": 1e3, "kib": 1 << 10,
		"m": 1e6, "mb": 1e6, "mib": 1 << 20,
		"g": 1e9, "gb": 1e9, "gib": 1 << 30,
	}[strings.ToLower(m[2])]
	if mult == 0 {
		return 0, fmt.Errorf("bad size suffix %q in %q", m[2], s)
	}
	n := int64(v * mult)
	if n <= 0 {
		return 0, fmt.Errorf("size %q must be positive", s)
	}
	return n, nil
}

// load holds the shared state of all workload goroutines.
type load struct {
	stop    chan struct{}
	stopped atomic.Bool
	wg      sync.WaitGroup
	dir     string
	baseURL string

	requests atomic.Int64
	errs     atomic.Int64

	// Contended state.
	mu       sync.Mutex
	counters map[string]int
	hotMu    sync.Mutex
	hotVal   uint64
	rw       sync.RWMutex
	table    [][]byte

	// Bounded queue guarded by a sync.Cond.
	qmu   sync.Mutex
	qcond *sync.Cond
	queue []int

	pool sync.Pool
}

func newLoad(dir string) *load {
	l := &load{
		stop:     make(chan struct{}),
		dir:      dir,
		counters: make(map[string]int),
		table:    make([][]byte, 256),
	}
	l.qcond = sync.NewCond(&l.qmu)
	l.pool.New = func() any { return new(bytes.Buffer) }
	return l
}

func (l *load) done() bool { return l.stopped.Load() }

func (l *load) shutdown() {
	l.stopped.Store(true)
	close(l.stop)
	l.qmu.Lock()
	l.qcond.Broadcast()
	l.qmu.Unlock()
}

func (l *load) goloop(name string, fn func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		fn()
	}()
}

// churn allocates a variety of objects and returns something derived from
// them so that the work is not optimised away.
func churn(rng *rand.Rand, n int) int {
	sum := 0
	m := make(map[int]string, 8)
	for i := 0; i < n; i++ {
		b := make([]byte, 16+rng.Intn(512))
		b[0] = byte(i)
		s := strconv.Itoa(i) + string(b[:8])
		m[i%8] = s
		sum += len(s) + int(b[0])
	}
	ints := make([]int, 64+rng.Intn(256))
	for i := range ints {
		ints[i] = i * sum
	}
	return sum + len(m) + ints[len(ints)-1]%7
}

// ---------------------------------------------------------------------------
// HTTP server

type workResp struct {
	N      int      `json:"n"`
	Sum    int      `json:"sum"`
	Pid    int      `json:"pid"`
	Fields []string `json:"fields"`
}

func (l *load) handleWork(w http.ResponseWriter, r *http.Request) {
	ctx, task := trace.NewTask(r.Context(), "server.work")
	defer task.End()
	trace.Log(ctx, "path", r.URL.Path)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))

	var n int
	var body []byte
	trace.WithRegion(ctx, "decode", func() {
		n, _ = strconv.Atoi(r.URL.Query().Get("n"))
		body, _ = io.ReadAll(r.Body)
	})
	if n <= 0 || n > 1000 {
		n = 10
	}
	var sum int
	trace.WithRegion(ctx, "compute", func() {
		sum = churn(rng, n) + len(body)
	})
	trace.WithRegion(ctx, "lock", func() {
		key := "k" + strconv.Itoa(n%17)
		l.mu.Lock()
		l.counters[key]++
		l.mu.Unlock()
		l.rw.RLock()
		_ = len(l.table[n%len(l.table)])
		l.rw.RUnlock()
	})
	reg := trace.StartRegion(ctx, "respond")
	buf := l.pool.Get().(*bytes.Buffer)
	buf.Reset()
	_ = json.NewEncoder(buf).Encode(workResp{N: n, Sum: sum, Pid: os.Getpid(), Fields: strings.Fields("a b c d e f")[:1+n%6]})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
	l.pool.Put(buf)
	reg.End()
	trace.Logf(ctx, "result", "n=%d sum=%d", n, sum)
}

func (l *load) handleFile(w http.ResponseWriter, r *http.Request) {
	ctx, task := trace.NewTask(r.Context(), "server.file")
	defer task.End()
	id, _ := strconv.Atoi(r.URL.Query().Get("id"))
	path := filepath.Join(l.dir, "srv-"+strconv.Itoa(id%64))
	var data []byte
	var err error
	trace.WithRegion(ctx, "io", func() {
		payload := bytes.Repeat([]byte{byte('a' + id%26)}, 256+id%1024)
		if err = writeSmall(path, payload); err == nil {
			data, err = os.ReadFile(path)
		}
	})
	if err != nil {
		trace.Log(ctx, "error", err.Error())
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	trace.Logf(ctx, "io", "bytes=%d", len(data))
	_, _ = w.Write(data[:min(len(data), 64)])
}

func (l *load) handleStream(w http.ResponseWriter, r *http.Request) {
	ctx, task := trace.NewTask(r.Context(), "server.stream")
	defer task.End()
	fl, _ := w.(http.Flusher)
	for i := 0; i < 4; i++ {
		trace.WithRegion(ctx, "chunk", func() {
			fmt.Fprintf(w, "chunk %d %s\n", i, strings.Repeat("x", 128))
			if fl != nil {
				fl.Flush()
			}
		})
		select {
		case <-time.After(100 * time.Microsecond):
		case <-ctx.Done():
			trace.Log(ctx, "stream", "cancelled")
			return
		}
	}
}

func (l *load) handleSleep(w http.ResponseWriter, r *http.Request) {
	ctx, task := trace.NewTask(r.Context(), "server.sleep")
	defer task.End()
	d := time.Duration(50+rand.Intn(1500)) * time.Microsecond
	trace.WithRegion(ctx, "sleep", func() {
		if rand.Intn(2) == 0 {
			time.Sleep(d)
			return
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	})
	trace.Logf(ctx, "sleep", "%v", d)
	_, _ = io.WriteString(w, "ok\n")
}

func (l *load) startServer() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/work", l.handleWork)
	mux.HandleFunc("/api/file", l.handleFile)
	mux.HandleFunc("/api/stream", l.handleStream)
	mux.HandleFunc("/api/sleep", l.handleSleep)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	l.baseURL = "http://" + ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// ---------------------------------------------------------------------------
// HTTP clients

func (l *load) client(i int, shared *http.Client, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	payload := bytes.Repeat([]byte("0123456789abcdef"), 256)
	fresh := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true},
	}
	kinds := []string{"work", "work", "work", "file", "stream", "sleep"}
	for seq := 0; !l.done(); seq++ {
		kind := kinds[rng.Intn(len(kinds))]
		ctx, task := trace.NewTask(context.Background(), "client."+kind)
		trace.Logf(ctx, "req", "client=%d seq=%d", i, seq)

		var req *http.Request
		switch kind {
		case "work":
			n := 1 + rng.Intn(200)
			req, _ = http.NewRequestWithContext(ctx, "POST", l.baseURL+"/api/work?n="+strconv.Itoa(n),
				bytes.NewReader(payload[:rng.Intn(len(payload))]))
		case "file":
			req, _ = http.NewRequestWithContext(ctx, "GET", l.baseURL+"/api/file?id="+strconv.Itoa(rng.Intn(10000)), nil)
		default:
			req, _ = http.NewRequestWithContext(ctx, "GET", l.baseURL+"/api/"+kind, nil)
		}

		c := shared
		if rng.Intn(100) == 0 {
			// A new TCP connection now and then: connect/accept paths.
			c = fresh
			trace.Log(ctx, "conn", "fresh")
		}
		reg := trace.StartRegion(ctx, "roundtrip")
		resp, err := c.Do(req)
		reg.End()
		if err != nil {
			l.errs.Add(1)
			trace.Log(ctx, "error", err.Error())
		} else {
			trace.WithRegion(ctx, "readBody", func() {
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				trace.Logf(ctx, "resp", "status=%d bytes=%d", resp.StatusCode, n)
			})
		}
		if rng.Intn(10) == 0 {
			// A nested follow-up task.
			sctx, sub := trace.NewTask(ctx, "client.followup")
			trace.WithRegion(sctx, "think", func() {
				_ = churn(rng, 5)
				time.Sleep(time.Duration(rng.Intn(200)) * time.Microsecond)
			})
			sub.End()
		}
		task.End()
		l.requests.Add(1)
	}
	fresh.CloseIdleConnections()
}

// ---------------------------------------------------------------------------
// Mutex / RWMutex / Cond contention

func (l *load) locker(seed int64) {
	rng := rand.New(rand.NewSource(seed))
	ctx := context.Background()
	for iter := 0; !l.done(); iter++ {
		l.hotMu.Lock()
		x := l.hotVal
		for j := 0; j < 20+rng.Intn(200); j++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		l.hotVal = x
		l.hotMu.Unlock()

		k := rng.Intn(len(l.table))
		if rng.Intn(8) == 0 {
			l.rw.Lock()
			l.table[k] = make([]byte, 64+rng.Intn(256))
			if rng.Intn(4) == 0 {
				time.Sleep(20 * time.Microsecond) // hold the write lock across a sleep
			}
			l.rw.Unlock()
		} else {
			l.rw.RLock()
			_ = len(l.table[k])
			l.rw.RUnlock()
		}
		if iter%64 == 0 {
			trace.WithRegion(ctx, "locker.yield", runtime.Gosched)
		}
		if iter%128 == 127 {
			time.Sleep(time.Duration(100+rng.Intn(400)) * time.Microsecond)
		}
	}
}

func (l *load) condProducer(seed int64) {
	rng := rand.New(rand.NewSource(seed))
	for !l.done() {
		l.qmu.Lock()
		for len(l.queue) >= 32 && !l.done() {
			l.qcond.Wait()
		}
		l.queue = append(l.queue, rng.Int())
		l.qcond.Broadcast()
		l.qmu.Unlock()
		if rng.Intn(32) == 0 {
			time.Sleep(time.Duration(200+rng.Intn(800)) * time.Microsecond)
		}
	}
}

func (l *load) condConsumer() {
	for !l.done() {
		l.qmu.Lock()
		for len(l.queue) == 0 && !l.done() {
			l.qcond.Wait()
		}
		if len(l.queue) > 0 {
			l.queue = l.queue[1:]
		}
		l.qcond.Broadcast()
		l.qmu.Unlock()
	}
}

// ---------------------------------------------------------------------------
// Channels and select

func (l *load) pipeline(seed int64) {
	src := make(chan int)        // unbuffered
	mid := make(chan []byte, 16) // buffered
	out := make(chan string, 4)  // small buffer
	tick := time.NewTicker(2 * time.Millisecond)

	l.goloop("producer", func() {
		for i := 0; ; i++ {
			select {
			case src <- i:
			case <-l.stop:
				return
			}
			if i%32 == 31 {
				time.Sleep(500 * time.Microsecond) // bursts, not a busy loop
			}
		}
	})
	for w := 0; w < 4; w++ {
		l.goloop("stage1", func() {
			for {
				select {
				case v := <-src:
					b := make([]byte, 32+v%256)
					b[0] = byte(v)
					select {
					case mid <- b:
					case <-l.stop:
						return
					}
				case <-l.stop:
					return
				}
			}
		})
	}
	for w := 0; w < 2; w++ {
		l.goloop("stage2", func() {
			ctx := context.Background()
			for {
				select {
				case b := <-mid:
					s := strconv.Itoa(len(b)) + ":" + strconv.Itoa(int(b[0]))
					select {
					case out <- s:
					default:
						// Drop when the consumer is behind: non-blocking send.
					}
				case <-tick.C:
					trace.Log(ctx, "pipeline", "tick")
				case <-l.stop:
					return
				}
			}
		})
	}
	l.goloop("consumer", func() {
		rng := rand.New(rand.NewSource(seed))
		timeouts := 0
		for {
			select {
			case s := <-out:
				if rng.Intn(64) == 0 {
					time.Sleep(time.Duration(len(s)) * time.Microsecond)
				}
			case <-time.After(time.Millisecond):
				timeouts++
			case <-l.stop:
				tick.Stop()
				return
			}
		}
	})
}

// spawner creates and joins batches of short-lived goroutines.
func (l *load) spawner(seed int64) {
	rng := rand.New(rand.NewSource(seed))
	for !l.done() {
		var wg sync.WaitGroup
		res := make(chan int, 16)
		n := 4 + rng.Intn(13)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := rand.New(rand.NewSource(int64(i)))
				res <- churn(r, 3)
			}(i)
		}
		wg.Wait()
		close(res)
		for range res {
		}
		time.Sleep(time.Duration(100+rng.Intn(900)) * time.Microsecond)
	}
}

// ---------------------------------------------------------------------------
// Syscalls

// writeSmall overwrites the start of path with data (see syscaller for why
// it does not truncate).
func writeSmall(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (l *load) syscaller(id int, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	ctx := context.Background()
	path := filepath.Join(l.dir, "io-"+strconv.Itoa(id))
	buf := make([]byte, 4096)
	for iter := 0; !l.done(); iter++ {
		reg := trace.StartRegion(ctx, "syscalls")
		n := 16 + rng.Intn(len(buf)-16)
		buf[0] = byte(iter)
		// No O_TRUNC: on ext4, truncating a file that holds data makes
		// close() start writeback (auto_da_alloc), which would turn this
		// into a disk benchmark.
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			_, _ = f.Write(buf[:n])
			if id == 0 && iter%4096 == 4095 {
				_ = f.Sync() // a rare long, blocking syscall
			}
			_ = f.Close()
		}
		if f, err := os.Open(path); err == nil {
			_, _ = f.Read(buf)
			_ = f.Close()
		}
		_, _ = os.Stat(path)
		_ = os.Getpid()
		reg.End()
		time.Sleep(time.Duration(20+rng.Intn(400)) * time.Microsecond)
	}
}

// ---------------------------------------------------------------------------
// GC churn

func (l *load) allocator(seed int64) {
	rng := rand.New(rand.NewSource(seed))
	ring := make([][]byte, 1024)
	maps := make([]map[string]int, 64)
	for iter := 0; !l.done(); iter++ {
		// Mostly small objects, a few large ones (exponential-ish sizes,
		// 16 B .. 64 KiB); each replaces a random older one.
		size := 16 << uint(rng.Intn(12))
		size += rng.Intn(size)
		ring[rng.Intn(len(ring))] = make([]byte, size)
		if iter%16 == 0 {
			m := make(map[string]int, 16)
			for j := 0; j < 16; j++ {
				m[strconv.Itoa(rng.Int())] = j
			}
			maps[rng.Intn(len(maps))] = m
		}
		if iter%256 == 255 {
			time.Sleep(time.Duration(200+rng.Intn(300)) * time.Microsecond)
		}
	}
	runtime.KeepAlive(ring)
	runtime.KeepAlive(maps)
}

// gcDriver forces the occasional explicit GC and scavenge.
func (l *load) gcDriver() {
	gc := time.NewTicker(3 * time.Second)
	defer gc.Stop()
	free := time.NewTicker(11 * time.Second)
	defer free.Stop()
	for {
		select {
		case <-gc.C:
			trace.WithRegion(context.Background(), "forced.gc", runtime.GC)
		case <-free.C:
			trace.WithRegion(context.Background(), "free.os.memory", debug.FreeOSMemory)
		case <-l.stop:
			return
		}
	}
}

// timers exercises time.AfterFunc and timer reset/stop.
func (l *load) timers(seed int64) {
	rng := rand.New(rand.NewSource(seed))
	var fired atomic.Int64
	for !l.done() {
		t := time.AfterFunc(time.Duration(rng.Intn(500))*time.Microsecond, func() { fired.Add(1) })
		if rng.Intn(3) == 0 {
			t.Stop()
		} else if rng.Intn(3) == 0 {
			t.Reset(time.Duration(rng.Intn(200)) * time.Microsecond)
		}
		time.Sleep(time.Duration(100+rng.Intn(400)) * time.Microsecond)
	}
}

// ---------------------------------------------------------------------------

// components lists the parts of the workload that -mix can select.
var components = []string{"http", "lock", "chan", "spawn", "sys", "gc", "timer"}

func parseMix(s string) (map[string]bool, error) {
	mix := make(map[string]bool)
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if c == "all" {
			for _, k := range components {
				mix[k] = true
			}
			continue
		}
		ok := false
		for _, k := range components {
			ok = ok || k == c
		}
		if !ok {
			return nil, fmt.Errorf("unknown -mix component %q (want some of: all,%s)", c, strings.Join(components, ","))
		}
		mix[c] = true
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("-mix selects nothing")
	}
	return mix, nil
}

func (l *load) start(mix map[string]bool, clients, lockers int, seed int64) error {
	s := seed * 1000
	if mix["http"] {
		if err := l.startServer(); err != nil {
			return err
		}
		shared := &http.Client{
			Timeout: 10 * time.Second,
			Transport: &http.Transport{
				MaxIdleConns:        4 * clients,
				MaxIdleConnsPerHost: 4 * clients,
				IdleConnTimeout:     30 * time.Second,
				DisableCompression:  true,
			},
		}
		for i := 0; i < clients; i++ {
			i := i
			l.goloop("client", func() { l.client(i, shared, s+int64(i)) })
		}
	}
	s += 100
	if mix["lock"] {
		for i := 0; i < lockers; i++ {
			i := i
			l.goloop("locker", func() { l.locker(s + int64(i)) })
		}
		l.goloop("condProducer", func() { l.condProducer(s + 50) })
		l.goloop("condProducer", func() { l.condProducer(s + 51) })
		l.goloop("condConsumer", l.condConsumer)
		l.goloop("condConsumer", l.condConsumer)
	}
	if mix["chan"] {
		l.pipeline(s + 60)
	}
	if mix["spawn"] {
		l.goloop("spawner", func() { l.spawner(s + 70) })
	}
	if mix["sys"] {
		for i := 0; i < 2; i++ {
			i := i
			l.goloop("syscaller", func() { l.syscaller(i, s+80+int64(i)) })
		}
	}
	if mix["gc"] {
		for i := 0; i < 2; i++ {
			i := i
			l.goloop("allocator", func() { l.allocator(s + 90 + int64(i)) })
		}
		l.goloop("gcDriver", l.gcDriver)
	}
	if mix["timer"] {
		l.goloop("timers", func() { l.timers(s + 95) })
	}
	return nil
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: loadgen -o FILE -size SIZE [flags]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	target, err := parseSize(*sizeFlag)
	if err != nil {
		fatalf("%v", err)
	}
	if *procsFlag < 1 || *clientsFlag < 1 || *lockersFlag < 0 {
		fatalf("-procs and -clients must be >= 1, -lockers >= 0")
	}
	mix, err := parseMix(*mixFlag)
	if err != nil {
		fatalf("%v", err)
	}
	runtime.GOMAXPROCS(*procsFlag)

	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(dir)

	f, err := os.Create(*outFlag)
	if err != nil {
		fatalf("%v", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &countingWriter{w: bw}

	l := newLoad(dir)
	if err := l.start(mix, *clientsFlag, *lockersFlag, *seedFlag); err != nil {
		fatalf("starting load: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // let the workload reach a steady state

	if *cpuFlag {
		if err := pprof.StartCPUProfile(io.Discard); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: CPU profiler not started: %v\n", err)
		}
	}
	start := time.Now()
	if err := trace.Start(cw); err != nil {
		fatalf("trace.Start: %v", err)
	}

	var deadline <-chan time.Time
	if *timeoutFlag > 0 {
		t := time.NewTimer(*timeoutFlag)
		defer t.Stop()
		deadline = t.C
	}
	poll := time.NewTicker(10 * time.Millisecond)
	progress := time.NewTicker(5 * time.Second)
	timedOut := false
wait:
	for {
		select {
		case <-poll.C:
			if cw.n.Load() >= target {
				break wait
			}
		case <-progress.C:
			if !*quietFlag {
				n := cw.n.Load()
				fmt.Fprintf(os.Stderr, "loadgen: %5.1f%%  %d / %d bytes  %.0fs\n",
					100*float64(n)/float64(target), n, target, time.Since(start).Seconds())
			}
		case <-deadline:
			timedOut = true
			break wait
		}
	}
	poll.Stop()
	progress.Stop()

	trace.Stop() // returns after the runtime has written all trace data
	elapsed := time.Since(start)
	if *cpuFlag {
		pprof.StopCPUProfile()
	}
	l.shutdown()

	werr := bw.Flush()
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		fatalf("writing %s: %v", *outFlag, werr)
	}

	// Give the workload a moment to wind down before removing its files.
	wdone := make(chan struct{})
	go func() { l.wg.Wait(); close(wdone) }()
	select {
	case <-wdone:
	case <-time.After(3 * time.Second):
	}

	n := cw.n.Load()
	if !*quietFlag {
		fmt.Fprintf(os.Stderr, "loadgen: wrote %s: %d bytes (target %d) in %.2fs (%.2f MB/s of trace), %d requests, %d request errors\n",
			*outFlag, n, target, elapsed.Seconds(), float64(n)/1e6/elapsed.Seconds(), l.requests.Load(), l.errs.Load())
	}
	os.RemoveAll(dir)
	if timedOut {
		fmt.Fprintf(os.Stderr, "loadgen: timeout after %v: trace has only %d of %d bytes\n", *timeoutFlag, n, target)
		os.Exit(2)
	}
}
