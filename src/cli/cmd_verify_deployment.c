/*
 * `sigil verify-deployment`: checks a deployment against the measurement
 * (PCR0) the customer pins, from up to three sources: a fresh attestation
 * document from the gateway (random nonce, pinned root, not debug), the
 * on-chain measurement registry for a trusted owner (cmd_registry.c), and the
 * KMS key policy's kms:RecipientAttestation:ImageSha384 conditions. Prints a
 * table and one JSON line; exit 0 only when every source agrees. Untrusted-
 * host code without secrets (at most a bearer token, sent to the gateway).
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "sigil/attest.h"
#include "sigil/codec.h"

#define URL_MAX CLI_ATTESTATION_URL_MAX
#define POLICY_FILE_MAX ((size_t)256 * 1024)
#define POLICY_TOKENS 8192u
#define VALUE_TEXT_MAX 100 /* a condition value as shown (longer ones are cut) */
#define MAX_VALUES 16      /* distinct ImageSha384 values listed in a reason */
#define REASON_MAX 2048
#define CLI_EXIT_DISAGREE 3

static const char USAGE[] =
    "usage: sigil verify-deployment --gateway URL --measurement HEX96 (--root aws | "
    "--trust-dev-root PEM) [--token T] [--cacert PEM] [--rpc URL --contract ADDR --owner ADDR] "
    "[--key-policy FILE]";

typedef struct {
    const char *gateway, *measurement, *root, *dev_root, *token, *cacert;
    const char *rpc, *contract, *owner, *key_policy;
} vd_args;

typedef enum { V_OK, V_SKIPPED, V_MISMATCH, V_ERROR } verdict;

static const char *const VERDICT_TABLE[] = {"ok", "skipped", "MISMATCH", "ERROR"};
static const char *const VERDICT_JSON[] = {"ok", "skipped", "mismatch", "error"};

typedef struct {
    const char *source;
    verdict v;
    char value[128]; /* empty: none */
    char reason[REASON_MAX];
} vd_row;

/* The key policy document, parsed (the tokens refer to text). */
typedef struct {
    char outer[POLICY_FILE_MAX];
    char text[POLICY_FILE_MAX]; /* the policy itself (unescaped from "Policy") */
    size_t len;
    sigil_json_tok toks[POLICY_TOKENS];
    sigil_json d;
    uint32_t statements; /* an array, or a single statement object */
} key_policy;

typedef struct {
    uint8_t pinned[48];
    char pinned_hex[97];
    char base_url[URL_MAX];
    char auth[CLI_HTTP_AUTH_MAX];
    const uint8_t *root_der;
    size_t root_len;
    uint8_t *root_owned;
    bool has_registry, has_policy;
    cli_registry reg;
    key_policy policy;
} vd_ctx;

/* ---- arguments ---- */

static int check_args(const vd_args *a)
{
    ENSURE(a->gateway != NULL, SIGIL_E_USAGE, "verify-deployment: --gateway is required");
    ENSURE(a->measurement != NULL, SIGIL_E_USAGE,
           "verify-deployment: --measurement is required (the PCR0 you pin)");
    GUARD(cli_root_check(a->root, a->dev_root, "verify-deployment"));
    int reg = (a->rpc != NULL) + (a->contract != NULL) + (a->owner != NULL);
    ENSURE(reg == 0 || reg == 3, SIGIL_E_USAGE,
           "verify-deployment: --rpc, --contract and --owner go together");
    return 0;
}

static int parse_args(vd_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"gateway", &a->gateway, NULL, false}, {"measurement", &a->measurement, NULL, false},
        {"root", &a->root, NULL, false},       {"trust-dev-root", &a->dev_root, NULL, false},
        {"token", &a->token, NULL, false},     {"cacert", &a->cacert, NULL, false},
        {"rpc", &a->rpc, NULL, false},         {"contract", &a->contract, NULL, false},
        {"owner", &a->owner, NULL, false},     {"key-policy", &a->key_policy, NULL, false},
    };
    memset(a, 0, sizeof(*a));
    GUARD(cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, USAGE, "verify-deployment"));
    return check_args(a);
}

/* ---- the key policy file ---- */

/* Parses policy JSON; errors name --key-policy (and what: the file or the
 * "Policy" string inside it). */
static int parse_json(sigil_json *d, const char *text, size_t len, sigil_json_tok *toks,
                      uint32_t cap, const char *what)
{
    char msg[256];
    if (sigil_json_parse(d, text, len, toks, cap) == 0)
        return 0;
    sigil_err e = sigil_errno();
    (void)snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
    BAIL(e, "--key-policy: %s: %s", what, msg);
}

/* `aws kms get-key-policy` prints {"Policy": "<the policy as a JSON
 * string>", "PolicyName"?}; with --output text, the policy itself. */
static int unwrap_policy(key_policy *kp, size_t outer_len)
{
    static sigil_json_tok outer_toks[64];
    static const sigil_json_field WRAPPER[] = {{"Policy", true}, {"PolicyName", false}};
    sigil_json o;
    uint32_t t;
    sigil_buf b;
    GUARD(parse_json(&o, kp->outer, outer_len, outer_toks, SIGIL_ARRAY_LEN(outer_toks), "file"));
    GUARD(sigil_json_check_fields(&o, 0, WRAPPER, SIGIL_ARRAY_LEN(WRAPPER), "--key-policy"));
    GUARD(sigil_json_get_str(&o, 0, "Policy", true, &t, "--key-policy"));
    sigil_buf_init(&b, kp->text, sizeof(kp->text));
    GUARD(sigil_json_str(&o, t, &b));
    kp->len = b.len;
    return 0;
}

/* A policy document: {"Version"?, "Id"?, "Statement": [..] | {..}}, each
 * statement an object with "Effect" Allow or Deny and, if any, a "Sid"
 * string and a "Condition" object of operator objects. */
static int check_statement(const sigil_json *d, uint32_t s, size_t i)
{
    uint32_t t;
    char where[64];
    (void)snprintf(where, sizeof(where), "--key-policy: Statement[%zu]", i);
    ENSURE(sigil_json_type_of(d, s) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "%s: expected an object", where);
    GUARD(sigil_json_get_str(d, s, "Effect", true, &t, where));
    ENSURE(sigil_json_str_eq(d, t, "Allow") || sigil_json_str_eq(d, t, "Deny"), SIGIL_E_BAD_FIELD,
           "%s.Effect: expected \"Allow\" or \"Deny\"", where);
    GUARD(sigil_json_get_str(d, s, "Sid", false, &t, where));
    uint32_t c = sigil_json_get(d, s, "Condition");
    if (c == 0)
        return 0;
    ENSURE(sigil_json_type_of(d, c) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "%s.Condition: expected an object", where);
    for (uint32_t k = sigil_json_first(d, c); k != 0; k = sigil_json_sibling(d, c, k))
        ENSURE(sigil_json_type_of(d, sigil_json_value(k)) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
               "%s.Condition: each operator maps to an object", where);
    return 0;
}

static int load_key_policy(key_policy *kp, const char *path)
{
    static const sigil_json_field DOC[] = {{"Version", false}, {"Id", false}, {"Statement", true}};
    size_t n;
    GUARD(cli_read_public_file(kp->outer, sizeof(kp->outer), &n, path, "--key-policy"));
    GUARD(parse_json(&kp->d, kp->outer, n, kp->toks, POLICY_TOKENS, "file"));
    ENSURE(sigil_json_type_of(&kp->d, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "--key-policy: expected a JSON object");
    if (sigil_json_get(&kp->d, 0, "Policy") != 0) {
        GUARD(unwrap_policy(kp, n));
    } else {
        memcpy(kp->text, kp->outer, n);
        kp->len = n;
    }
    GUARD(parse_json(&kp->d, kp->text, kp->len, kp->toks, POLICY_TOKENS, "the policy"));
    ENSURE(sigil_json_type_of(&kp->d, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "--key-policy: the policy is not a JSON object");
    GUARD(sigil_json_check_fields(&kp->d, 0, DOC, SIGIL_ARRAY_LEN(DOC), "--key-policy"));
    kp->statements = sigil_json_get(&kp->d, 0, "Statement");
    sigil_json_type st = sigil_json_type_of(&kp->d, kp->statements);
    if (st == SIGIL_JSON_OBJECT)
        return check_statement(&kp->d, kp->statements, 0);
    ENSURE(st == SIGIL_JSON_ARRAY, SIGIL_E_BAD_FIELD,
           "--key-policy: Statement: expected an array or an object");
    size_t i = 0;
    for (uint32_t s = sigil_json_first(&kp->d, kp->statements); s != 0;
         s = sigil_json_sibling(&kp->d, kp->statements, s), i++)
        GUARD(check_statement(&kp->d, s, i));
    return 0;
}

/* ---- the key policy's verdict ---- */

/* String condition operators (IAM names; ForAnyValue:/ForAllValues: and
 * IfExists are taken off first). */
typedef struct {
    const char *name;
    bool negated, ignore_case, like;
} string_op;

static const string_op STRING_OPS[] = {
    {"StringEquals", false, false, false},   {"StringEqualsIgnoreCase", false, true, false},
    {"StringNotEquals", true, false, false}, {"StringNotEqualsIgnoreCase", true, true, false},
    {"StringLike", false, false, true},      {"StringNotLike", true, false, true},
};

typedef struct {
    const string_op *op;
    bool for_all;   /* ForAllValues: true when the key is absent */
    bool if_exists; /* ...IfExists: true when the key is absent */
} parsed_op;

static bool parse_op(parsed_op *p, sigil_slice s)
{
    static const char ANY[] = "ForAnyValue:", ALL[] = "ForAllValues:", IFX[] = "IfExists";
    memset(p, 0, sizeof(*p));
    if (s.len > sizeof(ANY) - 1 && memcmp(s.p, ANY, sizeof(ANY) - 1) == 0) {
        s.p += sizeof(ANY) - 1;
        s.len -= sizeof(ANY) - 1;
    } else if (s.len > sizeof(ALL) - 1 && memcmp(s.p, ALL, sizeof(ALL) - 1) == 0) {
        s.p += sizeof(ALL) - 1;
        s.len -= sizeof(ALL) - 1;
        p->for_all = true;
    }
    if (s.len > sizeof(IFX) - 1 &&
        memcmp(s.p + s.len - (sizeof(IFX) - 1), IFX, sizeof(IFX) - 1) == 0) {
        s.len -= sizeof(IFX) - 1;
        p->if_exists = true;
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(STRING_OPS); i++) {
        if (strlen(STRING_OPS[i].name) == s.len && memcmp(STRING_OPS[i].name, s.p, s.len) == 0) {
            p->op = &STRING_OPS[i];
            return true;
        }
    }
    return false;
}

/* What the conditions say, gathered over the whole policy. */
typedef struct {
    const char *pinned; /* lowercase hex */
    char values[MAX_VALUES][VALUE_TEXT_MAX + 4];
    size_t nvalues, ndistinct_over; /* distinct values; those beyond MAX_VALUES */
    size_t nconditions;
    size_t allow_binds, deny_binds;
    bool allow_has_pinned;
    bool case_hint;                 /* a case-sensitive value equals the pinned one up to case */
    char first_problem[REASON_MAX]; /* a weakening or denying statement */
    char deny_without_pinned[160];  /* a Deny ...NotEquals that lets only others through */
    char deny_naming_pinned[160];   /* a Deny ...Equals that names the pinned measurement */
} policy_scan;

static void statement_label(char *out, size_t cap, const sigil_json *d, uint32_t s, size_t i)
{
    uint32_t sid = sigil_json_get(d, s, "Sid");
    char text[64];
    sigil_buf b;
    sigil_buf_init(&b, text, sizeof(text) - 1);
    if (sid != 0 && sigil_json_str(d, sid, &b) == 0 && b.len > 0) {
        for (size_t k = 0; k < b.len; k++)
            if ((uint8_t)text[k] < 0x20 || (uint8_t)text[k] >= 0x7f || text[k] == '"')
                text[k] = '?';
        text[b.len] = '\0';
        (void)snprintf(out, cap, "statement \"%s\"", text);
    } else {
        (void)snprintf(out, cap, "statement #%zu", i + 1);
    }
}

/* A condition value as text (unescaped, printable ASCII, cut at VALUE_TEXT_MAX). */
static void value_text(char out[VALUE_TEXT_MAX + 4], const sigil_json *d, uint32_t t)
{
    char raw[VALUE_TEXT_MAX + 1];
    sigil_buf b;
    sigil_buf_init(&b, raw, sizeof(raw));
    bool cut = sigil_json_str(d, t, &b) != 0 || b.len > VALUE_TEXT_MAX;
    sigil_clear_error();
    size_t n = b.len > VALUE_TEXT_MAX ? VALUE_TEXT_MAX : b.len;
    for (size_t k = 0; k < n; k++)
        out[k] = (char)(((uint8_t)raw[k] >= 0x20 && (uint8_t)raw[k] < 0x7f) ? raw[k] : '?');
    if (cut)
        memcpy(out + n, "...", 3), n += 3;
    out[n] = '\0';
}

static void remember_value(policy_scan *ps, const char *v)
{
    for (size_t i = 0; i < ps->nvalues; i++)
        if (strcmp(ps->values[i], v) == 0)
            return;
    if (ps->nvalues == MAX_VALUES) {
        ps->ndistinct_over++;
        return;
    }
    (void)snprintf(ps->values[ps->nvalues++], sizeof(ps->values[0]), "%s", v);
}

/* Records the first weakening or denying condition found (the one reported). */
#define PROBLEM(ps, ...)                                                                           \
    do {                                                                                           \
        if ((ps)->first_problem[0] == '\0')                                                        \
            (void)snprintf((ps)->first_problem, sizeof((ps)->first_problem), __VA_ARGS__);         \
    } while (0)

/* Whether one value matches the pinned measurement under op. */
static bool value_matches(policy_scan *ps, const parsed_op *p, const char *v, const char *label)
{
    if (p->op->like && strpbrk(v, "*?") != NULL) {
        PROBLEM(ps, "%s: %s pattern \"%s\" matches more than one image", label, p->op->name, v);
        return false;
    }
    if (strcmp(v, ps->pinned) == 0)
        return true;
    if (strcasecmp(v, ps->pinned) != 0)
        return false;
    if (p->op->ignore_case)
        return true;
    ps->case_hint = true; /* KMS presents lowercase hex; a case-sensitive operator misses */
    return false;
}

/* One ImageSha384 condition of a statement. */
static void scan_condition(policy_scan *ps, const sigil_json *d, bool allow, sigil_slice opname,
                           uint32_t values, const char *label)
{
    parsed_op p;
    bool any = false;
    ps->nconditions++;
    if (!parse_op(&p, opname)) {
        PROBLEM(ps, "%s: %.*s on kms:RecipientAttestation:ImageSha384 is not a string comparison",
                label, (int)opname.len, opname.p);
        return;
    }
    sigil_json_type vt = sigil_json_type_of(d, values);
    uint32_t single = vt == SIGIL_JSON_STRING ? values : 0;
    uint32_t first = single != 0              ? single
                     : vt == SIGIL_JSON_ARRAY ? sigil_json_first(d, values)
                                              : 0;
    if (single == 0 && vt != SIGIL_JSON_ARRAY)
        PROBLEM(ps, "%s: the ImageSha384 value is neither a string nor a list", label);
    for (uint32_t t = first; t != 0; t = single != 0 ? 0 : sigil_json_sibling(d, values, t)) {
        char v[VALUE_TEXT_MAX + 4];
        if (sigil_json_type_of(d, t) != SIGIL_JSON_STRING) {
            PROBLEM(ps, "%s: an ImageSha384 value is not a string", label);
            continue;
        }
        value_text(v, d, t);
        remember_value(ps, v);
        any |= value_matches(ps, &p, v, label);
    }
    if (allow && p.op->negated)
        PROBLEM(ps, "%s: Allow with %.*s lets any other image use the key", label, (int)opname.len,
                opname.p);
    else if (allow && (p.for_all || p.if_exists))
        PROBLEM(ps, "%s: Allow with %.*s also holds for requests without an attestation", label,
                (int)opname.len, opname.p);
    else if (allow) {
        ps->allow_binds++;
        ps->allow_has_pinned |= any;
    } else if (p.op->negated) {
        ps->deny_binds++;
    }
    if (!allow && p.op->negated && !any && ps->deny_without_pinned[0] == '\0')
        (void)snprintf(ps->deny_without_pinned, sizeof(ps->deny_without_pinned), "%s (Deny, %.*s)",
                       label, (int)opname.len, opname.p);
    if (!allow && !p.op->negated && any && ps->deny_naming_pinned[0] == '\0')
        (void)snprintf(ps->deny_naming_pinned, sizeof(ps->deny_naming_pinned), "%s (Deny, %.*s)",
                       label, (int)opname.len, opname.p);
}

static bool is_image_key(const sigil_json *d, uint32_t k)
{
    static const char KEY[] = "kms:RecipientAttestation:ImageSha384";
    sigil_slice s = sigil_json_raw(d, k);
    return sigil_json_str_is_plain(d, k) && s.len == sizeof(KEY) - 1 &&
           strncasecmp(s.p, KEY, s.len) == 0; /* condition keys ignore case */
}

static void scan_statement(policy_scan *ps, const sigil_json *d, uint32_t s, size_t i)
{
    char label[96];
    uint32_t c = sigil_json_get(d, s, "Condition");
    bool allow = sigil_json_str_eq(d, sigil_json_get(d, s, "Effect"), "Allow");
    statement_label(label, sizeof(label), d, s, i);
    for (uint32_t op = c == 0 ? 0 : sigil_json_first(d, c); op != 0;
         op = sigil_json_sibling(d, c, op)) {
        uint32_t keys = sigil_json_value(op);
        for (uint32_t k = sigil_json_first(d, keys); k != 0; k = sigil_json_sibling(d, keys, k))
            if (is_image_key(d, k))
                scan_condition(ps, d, allow, sigil_json_raw(d, op), sigil_json_value(k), label);
    }
}

/* "a, b, c (and 2 more)" */
static void list_values(char *out, size_t cap, const policy_scan *ps)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ps->nvalues && n < cap; i++) {
        int w = snprintf(out + n, cap - n, "%s%s", i > 0 ? ", " : "", ps->values[i]);
        n += w > 0 ? (size_t)w : 0;
    }
    if (ps->ndistinct_over > 0 && n < cap)
        (void)snprintf(out + n, cap - n, " (and %zu more)", ps->ndistinct_over);
}

static verdict policy_verdict(char *reason, size_t cap, const policy_scan *ps)
{
    char vals[REASON_MAX / 2];
    list_values(vals, sizeof(vals), ps);
    const char *hint = ps->case_hint ? " (a value equals it only ignoring case, and "
                                       "StringEquals compares case-sensitively)"
                                     : "";
    if (ps->nconditions == 0) {
        (void)snprintf(reason, cap,
                       "no kms:RecipientAttestation:ImageSha384 condition: the key "
                       "is not bound to an enclave image");
        return V_MISMATCH;
    }
    if (ps->first_problem[0] != '\0') {
        (void)snprintf(reason, cap, "%s", ps->first_problem);
        return V_MISMATCH;
    }
    if (ps->allow_binds + ps->deny_binds == 0) {
        (void)snprintf(reason, cap,
                       "no statement binds the key to an image (ImageSha384 "
                       "appears only in Deny ...Equals conditions: %s)",
                       vals);
        return V_MISMATCH;
    }
    if (!ps->allow_has_pinned && ps->deny_without_pinned[0] != '\0') {
        (void)snprintf(reason, cap, "bound to another measurement: ImageSha384 %s%s", vals, hint);
        return V_MISMATCH;
    }
    if (ps->allow_binds > 0 && !ps->allow_has_pinned) {
        (void)snprintf(reason, cap,
                       "no Allow statement names the pinned measurement "
                       "(ImageSha384 values: %s)%s",
                       vals, hint);
        return V_MISMATCH;
    }
    if (ps->deny_without_pinned[0] != '\0') {
        (void)snprintf(reason, cap, "%s denies the pinned measurement (ImageSha384 values: %s)%s",
                       ps->deny_without_pinned, vals, hint);
        return V_MISMATCH;
    }
    if (ps->deny_naming_pinned[0] != '\0') {
        (void)snprintf(reason, cap, "%s denies the pinned measurement", ps->deny_naming_pinned);
        return V_MISMATCH;
    }
    (void)snprintf(reason, cap, "pinned measurement bound by %zu ImageSha384 condition(s)",
                   ps->nconditions);
    return V_OK;
}

static void check_key_policy(vd_row *r, const vd_ctx *c)
{
    static policy_scan ps;
    const key_policy *kp = &c->policy;
    memset(&ps, 0, sizeof(ps));
    ps.pinned = c->pinned_hex;
    if (sigil_json_type_of(&kp->d, kp->statements) == SIGIL_JSON_OBJECT) {
        scan_statement(&ps, &kp->d, kp->statements, 0);
    } else {
        size_t i = 0;
        for (uint32_t s = sigil_json_first(&kp->d, kp->statements); s != 0;
             s = sigil_json_sibling(&kp->d, kp->statements, s), i++)
            scan_statement(&ps, &kp->d, s, i);
    }
    r->v = policy_verdict(r->reason, sizeof(r->reason), &ps);
    if (ps.nvalues == 1 && ps.ndistinct_over == 0)
        (void)snprintf(r->value, sizeof(r->value), "%s", ps.values[0]);
    else if (ps.nvalues > 1)
        (void)snprintf(r->value, sizeof(r->value), "%zu distinct values",
                       ps.nvalues + ps.ndistinct_over);
}

/* ---- the attestation ---- */

/* The shared checks of a fresh document (cli_attestation_fetch.c), then
 * ours: PCR0 present and not zero. */
static int verify_document(cli_attestation *att, const vd_ctx *c)
{
    static const uint8_t ZERO[48];
    const cli_attestation_check chk = {.root_der = c->root_der,
                                       .root_len = c->root_len,
                                       .prefix = "",
                                       .nonce_hint = " (a replayed document?)"};
    GUARD(cli_attestation_verify(att, &chk));
    ENSURE(att->doc.pcr_mask & 1u, SIGIL_E_ATTESTATION, "the document has no PCR0");
    ENSURE(memcmp(att->doc.pcrs[0], ZERO, 48) != 0, SIGIL_E_ATTESTATION,
           "PCR0 is all zero (a debug enclave)");
    return 0;
}

static void check_attestation(vd_row *r, const vd_ctx *c, const vd_args *a)
{
    static cli_attestation att;
    const cli_attestation_source src = {
        .base_url = c->base_url, .auth = a->token != NULL ? c->auth : NULL, .cacert = a->cacert};
    if (cli_attestation_fetch(&att, &src) != 0) {
        r->v = V_ERROR;
        (void)snprintf(r->reason, sizeof(r->reason), "%s", sigil_errmsg());
        return;
    }
    r->v = V_MISMATCH; /* from here on, anything wrong is the deployment's */
    if (verify_document(&att, c) != 0) {
        (void)snprintf(r->reason, sizeof(r->reason), "%s", sigil_errmsg());
        return;
    }
    sigil_hex_encode(r->value, att.doc.pcrs[0], 48);
    if (memcmp(att.doc.pcrs[0], c->pinned, 48) != 0) {
        (void)snprintf(r->reason, sizeof(r->reason),
                       "PCR0 of the running enclave is not the pinned measurement");
        return;
    }
    if (att.has_measurement && memcmp(att.measurement, att.doc.pcrs[0], 48) != 0) {
        (void)snprintf(r->reason, sizeof(r->reason),
                       "the gateway's \"measurement\" differs from the document's PCR0");
        return;
    }
    r->v = V_OK;
    (void)snprintf(r->reason, sizeof(r->reason),
                   "fresh document (our nonce) under the pinned root, not debug, PCR0 = pinned");
}

/* ---- the registry ---- */

static void check_registry(vd_row *r, const vd_ctx *c)
{
    static cli_registry_answer ans;
    char desc[4 * SIGIL_REGISTRY_DESCRIPTION_MAX + 64], why[256];
    sigil_buf b;
    if (cli_registry_get_entry(&ans, &c->reg, c->pinned) != 0) {
        r->v = V_ERROR;
        (void)snprintf(r->reason, sizeof(r->reason), "%s", sigil_errmsg());
        return;
    }
    const sigil_registry_entry *e = &ans.entry;
    r->v = cli_registry_reason(why, sizeof(why), e, c->reg.owner) ? V_OK : V_MISMATCH;
    if (!e->exists) {
        (void)snprintf(r->reason, sizeof(r->reason), "%s", why);
        return;
    }
    sigil_hex_encode(r->value, c->pinned, 48);
    sigil_buf_init(&b, desc, sizeof(desc) - 1);
    if (cli_registry_description(&b, c->reg.owner, e->description, e->description_len) != 0)
        b.len = 0;
    desc[b.len] = '\0';
    (void)snprintf(r->reason, sizeof(r->reason), "%s; %s", why, desc);
}

/* ---- output ---- */

static int print_table(const vd_row *rows, size_t n)
{
    ENSURE(printf("%-12s %-9s %s\n", "source", "verdict", "value") >= 0, SIGIL_E_IO,
           "stdout: write failed");
    for (size_t i = 0; i < n; i++) {
        const vd_row *r = &rows[i];
        ENSURE(printf("%-12s %-9s %s\n%-12s %-9s %s\n", r->source, VERDICT_TABLE[r->v],
                      r->value[0] != '\0' ? r->value : "-", "", "", r->reason) >= 0,
               SIGIL_E_IO, "stdout: write failed");
    }
    return 0;
}

static int print_json(const vd_row *rows, size_t n, const vd_ctx *c, bool ok)
{
    static char mem[32768];
    sigil_buf b;
    sigil_jw w;
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "ok"));
    GUARD(sigil_jw_bool(&w, ok));
    GUARD(sigil_jw_key(&w, "measurement"));
    GUARD(sigil_jw_str(&w, c->pinned_hex));
    GUARD(sigil_jw_key(&w, "sources"));
    GUARD(sigil_jw_arr_begin(&w));
    for (size_t i = 0; i < n; i++) {
        GUARD(sigil_jw_obj_begin(&w));
        GUARD(sigil_jw_key(&w, "source"));
        GUARD(sigil_jw_str(&w, rows[i].source));
        GUARD(sigil_jw_key(&w, "verdict"));
        GUARD(sigil_jw_str(&w, VERDICT_JSON[rows[i].v]));
        GUARD(sigil_jw_key(&w, "value"));
        GUARD(rows[i].value[0] != '\0' ? sigil_jw_str(&w, rows[i].value) : sigil_jw_null(&w));
        GUARD(sigil_jw_key(&w, "reason"));
        GUARD(sigil_jw_str(&w, rows[i].reason));
        GUARD(sigil_jw_obj_end(&w));
    }
    GUARD(sigil_jw_arr_end(&w));
    GUARD(sigil_jw_obj_end(&w));
    return cli_write_line(mem, b.len);
}

/* ---- the command ---- */

/* Everything local is read and checked before any network I/O. */
static int load_inputs(vd_ctx *c, const vd_args *a)
{
    GUARD(cli_measurement_parse(c->pinned, a->measurement));
    sigil_hex_encode(c->pinned_hex, c->pinned, 48);
    GUARD(cli_http_gateway(c->base_url, sizeof(c->base_url), a->gateway, URL_MAX - 128));
    if (a->token != NULL)
        GUARD(cli_http_bearer(c->auth, a->token));
    c->has_registry = a->rpc != NULL;
    if (c->has_registry)
        GUARD(cli_registry_init(&c->reg, a->rpc, a->contract, a->owner));
    c->has_policy = a->key_policy != NULL;
    if (c->has_policy)
        GUARD(load_key_policy(&c->policy, a->key_policy));
    return cli_root_load(&c->root_der, &c->root_len, &c->root_owned, a->dev_root);
}

static void skip(vd_row *r, const char *why)
{
    r->v = V_SKIPPED;
    (void)snprintf(r->reason, sizeof(r->reason), "%s", why);
}

static int run_checks(int *exit_code, vd_ctx *c, const vd_args *a)
{
    static vd_row rows[4];
    memset(rows, 0, sizeof(rows));
    rows[0] = (vd_row){.source = "pinned", .v = V_OK};
    (void)snprintf(rows[0].value, sizeof(rows[0].value), "%s", c->pinned_hex);
    (void)snprintf(rows[0].reason, sizeof(rows[0].reason), "--measurement (not all zero)");
    rows[1].source = "attestation";
    rows[2].source = "registry";
    rows[3].source = "key-policy";
    ENSURE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, SIGIL_E_INTERNAL,
           "cannot initialise libcurl");
    check_attestation(&rows[1], c, a);
    if (c->has_registry)
        check_registry(&rows[2], c);
    else
        skip(&rows[2], "no --rpc/--contract/--owner given");
    curl_global_cleanup();
    if (c->has_policy)
        check_key_policy(&rows[3], c);
    else
        skip(&rows[3], "no --key-policy given");
    bool mismatch = false, error = false;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(rows); i++) {
        mismatch |= rows[i].v == V_MISMATCH;
        error |= rows[i].v == V_ERROR;
    }
    *exit_code = mismatch ? CLI_EXIT_DISAGREE : error ? CLI_EXIT_BAD_INPUT : CLI_EXIT_OK;
    GUARD(print_table(rows, SIGIL_ARRAY_LEN(rows)));
    return print_json(rows, SIGIL_ARRAY_LEN(rows), c, !mismatch && !error);
}

int cmd_verify_deployment(int argc, char **argv)
{
    static vd_ctx c; /* large (the key policy): not on the stack */
    vd_args a;
    int code = CLI_EXIT_OK;
    memset(&c, 0, sizeof(c));
    int rc = parse_args(&a, argc, argv);
    if (rc == 0)
        rc = load_inputs(&c, &a);
    if (rc == 0)
        rc = run_checks(&code, &c, &a);
    free(c.root_owned);
    sodium_memzero(c.auth, sizeof(c.auth));
    return rc == 0 ? code : cli_report_error();
}
