// Program annotations exercises the user annotation API of runtime/trace
// and CPU profile samples in the trace:
//   - nested tasks (trace.NewTask with a parent task in the context), tasks
//     that end on a different goroutine than the one that created them, and a
//     task left unended;
//   - regions (trace.WithRegion and StartRegion/End) on several goroutines,
//     nested regions, and a region spanning a blocking operation;
//   - trace.Log and trace.Logf, with and without a task in the context;
//   - pprof.StartCPUProfile(io.Discard) running during the trace so that
//     CPU samples are recorded in it.
//
// Usage: annotations OUT.trace
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: annotations OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		panic(err)
	}
	run()
	pprof.StopCPUProfile()
	trace.Stop()
	if err := f.Close(); err != nil {
		panic(err)
	}
}

// spin burns CPU for about d so that the CPU profiler takes samples.
func spin(d time.Duration) uint64 {
	var x uint64 = 1
	for start := time.Now(); time.Since(start) < d; {
		for i := 0; i < 10000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

var sink uint64

func run() {
	trace.Log(context.Background(), "phase", "start (no task)")
	ctx, root := trace.NewTask(context.Background(), "root")
	trace.Logf(ctx, "config", "workers=%d", 3)

	var wg sync.WaitGroup
	results := make(chan int, 3)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wctx, task := trace.NewTask(ctx, fmt.Sprintf("worker-%d", w))
			defer task.End()
			trace.WithRegion(wctx, "compute", func() {
				r := trace.StartRegion(wctx, "inner-spin")
				sink += spin(150 * time.Millisecond)
				r.End()
				trace.Logf(wctx, "progress", "worker %d computed", w)
			})
			trace.WithRegion(wctx, "sleep", func() {
				time.Sleep(time.Duration(w+1) * time.Millisecond)
			})
			sub, subTask := trace.NewTask(wctx, "subtask")
			trace.Log(sub, "", "empty category")
			trace.WithRegion(sub, "send-result", func() {
				results <- w
			})
			subTask.End()
		}(w)
	}
	wg.Wait()
	close(results)

	// A task created on this goroutine and ended on another one.
	hctx, handoff := trace.NewTask(ctx, "handoff")
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer trace.StartRegion(hctx, "ending-goroutine").End()
		trace.Log(hctx, "handoff", "ending task on another goroutine")
		handoff.End()
	}()
	<-done

	// Region around a blocking channel receive, with the sender in another region.
	ch := make(chan int)
	go func() {
		trace.WithRegion(ctx, "sender", func() {
			time.Sleep(2 * time.Millisecond)
			ch <- 1
		})
	}()
	trace.WithRegion(ctx, "blocked-recv", func() { <-ch })

	// Deeply nested regions on the main goroutine.
	var nest func(int)
	nest = func(d int) {
		if d == 0 {
			sink += spin(50 * time.Millisecond)
			return
		}
		trace.WithRegion(ctx, fmt.Sprintf("depth-%d", d), func() { nest(d - 1) })
	}
	nest(4)

	// A task that is never ended, and a long log message.
	_, leaked := trace.NewTask(ctx, "never-ended")
	_ = leaked
	trace.Log(ctx, "long", string(make([]byte, 300)))
	trace.Logf(ctx, "done", "sink=%d enabled=%v", sink%10, trace.IsEnabled())
	root.End()
}
