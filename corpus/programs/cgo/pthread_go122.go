//go:build go1.22

package main

// pthreadCallbacks enables the callbacks from C-created pthreads.
const pthreadCallbacks = true
