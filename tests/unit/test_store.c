/*
 * Unit tests for the gateway store (src/gateway/store*.c): migrations,
 * tenants, tokens, keys, idempotency, audit, boots and the seed, against a
 * fresh SQLite file per test. Another tenant's key must be invisible.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/store.h"

typedef struct {
    char dir[256];
    char db[300];
    sigil_store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sigil-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(sigil_store_home(f->db, sizeof(f->db), f->dir), 0);
    if (sigil_store_open_sqlite(&f->s, f->db) != 0)
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
        OK(sigil_store_open_sqlite(&f->s, f->db));
        n = 0;
        OK(f->s->ops->tenant_list(f->s, count_cb, &n));
        assert_int_equal(n, 1);
        f->s->ops->close(f->s);
        f->s = NULL;
    }
    assert_true(sigil_store_sqlite_schema_version() >= 1);
    OK(sigil_store_open_sqlite(&f->s, f->db));
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

/* ---- idempotency ---- */
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
    sigil_audit_record a = {.time_ms = t0,
                            .tenant = "acme",
                            .key_id = "k1",
                            .op = "sign",
                            .action = "order",
                            .decision = "allow",
                            .http_status = 200,
                            .request_hash = h1};
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
    sigil_audit_record ok = {.time_ms = 7,
                             .tenant = "acme",
                             .key_id = "k1",
                             .op = "sign",
                             .action = "order",
                             .decision = "allow",
                             .http_status = 200,
                             .request_hash = rh,
                             .output_hash = oh};
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
    OK(f->s->ops->audit_list(f->s, 0, audit_cb, &rows));
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
    OK(f->s->ops->audit_list(f->s, s1, audit_cb, &rows));
    assert_int_equal(rows.n, 1);
    sigil_audit_record bad = {.tenant = "acme"};
    FAILS(f->s->ops->record_outcome(f->s, &bad, NULL, NULL), SIGIL_E_INTERNAL);
}

/* Concurrent writers on one store: every record lands once. */
typedef struct {
    sigil_store *s;
    int id;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    char key[32];
    for (int i = 0; i < 50; i++) {
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
        sigil_audit_record a = {
            .time_ms = 1, .tenant = "acme", .op = "sign", .decision = "allow", .http_status = 200};
        sigil_idem_outcome o = {key, 200, (const uint8_t *)"{}", 2};
        if (w->s->ops->record_outcome(w->s, &a, &o, NULL) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    fixture *f = *state;
    pthread_t th[4];
    writer_arg args[4];
    audit_rows rows = {0};
    for (int i = 0; i < 4; i++) {
        args[i] = (writer_arg){f->s, i};
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rc;
        assert_int_equal(pthread_join(th[i], &rc), 0);
        assert_null(rc);
    }
    OK(f->s->ops->audit_list(f->s, 0, audit_cb, &rows));
    assert_int_equal(rows.n, 200);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_needs_tenant, setup, teardown),
        cmocka_unit_test(test_token_parse),
        cmocka_unit_test_setup_teardown(test_keys_round_trip_and_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boots_and_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_home_default, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
