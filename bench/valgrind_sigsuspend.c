// bench/valgrind_sigsuspend.c: LD_PRELOADed into the balancer when bench/engine_counts.py counts
// its instructions under valgrind. Why: libdispatch's main thread parks in sigsuspend() with a mask
// that lives in libdispatch's own data, and valgrind 3.24 dies with an internal SIGSEGV reading it
// there (`VALGRIND INTERNAL ERROR ... syscall 130`). The same call with the mask copied to the stack
// runs. For measurement only; the balancer never loads this otherwise.
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy;
    memcpy(&copy, mask, sizeof copy);
    // The kernel's sigset is 8 bytes (64 signals), not glibc's 128.
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
