/*
 * Unit tests of the gateway's observability pieces (docs/OBSERVABILITY.md):
 * metric label bounds and histogram shapes (metrics.c), JSON log lines and
 * their escaping (log.c), request ids (reqid.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/log.c"
#include "gateway/metrics.c"
#include "gateway/reqid.c"

/* GW_ROUTE_NAMES and GW_NROUTES live in dispatch.c, with the handlers. */
const char *const GW_ROUTE_NAMES[] = {"GET /healthz", "POST /v1/sign", NULL};
const size_t GW_NROUTES = 2;

static char g_text[1 << 17];

static const char *render(void)
{
    sigil_buf out;
    sigil_buf_init(&out, g_text, sizeof(g_text) - 1);
    assert_int_equal(gw_metrics_render(&out, GW_ROUTE_NAMES, GW_NROUTES), 0);
    g_text[out.len] = '\0';
    return g_text;
}

static unsigned count_of(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Every line of want is a whole line of the exposition text. */
static void expect_lines(const char *text, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *at = strstr(text, want[i]);
        if (at == NULL || (at != text && at[-1] != '\n'))
            fail_msg("missing line: %s", want[i]);
    }
}

static void test_sign_outcomes_bounded(void **state)
{
    (void)state;
    char name[16];
    gw_metrics_sign_outcome("binance", "allow", SIGIL_OK);
    gw_metrics_sign_outcome("binance", "allow", SIGIL_OK);
    gw_metrics_sign_outcome("binance", "deny", SIGIL_E_POLICY_DENIED);
    gw_metrics_sign_outcome("", "error", SIGIL_E_BAD_JSON);
    gw_metrics_sign_outcome("Bad\"Venue", "error", SIGIL_E_INTERNAL);
    gw_metrics_sign_outcome("okx", "surprise", (sigil_err)999);
    for (int i = 0; i < 40; i++) { /* more venues than label slots */
        snprintf(name, sizeof(name), "v%02d", i);
        gw_metrics_sign_outcome(name, "allow", SIGIL_OK);
    }
    static const char *const WANT[] = {
        "sigil_sign_decisions_total{venue=\"binance\",decision=\"allow\",code=\"none\"} 2\n",
        ("sigil_sign_decisions_total{venue=\"binance\",decision=\"deny\",code=\"policy_denied\"} "
         "1\n"),
        "sigil_sign_decisions_total{venue=\"none\",decision=\"error\",code=\"bad_json\"} 1\n",
        "sigil_sign_decisions_total{venue=\"okx\",decision=\"error\",code=\"internal\"} 1\n",
        "sigil_sign_decisions_total{venue=\"v29\",decision=\"allow\",code=\"none\"} 1\n",
        "sigil_sign_decisions_total{venue=\"overflow\",decision=\"allow\",code=\"none\"} 10\n",
    };
    const char *t = render();
    expect_lines(t, WANT, SIGIL_ARRAY_LEN(WANT));
    /* a name outside [a-z0-9_] is never a label; unknown decisions and codes fold */
    assert_null(strstr(t, "Bad"));
    /* binance, okx and 30 of the v.. venues take the 32 slots; 10 are "overflow",
     * plus the bad name */
    assert_null(strstr(t, "venue=\"v30\""));
    assert_int_equal(count_of(t, "sigil_sign_decisions_total{"), 32 + 1 + 1 + 1 + 1);
}

static void test_histograms(void **state)
{
    (void)state;
    gw_metrics_enclave_call("sign", 700);
    gw_metrics_enclave_call("sign", 20000000);
    gw_metrics_enclave_call("mystery", 50);
    gw_metrics_audit_write(1000, 1300, true);
    gw_metrics_audit_batch(1);
    gw_metrics_audit_batch(3);
    gw_metrics_audit_batch(5000);
    gw_metrics_key_service(2500, false);
    static const char *const WANT[] = {
        "sigil_enclave_call_duration_seconds_bucket{op=\"sign\",le=\"0.0005\"} 0\n",
        "sigil_enclave_call_duration_seconds_bucket{op=\"sign\",le=\"0.001\"} 1\n",
        "sigil_enclave_call_duration_seconds_bucket{op=\"sign\",le=\"5\"} 1\n",
        "sigil_enclave_call_duration_seconds_bucket{op=\"sign\",le=\"+Inf\"} 2\n",
        "sigil_enclave_call_duration_seconds_sum{op=\"sign\"} 20.000700\n",
        "sigil_enclave_call_duration_seconds_count{op=\"sign\"} 2\n",
        "sigil_enclave_call_duration_seconds_bucket{op=\"unknown\",le=\"0.0001\"} 1\n",
        "sigil_audit_write_duration_seconds_bucket{le=\"0.00025\"} 0\n",
        "sigil_audit_write_duration_seconds_bucket{le=\"0.0005\"} 1\n",
        "sigil_audit_write_duration_seconds_sum 0.000300\n",
        "sigil_audit_batch_records_bucket{le=\"1\"} 1\n",
        "sigil_audit_batch_records_bucket{le=\"2\"} 1\n",
        "sigil_audit_batch_records_bucket{le=\"4\"} 2\n",
        "sigil_audit_batch_records_bucket{le=\"512\"} 2\n",
        "sigil_audit_batch_records_bucket{le=\"+Inf\"} 3\n",
        "sigil_audit_batch_records_sum 5004.000000\n",
        "sigil_key_service_fetch_duration_seconds_count 1\n",
        "sigil_key_service_fetch_failures_total 1\n",
    };
    const char *t = render();
    expect_lines(t, WANT, SIGIL_ARRAY_LEN(WANT));
    /* one TYPE line per family */
    assert_int_equal(count_of(t, "# TYPE sigil_enclave_call_duration_seconds histogram\n"), 1);
}

static void test_pool_and_audit_health(void **state)
{
    (void)state;
    gw_metrics_enclave_pool(3, 1024);
    gw_metrics_enclave_pool(7, 1024);
    gw_metrics_enclave_pool(2, 1024);
    gw_metrics_enclave_pool_full();
    assert_int_equal(gw_metrics_audit_failed_at(), 0);
    gw_metrics_audit_write(5000, 9000, false);
    assert_int_equal(gw_metrics_audit_failed_at(), 9000);
    static const char *const WANT[] = {
        "sigil_enclave_pool_in_use 2\n",        "sigil_enclave_pool_in_use_max 7\n",
        "sigil_enclave_pool_capacity 1024\n",   "sigil_enclave_pool_full_total 1\n",
        "sigil_audit_write_failures_total 1\n",
    };
    const char *t = render();
    expect_lines(t, WANT, SIGIL_ARRAY_LEN(WANT));
    gw_metrics_audit_write(9500, 9600, true);
    assert_int_equal(gw_metrics_audit_failed_at(), 0);
}

static void test_request_ids(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        bool ok;
    } CASES[] = {
        {"abc", true},   {"A-Z_a.z:09", true}, {"", false},     {"a b", false},
        {"a\"b", false}, {"a/b", false},       {"a\nb", false}, {"caf\xc3\xa9", false},
        {"a\\b", false}, {"{}", false},
    };
    char big[GW_REQUEST_ID_MAX + 2];
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++)
        assert_int_equal(gw_request_id_valid(CASES[i].id, strlen(CASES[i].id)), CASES[i].ok);
    memset(big, 'a', sizeof(big));
    assert_true(gw_request_id_valid(big, GW_REQUEST_ID_MAX));
    assert_false(gw_request_id_valid(big, GW_REQUEST_ID_MAX + 1));

    gw_req rq = {.request_id_hdr = "client-1", .request_id_count = 1};
    gw_request_id_assign(&rq);
    assert_string_equal(rq.request_id, "client-1");
    gw_req twice = {.request_id_hdr = "client-1", .request_id_count = 2};
    gw_request_id_assign(&twice);
    assert_int_equal(strlen(twice.request_id), 32);
    assert_int_equal(strspn(twice.request_id, "0123456789abcdef"), 32);
    big[GW_REQUEST_ID_MAX] = 'a';
    big[GW_REQUEST_ID_MAX + 1] = '\0';
    gw_req longer = {.request_id_hdr = big, .request_id_count = 1};
    gw_request_id_assign(&longer);
    assert_int_equal(strlen(longer.request_id), 32);
    assert_string_not_equal(longer.request_id, twice.request_id);
}

/* Runs fn with stderr redirected to a temporary file; returns what it wrote. */
static char *capture(void (*fn)(void))
{
    static char buf[1 << 14];
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    (void)fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), 2) >= 0);
    fn();
    (void)fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

static void write_lines(void)
{
    gw_log("enclave: connection %u ready (protocol v%u)", 0u, 1u);
    gw_log_set_request("rid-7");
    gw_log_warn("audit: \"quoted\" \\ tab\there\nnewline \x01 caf\xc3\xa9");
    gw_log_set_request(NULL);
    gw_log("listening on port %u", 8080u);
    gw_log_set_request("rid-7");
    (void)sigil_fail(SIGIL_E_TIMEOUT, "enclave: no answer before the deadline");
    gw_log_enclave_failure("sign");
    (void)sigil_fail(SIGIL_E_POLICY_DENIED, "policy: action withdraw not allowed");
    gw_log_enclave_failure("sign"); /* the enclave's answer: no line */
    gw_log_set_request(NULL);
    gw_req rq = {.method = "PO\"ST",
                 .tenant = "acme",
                 .key_id = "k1",
                 .venue = "binance",
                 .request_id = "rid-8",
                 .error_code = "policy_denied"};
    gw_log_request(&rq, 1, 422, 1234);
    gw_req r2 = {.method = "GET", .request_id = "rid-9", .error_code = "not_found"};
    gw_log_request(&r2, GW_METRIC_ROUTES - 1, 200, 5);
}

/* Everything after the time field, which is checked for its shape. */
static const char *after_time(const char *line)
{
    static const char PREFIX[] = "{\"time\":\"";
    assert_memory_equal(line, PREFIX, strlen(PREFIX));
    const char *t = line + strlen(PREFIX);
    /* 2026-01-02T03:04:05.678Z */
    assert_true(strlen(t) > 25 && t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' &&
                t[16] == ':' && t[19] == '.' && t[23] == 'Z' && t[24] == '"');
    return t + 25;
}

static void test_log_lines(void **state)
{
    (void)state;
    char *out = capture(write_lines);
    static const char *const WANT[] = {
        ",\"level\":\"info\",\"event\":\"enclave\",\"msg\":\"enclave: connection 0 ready "
        "(protocol v1)\"}",
        ",\"level\":\"warn\",\"event\":\"audit\",\"request_id\":\"rid-7\",\"msg\":\"audit: "
        "\\\"quoted\\\" \\\\ tab\\u0009here\\u000anewline \\u0001 caf\\u00c3\\u00a9\"}",
        ",\"level\":\"info\",\"event\":\"gateway\",\"msg\":\"listening on port 8080\"}",
        ",\"level\":\"warn\",\"event\":\"enclave\",\"request_id\":\"rid-7\",\"msg\":\"enclave: "
        "sign call failed (timeout): enclave: no answer before the deadline\"}",
        ",\"level\":\"info\",\"event\":\"request\",\"request_id\":\"rid-8\",\"method\":"
        "\"PO\\\"ST\","
        "\"route\":\"POST /v1/sign\",\"status\":422,\"duration_ms\":1.234,\"tenant\":\"acme\","
        "\"key_id\":\"k1\",\"venue\":\"binance\",\"error\":\"policy_denied\"}",
        ",\"level\":\"info\",\"event\":\"request\",\"request_id\":\"rid-9\",\"method\":\"GET\","
        "\"route\":\"unmatched\",\"status\":200,\"duration_ms\":0.005}",
    };
    char *save = NULL;
    size_t i = 0;
    for (char *line = strtok_r(out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        assert_true(i < SIGIL_ARRAY_LEN(WANT));
        assert_string_equal(after_time(line), WANT[i]);
        i++;
    }
    assert_int_equal(i, SIGIL_ARRAY_LEN(WANT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_outcomes_bounded),
        cmocka_unit_test(test_histograms),
        cmocka_unit_test(test_pool_and_audit_health),
        cmocka_unit_test(test_request_ids),
        cmocka_unit_test(test_log_lines),
    };
    assert_int_equal(sigil_init(), 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
