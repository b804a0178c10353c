// bench/malloc_count.c: an LD_PRELOAD library that counts malloc, calloc, realloc, posix_memalign
// and aligned_alloc calls of a whole process and writes the total to $MALLOC_COUNT_FILE at exit.
// Used by bench/engine_counts.py (valgrind 3.19 cannot run the Swift 6.3 binary here).
//   gcc -O2 -shared -fPIC -o malloc_count.so bench/malloc_count.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long count;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);

// dlsym itself may call calloc before real_calloc is known: serve it from a static arena.
static char arena[8192];
static size_t arena_used;

static void *arena_alloc(size_t size) {
    size = (size + 15) & ~(size_t)15;
    if (arena_used + size > sizeof arena) return NULL;
    void *p = arena + arena_used;
    arena_used += size;
    return p;
}

static void init(void) {
    if (real_malloc) return;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
}

void *malloc(size_t size) {
    init();
    __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
    return real_malloc(size);
}

void *calloc(size_t n, size_t size) {
    if (!real_calloc) {
        void *p = arena_alloc(n * size);
        if (p) memset(p, 0, n * size);
        return p;
    }
    __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
    return real_calloc(n, size);
}

void *realloc(void *p, size_t size) {
    init();
    __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
    return real_realloc(p, size);
}

int posix_memalign(void **p, size_t alignment, size_t size) {
    init();
    __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
    return real_posix_memalign(p, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    init();
    __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
    return real_aligned_alloc(alignment, size);
}

void free(void *p) {
    static void (*real_free)(void *);
    if ((char *)p >= arena && (char *)p < arena + sizeof arena) return;
    if (!real_free) real_free = dlsym(RTLD_NEXT, "free");
    real_free(p);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (!path) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "%llu\n", count);
    fclose(f);
}
