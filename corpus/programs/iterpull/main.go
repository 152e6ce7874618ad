//go:build go1.23

// Program iterpull exercises coroutines (iter.Pull / iter.Pull2), which the
// runtime implements with coroswitch and which show up in the trace as
// direct goroutine switches (GoSwitch / GoSwitchDestroy). It uses pull
// iterators driven to exhaustion, stopped early, one whose generator blocks
// on a channel and sleeps, and several pulled concurrently from different
// goroutines. Requires Go 1.23 (package iter); on older toolchains the build
// constraint excludes every file and the program is skipped.
//
// Usage: iterpull OUT.trace
package main

import (
	"fmt"
	"iter"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: iterpull OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	run()
	trace.Stop()
	if err := f.Close(); err != nil {
		panic(err)
	}
}

func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; i < n; i++ {
			if !yield(i) {
				return
			}
		}
	}
}

func pairs(n int) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		for i := 0; i < n; i++ {
			if !yield(i, fmt.Sprint("v", i)) {
				return
			}
		}
	}
}

// slowSeq blocks inside the generator (on a channel and in a sleep), so the
// coroutine goroutine parks while it is the running side of the pair.
func slowSeq(ch <-chan int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for v := range ch {
			time.Sleep(100 * time.Microsecond)
			if !yield(v) {
				return
			}
		}
	}
}

func run() {
	// Exhaust a pull iterator.
	next, stop := iter.Pull(count(100))
	sum := 0
	for {
		v, ok := next()
		if !ok {
			break
		}
		sum += v
	}
	stop()

	// Stop early.
	next, stop = iter.Pull(count(1000))
	for i := 0; i < 5; i++ {
		next()
	}
	stop()

	// Pull2.
	next2, stop2 := iter.Pull2(pairs(50))
	for {
		_, _, ok := next2()
		if !ok {
			break
		}
	}
	stop2()

	// Generator that blocks.
	ch := make(chan int)
	go func() {
		for i := 0; i < 20; i++ {
			ch <- i
		}
		close(ch)
	}()
	nextSlow, stopSlow := iter.Pull(slowSeq(ch))
	for {
		if _, ok := nextSlow(); !ok {
			break
		}
	}
	stopSlow()

	// Several goroutines, each with its own pull iterator.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			next, stop := iter.Pull(count(200 + g))
			defer stop()
			for {
				if _, ok := next(); !ok {
					return
				}
			}
		}(g)
	}
	wg.Wait()
	_ = sum
}
