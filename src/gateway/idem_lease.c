/*
 * The lease keeper: renews this gateway's in-progress idempotency
 * reservations every SIGIL_IDEM_RENEW_MS, so that they outlive a slow
 * request but not the gateway (store.h). Another gateway on the same store
 * takes a reservation over once its lease (SIGIL_IDEM_LEASE_MS) has run
 * out; this gateway then cannot complete it (docs/OPERATIONS.md
 * "Multi-host topology").
 */
#include <stdlib.h>
#include <time.h>

#include "gateway/gateway.h"

struct gw_lease {
    sigil_store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static void *keeper_main(void *arg)
{
    gw_lease *l = arg;
    bool failing = false;
    (void)pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec until;
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += SIGIL_IDEM_RENEW_MS / 1000u;
        until.tv_nsec += (long)(SIGIL_IDEM_RENEW_MS % 1000u) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&l->cv, &l->mu, &until);
        if (l->stop)
            break;
        (void)pthread_mutex_unlock(&l->mu);
        bool ok = l->store->ops->idem_renew(l->store, sigil_store_now_ms()) == 0;
        if (ok != !failing)
            gw_log_warn("idempotency leases %s%s",
                        ok ? "renewed again" : "not renewed: ", ok ? "" : sigil_errmsg());
        failing = !ok;
        (void)pthread_mutex_lock(&l->mu);
    }
    (void)pthread_mutex_unlock(&l->mu);
    return NULL;
}

int gw_lease_start(gw_lease **out, sigil_store *store)
{
    gw_lease *l = calloc(1, sizeof(*l));
    *out = NULL;
    ENSURE(l != NULL, SIGIL_E_NO_MEMORY, "idempotency leases: out of memory");
    l->store = store;
    (void)pthread_mutex_init(&l->mu, NULL);
    (void)pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, keeper_main, l) != 0) {
        free(l);
        BAIL(SIGIL_E_INTERNAL, "idempotency leases: cannot start the thread");
    }
    *out = l;
    return 0;
}

void gw_lease_stop(gw_lease *l)
{
    if (l == NULL)
        return;
    (void)pthread_mutex_lock(&l->mu);
    l->stop = true;
    (void)pthread_cond_signal(&l->cv);
    (void)pthread_mutex_unlock(&l->mu);
    (void)pthread_join(l->thread, NULL);
    (void)pthread_mutex_destroy(&l->mu);
    (void)pthread_cond_destroy(&l->cv);
    free(l);
}
