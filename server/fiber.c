#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_STACK; <ucontext.h> */
#include "fiber.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#  define SRV_FIBER_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define SRV_FIBER_ASAN 1
#  endif
#endif
#ifdef SRV_FIBER_ASAN
/* AddressSanitizer is told of every switch, so that it knows which stack is the current one. */
#  include <sanitizer/common_interface_defs.h>
#endif

struct srv_fiber {
	ucontext_t caller, self;
	char *map;          /* guard page, then the stack */
	size_t map_len, guard;
	int started;
	srv_fiber_fn fn;
	void *arg;
	int result;
#ifdef SRV_FIBER_ASAN
	const void *caller_bottom;
	size_t caller_size;
	void *fake_self;
#endif
};

srv_fiber *srv_fiber_new(void)
{
	return calloc(1, sizeof(srv_fiber));
}

void srv_fiber_free(srv_fiber *f)
{
	if (!f)
		return;
	if (f->map)
		munmap(f->map, f->map_len);
	free(f);
}

/* Back to the thread's own stack; returns when the next request is run. */
static void yield_to_caller(srv_fiber *f)
{
#ifdef SRV_FIBER_ASAN
	__sanitizer_start_switch_fiber(&f->fake_self, f->caller_bottom, f->caller_size);
#endif
	swapcontext(&f->self, &f->caller);
#ifdef SRV_FIBER_ASAN
	__sanitizer_finish_switch_fiber(f->fake_self, &f->caller_bottom, &f->caller_size);
#endif
}

/* The fiber's life: run the function it was given, hand the result back, wait for the next.  It never
 * returns; a fiber is released between runs, when nothing of a request is on its stack. */
static void fiber_main(unsigned hi, unsigned lo)
{
	srv_fiber *f = (srv_fiber *)(((uintptr_t)hi << 16 << 16) | (uintptr_t)lo);
#ifdef SRV_FIBER_ASAN
	__sanitizer_finish_switch_fiber(NULL, &f->caller_bottom, &f->caller_size);
#endif
	for (;;) {
		f->result = f->fn(f->arg);
		yield_to_caller(f);
	}
}

static int start(srv_fiber *f)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t p = (uintptr_t)f;
	f->guard = page > 0 ? (size_t)page : 4096;
	f->map_len = SRV_FIBER_STACK_BYTES + f->guard;
	f->map = mmap(NULL, f->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		return -1;
	}
	/* A stack overflow faults on the guard page instead of writing over other memory. */
	if (mprotect(f->map, f->guard, PROT_NONE) != 0 || getcontext(&f->self) != 0) {
		munmap(f->map, f->map_len);
		f->map = NULL;
		return -1;
	}
	f->self.uc_stack.ss_sp = f->map + f->guard;
	f->self.uc_stack.ss_size = SRV_FIBER_STACK_BYTES;
	f->self.uc_link = NULL;
	makecontext(&f->self, (void (*)(void))fiber_main, 2, (unsigned)(p >> 16 >> 16), (unsigned)(p & 0xffffffffu));
	f->started = 1;
	return 0;
}

int srv_fiber_run(srv_fiber *f, srv_fiber_fn fn, void *arg, int *ran)
{
#ifdef SRV_FIBER_ASAN
	void *fake = NULL;
#endif
	*ran = 0;
	if (!f || (!f->started && start(f) != 0))
		return -1;
	f->fn = fn;
	f->arg = arg;
#ifdef SRV_FIBER_ASAN
	__sanitizer_start_switch_fiber(&fake, f->map + f->guard, SRV_FIBER_STACK_BYTES);
#endif
	if (swapcontext(&f->caller, &f->self) != 0) {
#ifdef SRV_FIBER_ASAN
		__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
		return -1;
	}
#ifdef SRV_FIBER_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	*ran = 1;
	return f->result;
}
