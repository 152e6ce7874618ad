// Program syscalls exercises blocking system calls: file I/O on temporary
// files (create, write, fsync, read, stat, rename, remove, read a directory),
// a pipe between goroutines, and exec'd child processes (/bin/true,
// `sh -c` with stdout captured, and a child fed through stdin).
//
// Usage: syscalls OUT.trace
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/trace"
	"strings"
	"sync"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: syscalls OUT.trace")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	fileIO()
	pipes()
	children()
	trace.Stop()
	if err := f.Close(); err != nil {
		panic(err)
	}
}

func fileIO() {
	dir, err := os.MkdirTemp("", "gotrace-corpus-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	buf := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := filepath.Join(dir, fmt.Sprintf("file%d", i))
			fh, err := os.Create(name)
			if err != nil {
				panic(err)
			}
			for j := 0; j < 8; j++ {
				if _, err := fh.Write(buf); err != nil {
					panic(err)
				}
			}
			if err := fh.Sync(); err != nil {
				panic(err)
			}
			fh.Close()
			if _, err := os.Stat(name); err != nil {
				panic(err)
			}
			data, err := os.ReadFile(name)
			if err != nil || len(data) != 8*len(buf) {
				panic(fmt.Sprint("short read ", len(data), err))
			}
			if err := os.Rename(name, name+".done"); err != nil {
				panic(err)
			}
		}(i)
	}
	wg.Wait()
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 4 {
		panic(fmt.Sprint("readdir ", len(ents), err))
	}
	for _, e := range ents {
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

func pipes() {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	done := make(chan int)
	go func() {
		n, _ := io.Copy(io.Discard, r)
		r.Close()
		done <- int(n)
	}()
	for i := 0; i < 16; i++ {
		w.Write(bytes.Repeat([]byte{'p'}, 4096))
	}
	w.Close()
	<-done
}

func children() {
	for i := 0; i < 3; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			panic(err)
		}
	}
	out, err := exec.Command("sh", "-c", "echo hello; i=0; while [ $i -lt 50 ]; do i=$((i+1)); done; echo $i").Output()
	if err != nil {
		panic(err)
	}
	if !strings.Contains(string(out), "50") {
		panic("unexpected output: " + string(out))
	}
	cmd := exec.Command("sh", "-c", "wc -c")
	cmd.Stdin = strings.NewReader(strings.Repeat("x", 10000))
	var sb strings.Builder
	cmd.Stdout = &sb
	if err := cmd.Run(); err != nil {
		panic(err)
	}
	// Several children in parallel.
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exec.Command("sh", "-c", "true").Run()
		}()
	}
	wg.Wait()
}
