/*
 * Key policy evaluation for sigil-kms (untrusted host code, but the decision
 * that releases keys): the AWS policy syntax subset with Effect, Action and
 * the kms:RecipientAttestation condition keys. Anything it does not
 * understand makes the policy unreadable, and an unreadable policy releases
 * nothing.
 */
#include <stdio.h>
#include <string.h>

#include "kms/kms_service.h"
#include "sigil/codec.h"

#define POLICY_MAX_TOKENS 1024
#define ATTEST_PREFIX "kms:recipientattestation:"

typedef struct {
    const sigil_json *d;
    sigil_kms_op op;
    const sigil_kms_attest_ctx *ctx;
    bool names_attest; /* some condition uses an attestation key */
} peval;

static char lower(char c)
{
    return (char)((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
}

static bool ieq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* Unescaped text of a string token, NUL-terminated. */
static int str_of(char *out, size_t cap, const sigil_json *d, uint32_t t, const char *where)
{
    sigil_buf b;
    sigil_buf_init(&b, out, cap);
    GUARD(sigil_json_expect(d, t, SIGIL_JSON_STRING, where, NULL));
    ENSURE(sigil_json_str(d, t, &b) == 0 && sigil_buf_cstr(&b) == 0, SIGIL_E_BAD_REQUEST,
           "%s: longer than %zu bytes", where, cap - 1);
    return 0;
}

/* ---- Action ---- */
static int one_action(bool *match, const peval *e, uint32_t t, const char *where)
{
    char a[96];
    GUARD(str_of(a, sizeof(a), e->d, t, where));
    size_t n = strlen(a);
    if (strcmp(a, "*") == 0) {
        *match = true;
        return 0;
    }
    ENSURE(n > 4 && ieq(a, 4, "kms:", 4), SIGIL_E_BAD_REQUEST,
           "%s: only kms: actions belong in a key policy", where);
    const char *name = sigil_kms_op_name(e->op);
    if (strcmp(a + 4, "*") == 0 || ieq(a + 4, n - 4, name, strlen(name)))
        *match = true;
    return 0;
}

static int action_matches(bool *match, const peval *e, uint32_t action, const char *where)
{
    *match = false;
    if (sigil_json_type_of(e->d, action) == SIGIL_JSON_STRING)
        return one_action(match, e, action, where);
    ENSURE(sigil_json_type_of(e->d, action) == SIGIL_JSON_ARRAY && e->d->toks[action].size > 0,
           SIGIL_E_BAD_REQUEST, "%s: expected a string or a non-empty array", where);
    for (uint32_t t = sigil_json_first(e->d, action); t != 0;
         t = sigil_json_sibling(e->d, action, t))
        GUARD(one_action(match, e, t, where));
    return 0;
}

/* ---- Condition ---- */
/* "kms:RecipientAttestation:ImageSha384" -> 0, ":PCR<n>" -> n (0..31). */
static int attest_key_index(unsigned *pcr, const char *key, const char *where)
{
    size_t pl = sizeof(ATTEST_PREFIX) - 1, n = strlen(key);
    ENSURE(n > pl && ieq(key, pl, ATTEST_PREFIX, pl), SIGIL_E_BAD_REQUEST,
           "%s: unsupported condition key (kms:RecipientAttestation:ImageSha384 or PCR<n>)", where);
    const char *k = key + pl;
    size_t kl = n - pl;
    if (ieq(k, kl, "ImageSha384", 11)) {
        *pcr = 0;
        return 0;
    }
    ENSURE(kl >= 4 && kl <= 5 && ieq(k, 3, "PCR", 3), SIGIL_E_BAD_REQUEST,
           "%s: unsupported condition key", where);
    unsigned v = 0;
    for (size_t i = 3; i < kl; i++) {
        ENSURE(k[i] >= '0' && k[i] <= '9', SIGIL_E_BAD_REQUEST, "%s: PCR index not a number",
               where);
        v = v * 10 + (unsigned)(k[i] - '0');
    }
    ENSURE(v < 32 && (kl == 4 || k[3] != '0'), SIGIL_E_BAD_REQUEST, "%s: PCR index must be 0..31",
           where);
    *pcr = v;
    return 0;
}

static int value_matches(bool *match, const peval *e, uint32_t t, const char *have,
                         bool ignore_case, const char *where)
{
    char want[128];
    GUARD(str_of(want, sizeof(want), e->d, t, where));
    size_t n = strlen(want);
    if (have != NULL && (ignore_case ? ieq(want, n, have, strlen(have)) : strcmp(want, have) == 0))
        *match = true;
    return 0;
}

/* One condition key: any listed value equal to the request's value. */
static int key_holds(bool *holds, peval *e, const char *key, uint32_t values, bool ignore_case,
                     const char *where)
{
    unsigned pcr;
    char have[97];
    bool match = false;
    GUARD(attest_key_index(&pcr, key, where));
    e->names_attest = true;
    bool present = e->ctx->has_recipient && (e->ctx->pcr_mask >> pcr & 1);
    if (present)
        sigil_hex_encode(have, e->ctx->pcrs[pcr], 48);
    if (sigil_json_type_of(e->d, values) == SIGIL_JSON_STRING)
        GUARD(value_matches(&match, e, values, present ? have : NULL, ignore_case, where));
    else {
        ENSURE(sigil_json_type_of(e->d, values) == SIGIL_JSON_ARRAY && e->d->toks[values].size > 0,
               SIGIL_E_BAD_REQUEST, "%s: expected a string or a non-empty array", where);
        for (uint32_t t = sigil_json_first(e->d, values); t != 0;
             t = sigil_json_sibling(e->d, values, t))
            GUARD(value_matches(&match, e, t, present ? have : NULL, ignore_case, where));
    }
    *holds = *holds && match;
    return 0;
}

static int operator_holds(bool *holds, peval *e, const char *op, uint32_t obj, const char *where)
{
    bool ignore_case;
    if (strcmp(op, "StringEqualsIgnoreCase") == 0)
        ignore_case = true;
    else if (strcmp(op, "StringEquals") == 0)
        ignore_case = false;
    else
        BAIL(SIGIL_E_BAD_REQUEST,
             "%s: unsupported condition operator (StringEquals, StringEqualsIgnoreCase)", where);
    ENSURE(sigil_json_type_of(e->d, obj) == SIGIL_JSON_OBJECT && e->d->toks[obj].size > 0,
           SIGIL_E_BAD_REQUEST, "%s.%s: expected a non-empty object", where, op);
    for (uint32_t k = sigil_json_first(e->d, obj); k != 0; k = sigil_json_sibling(e->d, obj, k)) {
        char key[96];
        GUARD(str_of(key, sizeof(key), e->d, k, where));
        GUARD(key_holds(holds, e, key, sigil_json_value(k), ignore_case, where));
    }
    return 0;
}

static int condition_holds(bool *holds, peval *e, uint32_t cond, const char *where)
{
    *holds = true;
    if (cond == 0)
        return 0;
    ENSURE(sigil_json_type_of(e->d, cond) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_REQUEST,
           "%s: expected an object", where);
    for (uint32_t k = sigil_json_first(e->d, cond); k != 0; k = sigil_json_sibling(e->d, cond, k)) {
        char op[64];
        GUARD(str_of(op, sizeof(op), e->d, k, where));
        GUARD(operator_holds(holds, e, op, sigil_json_value(k), where));
    }
    return 0;
}

/* ---- Statement ---- */
typedef enum { ST_NONE, ST_ALLOW, ST_DENY } st_result;

static int check_resource(const sigil_json *d, uint32_t st, const char *where)
{
    uint32_t r = sigil_json_get(d, st, "Resource");
    ENSURE(r == 0 || sigil_json_str_eq(d, r, "*"), SIGIL_E_BAD_REQUEST,
           "%s.Resource: must be \"*\" (the policy applies to every key of this sigil-kms)", where);
    uint32_t p = sigil_json_get(d, st, "Principal");
    ENSURE(p == 0 || sigil_json_type_of(d, p) == SIGIL_JSON_STRING ||
               sigil_json_type_of(d, p) == SIGIL_JSON_OBJECT,
           SIGIL_E_BAD_REQUEST, "%s.Principal: expected a string or an object", where);
    return 0;
}

static int statement_eval(st_result *out, peval *e, uint32_t st, const char *where)
{
    static const sigil_json_field FIELDS[] = {
        {"Sid", false},   {"Effect", true},    {"Principal", false},
        {"Action", true}, {"Resource", false}, {"Condition", false},
    };
    uint32_t effect;
    bool act, holds;
    GUARD(sigil_json_check_fields(e->d, st, FIELDS, SIGIL_ARRAY_LEN(FIELDS), where));
    GUARD(sigil_json_get_str(e->d, st, "Effect", true, &effect, where));
    bool allow = sigil_json_str_eq(e->d, effect, "Allow");
    ENSURE(allow || sigil_json_str_eq(e->d, effect, "Deny"), SIGIL_E_BAD_REQUEST,
           "%s.Effect: must be Allow or Deny", where);
    GUARD(check_resource(e->d, st, where));
    GUARD(action_matches(&act, e, sigil_json_get(e->d, st, "Action"), where));
    GUARD(condition_holds(&holds, e, sigil_json_get(e->d, st, "Condition"), where));
    *out = (act && holds) ? (allow ? ST_ALLOW : ST_DENY) : ST_NONE;
    return 0;
}

static int policy_root(const sigil_json *d, uint32_t *stmts)
{
    static const sigil_json_field FIELDS[] = {
        {"Version", false},
        {"Id", false},
        {"Statement", true},
    };
    uint32_t v;
    GUARD(sigil_json_check_fields(d, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "policy"));
    GUARD(sigil_json_get_str(d, 0, "Version", false, &v, "policy"));
    ENSURE(v == 0 || sigil_json_str_eq(d, v, "2012-10-17"), SIGIL_E_BAD_REQUEST,
           "policy.Version: must be 2012-10-17");
    *stmts = sigil_json_get(d, 0, "Statement");
    ENSURE(sigil_json_type_of(d, *stmts) == SIGIL_JSON_ARRAY && d->toks[*stmts].size > 0,
           SIGIL_E_BAD_REQUEST, "policy.Statement: expected a non-empty array");
    return 0;
}

int sigil_kms_policy_eval(bool *allowed, char *reason, size_t cap, const char *policy, size_t len,
                          sigil_kms_op op, const sigil_kms_attest_ctx *ctx)
{
    sigil_json_tok toks[POLICY_MAX_TOKENS];
    sigil_json d;
    uint32_t stmts;
    bool allow = false, deny = false;
    char where[48];
    *allowed = false;
    snprintf(reason, cap, "key policy unreadable");
    GUARD(sigil_json_parse(&d, policy, len, toks, POLICY_MAX_TOKENS));
    GUARD(sigil_json_expect(&d, 0, SIGIL_JSON_OBJECT, "policy", NULL));
    GUARD(policy_root(&d, &stmts));
    peval e = {&d, op, ctx, false};
    unsigned i = 0;
    for (uint32_t st = sigil_json_first(&d, stmts); st != 0;
         st = sigil_json_sibling(&d, stmts, st), i++) {
        st_result r;
        snprintf(where, sizeof(where), "policy.Statement[%u]", i);
        GUARD(statement_eval(&r, &e, st, where));
        allow |= r == ST_ALLOW;
        deny |= r == ST_DENY;
    }
    if (!ctx->has_recipient && e.names_attest)
        snprintf(reason, cap, "no Recipient attestation document (the key policy requires one)");
    else if (deny)
        snprintf(reason, cap, "an explicit Deny statement matches kms:%s", sigil_kms_op_name(op));
    else if (!allow)
        snprintf(reason, cap, "no statement allows kms:%s for this request", sigil_kms_op_name(op));
    else {
        snprintf(reason, cap, "allowed");
        *allowed = true;
    }
    return 0;
}

/* ---- writing policies ---- */
int sigil_kms_policy_default(sigil_buf *out, const char *image_sha384_hex)
{
    sigil_jw w;
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "Version"));
    GUARD(sigil_jw_str(&w, "2012-10-17"));
    GUARD(sigil_jw_key(&w, "Id"));
    GUARD(sigil_jw_str(&w, "sigil-kms-default"));
    GUARD(sigil_jw_key(&w, "Statement"));
    GUARD(sigil_jw_arr_begin(&w));
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "Sid"));
    GUARD(sigil_jw_str(&w, "AllowOnlyThePinnedEnclaveImage"));
    GUARD(sigil_jw_key(&w, "Effect"));
    GUARD(sigil_jw_str(&w, "Allow"));
    GUARD(sigil_jw_key(&w, "Principal"));
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "AWS"));
    GUARD(sigil_jw_str(&w, "*"));
    GUARD(sigil_jw_obj_end(&w));
    GUARD(sigil_jw_key(&w, "Action"));
    GUARD(sigil_jw_arr_begin(&w));
    GUARD(sigil_jw_str(&w, "kms:GenerateDataKey"));
    GUARD(sigil_jw_str(&w, "kms:Decrypt"));
    GUARD(sigil_jw_str(&w, "kms:Encrypt"));
    GUARD(sigil_jw_arr_end(&w));
    GUARD(sigil_jw_key(&w, "Resource"));
    GUARD(sigil_jw_str(&w, "*"));
    GUARD(sigil_jw_key(&w, "Condition"));
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "StringEqualsIgnoreCase"));
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "kms:RecipientAttestation:ImageSha384"));
    GUARD(sigil_jw_str(&w, image_sha384_hex ? image_sha384_hex : SIGIL_KMS_UNPINNED));
    GUARD(sigil_jw_obj_end(&w));
    GUARD(sigil_jw_obj_end(&w));
    GUARD(sigil_jw_obj_end(&w));
    GUARD(sigil_jw_arr_end(&w));
    GUARD(sigil_jw_obj_end(&w));
    return sigil_buf_putc(out, '\n');
}

static int copy_key(sigil_jw *w, const sigil_json *d, uint32_t k)
{
    char key[256];
    GUARD(str_of(key, sizeof(key), d, k, "policy key"));
    return sigil_jw_key(w, key);
}

/* Copies a Condition object, replacing ImageSha384 values. */
static int pin_condition(sigil_jw *w, const sigil_json *d, uint32_t cond, const char *hex,
                         unsigned *count)
{
    GUARD(sigil_jw_obj_begin(w));
    for (uint32_t o = sigil_json_first(d, cond); o != 0; o = sigil_json_sibling(d, cond, o)) {
        uint32_t ov = sigil_json_value(o);
        GUARD(copy_key(w, d, o));
        if (sigil_json_type_of(d, ov) != SIGIL_JSON_OBJECT) {
            GUARD(sigil_jw_copy(w, d, ov));
            continue;
        }
        GUARD(sigil_jw_obj_begin(w));
        for (uint32_t k = sigil_json_first(d, ov); k != 0; k = sigil_json_sibling(d, ov, k)) {
            char key[96];
            GUARD(str_of(key, sizeof(key), d, k, "policy condition key"));
            GUARD(sigil_jw_key(w, key));
            if (ieq(key, strlen(key), ATTEST_PREFIX "imagesha384",
                    sizeof(ATTEST_PREFIX "imagesha384") - 1)) {
                GUARD(sigil_jw_str(w, hex));
                (*count)++;
            } else
                GUARD(sigil_jw_copy(w, d, sigil_json_value(k)));
        }
        GUARD(sigil_jw_obj_end(w));
    }
    return sigil_jw_obj_end(w);
}

static int pin_statement(sigil_jw *w, const sigil_json *d, uint32_t st, const char *hex,
                         unsigned *count)
{
    GUARD(sigil_jw_obj_begin(w));
    for (uint32_t k = sigil_json_first(d, st); k != 0; k = sigil_json_sibling(d, st, k)) {
        uint32_t v = sigil_json_value(k);
        GUARD(copy_key(w, d, k));
        if (sigil_json_str_eq(d, k, "Condition") && sigil_json_type_of(d, v) == SIGIL_JSON_OBJECT)
            GUARD(pin_condition(w, d, v, hex, count));
        else
            GUARD(sigil_jw_copy(w, d, v));
    }
    return sigil_jw_obj_end(w);
}

int sigil_kms_policy_pin(sigil_buf *out, const char *policy, size_t len,
                         const char *image_sha384_hex)
{
    sigil_json_tok toks[POLICY_MAX_TOKENS];
    sigil_json d;
    uint32_t stmts;
    unsigned count = 0;
    sigil_jw w;
    GUARD(sigil_json_parse(&d, policy, len, toks, POLICY_MAX_TOKENS));
    GUARD(sigil_json_expect(&d, 0, SIGIL_JSON_OBJECT, "policy", NULL));
    GUARD(policy_root(&d, &stmts));
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    for (uint32_t k = sigil_json_first(&d, 0); k != 0; k = sigil_json_sibling(&d, 0, k)) {
        GUARD(copy_key(&w, &d, k));
        if (k + 1 != stmts) {
            GUARD(sigil_jw_copy(&w, &d, sigil_json_value(k)));
            continue;
        }
        GUARD(sigil_jw_arr_begin(&w));
        for (uint32_t st = sigil_json_first(&d, stmts); st != 0;
             st = sigil_json_sibling(&d, stmts, st)) {
            if (sigil_json_type_of(&d, st) == SIGIL_JSON_OBJECT)
                GUARD(pin_statement(&w, &d, st, image_sha384_hex, &count));
            else
                GUARD(sigil_jw_copy(&w, &d, st));
        }
        GUARD(sigil_jw_arr_end(&w));
    }
    GUARD(sigil_jw_obj_end(&w));
    ENSURE(count > 0, SIGIL_E_BAD_REQUEST,
           "policy: no kms:RecipientAttestation:ImageSha384 condition to pin; edit it by hand");
    return sigil_buf_putc(out, '\n');
}
