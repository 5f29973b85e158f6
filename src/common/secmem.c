/*
 * Secure memory for secrets (trusted code): libsodium guarded allocations,
 * mlock'ed, excluded from core dumps, wiped on free. Process hardening for
 * the processes that hold secrets lives here too.
 */
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "sigil/common.h"

int sigil_secret_alloc(sigil_secret *s, size_t cap)
{
    s->p = sodium_malloc(cap == 0 ? 1 : cap);
    s->len = 0;
    s->cap = cap;
    ENSURE(s->p != NULL, SIGIL_E_NO_MEMORY, "cannot allocate locked memory for a secret");
    return 0;
}

void sigil_secret_free(sigil_secret *s)
{
    if (s->p != NULL)
        sodium_free(s->p); /* wipes before unmapping */
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
