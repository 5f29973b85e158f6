/*
 * The store keeper: one thread for the gateway's periodic store chores.
 * It renews this gateway's in-progress idempotency reservations every
 * SIGIL_IDEM_RENEW_MS, so that they outlive a slow request but not the
 * gateway (store.h; another gateway on the same store takes a reservation
 * over once its lease, SIGIL_IDEM_LEASE_MS, has run out: docs/OPERATIONS.md
 * "Multi-host topology"), and deletes limit usage reports older than
 * SIGIL_USAGE_KEEP_MS once at start-up and then every GW_USAGE_PRUNE_MS,
 * including those of keys that never sign again (docs/POLICY.md "Limits
 * across enclaves").
 */
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "gateway/gateway.h"

/* A chore logs when it starts failing (failed, then the error) and when it
 * works again, not at every run. */
typedef struct {
    const char *failed;
    const char *again;
    int64_t every_ms;
    int (*run)(sigil_store *s, int64_t now_ms);
} chore;

static int renew_leases(sigil_store *s, int64_t now_ms)
{
    return s->ops->idem_renew(s, now_ms);
}

static int prune_usage(sigil_store *s, int64_t now_ms)
{
    uint64_t n = 0;
    GUARD(s->ops->usage_prune(s, now_ms - SIGIL_USAGE_KEEP_MS, &n));
    if (n > 0)
        gw_log("limit usage: %" PRIu64 " report(s) older than %lld h deleted", n,
               SIGIL_USAGE_KEEP_MS / 3600000);
    return 0;
}

static const chore CHORES[] = {
    {"idempotency leases not renewed: ", "idempotency leases renewed again", SIGIL_IDEM_RENEW_MS,
     renew_leases},
    {"limit usage: old reports not deleted: ", "limit usage: old reports deleted again",
     GW_USAGE_PRUNE_MS, prune_usage},
};

#define TICK_MS SIGIL_IDEM_RENEW_MS /* the shortest period */

struct gw_keeper {
    sigil_store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int64_t due_ms[SIGIL_ARRAY_LEN(CHORES)]; /* next run, monotonic; 0 = at the first tick */
    bool failing[SIGIL_ARRAY_LEN(CHORES)];
};

static int64_t mono_ms(void)
{
    struct timespec t;
    (void)clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Runs the chores that are due. */
static void run_due(gw_keeper *k)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CHORES); i++) {
        const chore *c = &CHORES[i];
        int64_t now = mono_ms();
        if (now < k->due_ms[i])
            continue;
        k->due_ms[i] = now + c->every_ms;
        bool ok = c->run(k->store, sigil_store_now_ms()) == 0;
        if (ok != !k->failing[i])
            gw_log_warn("%s%s", ok ? c->again : c->failed, ok ? "" : sigil_errmsg());
        k->failing[i] = !ok;
    }
}

static void *keeper_main(void *arg)
{
    gw_keeper *k = arg;
    (void)pthread_mutex_lock(&k->mu);
    while (!k->stop) {
        struct timespec until;
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += TICK_MS / 1000u;
        until.tv_nsec += (long)(TICK_MS % 1000u) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&k->cv, &k->mu, &until);
        if (k->stop)
            break;
        (void)pthread_mutex_unlock(&k->mu);
        run_due(k);
        (void)pthread_mutex_lock(&k->mu);
    }
    (void)pthread_mutex_unlock(&k->mu);
    return NULL;
}

int gw_keeper_start(gw_keeper **out, sigil_store *store)
{
    gw_keeper *k = calloc(1, sizeof(*k));
    *out = NULL;
    ENSURE(k != NULL, SIGIL_E_NO_MEMORY, "store keeper: out of memory");
    k->store = store;
    (void)pthread_mutex_init(&k->mu, NULL);
    (void)pthread_cond_init(&k->cv, NULL);
    if (pthread_create(&k->thread, NULL, keeper_main, k) != 0) {
        free(k);
        BAIL(SIGIL_E_INTERNAL, "store keeper: cannot start the thread");
    }
    *out = k;
    return 0;
}

void gw_keeper_stop(gw_keeper *k)
{
    if (k == NULL)
        return;
    (void)pthread_mutex_lock(&k->mu);
    k->stop = true;
    (void)pthread_cond_signal(&k->cv);
    (void)pthread_mutex_unlock(&k->mu);
    (void)pthread_join(k->thread, NULL);
    (void)pthread_mutex_destroy(&k->mu);
    (void)pthread_cond_destroy(&k->cv);
    free(k);
}
