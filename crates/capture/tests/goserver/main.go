// Command goserver is a small HTTP server exposing net/http/pprof, for
// gotrace-capture's tests. It listens on 127.0.0.1:0, prints its address on
// the first line of stdout, keeps a little work going (allocation, channel
// hand-offs, forced GCs, so traces have goroutines and stop-the-world
// pauses), and exits by itself when stdin closes or after -lifetime.
//
// Standard library only: the tests build it with GOTOOLCHAIN=local GOPROXY=off.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"time"
)

var sink [][]byte

func work() {
	ch := make(chan int)
	go func() {
		for v := range ch {
			sink = append(sink, make([]byte, 1024+v%4096))
			if len(sink) > 256 {
				sink = sink[:0]
			}
		}
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	gc := time.NewTicker(100 * time.Millisecond)
	for i := 0; ; i++ {
		select {
		case <-tick.C:
			ch <- i
		case <-gc.C:
			runtime.GC()
		}
	}
}

func main() {
	lifetime := flag.Duration("lifetime", 60*time.Second, "exit after this long")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	go func() {
		time.Sleep(*lifetime)
		os.Exit(0)
	}()
	go work()
	http.Serve(ln, nil)
}
