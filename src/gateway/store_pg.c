/*
 * PostgreSQL back-end of the gateway store (store.h, store_pg.h). Untrusted
 * host code; nothing secret is stored (token hashes, sealed blobs). A pool
 * of PG_POOL connections per store handle, opened on first use, each with
 * every statement prepared; all parameters and results in binary format.
 * The same versioned migrations as SQLite (recorded in schema_version),
 * applied in one transaction under an advisory lock so that gateways
 * starting together migrate once. Idempotency: store_pg_idem.c; audit
 * records: store_pg_audit.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/store_pg_internal.h"

#define MIGRATION_LOCK "SELECT pg_advisory_xact_lock(5373217417)" /* "sigil" */
/* A row or table lock held elsewhere longer than this fails the operation
 * (SIGIL_E_UNAVAILABLE) instead of stalling it: SQLite's busy timeout. */
#define LOCK_TIMEOUT "SET lock_timeout = 5000"

/* ---- Migrations: append only, one per SQLite migration of the same
 * number (store_sqlite.c), in PostgreSQL's types. No PostgreSQL database
 * predates version 2, so version 2 needs no chain backfill; it adds the
 * chain-head row that serialises appends (store_pg_audit.c). ---- */
static const char *const MIGRATIONS[] = {
    /* 1: initial schema */
    "CREATE TABLE tenants (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL);"
    "CREATE TABLE tokens (id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(name),"
    " secret_hash BYTEA NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT);"
    "CREATE INDEX tokens_tenant ON tokens(tenant);"
    "CREATE TABLE keys (key_id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(name),"
    " venue TEXT NOT NULL, network TEXT NOT NULL, key_type TEXT NOT NULL, address TEXT,"
    " policy_hash BYTEA NOT NULL, blob BYTEA NOT NULL, created_at BIGINT NOT NULL,"
    " deleted_at BIGINT);"
    "CREATE INDEX keys_tenant ON keys(tenant);"
    "CREATE TABLE idempotency (tenant TEXT NOT NULL, idem_key TEXT NOT NULL,"
    " request_hash BYTEA NOT NULL, status BIGINT NOT NULL DEFAULT 0, response BYTEA,"
    " created_at BIGINT NOT NULL, PRIMARY KEY (tenant, idem_key));"
    "CREATE INDEX idempotency_created ON idempotency(created_at);"
    "CREATE TABLE audit (seq BIGINT PRIMARY KEY, time_ms BIGINT NOT NULL,"
    " tenant TEXT NOT NULL, key_id TEXT, op TEXT NOT NULL, action TEXT, decision TEXT NOT NULL,"
    " http_status BIGINT NOT NULL, error_code TEXT, request_hash BYTEA, output_hash BYTEA);"
    "CREATE TABLE boots (boot_id BYTEA PRIMARY KEY, document BYTEA NOT NULL,"
    " measurement BYTEA NOT NULL, created_at BIGINT NOT NULL);"
    "CREATE TABLE enclave_state (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seed_ciphertext BYTEA NOT NULL);",
    /* 2: receipts and the hash chain in the audit log, policy versions */
    "ALTER TABLE audit ADD COLUMN receipt TEXT;"
    "ALTER TABLE audit ADD COLUMN prev BYTEA;"
    "ALTER TABLE audit ADD COLUMN hash BYTEA;"
    "CREATE INDEX audit_tenant ON audit(tenant, seq);"
    "ALTER TABLE keys ADD COLUMN policy_version BIGINT NOT NULL DEFAULT 0;"
    "CREATE TABLE audit_chain (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL);"
    "INSERT INTO audit_chain (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit;",
    /* 3: idempotency reservations owned by a store handle and leased */
    "ALTER TABLE idempotency ADD COLUMN owner TEXT;"
    "ALTER TABLE idempotency ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;"
    "UPDATE idempotency SET lease_until = created_at + 300000 WHERE status = 0;"
    "CREATE INDEX idempotency_owner ON idempotency(owner) WHERE status = 0;",
    /* 4: each enclave boot's latest limit usage per key (docs/POLICY.md) */
    "CREATE TABLE limit_usage (tenant TEXT NOT NULL, key_id TEXT NOT NULL,"
    " boot_id BYTEA NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL,"
    " report BYTEA NOT NULL, PRIMARY KEY (tenant, key_id, boot_id));",
    /* 5: key lifecycle: state, client key bound (NULL: not recorded), revocations */
    "ALTER TABLE keys ADD COLUMN state TEXT NOT NULL DEFAULT 'active'"
    " CHECK (state IN ('active', 'disabled', 'revoked'));"
    "ALTER TABLE keys ADD COLUMN client_key BIGINT;"
    "CREATE TABLE revocations (seq BIGSERIAL, tenant TEXT NOT NULL, key_id TEXT NOT NULL,"
    " signature BYTEA NOT NULL, blob BYTEA NOT NULL, created_at BIGINT NOT NULL,"
    " PRIMARY KEY (tenant, key_id));",
};

#define TOKEN_COLUMNS "id, tenant, secret_hash, created_at, revoked_at"
#define KEY_COLUMNS                                                                                \
    "key_id, tenant, venue, network, key_type, address, policy_hash, created_at, deleted_at,"      \
    " policy_version, state, client_key"
#define KEY_BLOB_COLUMN 12
#define AUDIT_COLUMNS                                                                              \
    "seq, time_ms, tenant, key_id, op, action, decision, http_status, error_code,"                 \
    " request_hash, output_hash, receipt, prev, hash"
#define C_ORDER(col) col " COLLATE \"C\"" /* byte order, as SQLite sorts */

static const char *const QUERIES[PQ_COUNT_] = {
    [PQ_TENANT_ADD] = "INSERT INTO tenants (name, created_at) VALUES ($1, $2)",
    [PQ_TENANT_EXISTS] = "SELECT 1 FROM tenants WHERE name = $1",
    [PQ_TENANT_LIST] = "SELECT name, created_at FROM tenants ORDER BY " C_ORDER("name"),
    /* the tenant must exist: no row inserted otherwise */
    [PQ_TOKEN_ADD] = "INSERT INTO tokens (id, tenant, secret_hash, created_at)"
                     " SELECT $1::text, $2::text, $3::bytea, $4::bigint"
                     " WHERE EXISTS (SELECT 1 FROM tenants WHERE name = $2::text)",
    [PQ_TOKEN_GET] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = $1",
    [PQ_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS " FROM tokens"
                      " ORDER BY " C_ORDER("tenant") ", created_at, " C_ORDER("id"),
    [PQ_TOKEN_LIST_TENANT] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE tenant = $1"
                             " ORDER BY created_at, " C_ORDER("id"),
    [PQ_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
    [PQ_KEY_PUT] = "INSERT INTO keys (key_id, tenant, venue, network, key_type, address,"
                   " policy_hash, blob, created_at, policy_version, client_key)"
                   " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
    [PQ_KEY_GET] = "SELECT " KEY_COLUMNS ", blob FROM keys"
                   " WHERE key_id = $1 AND tenant = $2 AND deleted_at IS NULL",
    [PQ_KEY_LIST] = "SELECT " KEY_COLUMNS " FROM keys WHERE tenant = $1 AND deleted_at IS NULL"
                    " ORDER BY created_at, " C_ORDER("key_id"),
    [PQ_KEY_DELETE] = "UPDATE keys SET deleted_at = $3 WHERE key_id = $1 AND tenant = $2"
                      " AND deleted_at IS NULL",
    [PQ_KEY_POLICY] = "SELECT policy_hash FROM keys WHERE key_id = $1 AND tenant = $2"
                      " AND deleted_at IS NULL FOR UPDATE",
    [PQ_KEY_UPDATE] = "UPDATE keys SET blob = $3, policy_hash = $4, policy_version = $5,"
                      " key_type = $6, address = $7"
                      " WHERE key_id = $1 AND tenant = $2 AND deleted_at IS NULL",
    [PQ_KEY_STATE_SET] = "UPDATE keys SET state = $4 WHERE key_id = $1 AND tenant = $2"
                         " AND deleted_at IS NULL AND state IN ($3, $4)",
    [PQ_KEY_STATE_GET] = "SELECT state FROM keys WHERE key_id = $1 AND tenant = $2"
                         " AND deleted_at IS NULL",
    /* one statement, so one transaction: the row and the key's mark */
    [PQ_REVOCATION_PUT] = "WITH stored AS (INSERT INTO revocations (tenant, key_id, signature,"
                          " blob, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING)"
                          " UPDATE keys SET state = 'revoked' WHERE tenant = $1 AND key_id = $2",
    [PQ_REVOCATION_LIST] = "SELECT tenant, key_id, signature, created_at, blob FROM revocations"
                           " ORDER BY seq",
    [PQ_REVOCATION_COUNT] = "SELECT COUNT(*) FROM revocations",
    [PQ_IDEM_PURGE] = "DELETE FROM idempotency WHERE created_at < $1",
    /* $1 tenant, $2 key, $3 request hash, $4 now, $5 owner, $6 lease end */
    [PQ_IDEM_INSERT] = "INSERT INTO idempotency (tenant, idem_key, request_hash, status,"
                       " created_at, owner, lease_until) VALUES ($1, $2, $3, 0, $4, $5, $6)"
                       " ON CONFLICT DO NOTHING",
    [PQ_IDEM_GET] = "SELECT request_hash, status, response, created_at, lease_until"
                    " FROM idempotency WHERE tenant = $1 AND idem_key = $2 FOR UPDATE",
    /* a takeover (lease run out) or an expired record reused */
    [PQ_IDEM_RESET] = "UPDATE idempotency SET request_hash = $3, created_at = $4, status = 0,"
                      " response = NULL, owner = $5, lease_until = $6"
                      " WHERE tenant = $1 AND idem_key = $2",
    [PQ_IDEM_DELETE] = "DELETE FROM idempotency WHERE tenant = $1 AND idem_key = $2"
                       " AND status = 0 AND owner = $3",
    [PQ_IDEM_FINISH] = "UPDATE idempotency SET status = $3, response = $4"
                       " WHERE tenant = $1 AND idem_key = $2 AND status = 0 AND owner = $5",
    [PQ_IDEM_RENEW] = "UPDATE idempotency SET lease_until = $2 WHERE owner = $1 AND status = 0",
    [PQ_AUDIT_ADD] = "INSERT INTO audit (time_ms, tenant, key_id, op, action, decision,"
                     " http_status, error_code, request_hash, output_hash, receipt, seq, prev,"
                     " hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
    [PQ_AUDIT_LIST] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
    [PQ_AUDIT_LIST_TENANT] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE seq > $1 AND tenant = $3"
                             " ORDER BY seq LIMIT $2",
    /* The chain head: the counter row, locked until commit (it serialises
     * appends across gateways), then the last row as this statement's
     * fresh snapshot sees it. Rows cut from the tail leave a gap. */
    [PQ_CHAIN_LOCK] = "SELECT seq FROM audit_chain WHERE id = 1 FOR UPDATE",
    [PQ_CHAIN_SET] = "UPDATE audit_chain SET seq = $1 WHERE id = 1",
    [PQ_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [PQ_USAGE_PUT] = "INSERT INTO limit_usage (tenant, key_id, boot_id, seq, time_ms, report)"
                     " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, key_id, boot_id)"
                     " DO UPDATE SET seq = excluded.seq, time_ms = excluded.time_ms,"
                     " report = excluded.report WHERE excluded.seq > limit_usage.seq",
    [PQ_USAGE_LIST] = "SELECT report FROM limit_usage WHERE tenant = $1 AND key_id = $2"
                      " ORDER BY time_ms DESC LIMIT $3",
    [PQ_USAGE_PRUNE] = "DELETE FROM limit_usage WHERE tenant = $1 AND key_id = $2"
                       " AND time_ms < $3",
    [PQ_USAGE_PRUNE_ALL] = "DELETE FROM limit_usage WHERE time_ms < $1",
    [PQ_BOOT_PUT] = "INSERT INTO boots (boot_id, document, measurement, created_at)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    [PQ_BOOT_GET] = "SELECT measurement, created_at, document FROM boots WHERE boot_id = $1",
    [PQ_SEED_GET] = "SELECT seed_ciphertext FROM enclave_state WHERE id = 1",
    [PQ_SEED_PUT] = "INSERT INTO enclave_state (id, seed_ciphertext) VALUES (1, $1)"
                    " ON CONFLICT (id) DO UPDATE SET seed_ciphertext = excluded.seed_ciphertext",
};

static pg_store *pg(sigil_store *s)
{
    return (pg_store *)s;
}

/* ---- parameters ---- */
static void put_param(pg_params *p, const void *v, size_t n)
{
    p->v[p->n] = v;
    p->len[p->n] = (int)n;
    p->fmt[p->n] = 1;
    p->n++;
}

void pg_null(pg_params *p)
{
    put_param(p, NULL, 0);
}

void pg_textn(pg_params *p, const char *s, size_t n)
{
    put_param(p, s, n);
}

void pg_text(pg_params *p, const char *s)
{
    put_param(p, s, s != NULL ? strlen(s) : 0);
}

void pg_blob(pg_params *p, const void *b, size_t n)
{
    put_param(p, b == NULL ? NULL : n == 0 ? "" : b, n);
}

void pg_int(pg_params *p, int64_t v)
{
    uint8_t *o = p->ints[p->n];
    for (int i = 0; i < 8; i++)
        o[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    put_param(p, o, 8);
}

int64_t pg_get_int(const PGresult *r, int row, int col)
{
    const uint8_t *b = (const uint8_t *)PQgetvalue(r, row, col);
    uint64_t v = 0;
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
        return 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return (int64_t)v;
}

const uint8_t *pg_get(const PGresult *r, int row, int col, size_t *len)
{
    *len = 0;
    if (PQgetisnull(r, row, col))
        return NULL;
    *len = (size_t)PQgetlength(r, row, col);
    return (const uint8_t *)PQgetvalue(r, row, col);
}

/* ---- errors: SQLSTATE classes to sigil errors ---- */
static const struct {
    const char *prefix;
    sigil_err code;
    bool exists; /* "what: already exists" */
} SQLSTATES[] = {
    {"23", SIGIL_E_CONFLICT, true},     /* integrity constraint violation */
    {"40", SIGIL_E_UNAVAILABLE, false}, /* serialization failure, deadlock: retry */
    {"", SIGIL_E_UNAVAILABLE, false},   /* connection lost, server down, anything else */
};

static void trim_copy(char *out, size_t cap, const char *msg)
{
    snprintf(out, cap, "%s", msg != NULL && msg[0] != '\0' ? msg : "no reply from the server");
    out[strcspn(out, "\r\n")] = '\0';
}

static int pg_fail(pg_conn *c, const PGresult *r, const char *what)
{
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[256];
    trim_copy(msg, sizeof(msg), primary != NULL ? primary : PQerrorMessage(c->conn));
    if (PQstatus(c->conn) != CONNECTION_OK) {
        PQfinish(c->conn); /* reconnect on next use */
        c->conn = NULL;
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SQLSTATES); i++) {
        if (state != NULL ? strncmp(state, SQLSTATES[i].prefix, strlen(SQLSTATES[i].prefix)) != 0
                          : SQLSTATES[i].prefix[0] != '\0')
            continue;
        if (SQLSTATES[i].exists)
            return sigil_fail(SQLSTATES[i].code, "%s: already exists", what);
        return sigil_fail(SQLSTATES[i].code, "store: %s failed: %s", what, msg);
    }
    return sigil_fail(SIGIL_E_UNAVAILABLE, "store: %s failed: %s", what, msg);
}

static bool res_ok(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static int prepare(pg_conn *c, int q, const char *name);

static int lost(void)
{
    BAIL(SIGIL_E_UNAVAILABLE, "store: the PostgreSQL connection was lost");
}

int pg_run(pg_conn *c, int q, const pg_params *p, PGresult **res, const char *what)
{
    char name[16];
    static const pg_params NONE = {.n = 0};
    p = p != NULL ? p : &NONE;
    snprintf(name, sizeof(name), "q%d", q);
    *res = NULL;
    if (c->conn == NULL)
        return lost();
    GUARD(prepare(c, q, name));
    *res = PQexecPrepared(c->conn, name, p->n, p->v, p->len, p->fmt, 1);
    if (*res != NULL && res_ok(*res))
        return 0;
    int rc = pg_fail(c, *res, what);
    PQclear(*res);
    *res = NULL;
    return rc;
}

int pg_changed(pg_conn *c, int q, const pg_params *p, long *n, const char *what)
{
    PGresult *r;
    GUARD(pg_run(c, q, p, &r, what));
    *n = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

int pg_exec(pg_conn *c, const char *sql, const char *what)
{
    if (c->conn == NULL)
        return lost();
    PGresult *r = PQexec(c->conn, sql);
    int rc = r != NULL && res_ok(r) ? 0 : pg_fail(c, r, what);
    PQclear(r);
    return rc;
}

int pg_tx_end(pg_conn *c, int rc)
{
    if (rc == 0)
        rc = pg_exec(c, "COMMIT", "commit");
    if (rc != 0 && c->conn != NULL && PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
        sigil_err e = sigil_errno();
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
        (void)pg_exec(c, "ROLLBACK", "rollback");
        (void)sigil_fail(e, "%s", msg);
    }
    return rc;
}

/* ---- connections ---- */
static int prepare(pg_conn *c, int q, const char *name)
{
    if (c->prepared[q])
        return 0;
    PGresult *r = PQprepare(c->conn, name, QUERIES[q], 0, NULL);
    int rc = r != NULL && res_ok(r) ? 0 : pg_fail(c, r, "prepare");
    PQclear(r);
    GUARD(rc);
    c->prepared[q] = true;
    return 0;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* notices ("already exists, skipping") are not errors */
}

static int connect_one(pg_store *s, pg_conn *c)
{
    char msg[256];
    c->conn = PQconnectdb(s->url);
    if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
        trim_copy(msg, sizeof(msg), c->conn != NULL ? PQerrorMessage(c->conn) : NULL);
        PQfinish(c->conn);
        c->conn = NULL;
        BAIL(SIGIL_E_UNAVAILABLE, "store: cannot connect to PostgreSQL: %s", msg);
    }
    memset(c->prepared, 0, sizeof(c->prepared));
    (void)PQsetNoticeProcessor(c->conn, quiet, NULL);
    if (pg_exec(c, s->full_sync ? "SET synchronous_commit = on" : "SET synchronous_commit = off",
                "synchronous_commit") != 0 ||
        pg_exec(c, LOCK_TIMEOUT, "lock_timeout") != 0) {
        PQfinish(c->conn);
        c->conn = NULL;
        return -1;
    }
    return 0;
}

int pg_acquire(pg_store *s, pg_conn **out)
{
    pg_conn *c = NULL;
    (void)pthread_mutex_lock(&s->mu);
    for (;;) {
        for (size_t i = 0; i < PG_POOL && c == NULL; i++)
            if (!s->pool[i].busy && s->pool[i].conn != NULL)
                c = &s->pool[i];
        for (size_t i = 0; i < PG_POOL && c == NULL; i++)
            if (!s->pool[i].busy)
                c = &s->pool[i];
        if (c != NULL)
            break;
        (void)pthread_cond_wait(&s->cv, &s->mu);
    }
    c->busy = true;
    (void)pthread_mutex_unlock(&s->mu);
    if (c->conn == NULL && connect_one(s, c) != 0) {
        pg_release(s, c);
        return -1;
    }
    *out = c;
    return 0;
}

void pg_release(pg_store *s, pg_conn *c)
{
    (void)pthread_mutex_lock(&s->mu);
    c->busy = false;
    (void)pthread_cond_signal(&s->cv);
    (void)pthread_mutex_unlock(&s->mu);
}

/* One statement on a pooled connection; *res as in pg_run. */
static int run1(pg_store *s, int q, const pg_params *p, PGresult **res, const char *what)
{
    pg_conn *c;
    GUARD(pg_acquire(s, &c));
    int rc = pg_run(c, q, p, res, what);
    pg_release(s, c);
    return rc;
}

int pg_changed1(pg_store *s, int q, const pg_params *p, long *n, const char *what)
{
    pg_conn *c;
    GUARD(pg_acquire(s, &c));
    int rc = pg_changed(c, q, p, n, what);
    pg_release(s, c);
    return rc;
}

/* A statement that must change exactly one row (else NOT_FOUND "missing"). */
static int change_one(pg_store *s, int q, const pg_params *p, const char *what, const char *missing)
{
    long n = 0;
    GUARD(pg_changed1(s, q, p, &n, what));
    ENSURE(n == 1, SIGIL_E_NOT_FOUND, "%s", missing);
    return 0;
}

static int col_text(const PGresult *r, int row, int col, char *out, size_t cap, const char *what)
{
    size_t n;
    const uint8_t *t = pg_get(r, row, col, &n);
    out[0] = '\0';
    if (t == NULL)
        return 0;
    ENSURE(n < cap, SIGIL_E_INTERNAL, "store: %s longer than expected", what);
    memcpy(out, t, n);
    out[n] = '\0';
    return 0;
}

int pg_col_fixed(const PGresult *r, int row, int col, uint8_t *out, size_t n, const char *what)
{
    size_t len;
    const uint8_t *p = pg_get(r, row, col, &len);
    ENSURE(p != NULL && len == n, SIGIL_E_INTERNAL, "store: %s has the wrong size", what);
    memcpy(out, p, n);
    return 0;
}

int pg_col_buf(const PGresult *r, int row, int col, sigil_buf *out, const char *what)
{
    size_t n;
    const uint8_t *p = pg_get(r, row, col, &n);
    out->len = 0;
    ENSURE(n <= out->cap, SIGIL_E_TOO_LARGE, "store: %s larger than the buffer", what);
    if (n > 0)
        memcpy(out->data, p, n);
    out->len = n;
    return 0;
}

/* ---- tenants ---- */
static int pgs_tenant_add(sigil_store *base, const char *name, int64_t now_ms)
{
    pg_params p = {0};
    long n;
    GUARD(sigil_tenant_name_check(name, strnlen(name, SIGIL_TENANT_MAX + 1)));
    pg_text(&p, name);
    pg_int(&p, now_ms);
    return pg_changed1(pg(base), PQ_TENANT_ADD, &p, &n, "tenant");
}

static int pgs_tenant_exists(sigil_store *base, const char *name, bool *exists)
{
    pg_params p = {0};
    PGresult *r;
    pg_text(&p, name);
    GUARD(run1(pg(base), PQ_TENANT_EXISTS, &p, &r, "tenant lookup"));
    *exists = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

static int pgs_tenant_list(sigil_store *base, sigil_store_tenant_fn fn, void *ctx)
{
    PGresult *r;
    char name[SIGIL_TENANT_MAX + 1];
    int rc = 0;
    GUARD(run1(pg(base), PQ_TENANT_LIST, NULL, &r, "tenant list"));
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        rc = col_text(r, i, 0, name, sizeof(name), "tenant name");
        if (rc == 0)
            rc = fn(ctx, name, pg_get_int(r, i, 1));
    }
    PQclear(r);
    return rc;
}

/* ---- tokens ---- */
static int pgs_token_add(sigil_store *base, const sigil_token_record *t)
{
    pg_params p = {0};
    pg_text(&p, t->id);
    pg_text(&p, t->tenant);
    pg_blob(&p, t->secret_hash, sizeof(t->secret_hash));
    pg_int(&p, t->created_ms);
    return change_one(pg(base), PQ_TOKEN_ADD, &p, "token", "tenant: no such tenant");
}

static int token_from_row(const PGresult *r, int i, sigil_token_record *out)
{
    memset(out, 0, sizeof(*out));
    GUARD(col_text(r, i, 0, out->id, sizeof(out->id), "token id"));
    GUARD(col_text(r, i, 1, out->tenant, sizeof(out->tenant), "token tenant"));
    GUARD(pg_col_fixed(r, i, 2, out->secret_hash, sizeof(out->secret_hash), "token hash"));
    out->created_ms = pg_get_int(r, i, 3);
    out->revoked_ms = pg_get_int(r, i, 4);
    return 0;
}

static int pgs_token_get(sigil_store *base, const char *id, sigil_token_record *out)
{
    pg_params p = {0};
    PGresult *r;
    pg_text(&p, id);
    GUARD(run1(pg(base), PQ_TOKEN_GET, &p, &r, "token lookup"));
    int rc = PQntuples(r) == 1 ? token_from_row(r, 0, out)
                               : sigil_fail(SIGIL_E_NOT_FOUND, "token: no such token");
    PQclear(r);
    return rc;
}

static int pgs_token_list(sigil_store *base, const char *tenant, sigil_store_token_fn fn, void *ctx)
{
    pg_params p = {0};
    PGresult *r;
    sigil_token_record t;
    int rc = 0;
    if (tenant != NULL)
        pg_text(&p, tenant);
    GUARD(run1(pg(base), tenant == NULL ? PQ_TOKEN_LIST : PQ_TOKEN_LIST_TENANT, &p, &r,
               "token list"));
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        rc = token_from_row(r, i, &t);
        if (rc == 0)
            rc = fn(ctx, &t);
    }
    PQclear(r);
    return rc;
}

static int pgs_token_revoke(sigil_store *base, const char *id, int64_t now_ms)
{
    pg_params p = {0};
    pg_text(&p, id);
    pg_int(&p, now_ms);
    return change_one(pg(base), PQ_TOKEN_REVOKE, &p, "token revoke", "token: no such active token");
}

/* ---- keys ---- */
static int pgs_key_put(sigil_store *base, const sigil_key_record *k, const uint8_t *blob,
                       size_t blob_len)
{
    pg_params p = {0};
    long n;
    ENSURE(blob != NULL && blob_len > 0, SIGIL_E_INTERNAL, "store: key without a blob");
    pg_text(&p, k->key_id);
    pg_text(&p, k->tenant);
    pg_text(&p, k->venue);
    pg_text(&p, k->network);
    pg_text(&p, k->key_type);
    pg_text(&p, k->address[0] != '\0' ? k->address : NULL);
    pg_blob(&p, k->policy_hash, sizeof(k->policy_hash));
    pg_blob(&p, blob, blob_len);
    pg_int(&p, k->created_ms);
    pg_int(&p, (int64_t)k->policy_version);
    if (k->client_key >= 0)
        pg_int(&p, k->client_key);
    else
        pg_null(&p);
    return pg_changed1(pg(base), PQ_KEY_PUT, &p, &n, "key");
}

static int key_from_row(const PGresult *r, int i, sigil_key_record *out)
{
    memset(out, 0, sizeof(*out));
    GUARD(col_text(r, i, 0, out->key_id, sizeof(out->key_id), "key id"));
    GUARD(col_text(r, i, 1, out->tenant, sizeof(out->tenant), "key tenant"));
    GUARD(col_text(r, i, 2, out->venue, sizeof(out->venue), "key venue"));
    GUARD(col_text(r, i, 3, out->network, sizeof(out->network), "key network"));
    GUARD(col_text(r, i, 4, out->key_type, sizeof(out->key_type), "key type"));
    GUARD(col_text(r, i, 5, out->address, sizeof(out->address), "key address"));
    GUARD(pg_col_fixed(r, i, 6, out->policy_hash, sizeof(out->policy_hash), "policy hash"));
    out->created_ms = pg_get_int(r, i, 7);
    out->deleted_ms = pg_get_int(r, i, 8);
    out->policy_version = (uint64_t)pg_get_int(r, i, 9);
    char state[16];
    size_t n = 0;
    GUARD(col_text(r, i, 10, state, sizeof(state), "key state"));
    GUARD(sigil_key_state_parse(&out->state, state));
    out->client_key = pg_get(r, i, 11, &n) == NULL ? -1 : pg_get_int(r, i, 11) != 0 ? 1 : 0;
    return 0;
}

static void key_params(pg_params *p, const char *tenant, const char *key_id)
{
    pg_text(p, key_id);
    pg_text(p, tenant);
}

static int pgs_key_get(sigil_store *base, const char *tenant, const char *key_id,
                       sigil_key_record *out, sigil_buf *blob)
{
    pg_params p = {0};
    PGresult *r;
    key_params(&p, tenant, key_id);
    GUARD(run1(pg(base), PQ_KEY_GET, &p, &r, "key lookup"));
    int rc = PQntuples(r) == 1 ? key_from_row(r, 0, out)
                               : sigil_fail(SIGIL_E_NOT_FOUND, "key_id: no such key");
    if (rc == 0 && blob != NULL)
        rc = pg_col_buf(r, 0, KEY_BLOB_COLUMN, blob, "key blob");
    PQclear(r);
    return rc;
}

static int pgs_key_list(sigil_store *base, const char *tenant, sigil_store_key_fn fn, void *ctx)
{
    pg_params p = {0};
    PGresult *r;
    sigil_key_record k;
    int rc = 0;
    pg_text(&p, tenant);
    GUARD(run1(pg(base), PQ_KEY_LIST, &p, &r, "key list"));
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        rc = key_from_row(r, i, &k);
        if (rc == 0)
            rc = fn(ctx, &k);
    }
    PQclear(r);
    return rc;
}

static int pgs_key_delete(sigil_store *base, const char *tenant, const char *key_id, int64_t now_ms)
{
    pg_params p = {0};
    key_params(&p, tenant, key_id);
    pg_int(&p, now_ms);
    return change_one(pg(base), PQ_KEY_DELETE, &p, "key delete", "key_id: no such key");
}

/* The key-update compare-and-swap (policy update, rotation, rewrap): the
 * row locked, its hash compared, then replaced, in one transaction. */
static int key_update_tx(pg_conn *c, const char *tenant, const char *key_id, const uint8_t *old,
                         const sigil_key_record *k, const uint8_t *blob, size_t blob_len)
{
    pg_params p = {0};
    PGresult *r;
    uint8_t stored[32];
    long n = 0;
    key_params(&p, tenant, key_id);
    GUARD(pg_run(c, PQ_KEY_POLICY, &p, &r, "key lookup"));
    int rc = PQntuples(r) == 1 ? pg_col_fixed(r, 0, 0, stored, sizeof(stored), "policy hash")
                               : sigil_fail(SIGIL_E_NOT_FOUND, "key_id: no such key");
    PQclear(r);
    GUARD(rc);
    ENSURE(sigil_store_ct_eq(stored, old, sizeof(stored)), SIGIL_E_CONFLICT,
           "key_id: key changed concurrently");
    pg_blob(&p, blob, blob_len);
    pg_blob(&p, k->policy_hash, sizeof(k->policy_hash));
    pg_int(&p, (int64_t)k->policy_version);
    pg_text(&p, k->key_type);
    pg_text(&p, k->address[0] != '\0' ? k->address : NULL);
    GUARD(pg_changed(c, PQ_KEY_UPDATE, &p, &n, "key update"));
    ENSURE(n == 1, SIGIL_E_NOT_FOUND, "key_id: no such key");
    return 0;
}

static int pgs_key_update(sigil_store *base, const char *tenant, const char *key_id,
                          const uint8_t old_policy_hash[32], const sigil_key_record *k,
                          const uint8_t *blob, size_t blob_len)
{
    pg_store *s = pg(base);
    pg_conn *c;
    ENSURE(blob != NULL && blob_len > 0, SIGIL_E_INTERNAL, "store: key without a blob");
    GUARD(pg_acquire(s, &c));
    int rc = pg_exec(c, "BEGIN", "begin");
    if (rc == 0)
        rc = pg_tx_end(c, key_update_tx(c, tenant, key_id, old_policy_hash, k, blob, blob_len));
    pg_release(s, c);
    return rc;
}

/* ---- key lifecycle ---- */
/* Why no row moved: the key is revoked, or there is no such live key. */
static int state_unchanged(pg_store *s, const char *tenant, const char *key_id)
{
    pg_params p = {0};
    PGresult *r;
    char state[16];
    sigil_key_state ks = SIGIL_KEY_ACTIVE;
    key_params(&p, tenant, key_id);
    GUARD(run1(s, PQ_KEY_STATE_GET, &p, &r, "key lookup"));
    int rc = PQntuples(r) == 1 ? col_text(r, 0, 0, state, sizeof(state), "key state")
                               : sigil_fail(SIGIL_E_NOT_FOUND, "key_id: no such key");
    PQclear(r);
    GUARD(rc);
    GUARD(sigil_key_state_parse(&ks, state));
    ENSURE(ks != SIGIL_KEY_REVOKED, SIGIL_E_REVOKED, "key: revoked by its owner");
    BAIL(SIGIL_E_CONFLICT, "key: state is %s", state);
}

static int pgs_key_set_state(sigil_store *base, const char *tenant, const char *key_id,
                             sigil_key_state from, sigil_key_state to)
{
    pg_params p = {0};
    long n = 0;
    key_params(&p, tenant, key_id);
    pg_text(&p, sigil_key_state_name(from));
    pg_text(&p, sigil_key_state_name(to));
    GUARD(pg_changed1(pg(base), PQ_KEY_STATE_SET, &p, &n, "key state"));
    return n == 1 ? 0 : state_unchanged(pg(base), tenant, key_id);
}

static int pgs_revocation_put(sigil_store *base, const sigil_revocation_record *rec,
                              const uint8_t *blob, size_t blob_len)
{
    pg_params p = {0};
    long n = 0;
    ENSURE(blob != NULL && blob_len > 0, SIGIL_E_INTERNAL, "store: revocation without a blob");
    pg_text(&p, rec->tenant);
    pg_text(&p, rec->key_id);
    pg_blob(&p, rec->signature, sizeof(rec->signature));
    pg_blob(&p, blob, blob_len);
    pg_int(&p, rec->created_ms);
    return pg_changed1(pg(base), PQ_REVOCATION_PUT, &p, &n, "revocation");
}

static int revocation_from_row(const PGresult *r, int i, sigil_revocation_record *out)
{
    memset(out, 0, sizeof(*out));
    GUARD(col_text(r, i, 0, out->tenant, sizeof(out->tenant), "revocation tenant"));
    GUARD(col_text(r, i, 1, out->key_id, sizeof(out->key_id), "revocation key id"));
    GUARD(pg_col_fixed(r, i, 2, out->signature, sizeof(out->signature), "revocation signature"));
    out->created_ms = pg_get_int(r, i, 3);
    return 0;
}

static int pgs_revocation_list(sigil_store *base, sigil_store_revocation_fn fn, void *ctx)
{
    PGresult *r;
    sigil_revocation_record rec;
    int rc = 0;
    GUARD(run1(pg(base), PQ_REVOCATION_LIST, NULL, &r, "revocation list"));
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        size_t n = 0;
        const uint8_t *blob = pg_get(r, i, 4, &n);
        rc = revocation_from_row(r, i, &rec);
        if (rc == 0)
            rc = fn(ctx, &rec, blob, n);
    }
    PQclear(r);
    return rc;
}

static int pgs_revocation_count(sigil_store *base, uint64_t *n)
{
    PGresult *r;
    GUARD(run1(pg(base), PQ_REVOCATION_COUNT, NULL, &r, "revocation count"));
    *n = PQntuples(r) == 1 ? (uint64_t)pg_get_int(r, 0, 0) : 0;
    PQclear(r);
    return 0;
}

/* ---- boots and the seed ---- */
static int pgs_boot_put(sigil_store *base, const sigil_boot_record *b, const uint8_t *doc,
                        size_t doc_len)
{
    pg_params p = {0};
    long n;
    ENSURE(doc != NULL && doc_len > 0, SIGIL_E_INTERNAL, "store: boot without a document");
    pg_blob(&p, b->boot_id, sizeof(b->boot_id));
    pg_blob(&p, doc, doc_len);
    pg_blob(&p, b->measurement, sizeof(b->measurement));
    pg_int(&p, b->created_ms);
    return pg_changed1(pg(base), PQ_BOOT_PUT, &p, &n, "boot archive");
}

static int pgs_boot_get(sigil_store *base, const uint8_t boot_id[SIGIL_BOOT_ID_LEN],
                        sigil_boot_record *out, sigil_buf *doc)
{
    pg_params p = {0};
    PGresult *r;
    pg_blob(&p, boot_id, SIGIL_BOOT_ID_LEN);
    GUARD(run1(pg(base), PQ_BOOT_GET, &p, &r, "boot lookup"));
    int rc = PQntuples(r) == 1 ? 0 : sigil_fail(SIGIL_E_NOT_FOUND, "boot_id: no such boot");
    if (rc == 0) {
        memcpy(out->boot_id, boot_id, SIGIL_BOOT_ID_LEN);
        rc = pg_col_fixed(r, 0, 0, out->measurement, sizeof(out->measurement), "boot measurement");
        out->created_ms = pg_get_int(r, 0, 1);
    }
    if (rc == 0 && doc != NULL)
        rc = pg_col_buf(r, 0, 2, doc, "boot document");
    PQclear(r);
    return rc;
}

static int pgs_seed_get(sigil_store *base, sigil_buf *seed, bool *present)
{
    PGresult *r;
    GUARD(run1(pg(base), PQ_SEED_GET, NULL, &r, "seed lookup"));
    *present = PQntuples(r) == 1;
    int rc = *present ? pg_col_buf(r, 0, 0, seed, "seed ciphertext") : 0;
    PQclear(r);
    return rc;
}

static int pgs_seed_put(sigil_store *base, const uint8_t *seed, size_t len)
{
    pg_params p = {0};
    long n;
    ENSURE(seed != NULL && len > 0, SIGIL_E_INTERNAL, "store: empty seed ciphertext");
    pg_blob(&p, seed, len);
    return pg_changed1(pg(base), PQ_SEED_PUT, &p, &n, "seed store");
}

/* ---- open, migrate, close ---- */
static void pgs_close(sigil_store *base)
{
    pg_store *s = pg(base);
    if (s == NULL)
        return;
    for (size_t i = 0; i < PG_POOL; i++)
        PQfinish(s->pool[i].conn);
    sigil_group_destroy(&s->group);
    (void)pthread_mutex_destroy(&s->mu);
    (void)pthread_cond_destroy(&s->cv);
    free(s->url);
    free(s);
}

static const sigil_store_ops PG_OPS = {
    .name = "postgresql",
    .close = pgs_close,
    .tenant_add = pgs_tenant_add,
    .tenant_exists = pgs_tenant_exists,
    .tenant_list = pgs_tenant_list,
    .token_add = pgs_token_add,
    .token_get = pgs_token_get,
    .token_list = pgs_token_list,
    .token_revoke = pgs_token_revoke,
    .key_put = pgs_key_put,
    .key_get = pgs_key_get,
    .key_list = pgs_key_list,
    .key_delete = pgs_key_delete,
    .key_update = pgs_key_update,
    .key_set_state = pgs_key_set_state,
    .revocation_put = pgs_revocation_put,
    .revocation_list = pgs_revocation_list,
    .revocation_count = pgs_revocation_count,
    .idem_begin = pg_idem_begin,
    .idem_abort = pg_idem_abort,
    .idem_renew = pg_idem_renew,
    .record_outcome = pg_record_outcome,
    .audit_list = pg_audit_list,
    .audit_head = pg_audit_head,
    .usage_list = pg_usage_list,
    .usage_prune = pg_usage_prune,
    .boot_put = pgs_boot_put,
    .boot_get = pgs_boot_get,
    .seed_get = pgs_seed_get,
    .seed_put = pgs_seed_put,
};

int sigil_store_pg_schema_version(void)
{
    return (int)SIGIL_ARRAY_LEN(MIGRATIONS);
}

static int migrate_tx(pg_conn *c)
{
    char bump[96];
    PGresult *r;
    GUARD(pg_exec(c, MIGRATION_LOCK, "migration lock"));
    GUARD(pg_exec(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                  "schema_version table"));
    r = PQexec(c->conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    int version = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                      ? atoi(PQgetvalue(r, 0, 0))
                      : -1;
    PQclear(r);
    ENSURE(version >= 0, SIGIL_E_UNAVAILABLE, "store: cannot read the schema version");
    ENSURE(version <= sigil_store_pg_schema_version(), SIGIL_E_IO,
           "store: database schema version %d is newer than this build (%d)", version,
           sigil_store_pg_schema_version());
    for (int v = version; v < sigil_store_pg_schema_version(); v++) {
        snprintf(bump, sizeof(bump), "INSERT INTO schema_version (version) VALUES (%d)", v + 1);
        GUARD(pg_exec(c, MIGRATIONS[v], "migration"));
        GUARD(pg_exec(c, bump, "migration"));
    }
    return 0;
}

/* Every pending migration in one transaction (DDL is transactional), under
 * an advisory lock: a crash leaves the database at the version it had. */
static int migrate(pg_store *s)
{
    pg_conn *c;
    GUARD(pg_acquire(s, &c));
    int rc = pg_exec(c, "BEGIN", "begin");
    if (rc == 0)
        rc = pg_tx_end(c, migrate_tx(c));
    pg_release(s, c);
    return rc;
}

int sigil_store_open_pg(sigil_store **out, const char *url, bool full_sync)
{
    pg_store *s = calloc(1, sizeof(*s));
    *out = NULL;
    ENSURE(s != NULL, SIGIL_E_NO_MEMORY, "store: out of memory");
    s->base.ops = &PG_OPS;
    s->full_sync = full_sync;
    if (sigil_store_instance_id(s->instance) != 0) {
        free(s);
        return -1;
    }
    (void)pthread_mutex_init(&s->mu, NULL);
    (void)pthread_cond_init(&s->cv, NULL);
    sigil_group_init(&s->group, pg_commit_batch, s);
    s->url = strdup(url);
    if (s->url == NULL) {
        pgs_close(&s->base);
        BAIL(SIGIL_E_NO_MEMORY, "store: out of memory");
    }
    if (migrate(s) != 0) {
        pgs_close(&s->base);
        return -1;
    }
    *out = &s->base;
    return 0;
}
