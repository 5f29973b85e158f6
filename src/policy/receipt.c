/*
 * Receipts (DESIGN.md §3, docs/RECEIPTS.md): the RFC 8785 bytes the enclave
 * signs with its per-boot Ed25519 key, the wire form, and the strict parser
 * and verifier that clients run offline. libsigil-core: parses untrusted
 * input and verifies; nothing secret passes through here.
 *
 * One table of members, in canonical (sorted) order, drives both directions.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy_internal.h"
#include "sigil/crypto.h"
#include "sigil/receipt.h"

#define SIG_HEX 128
/* ,"signature":"<128 hex>" — what the wire form adds to the canonical bytes. */
#define SIG_MEMBER_LEN (sizeof(",\"signature\":\"\"") - 1 + SIG_HEX)
#define RECEIPT_TOKENS 64

typedef enum { K_TEXT, K_HEX, K_U64, K_DECISION, K_VERSION } member_kind;
typedef enum { WHEN_ALWAYS, WHEN_ALLOW, WHEN_DENY } member_when;

typedef struct member member;
/* Checks a text member's value (n bytes, NUL-terminated at n). */
typedef int (*text_check)(const char *s, size_t n, const member *m);

struct member {
    const char *name;
    member_kind kind;
    member_when when;
    size_t off;   /* into sigil_receipt */
    size_t size;  /* text: the array (with its NUL); hex: bytes */
    uint64_t min; /* integers */
    text_check check;
};

/* ---- text formats ---- */

static int check_set(const char *s, size_t n, const member *m, size_t max, const char *set,
                     const char *what)
{
    ENSURE(n >= 1 && n <= max, SIGIL_E_BAD_FIELD, "receipt.%s: must be 1..%zu characters", m->name,
           max);
    for (size_t i = 0; i < n; i++)
        ENSURE(s[i] != '\0' && strchr(set, s[i]) != NULL, SIGIL_E_BAD_FIELD,
               "receipt.%s: only %s are allowed", m->name, what);
    return 0;
}

/* The value is one of a fixed list; the message names the list, not the
 * (untrusted) value. */
static int check_one_of(const char *s, const member *m, const char *const *values, size_t n,
                        const char *expected)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, values[i]) == 0)
            return 0;
    BAIL(SIGIL_E_BAD_FIELD, "receipt.%s: must be %s", m->name, expected);
}

#define LOWER_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"

/* A policy action, or one of the key operations. */
static int check_action(const char *s, size_t n, const member *m)
{
    static const char *const OPS[] = {"import", "policy_update", "rotate", "rewrap", "revoke"};
    sigil_action a;
    if (sigil_action_parse(&a, s, n) == 0)
        return 0;
    return check_one_of(s, m, OPS, SIGIL_ARRAY_LEN(OPS),
                        "a policy action, \"import\", \"policy_update\", \"rotate\", "
                        "\"rewrap\" or \"revoke\"");
}

static int check_key_id(const char *s, size_t n, const member *m)
{
    ENSURE(n == SIGIL_KEY_ID_HEX, SIGIL_E_BAD_FIELD, "receipt.%s: must be %d lowercase hex digits",
           m->name, SIGIL_KEY_ID_HEX);
    return check_set(s, n, m, SIGIL_KEY_ID_HEX, "0123456789abcdef", "lowercase hex digits");
}

static int check_mode(const char *s, size_t n, const member *m)
{
    static const char *const MODES[] = {"dev", "nitro"};
    (void)n;
    return check_one_of(s, m, MODES, SIGIL_ARRAY_LEN(MODES), "\"dev\" or \"nitro\"");
}

static int check_network(const char *s, size_t n, const member *m)
{
    static const char *const NETS[] = {"mainnet", "testnet"};
    (void)n;
    return check_one_of(s, m, NETS, SIGIL_ARRAY_LEN(NETS), "\"mainnet\" or \"testnet\"");
}

static int check_tenant(const char *s, size_t n, const member *m)
{
    return check_set(s, n, m, m->size - 1, LOWER_ALNUM "_-", "a-z 0-9 _ -");
}

static int check_venue(const char *s, size_t n, const member *m)
{
    return check_set(s, n, m, m->size - 1, LOWER_ALNUM "_", "a-z 0-9 _");
}

/* "<code>: <message>": UTF-8 text; JCS escapes its control characters. */
static int check_reason(const char *s, size_t n, const member *m)
{
    ENSURE(n >= 1 && n <= SIGIL_RECEIPT_REASON_MAX, SIGIL_E_BAD_FIELD,
           "receipt.%s: must be 1..%d bytes", m->name, SIGIL_RECEIPT_REASON_MAX);
    ENSURE(memchr(s, '\0', n) == NULL && sigil_utf8_valid((const uint8_t *)s, n), SIGIL_E_BAD_FIELD,
           "receipt.%s: must be UTF-8 text without NUL", m->name);
    return 0;
}

/* ---- the members, in canonical order (ASCII names: byte order is
 * UTF-16 order) ---- */

#define FIELD(f) offsetof(sigil_receipt, f), sizeof(((sigil_receipt *)0)->f)
#define TEXT(name, f, check)                                                                       \
    {                                                                                              \
        name, K_TEXT, WHEN_ALWAYS, FIELD(f), 0, check                                              \
    }
#define HEX(name, f, when)                                                                         \
    {                                                                                              \
        name, K_HEX, when, FIELD(f), 0, NULL                                                       \
    }
#define U64(name, f, min)                                                                          \
    {                                                                                              \
        name, K_U64, WHEN_ALWAYS, FIELD(f), min, NULL                                              \
    }

static const member MEMBERS[] = {
    TEXT("action", action, check_action),
    HEX("boot_id", boot_id, WHEN_ALWAYS),
    {"decision", K_DECISION, WHEN_ALWAYS, FIELD(allow), 0, NULL},
    TEXT("key_id", key_id, check_key_id),
    HEX("measurement", measurement, WHEN_ALWAYS),
    TEXT("mode", mode, check_mode),
    TEXT("network", network, check_network),
    HEX("output_hash", output_hash, WHEN_ALLOW),
    HEX("policy_hash", policy_hash, WHEN_ALWAYS),
    HEX("prev", prev, WHEN_ALWAYS),
    {"reason", K_TEXT, WHEN_DENY, FIELD(reason), 0, check_reason},
    HEX("request_hash", request_hash, WHEN_ALWAYS),
    U64("seq", seq, 1),
    TEXT("tenant", tenant, check_tenant),
    U64("time", time_ms, 0),
    {"v", K_VERSION, WHEN_ALWAYS, 0, 0, 1, NULL},
    TEXT("venue", venue, check_venue),
};

static bool member_wanted(const member *m, bool allow)
{
    return m->when == WHEN_ALWAYS || (m->when == WHEN_ALLOW) == allow;
}

/* ---- canonical bytes ---- */

static int put_text(sigil_buf *b, const sigil_receipt *r, const member *m)
{
    const char *s = (const char *)r + m->off;
    size_t n = strnlen(s, m->size);
    ENSURE(n < m->size, SIGIL_E_BAD_FIELD, "receipt.%s: not NUL-terminated", m->name);
    GUARD(m->check(s, n, m));
    return policy_put_jcs_string(b, (const uint8_t *)s, n);
}

static int put_hex(sigil_buf *b, const sigil_receipt *r, const member *m)
{
    GUARD(sigil_buf_putc(b, '"'));
    GUARD(sigil_buf_put_hex(b, (const uint8_t *)r + m->off, m->size));
    return sigil_buf_putc(b, '"');
}

static int put_u64(sigil_buf *b, const sigil_receipt *r, const member *m)
{
    uint64_t v;
    memcpy(&v, (const uint8_t *)r + m->off, sizeof(v));
    ENSURE(v >= m->min && v <= SIGIL_JSON_MAX_SAFE_INT, SIGIL_E_OUT_OF_RANGE,
           "receipt.%s: must be %llu..2^53-1", m->name, (unsigned long long)m->min);
    return sigil_buf_put_u64(b, v);
}

static int put_member_value(sigil_buf *b, const sigil_receipt *r, const member *m)
{
    switch (m->kind) {
    case K_TEXT:
        return put_text(b, r, m);
    case K_HEX:
        return put_hex(b, r, m);
    case K_U64:
        return put_u64(b, r, m);
    case K_DECISION:
        return sigil_buf_puts(b, r->allow ? "\"allow\"" : "\"deny\"");
    case K_VERSION:
        return sigil_buf_put_u64(b, m->min);
    default:
        BAIL(SIGIL_E_INTERNAL, "receipt: unknown member kind");
    }
}

static int put_canonical(sigil_buf *b, const sigil_receipt *r)
{
    bool first = true;
    GUARD(sigil_buf_putc(b, '{'));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MEMBERS); i++) {
        const member *m = &MEMBERS[i];
        if (!member_wanted(m, r->allow))
            continue;
        if (!first)
            GUARD(sigil_buf_putc(b, ','));
        first = false;
        GUARD(policy_put_jcs_string(b, (const uint8_t *)m->name, strlen(m->name)));
        GUARD(sigil_buf_putc(b, ':'));
        GUARD(put_member_value(b, r, m));
    }
    return sigil_buf_putc(b, '}');
}

int sigil_receipt_canonical(sigil_buf *out, const sigil_receipt *r)
{
    size_t mark = out->len;
    if (put_canonical(out, r) != 0)
        goto fail;
    if (out->len - mark + SIG_MEMBER_LEN > SIGIL_RECEIPT_MAX_BYTES) {
        (void)sigil_fail(SIGIL_E_TOO_LARGE, "receipt: signed form over %d bytes",
                         SIGIL_RECEIPT_MAX_BYTES);
        goto fail;
    }
    return 0;
fail:
    out->len = mark;
    return -1;
}

int sigil_receipt_message(sigil_buf *out, const uint8_t *canonical, size_t len)
{
    size_t mark = out->len;
    if (sigil_buf_put(out, SIGIL_RECEIPT_SIG_PREFIX, SIGIL_RECEIPT_SIG_PREFIX_LEN) != 0 ||
        sigil_buf_put(out, canonical, len) != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

int sigil_receipt_wire(sigil_buf *out, const uint8_t *canonical, size_t len, const uint8_t sig[64])
{
    ENSURE(len > 2 && canonical[0] == '{' && canonical[len - 1] == '}', SIGIL_E_BAD_FIELD,
           "receipt: the canonical form must be a non-empty object");
    size_t mark = out->len;
    if (sigil_buf_put(out, canonical, len - 1) != 0 ||
        sigil_buf_puts(out, ",\"signature\":\"") != 0 || sigil_buf_put_hex(out, sig, 64) != 0 ||
        sigil_buf_puts(out, "\"}") != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

/* ---- strict parse ---- */

typedef struct {
    sigil_json d;
    uint32_t val[SIGIL_ARRAY_LEN(MEMBERS)]; /* value token per member; 0 when absent */
    uint32_t sig;                           /* the signature's value token */
} parsed;

static int lower_hex(uint8_t *out, size_t n, const sigil_json *d, uint32_t t, const char *name)
{
    sigil_slice s = sigil_json_raw(d, t);
    bool ok = sigil_json_type_of(d, t) == SIGIL_JSON_STRING && s.len == 2 * n;
    for (size_t i = 0; ok && i < s.len; i++)
        ok = (s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] >= 'a' && s.p[i] <= 'f');
    ENSURE(ok, SIGIL_E_BAD_FIELD, "receipt.%s: expected %zu lowercase hex digits", name, 2 * n);
    return sigil_hex_decode_exact(out, n, s.p, s.len, false, name);
}

static int find_member(size_t *idx, const sigil_json *d, uint32_t key)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MEMBERS); i++) {
        if (sigil_json_str_eq(d, key, MEMBERS[i].name)) {
            *idx = i;
            return 0;
        }
    }
    return -1;
}

/* Sorts the members into p->val: unknown and repeated ones refused. */
static int collect(parsed *p)
{
    const sigil_json *d = &p->d;
    for (uint32_t k = sigil_json_first(d, 0); k != 0; k = sigil_json_sibling(d, 0, k)) {
        char name[40];
        size_t i;
        uint32_t *slot = &p->sig;
        sigil_json_key_for_message(d, k, name, sizeof(name));
        if (!sigil_json_str_eq(d, k, "signature")) {
            ENSURE(find_member(&i, d, k) == 0, SIGIL_E_UNKNOWN_FIELD,
                   "receipt: unknown member \"%s\"", name);
            slot = &p->val[i];
        }
        ENSURE(*slot == 0, SIGIL_E_DUPLICATE_KEY, "receipt: duplicate member \"%s\"", name);
        *slot = sigil_json_value(k);
    }
    return 0;
}

static int parse_decision(bool *allow, const parsed *p)
{
    uint32_t t = 0;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MEMBERS); i++)
        if (MEMBERS[i].kind == K_DECISION)
            t = p->val[i];
    ENSURE(t != 0, SIGIL_E_MISSING_FIELD, "receipt: missing member \"decision\"");
    *allow = sigil_json_str_eq(&p->d, t, "allow");
    ENSURE(*allow || sigil_json_str_eq(&p->d, t, "deny"), SIGIL_E_BAD_FIELD,
           "receipt.decision: must be \"allow\" or \"deny\"");
    return 0;
}

static int parse_text(sigil_receipt *r, const sigil_json *d, uint32_t t, const member *m)
{
    char *dst = (char *)r + m->off;
    sigil_buf b;
    ENSURE(sigil_json_type_of(d, t) == SIGIL_JSON_STRING, SIGIL_E_BAD_FIELD,
           "receipt.%s: expected a string", m->name);
    sigil_buf_init(&b, dst, m->size - 1);
    ENSURE(sigil_json_str(d, t, &b) == 0, SIGIL_E_BAD_FIELD, "receipt.%s: longer than %zu bytes",
           m->name, m->size - 1);
    dst[b.len] = '\0';
    ENSURE(memchr(dst, '\0', b.len) == NULL, SIGIL_E_BAD_FIELD, "receipt.%s: contains NUL",
           m->name);
    return m->check(dst, b.len, m);
}

static int parse_u64(uint64_t *v, const sigil_json *d, uint32_t t, const member *m)
{
    char what[32];
    (void)snprintf(what, sizeof(what), "receipt.%s", m->name);
    GUARD(sigil_json_tok_u64(d, t, v, what));
    ENSURE(*v >= m->min && *v <= SIGIL_JSON_MAX_SAFE_INT, SIGIL_E_OUT_OF_RANGE,
           "%s: must be %llu..2^53-1", what, (unsigned long long)m->min);
    return 0;
}

static int parse_value(sigil_receipt *r, const sigil_json *d, uint32_t t, const member *m)
{
    uint64_t v;
    switch (m->kind) {
    case K_TEXT:
        return parse_text(r, d, t, m);
    case K_HEX:
        return lower_hex((uint8_t *)r + m->off, m->size, d, t, m->name);
    case K_U64:
        GUARD(parse_u64(&v, d, t, m));
        memcpy((uint8_t *)r + m->off, &v, sizeof(v));
        return 0;
    case K_VERSION:
        ENSURE(sigil_json_type_of(d, t) == SIGIL_JSON_NUMBER && sigil_json_raw(d, t).len == 1 &&
                   sigil_json_raw(d, t).p[0] == '0' + (char)m->min,
               SIGIL_E_BAD_FIELD, "receipt.%s: unsupported version (this verifier reads %llu)",
               m->name, (unsigned long long)m->min);
        return 0;
    case K_DECISION:
        return 0; /* parse_decision */
    default:
        BAIL(SIGIL_E_INTERNAL, "receipt: unknown member kind");
    }
}

static int parse_members(sigil_receipt *r, const parsed *p)
{
    GUARD(parse_decision(&r->allow, p));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MEMBERS); i++) {
        const member *m = &MEMBERS[i];
        bool wanted = member_wanted(m, r->allow);
        ENSURE(p->val[i] != 0 || !wanted, SIGIL_E_MISSING_FIELD, "receipt: missing member \"%s\"%s",
               m->name, m->when == WHEN_ALWAYS ? "" : " (required by the decision)");
        ENSURE(p->val[i] == 0 || wanted, SIGIL_E_BAD_FIELD,
               "receipt.%s: not allowed when decision is %s", m->name, r->allow ? "allow" : "deny");
        if (p->val[i] != 0)
            GUARD(parse_value(r, &p->d, p->val[i], m));
    }
    return 0;
}

/* Parses the wire text into r and sig, and writes prefix || canonical into
 * msg (the canonical bytes start SIGIL_RECEIPT_SIG_PREFIX_LEN in). */
static int parse_wire(sigil_receipt *r, uint8_t sig[64], sigil_buf *msg, const char *json,
                      size_t len)
{
    sigil_json_tok toks[RECEIPT_TOKENS];
    parsed p = {.sig = 0};
    ENSURE(len <= SIGIL_RECEIPT_MAX_BYTES, SIGIL_E_TOO_LARGE, "receipt: larger than %d bytes",
           SIGIL_RECEIPT_MAX_BYTES);
    GUARD(sigil_json_parse(&p.d, json, len, toks, RECEIPT_TOKENS));
    ENSURE(sigil_json_type_of(&p.d, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "receipt: expected a JSON object");
    GUARD(collect(&p));
    memset(r, 0, sizeof(*r));
    GUARD(parse_members(r, &p));
    ENSURE(p.sig != 0, SIGIL_E_MISSING_FIELD, "receipt: missing member \"signature\"");
    GUARD(lower_hex(sig, 64, &p.d, p.sig, "signature"));
    GUARD(sigil_buf_put(msg, SIGIL_RECEIPT_SIG_PREFIX, SIGIL_RECEIPT_SIG_PREFIX_LEN));
    return sigil_receipt_canonical(msg, r);
}

static int parse_and_hash(sigil_receipt *r, uint8_t hash[32], uint8_t sig[64], sigil_buf *msg,
                          const char *json, size_t len)
{
    sigil_receipt tmp;
    GUARD(parse_wire(&tmp, sig, msg, json, len));
    sigil_sha256(hash, msg->data + SIGIL_RECEIPT_SIG_PREFIX_LEN,
                 msg->len - SIGIL_RECEIPT_SIG_PREFIX_LEN);
    memcpy(r, &tmp, sizeof(*r));
    return 0;
}

int sigil_receipt_parse(sigil_receipt *r, uint8_t hash[32], const char *json, size_t len)
{
    uint8_t mem[SIGIL_RECEIPT_SIG_PREFIX_LEN + SIGIL_RECEIPT_MAX_BYTES], sig[64];
    sigil_buf msg;
    sigil_buf_init(&msg, mem, sizeof(mem));
    return parse_and_hash(r, hash, sig, &msg, json, len);
}

int sigil_receipt_verify(sigil_receipt *r, uint8_t hash[32], const char *json, size_t len,
                         const uint8_t receipt_key[32])
{
    uint8_t mem[SIGIL_RECEIPT_SIG_PREFIX_LEN + SIGIL_RECEIPT_MAX_BYTES], sig[64], h[32];
    sigil_receipt tmp;
    sigil_buf msg;
    sigil_buf_init(&msg, mem, sizeof(mem));
    GUARD(parse_and_hash(&tmp, h, sig, &msg, json, len));
    ENSURE(crypto_sign_verify_detached(sig, msg.data, msg.len, receipt_key) == 0,
           SIGIL_E_BAD_SIGNATURE, "receipt: the signature does not verify under the receipt key");
    memcpy(r, &tmp, sizeof(*r));
    memcpy(hash, h, 32);
    return 0;
}
