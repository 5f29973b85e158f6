/*
 * The audit log on PostgreSQL (store_pg.c has the rest). Appends are
 * group-committed (store_group.c): the leader writes every queued record
 * in one transaction. Each transaction first locks the chain-head row
 * (audit_chain, SELECT ... FOR UPDATE): appends from every gateway sharing
 * the database are serialised there, and the last row is read after the
 * lock is held (READ COMMITTED: a fresh snapshot per statement), so the
 * chain has one order across hosts. The row's counter is never lowered:
 * rows cut from the tail leave a gap, as on SQLite.
 */
#include <stdio.h>
#include <string.h>

#include "gateway/store_pg_internal.h"

typedef struct {
    uint64_t next_seq;
    uint8_t prev[32];
} chain_head;

static pg_store *pg(sigil_store *s)
{
    return (pg_store *)s;
}

/* Inside the write transaction: lock the head row, then read the last row. */
static int chain_head_read(pg_conn *c, chain_head *h)
{
    PGresult *r;
    size_t n;
    GUARD(pg_run(c, PQ_CHAIN_LOCK, NULL, &r, "audit chain lock"));
    bool ok = PQntuples(r) == 1;
    uint64_t counter = ok ? (uint64_t)pg_get_int(r, 0, 0) : 0;
    PQclear(r);
    ENSURE(ok, SIGIL_E_UNAVAILABLE, "store: audit chain head unreadable");
    GUARD(pg_run(c, PQ_AUDIT_HEAD, NULL, &r, "audit chain head"));
    uint64_t last = PQntuples(r) == 1 ? (uint64_t)pg_get_int(r, 0, 0) : 0;
    memset(h->prev, 0, sizeof(h->prev));
    /* a last hash altered out of shape links as zeros: verify reports both */
    const uint8_t *hash = PQntuples(r) == 1 ? pg_get(r, 0, 1, &n) : NULL;
    if (hash != NULL && n == sizeof(h->prev))
        memcpy(h->prev, hash, sizeof(h->prev));
    PQclear(r);
    h->next_seq = (counter > last ? counter : last) + 1;
    return 0;
}

static void receipt_param(pg_params *p, const sigil_audit_record *a)
{
    if (a->receipt == NULL)
        pg_null(p);
    else
        pg_textn(p, a->receipt, a->receipt_len);
}

static void hash_param(pg_params *p, const uint8_t *h)
{
    pg_blob(p, h, 32);
}

/* Appends one row linked to h, and advances h past it. */
static int audit_insert(pg_conn *c, const sigil_audit_record *a, chain_head *h, uint64_t *seq)
{
    uint8_t hash[32];
    pg_params p = {0};
    long n;
    GUARD(sigil_audit_hash(hash, h->prev, h->next_seq, a));
    pg_int(&p, a->time_ms);
    pg_text(&p, a->tenant);
    pg_text(&p, a->key_id);
    pg_text(&p, a->op);
    pg_text(&p, a->action);
    pg_text(&p, a->decision);
    pg_int(&p, a->http_status);
    pg_text(&p, a->error_code);
    hash_param(&p, a->request_hash);
    hash_param(&p, a->output_hash);
    receipt_param(&p, a);
    pg_int(&p, (int64_t)h->next_seq);
    hash_param(&p, h->prev);
    hash_param(&p, hash);
    GUARD(pg_changed(c, PQ_AUDIT_ADD, &p, &n, "audit append"));
    if (seq != NULL)
        *seq = h->next_seq;
    h->next_seq++;
    memcpy(h->prev, hash, sizeof(hash));
    return 0;
}

/* Completes the reservation only while owner (this store handle) holds it. */
static int idem_finish(pg_conn *c, const sigil_audit_record *a, const sigil_idem_outcome *o,
                       const char *owner)
{
    pg_params p = {0};
    long n = 0;
    pg_text(&p, a->tenant);
    pg_text(&p, o->idem_key);
    pg_int(&p, o->status);
    pg_blob(&p, o->body, o->body_len);
    pg_text(&p, owner);
    GUARD(pg_changed(c, PQ_IDEM_FINISH, &p, &n, "idempotency record"));
    ENSURE(n == 1, SIGIL_E_CONFLICT, "Idempotency-Key: the reservation was lost");
    return 0;
}

static int usage_put(pg_conn *c, const sigil_audit_record *a)
{
    const sigil_usage_record *u = a->usage;
    pg_params p = {0};
    long n;
    if (u == NULL)
        return 0;
    pg_text(&p, a->tenant);
    pg_text(&p, a->key_id);
    pg_blob(&p, u->boot_id, sizeof(u->boot_id));
    pg_int(&p, (int64_t)u->seq);
    pg_int(&p, u->time_ms);
    pg_blob(&p, u->report, u->report_len);
    GUARD(pg_changed(c, PQ_USAGE_PUT, &p, &n, "limit usage"));
    pg_params old = {0};
    pg_text(&old, a->tenant);
    pg_text(&old, a->key_id);
    pg_int(&old, a->time_ms - SIGIL_USAGE_KEEP_MS);
    return pg_changed(c, PQ_USAGE_PRUNE, &old, &n, "limit usage purge");
}

/* Writes reqs (one, or a batch linked by next when all is true) in one
 * transaction; the chain-head counter ends at the last seq written. */
static int write_tx(pg_store *s, pg_conn *c, sigil_group_req *reqs, bool all)
{
    chain_head h;
    pg_params p = {0};
    long n;
    GUARD(pg_exec(c, "BEGIN", "begin"));
    int rc = chain_head_read(c, &h);
    for (sigil_group_req *r = reqs; r != NULL && rc == 0; r = all ? r->next : NULL) {
        rc = audit_insert(c, r->a, &h, &r->seq);
        if (rc == 0 && r->idem != NULL)
            rc = idem_finish(c, r->a, r->idem, s->instance);
        if (rc == 0)
            rc = usage_put(c, r->a);
    }
    if (rc == 0) {
        pg_int(&p, (int64_t)(h.next_seq - 1));
        rc = pg_changed(c, PQ_CHAIN_SET, &p, &n, "audit chain head");
    }
    return pg_tx_end(c, rc);
}

/* The leader's batch: one transaction; if it fails, each record is written
 * alone so that one bad record does not take the others down. */
void pg_commit_batch(void *ctx, sigil_group_req *batch)
{
    pg_store *s = ctx;
    pg_conn *c;
    if (pg_acquire(s, &c) != 0) {
        for (sigil_group_req *r = batch; r != NULL; r = r->next)
            sigil_group_fail(r);
        return;
    }
    int rc = write_tx(s, c, batch, true);
    for (sigil_group_req *r = batch; r != NULL; r = r->next) {
        r->rc = rc == 0 ? 0 : write_tx(s, c, r, false);
        if (r->rc != 0)
            sigil_group_fail(r);
    }
    pg_release(s, c);
}

int pg_record_outcome(sigil_store *base, const sigil_audit_record *a,
                      const sigil_idem_outcome *idem, uint64_t *seq)
{
    GUARD(sigil_audit_record_check(a));
    return sigil_group_submit(&pg(base)->group, a, idem, seq);
}

int pg_usage_list(sigil_store *base, const char *tenant, const char *key_id, size_t limit,
                  sigil_store_usage_fn fn, void *ctx)
{
    pg_params p = {0};
    PGresult *r;
    pg_conn *c;
    size_t n;
    int rc = 0;
    pg_text(&p, tenant);
    pg_text(&p, key_id);
    pg_int(&p, (int64_t)limit);
    GUARD(pg_acquire(pg(base), &c));
    rc = pg_run(c, PQ_USAGE_LIST, &p, &r, "limit usage list");
    pg_release(pg(base), c);
    GUARD(rc);
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const uint8_t *v = pg_get(r, i, 0, &n);
        rc = v != NULL && n > 0 && n <= SIGIL_USAGE_REPORT_MAX
                 ? fn(ctx, v, n)
                 : sigil_fail(SIGIL_E_INTERNAL, "store: a limit usage report of a bad size");
    }
    PQclear(r);
    return rc;
}

int pg_usage_prune(sigil_store *base, int64_t before_ms, uint64_t *deleted)
{
    pg_params p = {0};
    long n = 0;
    *deleted = 0;
    pg_int(&p, before_ms);
    GUARD(pg_changed1(pg(base), PQ_USAGE_PRUNE_ALL, &p, &n, "limit usage purge"));
    *deleted = n > 0 ? (uint64_t)n : 0;
    return 0;
}

static int run_audit_list(pg_store *s, bool by_tenant, const pg_params *p, PGresult **r)
{
    pg_conn *c;
    GUARD(pg_acquire(s, &c));
    int rc = pg_run(c, by_tenant ? PQ_AUDIT_LIST_TENANT : PQ_AUDIT_LIST, p, r, "audit list");
    pg_release(s, c);
    return rc;
}

/* Row readers: they never fail; a column the store would not have written
 * (wrong size, an empty or oversized text, a NULL where none is written)
 * marks the row malformed and keeps what can be read. */
typedef struct {
    const PGresult *res;
    int row;
    sigil_audit_row *out;
} row_view;

static void row_text(const row_view *v, int i, char *out, size_t cap, bool nullable)
{
    size_t n;
    const uint8_t *t = pg_get(v->res, v->row, i, &n);
    out[0] = '\0';
    if (t == NULL) {
        v->out->malformed |= !nullable;
        return;
    }
    if (n == 0 || n >= cap || memchr(t, '\0', n) != NULL)
        v->out->malformed = true;
    n = n < cap ? n : cap - 1;
    memcpy(out, t, n);
    out[n] = '\0';
}

static void row_hash(const row_view *v, int i, uint8_t out[32], bool nullable, bool *present)
{
    size_t n;
    const uint8_t *p = pg_get(v->res, v->row, i, &n);
    memset(out, 0, 32);
    if (present != NULL)
        *present = false;
    if (p == NULL || n != 32) {
        v->out->malformed |= p != NULL || !nullable;
        return;
    }
    memcpy(out, p, 32);
    if (present != NULL)
        *present = true;
}

static int64_t row_int(const row_view *v, int i)
{
    v->out->malformed |= PQgetisnull(v->res, v->row, i) || PQgetlength(v->res, v->row, i) != 8;
    return pg_get_int(v->res, v->row, i);
}

/* Columns in AUDIT_COLUMNS order (store_pg.c). */
static void audit_from_row(const PGresult *res, int row, sigil_audit_row *r)
{
    const row_view v = {res, row, r};
    memset(r, 0, sizeof(*r));
    r->seq = (uint64_t)row_int(&v, 0);
    r->time_ms = row_int(&v, 1);
    row_text(&v, 2, r->tenant, sizeof(r->tenant), false);
    row_text(&v, 3, r->key_id, sizeof(r->key_id), true);
    row_text(&v, 4, r->op, sizeof(r->op), false);
    row_text(&v, 5, r->action, sizeof(r->action), true);
    row_text(&v, 6, r->decision, sizeof(r->decision), false);
    int64_t status = row_int(&v, 7);
    r->malformed |= status < 0 || status > 999;
    r->http_status = (unsigned)status;
    row_text(&v, 8, r->error_code, sizeof(r->error_code), true);
    row_hash(&v, 9, r->request_hash, true, &r->has_request_hash);
    row_hash(&v, 10, r->output_hash, true, &r->has_output_hash);
    row_text(&v, 11, r->receipt, sizeof(r->receipt), true);
    r->receipt_len = strlen(r->receipt);
    row_hash(&v, 12, r->prev, false, NULL);
    row_hash(&v, 13, r->hash, false, NULL);
}

/* One statement's rows, read in pages so that a long log is never held in
 * memory whole. */
#define AUDIT_PAGE 1000

int pg_audit_list(sigil_store *base, const char *tenant, uint64_t after_seq, size_t limit,
                  sigil_store_audit_fn fn, void *ctx)
{
    pg_store *s = pg(base);
    sigil_audit_row row;
    size_t left = limit;
    for (;;) {
        pg_params p = {0};
        PGresult *r;
        size_t page = limit != 0 && left < AUDIT_PAGE ? left : AUDIT_PAGE;
        pg_int(&p, (int64_t)after_seq);
        pg_int(&p, (int64_t)page);
        if (tenant != NULL)
            pg_text(&p, tenant);
        GUARD(run_audit_list(s, tenant != NULL, &p, &r));
        int n = PQntuples(r), rc = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            audit_from_row(r, i, &row);
            after_seq = row.seq;
            rc = fn(ctx, &row);
        }
        PQclear(r);
        GUARD(rc);
        left -= limit != 0 ? (size_t)n : 0;
        if ((size_t)n < page || (limit != 0 && left == 0))
            return 0;
    }
}

int pg_audit_head(sigil_store *base, uint64_t *seq, uint8_t hash[32])
{
    pg_store *s = pg(base);
    pg_conn *c;
    PGresult *r;
    size_t n;
    *seq = 0;
    memset(hash, 0, 32);
    GUARD(pg_acquire(s, &c));
    int rc = pg_run(c, PQ_AUDIT_HEAD, NULL, &r, "audit head");
    pg_release(s, c);
    GUARD(rc);
    if (PQntuples(r) == 1) {
        *seq = (uint64_t)pg_get_int(r, 0, 0);
        const uint8_t *h = pg_get(r, 0, 1, &n);
        if (h != NULL && n == 32)
            memcpy(hash, h, 32);
    }
    PQclear(r);
    return 0;
}
