/*
 * The gateway's store: tenants, bearer tokens, sealed key blobs, idempotency
 * records, the audit log, archived boot documents and the enclave seed
 * ciphertext. Untrusted host code; nothing here is secret in plaintext
 * (tokens are kept as SHA-256 hashes, blobs are sealed by the enclave).
 * One interface (a table of function pointers), several back-ends: SQLite
 * (store_sqlite.c) and PostgreSQL (store_pg*.c), chosen by URL (store_open.c). Every function
 * returns 0 or -1 with the thread-local sigil error set; "absent" is SIGIL_E_NOT_FOUND.
 */
#ifndef SIGIL_GATEWAY_STORE_H
#define SIGIL_GATEWAY_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "sigil/common.h"

#define SIGIL_TENANT_MAX 64       /* tenant names: 1..64 of [a-z0-9_-] */
#define SIGIL_KEY_ID_MAX 64       /* key ids: 1..64 of [A-Za-z0-9_-] */
#define SIGIL_TOKEN_ID_HEX 16     /* token id: 8 random bytes, lowercase hex */
#define SIGIL_TOKEN_SECRET_HEX 64 /* token secret: 32 random bytes, lowercase hex */
#define SIGIL_TOKEN_PREFIX "sgl_" /* sgl_<id>_<secret> */
#define SIGIL_TOKEN_LEN (4 + SIGIL_TOKEN_ID_HEX + 1 + SIGIL_TOKEN_SECRET_HEX)
#define SIGIL_IDEM_KEY_MAX 128 /* Idempotency-Key: 1..128 of 0x21..0x7e */
#define SIGIL_IDEM_TTL_MS (24ll * 3600 * 1000)
/* An in-progress reservation belongs to one store handle (one gateway
 * process) and is leased: its owner renews the lease every
 * SIGIL_IDEM_RENEW_MS while it lives (idem_renew); once the lease has run
 * out (the owner died), another gateway may take the reservation over. */
#define SIGIL_IDEM_LEASE_MS 5000ll
#define SIGIL_IDEM_RENEW_MS 1000u
#define SIGIL_STORE_INSTANCE_HEX 16
#define SIGIL_BOOT_ID_LEN 16
#define SIGIL_MEASUREMENT_LEN 48
#define SIGIL_VENUE_MAX 32
#define SIGIL_NETWORK_MAX 32
#define SIGIL_KEY_TYPE_MAX 32
#define SIGIL_ADDRESS_MAX 128
#define SIGIL_ACTION_MAX 64
#define SIGIL_AUDIT_RECEIPT_MAX 4096 /* bytes of a wire receipt (SIGIL_RECEIPT_MAX_BYTES) */
#define SIGIL_AUDIT_ERROR_CODE_MAX 31
#define SIGIL_AUDIT_HASH_TAG "sigil-audit-v1" /* domain of the row hash (docs/API.md "Audit") */
#define SIGIL_USAGE_REPORT_MAX 512            /* bytes of an enclave's limit usage report (CBOR) */
/* Usage reports older than this (by the record's time) no longer count for
 * anything (another UTC day, deficits refilled) and are deleted: a key's
 * own with its next record, every key's by the gateway's timer
 * (usage_prune). */
#define SIGIL_USAGE_KEEP_MS (2ll * 86400 * 1000)

/* ---- Records (fixed-size fields; blobs and documents go to caller buffers) ---- */
typedef struct {
    char id[SIGIL_TOKEN_ID_HEX + 1];
    char tenant[SIGIL_TENANT_MAX + 1];
    uint8_t secret_hash[32]; /* SHA-256 of the secret's hex text */
    int64_t created_ms;
    int64_t revoked_ms; /* 0 = active */
} sigil_token_record;

/* A key's lifecycle (docs/API.md "Key lifecycle"): disabled is the
 * tenant's reversible switch, revoked the owner's signed and final one. */
typedef enum {
    SIGIL_KEY_ACTIVE,
    SIGIL_KEY_DISABLED,
    SIGIL_KEY_REVOKED,
    SIGIL_KEY_STATE_COUNT_
} sigil_key_state;

typedef struct {
    char key_id[SIGIL_KEY_ID_MAX + 1];
    char tenant[SIGIL_TENANT_MAX + 1];
    char venue[SIGIL_VENUE_MAX + 1];
    char network[SIGIL_NETWORK_MAX + 1];
    char key_type[SIGIL_KEY_TYPE_MAX + 1];
    char address[SIGIL_ADDRESS_MAX + 1]; /* empty = none */
    uint8_t policy_hash[32];
    uint64_t policy_version; /* of the owner-signed policy in force */
    int64_t created_ms;
    int64_t deleted_ms; /* 0 = live */
    sigil_key_state state;
    int client_key; /* 1: binds a client key, 0: not, -1: not recorded (imported before) */
} sigil_key_record;

/* An enclave boot's latest usage of a key with limits (docs/POLICY.md
 * "Limits across enclaves"): the enclave's report verbatim, with the boot
 * and the report's sequence number it was read from. */
typedef struct {
    uint8_t boot_id[SIGIL_BOOT_ID_LEN];
    uint64_t seq;
    int64_t time_ms;
    const uint8_t *report; /* 1..SIGIL_USAGE_REPORT_MAX bytes */
    size_t report_len;
} sigil_usage_record;

/* An owner-signed revocation the enclave accepted (docs/POLICY.md
 * "Revocation"), kept with the blob it was checked against. */
typedef struct {
    char tenant[SIGIL_TENANT_MAX + 1];
    char key_id[SIGIL_KEY_ID_MAX + 1];
    uint8_t signature[64];
    int64_t created_ms;
} sigil_revocation_record;

/* An audit record to append. Optional texts are NULL when absent (never
 * empty: the store refuses ""). */
typedef struct {
    int64_t time_ms;
    const char *tenant;
    const char *key_id;   /* NULL when none (e.g. an import the enclave refused) */
    const char *op;       /* "sign" | "import" | "policy_update" | "rotate" | "rewrap" |
                             "revoke" | "disable" | "enable" */
    const char *action;   /* NULL when unknown */
    const char *decision; /* "allow" | "deny" | "error" */
    unsigned http_status;
    const char *error_code;      /* NULL on success */
    const uint8_t *request_hash; /* 32 bytes or NULL */
    const uint8_t *output_hash;  /* 32 bytes or NULL */
    const char *receipt;         /* the enclave's wire receipt (JSON text), NULL when none */
    size_t receipt_len;          /* 1..SIGIL_AUDIT_RECEIPT_MAX when receipt is set */
    /* Not part of the row: the enclave's usage report of the key, stored in
     * the same transaction for (tenant, key_id, boot) unless a report with
     * a higher seq is already there, and the key's reports older than
     * time_ms - SIGIL_USAGE_KEEP_MS deleted (NULL: none). */
    const sigil_usage_record *usage;
} sigil_audit_record;

/* An audit row read back (the audit route, `sigil audit verify`). Absent
 * texts are "". */
typedef struct {
    uint64_t seq;
    int64_t time_ms;
    char tenant[SIGIL_TENANT_MAX + 1];
    char key_id[SIGIL_KEY_ID_MAX + 1];
    char op[16];
    char action[SIGIL_ACTION_MAX + 1];
    char decision[16];
    unsigned http_status;
    char error_code[SIGIL_AUDIT_ERROR_CODE_MAX + 1];
    uint8_t request_hash[32];
    bool has_request_hash;
    uint8_t output_hash[32];
    bool has_output_hash;
    char receipt[SIGIL_AUDIT_RECEIPT_MAX + 1];
    size_t receipt_len; /* 0 = none */
    uint8_t prev[32];   /* the previous row's hash (zeros for seq 1) */
    uint8_t hash[32];   /* sigil_audit_hash of this row */
    /* A column holds what the store never writes (wrong size or type, a NUL
     * in a text, an empty text, over a limit): the row was altered outside
     * the store. The fields above then hold what could be read. */
    bool malformed;
} sigil_audit_row;

typedef struct {
    uint8_t boot_id[SIGIL_BOOT_ID_LEN];
    uint8_t measurement[SIGIL_MEASUREMENT_LEN];
    int64_t created_ms;
} sigil_boot_record;

/* Idempotency: what idem_begin found. */
typedef enum {
    SIGIL_IDEM_NEW,         /* reserved for this caller: do the work, then finish or abort */
    SIGIL_IDEM_DONE,        /* a stored response: return it as is */
    SIGIL_IDEM_IN_PROGRESS, /* another request with this key is running */
    SIGIL_IDEM_MISMATCH,    /* the key was used with a different request */
} sigil_idem_state;

/* The response to remember with an audit record (see record_outcome). */
typedef struct {
    const char *idem_key;
    unsigned status;
    const uint8_t *body;
    size_t body_len;
} sigil_idem_outcome;

typedef int (*sigil_store_tenant_fn)(void *ctx, const char *name, int64_t created_ms);
typedef int (*sigil_store_token_fn)(void *ctx, const sigil_token_record *t);
typedef int (*sigil_store_key_fn)(void *ctx, const sigil_key_record *k);
typedef int (*sigil_store_audit_fn)(void *ctx, const sigil_audit_row *a);
typedef int (*sigil_store_usage_fn)(void *ctx, const uint8_t *report, size_t len);
typedef int (*sigil_store_revocation_fn)(void *ctx, const sigil_revocation_record *r,
                                         const uint8_t *blob, size_t blob_len);

typedef struct sigil_store sigil_store;

typedef struct {
    const char *name;
    void (*close)(sigil_store *s);

    /* Tenants. Adding an existing name is SIGIL_E_CONFLICT. */
    int (*tenant_add)(sigil_store *s, const char *name, int64_t now_ms);
    int (*tenant_exists)(sigil_store *s, const char *name, bool *exists);
    int (*tenant_list)(sigil_store *s, sigil_store_tenant_fn fn, void *ctx);

    /* Tokens. The tenant must exist (else SIGIL_E_NOT_FOUND). */
    int (*token_add)(sigil_store *s, const sigil_token_record *t);
    int (*token_get)(sigil_store *s, const char *id, sigil_token_record *out);
    /* tenant NULL lists every token. */
    int (*token_list)(sigil_store *s, const char *tenant, sigil_store_token_fn fn, void *ctx);
    /* Unknown or already revoked: SIGIL_E_NOT_FOUND. */
    int (*token_revoke)(sigil_store *s, const char *id, int64_t now_ms);

    /* Keys. key_put of an existing key id is SIGIL_E_CONFLICT. key_get only
     * sees the tenant's own live keys; anything else is SIGIL_E_NOT_FOUND.
     * The blob is copied into blob (too small: SIGIL_E_TOO_LARGE). */
    int (*key_put)(sigil_store *s, const sigil_key_record *k, const uint8_t *blob, size_t blob_len);
    int (*key_get)(sigil_store *s, const char *tenant, const char *key_id, sigil_key_record *out,
                   sigil_buf *blob);
    int (*key_list)(sigil_store *s, const char *tenant, sigil_store_key_fn fn, void *ctx);
    int (*key_delete)(sigil_store *s, const char *tenant, const char *key_id, int64_t now_ms);
    /* Replaces a live key's blob, policy_hash, policy_version, key_type and
     * address (from k; a policy update passes them unchanged, a rotation
     * may change the last two) if its stored policy_hash still equals
     * old_policy_hash (else SIGIL_E_CONFLICT "key changed concurrently");
     * unknown, deleted or another tenant's: SIGIL_E_NOT_FOUND. Every change
     * of a key's content changes its policy hash (a higher version), so the
     * hash is the swap's version stamp; a rewrap keeps it. */
    int (*key_update)(sigil_store *s, const char *tenant, const char *key_id,
                      const uint8_t old_policy_hash[32], const sigil_key_record *k,
                      const uint8_t *blob, size_t blob_len);
    /* Moves a live key of the tenant from state `from` to `to` (a key already
     * at `to` stays: no error). Revoked: SIGIL_E_REVOKED; unknown, deleted
     * or another tenant's: SIGIL_E_NOT_FOUND. */
    int (*key_set_state)(sigil_store *s, const char *tenant, const char *key_id,
                         sigil_key_state from, sigil_key_state to);

    /* Revocations. put stores one (a second for the same key is ignored)
     * and marks the key revoked, deleted or not, in one transaction. list
     * calls fn for each in storage order; fn must not call the store. count
     * is how many are stored (they are never removed). */
    int (*revocation_put)(sigil_store *s, const sigil_revocation_record *r, const uint8_t *blob,
                          size_t blob_len);
    int (*revocation_list)(sigil_store *s, sigil_store_revocation_fn fn, void *ctx);
    int (*revocation_count)(sigil_store *s, uint64_t *n);

    /* Idempotency. begin reserves (tenant, key) for request_hash for this
     * store handle (leased until now + SIGIL_IDEM_LEASE_MS), or reports
     * what is there; a DONE record's status and body are copied out.
     * Records older than SIGIL_IDEM_TTL_MS count as absent; an in-progress
     * reservation whose lease ran out is taken over (SIGIL_IDEM_NEW).
     * abort releases this handle's reservation (the work failed in a way a
     * retry may fix); record_outcome completes it only while this handle
     * still holds it (else SIGIL_E_CONFLICT and nothing is written). renew
     * extends the leases of all of this handle's reservations. */
    int (*idem_begin)(sigil_store *s, const char *tenant, const char *idem_key,
                      const uint8_t request_hash[32], int64_t now_ms, sigil_idem_state *state,
                      unsigned *status, sigil_buf *body);
    int (*idem_abort)(sigil_store *s, const char *tenant, const char *idem_key);
    int (*idem_renew)(sigil_store *s, int64_t now_ms);

    /* Appends an audit record durably and, when idem is not NULL, completes
     * that idempotency reservation with the response, in one transaction:
     * either both are stored or neither. The row is chained (seq, prev,
     * hash) in commit order inside that transaction. A record with a bad
     * field (unknown op or decision, empty or oversized text) is
     * SIGIL_E_INTERNAL. */
    int (*record_outcome)(sigil_store *s, const sigil_audit_record *a,
                          const sigil_idem_outcome *idem, uint64_t *seq);
    /* Rows with seq > after_seq in seq order, of one tenant (NULL: all), at
     * most limit of them (0: no limit). fn must not call the store. */
    int (*audit_list)(sigil_store *s, const char *tenant, uint64_t after_seq, size_t limit,
                      sigil_store_audit_fn fn, void *ctx);
    /* The last row's seq and hash; 0 and zeros when the log is empty. */
    int (*audit_head)(sigil_store *s, uint64_t *seq, uint8_t hash[32]);

    /* Limit usage (written with record_outcome): the latest report of each
     * boot for the key, newest report time first, at most limit of them. */
    int (*usage_list)(sigil_store *s, const char *tenant, const char *key_id, size_t limit,
                      sigil_store_usage_fn fn, void *ctx);
    /* Deletes the reports of every key whose report time is before
     * before_ms, *deleted of them: the gateway's timer passes now -
     * SIGIL_USAGE_KEEP_MS, for keys that never sign again (a key that signs
     * drops its own old reports with record_outcome). */
    int (*usage_prune)(sigil_store *s, int64_t before_ms, uint64_t *deleted);

    /* Boot documents (archived by boot id) and the enclave seed ciphertext.
     * boot_put of a known boot id is a no-op. */
    int (*boot_put)(sigil_store *s, const sigil_boot_record *b, const uint8_t *doc, size_t doc_len);
    int (*boot_get)(sigil_store *s, const uint8_t boot_id[SIGIL_BOOT_ID_LEN],
                    sigil_boot_record *out, sigil_buf *doc);
    /* *present false (and seed untouched) when none is stored yet. */
    int (*seed_get)(sigil_store *s, sigil_buf *seed, bool *present);
    int (*seed_put)(sigil_store *s, const uint8_t *seed, size_t len);
} sigil_store_ops;

struct sigil_store {
    const sigil_store_ops *ops;
};

/* ---- Back-ends ---- */
/* Opens (creating if needed) the SQLite database at path and applies every
 * pending migration. WAL, synchronous=FULL, foreign keys on. Safe to use
 * from many threads (one connection behind a mutex). */
SIGIL_WARN_UNUSED_RESULT int sigil_store_open_sqlite(sigil_store **out, const char *path);
/* Audit durability of a SQLite store: full (default; a committed record
 * survives power loss: one fsync per group commit) or normal (WAL without
 * an fsync per commit: survives a crash of the gateway, not of the OS). */
SIGIL_WARN_UNUSED_RESULT int sigil_store_sqlite_set_sync(sigil_store *s, bool full);
/* The schema version this build migrates to. */
int sigil_store_sqlite_schema_version(void);

/* ---- State directory (store_home.c) ---- */
/* Resolves the state directory: dir if not NULL, else $SIGIL_HOME, else
 * "./var"; creates it (mode 0700) if missing; writes "<dir>/sigil.db" to
 * db_path. */
SIGIL_WARN_UNUSED_RESULT int sigil_store_home(char *db_path, size_t cap, const char *dir);

/* ---- The audit hash chain (store_audit.c; docs/API.md "Audit") ---- */
/* Checks a record before it is appended: tenant, op and decision set and
 * known, optional texts absent or 1..their limit bytes, receipt without a
 * NUL. SIGIL_E_INTERNAL naming the field. */
SIGIL_WARN_UNUSED_RESULT int sigil_audit_record_check(const sigil_audit_record *a);
/* hash = SHA-256(tag 0x00 || prev || seq || every column, length-prefixed). */
SIGIL_WARN_UNUSED_RESULT int sigil_audit_hash(uint8_t hash[32], const uint8_t prev[32],
                                              uint64_t seq, const sigil_audit_record *a);
/* The record a row was written from (pointers into row). */
void sigil_audit_row_record(sigil_audit_record *out, const sigil_audit_row *row);

/* ---- Key states (store_key_state.c) ---- */
/* "active", "disabled", "revoked". */
const char *sigil_key_state_name(sigil_key_state s);
/* A stored state's text; anything else is SIGIL_E_INTERNAL (the row was
 * written outside the store). */
SIGIL_WARN_UNUSED_RESULT int sigil_key_state_parse(sigil_key_state *out, const char *text);

/* ---- Names and tokens (store_token.c) ---- */
SIGIL_WARN_UNUSED_RESULT int sigil_tenant_name_check(const char *name, size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_key_id_check(const char *id, size_t len);

typedef struct {
    char id[SIGIL_TOKEN_ID_HEX + 1];
    uint8_t secret_hash[32];
} sigil_token;

/* Parses "sgl_<16 hex>_<64 hex>" (lowercase hex, nothing else): the id and
 * the hash of the secret. Anything else is SIGIL_E_UNAUTHORIZED
 * "malformed bearer token". */
SIGIL_WARN_UNUSED_RESULT int sigil_token_parse(sigil_token *out, const char *text, size_t len);
/* Parses an Authorization header value "Bearer <token>" (scheme compared
 * case-insensitively, one space). */
SIGIL_WARN_UNUSED_RESULT int sigil_token_from_header(sigil_token *out, const char *hdr, size_t len);
/* A fresh token for tenant: text (SIGIL_TOKEN_LEN + 1 bytes, NUL-terminated,
 * shown once) and the record to store. */
SIGIL_WARN_UNUSED_RESULT int sigil_token_generate(char text[static SIGIL_TOKEN_LEN + 1],
                                                  sigil_token_record *rec, const char *tenant,
                                                  int64_t now_ms);
/* Checks a parsed token against its stored record in constant time:
 * revoked or a different secret is SIGIL_E_UNAUTHORIZED. */
SIGIL_WARN_UNUSED_RESULT int sigil_token_verify(const sigil_token_record *rec,
                                                const sigil_token *tok);
/* A fresh random id for a store handle (the owner of its idempotency
 * reservations): SIGIL_STORE_INSTANCE_HEX lowercase hex digits. */
SIGIL_WARN_UNUSED_RESULT int sigil_store_instance_id(char out[static SIGIL_STORE_INSTANCE_HEX + 1]);

/* Constant-time equality (1 when equal) for hashes and tokens. */
int sigil_store_ct_eq(const void *a, const void *b, size_t n);

/* Milliseconds since the Unix epoch. */
int64_t sigil_store_now_ms(void);

#endif
