// Program gc exercises the garbage collector and processor changes:
// allocation churn from several goroutines (small and large objects,
// retained and discarded), explicit runtime.GC() calls, debug.FreeOSMemory,
// a changed GC percent, and GOMAXPROCS changed at run time (which stops the
// world and resizes the P set) while goroutines are running.
//
// Trace size varies a lot between runs from Go 1.25 on: while no P is idle,
// the background sweeper can yield in a tight loop (runtime: bgsweep's
// goschedIfBusy, the fix for Go issue 73499) and each iteration is a
// GoStop/GoStart pair. The workload is kept short to bound that, and
// regen.sh retries runs whose trace is too large.
//
// Usage: gc OUT.trace
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/trace"
	"sync"
	"time"
)

var sink [][]byte

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gc OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	// A small heap target so that GC cycles happen often.
	debug.SetGCPercent(50)
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	run()
	trace.Stop()
	if err := f.Close(); err != nil {
		panic(err)
	}
}

func churn(id, rounds int) {
	var keep [][]byte
	for i := 0; i < rounds; i++ {
		b := make([]byte, 64+(i*37+id)%1024)
		b[0] = byte(i)
		if i%16 == 0 {
			keep = append(keep, b)
		}
		if i%500 == 0 {
			big := make([]byte, 256<<10) // large object
			big[len(big)-1] = 1
			_ = big
		}
		if len(keep) > 64 {
			keep = keep[:0]
		}
	}
	_ = keep
}

func phase(workers, rounds int) {
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			churn(w, rounds)
		}(w)
	}
	wg.Wait()
}

func run() {
	orig := runtime.GOMAXPROCS(0)
	// Allocation phases keep fewer allocating goroutines than Ps: from Go 1.25
	// on, while no P is idle, the background sweeper yields in a tight loop
	// (GoStop/GoStart per iteration) as long as any other goroutine is
	// sweeping, which bloats the trace to megabytes.
	runtime.GOMAXPROCS(4)
	phase(2, 1500)
	gcNow()

	// Shrink to one P, then run several goroutines on it.
	runtime.GOMAXPROCS(1)
	phase(3, 800)
	gcNow()

	// Grow again, start workers, and change GOMAXPROCS while they run.
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					churn(w, 100)
					time.Sleep(50 * time.Microsecond)
				}
			}
		}(w)
	}
	runtime.GOMAXPROCS(3) // change while the workers run
	phase(1, 500)
	close(stop)
	wg.Wait()

	debug.SetGCPercent(100)
	sink = append(sink, make([]byte, 4<<20))
	gcNow()
	sink = nil
	runtime.GOMAXPROCS(1) // see gcNow
	debug.FreeOSMemory()  // a forced GC plus scavenge
	runtime.GOMAXPROCS(orig)
}

// gcNow forces a collection with runtime.GC while GOMAXPROCS is
// temporarily 1. With more Ps, runtime.GC's final "wait until sweeping is
// done" loop (Gosched until isSweepDone) can spin for tens of milliseconds
// waiting for a sweeper on another P, emitting a GoStop/GoStart pair per
// iteration and bloating the trace to megabytes. With a single P the
// sweepers run in turn instead. (It also adds two more GOMAXPROCS changes.)
func gcNow() {
	prev := runtime.GOMAXPROCS(1)
	runtime.GC()
	runtime.GOMAXPROCS(prev)
}
