/*
 * The table-driven policy suite (tests/vectors/policy/, one JSON file per theme): every case
 * runs through the whole decision the enclave makes for /v1/sign — parse the
 * policy, classify the request, inspect it, evaluate every rule, then the
 * per-key limits (a fresh sigil_limits per case) — and the outcome (allow,
 * deny or error; the error code; a substring of the message) must be the
 * one the vector states. Expectations were written from docs/POLICY.md,
 * docs/POLICY-ORDERS.md and the venues' own semantics, not from this code's
 * output.
 *
 * A file is {"cases":[…]}; a case is {"name", "policy" (or "policy_text" for
 * input that is not strict JSON), "venue", "network", "now_ms", "requests":
 * [{"request" (or "request_text"), "expect": "allow"|"deny"|"error", "code"?,
 * "reason"? (a substring of the message), "action"? (the classification),
 * "now_ms"? (this request's clock, for rates and days)}], "http"? (also run
 * by tests/e2e/test_e2e_policy.py)}, or a policy refused at parse:
 * {"name", "policy", "expect_parse": {"code", "field"}}.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/policy.h"
#include "test_util.h"

/* The limits key of every case (one key, fresh state per case). */
#define TENANT "acme"
#define KEY_ID "00112233445566778899aabbccddeeff"

#define FILE_MAX (2u * 1024u * 1024u)
#define TOKS_MAX (256u * 1024u)
#define TEXT_MAX (128u * 1024u)
#define MSG_MAX 600

static const char *const FILES[] = {
    "policy/basics.json",       "policy/http.json",        "policy/symbols.json",
    "policy/destinations.json", "policy/hyperliquid.json", "policy/limits.json",
    "policy/parsing.json",      "policy/smuggling.json",   "policy/dydx.json",
    "policy/paradex.json",
};

static char g_file[FILE_MAX];
static sigil_json_tok g_toks[TOKS_MAX];
static char g_text[TEXT_MAX];
static sigil_policy g_policy;
static sigil_request_info g_info;

typedef struct {
    unsigned cases, requests, parse_cases, failures;
} stats;

/* What one request came to. */
typedef struct {
    int rc;
    sigil_err code;
    char msg[MSG_MAX];
    bool classified;
    sigil_action action;
} outcome;

/* Where a mismatch is reported. */
typedef struct {
    const char *file;
    char name[160];
    long index; /* request index, -1 for the case itself */
} where;

static void report(stats *s, const where *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(stats *s, const where *w, const char *fmt, ...)
{
    va_list ap;
    char line[1024];
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (w->index < 0)
        print_message("MISMATCH %s: case \"%s\": %s\n", w->file, w->name, line);
    else
        print_message("MISMATCH %s: case \"%s\" request #%ld: %s\n", w->file, w->name, w->index,
                      line);
    s->failures++;
}

/* ---- reading the vector file (its own structure is trusted: a malformed
 * vector fails the test) ---- */

static bool str_member(char *dst, size_t cap, const sigil_json *d, uint32_t obj, const char *key)
{
    uint32_t t = sigil_json_get(d, obj, key);
    sigil_buf b;
    if (t == 0)
        return false;
    if (sigil_json_type_of(d, t) != SIGIL_JSON_STRING)
        fail_msg("vector: \"%s\" must be a string", key);
    sigil_buf_init(&b, dst, cap - 1);
    if (sigil_json_str(d, t, &b) != 0)
        fail_msg("vector: \"%s\" too long", key);
    dst[b.len] = '\0';
    return true;
}

static bool u64_member(uint64_t *out, const sigil_json *d, uint32_t obj, const char *key)
{
    uint32_t t = sigil_json_get(d, obj, key);
    if (t == 0)
        return false;
    if (sigil_json_tok_u64(d, t, out, key) != 0)
        fail_msg("vector: \"%s\": %s", key, sigil_errmsg());
    return true;
}

/* The text of an object member ("policy", "request"), or of its string
 * alternative ("policy_text", "request_text") for inputs that are not
 * strict JSON (duplicate keys, escapes a JSON writer would undo). */
static bool input_text(const char **p, size_t *n, const sigil_json *d, uint32_t obj,
                       const char *key, const char *text_key)
{
    uint32_t t = sigil_json_get(d, obj, key);
    if (t != 0) {
        sigil_slice s = sigil_json_raw(d, t);
        *p = s.p;
        *n = s.len;
        return true;
    }
    if (!str_member(g_text, sizeof(g_text), d, obj, text_key))
        return false;
    *p = g_text;
    *n = strlen(g_text);
    return true;
}

static bool network_of(sigil_network *out, const char *s)
{
    if (strcmp(s, "mainnet") == 0)
        *out = SIGIL_NET_MAINNET;
    else if (strcmp(s, "testnet") == 0)
        *out = SIGIL_NET_TESTNET;
    else
        return false;
    return true;
}

/* ---- the decision, as the enclave takes it (src/enclave/sign.c) ---- */

static void decide(outcome *o, const sigil_policy *p, sigil_limits *l, const char *venue,
                   sigil_network net, uint64_t now_ms, const char *req, size_t len)
{
    sigil_policy_cost cost;
    memset(o, 0, sizeof(*o));
    sigil_clear_error();
    o->rc = -1;
    if (sigil_request_action(&o->action, venue, req, len) != 0)
        goto out;
    o->classified = true;
    if (sigil_request_inspect(&g_info, venue, o->action, req, len) != 0)
        goto out;
    sigil_policy_input in = {
        .venue = venue, .network = net, .action = o->action, .info = &g_info, .now_ms = now_ms};
    if (sigil_policy_evaluate(p, &in, &cost) != 0)
        goto out;
    if (sigil_limits_admit(l, TENANT, KEY_ID, p, &cost, now_ms) != 0)
        goto out;
    o->rc = 0;
out:
    if (o->rc != 0) {
        o->code = sigil_errno();
        (void)snprintf(o->msg, sizeof(o->msg), "%s", sigil_errmsg());
    }
}

static const char *describe(char *buf, size_t cap, const outcome *o)
{
    if (o->rc == 0)
        (void)snprintf(buf, cap, "allow (action %s)", sigil_action_name(o->action));
    else
        (void)snprintf(buf, cap, "%s %s \"%s\"",
                       o->code == SIGIL_E_POLICY_DENIED ? "deny" : "error", sigil_err_code(o->code),
                       o->msg);
    return buf;
}

/* Compares one request's outcome with its expectation. */
static void check_request(stats *s, const where *w, const sigil_json *d, uint32_t r,
                          const outcome *o)
{
    char expect[16], code[40], reason[400], action[16], got[MSG_MAX + 80];
    if (!str_member(expect, sizeof(expect), d, r, "expect"))
        fail_msg("%s: case \"%s\" request #%ld: no \"expect\"", w->file, w->name, w->index);
    bool has_code = str_member(code, sizeof(code), d, r, "code");
    bool has_reason = str_member(reason, sizeof(reason), d, r, "reason");
    describe(got, sizeof(got), o);

    if (str_member(action, sizeof(action), d, r, "action")) {
        if (!o->classified)
            report(s, w, "expected action %s, classification failed: %s", action, got);
        else if (strcmp(action, sigil_action_name(o->action)) != 0)
            report(s, w, "expected action %s, classified as %s", action,
                   sigil_action_name(o->action));
    }
    if (strcmp(expect, "allow") == 0) {
        if (o->rc != 0)
            report(s, w, "expected allow, got %s", got);
        return;
    }
    bool want_deny = strcmp(expect, "deny") == 0;
    if (!want_deny && strcmp(expect, "error") != 0)
        fail_msg("%s: case \"%s\": bad expect \"%s\"", w->file, w->name, expect);
    bool is_deny = o->rc != 0 && o->code == SIGIL_E_POLICY_DENIED;
    if (o->rc == 0 || want_deny != is_deny) {
        report(s, w, "expected %s%s%s, got %s", expect, has_reason ? " naming " : "",
               has_reason ? reason : "", got);
        return;
    }
    if (has_code && strcmp(code, sigil_err_code(o->code)) != 0)
        report(s, w, "expected code %s, got %s", code, got);
    if (has_reason && strstr(o->msg, reason) == NULL)
        report(s, w, "expected a message containing \"%s\", got %s", reason, got);
}

static void run_parse_case(stats *s, const where *w, const sigil_json *d, uint32_t c,
                           const char *pol, size_t pol_len)
{
    char code[40], field[200];
    uint32_t e = sigil_json_get(d, c, "expect_parse");
    if (!str_member(code, sizeof(code), d, e, "code") ||
        !str_member(field, sizeof(field), d, e, "field"))
        fail_msg("%s: case \"%s\": expect_parse needs code and field", w->file, w->name);
    if (sigil_json_get(d, c, "requests") != 0)
        fail_msg("%s: case \"%s\": a parse case has no requests", w->file, w->name);
    s->parse_cases++;
    sigil_clear_error();
    if (sigil_policy_parse(&g_policy, pol, pol_len) == 0) {
        report(s, w, "expected the policy refused (%s naming %s), it parsed", code, field);
        return;
    }
    if (strcmp(code, sigil_err_code(sigil_errno())) != 0 || strstr(sigil_errmsg(), field) == NULL)
        report(s, w, "expected %s naming \"%s\", got %s \"%s\"", code, field,
               sigil_err_code(sigil_errno()), sigil_errmsg());
}

static void run_case(stats *s, const char *file, const sigil_json *d, uint32_t c)
{
    where w = {file, "", -1};
    char venue[40], network[16];
    sigil_network net = SIGIL_NET_MAINNET;
    uint64_t now_ms;
    const char *pol = NULL;
    size_t pol_len = 0;

    if (!str_member(w.name, sizeof(w.name), d, c, "name"))
        fail_msg("%s: a case has no name", file);
    if (!input_text(&pol, &pol_len, d, c, "policy", "policy_text"))
        fail_msg("%s: case \"%s\": no policy", file, w.name);
    s->cases++;
    if (sigil_json_get(d, c, "expect_parse") != 0) {
        run_parse_case(s, &w, d, c, pol, pol_len);
        return;
    }
    if (!str_member(venue, sizeof(venue), d, c, "venue") ||
        !str_member(network, sizeof(network), d, c, "network") || !network_of(&net, network) ||
        !u64_member(&now_ms, d, c, "now_ms"))
        fail_msg("%s: case \"%s\": venue, network and now_ms are required", file, w.name);
    uint32_t reqs = sigil_json_get(d, c, "requests");
    if (reqs == 0 || sigil_json_type_of(d, reqs) != SIGIL_JSON_ARRAY)
        fail_msg("%s: case \"%s\": no requests", file, w.name);

    sigil_clear_error();
    if (sigil_policy_parse(&g_policy, pol, pol_len) != 0) {
        report(s, &w, "policy refused: %s \"%s\"", sigil_err_code(sigil_errno()), sigil_errmsg());
        return;
    }
    sigil_limits *l = NULL;
    assert_int_equal(sigil_limits_new(&l), 0);
    w.index = 0;
    for (uint32_t r = sigil_json_first(d, reqs); r != 0; r = sigil_json_sibling(d, reqs, r)) {
        const char *req = NULL;
        size_t len = 0;
        uint64_t at = now_ms;
        outcome o;
        if (!input_text(&req, &len, d, r, "request", "request_text"))
            fail_msg("%s: case \"%s\" request #%ld: no request", file, w.name, w.index);
        (void)u64_member(&at, d, r, "now_ms");
        decide(&o, &g_policy, l, venue, net, at, req, len);
        check_request(s, &w, d, r, &o);
        s->requests++;
        w.index++;
    }
    sigil_limits_free(l);
}

static void run_file(stats *total, const char *file)
{
    sigil_json d;
    stats s = {0, 0, 0, 0};
    test_load_vectors(file, g_file, sizeof(g_file), &d, g_toks, TOKS_MAX);
    uint32_t cases = sigil_json_get(&d, 0, "cases");
    if (cases == 0 || sigil_json_type_of(&d, cases) != SIGIL_JSON_ARRAY)
        fail_msg("%s: expected {\"cases\":[…]}", file);
    for (uint32_t c = sigil_json_first(&d, cases); c != 0; c = sigil_json_sibling(&d, cases, c))
        run_case(&s, file, &d, c);
    print_message("%-26s %3u cases (%u parse refusals), %3u requests, %u mismatches\n", file,
                  s.cases, s.parse_cases, s.requests, s.failures);
    total->cases += s.cases;
    total->parse_cases += s.parse_cases;
    total->requests += s.requests;
    total->failures += s.failures;
}

static void test_policy_vectors(void **state)
{
    (void)state;
    stats total = {0, 0, 0, 0};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(FILES); i++)
        run_file(&total, FILES[i]);
    print_message("policy vectors: %u cases (%u parse refusals), %u requests, %u mismatches\n",
                  total.cases, total.parse_cases, total.requests, total.failures);
    assert_true(total.requests >= 150);
    if (total.failures != 0)
        fail_msg("%u policy vector mismatches (listed above)", total.failures);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
