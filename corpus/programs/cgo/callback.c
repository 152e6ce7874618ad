// C half of the cgo program: calls back into Go from the calling thread and
// from threads created with pthread_create (which the Go runtime has never
// seen before the callback, so it must set up an M for them: "extra M").
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>
#include "_cgo_export.h"

// Calls goCallback n times from the current (Go-created) thread.
void callGoLoop(int n) {
	for (int i = 0; i < n; i++) {
		goCallback(i, 0);
	}
}

static void* threadMain(void* arg) {
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < 5; i++) {
		goCallback(i, id);
		usleep(200);
	}
	return NULL;
}

// Starts n pthreads, each calling back into Go, and joins them.
int runThreads(int n) {
	pthread_t th[16];
	if (n > 16) n = 16;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&th[i], NULL, threadMain, (void*)(intptr_t)(i + 1)) != 0) {
			return -1;
		}
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
	}
	return 0;
}

// A C call that blocks for a while (shows up as a long syscall/cgo call).
void cSleep(int usec) {
	usleep(usec);
}
