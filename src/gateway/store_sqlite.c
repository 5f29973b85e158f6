/*
 * SQLite back-end of the gateway store (store.h). Untrusted host code.
 * WAL with synchronous=FULL: a committed audit record survives power loss.
 * One writer connection behind a mutex, statements prepared once at open;
 * the hot reads (token, key) use one read connection per thread, so they
 * never wait behind a commit. Audit records are group-committed
 * (store_group.c): requests queue their record; one of them (the leader)
 * writes every queued record in one transaction (one fsync) and wakes the
 * others, so no response
 * leaves before its record is committed. Durability: synchronous=FULL by
 * default (a commit survives power loss); sigil_store_sqlite_set_sync can
 * choose NORMAL (survives a crash of the process, not of the machine). Versioned migrations are
 * recorded in schema_version.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/store.h"
#include "gateway/store_group.h"

typedef struct sq_store sq_store;
static int audit_backfill_chain(sq_store *s);

/* ---- Migrations: append only; never edit a released step. Each is SQL
 * and, where SQL cannot do it, a C step run in the same transaction. ---- */
typedef struct {
    const char *sql;
    int (*after)(sq_store *s);
} migration;

static const migration MIGRATIONS[] = {
    /* 1: initial schema */
    {"CREATE TABLE tenants (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);"
     "CREATE TABLE tokens (id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(name),"
     " secret_hash BLOB NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER);"
     "CREATE INDEX tokens_tenant ON tokens(tenant);"
     "CREATE TABLE keys (key_id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(name),"
     " venue TEXT NOT NULL, network TEXT NOT NULL, key_type TEXT NOT NULL, address TEXT,"
     " policy_hash BLOB NOT NULL, blob BLOB NOT NULL, created_at INTEGER NOT NULL,"
     " deleted_at INTEGER);"
     "CREATE INDEX keys_tenant ON keys(tenant);"
     "CREATE TABLE idempotency (tenant TEXT NOT NULL, idem_key TEXT NOT NULL,"
     " request_hash BLOB NOT NULL, status INTEGER NOT NULL DEFAULT 0, response BLOB,"
     " created_at INTEGER NOT NULL, PRIMARY KEY (tenant, idem_key));"
     "CREATE INDEX idempotency_created ON idempotency(created_at);"
     "CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL,"
     " tenant TEXT NOT NULL, key_id TEXT, op TEXT NOT NULL, action TEXT, decision TEXT NOT NULL,"
     " http_status INTEGER NOT NULL, error_code TEXT, request_hash BLOB, output_hash BLOB);"
     "CREATE TABLE boots (boot_id BLOB PRIMARY KEY, document BLOB NOT NULL,"
     " measurement BLOB NOT NULL, created_at INTEGER NOT NULL);"
     "CREATE TABLE enclave_state (id INTEGER PRIMARY KEY CHECK (id = 1),"
     " seed_ciphertext BLOB NOT NULL);",
     NULL},
    /* 2: receipts and the hash chain in the audit log (rows written before
     * are chained by the C step), policy versions of keys */
    {"ALTER TABLE audit ADD COLUMN receipt TEXT;"
     "ALTER TABLE audit ADD COLUMN prev BLOB;"
     "ALTER TABLE audit ADD COLUMN hash BLOB;"
     "CREATE INDEX audit_tenant ON audit(tenant, seq);"
     "ALTER TABLE keys ADD COLUMN policy_version INTEGER NOT NULL DEFAULT 0;",
     audit_backfill_chain},
    /* 3: idempotency reservations owned by a store handle and leased
     * (SIGIL_IDEM_LEASE_MS); reservations written before keep the old
     * five-minute takeover */
    {"ALTER TABLE idempotency ADD COLUMN owner TEXT;"
     "ALTER TABLE idempotency ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;"
     "UPDATE idempotency SET lease_until = created_at + 300000 WHERE status = 0;"
     "CREATE INDEX idempotency_owner ON idempotency(owner) WHERE status = 0;",
     NULL},
    /* 4: each enclave boot's latest limit usage per key (docs/POLICY.md) */
    {"CREATE TABLE limit_usage (tenant TEXT NOT NULL, key_id TEXT NOT NULL,"
     " boot_id BLOB NOT NULL, seq INTEGER NOT NULL, time_ms INTEGER NOT NULL,"
     " report BLOB NOT NULL, PRIMARY KEY (tenant, key_id, boot_id));",
     NULL},
    /* 5: key lifecycle: state, whether a client key is bound (NULL: not
     * recorded), owner-signed revocations */
    {"ALTER TABLE keys ADD COLUMN state TEXT NOT NULL DEFAULT 'active'"
     " CHECK (state IN ('active', 'disabled', 'revoked'));"
     "ALTER TABLE keys ADD COLUMN client_key INTEGER;"
     "CREATE TABLE revocations (tenant TEXT NOT NULL, key_id TEXT NOT NULL,"
     " signature BLOB NOT NULL, blob BLOB NOT NULL, created_at INTEGER NOT NULL,"
     " PRIMARY KEY (tenant, key_id));",
     NULL},
};

enum {
    Q_TENANT_ADD,
    Q_TENANT_EXISTS,
    Q_TENANT_LIST,
    Q_TOKEN_ADD,
    Q_TOKEN_GET,
    Q_TOKEN_LIST,
    Q_TOKEN_LIST_TENANT,
    Q_TOKEN_REVOKE,
    Q_KEY_PUT,
    Q_KEY_GET,
    Q_KEY_LIST,
    Q_KEY_DELETE,
    Q_KEY_POLICY,
    Q_KEY_UPDATE,
    Q_KEY_STATE_SET,
    Q_KEY_STATE_GET,
    Q_KEY_REVOKED,
    Q_REVOCATION_PUT,
    Q_REVOCATION_LIST,
    Q_REVOCATION_COUNT,
    Q_IDEM_PURGE,
    Q_IDEM_GET,
    Q_IDEM_INSERT,
    Q_IDEM_TAKEOVER,
    Q_IDEM_DELETE,
    Q_IDEM_FINISH,
    Q_IDEM_RENEW,
    Q_AUDIT_ADD,
    Q_AUDIT_LIST,
    Q_AUDIT_LIST_TENANT,
    Q_AUDIT_NEXT,
    Q_AUDIT_HEAD,
    Q_USAGE_PUT,
    Q_USAGE_LIST,
    Q_USAGE_PRUNE,
    Q_USAGE_PRUNE_ALL,
    Q_BOOT_PUT,
    Q_BOOT_GET,
    Q_SEED_GET,
    Q_SEED_PUT,
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_COUNT_
};

#define KEY_COLUMNS                                                                                \
    "key_id, tenant, venue, network, key_type, address, policy_hash, created_at, deleted_at,"      \
    " policy_version, state, client_key"
#define KEY_BLOB_COLUMN 12

#define AUDIT_COLUMNS                                                                              \
    "seq, time_ms, tenant, key_id, op, action, decision, http_status, error_code,"                 \
    " request_hash, output_hash, receipt, prev, hash"

static const char *const QUERIES[Q_COUNT_] = {
    [Q_TENANT_ADD] = "INSERT INTO tenants (name, created_at) VALUES (?1, ?2)",
    [Q_TENANT_EXISTS] = "SELECT 1 FROM tenants WHERE name = ?1",
    [Q_TENANT_LIST] = "SELECT name, created_at FROM tenants ORDER BY name",
    [Q_TOKEN_ADD] = "INSERT INTO tokens (id, tenant, secret_hash, created_at) VALUES (?1,?2,?3,?4)",
    [Q_TOKEN_GET] = "SELECT id, tenant, secret_hash, created_at, revoked_at FROM tokens"
                    " WHERE id = ?1",
    [Q_TOKEN_LIST] = "SELECT id, tenant, secret_hash, created_at, revoked_at FROM tokens"
                     " ORDER BY tenant, created_at, id",
    [Q_TOKEN_LIST_TENANT] = "SELECT id, tenant, secret_hash, created_at, revoked_at FROM tokens"
                            " WHERE tenant = ?1 ORDER BY created_at, id",
    [Q_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
    [Q_KEY_PUT] = "INSERT INTO keys (key_id, tenant, venue, network, key_type, address,"
                  " policy_hash, blob, created_at, policy_version, client_key)"
                  " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
    [Q_KEY_GET] = "SELECT " KEY_COLUMNS ", blob FROM keys"
                  " WHERE key_id = ?1 AND tenant = ?2 AND deleted_at IS NULL",
    [Q_KEY_LIST] = "SELECT " KEY_COLUMNS " FROM keys"
                   " WHERE tenant = ?1 AND deleted_at IS NULL ORDER BY created_at, key_id",
    [Q_KEY_DELETE] = "UPDATE keys SET deleted_at = ?3 WHERE key_id = ?1 AND tenant = ?2"
                     " AND deleted_at IS NULL",
    [Q_KEY_POLICY] = "SELECT policy_hash FROM keys WHERE key_id = ?1 AND tenant = ?2"
                     " AND deleted_at IS NULL",
    [Q_KEY_UPDATE] = "UPDATE keys SET blob = ?3, policy_hash = ?4, policy_version = ?5,"
                     " key_type = ?6, address = ?7"
                     " WHERE key_id = ?1 AND tenant = ?2 AND deleted_at IS NULL",
    [Q_KEY_STATE_SET] = "UPDATE keys SET state = ?4 WHERE key_id = ?1 AND tenant = ?2"
                        " AND deleted_at IS NULL AND state IN (?3, ?4)",
    [Q_KEY_STATE_GET] = "SELECT state FROM keys WHERE key_id = ?1 AND tenant = ?2"
                        " AND deleted_at IS NULL",
    [Q_KEY_REVOKED] = "UPDATE keys SET state = 'revoked' WHERE key_id = ?1 AND tenant = ?2",
    [Q_REVOCATION_PUT] = "INSERT OR IGNORE INTO revocations (tenant, key_id, signature, blob,"
                         " created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_REVOCATION_LIST] = "SELECT tenant, key_id, signature, created_at, blob FROM revocations"
                          " ORDER BY rowid",
    [Q_REVOCATION_COUNT] = "SELECT COUNT(*) FROM revocations",
    [Q_IDEM_PURGE] = "DELETE FROM idempotency WHERE created_at < ?1",
    [Q_IDEM_GET] = "SELECT request_hash, status, response, lease_until FROM idempotency"
                   " WHERE tenant = ?1 AND idem_key = ?2",
    /* ?1 tenant, ?2 key, ?3 request hash, ?4 now, ?5 owner, ?6 lease end */
    [Q_IDEM_INSERT] = "INSERT INTO idempotency (tenant, idem_key, request_hash, status,"
                      " created_at, owner, lease_until) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6)",
    [Q_IDEM_TAKEOVER] = "UPDATE idempotency SET request_hash = ?3, created_at = ?4, owner = ?5,"
                        " lease_until = ?6 WHERE tenant = ?1 AND idem_key = ?2 AND status = 0",
    [Q_IDEM_DELETE] = "DELETE FROM idempotency WHERE tenant = ?1 AND idem_key = ?2"
                      " AND status = 0 AND owner = ?5",
    [Q_IDEM_FINISH] = "UPDATE idempotency SET status = ?3, response = ?4"
                      " WHERE tenant = ?1 AND idem_key = ?2 AND status = 0 AND owner = ?5",
    [Q_IDEM_RENEW] = "UPDATE idempotency SET lease_until = ?2 WHERE owner = ?1 AND status = 0",
    [Q_AUDIT_ADD] = "INSERT INTO audit (time_ms, tenant, key_id, op, action, decision,"
                    " http_status, error_code, request_hash, output_hash, receipt, seq, prev,"
                    " hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
    [Q_AUDIT_LIST] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [Q_AUDIT_LIST_TENANT] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE seq > ?1 AND tenant = ?3"
                            " ORDER BY seq LIMIT ?2",
    /* The next seq continues AUTOINCREMENT's counter, so rows cut from the
     * tail leave a gap once the next row is written. */
    [Q_AUDIT_NEXT] = "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'audit'),"
                     " (SELECT seq FROM audit ORDER BY seq DESC LIMIT 1),"
                     " (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1)",
    [Q_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [Q_USAGE_PUT] = "INSERT INTO limit_usage (tenant, key_id, boot_id, seq, time_ms, report)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tenant, key_id, boot_id)"
                    " DO UPDATE SET seq = excluded.seq, time_ms = excluded.time_ms,"
                    " report = excluded.report WHERE excluded.seq > limit_usage.seq",
    [Q_USAGE_LIST] = "SELECT report FROM limit_usage WHERE tenant = ?1 AND key_id = ?2"
                     " ORDER BY time_ms DESC LIMIT ?3",
    [Q_USAGE_PRUNE] = "DELETE FROM limit_usage WHERE tenant = ?1 AND key_id = ?2 AND time_ms < ?3",
    [Q_USAGE_PRUNE_ALL] = "DELETE FROM limit_usage WHERE time_ms < ?1",
    [Q_BOOT_PUT] = "INSERT OR IGNORE INTO boots (boot_id, document, measurement, created_at)"
                   " VALUES (?1, ?2, ?3, ?4)",
    [Q_BOOT_GET] = "SELECT measurement, created_at, document FROM boots WHERE boot_id = ?1",
    [Q_SEED_GET] = "SELECT seed_ciphertext FROM enclave_state WHERE id = 1",
    [Q_SEED_PUT] = "INSERT INTO enclave_state (id, seed_ciphertext) VALUES (1, ?1)"
                   " ON CONFLICT(id) DO UPDATE SET seed_ciphertext = excluded.seed_ciphertext",
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
};

struct sq_store {
    sigil_store base;
    sqlite3 *db;
    pthread_mutex_t mu;
    sqlite3_stmt *q[Q_COUNT_];
    /* per-thread read connections (same struct, db and statements only) */
    char *path;
    pthread_key_t reader_key;
    bool has_reader_key;
    struct sq_store *readers; /* all of them, closed with the store */
    struct sq_store *next_reader, *owner;
    sigil_group group;      /* group commit of audit records (store_group.c) */
    pthread_mutex_t cq_mu;  /* guards checkpointer_stop */
    pthread_cond_t ckpt_cv; /* wakes the checkpointer to stop */
    /* WAL checkpoints in the background */
    sqlite3 *ckpt_db;
    pthread_t checkpointer;
    bool checkpointer_running, checkpointer_stop;
    /* the owner of this handle's idempotency reservations */
    char instance[SIGIL_STORE_INSTANCE_HEX + 1];
};

static int exec(sq_store *s, const char *sql, const char *what);

static sq_store *sq(sigil_store *s)
{
    return (sq_store *)s;
}

/* ---- small helpers ---- */
static int db_fail(sq_store *s, const char *what)
{
    return sigil_fail(SIGIL_E_UNAVAILABLE, "store: %s failed: %s", what, sqlite3_errmsg(s->db));
}

static sqlite3_stmt *stmt(sq_store *s, int q)
{
    sqlite3_stmt *st = s->q[q];
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
    return st;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v == NULL)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    if (p == NULL)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_blob64(st, i, n == 0 ? "" : p, n, SQLITE_STATIC);
}

/* Runs a statement that returns no rows. A constraint violation is
 * SIGIL_E_CONFLICT ("what already exists"). */
static int step_done(sq_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    (void)sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        BAIL(SIGIL_E_CONFLICT, "%s: already exists", what);
    return db_fail(s, what);
}

/* SQLITE_ROW -> 1, SQLITE_DONE -> 0, else -1. */
static int step_row(sq_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    (void)sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    return db_fail(s, what);
}

static int col_text(sqlite3_stmt *st, int i, char *out, size_t cap, const char *what)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    out[0] = '\0';
    if (t == NULL)
        return 0;
    ENSURE(n < cap, SIGIL_E_INTERNAL, "store: %s longer than expected", what);
    memcpy(out, t, n);
    out[n] = '\0';
    return 0;
}

static int col_fixed(sqlite3_stmt *st, int i, uint8_t *out, size_t n, const char *what)
{
    const void *p = sqlite3_column_blob(st, i);
    ENSURE(p != NULL && (size_t)sqlite3_column_bytes(st, i) == n, SIGIL_E_INTERNAL,
           "store: %s has the wrong size", what);
    memcpy(out, p, n);
    return 0;
}

static int col_buf(sqlite3_stmt *st, int i, sigil_buf *out, const char *what)
{
    const void *p = sqlite3_column_blob(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    out->len = 0;
    ENSURE(n <= out->cap, SIGIL_E_TOO_LARGE, "store: %s larger than the buffer", what);
    if (n > 0)
        memcpy(out->data, p, n);
    out->len = n;
    return 0;
}

static int tx(sq_store *s, int q)
{
    return step_done(s, stmt(s, q), QUERIES[q]);
}

static void lock(sq_store *s)
{
    (void)pthread_mutex_lock(&s->mu);
}

static int unlock_ret(sq_store *s, int rc)
{
    (void)pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Ends a transaction: commit on success, roll back (keeping the first
 * error) otherwise. */
static int tx_end(sq_store *s, int rc)
{
    if (rc == 0)
        rc = tx(s, Q_COMMIT);
    if (rc != 0 && !sqlite3_get_autocommit(s->db)) {
        sigil_err e = sigil_errno();
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
        (void)tx(s, Q_ROLLBACK);
        (void)sigil_fail(e, "%s", msg);
    }
    return rc;
}

/* ---- tenants ---- */
static int sq_tenant_add(sigil_store *base, const char *name, int64_t now_ms)
{
    sq_store *s = sq(base);
    GUARD(sigil_tenant_name_check(name, strnlen(name, SIGIL_TENANT_MAX + 1)));
    lock(s);
    sqlite3_stmt *st = stmt(s, Q_TENANT_ADD);
    (void)bind_text(st, 1, name);
    (void)sqlite3_bind_int64(st, 2, now_ms);
    return unlock_ret(s, step_done(s, st, "tenant"));
}

static int tenant_exists_locked(sq_store *s, const char *name, bool *exists)
{
    sqlite3_stmt *st = stmt(s, Q_TENANT_EXISTS);
    (void)bind_text(st, 1, name);
    int r = step_row(s, st, "tenant lookup");
    (void)sqlite3_reset(st);
    GUARD(r < 0 ? -1 : 0);
    *exists = r == 1;
    return 0;
}

static int sq_tenant_exists(sigil_store *base, const char *name, bool *exists)
{
    sq_store *s = sq(base);
    lock(s);
    return unlock_ret(s, tenant_exists_locked(s, name, exists));
}

static int tenant_list_locked(sq_store *s, sigil_store_tenant_fn fn, void *ctx)
{
    sqlite3_stmt *st = stmt(s, Q_TENANT_LIST);
    char name[SIGIL_TENANT_MAX + 1];
    int r;
    while ((r = step_row(s, st, "tenant list")) == 1) {
        if (col_text(st, 0, name, sizeof(name), "tenant name") != 0 ||
            fn(ctx, name, sqlite3_column_int64(st, 1)) != 0) {
            (void)sqlite3_reset(st);
            return -1;
        }
    }
    return r;
}

static int sq_tenant_list(sigil_store *base, sigil_store_tenant_fn fn, void *ctx)
{
    sq_store *s = sq(base);
    lock(s);
    return unlock_ret(s, tenant_list_locked(s, fn, ctx));
}

/* ---- tokens ---- */
static int sq_token_add(sigil_store *base, const sigil_token_record *t)
{
    sq_store *s = sq(base);
    bool exists = false;
    lock(s);
    if (tenant_exists_locked(s, t->tenant, &exists) != 0)
        return unlock_ret(s, -1);
    if (!exists)
        return unlock_ret(s, sigil_fail(SIGIL_E_NOT_FOUND, "tenant: no such tenant"));
    sqlite3_stmt *st = stmt(s, Q_TOKEN_ADD);
    (void)bind_text(st, 1, t->id);
    (void)bind_text(st, 2, t->tenant);
    (void)bind_blob(st, 3, t->secret_hash, sizeof(t->secret_hash));
    (void)sqlite3_bind_int64(st, 4, t->created_ms);
    return unlock_ret(s, step_done(s, st, "token"));
}

static int token_from_row(sqlite3_stmt *st, sigil_token_record *out)
{
    memset(out, 0, sizeof(*out));
    GUARD(col_text(st, 0, out->id, sizeof(out->id), "token id"));
    GUARD(col_text(st, 1, out->tenant, sizeof(out->tenant), "token tenant"));
    GUARD(col_fixed(st, 2, out->secret_hash, sizeof(out->secret_hash), "token hash"));
    out->created_ms = sqlite3_column_int64(st, 3);
    out->revoked_ms = sqlite3_column_int64(st, 4);
    return 0;
}

static int token_get_locked(sq_store *s, const char *id, sigil_token_record *out)
{
    sqlite3_stmt *st = stmt(s, Q_TOKEN_GET);
    (void)bind_text(st, 1, id);
    int r = step_row(s, st, "token lookup");
    GUARD(r < 0 ? -1 : 0);
    ENSURE(r == 1, SIGIL_E_NOT_FOUND, "token: no such token");
    r = token_from_row(st, out);
    (void)sqlite3_reset(st);
    return r;
}

static sq_store *reader(sq_store *s);

static int sq_token_get(sigil_store *base, const char *id, sigil_token_record *out)
{
    sq_store *s = sq(base);
    sq_store *r = reader(s);
    if (r != NULL)
        return token_get_locked(r, id, out);
    lock(s);
    return unlock_ret(s, token_get_locked(s, id, out));
}

static int token_list_locked(sq_store *s, const char *tenant, sigil_store_token_fn fn, void *ctx)
{
    sqlite3_stmt *st = stmt(s, tenant == NULL ? Q_TOKEN_LIST : Q_TOKEN_LIST_TENANT);
    sigil_token_record t;
    int r;
    if (tenant != NULL)
        (void)bind_text(st, 1, tenant);
    while ((r = step_row(s, st, "token list")) == 1) {
        if (token_from_row(st, &t) != 0 || fn(ctx, &t) != 0) {
            (void)sqlite3_reset(st);
            return -1;
        }
    }
    return r;
}

static int sq_token_list(sigil_store *base, const char *tenant, sigil_store_token_fn fn, void *ctx)
{
    sq_store *s = sq(base);
    lock(s);
    return unlock_ret(s, token_list_locked(s, tenant, fn, ctx));
}

static int changed_one(sq_store *s, int rc, const char *what)
{
    GUARD(rc);
    ENSURE(sqlite3_changes(s->db) == 1, SIGIL_E_NOT_FOUND, "%s", what);
    return 0;
}

static int sq_token_revoke(sigil_store *base, const char *id, int64_t now_ms)
{
    sq_store *s = sq(base);
    lock(s);
    sqlite3_stmt *st = stmt(s, Q_TOKEN_REVOKE);
    (void)bind_text(st, 1, id);
    (void)sqlite3_bind_int64(st, 2, now_ms);
    int rc = step_done(s, st, "token revoke");
    return unlock_ret(s, changed_one(s, rc, "token: no such active token"));
}

/* ---- keys ---- */
static int sq_key_put(sigil_store *base, const sigil_key_record *k, const uint8_t *blob,
                      size_t blob_len)
{
    sq_store *s = sq(base);
    ENSURE(blob != NULL && blob_len > 0, SIGIL_E_INTERNAL, "store: key without a blob");
    lock(s);
    sqlite3_stmt *st = stmt(s, Q_KEY_PUT);
    (void)bind_text(st, 1, k->key_id);
    (void)bind_text(st, 2, k->tenant);
    (void)bind_text(st, 3, k->venue);
    (void)bind_text(st, 4, k->network);
    (void)bind_text(st, 5, k->key_type);
    (void)bind_text(st, 6, k->address[0] != '\0' ? k->address : NULL);
    (void)bind_blob(st, 7, k->policy_hash, sizeof(k->policy_hash));
    (void)bind_blob(st, 8, blob, blob_len);
    (void)sqlite3_bind_int64(st, 9, k->created_ms);
    (void)sqlite3_bind_int64(st, 10, (sqlite3_int64)k->policy_version);
    if (k->client_key >= 0)
        (void)sqlite3_bind_int(st, 11, k->client_key);
    return unlock_ret(s, step_done(s, st, "key"));
}

static int key_from_row(sqlite3_stmt *st, sigil_key_record *out)
{
    memset(out, 0, sizeof(*out));
    GUARD(col_text(st, 0, out->key_id, sizeof(out->key_id), "key id"));
    GUARD(col_text(st, 1, out->tenant, sizeof(out->tenant), "key tenant"));
    GUARD(col_text(st, 2, out->venue, sizeof(out->venue), "key venue"));
    GUARD(col_text(st, 3, out->network, sizeof(out->network), "key network"));
    GUARD(col_text(st, 4, out->key_type, sizeof(out->key_type), "key type"));
    GUARD(col_text(st, 5, out->address, sizeof(out->address), "key address"));
    GUARD(col_fixed(st, 6, out->policy_hash, sizeof(out->policy_hash), "policy hash"));
    out->created_ms = sqlite3_column_int64(st, 7);
    out->deleted_ms = sqlite3_column_int64(st, 8);
    out->policy_version = (uint64_t)sqlite3_column_int64(st, 9);
    char state[16];
    GUARD(col_text(st, 10, state, sizeof(state), "key state"));
    GUARD(sigil_key_state_parse(&out->state, state));
    out->client_key = sqlite3_column_type(st, 11) == SQLITE_NULL ? -1
                      : sqlite3_column_int(st, 11) != 0          ? 1
                                                                 : 0;
    return 0;
}

static int key_get_locked(sq_store *s, const char *tenant, const char *key_id,
                          sigil_key_record *out, sigil_buf *blob)
{
    sqlite3_stmt *st = stmt(s, Q_KEY_GET);
    (void)bind_text(st, 1, key_id);
    (void)bind_text(st, 2, tenant);
    int r = step_row(s, st, "key lookup");
    GUARD(r < 0 ? -1 : 0);
    ENSURE(r == 1, SIGIL_E_NOT_FOUND, "key_id: no such key");
    r = key_from_row(st, out);
    if (r == 0 && blob != NULL)
        r = col_buf(st, KEY_BLOB_COLUMN, blob, "key blob");
    (void)sqlite3_reset(st);
    return r;
}

static int sq_key_get(sigil_store *base, const char *tenant, const char *key_id,
                      sigil_key_record *out, sigil_buf *blob)
{
    sq_store *s = sq(base);
    sq_store *r = reader(s);
    if (r != NULL)
        return key_get_locked(r, tenant, key_id, out, blob);
    lock(s);
    return unlock_ret(s, key_get_locked(s, tenant, key_id, out, blob));
}

static int key_list_locked(sq_store *s, const char *tenant, sigil_store_key_fn fn, void *ctx)
{
    sqlite3_stmt *st = stmt(s, Q_KEY_LIST);
    sigil_key_record k;
    int r;
    (void)bind_text(st, 1, tenant);
    while ((r = step_row(s, st, "key list")) == 1) {
        if (key_from_row(st, &k) != 0 || fn(ctx, &k) != 0) {
            (void)sqlite3_reset(st);
            return -1;
        }
    }
    return r;
}

static int sq_key_list(sigil_store *base, const char *tenant, sigil_store_key_fn fn, void *ctx)
{
    sq_store *s = sq(base);
    lock(s);
    return unlock_ret(s, key_list_locked(s, tenant, fn, ctx));
}

static int sq_key_delete(sigil_store *base, const char *tenant, const char *key_id, int64_t now_ms)
{
    sq_store *s = sq(base);
    lock(s);
    sqlite3_stmt *st = stmt(s, Q_KEY_DELETE);
    (void)bind_text(st, 1, key_id);
    (void)bind_text(st, 2, tenant);
    (void)sqlite3_bind_int64(st, 3, now_ms);
    int rc = step_done(s, st, "key delete");
    return unlock_ret(s, changed_one(s, rc, "key_id: no such key"));
}

/* The key-update compare-and-swap (policy update, rotation, rewrap),
 * inside a write transaction. */
static int key_update_tx(sq_store *s, const char *tenant, const char *key_id, const uint8_t *old,
                         const sigil_key_record *k, const uint8_t *blob, size_t blob_len)
{
    uint8_t stored[32];
    sqlite3_stmt *st = stmt(s, Q_KEY_POLICY);
    (void)bind_text(st, 1, key_id);
    (void)bind_text(st, 2, tenant);
    int r = step_row(s, st, "key lookup");
    GUARD(r < 0 ? -1 : 0);
    ENSURE(r == 1, SIGIL_E_NOT_FOUND, "key_id: no such key");
    r = col_fixed(st, 0, stored, sizeof(stored), "policy hash");
    (void)sqlite3_reset(st);
    GUARD(r);
    ENSURE(sigil_store_ct_eq(stored, old, sizeof(stored)), SIGIL_E_CONFLICT,
           "key_id: key changed concurrently");
    st = stmt(s, Q_KEY_UPDATE);
    (void)bind_text(st, 1, key_id);
    (void)bind_text(st, 2, tenant);
    (void)bind_blob(st, 3, blob, blob_len);
    (void)bind_blob(st, 4, k->policy_hash, sizeof(k->policy_hash));
    (void)sqlite3_bind_int64(st, 5, (sqlite3_int64)k->policy_version);
    (void)bind_text(st, 6, k->key_type);
    (void)bind_text(st, 7, k->address[0] != '\0' ? k->address : NULL);
    return changed_one(s, step_done(s, st, "key update"), "key_id: no such key");
}

static int sq_key_update(sigil_store *base, const char *tenant, const char *key_id,
                         const uint8_t old_policy_hash[32], const sigil_key_record *k,
                         const uint8_t *blob, size_t blob_len)
{
    sq_store *s = sq(base);
    ENSURE(blob != NULL && blob_len > 0, SIGIL_E_INTERNAL, "store: key without a blob");
    lock(s);
    if (tx(s, Q_BEGIN) != 0)
        return unlock_ret(s, -1);
    int rc = key_update_tx(s, tenant, key_id, old_policy_hash, k, blob, blob_len);
    return unlock_ret(s, tx_end(s, rc));
}

/* ---- key lifecycle ---- */
/* Why no row moved: the key is revoked, or there is no such live key. */
static int state_unchanged(sq_store *s, const char *tenant, const char *key_id)
{
    char state[16];
    sigil_key_state ks = SIGIL_KEY_ACTIVE;
    sqlite3_stmt *st = stmt(s, Q_KEY_STATE_GET);
    (void)bind_text(st, 1, key_id);
    (void)bind_text(st, 2, tenant);
    int r = step_row(s, st, "key lookup");
    GUARD(r < 0 ? -1 : 0);
    ENSURE(r == 1, SIGIL_E_NOT_FOUND, "key_id: no such key");
    r = col_text(st, 0, state, sizeof(state), "key state");
    (void)sqlite3_reset(st);
    GUARD(r);
    GUARD(sigil_key_state_parse(&ks, state));
    ENSURE(ks != SIGIL_KEY_REVOKED, SIGIL_E_REVOKED, "key: revoked by its owner");
    BAIL(SIGIL_E_CONFLICT, "key: state is %s", state);
}

static int key_set_state_locked(sq_store *s, const char *tenant, const char *key_id,
                                sigil_key_state from, sigil_key_state to)
{
    sqlite3_stmt *st = stmt(s, Q_KEY_STATE_SET);
    (void)bind_text(st, 1, key_id);
    (void)bind_text(st, 2, tenant);
    (void)bind_text(st, 3, sigil_key_state_name(from));
    (void)bind_text(st, 4, sigil_key_state_name(to));
    GUARD(step_done(s, st, "key state"));
    if (sqlite3_changes(s->db) == 1)
        return 0;
    return state_unchanged(s, tenant, key_id);
}

static int sq_key_set_state(sigil_store *base, const char *tenant, const char *key_id,
                            sigil_key_state from, sigil_key_state to)
{
    sq_store *s = sq(base);
    lock(s);
    return unlock_ret(s, key_set_state_locked(s, tenant, key_id, from, to));
}

static int revocation_put_tx(sq_store *s, const sigil_revocation_record *r, const uint8_t *blob,
                             size_t blob_len)
{
    sqlite3_stmt *st = stmt(s, Q_REVOCATION_PUT);
    (void)bind_text(st, 1, r->tenant);
    (void)bind_text(st, 2, r->key_id);
    (void)bind_blob(st, 3, r->signature, sizeof(r->signature));
    (void)bind_blob(st, 4, blob, blob_len);
    (void)sqlite3_bind_int64(st, 5, r->created_ms);
    GUARD(step_done(s, st, "revocation"));
    st = stmt(s, Q_KEY_REVOKED);
    (void)bind_text(st, 1, r->key_id);
    (void)bind_text(st, 2, r->tenant);
    return step_done(s, st, "key revoke");
}

static int sq_revocation_put(sigil_store *base, const sigil_revocation_record *r,
                             const uint8_t *blob, size_t blob_len)
{
    sq_store *s = sq(base);
    ENSURE(blob != NULL && blob_len > 0, SIGIL_E_INTERNAL, "store: revocation without a blob");
    lock(s);
    if (tx(s, Q_BEGIN) != 0)
        return unlock_ret(s, -1);
    return unlock_ret(s, tx_end(s, revocation_put_tx(s, r, blob, blob_len)));
}

static int revocation_from_row(sqlite3_stmt *st, sigil_revocation_record *out)
{
    memset(out, 0, sizeof(*out));
    GUARD(col_text(st, 0, out->tenant, sizeof(out->tenant), "revocation tenant"));
    GUARD(col_text(st, 1, out->key_id, sizeof(out->key_id), "revocation key id"));
    GUARD(col_fixed(st, 2, out->signature, sizeof(out->signature), "revocation signature"));
    out->created_ms = sqlite3_column_int64(st, 3);
    return 0;
}

static int revocation_list_locked(sq_store *s, sigil_store_revocation_fn fn, void *ctx)
{
    sqlite3_stmt *st = stmt(s, Q_REVOCATION_LIST);
    sigil_revocation_record rec;
    int r;
    while ((r = step_row(s, st, "revocation list")) == 1) {
        const uint8_t *blob = sqlite3_column_blob(st, 4);
        size_t n = (size_t)sqlite3_column_bytes(st, 4);
        if (revocation_from_row(st, &rec) != 0 || fn(ctx, &rec, blob, n) != 0) {
            (void)sqlite3_reset(st);
            return -1;
        }
    }
    return r;
}

static int sq_revocation_list(sigil_store *base, sigil_store_revocation_fn fn, void *ctx)
{
    sq_store *s = sq(base);
    lock(s);
    return unlock_ret(s, revocation_list_locked(s, fn, ctx));
}

static int revocation_count_locked(sq_store *s, uint64_t *n)
{
    sqlite3_stmt *st = stmt(s, Q_REVOCATION_COUNT);
    int r = step_row(s, st, "revocation count");
    GUARD(r < 0 ? -1 : 0);
    *n = r == 1 ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    (void)sqlite3_reset(st);
    return 0;
}

static int sq_revocation_count(sigil_store *base, uint64_t *n)
{
    sq_store *s = sq(base);
    sq_store *r = reader(s);
    if (r != NULL)
        return revocation_count_locked(r, n);
    lock(s);
    return unlock_ret(s, revocation_count_locked(s, n));
}

/* ---- idempotency ---- */
typedef struct {
    const char *tenant, *key;
    const uint8_t *hash;
    int64_t now;
} idem_args;

/* Binds the numbered parameters of the Q_IDEM_* statements: ?1 tenant, ?2
 * key and ?5 owner always; with the hash also ?3, ?4 now and ?6 the lease. */
static void bind_idem(sq_store *s, sqlite3_stmt *st, const idem_args *a, bool with_hash)
{
    (void)bind_text(st, 1, a->tenant);
    (void)bind_text(st, 2, a->key);
    if (sqlite3_bind_parameter_count(st) >= 5)
        (void)bind_text(st, 5, s->instance);
    if (with_hash) {
        (void)bind_blob(st, 3, a->hash, 32);
        (void)sqlite3_bind_int64(st, 4, a->now);
        (void)sqlite3_bind_int64(st, 6, a->now + SIGIL_IDEM_LEASE_MS);
    }
}

/* Inspects an existing row: same request and finished -> DONE with the
 * response, same request running -> IN_PROGRESS (or taken over once its
 * lease has run out), another request -> MISMATCH. */
static int idem_existing(sq_store *s, sqlite3_stmt *st, const idem_args *a, sigil_idem_state *state,
                         unsigned *status, sigil_buf *body)
{
    uint8_t stored[32];
    GUARD(col_fixed(st, 0, stored, sizeof(stored), "idempotency hash"));
    int64_t code = sqlite3_column_int64(st, 1);
    int64_t lease_until = sqlite3_column_int64(st, 3);
    if (!sigil_store_ct_eq(stored, a->hash, sizeof(stored))) {
        *state = SIGIL_IDEM_MISMATCH;
        return 0;
    }
    if (code != 0) {
        *state = SIGIL_IDEM_DONE;
        *status = (unsigned)code;
        return col_buf(st, 2, body, "idempotent response");
    }
    if (a->now < lease_until) {
        *state = SIGIL_IDEM_IN_PROGRESS;
        return 0;
    }
    (void)sqlite3_reset(st);
    sqlite3_stmt *up = stmt(s, Q_IDEM_TAKEOVER);
    bind_idem(s, up, a, true);
    GUARD(step_done(s, up, "idempotency takeover"));
    *state = SIGIL_IDEM_NEW;
    return 0;
}

static int idem_begin_tx(sq_store *s, const idem_args *a, sigil_idem_state *state, unsigned *status,
                         sigil_buf *body)
{
    sqlite3_stmt *st = stmt(s, Q_IDEM_PURGE);
    (void)sqlite3_bind_int64(st, 1, a->now - SIGIL_IDEM_TTL_MS);
    GUARD(step_done(s, st, "idempotency purge"));
    st = stmt(s, Q_IDEM_GET);
    bind_idem(s, st, a, false);
    int r = step_row(s, st, "idempotency lookup");
    GUARD(r < 0 ? -1 : 0);
    if (r == 1) {
        r = idem_existing(s, st, a, state, status, body);
        (void)sqlite3_reset(st);
        return r;
    }
    st = stmt(s, Q_IDEM_INSERT);
    bind_idem(s, st, a, true);
    GUARD(step_done(s, st, "idempotency reservation"));
    *state = SIGIL_IDEM_NEW;
    return 0;
}

static int sq_idem_begin(sigil_store *base, const char *tenant, const char *idem_key,
                         const uint8_t request_hash[32], int64_t now_ms, sigil_idem_state *state,
                         unsigned *status, sigil_buf *body)
{
    sq_store *s = sq(base);
    idem_args a = {tenant, idem_key, request_hash, now_ms};
    lock(s);
    if (tx(s, Q_BEGIN) != 0)
        return unlock_ret(s, -1);
    int rc = idem_begin_tx(s, &a, state, status, body);
    return unlock_ret(s, tx_end(s, rc));
}

static int sq_idem_abort(sigil_store *base, const char *tenant, const char *idem_key)
{
    sq_store *s = sq(base);
    idem_args a = {tenant, idem_key, NULL, 0};
    lock(s);
    sqlite3_stmt *st = stmt(s, Q_IDEM_DELETE);
    bind_idem(s, st, &a, false);
    return unlock_ret(s, step_done(s, st, "idempotency release"));
}

static int sq_idem_renew(sigil_store *base, int64_t now_ms)
{
    sq_store *s = sq(base);
    lock(s);
    sqlite3_stmt *st = stmt(s, Q_IDEM_RENEW);
    (void)bind_text(st, 1, s->instance);
    (void)sqlite3_bind_int64(st, 2, now_ms + SIGIL_IDEM_LEASE_MS);
    return unlock_ret(s, step_done(s, st, "idempotency lease renewal"));
}

/* ---- audit ---- */
/* The chain as the current write transaction sees it: the next row's seq
 * and the hash it links to. Read inside every write transaction, never
 * cached across them, so gateways sharing one database file (each with its
 * own group commit) still build one chain. */
typedef struct {
    uint64_t next_seq;
    uint8_t prev[32];
} chain_head;

static int chain_head_read(sq_store *s, chain_head *h)
{
    sqlite3_stmt *st = stmt(s, Q_AUDIT_NEXT);
    int r = step_row(s, st, "audit chain head");
    GUARD(r < 0 ? -1 : 0);
    ENSURE(r == 1, SIGIL_E_UNAVAILABLE, "store: audit chain head unreadable");
    uint64_t counter = (uint64_t)sqlite3_column_int64(st, 0);
    uint64_t last = (uint64_t)sqlite3_column_int64(st, 1);
    h->next_seq = (counter > last ? counter : last) + 1;
    memset(h->prev, 0, sizeof(h->prev));
    /* a last hash altered out of shape links as zeros: verify reports both */
    if (sqlite3_column_bytes(st, 2) == (int)sizeof(h->prev) &&
        sqlite3_column_type(st, 2) == SQLITE_BLOB)
        memcpy(h->prev, sqlite3_column_blob(st, 2), sizeof(h->prev));
    (void)sqlite3_reset(st);
    return 0;
}

static int bind_receipt(sqlite3_stmt *st, int i, const sigil_audit_record *a)
{
    if (a->receipt == NULL)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, a->receipt, (int)a->receipt_len, SQLITE_STATIC);
}

/* Appends one row linked to h, and advances h past it. */
static int audit_insert(sq_store *s, const sigil_audit_record *a, chain_head *h, uint64_t *seq)
{
    uint8_t hash[32];
    GUARD(sigil_audit_hash(hash, h->prev, h->next_seq, a));
    sqlite3_stmt *st = stmt(s, Q_AUDIT_ADD);
    (void)sqlite3_bind_int64(st, 1, a->time_ms);
    (void)bind_text(st, 2, a->tenant);
    (void)bind_text(st, 3, a->key_id);
    (void)bind_text(st, 4, a->op);
    (void)bind_text(st, 5, a->action);
    (void)bind_text(st, 6, a->decision);
    (void)sqlite3_bind_int64(st, 7, a->http_status);
    (void)bind_text(st, 8, a->error_code);
    (void)bind_blob(st, 9, a->request_hash, 32);
    (void)bind_blob(st, 10, a->output_hash, 32);
    (void)bind_receipt(st, 11, a);
    (void)sqlite3_bind_int64(st, 12, (sqlite3_int64)h->next_seq);
    (void)bind_blob(st, 13, h->prev, sizeof(h->prev));
    (void)bind_blob(st, 14, hash, sizeof(hash));
    GUARD(step_done(s, st, "audit append"));
    if (seq != NULL)
        *seq = h->next_seq;
    h->next_seq++;
    memcpy(h->prev, hash, sizeof(hash));
    return 0;
}

static int idem_finish(sq_store *s, const sigil_audit_record *a, const sigil_idem_outcome *o)
{
    sqlite3_stmt *st = stmt(s, Q_IDEM_FINISH);
    (void)bind_text(st, 1, a->tenant);
    (void)bind_text(st, 2, o->idem_key);
    (void)sqlite3_bind_int64(st, 3, o->status);
    (void)bind_blob(st, 4, o->body, o->body_len);
    (void)bind_text(st, 5, s->instance);
    GUARD(step_done(s, st, "idempotency record"));
    ENSURE(sqlite3_changes(s->db) == 1, SIGIL_E_CONFLICT,
           "Idempotency-Key: the reservation was lost");
    return 0;
}

static int usage_put(sq_store *s, const sigil_audit_record *a)
{
    const sigil_usage_record *u = a->usage;
    if (u == NULL)
        return 0;
    sqlite3_stmt *st = stmt(s, Q_USAGE_PUT);
    (void)bind_text(st, 1, a->tenant);
    (void)bind_text(st, 2, a->key_id);
    (void)bind_blob(st, 3, u->boot_id, sizeof(u->boot_id));
    (void)sqlite3_bind_int64(st, 4, (sqlite3_int64)u->seq);
    (void)sqlite3_bind_int64(st, 5, u->time_ms);
    (void)bind_blob(st, 6, u->report, u->report_len);
    GUARD(step_done(s, st, "limit usage"));
    st = stmt(s, Q_USAGE_PRUNE);
    (void)bind_text(st, 1, a->tenant);
    (void)bind_text(st, 2, a->key_id);
    (void)sqlite3_bind_int64(st, 3, a->time_ms - SIGIL_USAGE_KEEP_MS);
    return step_done(s, st, "limit usage purge");
}

/* The audit row of r, its idempotent response and its usage report. */
static int record_write(sq_store *s, sigil_group_req *r, chain_head *h)
{
    GUARD(audit_insert(s, r->a, h, &r->seq));
    if (r->idem != NULL)
        GUARD(idem_finish(s, r->a, r->idem));
    return usage_put(s, r->a);
}

/* One record in its own transaction: the fallback when a batch fails, so
 * that one bad record does not take the others down. */
static void commit_alone(sq_store *s, sigil_group_req *r)
{
    chain_head h;
    int rc = tx(s, Q_BEGIN);
    if (rc == 0) {
        rc = chain_head_read(s, &h);
        if (rc == 0)
            rc = record_write(s, r, &h);
        rc = tx_end(s, rc);
    }
    r->rc = 0;
    if (rc != 0)
        sigil_group_fail(r);
}

/* Writes a batch in one transaction (one fsync), chaining its rows in
 * queue order, and fills each record's outcome; if anything in it fails,
 * the batch is rolled back (the chain head with it) and each record is
 * written alone. Called by the group-commit leader (store_group.c). */
static void commit_batch(void *ctx, sigil_group_req *batch)
{
    sq_store *s = ctx;
    chain_head h;
    lock(s);
    int rc = tx(s, Q_BEGIN);
    if (rc == 0)
        rc = chain_head_read(s, &h);
    for (sigil_group_req *r = batch; r != NULL && rc == 0; r = r->next)
        rc = record_write(s, r, &h);
    rc = tx_end(s, rc);
    if (rc != 0) {
        for (sigil_group_req *r = batch; r != NULL; r = r->next)
            commit_alone(s, r);
    }
    (void)pthread_mutex_unlock(&s->mu);
}

static int sq_record_outcome(sigil_store *base, const sigil_audit_record *a,
                             const sigil_idem_outcome *idem, uint64_t *seq)
{
    GUARD(sigil_audit_record_check(a));
    return sigil_group_submit(&sq(base)->group, a, idem, seq);
}

static int usage_list_locked(sq_store *s, const char *tenant, const char *key_id, size_t limit,
                             sigil_store_usage_fn fn, void *ctx)
{
    sqlite3_stmt *st = stmt(s, Q_USAGE_LIST);
    int r;
    (void)bind_text(st, 1, tenant);
    (void)bind_text(st, 2, key_id);
    (void)sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    while ((r = step_row(s, st, "limit usage list")) == 1) {
        const void *p = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        if (p == NULL || n <= 0 || n > SIGIL_USAGE_REPORT_MAX) {
            (void)sqlite3_reset(st);
            BAIL(SIGIL_E_INTERNAL, "store: a limit usage report of a bad size");
        }
        if (fn(ctx, p, (size_t)n) != 0) {
            (void)sqlite3_reset(st);
            return -1;
        }
    }
    return r;
}

static int sq_usage_list(sigil_store *base, const char *tenant, const char *key_id, size_t limit,
                         sigil_store_usage_fn fn, void *ctx)
{
    sq_store *s = sq(base);
    sq_store *r = reader(s);
    if (r != NULL)
        return usage_list_locked(r, tenant, key_id, limit, fn, ctx);
    lock(s);
    return unlock_ret(s, usage_list_locked(s, tenant, key_id, limit, fn, ctx));
}

static int sq_usage_prune(sigil_store *base, int64_t before_ms, uint64_t *deleted)
{
    sq_store *s = sq(base);
    *deleted = 0;
    lock(s);
    sqlite3_stmt *st = stmt(s, Q_USAGE_PRUNE_ALL);
    (void)sqlite3_bind_int64(st, 1, before_ms);
    int rc = step_done(s, st, "limit usage purge");
    if (rc == 0)
        *deleted = (uint64_t)sqlite3_changes(s->db);
    return unlock_ret(s, rc);
}

/* Row readers: they never fail; a column the store would not have written
 * (wrong type or size, a NUL, an empty or oversized text) marks the row
 * malformed and keeps what can be read. */
static void row_text(sqlite3_stmt *st, int i, char *out, size_t cap, bool nullable,
                     sigil_audit_row *r)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    out[0] = '\0';
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        r->malformed |= !nullable;
        return;
    }
    if (sqlite3_column_type(st, i) != SQLITE_TEXT || t == NULL || n == 0 || n >= cap ||
        memchr(t, '\0', n) != NULL)
        r->malformed = true;
    if (t == NULL)
        return;
    n = n < cap ? n : cap - 1;
    memcpy(out, t, n);
    out[n] = '\0';
}

static void row_hash(sqlite3_stmt *st, int i, uint8_t out[32], bool nullable, bool *present,
                     sigil_audit_row *r)
{
    const void *p = sqlite3_column_blob(st, i);
    bool null = sqlite3_column_type(st, i) == SQLITE_NULL;
    memset(out, 0, 32);
    if (present != NULL)
        *present = false;
    if (null) {
        r->malformed |= !nullable;
        return;
    }
    if (sqlite3_column_type(st, i) != SQLITE_BLOB || p == NULL ||
        sqlite3_column_bytes(st, i) != 32) {
        r->malformed = true;
        return;
    }
    memcpy(out, p, 32);
    if (present != NULL)
        *present = true;
}

static int64_t row_int(sqlite3_stmt *st, int i, sigil_audit_row *r)
{
    r->malformed |= sqlite3_column_type(st, i) != SQLITE_INTEGER;
    return sqlite3_column_int64(st, i);
}

/* Columns in AUDIT_COLUMNS order. */
static void audit_from_row(sqlite3_stmt *st, sigil_audit_row *r)
{
    memset(r, 0, sizeof(*r));
    r->seq = (uint64_t)row_int(st, 0, r);
    r->time_ms = row_int(st, 1, r);
    row_text(st, 2, r->tenant, sizeof(r->tenant), false, r);
    row_text(st, 3, r->key_id, sizeof(r->key_id), true, r);
    row_text(st, 4, r->op, sizeof(r->op), false, r);
    row_text(st, 5, r->action, sizeof(r->action), true, r);
    row_text(st, 6, r->decision, sizeof(r->decision), false, r);
    int64_t status = row_int(st, 7, r);
    r->malformed |= status < 0 || status > 999;
    r->http_status = (unsigned)status;
    row_text(st, 8, r->error_code, sizeof(r->error_code), true, r);
    row_hash(st, 9, r->request_hash, true, &r->has_request_hash, r);
    row_hash(st, 10, r->output_hash, true, &r->has_output_hash, r);
    row_text(st, 11, r->receipt, sizeof(r->receipt), true, r);
    r->receipt_len = strlen(r->receipt);
    row_hash(st, 12, r->prev, false, NULL, r);
    row_hash(st, 13, r->hash, false, NULL, r);
}

static int audit_list_conn(sq_store *s, const char *tenant, uint64_t after, size_t limit,
                           sigil_store_audit_fn fn, void *ctx)
{
    sqlite3_stmt *st = stmt(s, tenant == NULL ? Q_AUDIT_LIST : Q_AUDIT_LIST_TENANT);
    sigil_audit_row row;
    int r;
    (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
    (void)sqlite3_bind_int64(st, 2, limit == 0 ? -1 : (sqlite3_int64)limit); /* -1: no limit */
    if (tenant != NULL)
        (void)bind_text(st, 3, tenant);
    while ((r = step_row(s, st, "audit list")) == 1) {
        audit_from_row(st, &row);
        if (fn(ctx, &row) != 0) {
            (void)sqlite3_reset(st);
            return -1;
        }
    }
    return r;
}

/* Lists on this thread's read connection (a snapshot that never waits
 * behind a commit), or on the writer when there is none. */
static int sq_audit_list(sigil_store *base, const char *tenant, uint64_t after_seq, size_t limit,
                         sigil_store_audit_fn fn, void *ctx)
{
    sq_store *s = sq(base);
    sq_store *r = reader(s);
    if (r != NULL)
        return audit_list_conn(r, tenant, after_seq, limit, fn, ctx);
    lock(s);
    return unlock_ret(s, audit_list_conn(s, tenant, after_seq, limit, fn, ctx));
}

static int audit_head_conn(sq_store *s, uint64_t *seq, uint8_t hash[32])
{
    sqlite3_stmt *st = stmt(s, Q_AUDIT_HEAD);
    int r = step_row(s, st, "audit head");
    GUARD(r < 0 ? -1 : 0);
    *seq = 0;
    memset(hash, 0, 32);
    if (r == 0)
        return 0;
    *seq = (uint64_t)sqlite3_column_int64(st, 0);
    if (sqlite3_column_type(st, 1) == SQLITE_BLOB && sqlite3_column_bytes(st, 1) == 32)
        memcpy(hash, sqlite3_column_blob(st, 1), 32);
    (void)sqlite3_reset(st);
    return 0;
}

static int sq_audit_head(sigil_store *base, uint64_t *seq, uint8_t hash[32])
{
    sq_store *s = sq(base);
    sq_store *r = reader(s);
    if (r != NULL)
        return audit_head_conn(r, seq, hash);
    lock(s);
    return unlock_ret(s, audit_head_conn(s, seq, hash));
}

/* Migration 2: chains the rows written before the chain existed, in seq
 * order, inside the migration's transaction. */
static int backfill_rows(sq_store *s, sqlite3_stmt *rd, sqlite3_stmt *up)
{
    uint8_t prev[32] = {0}, hash[32];
    sigil_audit_row row;
    sigil_audit_record a;
    int rc;
    while ((rc = sqlite3_step(rd)) == SQLITE_ROW) {
        audit_from_row(rd, &row);
        sigil_audit_row_record(&a, &row);
        GUARD(sigil_audit_hash(hash, prev, row.seq, &a));
        (void)sqlite3_reset(up);
        (void)sqlite3_bind_int64(up, 1, (sqlite3_int64)row.seq);
        (void)bind_blob(up, 2, prev, sizeof(prev));
        (void)bind_blob(up, 3, hash, sizeof(hash));
        ENSURE(sqlite3_step(up) == SQLITE_DONE, SIGIL_E_IO, "store: audit backfill failed: %s",
               sqlite3_errmsg(s->db));
        memcpy(prev, hash, sizeof(hash));
    }
    ENSURE(rc == SQLITE_DONE, SIGIL_E_IO, "store: audit backfill failed: %s",
           sqlite3_errmsg(s->db));
    return 0;
}

static int audit_backfill_chain(sq_store *s)
{
    sqlite3_stmt *rd = NULL, *up = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT " AUDIT_COLUMNS " FROM audit ORDER BY seq", -1, &rd,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE audit SET prev = ?2, hash = ?3 WHERE seq = ?1", -1, &up,
                           NULL) != SQLITE_OK)
        (void)sigil_fail(SIGIL_E_IO, "store: audit backfill: %s", sqlite3_errmsg(s->db));
    else
        rc = backfill_rows(s, rd, up);
    (void)sqlite3_finalize(rd);
    (void)sqlite3_finalize(up);
    return rc;
}

/* ---- boots and the seed ---- */
static int sq_boot_put(sigil_store *base, const sigil_boot_record *b, const uint8_t *doc,
                       size_t doc_len)
{
    sq_store *s = sq(base);
    ENSURE(doc != NULL && doc_len > 0, SIGIL_E_INTERNAL, "store: boot without a document");
    lock(s);
    sqlite3_stmt *st = stmt(s, Q_BOOT_PUT);
    (void)bind_blob(st, 1, b->boot_id, sizeof(b->boot_id));
    (void)bind_blob(st, 2, doc, doc_len);
    (void)bind_blob(st, 3, b->measurement, sizeof(b->measurement));
    (void)sqlite3_bind_int64(st, 4, b->created_ms);
    return unlock_ret(s, step_done(s, st, "boot archive"));
}

static int boot_get_locked(sq_store *s, const uint8_t *boot_id, sigil_boot_record *out,
                           sigil_buf *doc)
{
    sqlite3_stmt *st = stmt(s, Q_BOOT_GET);
    (void)bind_blob(st, 1, boot_id, SIGIL_BOOT_ID_LEN);
    int r = step_row(s, st, "boot lookup");
    GUARD(r < 0 ? -1 : 0);
    ENSURE(r == 1, SIGIL_E_NOT_FOUND, "boot_id: no such boot");
    memcpy(out->boot_id, boot_id, SIGIL_BOOT_ID_LEN);
    r = col_fixed(st, 0, out->measurement, sizeof(out->measurement), "boot measurement");
    out->created_ms = sqlite3_column_int64(st, 1);
    if (r == 0 && doc != NULL)
        r = col_buf(st, 2, doc, "boot document");
    (void)sqlite3_reset(st);
    return r;
}

static int sq_boot_get(sigil_store *base, const uint8_t boot_id[SIGIL_BOOT_ID_LEN],
                       sigil_boot_record *out, sigil_buf *doc)
{
    sq_store *s = sq(base);
    lock(s);
    return unlock_ret(s, boot_get_locked(s, boot_id, out, doc));
}

static int seed_get_locked(sq_store *s, sigil_buf *seed, bool *present)
{
    sqlite3_stmt *st = stmt(s, Q_SEED_GET);
    int r = step_row(s, st, "seed lookup");
    GUARD(r < 0 ? -1 : 0);
    *present = r == 1;
    if (r == 1) {
        r = col_buf(st, 0, seed, "seed ciphertext");
        (void)sqlite3_reset(st);
        return r;
    }
    return 0;
}

static int sq_seed_get(sigil_store *base, sigil_buf *seed, bool *present)
{
    sq_store *s = sq(base);
    lock(s);
    return unlock_ret(s, seed_get_locked(s, seed, present));
}

static int sq_seed_put(sigil_store *base, const uint8_t *seed, size_t len)
{
    sq_store *s = sq(base);
    ENSURE(seed != NULL && len > 0, SIGIL_E_INTERNAL, "store: empty seed ciphertext");
    lock(s);
    sqlite3_stmt *st = stmt(s, Q_SEED_PUT);
    (void)bind_blob(st, 1, seed, len);
    return unlock_ret(s, step_done(s, st, "seed store"));
}

/* ---- open, migrate, close ---- */
static void conn_close(sq_store *s)
{
    for (int i = 0; i < Q_COUNT_; i++)
        (void)sqlite3_finalize(s->q[i]);
    (void)sqlite3_close(s->db);
}

/* Thread exit: unlink this thread's reader from its store and close it. */
static void reader_destroy(void *p)
{
    sq_store *r = p, *s = r->owner;
    lock(s);
    for (sq_store **pp = &s->readers; *pp != NULL; pp = &(*pp)->next_reader) {
        if (*pp == r) {
            *pp = r->next_reader;
            break;
        }
    }
    (void)pthread_mutex_unlock(&s->mu);
    conn_close(r);
    free(r);
}

static void sq_close(sigil_store *base)
{
    sq_store *s = sq(base);
    if (s == NULL)
        return;
    if (s->checkpointer_running) {
        (void)pthread_mutex_lock(&s->cq_mu);
        s->checkpointer_stop = true;
        (void)pthread_cond_broadcast(&s->ckpt_cv);
        (void)pthread_mutex_unlock(&s->cq_mu);
        (void)pthread_join(s->checkpointer, NULL);
    }
    if (s->ckpt_db != NULL) {
        (void)sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        (void)sqlite3_close(s->ckpt_db);
    }
    if (s->has_reader_key) {
        (void)pthread_key_delete(s->reader_key);
        while (s->readers != NULL) {
            sq_store *r = s->readers;
            s->readers = r->next_reader;
            conn_close(r);
            free(r);
        }
    }
    conn_close(s);
    (void)pthread_mutex_destroy(&s->mu);
    (void)pthread_mutex_destroy(&s->cq_mu);
    sigil_group_destroy(&s->group);
    (void)pthread_cond_destroy(&s->ckpt_cv);
    free(s->path);
    free(s);
}

static const sigil_store_ops SQLITE_OPS = {
    .name = "sqlite",
    .close = sq_close,
    .tenant_add = sq_tenant_add,
    .tenant_exists = sq_tenant_exists,
    .tenant_list = sq_tenant_list,
    .token_add = sq_token_add,
    .token_get = sq_token_get,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .key_put = sq_key_put,
    .key_get = sq_key_get,
    .key_list = sq_key_list,
    .key_delete = sq_key_delete,
    .key_update = sq_key_update,
    .key_set_state = sq_key_set_state,
    .revocation_put = sq_revocation_put,
    .revocation_list = sq_revocation_list,
    .revocation_count = sq_revocation_count,
    .idem_begin = sq_idem_begin,
    .idem_abort = sq_idem_abort,
    .idem_renew = sq_idem_renew,
    .record_outcome = sq_record_outcome,
    .usage_list = sq_usage_list,
    .usage_prune = sq_usage_prune,
    .audit_list = sq_audit_list,
    .audit_head = sq_audit_head,
    .boot_put = sq_boot_put,
    .boot_get = sq_boot_get,
    .seed_get = sq_seed_get,
    .seed_put = sq_seed_put,
};

int sigil_store_sqlite_set_sync(sigil_store *base, bool full)
{
    sq_store *s = sq(base);
    lock(s);
    int rc =
        exec(s, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", "synchronous mode");
    return unlock_ret(s, rc);
}

/* WAL checkpoints off the request path: a committing request never stops
 * to copy the WAL into the database; this thread does it every second on
 * its own connection (PASSIVE: it never blocks readers or the writer).
 * Under steady writes a PASSIVE checkpoint never catches up with the last
 * commit, so the WAL would never start over and its file would only grow
 * (docs/SOAK.md): past WAL_FRAMES_MAX frames the thread runs a TRUNCATE
 * checkpoint, which holds new commits back for the few frames the PASSIVE
 * one left (they wait in their busy handler) and empties the file. */
#define CHECKPOINT_EVERY_MS 1000
#define WAL_FRAMES_MAX 16384 /* about 64 MiB of 4 KiB pages */

static void checkpoint(sq_store *s)
{
    int frames = 0, copied = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
    if (rc == SQLITE_OK && frames > WAL_FRAMES_MAX)
        (void)sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

static void *checkpointer_main(void *arg)
{
    sq_store *s = arg;
    struct timespec ts = {.tv_sec = CHECKPOINT_EVERY_MS / 1000};
    (void)pthread_mutex_lock(&s->cq_mu);
    while (!s->checkpointer_stop) {
        struct timespec until;
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ts.tv_sec;
        (void)pthread_cond_timedwait(&s->ckpt_cv, &s->cq_mu, &until);
        if (s->checkpointer_stop)
            break;
        (void)pthread_mutex_unlock(&s->cq_mu);
        checkpoint(s);
        (void)pthread_mutex_lock(&s->cq_mu);
    }
    (void)pthread_mutex_unlock(&s->cq_mu);
    return NULL;
}

static int checkpointer_start(sq_store *s)
{
    if (s->path == NULL || !s->has_reader_key)
        return 0; /* in-memory: nothing to checkpoint */
    ENSURE(sqlite3_open_v2(s->path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                           NULL) == SQLITE_OK,
           SIGIL_E_IO, "store: cannot open the checkpoint connection");
    (void)sqlite3_busy_timeout(s->ckpt_db, 5000);
    /* A connection learns that the database is in WAL mode only when it
     * first reads it; until then its checkpoints copy nothing (tests/soak
     * test_wal_checkpoint.py). */
    ENSURE(sqlite3_exec(s->ckpt_db, "PRAGMA schema_version", NULL, NULL, NULL) == SQLITE_OK,
           SIGIL_E_IO, "store: the checkpoint connection cannot read the database");
    (void)sqlite3_wal_autocheckpoint(s->db, 0);
    ENSURE(pthread_create(&s->checkpointer, NULL, checkpointer_main, s) == 0, SIGIL_E_INTERNAL,
           "store: cannot start the checkpoint thread");
    s->checkpointer_running = true;
    return 0;
}

int sigil_store_sqlite_schema_version(void)
{
    return (int)SIGIL_ARRAY_LEN(MIGRATIONS);
}

static int exec(sq_store *s, const char *sql, const char *what)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    (void)sigil_fail(SIGIL_E_IO, "store: %s failed: %s", what, err != NULL ? err : "?");
    sqlite3_free(err);
    return -1;
}

static int schema_version(sq_store *s, int *version)
{
    sqlite3_stmt *st = NULL;
    GUARD(exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
               "schema_version table"));
    ENSURE(sqlite3_prepare_v2(s->db, "SELECT MAX(version) FROM schema_version", -1, &st, NULL) ==
               SQLITE_OK,
           SIGIL_E_IO, "store: cannot read the schema version");
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    (void)sqlite3_finalize(st);
    ENSURE(*version >= 0, SIGIL_E_IO, "store: cannot read the schema version");
    return 0;
}

/* Applies each pending migration in its own transaction, with its version
 * row, so a crash leaves the database at a whole version. */
static int migrate(sq_store *s)
{
    int version;
    char bump[96];
    GUARD(exec(s, "BEGIN IMMEDIATE", "migration"));
    if (schema_version(s, &version) != 0) {
        (void)exec(s, "ROLLBACK", "rollback");
        return -1;
    }
    GUARD(exec(s, "COMMIT", "migration"));
    ENSURE(version <= sigil_store_sqlite_schema_version(), SIGIL_E_IO,
           "store: database schema version %d is newer than this build (%d)", version,
           sigil_store_sqlite_schema_version());
    for (int v = version; v < sigil_store_sqlite_schema_version(); v++) {
        snprintf(bump, sizeof(bump), "INSERT INTO schema_version (version) VALUES (%d)", v + 1);
        GUARD(exec(s, "BEGIN IMMEDIATE", "migration"));
        if (exec(s, MIGRATIONS[v].sql, "migration") != 0 ||
            (MIGRATIONS[v].after != NULL && MIGRATIONS[v].after(s) != 0) ||
            exec(s, bump, "migration") != 0 || exec(s, "COMMIT", "migration") != 0) {
            (void)exec(s, "ROLLBACK", "rollback");
            return -1;
        }
    }
    return 0;
}

static int prepare_all(sq_store *s)
{
    for (int i = 0; i < Q_COUNT_; i++)
        ENSURE(sqlite3_prepare_v3(s->db, QUERIES[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i],
                                  NULL) == SQLITE_OK,
               SIGIL_E_IO, "store: cannot prepare a statement: %s", sqlite3_errmsg(s->db));
    return 0;
}

static int configure(sq_store *s)
{
    (void)sqlite3_busy_timeout(s->db, 5000);
    GUARD(exec(s, "PRAGMA journal_mode=WAL", "journal mode"));
    /* the WAL file is cut back to 64 MiB whenever it starts over */
    GUARD(exec(s, "PRAGMA journal_size_limit=67108864", "journal size limit"));
    GUARD(exec(s, "PRAGMA synchronous=FULL", "synchronous mode"));
    GUARD(exec(s, "PRAGMA foreign_keys=ON", "foreign keys"));
    GUARD(migrate(s));
    return prepare_all(s);
}

/* Read connections do point lookups (token, key, idempotency record, boot
 * document): a small page cache each, so that one per handler thread costs
 * 16 × 256 KiB at most, not 16 × SQLite's default 2000 KiB, which they
 * would fill slowly as the tables grow. */
#define READER_CACHE_PRAGMA "PRAGMA cache_size=-256"

/* This thread's read connection, opened on first use; NULL (use the writer)
 * when one cannot be opened. */
static sq_store *reader(sq_store *s)
{
    if (!s->has_reader_key)
        return NULL;
    sq_store *r = pthread_getspecific(s->reader_key);
    if (r != NULL)
        return r;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->owner = s;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(s->path, &r->db, flags, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(r->db, 5000) != SQLITE_OK ||
        sqlite3_exec(r->db, READER_CACHE_PRAGMA, NULL, NULL, NULL) != SQLITE_OK ||
        prepare_all(r) != 0) {
        conn_close(r);
        free(r);
        sigil_clear_error();
        return NULL;
    }
    lock(s);
    r->next_reader = s->readers;
    s->readers = r;
    (void)pthread_mutex_unlock(&s->mu);
    (void)pthread_setspecific(s->reader_key, r);
    return r;
}

/* A new database file is created 0600 before SQLite opens it: SQLite gives
 * its -wal and -shm files the database file's mode, whatever the umask. */
static int create_private(const char *path)
{
    if (strcmp(path, ":memory:") == 0 || path[0] == '\0')
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST)
        return 0; /* an existing database keeps its mode (and SQLite says if it is read-only) */
    ENSURE(fd >= 0, SIGIL_E_IO, "store: cannot create %s: %s", path, strerror(errno));
    (void)close(fd);
    return 0;
}

int sigil_store_open_sqlite(sigil_store **out, const char *path)
{
    *out = NULL;
    GUARD(create_private(path));
    sq_store *s = calloc(1, sizeof(*s));
    ENSURE(s != NULL, SIGIL_E_NO_MEMORY, "store: out of memory");
    s->base.ops = &SQLITE_OPS;
    if (sigil_store_instance_id(s->instance) != 0) {
        free(s);
        return -1;
    }
    (void)pthread_mutex_init(&s->mu, NULL);
    (void)pthread_mutex_init(&s->cq_mu, NULL);
    sigil_group_init(&s->group, commit_batch, s);
    (void)pthread_cond_init(&s->ckpt_cv, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        (void)sigil_fail(SIGIL_E_IO, "store: cannot open the database: %s",
                         s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
        sq_close(&s->base);
        return -1;
    }
    if (configure(s) != 0) {
        sq_close(&s->base);
        return -1;
    }
    s->path = strdup(path);
    /* An in-memory database exists once per connection: no readers then. */
    s->has_reader_key = s->path != NULL && strcmp(path, ":memory:") != 0 && path[0] != '\0' &&
                        pthread_key_create(&s->reader_key, reader_destroy) == 0;
    if (checkpointer_start(s) != 0) {
        sq_close(&s->base);
        return -1;
    }
    *out = &s->base;
    return 0;
}
