/*
 * Secure memory for secrets (trusted code): libsodium guarded allocations,
 * mlock'ed, excluded from core dumps, wiped on free. Process hardening for
 * the processes that hold secrets lives here too.
 */
#include <pthread.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "sigil/common.h"

/* A small per-thread pool of guarded buffers by size class, so that the
 * request path does not pay mmap/mprotect/mlock/munmap for every secret:
 * a released buffer is wiped (its whole requested capacity) and kept for
 * the next allocation of its class on the same thread; the pool is freed
 * when the thread exits. Buffers above the largest class go straight to
 * sodium_malloc/sodium_free. */
#define POOL_CLASSES 7u
#define POOL_PER_CLASS 8u
#define POOL_MIN_SHIFT 6u /* 64 B, then x4: 256 B, 1 KiB, ... 256 KiB */

typedef struct {
    void *p[POOL_PER_CLASS];
    unsigned n;
} pool_class;

static _Thread_local pool_class tl_pool[POOL_CLASSES];
static _Thread_local int tl_pool_registered;
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_release_all(void *unused)
{
    (void)unused;
    for (unsigned c = 0; c < POOL_CLASSES; c++) {
        while (tl_pool[c].n > 0)
            sodium_free(tl_pool[c].p[--tl_pool[c].n]);
    }
}

static void pool_key_create(void)
{
    (void)pthread_key_create(&pool_key, pool_release_all);
}

/* The class of a capacity, or POOL_CLASSES when too large to pool. */
static unsigned pool_class_of(size_t cap)
{
    unsigned c = 0;
    size_t size = (size_t)1 << POOL_MIN_SHIFT;
    while (c < POOL_CLASSES && size < cap) {
        size <<= 2;
        c++;
    }
    return c;
}

static size_t pool_class_size(unsigned c)
{
    return (size_t)1 << (POOL_MIN_SHIFT + 2 * c);
}

int sigil_secret_alloc(sigil_secret *s, size_t cap)
{
    unsigned c = pool_class_of(cap);
    s->len = 0;
    s->cap = cap;
    if (c < POOL_CLASSES && tl_pool[c].n > 0) {
        s->p = tl_pool[c].p[--tl_pool[c].n];
        return 0;
    }
    s->p = sodium_malloc(c < POOL_CLASSES ? pool_class_size(c) : (cap == 0 ? 1 : cap));
    ENSURE(s->p != NULL, SIGIL_E_NO_MEMORY, "cannot allocate locked memory for a secret");
    return 0;
}

void sigil_secret_free(sigil_secret *s)
{
    if (s->p != NULL) {
        unsigned c = pool_class_of(s->cap);
        if (c < POOL_CLASSES && tl_pool[c].n < POOL_PER_CLASS) {
            sodium_memzero(s->p, s->cap);
            if (!tl_pool_registered) {
                (void)pthread_once(&pool_once, pool_key_create);
                (void)pthread_setspecific(pool_key, tl_pool);
                tl_pool_registered = 1;
            }
            tl_pool[c].p[tl_pool[c].n++] = s->p;
        } else {
            sodium_free(s->p); /* wipes before unmapping */
        }
    }
    s->p = NULL;
    s->len = 0;
    s->cap = 0;
}

void sigil_secret_cleanup(sigil_secret *s)
{
    sigil_secret_free(s);
}

void sigil_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

int sigil_ct_eq(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

#ifdef SIGIL_NO_HARDENING
int sigil_harden_process(void)
{
    return 0;
}
#else
int sigil_harden_process(void)
{
    struct rlimit no_core = {0, 0};
    ENSURE(setrlimit(RLIMIT_CORE, &no_core) == 0, SIGIL_E_INTERNAL, "cannot disable core dumps");
    ENSURE(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0, SIGIL_E_INTERNAL,
           "cannot mark the process non-dumpable");
    /* Secrets live in sodium_malloc'ed pages, which are mlock'ed one by one;
     * whole-process mlockall belongs to the long-running enclave. */
    return 0;
}
#endif
