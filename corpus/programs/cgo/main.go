// Program cgo exercises cgo calls and C->Go callbacks: Go calls C, C calls
// an exported Go function back (on the same thread), and C code creates
// threads with pthread_create that call the exported Go function (so the
// runtime must bind an extra M to a thread it did not create). Callbacks
// allocate, use channels and take a mutex. A blocking C call (usleep) is
// made from several goroutines. (Go 1.21 only: no pthread callbacks, see
// pthread_go121.go.)
//
// Build requires CGO_ENABLED=1 and a C compiler.
//
// Usage: cgo OUT.trace
package main

/*
#cgo LDFLAGS: -lpthread
void callGoLoop(int n);
int runThreads(int n);
void cSleep(int usec);
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/trace"
	"sync"
)

var (
	mu     sync.Mutex
	calls  = map[int]int{}
	events = make(chan int, 1024)
)

//export goCallback
func goCallback(i, thread C.int) {
	mu.Lock()
	calls[int(thread)]++
	mu.Unlock()
	b := make([]byte, 256+int(i))
	events <- len(b)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cgo OUT.trace")
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
	done := make(chan int)
	go func() {
		n := 0
		for range events {
			n++
		}
		done <- n
	}()

	want := 20 + 3*5
	C.callGoLoop(20)
	if pthreadCallbacks {
		if C.runThreads(4) != 0 {
			panic("pthread_create failed")
		}
		want += 4 * 5
	}
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			C.cSleep(2000)
			C.callGoLoop(5)
		}()
	}
	wg.Wait()
	if pthreadCallbacks {
		// A second round of fresh threads after the first ones exited.
		if C.runThreads(2) != 0 {
			panic("pthread_create failed")
		}
		want += 2 * 5
	}
	close(events)
	if n := <-done; n != want {
		panic(fmt.Sprint("unexpected callback count ", n))
	}
}
