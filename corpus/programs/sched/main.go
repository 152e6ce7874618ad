// Program sched exercises the scheduler and sync primitives: many goroutines,
// buffered/unbuffered channels, select (with default and timeouts),
// sync.Mutex, sync.RWMutex, sync.Cond, sync.WaitGroup and a few sleeps.
//
// Usage: sched OUT.trace
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sched OUT.trace")
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

func run() {
	pipeline()
	selects()
	mutexes()
	rwmutex()
	cond()
	runtime.Gosched()
}

// pipeline: producer -> 3 stages over unbuffered and buffered channels.
func pipeline() {
	src := make(chan int)
	mid := make(chan int, 4)
	out := make(chan int)
	go func() {
		for i := 0; i < 200; i++ {
			src <- i
		}
		close(src)
	}()
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range src {
				mid <- v * v
			}
		}()
	}
	go func() { wg.Wait(); close(mid) }()
	go func() {
		sum := 0
		for v := range mid {
			sum += v
		}
		out <- sum
	}()
	<-out
}

// selects: select over several channels, with a default case, a timer
// and a closed "done" channel.
func selects() {
	a := make(chan int)
	b := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 50; i++ {
			a <- i
			if i%5 == 0 {
				b <- "x"
			}
		}
		close(done)
	}()
	misses := 0
	for {
		select {
		case <-a:
		case <-b:
		case <-done:
			// Drain a timer-driven select too.
			t := time.NewTimer(2 * time.Millisecond)
			select {
			case <-t.C:
			case <-a:
			}
			_ = misses
			return
		default:
			misses++
			runtime.Gosched()
		}
	}
}

// mutexes: contended sync.Mutex across goroutines.
func mutexes() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				mu.Lock()
				counter++
				if i%50 == 0 {
					time.Sleep(100 * time.Microsecond) // hold the lock a while
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// rwmutex: readers and a writer on a sync.RWMutex.
func rwmutex() {
	var rw sync.RWMutex
	m := map[int]int{}
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				rw.RLock()
				_ = m[i+r]
				if i%25 == 0 {
					time.Sleep(50 * time.Microsecond)
				}
				rw.RUnlock()
			}
		}(r)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			rw.Lock()
			m[i] = i
			rw.Unlock()
			time.Sleep(20 * time.Microsecond)
		}
	}()
	wg.Wait()
}

// cond: a sync.Cond-based queue with Signal and Broadcast.
func cond() {
	var mu sync.Mutex
	c := sync.NewCond(&mu)
	queue := []int{}
	closed := false
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			for {
				for len(queue) == 0 && !closed {
					c.Wait()
				}
				if len(queue) == 0 && closed {
					return
				}
				queue = queue[1:]
			}
		}()
	}
	for i := 0; i < 40; i++ {
		mu.Lock()
		queue = append(queue, i)
		mu.Unlock()
		c.Signal()
		if i%10 == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	mu.Lock()
	closed = true
	mu.Unlock()
	c.Broadcast()
	wg.Wait()
}
