/*
 * Shared by the PostgreSQL back-end's files (store_pg.c: connections,
 * migrations, tenants, tokens, keys, boots; store_pg_idem.c: idempotency;
 * store_pg_audit.c: the audit chain). Not a public interface.
 */
#ifndef SIGIL_GATEWAY_STORE_PG_INTERNAL_H
#define SIGIL_GATEWAY_STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>

#include "gateway/store_group.h"
#include "gateway/store_pg.h"

#define PG_POOL 16 /* connections per store handle */
#define PG_PARAMS_MAX 16

enum {
    PQ_TENANT_ADD,
    PQ_TENANT_EXISTS,
    PQ_TENANT_LIST,
    PQ_TOKEN_ADD,
    PQ_TOKEN_GET,
    PQ_TOKEN_LIST,
    PQ_TOKEN_LIST_TENANT,
    PQ_TOKEN_REVOKE,
    PQ_KEY_PUT,
    PQ_KEY_GET,
    PQ_KEY_LIST,
    PQ_KEY_DELETE,
    PQ_KEY_POLICY,
    PQ_KEY_UPDATE,
    PQ_KEY_STATE_SET,
    PQ_KEY_STATE_GET,
    PQ_REVOCATION_PUT,
    PQ_REVOCATION_LIST,
    PQ_REVOCATION_COUNT,
    PQ_IDEM_PURGE,
    PQ_IDEM_INSERT,
    PQ_IDEM_GET,
    PQ_IDEM_RESET,
    PQ_IDEM_DELETE,
    PQ_IDEM_FINISH,
    PQ_IDEM_RENEW,
    PQ_AUDIT_ADD,
    PQ_AUDIT_LIST,
    PQ_AUDIT_LIST_TENANT,
    PQ_CHAIN_LOCK,
    PQ_CHAIN_SET,
    PQ_AUDIT_HEAD,
    PQ_USAGE_PUT,
    PQ_USAGE_LIST,
    PQ_USAGE_PRUNE,
    PQ_USAGE_PRUNE_ALL,
    PQ_BOOT_PUT,
    PQ_BOOT_GET,
    PQ_SEED_GET,
    PQ_SEED_PUT,
    PQ_COUNT_
};

typedef struct {
    PGconn *conn; /* NULL: (re)connect on next use */
    bool busy;
    bool prepared[PQ_COUNT_]; /* statements are prepared on first use */
} pg_conn;

typedef struct {
    sigil_store base;
    char *url;
    bool full_sync;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pg_conn pool[PG_POOL];
    sigil_group group;
    /* the owner of this handle's idempotency reservations */
    char instance[SIGIL_STORE_INSTANCE_HEX + 1];
} pg_store;

/* Parameters of one statement, all in binary format. */
typedef struct {
    const char *v[PG_PARAMS_MAX];
    int len[PG_PARAMS_MAX];
    int fmt[PG_PARAMS_MAX];
    uint8_t ints[PG_PARAMS_MAX][8];
    int n;
} pg_params;

void pg_text(pg_params *p, const char *s);
void pg_textn(pg_params *p, const char *s, size_t n);
void pg_blob(pg_params *p, const void *b, size_t n); /* NULL: SQL NULL */
void pg_int(pg_params *p, int64_t v);
void pg_null(pg_params *p);

/* A pooled connection for one operation (waits while all are busy). */
SIGIL_WARN_UNUSED_RESULT int pg_acquire(pg_store *s, pg_conn **out);
void pg_release(pg_store *s, pg_conn *c);
/* Runs prepared statement q; *res holds its rows (PQclear it). Errors are
 * mapped to sigil errors (unique or foreign-key violation: CONFLICT "what:
 * already exists"; connection lost or server down: UNAVAILABLE). */
SIGIL_WARN_UNUSED_RESULT int pg_run(pg_conn *c, int q, const pg_params *p, PGresult **res,
                                    const char *what);
/* Runs q and reports how many rows it changed. */
SIGIL_WARN_UNUSED_RESULT int pg_changed(pg_conn *c, int q, const pg_params *p, long *n,
                                        const char *what);
int pg_exec(pg_conn *c, const char *sql, const char *what);
/* Ends a transaction: commit when rc is 0, else roll back keeping the error. */
int pg_tx_end(pg_conn *c, int rc);

int64_t pg_get_int(const PGresult *r, int row, int col);
/* A column's bytes (NULL when SQL NULL) and length. */
const uint8_t *pg_get(const PGresult *r, int row, int col, size_t *len);

/* A statement on a pooled connection; *n rows changed. */
SIGIL_WARN_UNUSED_RESULT int pg_changed1(pg_store *s, int q, const pg_params *p, long *n,
                                         const char *what);
/* A column of exactly n bytes (else SIGIL_E_INTERNAL), or copied into out
 * (too large: SIGIL_E_TOO_LARGE). */
SIGIL_WARN_UNUSED_RESULT int pg_col_fixed(const PGresult *r, int row, int col, uint8_t *out,
                                          size_t n, const char *what);
SIGIL_WARN_UNUSED_RESULT int pg_col_buf(const PGresult *r, int row, int col, sigil_buf *out,
                                        const char *what);

/* store_pg_idem.c */
int pg_idem_begin(sigil_store *base, const char *tenant, const char *idem_key,
                  const uint8_t request_hash[32], int64_t now_ms, sigil_idem_state *state,
                  unsigned *status, sigil_buf *body);
int pg_idem_abort(sigil_store *base, const char *tenant, const char *idem_key);
int pg_idem_renew(sigil_store *base, int64_t now_ms);

/* store_pg_audit.c */
int pg_record_outcome(sigil_store *base, const sigil_audit_record *a,
                      const sigil_idem_outcome *idem, uint64_t *seq);
int pg_audit_list(sigil_store *base, const char *tenant, uint64_t after_seq, size_t limit,
                  sigil_store_audit_fn fn, void *ctx);
int pg_audit_head(sigil_store *base, uint64_t *seq, uint8_t hash[32]);
int pg_usage_list(sigil_store *base, const char *tenant, const char *key_id, size_t limit,
                  sigil_store_usage_fn fn, void *ctx);
int pg_usage_prune(sigil_store *base, int64_t before_ms, uint64_t *deleted);
void pg_commit_batch(void *ctx, sigil_group_req *batch);

#endif
