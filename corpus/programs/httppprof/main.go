// Program httppprof captures a trace through net/http/pprof: it serves the
// default mux (with net/http/pprof's handlers) on 127.0.0.1:0, starts a few
// goroutines that generate HTTP load against the same server, then GETs
// /debug/pprof/trace?seconds=1 from itself and writes the response body (the
// trace) to the output path. This covers a trace that starts while the
// program is already busy (goroutines exist and are blocked/running at trace
// start) and is stopped from a handler goroutine.
//
// Usage: httppprof OUT.trace
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: httppprof OUT.trace")
		os.Exit(2)
	}
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 4096)
		for i := range b {
			b[i] = byte(i)
		}
		time.Sleep(time.Millisecond)
		w.Write(b[:64])
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 30 * time.Second}

	// Background load: a few clients hitting /work with pauses.
	var stop atomic.Bool
	var wg sync.WaitGroup
	for c := 0; c < 3; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				resp, err := client.Get(base + "/work")
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}

	time.Sleep(50 * time.Millisecond) // let the load start before the trace
	resp, err := client.Get(base + "/debug/pprof/trace?seconds=1")
	if err != nil {
		panic(err)
	}
	if resp.StatusCode != http.StatusOK {
		panic("trace endpoint: " + resp.Status)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		panic(err)
	}
	resp.Body.Close()
	if err := f.Close(); err != nil {
		panic(err)
	}
	stop.Store(true)
	wg.Wait()
	client.CloseIdleConnections()
	srv.Close()
}
