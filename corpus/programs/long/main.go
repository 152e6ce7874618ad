// Program long produces a trace that lasts about 3.6 seconds, so that it
// spans several generations (the runtime starts a new generation about once
// per second). It mostly sleeps, with a small periodic burst of goroutine,
// channel and allocation activity, to keep the trace small. A ticker
// goroutine and a user task/region per burst are included. (No explicit
// runtime.GC here: its sweep-wait loop calls Gosched thousands of times and
// would bloat the trace.)
//
// Usage: long OUT.trace
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

var sink []byte

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: long OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	run(3600 * time.Millisecond)
	trace.Stop()
	if err := f.Close(); err != nil {
		panic(err)
	}
}

func burst(ctx context.Context, n int) {
	ctx, task := trace.NewTask(ctx, "burst")
	defer task.End()
	trace.Logf(ctx, "burst", "n=%d", n)
	ch := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			trace.WithRegion(ctx, "work", func() {
				b := make([]byte, 16<<10)
				b[i] = byte(n)
				ch <- len(b)
			})
		}(i)
	}
	go func() { wg.Wait(); close(ch) }()
	for v := range ch {
		sink = make([]byte, v)
	}
}

func run(total time.Duration) {
	ctx := context.Background()
	deadline := time.Now().Add(total)
	// A background goroutine on its own ticker.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sink = make([]byte, 512)
			case <-stop:
				return
			}
		}
	}()
	for n := 0; time.Now().Before(deadline); n++ {
		burst(ctx, n)
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	<-done
}
