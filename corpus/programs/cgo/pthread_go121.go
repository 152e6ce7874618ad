//go:build !go1.22

package main

// Go 1.21's (old-format) tracer writes traces that no parser accepts ("no
// consistent ordering of events possible", also from Go 1.21's own go tool
// trace) when Go is called back from a thread created by C with
// pthread_create. So for Go 1.21 the program leaves those callbacks out and
// keeps only the Go->C->Go callbacks on Go-created threads.
const pthreadCallbacks = false
