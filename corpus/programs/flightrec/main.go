//go:build go1.25

// Program flightrec exercises runtime/trace.FlightRecorder (Go 1.25+): it
// starts a flight recorder with a 1.2 s / 1 MiB window, runs a light workload
// for about 2.5 seconds (about three generations, of which only the most
// recent ones stay in the window), then writes a snapshot with WriteTo. The snapshot is the
// trace file. On toolchains older than 1.25 the build constraint excludes
// every file and the program is skipped.
//
// Usage: flightrec OUT.trace
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
		fmt.Fprintln(os.Stderr, "usage: flightrec OUT.trace")
		os.Exit(2)
	}
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{
		MinAge:   1200 * time.Millisecond,
		MaxBytes: 1 << 20,
	})
	if err := fr.Start(); err != nil {
		panic(err)
	}
	run(2500 * time.Millisecond)

	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if _, err := fr.WriteTo(f); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
	fr.Stop()
}

func run(total time.Duration) {
	ctx, task := trace.NewTask(context.Background(), "flightrec-workload")
	defer task.End()
	deadline := time.Now().Add(total)
	for n := 0; time.Now().Before(deadline); n++ {
		trace.WithRegion(ctx, "burst", func() {
			var wg sync.WaitGroup
			ch := make(chan []byte, 4)
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					ch <- make([]byte, 8<<10+i)
				}(i)
			}
			wg.Wait()
			close(ch)
			for b := range ch {
				sink = b
			}
		})
		trace.Logf(ctx, "iteration", "%d", n)
		time.Sleep(50 * time.Millisecond)
	}
}
