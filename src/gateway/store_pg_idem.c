/*
 * Idempotency reservations on PostgreSQL (store_pg.c has the rest). One
 * row per (tenant, key): INSERT ... ON CONFLICT DO NOTHING reserves it;
 * otherwise the row is locked (SELECT ... FOR UPDATE) and inspected, so two
 * gateways on one database never both get SIGIL_IDEM_NEW for one key. A
 * reservation names its owner (this handle's instance id) and is leased:
 * another gateway takes it over only once the lease has run out, and only
 * the owner may complete or release it.
 */
#include <string.h>

#include "gateway/store_pg_internal.h"

static pg_store *pg(sigil_store *s)
{
    return (pg_store *)s;
}

typedef struct {
    const char *tenant, *key;
    const uint8_t *hash;
    int64_t now;
    const char *owner;
} idem_args;

/* $1 tenant, $2 key; with the hash also $3 hash, $4 now, $5 owner, $6 the
 * lease's end (PQ_IDEM_INSERT, PQ_IDEM_RESET). */
static void idem_params(pg_params *p, const idem_args *a, bool with_hash)
{
    pg_text(p, a->tenant);
    pg_text(p, a->key);
    if (with_hash) {
        pg_blob(p, a->hash, 32);
        pg_int(p, a->now);
        pg_text(p, a->owner);
        pg_int(p, a->now + SIGIL_IDEM_LEASE_MS);
    }
}

/* Inspects the existing row (locked): expired -> reused, same request and
 * finished -> DONE with the response, same request running -> IN_PROGRESS
 * (or taken over once its lease has run out), another request -> MISMATCH. */
static int idem_existing(pg_conn *c, const PGresult *r, const idem_args *a, sigil_idem_state *state,
                         unsigned *status, sigil_buf *body)
{
    uint8_t stored[32];
    pg_params p = {0};
    long n;
    GUARD(pg_col_fixed(r, 0, 0, stored, sizeof(stored), "idempotency hash"));
    int64_t code = pg_get_int(r, 0, 1), created = pg_get_int(r, 0, 3);
    int64_t lease_until = pg_get_int(r, 0, 4);
    bool expired = created < a->now - SIGIL_IDEM_TTL_MS;
    if (!expired && !sigil_store_ct_eq(stored, a->hash, sizeof(stored))) {
        *state = SIGIL_IDEM_MISMATCH;
        return 0;
    }
    if (!expired && code != 0) {
        *state = SIGIL_IDEM_DONE;
        *status = (unsigned)code;
        return pg_col_buf(r, 0, 2, body, "idempotent response");
    }
    if (!expired && a->now < lease_until) {
        *state = SIGIL_IDEM_IN_PROGRESS;
        return 0;
    }
    idem_params(&p, a, true);
    GUARD(pg_changed(c, PQ_IDEM_RESET, &p, &n, "idempotency takeover"));
    *state = SIGIL_IDEM_NEW;
    return 0;
}

static int idem_begin_tx(pg_conn *c, const idem_args *a, sigil_idem_state *state, unsigned *status,
                         sigil_buf *body)
{
    pg_params p = {0};
    PGresult *r;
    long n = 0;
    idem_params(&p, a, true);
    GUARD(pg_changed(c, PQ_IDEM_INSERT, &p, &n, "idempotency reservation"));
    if (n == 1) {
        *state = SIGIL_IDEM_NEW;
        return 0;
    }
    p.n = 2;
    GUARD(pg_run(c, PQ_IDEM_GET, &p, &r, "idempotency lookup"));
    int rc = PQntuples(r) == 1
                 ? idem_existing(c, r, a, state, status, body)
                 : sigil_fail(SIGIL_E_UNAVAILABLE, "store: idempotency record vanished; retry");
    PQclear(r);
    return rc;
}

int pg_idem_begin(sigil_store *base, const char *tenant, const char *idem_key,
                  const uint8_t request_hash[32], int64_t now_ms, sigil_idem_state *state,
                  unsigned *status, sigil_buf *body)
{
    pg_store *s = pg(base);
    idem_args a = {tenant, idem_key, request_hash, now_ms, s->instance};
    pg_params purge = {0};
    pg_conn *c;
    long n;
    pg_int(&purge, now_ms - SIGIL_IDEM_TTL_MS);
    GUARD(pg_acquire(s, &c));
    /* expired records of other keys go first, outside the transaction */
    int rc = pg_changed(c, PQ_IDEM_PURGE, &purge, &n, "idempotency purge");
    if (rc == 0)
        rc = pg_exec(c, "BEGIN", "begin");
    if (rc == 0)
        rc = pg_tx_end(c, idem_begin_tx(c, &a, state, status, body));
    pg_release(s, c);
    return rc;
}

int pg_idem_abort(sigil_store *base, const char *tenant, const char *idem_key)
{
    idem_args a = {tenant, idem_key, NULL, 0, pg(base)->instance};
    pg_params p = {0};
    long n;
    idem_params(&p, &a, false);
    pg_text(&p, a.owner);
    return pg_changed1(pg(base), PQ_IDEM_DELETE, &p, &n, "idempotency release");
}

int pg_idem_renew(sigil_store *base, int64_t now_ms)
{
    pg_params p = {0};
    long n;
    pg_text(&p, pg(base)->instance);
    pg_int(&p, now_ms + SIGIL_IDEM_LEASE_MS);
    return pg_changed1(pg(base), PQ_IDEM_RENEW, &p, &n, "idempotency lease renewal");
}
