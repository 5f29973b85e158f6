/*
 * Unit tests for the gateway store (src/gateway/store*.c): migrations,
 * tenants, tokens, keys, idempotency, audit (and its hash chain, under
 * concurrency and across two store handles on one file), boots and the
 * seed, against a fresh SQLite file per test and, when SIGIL_TEST_PG_URL
 * names a PostgreSQL database (tests/pg/run.sh starts one), the same cases
 * against a freshly emptied schema there (SIGIL_TEST_PG_ONLY=1: only
 * those). Another tenant's key must be invisible.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "gateway/store.h"
#include "gateway/store_pg.h"
#include "sigil/crypto.h"

typedef struct {
    char dir[256];
    char db[300];
    sigil_store *s;
} fixture;

/* A back-end under test: how to open a store on the fixture, how to run
 * SQL on it behind the store's back, and that back-end's SQL for the
 * tampering tests. */
typedef struct {
    const char *name;
    int (*open)(const fixture *f, sigil_store **out);
    int (*reset)(const fixture *f); /* empties the database */
    int (*raw)(const fixture *f, const char *sql);
    int (*schema_version)(void);
    const char *tamper_sql; /* a 2-byte request_hash in row 1, an empty key_id in row 2 */
    bool has_v1;            /* databases of the first release exist (SQLite only) */
} backend;

static const char *pg_url(void)
{
    return getenv("SIGIL_TEST_PG_URL");
}

static int sqlite_open(const fixture *f, sigil_store **out)
{
    return sigil_store_open_sqlite(out, f->db);
}

static int sqlite_reset(const fixture *f)
{
    (void)f;
    return 0; /* a fresh directory per test */
}

static int sqlite_raw(const fixture *f, const char *sql)
{
    sqlite3 *db;
    if (sqlite3_open(f->db, &db) != SQLITE_OK)
        return -1;
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    sqlite3_close(db);
    return rc;
}

static int pg_open(const fixture *f, sigil_store **out)
{
    (void)f;
    return sigil_store_open_pg(out, pg_url(), true);
}

static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int pg_raw(const fixture *f, const char *sql)
{
    (void)f;
    PGconn *c = PQconnectdb(pg_url());
    int rc = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        (void)PQsetNoticeProcessor(c, pg_quiet, NULL);
        PGresult *r = PQexec(c, sql);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
        if (rc != 0)
            fprintf(stderr, "pg: %s", PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    return rc;
}

static int pg_reset(const fixture *f)
{
    return pg_raw(f, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;");
}

static const backend BACKENDS[] = {
    {"sqlite", sqlite_open, sqlite_reset, sqlite_raw, sigil_store_sqlite_schema_version,
     "UPDATE audit SET request_hash = x'0102' WHERE seq = 1;"
     "UPDATE audit SET key_id = '' WHERE seq = 2;",
     true},
    {"postgresql", pg_open, pg_reset, pg_raw, sigil_store_pg_schema_version,
     "UPDATE audit SET request_hash = '\\x0102'::bytea WHERE seq = 1;"
     "UPDATE audit SET key_id = '' WHERE seq = 2;",
     false},
};

static const backend *B = &BACKENDS[0]; /* the one main() is running */

static int open_store(const fixture *f, sigil_store **out)
{
    return B->open(f, out);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sigil-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(sigil_store_home(f->db, sizeof(f->db), f->dir), 0);
    assert_int_equal(B->reset(f), 0);
    if (open_store(f, &f->s) != 0)
        fail_msg("open: %s", sigil_errmsg());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char path[400];
    if (f->s != NULL)
        f->s->ops->close(f->s);
    static const char *const SUFFIX[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", f->db, SUFFIX[i]);
        (void)unlink(path);
    }
    (void)rmdir(f->dir);
    free(f);
    return 0;
}

#define OK(x)                                                                                      \
    do {                                                                                           \
        if ((x) != 0)                                                                              \
            fail_msg("%s: %s", #x, sigil_errmsg());                                                \
    } while (0)
#define FAILS(x, code)                                                                             \
    do {                                                                                           \
        sigil_clear_error();                                                                       \
        if ((x) == 0)                                                                              \
            fail_msg("%s succeeded", #x);                                                          \
        assert_string_equal(sigil_err_code(sigil_errno()), sigil_err_code(code));                  \
    } while (0)

static int count_cb(void *ctx, const char *name, int64_t ms)
{
    (void)name;
    (void)ms;
    (*(int *)ctx)++;
    return 0;
}

static void test_migrations_idempotent(void **state)
{
    fixture *f = *state;
    int n = 0;
    OK(f->s->ops->tenant_add(f->s, "acme", 1));
    f->s->ops->close(f->s);
    f->s = NULL;
    /* reopening applies nothing twice and keeps the data */
    for (int i = 0; i < 2; i++) {
        OK(open_store(f, &f->s));
        n = 0;
        OK(f->s->ops->tenant_list(f->s, count_cb, &n));
        assert_int_equal(n, 1);
        f->s->ops->close(f->s);
        f->s = NULL;
    }
    assert_int_equal(B->schema_version(), 5);
    OK(open_store(f, &f->s));
}

static void test_tenants(void **state)
{
    fixture *f = *state;
    bool exists = true;
    int n = 0;
    OK(f->s->ops->tenant_add(f->s, "acme", 1));
    OK(f->s->ops->tenant_add(f->s, "beta_2-x", 2));
    FAILS(f->s->ops->tenant_add(f->s, "acme", 3), SIGIL_E_CONFLICT);
    FAILS(f->s->ops->tenant_add(f->s, "Acme", 3), SIGIL_E_BAD_FIELD);
    FAILS(f->s->ops->tenant_add(f->s, "", 3), SIGIL_E_BAD_FIELD);
    FAILS(f->s->ops->tenant_add(f->s, "a b", 3), SIGIL_E_BAD_FIELD);
    char long_name[80];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    FAILS(f->s->ops->tenant_add(f->s, long_name, 3), SIGIL_E_BAD_FIELD);
    long_name[64] = '\0';
    OK(f->s->ops->tenant_add(f->s, long_name, 3));
    OK(f->s->ops->tenant_exists(f->s, "nobody", &exists));
    assert_false(exists);
    OK(f->s->ops->tenant_exists(f->s, "acme", &exists));
    assert_true(exists);
    OK(f->s->ops->tenant_list(f->s, count_cb, &n));
    assert_int_equal(n, 3);
}

/* ---- tokens ---- */
static int token_count_cb(void *ctx, const sigil_token_record *t)
{
    (void)t;
    (*(int *)ctx)++;
    return 0;
}

static void test_tokens_round_trip(void **state)
{
    fixture *f = *state;
    char text[SIGIL_TOKEN_LEN + 1];
    sigil_token_record rec, got;
    sigil_token tok;
    int n = 0;
    OK(f->s->ops->tenant_add(f->s, "acme", 1));
    OK(f->s->ops->tenant_add(f->s, "beta", 1));
    OK(sigil_token_generate(text, &rec, "acme", 10));
    assert_int_equal(strlen(text), SIGIL_TOKEN_LEN);
    assert_memory_equal(text, "sgl_", 4);
    OK(f->s->ops->token_add(f->s, &rec));
    OK(sigil_token_parse(&tok, text, strlen(text)));
    assert_string_equal(tok.id, rec.id);
    OK(f->s->ops->token_get(f->s, tok.id, &got));
    assert_string_equal(got.tenant, "acme");
    assert_int_equal(got.created_ms, 10);
    assert_int_equal(got.revoked_ms, 0);
    OK(sigil_token_verify(&got, &tok));
    /* the store keeps a hash, not the secret */
    assert_memory_not_equal(got.secret_hash, text + 4 + SIGIL_TOKEN_ID_HEX + 1, 32);
    /* another token of another tenant */
    OK(sigil_token_generate(text, &rec, "beta", 11));
    OK(f->s->ops->token_add(f->s, &rec));
    OK(f->s->ops->token_list(f->s, "acme", token_count_cb, &n));
    assert_int_equal(n, 1);
    n = 0;
    OK(f->s->ops->token_list(f->s, NULL, token_count_cb, &n));
    assert_int_equal(n, 2);
    /* a different secret with the same id does not verify */
    char forged[SIGIL_TOKEN_LEN + 1];
    memcpy(forged, text, sizeof(forged));
    forged[SIGIL_TOKEN_LEN - 1] = forged[SIGIL_TOKEN_LEN - 1] == '0' ? '1' : '0';
    OK(sigil_token_parse(&tok, forged, SIGIL_TOKEN_LEN));
    OK(f->s->ops->token_get(f->s, tok.id, &got));
    FAILS(sigil_token_verify(&got, &tok), SIGIL_E_UNAUTHORIZED);
    assert_string_equal(sigil_errmsg(), "unknown bearer token");
    /* revoke */
    OK(sigil_token_parse(&tok, text, SIGIL_TOKEN_LEN));
    OK(f->s->ops->token_revoke(f->s, tok.id, 20));
    FAILS(f->s->ops->token_revoke(f->s, tok.id, 21), SIGIL_E_NOT_FOUND);
    OK(f->s->ops->token_get(f->s, tok.id, &got));
    assert_int_equal(got.revoked_ms, 20);
    FAILS(sigil_token_verify(&got, &tok), SIGIL_E_UNAUTHORIZED);
    assert_string_equal(sigil_errmsg(), "bearer token revoked");
    FAILS(f->s->ops->token_get(f->s, "0000000000000000", &got), SIGIL_E_NOT_FOUND);
}

static void test_token_needs_tenant(void **state)
{
    fixture *f = *state;
    char text[SIGIL_TOKEN_LEN + 1];
    sigil_token_record rec;
    OK(sigil_token_generate(text, &rec, "ghost", 1));
    FAILS(f->s->ops->token_add(f->s, &rec), SIGIL_E_NOT_FOUND);
    FAILS(sigil_token_generate(text, &rec, "Bad Name", 1), SIGIL_E_BAD_FIELD);
}

static void test_token_parse(void **state)
{
    (void)state;
    static const char GOOD[] = "sgl_0123456789abcdef_"
                               "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    static const char *const BAD[] = {
        "",
        "sgl_",
        "sgl_0123456789abcdef_",
        "sgl_0123456789ABCDEF_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "sgl_0123456789abcdef_00112233445566778899aabbccddeeff00112233445566778899aabbccddeefF",
        "sgx_0123456789abcdef_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "sgl_0123456789abcdef-00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "sgl_0123456789abcdef_00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
        "sgl_0123456789abcdef_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
        "sgl_0123456789abcde_000112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "sgl_0123456789abcdeg_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    };
    sigil_token a, b;
    OK(sigil_token_parse(&a, GOOD, strlen(GOOD)));
    assert_string_equal(a.id, "0123456789abcdef");
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        sigil_clear_error();
        if (sigil_token_parse(&b, BAD[i], strlen(BAD[i])) == 0)
            fail_msg("accepted %s", BAD[i]);
        assert_int_equal(sigil_errno(), SIGIL_E_UNAUTHORIZED);
        /* the message never echoes the token */
        assert_null(strstr(sigil_errmsg(), "0011"));
    }
    char hdr[200];
    snprintf(hdr, sizeof(hdr), "Bearer %s", GOOD);
    OK(sigil_token_from_header(&b, hdr, strlen(hdr)));
    assert_memory_equal(a.secret_hash, b.secret_hash, 32);
    snprintf(hdr, sizeof(hdr), "bEaReR %s", GOOD);
    OK(sigil_token_from_header(&b, hdr, strlen(hdr)));
    FAILS(sigil_token_from_header(&b, NULL, 0), SIGIL_E_UNAUTHORIZED);
    assert_string_equal(sigil_errmsg(), "missing bearer token");
    snprintf(hdr, sizeof(hdr), "Basic %s", GOOD);
    FAILS(sigil_token_from_header(&b, hdr, strlen(hdr)), SIGIL_E_UNAUTHORIZED);
    snprintf(hdr, sizeof(hdr), "Bearer  %s", GOOD);
    FAILS(sigil_token_from_header(&b, hdr, strlen(hdr)), SIGIL_E_UNAUTHORIZED);
    FAILS(sigil_token_from_header(&b, "Bearer", 6), SIGIL_E_UNAUTHORIZED);
    /* two generated tokens differ */
    char t1[SIGIL_TOKEN_LEN + 1], t2[SIGIL_TOKEN_LEN + 1];
    sigil_token_record r1, r2;
    OK(sigil_token_generate(t1, &r1, "acme", 1));
    OK(sigil_token_generate(t2, &r2, "acme", 1));
    assert_string_not_equal(t1, t2);
    assert_int_equal(sigil_store_ct_eq(r1.secret_hash, r1.secret_hash, 32), 1);
    assert_int_equal(sigil_store_ct_eq(r1.secret_hash, r2.secret_hash, 32), 0);
}

/* ---- keys ---- */
static sigil_key_record key_rec(const char *id, const char *tenant)
{
    sigil_key_record k;
    memset(&k, 0, sizeof(k));
    snprintf(k.key_id, sizeof(k.key_id), "%s", id);
    snprintf(k.tenant, sizeof(k.tenant), "%s", tenant);
    snprintf(k.venue, sizeof(k.venue), "binance");
    snprintf(k.network, sizeof(k.network), "mainnet");
    snprintf(k.key_type, sizeof(k.key_type), "hmac");
    memset(k.policy_hash, 0xab, sizeof(k.policy_hash));
    k.created_ms = 5;
    return k;
}

static int key_count_cb(void *ctx, const sigil_key_record *k)
{
    (void)k;
    (*(int *)ctx)++;
    return 0;
}

static void test_keys_round_trip_and_isolation(void **state)
{
    fixture *f = *state;
    static const uint8_t BLOB[] = {1, 2, 3, 4, 5};
    uint8_t mem[64], small[2];
    sigil_buf blob, tiny;
    sigil_key_record k = key_rec("k1", "acme"), got;
    int n = 0;
    OK(f->s->ops->tenant_add(f->s, "acme", 1));
    OK(f->s->ops->tenant_add(f->s, "beta", 1));
    OK(f->s->ops->key_put(f->s, &k, BLOB, sizeof(BLOB)));
    FAILS(f->s->ops->key_put(f->s, &k, BLOB, sizeof(BLOB)), SIGIL_E_CONFLICT);
    sigil_key_record w = key_rec("k2", "acme");
    snprintf(w.address, sizeof(w.address), "0xabc");
    OK(f->s->ops->key_put(f->s, &w, BLOB, 1));
    sigil_buf_init(&blob, mem, sizeof(mem));
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, &blob));
    assert_string_equal(got.venue, "binance");
    assert_string_equal(got.network, "mainnet");
    assert_string_equal(got.key_type, "hmac");
    assert_string_equal(got.address, "");
    assert_memory_equal(got.policy_hash, k.policy_hash, 32);
    assert_int_equal(blob.len, sizeof(BLOB));
    assert_memory_equal(blob.data, BLOB, sizeof(BLOB));
    OK(f->s->ops->key_get(f->s, "acme", "k2", &got, NULL));
    assert_string_equal(got.address, "0xabc");
    sigil_buf_init(&tiny, small, sizeof(small));
    FAILS(f->s->ops->key_get(f->s, "acme", "k1", &got, &tiny), SIGIL_E_TOO_LARGE);
    /* another tenant sees nothing and can delete nothing */
    FAILS(f->s->ops->key_get(f->s, "beta", "k1", &got, &blob), SIGIL_E_NOT_FOUND);
    FAILS(f->s->ops->key_delete(f->s, "beta", "k1", 9), SIGIL_E_NOT_FOUND);
    OK(f->s->ops->key_list(f->s, "beta", key_count_cb, &n));
    assert_int_equal(n, 0);
    OK(f->s->ops->key_list(f->s, "acme", key_count_cb, &n));
    assert_int_equal(n, 2);
    /* delete: gone for get, list and a second delete */
    OK(f->s->ops->key_delete(f->s, "acme", "k1", 9));
    FAILS(f->s->ops->key_get(f->s, "acme", "k1", &got, &blob), SIGIL_E_NOT_FOUND);
    FAILS(f->s->ops->key_delete(f->s, "acme", "k1", 10), SIGIL_E_NOT_FOUND);
    n = 0;
    OK(f->s->ops->key_list(f->s, "acme", key_count_cb, &n));
    assert_int_equal(n, 1);
    /* a key of an unknown tenant is refused by the schema */
    sigil_key_record ghost = key_rec("k3", "ghost");
    FAILS(f->s->ops->key_put(f->s, &ghost, BLOB, 1), SIGIL_E_CONFLICT);
}

/* Policy updates: a compare-and-swap on the stored policy hash. */
static void test_key_update(void **state)
{
    fixture *f = *state;
    static const uint8_t BLOB[] = {1, 2, 3}, BLOB2[] = {9, 8, 7, 6};
    uint8_t mem[64], old[32];
    sigil_buf blob;
    sigil_key_record k = key_rec("k1", "acme"), got;
    OK(f->s->ops->tenant_add(f->s, "acme", 1));
    OK(f->s->ops->tenant_add(f->s, "beta", 1));
    k.policy_version = 1;
    OK(f->s->ops->key_put(f->s, &k, BLOB, sizeof(BLOB)));
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, NULL));
    assert_int_equal(got.policy_version, 1);
    memcpy(old, k.policy_hash, 32);
    sigil_key_record upd = k;
    memset(upd.policy_hash, 0xcd, 32);
    upd.policy_version = 2;
    OK(f->s->ops->key_update(f->s, "acme", "k1", old, &upd, BLOB2, sizeof(BLOB2)));
    sigil_buf_init(&blob, mem, sizeof(mem));
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, &blob));
    assert_int_equal(got.policy_version, 2);
    assert_memory_equal(got.policy_hash, upd.policy_hash, 32);
    assert_int_equal(blob.len, sizeof(BLOB2));
    assert_memory_equal(blob.data, BLOB2, sizeof(BLOB2));
    assert_string_equal(got.venue, "binance"); /* the rest is kept */
    assert_string_equal(got.key_type, k.key_type);
    assert_string_equal(got.address, k.address);
    /* a rotation may change the key type and the address; "" clears it */
    sigil_key_record rot = upd;
    memset(rot.policy_hash, 0xce, 32);
    rot.policy_version = 3;
    (void)snprintf(rot.key_type, sizeof(rot.key_type), "ed25519");
    (void)snprintf(rot.address, sizeof(rot.address), "0xAbC");
    OK(f->s->ops->key_update(f->s, "acme", "k1", upd.policy_hash, &rot, BLOB2, sizeof(BLOB2)));
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, NULL));
    assert_string_equal(got.key_type, "ed25519");
    assert_string_equal(got.address, "0xAbC");
    assert_int_equal(got.created_ms, k.created_ms);
    rot.address[0] = '\0';
    memcpy(old, rot.policy_hash, 32);
    memset(rot.policy_hash, 0xcf, 32);
    OK(f->s->ops->key_update(f->s, "acme", "k1", old, &rot, BLOB2, sizeof(BLOB2)));
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, NULL));
    assert_string_equal(got.address, "");
    (void)snprintf(rot.key_type, sizeof(rot.key_type), "%s", k.key_type);
    memcpy(old, rot.policy_hash, 32);
    memcpy(rot.policy_hash, upd.policy_hash, 32);
    rot.policy_version = 2;
    OK(f->s->ops->key_update(f->s, "acme", "k1", old, &rot, BLOB2, sizeof(BLOB2)));
    memcpy(old, k.policy_hash, 32);
    /* a second update from the same old hash lost the race */
    upd.policy_version = 3;
    FAILS(f->s->ops->key_update(f->s, "acme", "k1", old, &upd, BLOB, sizeof(BLOB)),
          SIGIL_E_CONFLICT);
    assert_string_equal(sigil_errmsg(), "key_id: key changed concurrently");
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, NULL));
    assert_int_equal(got.policy_version, 2);
    /* another tenant's, unknown, deleted: not found */
    FAILS(f->s->ops->key_update(f->s, "beta", "k1", upd.policy_hash, &upd, BLOB, 3),
          SIGIL_E_NOT_FOUND);
    FAILS(f->s->ops->key_update(f->s, "acme", "k9", upd.policy_hash, &upd, BLOB, 3),
          SIGIL_E_NOT_FOUND);
    OK(f->s->ops->key_delete(f->s, "acme", "k1", 7));
    FAILS(f->s->ops->key_update(f->s, "acme", "k1", upd.policy_hash, &upd, BLOB, 3),
          SIGIL_E_NOT_FOUND);
}

/* Key lifecycle: disable/enable, revocations (stored with their blob,
 * the key marked revoked, deleted or not), client_key recorded or not. */
typedef struct {
    int n;
    sigil_revocation_record first;
    uint8_t blob[8];
    size_t blob_len;
} rev_seen;

static int rev_cb(void *ctx, const sigil_revocation_record *r, const uint8_t *blob, size_t len)
{
    rev_seen *s = ctx;
    if (s->n++ == 0) {
        s->first = *r;
        assert_true(len <= sizeof(s->blob));
        memcpy(s->blob, blob, len);
        s->blob_len = len;
    }
    return 0;
}

static void test_key_lifecycle(void **state)
{
    fixture *f = *state;
    static const uint8_t BLOB[] = {4, 5, 6};
    sigil_key_record k = key_rec("k1", "acme"), got;
    sigil_revocation_record r;
    rev_seen seen;
    uint64_t n = 9;
    OK(f->s->ops->tenant_add(f->s, "acme", 1));
    OK(f->s->ops->tenant_add(f->s, "beta", 1));
    k.client_key = 1;
    OK(f->s->ops->key_put(f->s, &k, BLOB, sizeof(BLOB)));
    sigil_key_record k2 = key_rec("k2", "acme");
    k2.client_key = -1;
    OK(f->s->ops->key_put(f->s, &k2, BLOB, sizeof(BLOB)));
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, NULL));
    assert_int_equal(got.state, SIGIL_KEY_ACTIVE);
    assert_int_equal(got.client_key, 1);
    OK(f->s->ops->key_get(f->s, "acme", "k2", &got, NULL));
    assert_int_equal(got.client_key, -1);
    /* disable, twice, enable; another tenant's and unknown: not found */
    OK(f->s->ops->key_set_state(f->s, "acme", "k1", SIGIL_KEY_ACTIVE, SIGIL_KEY_DISABLED));
    OK(f->s->ops->key_set_state(f->s, "acme", "k1", SIGIL_KEY_ACTIVE, SIGIL_KEY_DISABLED));
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, NULL));
    assert_int_equal(got.state, SIGIL_KEY_DISABLED);
    FAILS(f->s->ops->key_set_state(f->s, "beta", "k1", SIGIL_KEY_DISABLED, SIGIL_KEY_ACTIVE),
          SIGIL_E_NOT_FOUND);
    FAILS(f->s->ops->key_set_state(f->s, "acme", "k9", SIGIL_KEY_ACTIVE, SIGIL_KEY_DISABLED),
          SIGIL_E_NOT_FOUND);
    OK(f->s->ops->key_set_state(f->s, "acme", "k1", SIGIL_KEY_DISABLED, SIGIL_KEY_ACTIVE));
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, NULL));
    assert_int_equal(got.state, SIGIL_KEY_ACTIVE);
    /* revocations: none, then one (a second put is ignored), key marked */
    OK(f->s->ops->revocation_count(f->s, &n));
    assert_int_equal(n, 0);
    memset(&r, 0, sizeof(r));
    snprintf(r.tenant, sizeof(r.tenant), "acme");
    snprintf(r.key_id, sizeof(r.key_id), "k1");
    memset(r.signature, 0x5a, sizeof(r.signature));
    r.created_ms = 77;
    OK(f->s->ops->revocation_put(f->s, &r, BLOB, sizeof(BLOB)));
    r.signature[0] = 0;
    OK(f->s->ops->revocation_put(f->s, &r, BLOB, 1));
    OK(f->s->ops->revocation_count(f->s, &n));
    assert_int_equal(n, 1);
    memset(&seen, 0, sizeof(seen));
    OK(f->s->ops->revocation_list(f->s, rev_cb, &seen));
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.first.tenant, "acme");
    assert_string_equal(seen.first.key_id, "k1");
    assert_int_equal(seen.first.signature[0], 0x5a);
    assert_int_equal(seen.first.created_ms, 77);
    assert_int_equal(seen.blob_len, sizeof(BLOB));
    assert_memory_equal(seen.blob, BLOB, sizeof(BLOB));
    OK(f->s->ops->key_get(f->s, "acme", "k1", &got, NULL));
    assert_int_equal(got.state, SIGIL_KEY_REVOKED);
    /* a revoked key is neither disabled nor enabled */
    FAILS(f->s->ops->key_set_state(f->s, "acme", "k1", SIGIL_KEY_ACTIVE, SIGIL_KEY_DISABLED),
          SIGIL_E_REVOKED);
    FAILS(f->s->ops->key_set_state(f->s, "acme", "k1", SIGIL_KEY_DISABLED, SIGIL_KEY_ACTIVE),
          SIGIL_E_REVOKED);
    /* a deleted key is still marked when revoked */
    OK(f->s->ops->key_delete(f->s, "acme", "k2", 8));
    snprintf(r.key_id, sizeof(r.key_id), "k2");
    OK(f->s->ops->revocation_put(f->s, &r, BLOB, sizeof(BLOB)));
    OK(f->s->ops->revocation_count(f->s, &n));
    assert_int_equal(n, 2);
}

/* ---- idempotency ---- */

/* The audit record of an allowed Binance order of acme's key k1. */
static sigil_audit_record allowed_order(int64_t time_ms, const uint8_t *request_hash)
{
    return (sigil_audit_record){.time_ms = time_ms,
                                .tenant = "acme",
                                .key_id = "k1",
                                .op = "sign",
                                .action = "order",
                                .decision = "allow",
                                .http_status = 200,
                                .request_hash = request_hash};
}

static void test_idempotency(void **state)
{
    fixture *f = *state;
    uint8_t h1[32], h2[32], mem[256];
    sigil_buf body;
    sigil_idem_state st;
    unsigned status = 0;
    memset(h1, 1, sizeof(h1));
    memset(h2, 2, sizeof(h2));
    sigil_buf_init(&body, mem, sizeof(mem));
    const int64_t t0 = 1000000;
    OK(f->s->ops->idem_begin(f->s, "acme", "key-1", h1, t0, &st, &status, &body));
    assert_int_equal(st, SIGIL_IDEM_NEW);
    /* a concurrent duplicate sees it in progress; another body is a mismatch */
    OK(f->s->ops->idem_begin(f->s, "acme", "key-1", h1, t0 + 1, &st, &status, &body));
    assert_int_equal(st, SIGIL_IDEM_IN_PROGRESS);
    OK(f->s->ops->idem_begin(f->s, "acme", "key-1", h2, t0 + 1, &st, &status, &body));
    assert_int_equal(st, SIGIL_IDEM_MISMATCH);
    /* the same key of another tenant is independent */
    OK(f->s->ops->idem_begin(f->s, "beta", "key-1", h2, t0 + 1, &st, &status, &body));
    assert_int_equal(st, SIGIL_IDEM_NEW);
    /* finish with the audit record, then replay */
    static const char RESP[] = "{\"signed\":1}";
    sigil_audit_record a = allowed_order(t0, h1);
    sigil_idem_outcome o = {"key-1", 200, (const uint8_t *)RESP, strlen(RESP)};
    uint64_t seq = 0;
    OK(f->s->ops->record_outcome(f->s, &a, &o, &seq));
    assert_true(seq >= 1);
    OK(f->s->ops->idem_begin(f->s, "acme", "key-1", h1, t0 + 2, &st, &status, &body));
    assert_int_equal(st, SIGIL_IDEM_DONE);
    assert_int_equal(status, 200);
    assert_int_equal(body.len, strlen(RESP));
    assert_memory_equal(body.data, RESP, body.len);
    OK(f->s->ops->idem_begin(f->s, "acme", "key-1", h2, t0 + 2, &st, &status, &body));
    assert_int_equal(st, SIGIL_IDEM_MISMATCH);
    /* finishing twice is refused (the reservation is gone), nothing half-written */
    FAILS(f->s->ops->record_outcome(f->s, &a, &o, NULL), SIGIL_E_CONFLICT);
    /* after 24 h the key is free again */
    OK(f->s->ops->idem_begin(f->s, "acme", "key-1", h2, t0 + SIGIL_IDEM_TTL_MS + 3, &st, &status,
                             &body));
    assert_int_equal(st, SIGIL_IDEM_NEW);
    /* abort releases a reservation */
    OK(f->s->ops->idem_abort(f->s, "beta", "key-1"));
    OK(f->s->ops->idem_begin(f->s, "beta", "key-1", h1, t0 + 4, &st, &status, &body));
    assert_int_equal(st, SIGIL_IDEM_NEW);
    /* a reservation left by a stopped gateway is taken over after a while */
    OK(f->s->ops->idem_begin(f->s, "beta", "key-1", h1, t0 + 10 * 60 * 1000, &st, &status, &body));
    assert_int_equal(st, SIGIL_IDEM_NEW);
}

/* Two store handles on one database (two gateway processes): a live
 * owner's reservation is in progress for the other until its lease runs
 * out; renewing extends it; once taken over, the first owner can neither
 * complete it (no audit row, no stored response) nor release it. */
static void test_idempotency_lease(void **state)
{
    fixture *f = *state;
    sigil_store *a = f->s, *b;
    uint8_t h[32], mem[256];
    sigil_buf body;
    sigil_idem_state st;
    unsigned status = 0;
    uint64_t seq_a = 0, seq_b = 0, head = 0;
    uint8_t head_hash[32];
    memset(h, 7, sizeof(h));
    sigil_buf_init(&body, mem, sizeof(mem));
    OK(open_store(f, &b));
    const int64_t t0 = sigil_store_now_ms();
    OK(a->ops->idem_begin(a, "acme", "lease-1", h, t0, &st, &status, &body));
    assert_int_equal(st, SIGIL_IDEM_NEW);
    OK(b->ops->idem_begin(b, "acme", "lease-1", h, t0 + SIGIL_IDEM_LEASE_MS - 1, &st, &status,
                          &body));
    assert_int_equal(st, SIGIL_IDEM_IN_PROGRESS);
    /* renewed at t0 + 3 s: still in progress just before t0 + 3 s + lease */
    OK(a->ops->idem_renew(a, t0 + 3000));
    OK(b->ops->idem_renew(b, t0 + 3000)); /* b holds nothing: no effect on a's */
    OK(b->ops->idem_begin(b, "acme", "lease-1", h, t0 + 3000 + SIGIL_IDEM_LEASE_MS - 1, &st,
                          &status, &body));
    assert_int_equal(st, SIGIL_IDEM_IN_PROGRESS);
    /* a stops renewing (it died): b takes the reservation over */
    OK(b->ops->idem_begin(b, "acme", "lease-1", h, t0 + 3000 + SIGIL_IDEM_LEASE_MS, &st, &status,
                          &body));
    assert_int_equal(st, SIGIL_IDEM_NEW);
    /* the old owner neither completes nor releases it; its record is not written */
    sigil_audit_record rec = allowed_order(t0, h);
    sigil_idem_outcome oa = {"lease-1", 200, (const uint8_t *)"{\"by\":\"a\"}", 10};
    sigil_idem_outcome ob = {"lease-1", 200, (const uint8_t *)"{\"by\":\"b\"}", 10};
    FAILS(a->ops->record_outcome(a, &rec, &oa, &seq_a), SIGIL_E_CONFLICT);
    OK(a->ops->audit_head(a, &head, head_hash));
    assert_int_equal(head, 0);
    OK(a->ops->idem_abort(a, "acme", "lease-1"));
    OK(a->ops->idem_begin(a, "acme", "lease-1", h, t0 + 3000 + SIGIL_IDEM_LEASE_MS + 1, &st,
                          &status, &body));
    assert_int_equal(st, SIGIL_IDEM_IN_PROGRESS);
    /* the new owner completes it: one row, and both handles replay b's response */
    OK(b->ops->record_outcome(b, &rec, &ob, &seq_b));
    assert_int_equal(seq_b, 1);
    for (int i = 0; i < 2; i++) {
        sigil_store *s = i == 0 ? a : b;
        body.len = 0;
        OK(s->ops->idem_begin(s, "acme", "lease-1", h, t0 + 60000, &st, &status, &body));
        assert_int_equal(st, SIGIL_IDEM_DONE);
        assert_int_equal(body.len, ob.body_len);
        assert_memory_equal(body.data, ob.body, ob.body_len);
    }
    OK(a->ops->audit_head(a, &head, head_hash));
    assert_int_equal(head, 1);
    b->ops->close(b);
}

/* ---- audit ---- */
typedef struct {
    sigil_audit_row rows[8];
    int n;
} audit_rows;

static int audit_cb(void *ctx, const sigil_audit_row *r)
{
    audit_rows *a = ctx;
    if (a->n < 8)
        a->rows[a->n] = *r;
    a->n++;
    return 0;
}

static void test_audit(void **state)
{
    fixture *f = *state;
    uint8_t rh[32], oh[32];
    audit_rows rows = {0};
    memset(rh, 3, sizeof(rh));
    memset(oh, 4, sizeof(oh));
    sigil_audit_record ok = allowed_order(7, rh);
    ok.output_hash = oh;
    sigil_audit_record deny = {.time_ms = 8,
                               .tenant = "acme",
                               .key_id = "k1",
                               .op = "sign",
                               .decision = "deny",
                               .http_status = 422,
                               .error_code = "policy_denied",
                               .request_hash = rh};
    uint64_t s1 = 0, s2 = 0;
    OK(f->s->ops->record_outcome(f->s, &ok, NULL, &s1));
    OK(f->s->ops->record_outcome(f->s, &deny, NULL, &s2));
    assert_true(s2 > s1);
    OK(f->s->ops->audit_list(f->s, NULL, 0, 0, audit_cb, &rows));
    assert_int_equal(rows.n, 2);
    assert_int_equal(rows.rows[0].seq, s1);
    assert_string_equal(rows.rows[0].action, "order");
    assert_string_equal(rows.rows[0].decision, "allow");
    assert_true(rows.rows[0].has_output_hash);
    assert_memory_equal(rows.rows[0].output_hash, oh, 32);
    assert_string_equal(rows.rows[1].error_code, "policy_denied");
    assert_int_equal(rows.rows[1].http_status, 422);
    assert_false(rows.rows[1].has_output_hash);
    assert_true(rows.rows[1].has_request_hash);
    rows.n = 0;
    OK(f->s->ops->audit_list(f->s, NULL, s1, 0, audit_cb, &rows));
    assert_int_equal(rows.n, 1);
    sigil_audit_record bad = {.tenant = "acme"};
    FAILS(f->s->ops->record_outcome(f->s, &bad, NULL, NULL), SIGIL_E_INTERNAL);
}

/* Records the store refuses: they would not read back as written. */
static void test_audit_record_checks(void **state)
{
    fixture *f = *state;
    static const char LONG[] = "0123456789012345678901234567890123456789012345678901234567890123X";
    const sigil_audit_record good = {
        .time_ms = 1, .tenant = "acme", .op = "sign", .decision = "allow", .http_status = 200};
    sigil_audit_record a;
    char nul[4] = {'{', '\0', '}', '\0'};
    OK(f->s->ops->record_outcome(f->s, &good, NULL, NULL));
    a = good, a.op = "delete";
    FAILS(f->s->ops->record_outcome(f->s, &a, NULL, NULL), SIGIL_E_INTERNAL);
    a = good, a.decision = "maybe";
    FAILS(f->s->ops->record_outcome(f->s, &a, NULL, NULL), SIGIL_E_INTERNAL);
    a = good, a.key_id = "";
    FAILS(f->s->ops->record_outcome(f->s, &a, NULL, NULL), SIGIL_E_INTERNAL);
    a = good, a.action = LONG;
    FAILS(f->s->ops->record_outcome(f->s, &a, NULL, NULL), SIGIL_E_INTERNAL);
    a = good, a.receipt = "{}", a.receipt_len = 0;
    FAILS(f->s->ops->record_outcome(f->s, &a, NULL, NULL), SIGIL_E_INTERNAL);
    a = good, a.receipt = nul, a.receipt_len = 3;
    FAILS(f->s->ops->record_outcome(f->s, &a, NULL, NULL), SIGIL_E_INTERNAL);
    a = good, a.receipt = LONG, a.receipt_len = SIGIL_AUDIT_RECEIPT_MAX + 1;
    FAILS(f->s->ops->record_outcome(f->s, &a, NULL, NULL), SIGIL_E_INTERNAL);
    a = good, a.op = "policy_update", a.receipt = "{}", a.receipt_len = 2;
    OK(f->s->ops->record_outcome(f->s, &a, NULL, NULL));
}

/* ---- the hash chain ---- */
/* Checks what `sigil audit verify` checks on a whole table: seqs 1..n
 * without gaps, each prev the previous hash, each hash recomputed. */
typedef struct {
    uint64_t n, last_seq;
    uint8_t last_hash[32];
    int bad;
    char why[128];
} chain_check;

static int chain_cb(void *ctx, const sigil_audit_row *r)
{
    chain_check *c = ctx;
    sigil_audit_record a;
    uint8_t h[32];
    sigil_audit_row_record(&a, r);
    if (sigil_audit_hash(h, r->prev, r->seq, &a) != 0 || memcmp(h, r->hash, 32) != 0)
        snprintf(c->why, sizeof(c->why), "row %llu: hash", (unsigned long long)r->seq);
    else if (r->seq != c->last_seq + 1)
        snprintf(c->why, sizeof(c->why), "row %llu: gap", (unsigned long long)r->seq);
    else if (memcmp(r->prev, c->last_hash, 32) != 0)
        snprintf(c->why, sizeof(c->why), "row %llu: prev", (unsigned long long)r->seq);
    else if (r->malformed)
        snprintf(c->why, sizeof(c->why), "row %llu: malformed", (unsigned long long)r->seq);
    else
        goto good;
    c->bad++;
good:
    c->n++;
    c->last_seq = r->seq;
    memcpy(c->last_hash, r->hash, 32);
    return 0;
}

static chain_check chain_verify(sigil_store *s)
{
    chain_check c = {0};
    uint64_t head_seq;
    uint8_t head[32];
    OK(s->ops->audit_list(s, NULL, 0, 0, chain_cb, &c));
    if (c.bad != 0)
        fail_msg("chain: %d bad rows, first %s", c.bad, c.why);
    OK(s->ops->audit_head(s, &head_seq, head));
    assert_int_equal(head_seq, c.last_seq);
    assert_memory_equal(head, c.last_hash, 32);
    return c;
}

/* The encoding, written out by hand (docs/API.md "Audit"), so a change to
 * it cannot go unnoticed. */
static void put_be(uint8_t **p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

static void put_f(uint8_t **p, const void *v, size_t n)
{
    put_be(p, n, 4);
    memcpy(*p, v, n);
    *p += n;
}

static void test_audit_hash_encoding(void **state)
{
    (void)state;
    uint8_t prev[32], rh[32], mem[512], *p = mem, want[32], got[32];
    memset(prev, 0x5a, sizeof(prev));
    memset(rh, 0x01, sizeof(rh));
    const sigil_audit_record a = {.time_ms = 1700000000123,
                                  .tenant = "acme",
                                  .key_id = "k1",
                                  .op = "sign",
                                  .decision = "deny",
                                  .http_status = 422,
                                  .error_code = "policy_denied",
                                  .request_hash = rh,
                                  .receipt = "{\"v\":1}",
                                  .receipt_len = 7};
    memcpy(p, "sigil-audit-v1", 15); /* with its NUL */
    p += 15;
    memcpy(p, prev, 32);
    p += 32;
    put_be(&p, 8, 4), put_be(&p, 42, 8);
    put_be(&p, 8, 4), put_be(&p, 1700000000123ull, 8);
    put_f(&p, "acme", 4);
    put_f(&p, "k1", 2);
    put_f(&p, "sign", 4);
    put_f(&p, "", 0); /* action absent */
    put_f(&p, "deny", 4);
    put_be(&p, 8, 4), put_be(&p, 422, 8);
    put_f(&p, "policy_denied", 13);
    put_f(&p, rh, 32);
    put_f(&p, "", 0); /* output_hash absent */
    put_f(&p, "{\"v\":1}", 7);
    sigil_sha256(want, mem, (size_t)(p - mem));
    OK(sigil_audit_hash(got, prev, 42, &a));
    assert_memory_equal(got, want, 32);
    /* every field counts */
    sigil_audit_record b = a;
    b.receipt_len = 6;
    OK(sigil_audit_hash(want, prev, 42, &b));
    assert_memory_not_equal(got, want, 32);
    OK(sigil_audit_hash(want, prev, 43, &a));
    assert_memory_not_equal(got, want, 32);
}

static void test_audit_chain_and_head(void **state)
{
    fixture *f = *state;
    static const char RECEIPT[] = "{\"seq\":1,\"signature\":\"00\"}";
    uint64_t seq = 0, head_seq = 9;
    uint8_t head[32], zero[32] = {0};
    audit_rows rows = {0};
    OK(f->s->ops->audit_head(f->s, &head_seq, head));
    assert_int_equal(head_seq, 0);
    assert_memory_equal(head, zero, 32);
    sigil_audit_record a = {.time_ms = 5,
                            .tenant = "acme",
                            .key_id = "k1",
                            .op = "policy_update",
                            .action = "policy_update",
                            .decision = "allow",
                            .http_status = 200,
                            .receipt = RECEIPT,
                            .receipt_len = strlen(RECEIPT)};
    OK(f->s->ops->record_outcome(f->s, &a, NULL, &seq));
    assert_int_equal(seq, 1);
    a.receipt = NULL, a.receipt_len = 0, a.op = "sign";
    OK(f->s->ops->record_outcome(f->s, &a, NULL, &seq));
    assert_int_equal(seq, 2);
    OK(f->s->ops->audit_list(f->s, NULL, 0, 0, audit_cb, &rows));
    assert_int_equal(rows.n, 2);
    assert_memory_equal(rows.rows[0].prev, zero, 32);
    assert_int_equal(rows.rows[0].receipt_len, strlen(RECEIPT));
    assert_string_equal(rows.rows[0].receipt, RECEIPT);
    assert_string_equal(rows.rows[0].op, "policy_update");
    assert_false(rows.rows[0].malformed);
    assert_memory_equal(rows.rows[1].prev, rows.rows[0].hash, 32);
    assert_int_equal(rows.rows[1].receipt_len, 0);
    chain_check c = chain_verify(f->s);
    assert_int_equal(c.n, 2);
}

/* Rows altered outside the store read back flagged, never as errors. */
static void test_audit_malformed_row(void **state)
{
    fixture *f = *state;
    audit_rows rows = {0};
    sigil_audit_record a = {
        .time_ms = 5, .tenant = "acme", .op = "sign", .decision = "allow", .http_status = 200};
    OK(f->s->ops->record_outcome(f->s, &a, NULL, NULL));
    OK(f->s->ops->record_outcome(f->s, &a, NULL, NULL));
    OK(f->s->ops->record_outcome(f->s, &a, NULL, NULL));
    assert_int_equal(B->raw(f, B->tamper_sql), 0);
    OK(f->s->ops->audit_list(f->s, NULL, 0, 0, audit_cb, &rows));
    assert_int_equal(rows.n, 3);
    assert_true(rows.rows[0].malformed);
    assert_true(rows.rows[1].malformed);
    assert_false(rows.rows[2].malformed);
}

/* Rows cut from the tail leave a gap once the next row is written. */
static void test_audit_tail_cut_leaves_gap(void **state)
{
    fixture *f = *state;
    uint64_t seq;
    sigil_audit_record a = {
        .time_ms = 5, .tenant = "acme", .op = "sign", .decision = "allow", .http_status = 200};
    for (int i = 0; i < 3; i++)
        OK(f->s->ops->record_outcome(f->s, &a, NULL, NULL));
    assert_int_equal(B->raw(f, "DELETE FROM audit WHERE seq = 3"), 0);
    OK(f->s->ops->record_outcome(f->s, &a, NULL, &seq));
    assert_int_equal(seq, 4);
}

static void test_audit_tenant_and_limit(void **state)
{
    fixture *f = *state;
    audit_rows rows = {0};
    static const char *const TENANTS[] = {"acme", "beta", "acme", "acme", "beta"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(TENANTS); i++) {
        sigil_audit_record a = {.time_ms = (int64_t)i,
                                .tenant = TENANTS[i],
                                .op = "sign",
                                .decision = "allow",
                                .http_status = 200};
        OK(f->s->ops->record_outcome(f->s, &a, NULL, NULL));
    }
    OK(f->s->ops->audit_list(f->s, "acme", 0, 0, audit_cb, &rows));
    assert_int_equal(rows.n, 3);
    assert_int_equal(rows.rows[0].seq, 1);
    assert_int_equal(rows.rows[1].seq, 3);
    assert_int_equal(rows.rows[2].seq, 4);
    rows.n = 0;
    OK(f->s->ops->audit_list(f->s, "acme", 1, 1, audit_cb, &rows));
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.rows[0].seq, 3);
    rows.n = 0;
    OK(f->s->ops->audit_list(f->s, "beta", 2, 10, audit_cb, &rows));
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.rows[0].seq, 5);
    rows.n = 0;
    OK(f->s->ops->audit_list(f->s, NULL, 1, 3, audit_cb, &rows));
    assert_int_equal(rows.n, 3);
    assert_int_equal(rows.rows[2].seq, 4);
    rows.n = 0;
    OK(f->s->ops->audit_list(f->s, "nobody", 0, 0, audit_cb, &rows));
    assert_int_equal(rows.n, 0);
}

/* Concurrent writers on one store: every record lands once. */
typedef struct {
    sigil_store *s;
    int id;
} writer_arg;

#define WRITES 50

static void *writer(void *p)
{
    writer_arg *w = p;
    char key[32];
    for (int i = 0; i < WRITES; i++) {
        uint8_t h[32] = {(uint8_t)w->id, (uint8_t)i};
        sigil_idem_state st;
        unsigned status;
        uint8_t mem[64];
        sigil_buf body;
        sigil_buf_init(&body, mem, sizeof(mem));
        snprintf(key, sizeof(key), "w%d-%d", w->id, i);
        if (w->s->ops->idem_begin(w->s, "acme", key, h, 1, &st, &status, &body) != 0 ||
            st != SIGIL_IDEM_NEW)
            return (void *)1;
        char receipt[64];
        int n = snprintf(receipt, sizeof(receipt), "{\"writer\":%d,\"i\":%d}", w->id, i);
        sigil_audit_record a = {.time_ms = 1,
                                .tenant = "acme",
                                .op = "sign",
                                .decision = "allow",
                                .http_status = 200,
                                .request_hash = h,
                                .receipt = receipt,
                                .receipt_len = (size_t)n};
        sigil_idem_outcome o = {key, 200, (const uint8_t *)"{}", 2};
        if (w->s->ops->record_outcome(w->s, &a, &o, NULL) != 0)
            return (void *)1;
    }
    return NULL;
}

/* Writers on two store handles over one file (two gateway processes, each
 * with its own group commit) build one chain without gaps. */
#define WRITERS 8

static void test_concurrent_writers(void **state)
{
    fixture *f = *state;
    sigil_store *other;
    pthread_t th[WRITERS];
    writer_arg args[WRITERS];
    OK(open_store(f, &other));
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (writer_arg){i % 2 ? other : f->s, i};
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        void *rc;
        assert_int_equal(pthread_join(th[i], &rc), 0);
        assert_null(rc);
    }
    chain_check c = chain_verify(f->s);
    assert_int_equal(c.n, WRITERS * WRITES);
    assert_int_equal(c.last_seq, WRITERS * WRITES);
    c = chain_verify(other);
    assert_int_equal(c.n, WRITERS * WRITES);
    other->ops->close(other);
}

/* The schema of version 1, as released (migration 1 verbatim). */
static const char V1_SCHEMA[] =
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE tenants (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);"
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
    " seed_ciphertext BLOB NOT NULL);"
    "INSERT INTO schema_version (version) VALUES (1);"
    "INSERT INTO tenants VALUES ('acme', 1);"
    "INSERT INTO keys (key_id, tenant, venue, network, key_type, policy_hash, blob, created_at)"
    " VALUES ('k1', 'acme', 'binance', 'mainnet', 'hmac', zeroblob(32), x'01', 2);"
    "INSERT INTO audit (time_ms, tenant, key_id, op, action, decision, http_status,"
    " request_hash, output_hash) VALUES (3, 'acme', 'k1', 'sign', 'order', 'allow', 200,"
    " zeroblob(32), zeroblob(32));"
    "INSERT INTO audit (time_ms, tenant, op, decision, http_status, error_code)"
    " VALUES (4, 'acme', 'import', 'error', 400, 'bad_request');";

/* A database written by the first release migrates forward: its audit
 * rows are chained, its keys get policy version 0, new rows continue the
 * chain. */
static void test_migration_from_v1(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    sigil_key_record k;
    uint64_t seq;
    if (!B->has_v1)
        skip();
    f->s->ops->close(f->s);
    f->s = NULL;
    (void)unlink(f->db);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, V1_SCHEMA, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    OK(open_store(f, &f->s));
    chain_check c = chain_verify(f->s);
    assert_int_equal(c.n, 2);
    OK(f->s->ops->key_get(f->s, "acme", "k1", &k, NULL));
    assert_int_equal(k.policy_version, 0);
    sigil_audit_record a = {
        .time_ms = 5, .tenant = "acme", .op = "sign", .decision = "allow", .http_status = 200};
    OK(f->s->ops->record_outcome(f->s, &a, NULL, &seq));
    assert_int_equal(seq, 3);
    c = chain_verify(f->s);
    assert_int_equal(c.n, 3);
    /* and reopening migrates nothing twice */
    f->s->ops->close(f->s);
    OK(open_store(f, &f->s));
    c = chain_verify(f->s);
    assert_int_equal(c.n, 3);
}

/* ---- limit usage reports (written with the audit record) ---- */
typedef struct {
    char got[8][16];
    size_t n;
} usage_rows;

static int usage_cb(void *ctx, const uint8_t *report, size_t len)
{
    usage_rows *u = ctx;
    assert_true(len < sizeof(u->got[0]) && u->n < 8);
    memcpy(u->got[u->n], report, len);
    u->got[u->n++][len] = '\0';
    return 0;
}

/* The report of key_id as stored text (the store keeps bytes verbatim). */
static void usage_record_of(fixture *f, const char *key_id, uint8_t boot, uint64_t seq, int64_t t,
                            const char *report)
{
    sigil_usage_record u = {
        .seq = seq, .time_ms = t, .report = (const uint8_t *)report, .report_len = strlen(report)};
    memset(u.boot_id, boot, sizeof(u.boot_id));
    sigil_audit_record a = {.time_ms = t,
                            .tenant = "acme",
                            .key_id = key_id,
                            .op = "sign",
                            .decision = "allow",
                            .http_status = 200,
                            .usage = &u};
    OK(f->s->ops->record_outcome(f->s, &a, NULL, NULL));
}

static void usage_record(fixture *f, uint8_t boot, uint64_t seq, int64_t t, const char *report)
{
    usage_record_of(f, "k1", boot, seq, t, report);
}

static void test_usage(void **state)
{
    fixture *f = *state;
    usage_rows rows = {0};
    OK(f->s->ops->tenant_add(f->s, "acme", 1));
    OK(f->s->ops->usage_list(f->s, "acme", "k1", 16, usage_cb, &rows));
    assert_int_equal(rows.n, 0);
    usage_record(f, 1, 1, 100, "a1");
    usage_record(f, 2, 1, 150, "b1");
    usage_record(f, 1, 3, 200, "a3");
    usage_record(f, 1, 2, 300, "a2"); /* an older report arriving late: not kept */
    OK(f->s->ops->usage_list(f->s, "acme", "k1", 16, usage_cb, &rows));
    assert_int_equal(rows.n, 2);
    assert_string_equal(rows.got[0], "a3"); /* newest report time first */
    assert_string_equal(rows.got[1], "b1");
    rows.n = 0;
    OK(f->s->ops->usage_list(f->s, "acme", "k1", 1, usage_cb, &rows));
    assert_int_equal(rows.n, 1);
    rows.n = 0;
    OK(f->s->ops->usage_list(f->s, "acme", "k2", 16, usage_cb, &rows));
    OK(f->s->ops->usage_list(f->s, "beta", "k1", 16, usage_cb, &rows));
    assert_int_equal(rows.n, 0);
    /* a record more than SIGIL_USAGE_KEEP_MS after every report: they go */
    usage_record(f, 3, 1, 300 + SIGIL_USAGE_KEEP_MS + 1, "c1");
    OK(f->s->ops->usage_list(f->s, "acme", "k1", 16, usage_cb, &rows));
    assert_int_equal(rows.n, 1);
    assert_string_equal(rows.got[0], "c1");
    rows.n = 0;
    usage_record(f, 4, 1, 300 + SIGIL_USAGE_KEEP_MS, "d1"); /* c1 is not older than that */
    OK(f->s->ops->usage_list(f->s, "acme", "k1", 16, usage_cb, &rows));
    assert_int_equal(rows.n, 2);
}

/* The reports of key_id, newest first, joined by spaces. */
static void usage_of(fixture *f, const char *key_id, char *out, size_t cap)
{
    usage_rows rows = {0};
    OK(f->s->ops->usage_list(f->s, "acme", key_id, 8, usage_cb, &rows));
    out[0] = '\0';
    for (size_t i = 0; i < rows.n; i++)
        (void)snprintf(out + strlen(out), cap - strlen(out), "%s%s", i > 0 ? " " : "", rows.got[i]);
}

/* The timer's prune: every key's reports before the cut, whether or not
 * the key signs again; the cut itself and later ones stay. */
static void test_usage_prune(void **state)
{
    fixture *f = *state;
    const int64_t t = 1700000000000;
    uint64_t n = 99;
    char got[64];
    OK(f->s->ops->tenant_add(f->s, "acme", 1));
    OK(f->s->ops->usage_prune(f->s, t, &n));
    assert_int_equal(n, 0); /* an empty table */
    usage_record_of(f, "k1", 1, 1, t - 3, "a");
    usage_record_of(f, "k1", 2, 1, t - 1, "b");
    usage_record_of(f, "k1", 3, 1, t, "c");
    usage_record_of(f, "k2", 1, 1, t - 2, "d");
    usage_record_of(f, "k3", 1, 1, t + 5, "e");
    OK(f->s->ops->usage_prune(f->s, t, &n));
    assert_int_equal(n, 3); /* a, b, d */
    usage_of(f, "k1", got, sizeof(got));
    assert_string_equal(got, "c");
    usage_of(f, "k2", got, sizeof(got));
    assert_string_equal(got, "");
    usage_of(f, "k3", got, sizeof(got));
    assert_string_equal(got, "e");
    OK(f->s->ops->usage_prune(f->s, t, &n));
    assert_int_equal(n, 0); /* nothing left before the cut */
    OK(f->s->ops->usage_prune(f->s, t + 6, &n));
    assert_int_equal(n, 2);
    usage_of(f, "k3", got, sizeof(got));
    assert_string_equal(got, "");
}

/* ---- boots and seed ---- */
static void test_boots_and_seed(void **state)
{
    fixture *f = *state;
    static const uint8_t DOC[] = {0xd2, 0x84, 0x44};
    uint8_t mem[64];
    sigil_buf doc, seed;
    sigil_boot_record b = {.created_ms = 42}, got;
    bool present = true;
    memset(b.boot_id, 0x11, sizeof(b.boot_id));
    memset(b.measurement, 0x22, sizeof(b.measurement));
    OK(f->s->ops->boot_put(f->s, &b, DOC, sizeof(DOC)));
    OK(f->s->ops->boot_put(f->s, &b, DOC, 1)); /* known boot: kept as first archived */
    sigil_buf_init(&doc, mem, sizeof(mem));
    OK(f->s->ops->boot_get(f->s, b.boot_id, &got, &doc));
    assert_int_equal(got.created_ms, 42);
    assert_memory_equal(got.measurement, b.measurement, sizeof(b.measurement));
    assert_int_equal(doc.len, sizeof(DOC));
    uint8_t other[SIGIL_BOOT_ID_LEN] = {0};
    FAILS(f->s->ops->boot_get(f->s, other, &got, &doc), SIGIL_E_NOT_FOUND);
    sigil_buf_init(&seed, mem, sizeof(mem));
    OK(f->s->ops->seed_get(f->s, &seed, &present));
    assert_false(present);
    OK(f->s->ops->seed_put(f->s, (const uint8_t *)"ct-1", 4));
    OK(f->s->ops->seed_put(f->s, (const uint8_t *)"ct-22", 5));
    OK(f->s->ops->seed_get(f->s, &seed, &present));
    assert_true(present);
    assert_int_equal(seed.len, 5);
    assert_memory_equal(seed.data, "ct-22", 5);
}

static void test_home_default(void **state)
{
    fixture *f = *state;
    char db[512];
    setenv("SIGIL_HOME", f->dir, 1);
    OK(sigil_store_home(db, sizeof(db), NULL));
    assert_string_equal(db, f->db);
    unsetenv("SIGIL_HOME");
    FAILS(sigil_store_home(db, sizeof(db), "/proc/version"), SIGIL_E_IO);
}

/* SQLite: the database and its -wal and -shm files are 0600 whatever the
 * umask (the state directory is 0700 too, docs/OPERATIONS.md). */
static void test_sqlite_files_private(void **state)
{
    fixture *f = *state;
    static const char *const SUFFIX[] = {"", "-wal", "-shm"};
    char path[400];
    struct stat st;
    if (B->open != sqlite_open)
        skip();
    OK(f->s->ops->tenant_add(f->s, "acme", 1)); /* a write: the -wal file exists */
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", f->db, SUFFIX[i]);
        assert_int_equal(stat(path, &st), 0);
        if ((st.st_mode & 0777) != 0600)
            fail_msg("%s: mode %o", path, (unsigned)(st.st_mode & 0777));
    }
}

/* ---- PostgreSQL: every libpq failure is a typed error, never a crash ---- */
static void test_pg_server_down(void **state)
{
    (void)state;
    sigil_store *s = NULL;
    if (B->open != pg_open)
        skip();
    FAILS(sigil_store_open_pg(&s, "postgresql:///sigil?host=/nonexistent-sigil-dir", true),
          SIGIL_E_UNAVAILABLE);
    assert_null(s);
    assert_null(strstr(sigil_errmsg(), "password"));
}

/* Connections killed by the server (a restart, a failover): the operations
 * that meet a dead connection fail UNAVAILABLE; the pool then reconnects. */
static void test_pg_connection_lost(void **state)
{
    fixture *f = *state;
    bool exists = false;
    int failures = 0;
    if (B->open != pg_open)
        skip();
    OK(f->s->ops->tenant_add(f->s, "acme", 1));
    assert_int_equal(B->raw(f, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                               " WHERE pid <> pg_backend_pid() AND datname = current_database()"),
                     0);
    for (int i = 0; i < 64 && !exists; i++) {
        sigil_clear_error();
        if (f->s->ops->tenant_exists(f->s, "acme", &exists) != 0) {
            assert_string_equal(sigil_err_code(sigil_errno()), sigil_err_code(SIGIL_E_UNAVAILABLE));
            failures++;
        }
    }
    assert_true(exists);
    assert_true(failures >= 1);
    /* the audit path recovers too, and the chain continues */
    sigil_audit_record a = {
        .time_ms = 5, .tenant = "acme", .op = "sign", .decision = "allow", .http_status = 200};
    uint64_t seq = 0;
    for (int i = 0; i < 64 && seq == 0; i++)
        (void)f->s->ops->record_outcome(f->s, &a, NULL, &seq);
    assert_int_equal(seq, 1);
}

/* The audit chain locked by another session for longer than the store
 * waits (lock_timeout): the append fails UNAVAILABLE, nothing is half
 * written, and appends resume once the lock is gone. */
static void test_pg_chain_locked(void **state)
{
    fixture *f = *state;
    uint64_t seq = 0;
    sigil_audit_record a = {
        .time_ms = 5, .tenant = "acme", .op = "sign", .decision = "allow", .http_status = 200};
    if (B->open != pg_open)
        skip();
    OK(f->s->ops->record_outcome(f->s, &a, NULL, &seq));
    PGconn *c = PQconnectdb(pg_url());
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "BEGIN; LOCK TABLE audit_chain IN ACCESS EXCLUSIVE MODE");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    FAILS(f->s->ops->record_outcome(f->s, &a, NULL, &seq), SIGIL_E_UNAVAILABLE);
    r = PQexec(c, "ROLLBACK");
    PQclear(r);
    PQfinish(c);
    OK(f->s->ops->record_outcome(f->s, &a, NULL, &seq));
    assert_int_equal(seq, 2);
    chain_check cc = chain_verify(f->s);
    assert_int_equal(cc.n, 2);
}

int main(void)
{
    (void)umask(022); /* the usual one: test_sqlite_files_private must beat it */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_files_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_needs_tenant, setup, teardown),
        cmocka_unit_test(test_token_parse),
        cmocka_unit_test_setup_teardown(test_keys_round_trip_and_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_record_checks, setup, teardown),
        cmocka_unit_test(test_audit_hash_encoding),
        cmocka_unit_test_setup_teardown(test_audit_chain_and_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_malformed_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_tail_cut_leaves_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_tenant_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boots_and_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_home_default, setup, teardown),
        cmocka_unit_test(test_pg_server_down),
        cmocka_unit_test_setup_teardown(test_pg_connection_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_chain_locked, setup, teardown),
    };
    const char *only_pg = getenv("SIGIL_TEST_PG_ONLY");
    int failed = 0;
    if (only_pg == NULL || strcmp(only_pg, "1") != 0)
        failed += cmocka_run_group_tests_name("store.sqlite", tests, NULL, NULL);
    if (pg_url() != NULL && pg_url()[0] != '\0') {
        B = &BACKENDS[1];
        failed += cmocka_run_group_tests_name("store.postgresql", tests, NULL, NULL);
    }
    return failed;
}
