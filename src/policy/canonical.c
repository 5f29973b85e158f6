/*
 * RFC 8785 JSON Canonicalization Scheme: members sorted by the UTF-16 code
 * units of their keys, no whitespace, JCS string escaping. Two number modes
 * over one walker: integers only (what Sigil signs: policies, receipts) or
 * any number as ECMAScript prints its double (request hashes). Untrusted
 * input; parsed by the strict reader first, so everything here walks
 * validated tokens. No allocation: per-thread arenas sized at start.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_internal.h"

typedef struct {
    uint32_t key; /* key token */
    uint32_t off; /* decoded key in the key arena */
    uint32_t len;
} member;

static _Thread_local sigil_json_tok tl_toks[SIGIL_CANON_MAX_TOKENS];
static _Thread_local member tl_members[SIGIL_CANON_MAX_TOKENS];
static _Thread_local uint8_t tl_keys[SIGIL_CANON_MAX_BYTES];

typedef struct {
    const sigil_json *d;
    sigil_buf *out;
    size_t nmembers; /* members in use (a stack: objects nest) */
    sigil_buf keys;  /* decoded keys (a stack too) */
    bool any_number; /* full RFC 8785 numbers, not integers only */
} canon;

/* ---- ordering: UTF-16 code units of the decoded keys ---- */

/* Next code point of valid UTF-8 (the parser validated every string). */
static uint32_t next_cp(const uint8_t *p, size_t n, size_t *i)
{
    uint32_t c = p[(*i)++];
    size_t more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    c &= more == 3 ? 0x07u : more == 2 ? 0x0Fu : more == 1 ? 0x1Fu : 0x7Fu;
    while (more-- > 0 && *i < n)
        c = c << 6 | (p[(*i)++] & 0x3Fu);
    return c;
}

/* The first UTF-16 code unit of a code point. */
static uint32_t first_unit(uint32_t cp)
{
    return cp < 0x10000 ? cp : 0xD800u + ((cp - 0x10000u) >> 10);
}

static int cmp_utf16(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        uint32_t x = next_cp(a, an, &i), y = next_cp(b, bn, &j);
        if (x == y)
            continue;
        uint32_t ux = first_unit(x), uy = first_unit(y);
        if (ux != uy)
            return ux < uy ? -1 : 1;
        return x < y ? -1 : 1; /* same high surrogate: low surrogates order as code points */
    }
    return (i < an) - (j < bn);
}

static int member_cmp(const canon *c, const member *x, const member *y)
{
    return cmp_utf16(c->keys.data + x->off, x->len, c->keys.data + y->off, y->len);
}

/* Insertion sort: objects are small, keys are unique (the parser refuses
 * duplicates), and it needs no extra memory. */
static void sort_members(const canon *c, member *m, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        member cur = m[i];
        size_t j = i;
        while (j > 0 && member_cmp(c, &m[j - 1], &cur) > 0) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = cur;
    }
}

/* ---- strings: JCS escaping (RFC 8785 §3.2.2.2) ---- */

static int put_escaped_byte(sigil_buf *out, uint8_t ch)
{
    static const char HEX[] = "0123456789abcdef";
    static const char SHORT[0x23] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['"'] = '"'};
    if (ch == '\\')
        return sigil_buf_put(out, "\\\\", 2);
    if (ch < sizeof(SHORT) && SHORT[ch] != 0) {
        char e[2] = {'\\', SHORT[ch]};
        return sigil_buf_put(out, e, 2);
    }
    if (ch >= 0x20)
        return sigil_buf_putc(out, (char)ch);
    char u[6] = {'\\', 'u', '0', '0', HEX[ch >> 4], HEX[ch & 15]};
    return sigil_buf_put(out, u, 6);
}

int policy_put_jcs_string(sigil_buf *out, const uint8_t *p, size_t n)
{
    GUARD(sigil_buf_putc(out, '"'));
    for (size_t i = 0; i < n; i++)
        GUARD(put_escaped_byte(out, p[i]));
    return sigil_buf_putc(out, '"');
}

/* A string value straight from its raw (escaped) text: plain bytes are
 * already in their canonical form (raw strings hold no control characters,
 * and '"' only escaped); escapes are decoded and re-escaped the JCS way. */
static int put_string_tok(sigil_buf *out, const sigil_json *d, uint32_t t)
{
    sigil_slice s = sigil_json_raw(d, t);
    if (sigil_json_str_is_plain(d, t)) {
        GUARD(sigil_buf_putc(out, '"'));
        GUARD(sigil_buf_put(out, s.p, s.len));
        return sigil_buf_putc(out, '"');
    }
    GUARD(sigil_buf_putc(out, '"'));
    size_t i = 0;
    while (i < s.len) {
        const char *bs = memchr(s.p + i, '\\', s.len - i);
        size_t run_end = bs ? (size_t)(bs - s.p) : s.len;
        GUARD(sigil_buf_put(out, s.p + i, run_end - i));
        if (run_end == s.len)
            break;
        uint8_t dec[4], n;
        /* The parser validated every escape, so this consumes at least 2. */
        i = run_end + sigil_json_decode_escape(s.p, run_end, s.len, dec, &n);
        for (size_t k = 0; k < n; k++)
            GUARD(put_escaped_byte(out, dec[k]));
    }
    return sigil_buf_putc(out, '"');
}

/* ---- numbers, integer mode: |n| <= 2^53-1, "-0" is "0" ---- */
static int put_integer(sigil_buf *out, const sigil_json *d, uint32_t t)
{
    sigil_slice s = sigil_json_raw(d, t);
    ENSURE(sigil_json_is_integer(d, t), SIGIL_E_BAD_FIELD,
           "json: number at byte %u is not an integer (canonical JSON takes integers only)",
           d->toks[t].start);
    bool neg = s.p[0] == '-';
    const char *digits = s.p + neg;
    size_t n = s.len - neg;
    uint64_t v = 0;
    ENSURE(n <= 16, SIGIL_E_OUT_OF_RANGE, "json: integer at byte %u is beyond 2^53-1",
           d->toks[t].start);
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(digits[i] - '0');
    ENSURE(v <= SIGIL_JSON_MAX_SAFE_INT, SIGIL_E_OUT_OF_RANGE,
           "json: integer at byte %u is beyond 2^53-1", d->toks[t].start);
    if (v == 0)
        return sigil_buf_putc(out, '0');
    return sigil_buf_put(out, s.p, s.len);
}

/* ---- numbers, full mode: ECMAScript Number::toString (RFC 8785 §3.2.2.3)
 * of the IEEE double. The digits are the shortest that read back as the
 * same double, the closest such to it; glibc's printf and strtod are exact,
 * so trying 1..17 digits finds them. Sigil's processes never call
 * setlocale, so the decimal point is '.'. ---- */

#define NUM_TEXT_MAX 1024 /* longest number text accepted (a double needs 17 digits) */
#define ES_DIGITS_MAX 17

typedef struct {
    char digits[ES_DIGITS_MAX + 2]; /* significant digits: no leading or trailing zeros */
    int k;                          /* how many */
    int n;                          /* value = 0.digits x 10^n */
} es_decimal;

static void es_strip_zeros(es_decimal *e)
{
    while (e->k > 1 && e->digits[e->k - 1] == '0')
        e->k--;
}

/* Reads printf's "%.*e" form of a positive finite double: d[.ddd]e±x. */
static void es_from_sci(es_decimal *e, const char *sci)
{
    const char *p = sci;
    e->k = 0;
    for (; *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && e->k <= ES_DIGITS_MAX)
            e->digits[e->k++] = *p;
    e->n = (int)strtol(p + 1, NULL, 10) + 1;
    es_strip_zeros(e);
}

/* The next decimal up with the same number of digits (…9 carries). */
static void es_bump(es_decimal *e)
{
    int i = e->k - 1;
    while (i >= 0 && e->digits[i] == '9')
        e->digits[i--] = '0';
    if (i >= 0) {
        e->digits[i]++;
    } else {
        e->digits[0] = '1';
        e->k = 1;
        e->n++;
    }
    es_strip_zeros(e);
}

static bool es_reads_back(const es_decimal *e, double v)
{
    char text[ES_DIGITS_MAX + 16];
    (void)snprintf(text, sizeof(text), "0.%.*se%d", e->k, e->digits, e->n);
    return strtod(text, NULL) == v;
}

/* The nearest k-digit decimal, or, when it misses v's rounding interval on
 * the narrow side (below a power of two), the next one up. */
static int es_shortest(es_decimal *e, double v)
{
    char sci[40];
    for (int prec = 1; prec <= ES_DIGITS_MAX; prec++) {
        (void)snprintf(sci, sizeof(sci), "%.*e", prec - 1, v);
        es_from_sci(e, sci);
        if (es_reads_back(e, v))
            return 0;
        es_bump(e);
        if (es_reads_back(e, v))
            return 0;
    }
    BAIL(SIGIL_E_INTERNAL, "json: no shortest form for a double");
}

static void es_put_zeros(char *t, size_t *i, int count)
{
    for (int z = 0; z < count; z++)
        t[(*i)++] = '0';
}

static void es_put_digits(char *t, size_t *i, const char *digits, int count)
{
    memcpy(t + *i, digits, (size_t)count);
    *i += (size_t)count;
}

/* Number::toString's layout rules for digits d (k of them) and point n. */
static int es_put(sigil_buf *out, bool neg, const es_decimal *e)
{
    char t[48];
    size_t i = 0;
    int k = e->k, n = e->n;
    if (neg)
        t[i++] = '-';
    if (k <= n && n <= 21) { /* integer: digits, then zeros */
        es_put_digits(t, &i, e->digits, k);
        es_put_zeros(t, &i, n - k);
    } else if (0 < n && n < k) { /* point inside the digits (k <= 17) */
        es_put_digits(t, &i, e->digits, n);
        t[i++] = '.';
        es_put_digits(t, &i, e->digits + n, k - n);
    } else if (-6 < n && n <= 0) { /* 0.000ddd */
        t[i++] = '0';
        t[i++] = '.';
        es_put_zeros(t, &i, -n);
        es_put_digits(t, &i, e->digits, k);
    } else { /* d.ddde±x */
        t[i++] = e->digits[0];
        if (k > 1) {
            t[i++] = '.';
            es_put_digits(t, &i, e->digits + 1, k - 1);
        }
        i += (size_t)snprintf(t + i, sizeof(t) - i, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    return sigil_buf_put(out, t, i);
}

/* The fast path: a number written with at most DBL_DIG (15) significant
 * digits and a moderate exponent. Two different decimals of at most 15
 * digits never read as the same double (the DBL_DIG guarantee, for normal
 * doubles), so no shorter decimal reads back as this one and the written
 * digits, without trailing zeros, are Number::toString's digits: no printf
 * or strtod loop. Returns false when the text needs the exact search. The
 * strict parser checked the grammar: -?int[.frac][(e|E)[+-]exp]. */
#define ES_FAST_DIGITS 15
#define ES_FAST_EXP_MAX 290 /* |n| below this keeps every such value normal */

static bool es_fast(es_decimal *e, bool *neg, sigil_slice s)
{
    const char *p = s.p, *end = s.p + s.len;
    int point = 0; /* digits written before the point, leading zeros excluded */
    bool seen = false, frac = false;
    *neg = p < end && *p == '-';
    p += *neg;
    e->k = 0;
    for (; p < end && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            frac = true;
        } else if (*p == '0' && !seen) {
            point -= frac; /* 0.000ddd: each zero after the point moves it */
        } else {
            seen = true;
            if (e->k == ES_FAST_DIGITS)
                return false;
            e->digits[e->k++] = *p;
            point += !frac;
        }
    }
    if (!seen)
        return false; /* zero: the caller's case */
    long exp = 0;
    if (p < end) {
        char tmp[16];
        size_t n = (size_t)(end - p - 1);
        if (n >= sizeof(tmp))
            return false;
        memcpy(tmp, p + 1, n);
        tmp[n] = '\0';
        exp = strtol(tmp, NULL, 10);
        if (exp > ES_FAST_EXP_MAX || exp < -ES_FAST_EXP_MAX)
            return false;
    }
    e->n = point + (int)exp;
    if (e->n > ES_FAST_EXP_MAX || e->n < -ES_FAST_EXP_MAX)
        return false;
    es_strip_zeros(e);
    return true;
}

static int put_es_number(sigil_buf *out, const sigil_json *d, uint32_t t)
{
    char text[NUM_TEXT_MAX + 1];
    sigil_slice s = sigil_json_raw(d, t);
    es_decimal e;
    bool neg;
    if (es_fast(&e, &neg, s))
        return es_put(out, neg, &e);
    ENSURE(s.len <= NUM_TEXT_MAX, SIGIL_E_TOO_LARGE, "json: number at byte %u is over %d bytes",
           d->toks[t].start, NUM_TEXT_MAX);
    memcpy(text, s.p, s.len);
    text[s.len] = '\0';
    double v = strtod(text, NULL); /* the strict parser checked the grammar */
    ENSURE(isfinite(v), SIGIL_E_OUT_OF_RANGE, "json: number at byte %u is beyond a double",
           d->toks[t].start);
    if (v == 0)
        return sigil_buf_putc(out, '0'); /* -0 too */
    GUARD(es_shortest(&e, fabs(v)));
    return es_put(out, v < 0, &e);
}

static int put_number(const canon *c, uint32_t t)
{
    return c->any_number ? put_es_number(c->out, c->d, t) : put_integer(c->out, c->d, t);
}

static int put_value(canon *c, uint32_t t);

static int put_object(canon *c, uint32_t obj)
{
    const sigil_json *d = c->d;
    size_t base = c->nmembers, keys_mark = c->keys.len, n = 0;
    for (uint32_t k = sigil_json_first(d, obj); k != 0; k = sigil_json_sibling(d, obj, k)) {
        ENSURE(base + n < SIGIL_CANON_MAX_TOKENS, SIGIL_E_TOO_LARGE, "json: too many members");
        member *m = &tl_members[base + n++];
        m->key = k;
        m->off = (uint32_t)c->keys.len;
        GUARD(sigil_json_str(d, k, &c->keys));
        m->len = (uint32_t)(c->keys.len - m->off);
    }
    c->nmembers = base + n;
    sort_members(c, &tl_members[base], n);
    int rc = sigil_buf_putc(c->out, '{');
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const member *m = &tl_members[base + i];
        if (i > 0)
            rc = sigil_buf_putc(c->out, ',');
        if (rc == 0)
            rc = policy_put_jcs_string(c->out, c->keys.data + m->off, m->len);
        if (rc == 0)
            rc = sigil_buf_putc(c->out, ':');
        if (rc == 0)
            rc = put_value(c, sigil_json_value(m->key));
    }
    if (rc == 0)
        rc = sigil_buf_putc(c->out, '}');
    c->nmembers = base;
    c->keys.len = keys_mark;
    return rc;
}

static int put_array(canon *c, uint32_t arr)
{
    GUARD(sigil_buf_putc(c->out, '['));
    bool first = true;
    for (uint32_t t = sigil_json_first(c->d, arr); t != 0; t = sigil_json_sibling(c->d, arr, t)) {
        if (!first)
            GUARD(sigil_buf_putc(c->out, ','));
        first = false;
        GUARD(put_value(c, t));
    }
    return sigil_buf_putc(c->out, ']');
}

static int put_value(canon *c, uint32_t t)
{
    switch (sigil_json_type_of(c->d, t)) {
    case SIGIL_JSON_OBJECT:
        return put_object(c, t);
    case SIGIL_JSON_ARRAY:
        return put_array(c, t);
    case SIGIL_JSON_STRING:
        return put_string_tok(c->out, c->d, t);
    case SIGIL_JSON_NUMBER:
        return put_number(c, t);
    case SIGIL_JSON_TRUE:
        return sigil_buf_put(c->out, "true", 4);
    case SIGIL_JSON_FALSE:
        return sigil_buf_put(c->out, "false", 5);
    case SIGIL_JSON_NULL:
        return sigil_buf_put(c->out, "null", 4);
    default:
        BAIL(SIGIL_E_INTERNAL, "json: unexpected token type");
    }
}

static int canonicalize_json(sigil_buf *out, const char *json, size_t len, bool any_number)
{
    sigil_json d;
    ENSURE(len <= (size_t)SIGIL_CANON_MAX_BYTES, SIGIL_E_TOO_LARGE, "json: larger than %d bytes",
           SIGIL_CANON_MAX_BYTES);
    GUARD(sigil_json_parse(&d, json, len, tl_toks, SIGIL_CANON_MAX_TOKENS));
    canon c = {.d = &d, .out = out, .nmembers = 0, .any_number = any_number};
    sigil_buf_init(&c.keys, tl_keys, sizeof(tl_keys));
    size_t mark = out->len;
    if (put_value(&c, 0) != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

int sigil_json_canonicalize(sigil_buf *out, const char *json, size_t len)
{
    return canonicalize_json(out, json, len, false);
}

int sigil_json_canonicalize_any(sigil_buf *out, const char *json, size_t len)
{
    return canonicalize_json(out, json, len, true);
}
