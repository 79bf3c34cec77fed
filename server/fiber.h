/*
 * A large stack for the request handlers, on CivetWeb's own worker threads.
 *
 * CivetWeb's worker threads get the stack size its build chose (100 KiB in Debian's package, not
 * settable at run time), too little to be sure of for SQLite, libcurl and the JSON code under a
 * request.  Each worker thread therefore owns one srv_fiber: a stack of SRV_FIBER_STACK_BYTES
 * (with a guard page below it) that the handler runs on, switched to with swapcontext(3) and back
 * when the handler returns.  The switch stays on the same thread (its thread-local state, such as
 * the library's last error, is the thread's), and costs two context switches of a few hundred
 * nanoseconds instead of a thread created and joined per request.
 */
#ifndef LVSERVER_FIBER_H
#define LVSERVER_FIBER_H

#define SRV_FIBER_STACK_BYTES (1024 * 1024)

typedef struct srv_fiber srv_fiber;
typedef int (*srv_fiber_fn)(void *arg);

/* A fiber for the calling thread (its stack is mapped on the first run).  NULL when out of memory. */
srv_fiber *srv_fiber_new(void);
/* Release the fiber and its stack; only between runs, on the thread that used it.  NULL-safe. */
void srv_fiber_free(srv_fiber *f);
/* Run fn(arg) on the fiber's stack and return its result.  Returns -1 without calling fn when the
 * stack cannot be had (the caller then runs fn on its own stack). *ran tells which happened. */
int srv_fiber_run(srv_fiber *f, srv_fiber_fn fn, void *arg, int *ran);

#endif
