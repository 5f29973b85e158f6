/*
 * Unit tests for the gateway's request-independent logic: token buckets
 * (clock injected, no sleeping), the per-token limiter table, route
 * matching, request-body schemas and headers (table in
 * tests/gateway/bad_requests.json, shared with the end-to-end tests), the
 * error-to-status table and the metrics text. The gateway's sources are
 * compiled in here: the executable's objects are not in a library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/body.c"
#include "gateway/errors.c"
#include "gateway/metrics.c"
#include "gateway/ratelimit.c"
#include "gateway/routes.c"

/* ---- token bucket ---- */
static void test_bucket_burst_then_refill(void **state)
{
    (void)state;
    gw_rate r = {10, 3}; /* 10/s, burst 3 */
    gw_bucket b = {0};
    uint32_t retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(gw_bucket_take(&b, &r, 1000, &retry));
    assert_false(gw_bucket_take(&b, &r, 1000, &retry));
    assert_int_equal(retry, 1);
    /* 99 ms refill 0.99 token: still limited; 100 ms: one token */
    assert_false(gw_bucket_take(&b, &r, 1099, &retry));
    assert_true(gw_bucket_take(&b, &r, 1100, &retry));
    assert_false(gw_bucket_take(&b, &r, 1100, &retry));
    /* a long pause refills to the burst, not beyond */
    for (int i = 0; i < 3; i++)
        assert_true(gw_bucket_take(&b, &r, 100000000, &retry));
    assert_false(gw_bucket_take(&b, &r, 100000000, &retry));
    /* the clock going backwards never adds tokens */
    assert_false(gw_bucket_take(&b, &r, 5, &retry));
}

static void test_bucket_retry_after(void **state)
{
    (void)state;
    gw_rate slow = {1, 1};
    gw_bucket b = {0};
    uint32_t retry = 0;
    assert_true(gw_bucket_take(&b, &slow, 0, &retry));
    assert_false(gw_bucket_take(&b, &slow, 0, &retry));
    assert_int_equal(retry, 1);
    assert_false(gw_bucket_take(&b, &slow, 400, &retry));
    assert_int_equal(retry, 1);
    assert_true(gw_bucket_take(&b, &slow, 1000, &retry));
    /* huge rate, huge elapsed: no overflow */
    gw_rate fast = {1000000, 1000000000};
    gw_bucket f = {0};
    assert_true(gw_bucket_take(&f, &fast, 0, &retry));
    assert_true(gw_bucket_take(&f, &fast, INT64_MAX / 2, &retry));
}

static void test_limiter_per_key(void **state)
{
    (void)state;
    gw_limiter l;
    uint32_t retry = 0;
    assert_int_equal(gw_limiter_init(&l, (gw_rate){1, 2}, 64), 0);
    assert_true(gw_limiter_take(&l, "aaaa", 0, &retry));
    assert_true(gw_limiter_take(&l, "aaaa", 0, &retry));
    assert_false(gw_limiter_take(&l, "aaaa", 0, &retry));
    /* another token has its own bucket */
    assert_true(gw_limiter_take(&l, "bbbb", 0, &retry));
    assert_true(gw_limiter_take(&l, "aaaa", 1000, &retry));
    /* an over-long key is refused, not truncated into someone else's */
    assert_false(gw_limiter_take(&l, "0123456789012345678901234567890123456789", 0, &retry));
    gw_limiter_free(&l);
    assert_int_not_equal(gw_limiter_init(&l, (gw_rate){0, 1}, 64), 0);
    assert_int_not_equal(gw_limiter_init(&l, (gw_rate){1, 0}, 64), 0);
}

static void test_limiter_full_table(void **state)
{
    (void)state;
    gw_limiter l;
    uint32_t retry = 0;
    char key[16];
    assert_int_equal(gw_limiter_init(&l, (gw_rate){1, 1}, 4), 0);
    /* four busy keys fill the table; a fifth is limited, not added */
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_true(gw_limiter_take(&l, key, 0, &retry));
    }
    assert_false(gw_limiter_take(&l, "k9", 0, &retry));
    /* once the others have refilled (idle), their slots are reused */
    assert_true(gw_limiter_take(&l, "k9", 5000, &retry));
    /* and the reused key's state is fresh, not inherited */
    assert_false(gw_limiter_take(&l, "k9", 5000, &retry));
    gw_limiter_free(&l);
}

/* ---- routes ---- */
static int h_dummy(gw_server *g, gw_req *rq, gw_resp *rs)
{
    (void)g;
    (void)rq;
    (void)rs;
    return 0;
}

static const gw_route ROUTES[] = {
    {"GET", "/healthz", h_dummy, GW_AUTH_NONE, GW_LIMIT_NONE, NULL},
    {"POST", "/v1/keys", h_dummy, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"GET", "/v1/keys", h_dummy, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"DELETE", "/v1/keys/{}", h_dummy, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
    {"GET", "/v1/attestation/boots/{}", h_dummy, GW_AUTH_TENANT, GW_LIMIT_API, NULL},
};

static gw_match match(const char *method, const char *path, size_t *idx, sigil_slice *param,
                      char *allow)
{
    return gw_route_match(ROUTES, SIGIL_ARRAY_LEN(ROUTES), method, path, idx, param, allow, 64);
}

static void test_routes(void **state)
{
    (void)state;
    size_t idx = 99;
    sigil_slice p;
    char allow[64];
    assert_int_equal(match("GET", "/healthz", &idx, &p, allow), GW_MATCH_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(match("POST", "/v1/keys", &idx, &p, allow), GW_MATCH_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(match("GET", "/v1/keys", &idx, &p, allow), GW_MATCH_OK);
    assert_int_equal(idx, 2);
    assert_int_equal(match("DELETE", "/v1/keys/key_A-1", &idx, &p, allow), GW_MATCH_OK);
    assert_int_equal(idx, 3);
    assert_int_equal(p.len, 7);
    assert_memory_equal(p.p, "key_A-1", 7);
    assert_int_equal(match("GET", "/v1/attestation/boots/00ff", &idx, &p, allow), GW_MATCH_OK);
    assert_int_equal(idx, 4);
    /* wrong method: 405 with the allowed ones */
    assert_int_equal(match("PUT", "/v1/keys", &idx, &p, allow), GW_MATCH_NO_METHOD);
    assert_string_equal(allow, "POST, GET");
    assert_int_equal(match("POST", "/healthz", &idx, &p, allow), GW_MATCH_NO_METHOD);
    assert_string_equal(allow, "GET");
    /* near misses are 404 */
    static const char *const MISSES[] = {
        "/",
        "/healthz/",
        "/healthzz",
        "/v1/keys/",
        "/v1/keys/a/b",
        "/v1/keys/a.b",
        "/v1/keys/a%2Fb",
        "/V1/keys",
        "/v1/keys//",
        "//v1/keys",
        "/v1/attestation/boots/",
        "",
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MISSES); i++) {
        gw_match m = match("DELETE", MISSES[i], &idx, &p, allow);
        if (m != GW_MATCH_NO_ROUTE)
            fail_msg("%s matched (%d)", MISSES[i], (int)m);
    }
    char longp[200] = "/v1/keys/";
    memset(longp + 9, 'a', 129);
    assert_int_equal(match("DELETE", longp, &idx, &p, allow), GW_MATCH_NO_ROUTE);
    longp[9 + 128] = '\0';
    assert_int_equal(match("DELETE", longp, &idx, &p, allow), GW_MATCH_OK);
}

/* ---- bodies ---- */
static sigil_json_tok g_toks[GW_JSON_TOKS];

static void test_sign_body_good(void **state)
{
    (void)state;
    static const char BODY[] =
        "{\"request\": {\"b\":1.50, \"a\":\"x\\u0041\"} ,\"key_id\":\"k-1_Z\"}";
    gw_sign_body b;
    sigil_json d;
    if (gw_parse_sign_body(&b, &d, g_toks, GW_JSON_TOKS, BODY, strlen(BODY)) != 0)
        fail_msg("%s", sigil_errmsg());
    assert_string_equal(b.key_id, "k-1_Z");
    /* the exact text, spacing, number text and escapes kept */
    static const char REQ[] = "{\"b\":1.50, \"a\":\"x\\u0041\"}";
    assert_int_equal(b.request.len, strlen(REQ));
    assert_memory_equal(b.request.p, REQ, strlen(REQ));
}

static void test_import_body_good(void **state)
{
    (void)state;
    static const char BODY[] = "{\"sealed\":\"aGVsbG8=\"}";
    uint8_t mem[16];
    sigil_buf sealed;
    sigil_json d;
    sigil_buf_init(&sealed, mem, sizeof(mem));
    if (gw_parse_import_body(&sealed, &d, g_toks, GW_JSON_TOKS, BODY, strlen(BODY)) != 0)
        fail_msg("%s", sigil_errmsg());
    assert_int_equal(sealed.len, 5);
    assert_memory_equal(sealed.data, "hello", 5);
    /* over the buffer: too_large */
    uint8_t two[2];
    sigil_buf_init(&sealed, two, sizeof(two));
    assert_int_not_equal(
        gw_parse_import_body(&sealed, &d, g_toks, GW_JSON_TOKS, BODY, strlen(BODY)), 0);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
}

static char *read_table(size_t *len)
{
    char path[4096];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof(path), "%.*s/../gateway/bad_requests.json",
             slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char *text = malloc(1 << 20);
    *len = fread(text, 1, 1 << 20, f);
    fclose(f);
    return text;
}

static void str_of(const sigil_json *d, uint32_t obj, const char *key, char *out, size_t cap)
{
    sigil_buf b;
    uint32_t t = sigil_json_get(d, obj, key);
    assert_int_not_equal(t, 0);
    sigil_buf_init(&b, out, cap - 1);
    assert_int_equal(sigil_json_str(d, t, &b), 0);
    out[b.len] = '\0';
}

static void check_body_case(const sigil_json *d, uint32_t c)
{
    static char b64[1 << 16], body[1 << 16];
    char route[16], code[32], name[80];
    size_t n = 0;
    uint8_t sealed_mem[256];
    sigil_buf sealed;
    gw_sign_body sb;
    sigil_json doc;
    str_of(d, c, "route", route, sizeof(route));
    str_of(d, c, "code", code, sizeof(code));
    str_of(d, c, "name", name, sizeof(name));
    str_of(d, c, "body_b64", b64, sizeof(b64));
    assert_int_equal(sigil_b64_decode((uint8_t *)body, sizeof(body), &n, b64, strlen(b64),
                                      SIGIL_B64_STD, "body"),
                     0);
    sigil_clear_error();
    sigil_buf_init(&sealed, sealed_mem, sizeof(sealed_mem));
    int rc = strcmp(route, "sign") == 0
                 ? gw_parse_sign_body(&sb, &doc, g_toks, GW_JSON_TOKS, body, n)
                 : gw_parse_import_body(&sealed, &doc, g_toks, GW_JSON_TOKS, body, n);
    if (rc == 0)
        fail_msg("%s body '%s' accepted", route, name);
    if (strcmp(sigil_err_code(sigil_errno()), code) != 0)
        fail_msg("%s body '%s': got %s (%s), want %s", route, name, sigil_err_code(sigil_errno()),
                 sigil_errmsg(), code);
    uint64_t status = 0;
    assert_int_equal(sigil_json_get_u64(d, c, "status", true, &status, NULL, "case"), 0);
    assert_int_equal(gw_status_for(sigil_errno()), status);
}

static void check_header_case(const sigil_json *d, uint32_t c)
{
    char header[32], value[256], code[32], name[80];
    sigil_token tok;
    str_of(d, c, "header", header, sizeof(header));
    str_of(d, c, "value", value, sizeof(value));
    str_of(d, c, "code", code, sizeof(code));
    str_of(d, c, "name", name, sizeof(name));
    sigil_clear_error();
    int rc;
    if (strcmp(header, "Idempotency-Key") == 0)
        rc = gw_check_idem_key(value, strlen(value));
    else if (strcmp(header, "Content-Type") == 0)
        rc = gw_check_content_type(value, strlen(value));
    else
        rc = sigil_token_from_header(&tok, value, strlen(value));
    if (rc == 0)
        fail_msg("%s '%s' accepted", header, name);
    if (strcmp(sigil_err_code(sigil_errno()), code) != 0)
        fail_msg("%s '%s': got %s, want %s", header, name, sigil_err_code(sigil_errno()), code);
}

static void test_bad_request_table(void **state)
{
    (void)state;
    size_t len;
    char *text = read_table(&len);
    static sigil_json_tok toks[4096];
    sigil_json d;
    if (sigil_json_parse(&d, text, len, toks, SIGIL_ARRAY_LEN(toks)) != 0)
        fail_msg("table: %s", sigil_errmsg());
    uint32_t bodies = sigil_json_get(&d, 0, "bodies"), headers = sigil_json_get(&d, 0, "headers");
    size_t n = 0;
    for (uint32_t c = sigil_json_first(&d, bodies); c != 0; c = sigil_json_sibling(&d, bodies, c)) {
        check_body_case(&d, c);
        n++;
    }
    for (uint32_t c = sigil_json_first(&d, headers); c != 0;
         c = sigil_json_sibling(&d, headers, c)) {
        check_header_case(&d, c);
        n++;
    }
    assert_true(n >= 25);
    free(text);
}

static void test_headers_good(void **state)
{
    (void)state;
    uint8_t nonce[GW_NONCE_MAX], boot[SIGIL_BOOT_ID_LEN];
    size_t n = 0;
    assert_int_equal(gw_check_idem_key("a", 1), 0);
    assert_int_equal(gw_check_idem_key("order-2024-01-01T00:00:00Z#1", 28), 0);
    assert_int_equal(gw_check_content_type(NULL, 0), 0);
    assert_int_equal(gw_check_content_type("application/json", 16), 0);
    assert_int_equal(gw_check_content_type("Application/JSON; charset=UTF-8", 31), 0);
    assert_int_equal(gw_parse_nonce(nonce, &n, "00ff", 4), 0);
    assert_int_equal(n, 2);
    assert_int_not_equal(gw_parse_nonce(nonce, &n, NULL, 0), 0);
    assert_int_equal(sigil_errno(), SIGIL_E_MISSING_FIELD);
    assert_int_not_equal(gw_parse_nonce(nonce, &n, "abc", 3), 0);
    assert_int_not_equal(gw_parse_nonce(nonce, &n, "zz", 2), 0);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_ENCODING);
    char big[2 * GW_NONCE_MAX + 3];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_not_equal(gw_parse_nonce(nonce, &n, big, 2 * GW_NONCE_MAX + 2), 0);
    assert_int_equal(gw_parse_nonce(nonce, &n, big, 2 * GW_NONCE_MAX), 0);
    assert_int_equal(gw_parse_boot_id(boot, "00112233445566778899aabbccddeeff", 32), 0);
    assert_int_not_equal(gw_parse_boot_id(boot, "0011", 4), 0);
    assert_int_not_equal(gw_parse_boot_id(boot, "00112233445566778899aabbccddeefg", 32), 0);
}

/* ---- errors and metrics ---- */
static void test_status_table(void **state)
{
    (void)state;
    static const struct {
        sigil_err e;
        unsigned status;
    } WANT[] = {
        {SIGIL_E_BAD_JSON, 400},      {SIGIL_E_UNAUTHORIZED, 401},  {SIGIL_E_FORBIDDEN, 403},
        {SIGIL_E_NOT_FOUND, 404},     {SIGIL_E_CONFLICT, 409},      {SIGIL_E_TOO_LARGE, 413},
        {SIGIL_E_POLICY_DENIED, 422}, {SIGIL_E_STALE_REQUEST, 422}, {SIGIL_E_RATE_LIMITED, 429},
        {SIGIL_E_INTERNAL, 500},      {SIGIL_E_UNAVAILABLE, 503},   {SIGIL_E_TIMEOUT, 504},
        {SIGIL_E_KEY_SERVICE, 503},   {SIGIL_E_PROTOCOL, 502},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(WANT); i++)
        assert_int_equal(gw_status_for(WANT[i].e), WANT[i].status);
    /* every code has a status */
    for (int e = 1; e < SIGIL_E_COUNT_; e++)
        assert_true(gw_status_for((sigil_err)e) >= 400);
    uint8_t mem[256];
    gw_resp rs = {0};
    sigil_buf_init(&rs.body, mem, sizeof(mem));
    (void)sigil_fail(SIGIL_E_NOT_FOUND, "key_id: no \"such\" key");
    gw_error_response(&rs);
    assert_int_equal(rs.status, 404);
    static const char WANT_BODY[] =
        "{\"error\":{\"code\":\"not_found\",\"message\":\"key_id: no \\\"such\\\" key\"}}";
    assert_int_equal(rs.body.len, strlen(WANT_BODY));
    assert_memory_equal(rs.body.data, WANT_BODY, rs.body.len);
}

static void test_metrics_text(void **state)
{
    (void)state;
    static char mem[1 << 16];
    static const char *const NAMES[] = {"GET /healthz", "POST /v1/sign"};
    sigil_buf out;
    gw_metrics_request(0, 200);
    gw_metrics_request(1, 429);
    gw_metrics_request(1, 299);
    gw_metrics_request(GW_METRIC_ROUTES + 5, 404);
    gw_metrics_sign_latency(700);
    gw_metrics_sign_latency(10000000);
    gw_metrics_rate_limited();
    gw_metrics_inflight(1);
    gw_metrics_enclave_conns(2);
    sigil_buf_init(&out, mem, sizeof(mem) - 1);
    assert_int_equal(gw_metrics_render(&out, NAMES, 2), 0);
    mem[out.len] = '\0';
    assert_non_null(
        strstr(mem, "sigil_http_requests_total{route=\"GET /healthz\",status=\"200\"} 1\n"));
    assert_non_null(
        strstr(mem, "sigil_http_requests_total{route=\"POST /v1/sign\",status=\"429\"} 1\n"));
    assert_non_null(
        strstr(mem, "sigil_http_requests_total{route=\"POST /v1/sign\",status=\"other\"} 1\n"));
    assert_non_null(
        strstr(mem, "sigil_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"));
    assert_non_null(strstr(mem, "sigil_sign_duration_seconds_bucket{le=\"0.001\"} 1\n"));
    assert_non_null(strstr(mem, "sigil_sign_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(mem, "sigil_sign_duration_seconds_count 2\n"));
    assert_non_null(strstr(mem, "sigil_rate_limited_total 1\n"));
    assert_non_null(strstr(mem, "sigil_http_requests_in_flight 1\n"));
    assert_non_null(strstr(mem, "sigil_enclave_connections 2\n"));
    /* a buffer too small is an error, not a truncated exposition */
    sigil_buf_init(&out, mem, 64);
    assert_int_not_equal(gw_metrics_render(&out, NAMES, 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_burst_then_refill),
        cmocka_unit_test(test_bucket_retry_after),
        cmocka_unit_test(test_limiter_per_key),
        cmocka_unit_test(test_limiter_full_table),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_sign_body_good),
        cmocka_unit_test(test_import_body_good),
        cmocka_unit_test(test_bad_request_table),
        cmocka_unit_test(test_headers_good),
        cmocka_unit_test(test_status_table),
        cmocka_unit_test(test_metrics_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
